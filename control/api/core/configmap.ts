// core/v1 ConfigMap: ValidateConfigMap (keys, 1 MiB total) and ValidateConfigMapUpdate (immutable).
import { z } from 'zod';
import { forbidden, invalid, key, tooLong, type FieldError } from '../errors.js';
import { ObjectMeta, validateObjectMeta } from '../meta.js';
import { isConfigMapKey } from '../names.js';
import { IMMUTABLE_WHEN_SET, jsonEqual } from './common.js';
import { base64Error, decodedLength } from './secret.js';

/** core.MaxSecretSize, shared by ConfigMaps. */
export const MAX_CONFIG_SIZE = 1024 * 1024;

export const ConfigMap = z.object({
  apiVersion: z.literal('v1'),
  kind: z.literal('ConfigMap'),
  metadata: ObjectMeta.prefault({}),
  immutable: z.boolean().optional(),
  data: z.record(z.string(), z.string()).optional(),
  binaryData: z.record(z.string(), z.string()).optional(),
});
export type ConfigMap = z.output<typeof ConfigMap>;

export function validateConfigMap(cm: ConfigMap): FieldError[] {
  const errs = validateObjectMeta(cm.metadata, { namespaced: true });
  let total = 0;
  const data = cm.data ?? {};
  const binary = cm.binaryData ?? {};
  for (const [k, v] of Object.entries(data)) {
    for (const m of isConfigMapKey(k)) errs.push(invalid(key('data', k), k, m));
    if (Object.hasOwn(binary, k)) errs.push(invalid(key('data', k), k, 'duplicate of key present in binaryData'));
    total += Buffer.byteLength(v);
  }
  for (const [k, v] of Object.entries(binary)) {
    for (const m of isConfigMapKey(k)) errs.push(invalid(key('binaryData', k), k, m));
    const bad = base64Error(v);
    if (bad) errs.push(invalid(key('binaryData', k), '<binary data redacted>', bad));
    else total += decodedLength(v);
  }
  // The whole object is meant, so upstream gives an empty path.
  if (total > MAX_CONFIG_SIZE) errs.push(tooLong('', MAX_CONFIG_SIZE));
  return errs;
}

export function validateConfigMapUpdate(cm: ConfigMap, old: ConfigMap): FieldError[] {
  const errs: FieldError[] = [];
  if (old.immutable === true) {
    if (cm.immutable !== true) errs.push(forbidden('immutable', IMMUTABLE_WHEN_SET));
    if (!jsonEqual(cm.data ?? {}, old.data ?? {})) errs.push(forbidden('data', IMMUTABLE_WHEN_SET));
    if (!jsonEqual(cm.binaryData ?? {}, old.binaryData ?? {})) errs.push(forbidden('binaryData', IMMUTABLE_WHEN_SET));
  }
  errs.push(...validateConfigMap(cm));
  return errs;
}
