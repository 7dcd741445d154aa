/**
 * The PodDisruptionBudget decisions, on plain data (upstream's pkg/controller/disruption and
 * component-helpers/apps/poddisruptionbudget): how many pods are expected (from minAvailable as an integer, or from the
 * scale of the pods' controllers), how many must stay healthy, how many are, and so how many may be disrupted now.
 */
import { isPodReady, rfc3339, type Condition, type LabelSelector, type Obj, type Pod } from './objects.js';

/** How long an eviction's entry in status.disruptedPods waits for the pod to go (upstream's DeletionTimeout). */
export const DELETION_TIMEOUT_MS = 2 * 60 * 1000;
export const DISRUPTION_ALLOWED = 'DisruptionAllowed';
export const SUFFICIENT_PODS = 'SufficientPods';
export const INSUFFICIENT_PODS = 'InsufficientPods';
export const SYNC_FAILED = 'SyncFailed';

export interface PodDisruptionBudget extends Obj {
  spec: { minAvailable?: number | string; maxUnavailable?: number | string; selector?: LabelSelector; unhealthyPodEvictionPolicy?: string };
  status?: PdbStatus;
}

export interface PdbStatus {
  observedGeneration?: number;
  disruptedPods?: Record<string, string>;
  disruptionsAllowed: number;
  currentHealthy: number;
  desiredHealthy: number;
  expectedPods: number;
  conditions?: Condition[];
}

/** intstr.GetScaledValueFromIntOrPercent. */
export function scaled(v: number | string, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) throw new Error(`invalid value for IntOrString: invalid value "${v}"`);
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/** What a pod's controller reference resolves to: the controller's desired scale, or undefined when it is not known. */
export type ScaleOf = (pod: Pod) => { uid: string; scale: number } | undefined;

export interface Expected {
  expectedCount: number;
  desiredHealthy: number;
  unmanaged: string[];
}

/** upstream's getExpectedPodCount (throws "found no controllers for pod" as upstream's sync fails). */
export function expectedPodCount(pdb: PodDisruptionBudget, pods: readonly Pod[], scaleOf: ScaleOf): Expected {
  const expectedScale = (): { count: number; unmanaged: string[] } => {
    const scales = new Map<string, number>();
    const unmanaged: string[] = [];
    for (const pod of pods) {
      const ref = pod.metadata.ownerReferences?.find((r) => r.controller);
      if (!ref) {
        unmanaged.push(pod.metadata.name ?? '');
        continue;
      }
      if (scales.has(ref.uid)) continue;
      const found = scaleOf(pod);
      if (!found) throw new Error(`found no controllers for pod "${pod.metadata.name}"`);
      scales.set(found.uid, found.scale);
    }
    return { count: [...scales.values()].reduce((a, b) => a + b, 0), unmanaged };
  };
  const { maxUnavailable, minAvailable } = pdb.spec;
  if (maxUnavailable !== undefined) {
    const { count, unmanaged } = expectedScale();
    return { expectedCount: count, desiredHealthy: Math.max(0, count - scaled(maxUnavailable, count, true)), unmanaged };
  }
  if (typeof minAvailable === 'number') return { expectedCount: pods.length, desiredHealthy: minAvailable, unmanaged: [] };
  if (typeof minAvailable === 'string') {
    const { count, unmanaged } = expectedScale();
    return { expectedCount: count, desiredHealthy: scaled(minAvailable, count, true), unmanaged };
  }
  return { expectedCount: 0, desiredHealthy: 0, unmanaged: [] };
}

/** The disruptedPods entries still pending (pod present, not yet deleting, within the timeout) and when to look again. */
export function pendingDisruptions(pdb: PodDisruptionBudget, pods: readonly Pod[], now: Date): { pending: Record<string, string>; recheckAt?: number; expired: string[] } {
  const pending: Record<string, string> = {};
  const expired: string[] = [];
  let recheckAt: number | undefined;
  const entries = pdb.status?.disruptedPods ?? {};
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    const at = entries[pod.metadata.name ?? ''];
    if (at === undefined) continue;
    const deadline = (Date.parse(at) || 0) + DELETION_TIMEOUT_MS;
    if (deadline < now.getTime()) {
      expired.push(pod.metadata.name ?? '');
      continue;
    }
    pending[pod.metadata.name ?? ''] = at;
    if (recheckAt === undefined || deadline < recheckAt) recheckAt = deadline;
  }
  return { pending, ...(recheckAt !== undefined ? { recheckAt } : {}), expired };
}

/** Ready pods that are neither being deleted nor about to be (upstream's countHealthyPods). */
export function countHealthy(pods: readonly Pod[], pending: Record<string, string>): number {
  return pods.filter((p) => !p.metadata.deletionTimestamp && pending[p.metadata.name ?? ''] === undefined && isPodReady(p)).length;
}

/** metav1 SetStatusCondition: the transition time moves only when the status does. */
export function setStatusCondition(conditions: readonly Condition[] | undefined, c: Condition & { observedGeneration?: number }, now: Date): Condition[] {
  const out = [...(conditions ?? [])];
  const i = out.findIndex((x) => x.type === c.type);
  const old = i >= 0 ? out[i] : undefined;
  const next = { ...c, lastTransitionTime: old && old.status === c.status && old.lastTransitionTime ? old.lastTransitionTime : rfc3339(now) };
  if (!next.message) next.message = '';
  if (i >= 0) out[i] = next;
  else out.push(next);
  return out;
}

/** pdbhelper.UpdateDisruptionAllowedCondition. */
export function disruptionCondition(status: PdbStatus, now: Date): Condition[] {
  const allowed = status.disruptionsAllowed > 0;
  return setStatusCondition(
    status.conditions,
    { type: DISRUPTION_ALLOWED, status: allowed ? 'True' : 'False', reason: allowed ? SUFFICIENT_PODS : INSUFFICIENT_PODS, ...(status.observedGeneration !== undefined ? { observedGeneration: status.observedGeneration } : {}) },
    now,
  );
}

/** The status upstream's updatePdbStatus writes. */
export function pdbStatus(pdb: PodDisruptionBudget, expected: Expected, currentHealthy: number, pending: Record<string, string>, now: Date): PdbStatus {
  let allowed = currentHealthy - expected.desiredHealthy;
  if (expected.expectedCount <= 0 || allowed <= 0) allowed = 0;
  const status: PdbStatus = {
    currentHealthy,
    desiredHealthy: expected.desiredHealthy,
    expectedPods: expected.expectedCount,
    disruptionsAllowed: allowed,
    ...(Object.keys(pending).length ? { disruptedPods: pending } : {}),
    ...(pdb.metadata.generation !== undefined ? { observedGeneration: pdb.metadata.generation } : {}),
    ...(pdb.status?.conditions ? { conditions: pdb.status.conditions } : {}),
  };
  status.conditions = disruptionCondition(status, now);
  return status;
}

/** upstream's failSafe: nothing may be disrupted while the budget cannot be computed. */
export function failSafeStatus(pdb: PodDisruptionBudget, err: string, now: Date): PdbStatus {
  const base: PdbStatus = pdb.status ? { ...pdb.status } : { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
  base.disruptionsAllowed = 0;
  base.conditions = setStatusCondition(base.conditions, { type: DISRUPTION_ALLOWED, status: 'False', reason: SYNC_FAILED, message: err, ...(base.observedGeneration !== undefined ? { observedGeneration: base.observedGeneration } : {}) }, now);
  return base;
}
