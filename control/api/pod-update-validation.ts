// Upstream's ValidatePodUpdate: once created, a pod's spec is fixed apart from container images, a shorter
// activeDeadlineSeconds, added tolerations and (from a negative value) terminationGracePeriodSeconds 1.
import { isDeepStrictEqual } from 'node:util';
import { validateAppArmorAnnotationUpdates } from './apparmor.js';
import { jsonEqual } from './core/common.js';
import { child, forbidden, index, invalid, required, type FieldError } from './errors.js';
import { MIRROR_POD_ANNOTATION, type Pod, type PodSpec, type Toleration } from './pod.js';
import { validatePod } from './pod-validation.js';
import { hasHostNamespacedSysctls } from './sysctl-validation.js';
import { inclusiveRangeError } from './names.js';
import { MAX_INT32 } from './validation-util.js';

export const UPDATABLE_POD_SPEC_FIELDS = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
];

const plain = (v: unknown): unknown => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

/**
 * What changed, one line per top-level PodSpec field in the style of the Go diff upstream appends (field names as the
 * Go struct's; the values here are JSON, not Go syntax).
 */
function specDiff(old: PodSpec, next: PodSpec): string {
  const lines = ['  core.PodSpec{'];
  const keys = [...new Set([...Object.keys(old), ...Object.keys(next)])];
  let same = 0;
  const flush = (): void => {
    if (same > 0) lines.push(`  \t... // ${same} identical field${same === 1 ? '' : 's'}`);
    same = 0;
  };
  for (const k of keys) {
    const a = plain((old as Record<string, unknown>)[k]);
    const b = plain((next as Record<string, unknown>)[k]);
    if (isDeepStrictEqual(a, b)) {
      same++;
      continue;
    }
    flush();
    const name = k === 'serviceAccount' ? 'DeprecatedServiceAccount' : `${k.charAt(0).toUpperCase()}${k.slice(1)}`;
    lines.push(`- \t${name}: ${a === undefined ? 'nil' : JSON.stringify(a)},`);
    lines.push(`+ \t${name}: ${b === undefined ? 'nil' : JSON.stringify(b)},`);
  }
  flush();
  lines.push('  }');
  return lines.join('\n');
}

/** validateOnlyAddedTolerations: every existing toleration stays, with only its tolerationSeconds free to change. */
function validateOnlyAddedTolerations(next: Toleration[] | undefined, old: Toleration[] | undefined, path: string): FieldError[] {
  // Compared as JSON (a member set to undefined is absent), without a JSON round trip per pair.
  const strip = (t: Toleration): unknown => ({ ...t, tolerationSeconds: undefined });
  for (const o of old ?? []) {
    if (!(next ?? []).some((n) => jsonEqual(strip(n), strip(o)))) {
      return [forbidden(path, 'existing toleration can not be modified except its tolerationSeconds')];
    }
  }
  return [];
}

/** ValidatePodUpdate (metadata rules aside, which the caller applies): the spec rules of a pod update. */
export function validatePodUpdate(pod: Pod, old: Pod): FieldError[] {
  const errs = validatePod(pod, { allowNamespacedSysctlsForHostNetAndHostIPC: hasHostNamespacedSysctls(old.spec) });
  errs.push(...validateAppArmorAnnotationUpdates(pod.metadata.annotations, old.metadata.annotations, child('metadata', 'annotations')));
  const spec = pod.spec;
  const before = old.spec;
  const specPath = 'spec';
  if (spec.containers.length !== before.containers.length) {
    return [...errs, forbidden(child(specPath, 'containers'), 'pod updates may not add or remove containers')];
  }
  if (spec.initContainers.length !== before.initContainers.length) {
    return [...errs, forbidden(child(specPath, 'initContainers'), 'pod updates may not add or remove containers')];
  }
  for (const list of ['containers', 'initContainers'] as const) {
    spec[list].forEach((c, i) => {
      if (!c.image) errs.push(required(child(index(child(specPath, list), i), 'image')));
    });
  }
  const ads = spec.activeDeadlineSeconds;
  const adsPath = child(specPath, 'activeDeadlineSeconds');
  if (ads !== undefined) {
    if (ads < 0 || ads > MAX_INT32) return [...errs, invalid(adsPath, ads, inclusiveRangeError(0, MAX_INT32))];
    if (before.activeDeadlineSeconds !== undefined && before.activeDeadlineSeconds < ads) return [...errs, invalid(adsPath, ads, 'must be less than or equal to previous value')];
  } else if (before.activeDeadlineSeconds !== undefined) {
    errs.push(invalid(adsPath, null, 'must not update from a positive integer to nil value'));
  }
  // Everything but the updatable fields must be as it was.
  const munged: PodSpec = {
    ...spec,
    containers: spec.containers.map((c, i) => ({ ...c, image: before.containers[i]?.image ?? c.image })),
    initContainers: spec.initContainers.map((c, i) => ({ ...c, image: before.initContainers[i]?.image ?? c.image })),
    activeDeadlineSeconds: before.activeDeadlineSeconds,
    tolerations: before.tolerations,
  } as PodSpec;
  if (before.terminationGracePeriodSeconds !== undefined && before.terminationGracePeriodSeconds < 0 && munged.terminationGracePeriodSeconds === 1) {
    munged.terminationGracePeriodSeconds = before.terminationGracePeriodSeconds;
  }
  // As JSON, as the diff below shows them; jsonEqual compares so without serializing two whole specs per update.
  if (!jsonEqual(munged, before)) {
    errs.push(forbidden(specPath, `pod updates may not change fields other than ${UPDATABLE_POD_SPEC_FIELDS.join(',')}\n${specDiff(before, munged)}`));
  }
  errs.push(...validateOnlyAddedTolerations(spec.tolerations, before.tolerations, child(specPath, 'tolerations')));
  return errs;
}

/**
 * Upstream's ValidatePodEphemeralContainersUpdate, for a write through pods/ephemeralcontainers (which copied
 * everything else from the stored pod): the new pod is valid, it is no mirror of a static pod (its kubelet takes its
 * spec from a file, where an ephemeral container would never appear), and the ephemeral containers already there are
 * neither removed nor changed: they may only be added to.
 */
export function validatePodEphemeralContainersUpdate(pod: Pod, old: Pod): FieldError[] {
  if (old.metadata.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) return [forbidden('', 'static pods do not support ephemeral containers')];
  const errs = validatePod(pod, { allowNamespacedSysctlsForHostNetAndHostIPC: hasHostNamespacedSysctls(old.spec) });
  const specPath = child('spec', 'ephemeralContainers');
  const next = new Map((pod.spec.ephemeralContainers ?? []).map((c) => [c.name, c]));
  for (const before of old.spec.ephemeralContainers ?? []) {
    const now = next.get(before.name);
    if (now === undefined) errs.push(forbidden(specPath, `existing ephemeral containers "${before.name}" may not be removed\n`));
    else if (!jsonEqual(now, before)) errs.push(forbidden(specPath, `existing ephemeral containers "${before.name}" may not be changed\n`));
  }
  return errs;
}
