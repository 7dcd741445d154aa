import { z } from 'zod';
import { applyPodDefaults, compactSpec, Container, decodeKind, findUnknownFields, parsePod, Pod, PodMeta, PodSpec, PodStatus, podQOSClass, validatePod, type FieldError } from '../../api/index.js';
import { dropNulls, unknownFieldWarning } from '../../api/decode.js';
import { validatePodCreateOnly } from '../../api/pod-validation.js';
import { applyAppArmorVersionSkew, type AppArmorPod, type AppArmorSpec } from '../../api/apparmor.js';
import { redecodeChanged, type Redecoding } from '../../api/redecode.js';
import { validatePodEphemeralContainersUpdate, validatePodUpdate } from '../../api/pod-update-validation.js';
import type { PodBeforeDefaults } from '../../api/pod.js';
import type { ResourceDef } from '../resources.js';
import type { KubeObject } from '../storage/object-storage.js';
import type { Decoded, Prepared, PrepareContext, Strategy } from './strategy.js';

const POD_TYPE = { apiVersion: 'v1', kind: 'Pod' };

/**
 * The object differs from the stored one in its status alone (a pods/status write: everything else was copied from
 * the stored pod). Metadata is compared member by member, by identity, so that its decoded form is the stored one's.
 */
function onlyStatusDiffers(obj: KubeObject, old: KubeObject): boolean {
  const ignored = (k: string): boolean => k === 'status' || k === 'metadata' || k === 'apiVersion' || k === 'kind';
  const sameMembers = (a: Record<string, unknown>, b: Record<string, unknown>, skip: (k: string) => boolean): boolean => {
    for (const k of Object.keys(a)) if (!skip(k) && a[k] !== b[k]) return false;
    for (const k of Object.keys(b)) if (!skip(k) && a[k] !== b[k]) return false;
    return true;
  };
  const meta = obj.metadata as Record<string, unknown> | null | undefined;
  if (meta === null || typeof meta !== 'object') return false;
  return sameMembers(obj, old, ignored) && sameMembers(meta, old.metadata as Record<string, unknown>, () => false);
}

/** What a status write is decoded against: the status alone. */
const PodStatusWrite = z.object({ apiVersion: z.string(), kind: z.string(), status: PodStatus.optional() });

/**
 * A pods/status write (the REST layer copied the stored metadata and spec into it): upstream's
 * ValidatePodStatusUpdate judges the metadata update and the status, never the spec, so that a kubelet can go on
 * reporting a pod that today's rules would refuse (written by an older server, say). The status is decoded alone,
 * with the errors and unknown-field warnings the full decode would give for it; the stored spec is kept as it is (a
 * stored spec is already in its decoded form), and the stored metadata is put in its decoded form's order. Decoding
 * the stored pod whole, as an update of the pod itself is judged, made this step of a status write (the kubelet's
 * and the scheduler's, the most frequent writes of a cluster) about four times as costly (43 against 11 us warm).
 */
function prepareStatusWrite(obj: KubeObject, old: KubeObject, ctx: PrepareContext): Prepared {
  const decoded = decodeKind(PodStatusWrite, { ...POD_TYPE, ...(obj.status !== undefined ? { status: obj.status } : {}) }, POD_TYPE, { strict: ctx.strict });
  if (!decoded.ok) return decoded;
  const metadata = PodMeta.safeParse(old.metadata);
  return { ok: true, obj: { ...old, ...(metadata.success ? { metadata: metadata.data as KubeObject['metadata'] } : {}), status: obj.status }, warnings: decoded.warnings };
}

/**
 * An update of a pod whose stored form decodes (`previous`): the spec is decoded in part, against the stored spec
 * and its decode (what did not change keeps it), the metadata and status whole, then the whole-pod defaults and
 * upstream's update validation. What the full decode of the body gives, bar its cost: an update changes a few parts
 * of a spec (a label, an image, a toleration) that decoding walks whole. Undefined (decode it whole) for anything
 * that does not decode or an unknown field under Strict, so that every error reads as the full decode's.
 */
function decodeUpdateInPart(obj: KubeObject, old: KubeObject, previous: Pod, ctx: PrepareContext): Prepared | undefined {
  const raw = dropNulls({ ...obj, ...POD_TYPE }) as Record<string, unknown>;
  const unknown = findUnknownFields(Pod, raw);
  if (unknown.length > 0 && ctx.strict) return undefined;
  const spec = redecodeChanged(PodSpec, old.spec, previous.spec, raw.spec, REDECODING);
  if (!spec) return undefined;
  const metadata = PodMeta.safeParse(raw.metadata);
  if (!metadata.success) return undefined;
  if (raw.status !== undefined && !PodStatus.safeParse(raw.status).success) return undefined;
  const pod = applyPodDefaults({ ...POD_TYPE, metadata: metadata.data, spec: spec.value as PodSpec } as PodBeforeDefaults) as Pod;
  const errors = validatePodUpdate(pod, previous);
  if (errors.length > 0) return { ok: false, errors };
  const out = { ...pod, spec: compactSpec(pod.spec) } as unknown as KubeObject;
  if (obj.status !== undefined) out.status = obj.status;
  return { ok: true, obj: out, warnings: unknown.map(unknownFieldWarning) };
}

function prepare(obj: KubeObject, ctx: PrepareContext, old?: KubeObject): Prepared {
  const status = obj.status;
  // A status write is judged by its status alone; an update of the pod itself against the stored pod (upstream's
  // ValidatePodUpdate), or by the create rules alone when the stored pod no longer decodes. What the stored pod holds
  // beyond the schema would only be warnings nobody sees: not looked for.
  if (old && onlyStatusDiffers(obj, old)) return prepareStatusWrite(obj, old, ctx);
  const previous = old ? parsePod({ ...old, ...POD_TYPE }, { decodedBefore: true }) : undefined;
  if (old && previous?.ok) {
    const inPart = decodeUpdateInPart(obj, old, previous.pod, ctx);
    if (inPart) return inPart;
  }
  const validate = previous?.ok ? (p: Pod): FieldError[] => validatePodUpdate(p, previous.pod) : undefined;
  const result = validate
    ? decodeKind(Pod, { ...obj, ...POD_TYPE }, POD_TYPE, { strict: ctx.strict }, validate)
    : (() => {
        const r = parsePod({ ...obj, ...POD_TYPE }, { strict: ctx.strict, ...(ctx.decodedBefore ? { decodedBefore: true } : {}) });
        return r.ok ? { ok: true as const, obj: r.pod, warnings: r.warnings } : r;
      })();
  if (!result.ok) return result;
  const pod = result.obj as unknown as KubeObject;
  pod.spec = compactSpec(pod.spec);
  if (status !== undefined) pod.status = status;
  return { ok: true, obj: pod, warnings: result.warnings };
}

/** The strategy's PrepareForCreate AppArmor step (applyAppArmorVersionSkew): annotations and fields synced, warnings added. */
function withAppArmorVersionSkew(prepared: Prepared): Prepared {
  if (!prepared.ok) return prepared;
  const warnings = applyAppArmorVersionSkew(prepared.obj as unknown as AppArmorPod);
  return warnings.length > 0 ? { ...prepared, warnings: [...prepared.warnings, ...warnings] } : prepared;
}

function withCreateRules(prepared: Prepared): Prepared {
  if (!prepared.ok) return prepared;
  const errors = validatePodCreateOnly(prepared.obj.spec as AppArmorSpec, prepared.obj.metadata?.annotations as Record<string, string> | undefined);
  return errors.length > 0 ? { ok: false, errors } : prepared;
}

/**
 * A write through pods/ephemeralcontainers (the REST layer kept everything of the stored pod but its ephemeral
 * containers): the pod decoded whole, its ephemeral containers defaulted as containers are, and judged by upstream's
 * ValidatePodEphemeralContainersUpdate; the stored status stays.
 */
function prepareEphemeralContainersWrite(obj: KubeObject, old: KubeObject, ctx: PrepareContext): Prepared {
  const previous = parsePod({ ...old, ...POD_TYPE }, { decodedBefore: true });
  const validate = (p: Pod): FieldError[] => (previous.ok ? validatePodEphemeralContainersUpdate(p, previous.pod) : validatePod(p));
  const result = decodeKind(Pod, { ...obj, status: undefined, ...POD_TYPE }, POD_TYPE, { strict: ctx.strict }, validate);
  if (!result.ok) return result;
  const pod = result.obj as unknown as KubeObject;
  pod.spec = compactSpec(pod.spec);
  if (old.status !== undefined) pod.status = old.status;
  return { ok: true, obj: pod, warnings: result.warnings };
}

/** The QoS class of a decoded (compacted) spec; a quantity that does not parse gives none and the error, for later. */
function qosOf(spec: KubeObject['spec']): { qosClass?: string; qosError?: unknown } {
  try {
    return { qosClass: podQOSClass(spec as Parameters<typeof podQOSClass>[0]) };
  } catch (err) {
    return { qosError: err };
  }
}

/**
 * The decoded pod as a create stores it: spec compacted, status Pending with its QoS class, and validation (of the
 * decoded form, before compaction, as parsePod validates) left for the caller to run after mutating admission.
 */
function decodedNewPod(parsed: Pod, ctx: PrepareContext, warnings: string[], forMutation = true): Decoded & { ok: true } {
  const pod = { ...parsed, spec: compactSpec(parsed.spec) } as unknown as KubeObject;
  // The QoS class reads the resource quantities, which are only known to parse once validated: a quantity that does
  // not parse leaves it out here, and validation refuses the pod (were it to pass, the error stands, as before).
  const { qosClass, qosError } = qosOf(pod.spec);
  pod.status = { phase: 'Pending', ...(qosClass !== undefined ? { qosClass } : {}) };
  const validate = (): FieldError[] => {
    const errors = [...validatePod(parsed), ...validatePodCreateOnly(parsed.spec, parsed.metadata.annotations)];
    if (errors.length === 0 && qosError !== undefined) throw qosError;
    return errors;
  };
  if (!forMutation) return { ok: true, obj: pod, warnings, validate };
  // What mutating admission is about to change is the spec. Plugins change it copy-on-write (see Admission.mutate), so
  // the spec as it is now stays as it is: kept by reference, it tells what changed, and the parts left alone compare
  // equal at once (a deep copy of it per create was 1.6% of the main thread under the bench's creates).
  const before = pod.spec;
  const redecode = (mutated: KubeObject): Decoded => redecodeMutated(mutated, parsed, before, ctx) ?? decodeCreate(mutated, { ...ctx, strict: false, decodedBefore: true });
  return { ok: true, obj: pod, warnings, validate, redecode };
}

/** A container's own default, its pull policy, reads its image and pull policy alone. */
const REDECODING: Redecoding = { derived: new Map([[Container, ['image', 'imagePullPolicy']]]) };

/**
 * The second decode of a new pod, after mutating admission changed it (a service account token volume and its
 * mounts, tolerations, priority, limit range defaults): only what changed in the spec is decoded again, the rest is
 * the first decode's; the metadata is decoded again, and the whole-pod defaults and validation run on the result.
 * What the full decode gives at several times the cost: the plugins change a few parts of a spec that decoding walks
 * whole. Undefined (decode it whole) when a change does not decode, so that the errors read as the full decode's.
 */
function redecodeMutated(mutated: KubeObject, parsed: Pod, before: unknown, ctx: PrepareContext): Decoded | undefined {
  const spec = redecodeChanged(PodSpec, before, parsed.spec, dropNulls(mutated.spec), REDECODING);
  if (!spec) return undefined;
  const metadata = PodMeta.safeParse(dropNulls({ ...mutated.metadata }));
  if (!metadata.success) return undefined;
  const pod = applyPodDefaults({ ...parsed, metadata: metadata.data, spec: spec.value as PodSpec }) as Pod;
  return decodedNewPod(pod, ctx, [], false);
}

/**
 * A new pod decoded: defaulted, compacted and Pending (whatever status the client sent, as upstream's
 * PrepareForCreate), validated only when asked, so mutating admission runs in between as upstream orders it.
 */
function decodeCreate(obj: KubeObject, ctx: PrepareContext): Decoded {
  const decoded = decodeKind(Pod, { ...obj, status: undefined, ...POD_TYPE }, POD_TYPE, { strict: ctx.strict, ...(ctx.decodedBefore ? { decodedBefore: true } : {}) });
  if (!decoded.ok) return decoded;
  // PrepareForCreate's AppArmor version skew handling, once: a second decode (after admission) finds it done.
  const skew = ctx.decodedBefore ? [] : applyAppArmorVersionSkew(decoded.obj as unknown as AppArmorPod);
  return decodedNewPod(decoded.obj, ctx, [...decoded.warnings, ...skew]);
}

/** Pods: upstream's defaults and validation (control/api), a status subresource, and the field selectors kubelets use. */
export function podStrategy(_def: ResourceDef): Strategy {
  return {
    prepareCreate: (obj, ctx) => {
      // A new pod starts Pending whatever status the client sent, as upstream's PrepareForCreate.
      const prepared = withCreateRules(withAppArmorVersionSkew(prepare({ ...obj, status: undefined }, ctx)));
      if (prepared.ok) prepared.obj.status = { phase: 'Pending', qosClass: podQOSClass(prepared.obj.spec as Parameters<typeof podQOSClass>[0]) };
      return prepared;
    },
    decodeCreate,
    prepareUpdate: (obj, old, ctx) => {
      const prepared = ctx.subresource === 'ephemeralcontainers' ? prepareEphemeralContainersWrite(obj, old, ctx) : prepare(obj, ctx, old);
      // The QoS class is set at creation and immutable; a status write without it keeps it, as upstream backfills it.
      const oldQos = (old.status as { qosClass?: string } | undefined)?.qosClass;
      const status = prepared.ok ? (prepared.obj.status as { qosClass?: string } | undefined) : undefined;
      if (prepared.ok && oldQos && !status?.qosClass) prepared.obj.status = { ...status, qosClass: oldQos };
      return prepared;
    },
    statusSubresource: true,
    generation: false,
    fields: (obj) => {
      const spec = (obj.spec ?? {}) as Record<string, unknown>;
      const status = (obj.status ?? {}) as Record<string, unknown>;
      return {
        'spec.nodeName': String(spec.nodeName ?? ''),
        'spec.restartPolicy': String(spec.restartPolicy ?? ''),
        'spec.schedulerName': String(spec.schedulerName ?? ''),
        'spec.serviceAccountName': String(spec.serviceAccountName ?? ''),
        'spec.hostNetwork': String(spec.hostNetwork ?? false),
        'status.phase': String(status.phase ?? ''),
        'status.podIP': String(status.podIP ?? ''),
        'status.nominatedNodeName': String(status.nominatedNodeName ?? ''),
      };
    },
  };
}
