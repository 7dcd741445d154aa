// storage.k8s.io/v1: StorageClass.
export {
  ANNOTATION_BETA_IS_DEFAULT_STORAGE_CLASS,
  ANNOTATION_IS_DEFAULT_STORAGE_CLASS,
  isDefaultStorageClass,
  RECLAIM_POLICIES,
  StorageClass,
  TopologySelectorLabelRequirement,
  TopologySelectorTerm,
  VOLUME_BINDING_MODES,
} from './storageclass.js';
export {
  MAX_PROVISIONER_PARAMETER_BYTES,
  MAX_PROVISIONER_PARAMETERS,
  storageClassWarnings,
  validateStorageClass,
  validateStorageClassUpdate,
} from './storageclass-validation.js';
export { parseStorageClass, storageClassKind } from './kinds.js';
