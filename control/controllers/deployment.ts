/**
 * The Deployment decisions, on plain data (upstream's pkg/controller/deployment: sync.go, rolling.go, recreate.go,
 * progress.go and util/deployment_util.go): which ReplicaSet is new, what revision it carries, how far each
 * ReplicaSet scales in this step, which old ones to clean up, and the status and conditions `kubectl rollout status`
 * reads. Every function computes from counts, never from history.
 */
import { matchesLabels, selectorFromSpec } from '../api/selectors.js';
import { safeEncodeString } from '../api/safe-encoding.js';
import { clone, controllerRef, jsonEqual, rfc3339, stableStringify, type Condition, type Deployment, type LabelSelector, type Pod, type PodTemplate, type ReplicaSet } from './objects.js';

export const POD_TEMPLATE_HASH = 'pod-template-hash';
export const REVISION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
export const CHANGE_CAUSE = 'kubernetes.io/change-cause';
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const ROLLBACK_TO = 'deprecated.deployment.rollback.to';

/** Deployment annotations the controller keeps off its ReplicaSets (upstream's skipCopyAnnotation). */
const NOT_COPIED = new Set([LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS, ROLLBACK_TO]);

// Condition types and reasons, as upstream spells them (kubectl rollout status reads them).
export const PROGRESSING = 'Progressing';
export const AVAILABLE = 'Available';
export const REPLICA_FAILURE = 'ReplicaFailure';
export const NEW_RS_AVAILABLE = 'NewReplicaSetAvailable';
export const RS_UPDATED = 'ReplicaSetUpdated';
export const NEW_RS_CREATED = 'NewReplicaSetCreated';
export const FOUND_NEW_RS = 'FoundNewReplicaSet';
export const TIMED_OUT = 'ProgressDeadlineExceeded';
export const PAUSED = 'DeploymentPaused';
export const RESUMED = 'DeploymentResumed';
export const MIN_AVAILABLE = 'MinimumReplicasAvailable';
export const MIN_UNAVAILABLE = 'MinimumReplicasUnavailable';

// ---------- small helpers ----------

export const replicas = (o: { spec: { replicas?: number } } | undefined): number => o?.spec.replicas ?? 1;
const specReplicas = (rs: ReplicaSet | undefined): number => rs?.spec.replicas ?? 0;
const available = (rs: ReplicaSet): number => rs.status?.availableReplicas ?? 0;
const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
const created = (rs: ReplicaSet): number => Date.parse(rs.metadata.creationTimestamp ?? '') || 0;

export function revisionOf(obj: { metadata: { annotations?: Record<string, string> } } | undefined): number {
  const n = Number(obj?.metadata.annotations?.[REVISION] ?? 0);
  return Number.isFinite(n) ? n : 0;
}

export function maxRevision(rsList: readonly ReplicaSet[]): number {
  return Math.max(0, ...rsList.map(revisionOf));
}

const byCreation = (a: ReplicaSet, b: ReplicaSet): number => created(a) - created(b) || ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1);

/** An int or a percentage of `total`, rounded up (surge) or down (unavailable), as intstr.GetScaledValueFromIntOrPercent. */
export function scaledValue(v: number | string | undefined, total: number, roundUp: boolean, dflt: string): number {
  const value = v ?? dflt;
  if (typeof value === 'number') return value;
  const m = /^(\d+)%$/.exec(value);
  if (!m) {
    const n = Number(value);
    if (Number.isInteger(n)) return n;
    throw new Error(`invalid value for IntOrString: invalid value "${value}"`);
  }
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/** maxSurge and maxUnavailable as pod counts; both zero would deadlock, so unavailable becomes 1 (upstream's ResolveFenceposts). */
export function resolveFenceposts(d: Deployment): { maxSurge: number; maxUnavailable: number } {
  if (d.spec.strategy?.type === 'Recreate') return { maxSurge: 0, maxUnavailable: 0 };
  const ru = d.spec.strategy?.rollingUpdate ?? {};
  const total = replicas(d);
  const maxSurge = scaledValue(ru.maxSurge, total, true, '25%');
  let maxUnavailable = scaledValue(ru.maxUnavailable, total, false, '25%');
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable: Math.min(maxUnavailable, total) };
}

export const maxUnavailable = (d: Deployment): number => (replicas(d) === 0 ? 0 : resolveFenceposts(d).maxUnavailable);
export const maxSurge = (d: Deployment): number => resolveFenceposts(d).maxSurge;

// ---------- templates and hashes ----------

function fnv1a32(bytes: Uint8Array, h = 0x811c9dc5): number {
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * The pod-template-hash: FNV-32a over the template (and the collision count, when there is one), its decimal
 * digits spelled in the alphabet of upstream's SafeEncodeString so it never forms words.
 */
export function computeHash(template: PodTemplate | undefined, collisionCount?: number): string {
  let h = fnv1a32(new TextEncoder().encode(stableStringify(stripHash(template))));
  if (collisionCount !== undefined) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv1a32(b, h);
  }
  return safeEncodeString(String(h));
}

/** A copy of the template without the pod-template-hash label. */
export function stripHash(template: PodTemplate | undefined): PodTemplate {
  const t = clone(template ?? {});
  if (t.metadata?.labels) {
    delete t.metadata.labels[POD_TEMPLATE_HASH];
    if (Object.keys(t.metadata.labels).length === 0) delete t.metadata.labels;
  }
  if (t.metadata && Object.keys(t.metadata).length === 0) delete t.metadata;
  return t;
}

export function equalIgnoreHash(a: PodTemplate | undefined, b: PodTemplate | undefined): boolean {
  return jsonEqual(stripHash(a), stripHash(b));
}

/** The ReplicaSets a deployment owns (by controller reference). */
export function ownedReplicaSets(d: Deployment, rsList: readonly ReplicaSet[]): ReplicaSet[] {
  return rsList.filter((rs) => rs.metadata.namespace === d.metadata.namespace && controllerRef(rs)?.uid === d.metadata.uid);
}

/** The ReplicaSet whose template is the deployment's (the oldest, should there be several). */
export function findNewReplicaSet(d: Deployment, rsList: readonly ReplicaSet[]): ReplicaSet | undefined {
  return [...rsList].sort(byCreation).find((rs) => equalIgnoreHash(rs.spec.template, d.spec.template));
}

export function findOldReplicaSets(rsList: readonly ReplicaSet[], newRS: ReplicaSet | undefined): ReplicaSet[] {
  return rsList.filter((rs) => !newRS || rs.metadata.name !== newRS.metadata.name);
}

/** Annotations a ReplicaSet gets from its deployment, plus the desired-replicas and max-replicas bookkeeping. */
export function replicasAnnotations(d: Deployment): Record<string, string> {
  return { [DESIRED_REPLICAS]: String(replicas(d)), [MAX_REPLICAS]: String(replicas(d) + maxSurge(d)) };
}

export function copiedAnnotations(d: Deployment): Record<string, string> {
  return Object.fromEntries(Object.entries(d.metadata.annotations ?? {}).filter(([k]) => !NOT_COPIED.has(k)));
}

/**
 * The new ReplicaSet's annotations after this sync: the deployment's annotations, a revision one above every old
 * ReplicaSet (the revision it had is kept in revision-history when it is reused by a rollback), and the
 * replica bookkeeping. Returns undefined when nothing changes.
 */
export function newReplicaSetAnnotations(d: Deployment, rs: ReplicaSet, oldRSs: readonly ReplicaSet[]): Record<string, string> | undefined {
  const current = rs.metadata.annotations ?? {};
  const next: Record<string, string> = { ...current, ...copiedAnnotations(d) };
  const newRevision = maxRevision(oldRSs) + 1;
  const oldRevision = current[REVISION];
  if (oldRevision === undefined || Number(oldRevision) < newRevision) {
    next[REVISION] = String(newRevision);
    if (oldRevision !== undefined && oldRevision !== '') {
      const history = current[REVISION_HISTORY] ? current[REVISION_HISTORY].split(',') : [];
      history.push(oldRevision);
      next[REVISION_HISTORY] = history.join(',');
    }
  }
  Object.assign(next, replicasAnnotations(d));
  return jsonEqual(next, current) ? undefined : next;
}

/** The ReplicaSet a deployment creates for its current template. */
export function buildNewReplicaSet(d: Deployment, oldRSs: readonly ReplicaSet[], initialReplicas: number): ReplicaSet {
  const hash = computeHash(d.spec.template, d.status?.collisionCount);
  const template = clone(d.spec.template ?? {});
  template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH]: hash } };
  const selector: LabelSelector = clone(d.spec.selector ?? {});
  selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH]: hash };
  const rs: ReplicaSet = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${d.metadata.name}-${hash}`,
      namespace: d.metadata.namespace,
      labels: { ...(template.metadata.labels ?? {}) },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name ?? '', uid: d.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
    },
    spec: { replicas: initialReplicas, minReadySeconds: d.spec.minReadySeconds ?? 0, selector, template },
  };
  rs.metadata.annotations = { ...copiedAnnotations(d), [REVISION]: String(maxRevision(oldRSs) + 1), ...replicasAnnotations(d) };
  return rs;
}

// ---------- scaling decisions ----------

export interface ScaleStep {
  name: string;
  replicas: number;
}

/** How many replicas the new ReplicaSet may have now (upstream's NewRSNewReplicas). */
export function newRSNewReplicas(d: Deployment, allRSs: readonly ReplicaSet[], newRS: ReplicaSet | undefined): number {
  if (d.spec.strategy?.type === 'Recreate') return replicas(d);
  const current = specReplicas(newRS);
  const { maxSurge: surge } = resolveFenceposts(d);
  const podCount = sum(allRSs.map(specReplicas));
  const maxTotal = replicas(d) + surge;
  if (podCount >= maxTotal) return current;
  const scaleUp = Math.min(maxTotal - podCount, replicas(d) - current);
  return current + Math.max(0, scaleUp);
}

/**
 * One step of a rolling update (upstream's rolloutRolling): scale the new ReplicaSet up within maxSurge; if that
 * did nothing, scale old ones down within maxUnavailable — first their unhealthy pods, then the oldest available ones.
 */
export function rolloutRolling(d: Deployment, newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[]): ScaleStep[] {
  const all = newRS ? [newRS, ...oldRSs] : [...oldRSs];
  if (newRS) {
    const want = specReplicas(newRS) > replicas(d) ? replicas(d) : newRSNewReplicas(d, all, newRS);
    if (want !== specReplicas(newRS)) return [{ name: newRS.metadata.name ?? '', replicas: want }];
  }
  return scaleDownOld(d, newRS, oldRSs);
}

function scaleDownOld(d: Deployment, newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[]): ScaleStep[] {
  const olds = oldRSs.map((rs) => ({ rs, replicas: specReplicas(rs) }));
  if (sum(olds.map((o) => o.replicas)) === 0) return [];
  const allPods = sum(olds.map((o) => o.replicas)) + specReplicas(newRS);
  const minAvailable = replicas(d) - maxUnavailable(d);
  const newUnavailable = newRS ? specReplicas(newRS) - available(newRS) : 0;
  const maxScaledDown = allPods - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return [];
  const sorted = [...olds].sort((a, b) => byCreation(a.rs, b.rs));
  // Unhealthy replicas first: they count against nobody's availability.
  let cleaned = 0;
  for (const o of sorted) {
    if (cleaned >= maxScaledDown) break;
    if (o.replicas === 0) continue;
    const unhealthy = o.replicas - available(o.rs);
    if (unhealthy <= 0) continue;
    const down = Math.min(maxScaledDown - cleaned, unhealthy);
    o.replicas -= down;
    cleaned += down;
  }
  // Then available ones, oldest first, as long as minAvailable holds.
  const availableNow = sum([...olds.map((o) => Math.min(available(o.rs), o.replicas))]) + (newRS ? available(newRS) : 0);
  if (availableNow > minAvailable) {
    let budget = availableNow - minAvailable;
    for (const o of sorted) {
      if (budget <= 0) break;
      if (o.replicas === 0) continue;
      const down = Math.min(o.replicas, budget);
      o.replicas -= down;
      budget -= down;
    }
  }
  return olds.filter((o) => o.replicas !== specReplicas(o.rs)).map((o) => ({ name: o.rs.metadata.name ?? '', replicas: o.replicas }));
}

/** Any pod of an old ReplicaSet that may still run (Recreate waits for them all to be gone). */
export function oldPodsRunning(newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[], pods: readonly Pod[]): boolean {
  if (sum(oldRSs.map((rs) => rs.status?.replicas ?? 0)) > 0) return true;
  const oldUids = new Set(oldRSs.map((rs) => rs.metadata.uid));
  return pods.some((p) => {
    const ref = controllerRef(p);
    if (!ref || !oldUids.has(ref.uid) || ref.uid === newRS?.metadata.uid) return false;
    return p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded';
  });
}

export type RecreatePlan = { step: 'scaleDownOld'; scale: ScaleStep[] } | { step: 'waitForOldPods' } | { step: 'createNew' } | { step: 'scaleUpNew'; scale: ScaleStep[] } | { step: 'done' };

/** One step of a Recreate rollout: every old pod goes first, then the new ReplicaSet scales to the full count. */
export function rolloutRecreate(d: Deployment, newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[], pods: readonly Pod[]): RecreatePlan {
  const down = oldRSs.filter((rs) => specReplicas(rs) > 0).map((rs) => ({ name: rs.metadata.name ?? '', replicas: 0 }));
  if (down.length) return { step: 'scaleDownOld', scale: down };
  if (oldPodsRunning(newRS, oldRSs, pods)) return { step: 'waitForOldPods' };
  if (!newRS) return { step: 'createNew' };
  if (specReplicas(newRS) !== replicas(d)) return { step: 'scaleUpNew', scale: [{ name: newRS.metadata.name ?? '', replicas: replicas(d) }] };
  return { step: 'done' };
}

/** The spec.replicas a deployment's active ReplicaSets were last scaled for differs from spec.replicas now. */
export function isScalingEvent(d: Deployment, allRSs: readonly ReplicaSet[]): boolean {
  return allRSs.some((rs) => specReplicas(rs) > 0 && rs.metadata.annotations?.[DESIRED_REPLICAS] !== undefined && rs.metadata.annotations[DESIRED_REPLICAS] !== String(replicas(d)));
}

/**
 * A scaling event (or scaling while paused), upstream's scale(): one active ReplicaSet takes the new size; a
 * saturated new one leaves the old at zero; otherwise the difference is spread over the active ones in proportion
 * to their size when they were last scaled (max-replicas), leftovers to the biggest.
 */
export function scaleDeployment(d: Deployment, newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[]): ScaleStep[] {
  const all = newRS ? [newRS, ...oldRSs] : [...oldRSs];
  const active = all.filter((rs) => specReplicas(rs) > 0);
  const want = replicas(d);
  let target: ReplicaSet | undefined;
  if (active.length === 0) target = newRS ?? [...oldRSs].sort(byCreation).at(-1);
  else if (active.length === 1) target = active[0];
  if (active.length <= 1) {
    if (!target || specReplicas(target) === want) return [];
    return [{ name: target.metadata.name ?? '', replicas: want }];
  }
  if (newRS && specReplicas(newRS) === want && newRS.metadata.annotations?.[DESIRED_REPLICAS] === String(want) && available(newRS) === want) {
    return oldRSs.filter((rs) => specReplicas(rs) > 0).map((rs) => ({ name: rs.metadata.name ?? '', replicas: 0 }));
  }
  if (d.spec.strategy?.type === 'Recreate') return [];
  const allowed = want > 0 ? want + maxSurge(d) : 0;
  const toAdd = allowed - sum(active.map(specReplicas));
  if (toAdd === 0) return [];
  const sorted = [...active].sort((a, b) => specReplicas(b) - specReplicas(a) || (toAdd > 0 ? created(b) - created(a) : created(a) - created(b)));
  const sizes = new Map<ReplicaSet, number>();
  let added = 0;
  for (const rs of sorted) {
    let proportion = 0;
    if (specReplicas(rs) > 0 && added !== toAdd) {
      const fraction = replicaSetFraction(rs, d);
      const allowedLeft = toAdd - added;
      proportion = toAdd > 0 ? Math.min(fraction, allowedLeft) : Math.max(fraction, allowedLeft);
    }
    sizes.set(rs, specReplicas(rs) + proportion);
    added += proportion;
  }
  const first = sorted[0];
  if (first) sizes.set(first, Math.max(0, (sizes.get(first) ?? 0) + (toAdd - added)));
  return sorted.filter((rs) => sizes.get(rs) !== specReplicas(rs)).map((rs) => ({ name: rs.metadata.name ?? '', replicas: Math.max(0, sizes.get(rs) ?? 0) }));
}

function replicaSetFraction(rs: ReplicaSet, d: Deployment): number {
  if (replicas(d) === 0) return -specReplicas(rs);
  const deploymentReplicas = replicas(d) + maxSurge(d);
  const annotated = Number(rs.metadata.annotations?.[MAX_REPLICAS] ?? d.status?.replicas ?? 0) || d.status?.replicas || 0;
  if (!annotated) return 0;
  return Math.round((specReplicas(rs) * deploymentReplicas) / annotated) - specReplicas(rs);
}

/** Old ReplicaSets beyond revisionHistoryLimit, scaled to zero and settled, oldest revision first. */
export function replicaSetsToCleanUp(d: Deployment, oldRSs: readonly ReplicaSet[]): string[] {
  const limit = d.spec.revisionHistoryLimit ?? 10;
  const alive = oldRSs.filter((rs) => !rs.metadata.deletionTimestamp);
  const diff = alive.length - limit;
  if (diff <= 0) return [];
  const sorted = [...alive].sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
  return sorted
    .slice(0, diff)
    .filter((rs) => (rs.status?.replicas ?? 0) === 0 && specReplicas(rs) === 0 && (rs.metadata.generation ?? 0) <= (rs.status?.observedGeneration ?? 0))
    .map((rs) => rs.metadata.name ?? '');
}

// ---------- status and conditions ----------

export type DeploymentStatus = NonNullable<Deployment['status']>;

export function condition(status: DeploymentStatus | undefined, type: string): Condition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/**
 * Sets a condition as upstream's SetDeploymentCondition: same status and reason leave it alone; the same status
 * keeps its lastTransitionTime.
 */
export function setCondition(status: DeploymentStatus, c: Condition): void {
  const conditions = status.conditions ?? [];
  const cur = conditions.find((x) => x.type === c.type);
  if (cur && cur.status === c.status && cur.reason === c.reason) return;
  const next = { ...c };
  if (cur && cur.status === c.status && cur.lastTransitionTime) next.lastTransitionTime = cur.lastTransitionTime;
  status.conditions = [...conditions.filter((x) => x.type !== c.type), next];
}

export function removeCondition(status: DeploymentStatus, type: string): void {
  if (status.conditions) status.conditions = status.conditions.filter((c) => c.type !== type);
}

const cond = (type: string, status: string, reason: string, message: string, now: Date): Condition => ({
  type,
  status,
  lastUpdateTime: rfc3339(now),
  lastTransitionTime: rfc3339(now),
  reason,
  message,
});

/** The counts of status, and the Available condition (upstream's calculateStatus). */
export function calculateStatus(d: Deployment, allRSs: readonly ReplicaSet[], newRS: ReplicaSet | undefined, now: Date): DeploymentStatus {
  const availableReplicas = sum(allRSs.map(available));
  const status: DeploymentStatus = {
    observedGeneration: d.metadata.generation ?? 0,
    replicas: sum(allRSs.map((rs) => rs.status?.replicas ?? 0)),
    updatedReplicas: newRS?.status?.replicas ?? 0,
    readyReplicas: sum(allRSs.map((rs) => rs.status?.readyReplicas ?? 0)),
    availableReplicas,
    unavailableReplicas: Math.max(0, replicas(d) - availableReplicas),
    ...(d.status?.collisionCount !== undefined ? { collisionCount: d.status.collisionCount } : {}),
    conditions: clone(d.status?.conditions ?? []),
  };
  if (availableReplicas >= replicas(d) - maxUnavailable(d)) setCondition(status, cond(AVAILABLE, 'True', MIN_AVAILABLE, 'Deployment has minimum availability.', now));
  else setCondition(status, cond(AVAILABLE, 'False', MIN_UNAVAILABLE, 'Deployment does not have minimum availability.', now));
  return status;
}

export function hasProgressDeadline(d: Deployment): boolean {
  return d.spec.progressDeadlineSeconds !== undefined && d.spec.progressDeadlineSeconds < 2 ** 31 - 1;
}

/** Every replica updated and available, nothing old left (upstream's DeploymentComplete). */
export function deploymentComplete(d: Deployment, s: DeploymentStatus): boolean {
  return s.updatedReplicas === replicas(d) && s.replicas === replicas(d) && s.availableReplicas === replicas(d) && (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
}

/** Something moved since the last status: more updated, ready or available replicas, or fewer old ones. */
export function deploymentProgressing(d: Deployment, s: DeploymentStatus): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (s.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) || newOld < oldOld || (s.readyReplicas ?? 0) > (old.readyReplicas ?? 0) || (s.availableReplicas ?? 0) > (old.availableReplicas ?? 0);
}

export function deploymentTimedOut(d: Deployment, s: DeploymentStatus, now: Date): boolean {
  if (!hasProgressDeadline(d)) return false;
  const c = condition(s, PROGRESSING);
  if (!c) return false;
  if (c.reason === NEW_RS_AVAILABLE) return false;
  if (c.reason === TIMED_OUT) return true;
  const from = Date.parse(c.lastUpdateTime ?? c.lastTransitionTime ?? '');
  if (Number.isNaN(from)) return false;
  return from + (d.spec.progressDeadlineSeconds ?? 0) * 1000 < now.getTime();
}

/**
 * The status after a rollout step, with Progressing as upstream's syncRolloutStatus sets it; requeueAfterMs says
 * when to look again for the progress deadline.
 */
export function rolloutStatus(d: Deployment, allRSs: readonly ReplicaSet[], newRS: ReplicaSet | undefined, now: Date): { status: DeploymentStatus; requeueAfterMs?: number } {
  const status = calculateStatus(d, allRSs, newRS, now);
  if (!hasProgressDeadline(d)) {
    removeCondition(status, PROGRESSING);
    return { status };
  }
  const current = condition(status, PROGRESSING);
  const rsName = newRS?.metadata.name ?? '';
  if (d.spec.paused) return { status };
  if (current?.reason !== TIMED_OUT) {
    if (deploymentComplete(d, status)) {
      if (newRS) setCondition(status, cond(PROGRESSING, 'True', NEW_RS_AVAILABLE, `ReplicaSet "${rsName}" has successfully progressed.`, now));
    } else if (deploymentProgressing(d, status)) {
      const c = cond(PROGRESSING, 'True', RS_UPDATED, `ReplicaSet "${rsName}" is progressing.`, now);
      // Progress refreshes lastUpdateTime even when the reason stays: that is what the deadline counts from.
      if (current?.status === 'True') c.lastTransitionTime = current.lastTransitionTime ?? c.lastTransitionTime;
      status.conditions = [...(status.conditions ?? []).filter((x) => x.type !== PROGRESSING), c];
    } else if (deploymentTimedOut(d, status, now)) {
      setCondition(status, cond(PROGRESSING, 'False', TIMED_OUT, `ReplicaSet "${rsName}" has timed out progressing.`, now));
    }
  }
  // Look again when the deadline would pass, unless the rollout is over either way.
  const after = condition(status, PROGRESSING);
  if (!deploymentComplete(d, status) && after && after.reason !== TIMED_OUT) {
    const from = Date.parse(after.lastUpdateTime ?? '');
    if (!Number.isNaN(from)) return { status, requeueAfterMs: Math.max(1, from + (d.spec.progressDeadlineSeconds ?? 0) * 1000 - now.getTime() + 1) };
  }
  return { status };
}

/** Progressing while paused says so, and says so again once resumed (upstream's checkPausedConditions). */
export function pausedCondition(d: Deployment, now: Date): Condition | undefined {
  if (!hasProgressDeadline(d)) return undefined;
  const c = condition(d.status, PROGRESSING);
  if (c?.reason === TIMED_OUT) return undefined;
  const paused = c?.reason === PAUSED;
  if (d.spec.paused && !paused) return cond(PROGRESSING, 'Unknown', PAUSED, 'Deployment is paused', now);
  if (!d.spec.paused && paused) return cond(PROGRESSING, 'Unknown', RESUMED, 'Deployment is resumed', now);
  return undefined;
}

// ---------- what kubectl rollout does with all this ----------

/**
 * `kubectl rollout undo --to-revision=N`: the template of revision N (0: the one before the current), without the
 * pod-template-hash label, to be written into the deployment's spec.template.
 */
export function rollbackTemplate(d: Deployment, rsList: readonly ReplicaSet[], toRevision = 0): PodTemplate {
  const owned = ownedReplicaSets(d, rsList);
  let target: ReplicaSet | undefined;
  if (toRevision === 0) {
    const sorted = [...owned].sort((a, b) => revisionOf(b) - revisionOf(a));
    target = sorted[1];
    if (!target) throw new Error('no rollout history found for deployment');
  } else {
    target = owned.find((rs) => revisionOf(rs) === toRevision);
    if (!target) throw new Error(`unable to find specified revision ${toRevision} in history`);
  }
  return stripHash(target.spec.template);
}

/** `kubectl rollout history`: revisions in order with their change-cause. */
export function rolloutHistory(d: Deployment, rsList: readonly ReplicaSet[]): Array<{ revision: number; changeCause?: string; replicaSet: string }> {
  return ownedReplicaSets(d, rsList)
    .map((rs) => ({ revision: revisionOf(rs), replicaSet: rs.metadata.name ?? '', ...(rs.metadata.annotations?.[CHANGE_CAUSE] ? { changeCause: rs.metadata.annotations[CHANGE_CAUSE] } : {}) }))
    .filter((h) => h.revision > 0)
    .sort((a, b) => a.revision - b.revision);
}

/** `kubectl rollout status`: the line it prints and whether it is done (kubectl's DeploymentStatusViewer). */
export function rolloutStatusMessage(d: Deployment): { message: string; done: boolean } {
  const name = d.metadata.name ?? '';
  const s = d.status ?? {};
  if ((d.metadata.generation ?? 0) > (s.observedGeneration ?? 0)) return { message: 'Waiting for deployment spec update to be observed...', done: false };
  const c = condition(s, PROGRESSING);
  if (c?.reason === TIMED_OUT) throw new Error(`deployment "${name}" exceeded its progress deadline`);
  const want = replicas(d);
  const updated = s.updatedReplicas ?? 0;
  if (updated < want) return { message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${want} new replicas have been updated...`, done: false };
  if ((s.replicas ?? 0) > updated) return { message: `Waiting for deployment "${name}" rollout to finish: ${(s.replicas ?? 0) - updated} old replicas are pending termination...`, done: false };
  if ((s.availableReplicas ?? 0) < updated) return { message: `Waiting for deployment "${name}" rollout to finish: ${s.availableReplicas ?? 0} of ${updated} updated replicas are available...`, done: false };
  return { message: `deployment "${name}" successfully rolled out`, done: true };
}

/** ReplicaSets (owned or orphaned) whose labels the deployment's selector matches. */
export function selectsReplicaSet(d: Deployment, rs: ReplicaSet): boolean {
  const sel = selectorFromSpec(d.spec.selector);
  return sel !== 'nothing' && sel.length > 0 && matchesLabels(sel, rs.metadata.labels);
}
