// Public face of the core/v1 object model: schemas and types, defaulting, validation, quantities.
import type { z } from 'zod';
import { invalid, notSupported, required, type FieldError } from './errors.js';
import { Pod } from './pod.js';
import { validatePod } from './pod-validation.js';
import { findUnknownFields } from './unknown-fields.js';

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
  EnvVar,
  EnvVarSource,
  HTTPGetAction,
  IntOrString,
  Lifecycle,
  LifecycleHandler,
  Pod,
  PodCondition,
  PodDNSConfig,
  PodList,
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
export { defaultImagePullPolicy } from './pod-defaults.js';
export { validatePod, validatePodSpec } from './pod-validation.js';
export { findUnknownFields } from './unknown-fields.js';

export type ParsePodResult = { ok: true; pod: Pod; warnings: string[] } | { ok: false; errors: FieldError[] };

export interface ParsePodOptions {
  /** Reject fields the schema does not know (upstream's fieldValidation=Strict) instead of warning. */
  strict?: boolean;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

// JSON/YAML null decodes to Go's zero value, i.e. "not set"; dropping null members gives the same.
function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (!isPlainObject(v)) return v;
  const out: Record<string, unknown> = {};
  // defineProperty so that a "__proto__" key stays plain data instead of re-parenting the object.
  for (const [k, x] of Object.entries(v))
    if (x !== null) Object.defineProperty(out, k, { value: dropNulls(x), enumerable: true, writable: true, configurable: true });
  return out;
}

function pathText(path: readonly PropertyKey[]): string {
  return path.reduce<string>((p, seg) => {
    if (typeof seg === 'number') return `${p}[${seg}]`;
    const name = String(seg);
    return p === '' ? name : `${p}.${name}`;
  }, '');
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur = root;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}

// A wrong JSON type is a decoding error upstream; here it is an Invalid value at the same path.
function zodIssuesToFieldErrors(error: z.ZodError, input: unknown): FieldError[] {
  return error.issues.map((issue) => invalid(pathText(issue.path), valueAt(input, issue.path), issue.message));
}

/**
 * Decode a Pod manifest (already parsed from YAML/JSON): check apiVersion/kind, apply upstream's
 * defaults, then validate with upstream's rules. Every problem found is returned, not just the first.
 */
export function parsePod(input: unknown, opts: ParsePodOptions = {}): ParsePodResult {
  if (!isPlainObject(input)) return { ok: false, errors: [invalid('<root>', input ?? null, 'must be an object')] };
  const raw = dropNulls(input) as Record<string, unknown>;

  const errors: FieldError[] = [];
  if (raw.apiVersion === undefined || raw.apiVersion === '') errors.push(required('apiVersion'));
  else if (raw.apiVersion !== 'v1') errors.push(notSupported('apiVersion', raw.apiVersion, ['v1']));
  if (raw.kind === undefined || raw.kind === '') errors.push(required('kind'));
  else if (raw.kind !== 'Pod') errors.push(notSupported('kind', raw.kind, ['Pod']));
  if (errors.length > 0) return { ok: false, errors };

  const warnings: string[] = [];
  for (const field of findUnknownFields(Pod, raw)) {
    // Same text as upstream's strict decoding error and its fieldValidation=Warn warning.
    const text = `unknown field "${field}"`;
    if (opts.strict) errors.push({ type: 'FieldValueInvalid', field, detail: text });
    else warnings.push(text);
  }

  const parsed = Pod.safeParse(raw);
  if (!parsed.success) return { ok: false, errors: [...errors, ...zodIssuesToFieldErrors(parsed.error, raw)] };
  errors.push(...validatePod(parsed.data));
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, pod: parsed.data, warnings };
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
