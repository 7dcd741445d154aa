/**
 * The ReplicaSet (and ReplicationController) decisions, on plain data: which pods a controller owns, adopts and
 * releases; how many pods to create; which to delete first when scaling down; the status to report.
 */
import { matchesLabels, type Requirement } from '../api/selectors.js';
import { controllerRef, isPodActive, isPodAvailable, isPodReady, type Condition, type Obj, type OwnerReference, type Pod, type ReplicaSetStatus } from './objects.js';
import { rfc3339 } from '../api/time.js';

/** Upstream's burstReplicas: at most this many creations or deletions per sync. */
export const BURST_REPLICAS = 500;
export const POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';

export interface ReplicaSetInput {
  replicas: number;
  minReadySeconds?: number;
  templateLabels?: Record<string, string>;
  generation?: number;
  conditions?: Condition[];
}

export interface ReplicaSetDecision {
  /** Pods to create. */
  create: number;
  /** Names of the pods to delete, best candidates first. */
  delete: string[];
  status: ReplicaSetStatus;
}

// ---------- ownership ----------

export interface ClaimResult<T extends Obj = Pod> {
  /** Objects this controller owns and whose labels still match. */
  owned: T[];
  /** Orphans that match: the controller takes them (adds its controller reference). */
  adopt: T[];
  /** Owned objects that no longer match: the controller lets them go (drops its reference). */
  release: T[];
}

/** upstream's ControllerRefManager claim (pods, or ReplicaSets for a Deployment): adoption only while owner and object live. */
export function claimPods<T extends Obj = Pod>(ownerUid: string, ownerDeleting: boolean, selector: Requirement[] | 'nothing', pods: readonly T[]): ClaimResult<T> {
  const out: ClaimResult<T> = { owned: [], adopt: [], release: [] };
  for (const pod of pods) {
    const matches = selector !== 'nothing' && matchesLabels(selector, pod.metadata.labels);
    const ref = controllerRef(pod);
    if (ref) {
      if (ref.uid !== ownerUid) continue;
      if (matches) out.owned.push(pod);
      else if (!ownerDeleting) out.release.push(pod);
      continue;
    }
    if (matches && !ownerDeleting && !pod.metadata.deletionTimestamp) out.adopt.push(pod);
  }
  return out;
}

/** The ownerReferences of a pod once `ref` is added (adoption) or the reference with `uid` dropped (release). */
export function withOwnerRef(refs: readonly OwnerReference[] | undefined, ref: OwnerReference): OwnerReference[] {
  return [...(refs ?? []).filter((r) => r.uid !== ref.uid), ref];
}

export function withoutOwnerRef(refs: readonly OwnerReference[] | undefined, uid: string): OwnerReference[] {
  return (refs ?? []).filter((r) => r.uid !== uid);
}

// ---------- ranking ----------

const PHASE_ORDER: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

function deletionCost(pod: Pod): number {
  const v = Number(pod.metadata.annotations?.[POD_DELETION_COST]);
  return Number.isFinite(v) ? v : 0;
}

function readySince(pod: Pod): number | undefined {
  const c = pod.status?.conditions?.find((x) => x.type === 'Ready' && x.status === 'True');
  const t = c?.lastTransitionTime ? Date.parse(c.lastTransitionTime) : NaN;
  return Number.isNaN(t) ? undefined : t;
}

function maxRestarts(pod: Pod): number {
  return Math.max(0, ...(pod.status?.containerStatuses ?? []).map((c) => c.restartCount ?? 0));
}

function created(pod: Pod): number | undefined {
  const t = pod.metadata.creationTimestamp ? Date.parse(pod.metadata.creationTimestamp) : NaN;
  return Number.isNaN(t) ? undefined : t;
}

/** Empty (unknown) times first, then the later time first: "less time" sorts before "more time". */
function newerFirst(a: number | undefined, b: number | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  return b - a;
}

/**
 * upstream's ActivePodsWithRanks ordering, the pod to delete first sorting first: unscheduled < scheduled; Pending <
 * Unknown < Running; not ready < ready; lower pod-deletion-cost first; more pods on the same node (higher rank) first;
 * ready for less time first; more container restarts first; newer first.
 */
export function comparePodsForDeletion(a: Pod, b: Pod, rankA = 0, rankB = 0): number {
  const na = a.spec?.nodeName ?? '';
  const nb = b.spec?.nodeName ?? '';
  if (na !== nb && (na === '' || nb === '')) return na === '' ? -1 : 1;
  const pa = PHASE_ORDER[a.status?.phase ?? 'Pending'] ?? 0;
  const pb = PHASE_ORDER[b.status?.phase ?? 'Pending'] ?? 0;
  if (pa !== pb) return pa - pb;
  const ra = isPodReady(a);
  const rb = isPodReady(b);
  if (ra !== rb) return ra ? 1 : -1;
  const ca = deletionCost(a);
  const cb = deletionCost(b);
  if (ca !== cb) return ca - cb;
  if (rankA !== rankB) return rankB - rankA;
  if (ra && rb) {
    const t = newerFirst(readySince(a), readySince(b));
    if (t !== 0) return t;
  }
  const restarts = maxRestarts(b) - maxRestarts(a);
  if (restarts !== 0) return restarts;
  const c = newerFirst(created(a), created(b));
  if (c !== 0) return c;
  return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : (a.metadata.name ?? '') > (b.metadata.name ?? '') ? 1 : 0;
}

/**
 * Pods in deletion order. A pod's rank is how many of `related` (by default the pods themselves) share its node, so
 * a scale-down spreads what is left over more nodes.
 */
export function rankPodsForDeletion(pods: readonly Pod[], related: readonly Pod[] = pods): Pod[] {
  const perNode = new Map<string, number>();
  for (const p of related) {
    const n = p.spec?.nodeName;
    if (n && isPodActive(p)) perNode.set(n, (perNode.get(n) ?? 0) + 1);
  }
  const rank = (p: Pod): number => (p.spec?.nodeName ? (perNode.get(p.spec.nodeName) ?? 0) : 0);
  return [...pods].sort((a, b) => comparePodsForDeletion(a, b, rank(a), rank(b)));
}

// ---------- decision ----------

function labelsInclude(labels: Record<string, string> | undefined, want: Record<string, string> | undefined): boolean {
  return Object.entries(want ?? {}).every(([k, v]) => labels?.[k] === v);
}

/** What status.replicas and friends should say about these (owned, active) pods. */
export function replicaSetStatus(rs: ReplicaSetInput, pods: readonly Pod[], now: Date, failure?: { reason: string; message: string }): ReplicaSetStatus {
  const active = pods.filter(isPodActive);
  const ready = active.filter(isPodReady);
  const status: ReplicaSetStatus = {
    replicas: active.length,
    fullyLabeledReplicas: active.filter((p) => labelsInclude(p.metadata.labels, rs.templateLabels)).length,
    readyReplicas: ready.length,
    availableReplicas: ready.filter((p) => isPodAvailable(p, rs.minReadySeconds ?? 0, now)).length,
    ...(rs.generation !== undefined ? { observedGeneration: rs.generation } : {}),
  };
  // ReplicaFailure is set while creating or deleting fails and dropped once it works again.
  const others = (rs.conditions ?? []).filter((c) => c.type !== 'ReplicaFailure');
  const old = (rs.conditions ?? []).find((c) => c.type === 'ReplicaFailure');
  if (failure) {
    const same = old?.status === 'True' && old.reason === failure.reason && old.message === failure.message;
    others.push(same && old ? old : { type: 'ReplicaFailure', status: 'True', reason: failure.reason, message: failure.message, lastTransitionTime: rfc3339(now) });
  }
  if (others.length) status.conditions = others;
  return status;
}

/**
 * upstream's manageReplicas as a decision: too few active pods → create the difference (at most BURST_REPLICAS);
 * too many → delete the best candidates first.
 */
export function reconcileReplicaSet(rs: ReplicaSetInput, pods: readonly Pod[], now: Date, opts: { burst?: number; related?: readonly Pod[] } = {}): ReplicaSetDecision {
  const burst = opts.burst ?? BURST_REPLICAS;
  const active = pods.filter(isPodActive);
  const diff = active.length - rs.replicas;
  const status = replicaSetStatus(rs, pods, now);
  if (diff < 0) return { create: Math.min(-diff, burst), delete: [], status };
  if (diff > 0) {
    const victims = rankPodsForDeletion(active, opts.related).slice(0, Math.min(diff, burst));
    return { create: 0, delete: victims.map((p) => p.metadata.name ?? ''), status };
  }
  return { create: 0, delete: [], status };
}

/**
 * upstream's slowStartBatch: call fn count times in batches of 1, 2, 4 ... stopping after the first batch with a
 * failure, so a quota or webhook refusal costs one call rather than hundreds. Returns how many succeeded and the first error.
 */
export async function slowStartBatch(count: number, initial: number, fn: () => Promise<void>): Promise<{ done: number; error?: unknown }> {
  let remaining = count;
  let done = 0;
  for (let batch = Math.min(remaining, initial); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    done += batch - failed.length;
    if (failed.length) return { done, error: failed[0]?.reason };
    remaining -= batch;
  }
  return { done };
}
