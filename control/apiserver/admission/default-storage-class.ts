import { isDefaultStorageClass } from '../../api/index.js';
import type { Admission } from '../rest.js';
import type { ObjectStorage } from '../storage/object-storage.js';
import { defaultClassAdmission } from './default-class.js';

/** The annotation that named a claim's class before spec.storageClassName; a claim carrying it has a class. */
export const ANNOTATION_BETA_STORAGE_CLASS = 'volume.beta.kubernetes.io/storage-class';

/**
 * DefaultStorageClass admission (upstream's plugin/pkg/admission/storage/storageclass/setdefault): a new
 * PersistentVolumeClaim that asks for no class, by spec.storageClassName (an empty name is a request for no class, and
 * kept) or the beta annotation, gets the StorageClass marked is-default-class "true" (the newest of several).
 */
export function defaultStorageClassAdmission(storage: ObjectStorage): Admission {
  return defaultClassAdmission(storage, {
    classes: { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' },
    target: { group: '', resource: 'persistentvolumeclaims' },
    specField: 'storageClassName',
    legacyAnnotation: ANNOTATION_BETA_STORAGE_CLASS,
    isDefault: isDefaultStorageClass,
  });
}
