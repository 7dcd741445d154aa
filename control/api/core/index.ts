// core/v1 kinds besides Pod and Namespace: schemas (types are their z.output), defaults and validation.
// Names are kind-specific on purpose: control/api/index.ts re-exports all of this next to the Pod model.
export { canonicalQuantity, compactObject, decodeKind, type DecodeOptions, type DecodeResult } from './common.js';
export {
  applyServiceDefaults,
  externallyAccessible,
  isHeadlessService,
  nameIsDNS1035Label,
  prepareServiceForCreate,
  prepareServiceForUpdate,
  Service,
  ServiceList,
  ServicePort,
  ServiceSpec,
  ServiceStatus,
  validateService,
  validateServiceIPFamilyPolicy,
  validateServiceStatus,
  validateServiceUpdate,
  type ServiceIPOptions,
} from './service.js';
export { EndpointAddress, EndpointPort, Endpoints, EndpointSubset, ObjectReference, validateEndpoints } from './endpoints.js';
export { ConfigMap, MAX_CONFIG_SIZE, validateConfigMap, validateConfigMapUpdate } from './configmap.js';
export { MAX_SECRET_SIZE, Secret, validateSecret, validateSecretUpdate } from './secret.js';
export { ServiceAccount, validateServiceAccount } from './serviceaccount.js';
export { Node, NodeSpec, NodeStatus, Taint, TAINT_EFFECTS, validateNode, validateNodeUpdate, validateTaints } from './node.js';
export {
  Event,
  EventsV1Event,
  legacyValidateEvent,
  validateEvent,
  validateEventsV1Event,
  validateEventsV1EventUpdate,
  validateEventUpdate,
  type InternalEvent,
} from './event.js';
export {
  ReplicationController,
  ReplicationControllerSpec,
  ReplicationControllerStatus,
  validateReplicationController,
  validateReplicationControllerUpdate,
  validateReplicationControllerStatus,
} from './replicationcontroller.js';
export { ResourceQuota, ResourceQuotaSpec, ResourceQuotaStatus, validateResourceQuota, validateResourceQuotaUpdate } from './resourcequota.js';
export { LimitRange, LimitRangeItem, validateLimitRange } from './limitrange.js';
export {
  PersistentVolumeClaim,
  PersistentVolumeClaimSpec,
  PersistentVolumeClaimStatus,
  validatePersistentVolumeClaim,
  validatePersistentVolumeClaimSpec,
  validatePersistentVolumeClaimUpdate,
} from './persistentvolumeclaim.js';
