// The storage.k8s.io/v1 kinds as the API server serves them: schema, create and update validation, and decoding.
import { type KindDef, parseKind, type ParseOptions, type ParseResult } from '../apps/common.js';
import { StorageClass } from './storageclass.js';
import { validateStorageClass, validateStorageClassUpdate } from './storageclass-validation.js';

export const storageClassKind: KindDef<typeof StorageClass> = {
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  schema: StorageClass,
  namespaced: false,
  validate: validateStorageClass,
  validateUpdate: validateStorageClassUpdate,
};

export const parseStorageClass = (input: unknown, opts?: ParseOptions): ParseResult<StorageClass> => parseKind(storageClassKind, input, opts);
