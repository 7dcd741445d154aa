// Public face of the core/v1 object model: schemas and types, defaulting, validation, quantities.
import type { FieldError } from './errors.js';
import { decodeKind } from './decode.js';
import { Pod } from './pod.js';
import { validatePod } from './pod-validation.js';

export { formatFieldError, type FieldError, type FieldErrorType } from './errors.js';
export {
  ListMeta,
  ObjectMeta,
  OwnerReference,
  Status,
  StatusCause,
  nameIsDNSLabel,
  nameIsDNSSubdomain,
  validateObjectMeta,
  type ObjectMetaValidationOptions,
} from './meta.js';
export { cpuMillis, compareQuantities, memoryBytes, parseQuantity, quantityError, QuantityError } from './quantity.js';
export {
  Affinity,
  Container,
  ContainerPort,
  ContainerState,
  ContainerStatus,
  EnvFromSource,
  EphemeralContainer,
  EnvVar,
  EnvVarSource,
  HTTPGetAction,
  IntOrString,
  Lifecycle,
  LifecycleHandler,
  MIRROR_POD_ANNOTATION,
  Pod,
  PodCondition,
  PodDNSConfig,
  PodList,
  PodMeta,
  PodSecurityContext,
  PodSpec,
  PodStatus,
  Probe,
  Quantity,
  ResourceList,
  ResourceRequirements,
  SecurityContext,
  Toleration,
  Volume,
  VolumeMount,
  VOLUME_SOURCE_KEYS,
} from './pod.js';
export { applyPodDefaults, defaultImagePullPolicy } from './pod-defaults.js';
export { podQOSClass } from './pod-qos.js';
export { validatePod, validatePodSpec } from './pod-validation.js';
export { findUnknownFields } from './unknown-fields.js';

export type ParsePodResult = { ok: true; pod: Pod; warnings: string[] } | { ok: false; errors: FieldError[] };

export interface ParsePodOptions {
  /** Reject fields the schema does not know (upstream's fieldValidation=Strict) instead of warning. */
  strict?: boolean;
  /** See DecodeOptions.decodedBefore. */
  decodedBefore?: boolean;
}

/**
 * Decode a Pod manifest (already parsed from YAML/JSON): check apiVersion/kind, apply upstream's
 * defaults, then validate with upstream's rules. Every problem found is returned, not just the first.
 */
export function parsePod(input: unknown, opts: ParsePodOptions = {}): ParsePodResult {
  const decoded = decodeKind(Pod, input, { apiVersion: 'v1', kind: 'Pod' }, opts, validatePod);
  return decoded.ok ? { ok: true, pod: decoded.obj, warnings: decoded.warnings } : decoded;
}
export { compactSpec } from './compact.js';
export * from './selectors.js';
export * from './core/index.js';
export * from './apps/index.js';
export * from './batch/index.js';
export * from './autoscaling/index.js';
export * from './policy/index.js';
export * from './coordination/index.js';
export * from './discovery/index.js';
export * from './scheduling/index.js';
export * from './rbac/index.js';
export * from './certificates/index.js';
export * from './networking/index.js';
export * from './storage/index.js';
