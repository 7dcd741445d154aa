/**
 * The Job controller's decisions on plain data (upstream's pkg/controller/job): which owned pods count as succeeded or
 * failed, the pod-recreation back-off after failures, the pod failure policy, completion indexes of Indexed jobs, how
 * many pods to create or delete, and which terminal condition a Job reaches. The controller (job-controller.ts) does
 * the I/O around them.
 */
import { isPodActive, isPodReady, rfc3339, type Condition, type LabelSelector, type Obj, type Pod, type PodTemplate } from './objects.js';
import { rankPodsForDeletion } from './replicaset.js';

export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
export const JOB_COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';
export const JOB_COMPLETION_INDEX_ENV = 'JOB_COMPLETION_INDEX';
export const JOB_INDEX_FAILURE_COUNT = 'batch.kubernetes.io/job-index-failure-count';
export const JOB_INDEX_IGNORED_FAILURE_COUNT = 'batch.kubernetes.io/job-index-ignored-failure-count';
/** upstream's DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff (the docs say "capped at six minutes"; the code caps at ten). */
export const POD_FAILURE_BACKOFF_MS = 10_000;
export const MAX_POD_FAILURE_BACKOFF_MS = 10 * 60_000;
/** upstream's MaxPodCreateDeletePerSync. */
export const MAX_POD_CREATE_DELETE_PER_SYNC = 500;
/** upstream's MaxUncountedPods: at most this many UIDs wait in status.uncountedTerminatedPods. */
export const MAX_UNCOUNTED_PODS = 500;

export interface PodFailurePolicyRule {
  action: string;
  onExitCodes?: { containerName?: string; operator: string; values?: number[] };
  onPodConditions?: Array<{ type: string; status?: string }>;
}

export interface SuccessPolicyRule {
  succeededIndexes?: string;
  succeededCount?: number;
}

export interface Job extends Obj {
  spec: {
    parallelism?: number;
    completions?: number;
    activeDeadlineSeconds?: number;
    backoffLimit?: number;
    completionMode?: string;
    suspend?: boolean;
    selector?: LabelSelector;
    manualSelector?: boolean;
    template?: PodTemplate & { metadata?: { finalizers?: string[] } };
    ttlSecondsAfterFinished?: number;
    podFailurePolicy?: { rules: PodFailurePolicyRule[] };
    successPolicy?: { rules: SuccessPolicyRule[] };
    backoffLimitPerIndex?: number;
    maxFailedIndexes?: number;
    podReplacementPolicy?: string;
    managedBy?: string;
  };
  status?: JobStatus;
}

export interface JobStatus {
  conditions?: Condition[];
  startTime?: string;
  completionTime?: string;
  active?: number;
  succeeded?: number;
  failed?: number;
  terminating?: number;
  ready?: number;
  completedIndexes?: string;
  failedIndexes?: string;
  uncountedTerminatedPods?: { succeeded?: string[]; failed?: string[] };
}

// ---------- job state ----------

export const isIndexedJob = (job: Job): boolean => job.spec.completionMode === 'Indexed';
export const isJobSuspended = (job: Job): boolean => job.spec.suspend === true;

export function jobCondition(job: Job, type: string): Condition | undefined {
  return job.status?.conditions?.find((c) => c.type === type);
}

/** Complete=True or Failed=True (upstream's IsJobFinished). */
export function finishedCondition(job: { status?: { conditions?: Condition[] } }): Condition | undefined {
  return job.status?.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

export const isJobFinished = (job: { status?: { conditions?: Condition[] } }): boolean => finishedCondition(job) !== undefined;

/** Only Failed pods are replaced (podReplacementPolicy Failed), not also the ones still terminating. */
export const onlyReplaceFailedPods = (job: Job): boolean => job.spec.podReplacementPolicy === 'Failed' || job.spec.podFailurePolicy !== undefined;

export const hasTrackingFinalizer = (pod: Pod): boolean => (pod.metadata.finalizers ?? []).includes(JOB_TRACKING_FINALIZER);

/** A pod counts as failed when its phase says so or, unless only failed pods are replaced, when it is being deleted unfinished. */
export function isPodFailed(pod: Pod, job: Job): boolean {
  if (pod.status?.phase === 'Failed') return true;
  if (onlyReplaceFailedPods(job)) return false;
  return !!pod.metadata.deletionTimestamp && pod.status?.phase !== 'Succeeded';
}

/** Being deleted but not finished (upstream's CountTerminatingPods). */
export function isPodTerminatingUnfinished(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return !!pod.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed';
}

// ---------- pod failure policy ----------

interface TerminatedStatus {
  name: string;
  state?: { terminated?: { exitCode?: number; finishedAt?: string } };
}

export interface PolicyMatch {
  /** Set when a FailJob rule matched: the Job fails with reason PodFailurePolicy and this message. */
  failJobMessage?: string;
  /** False when an Ignore rule matched: the failure does not count toward backoffLimit. */
  countFailed: boolean;
  action?: string;
}

function exitCodeMatches(code: number, req: NonNullable<PodFailurePolicyRule['onExitCodes']>): boolean {
  const values = req.values ?? [];
  if (req.operator === 'In') return values.includes(code);
  if (req.operator === 'NotIn') return !values.includes(code);
  return false;
}

function matchingContainer(pod: Pod, req: NonNullable<PodFailurePolicyRule['onExitCodes']>): { name: string; exitCode: number } | undefined {
  const lists = [pod.status?.containerStatuses, pod.status?.initContainerStatuses as TerminatedStatus[] | undefined];
  for (const list of lists) {
    for (const cs of (list ?? []) as TerminatedStatus[]) {
      const exitCode = cs.state?.terminated?.exitCode;
      if (exitCode === undefined || exitCode === 0) continue;
      if (req.containerName !== undefined && req.containerName !== cs.name) continue;
      if (exitCodeMatches(exitCode, req)) return { name: cs.name, exitCode };
    }
  }
  return undefined;
}

/** upstream's matchPodFailurePolicy: the first rule matching the failed pod decides. */
export function matchPodFailurePolicy(rules: readonly PodFailurePolicyRule[] | undefined, pod: Pod): PolicyMatch {
  if (!rules) return { countFailed: true };
  const ns = pod.metadata.namespace ?? '';
  const name = pod.metadata.name ?? '';
  for (const [index, rule] of rules.entries()) {
    let failJobMessage: string | undefined;
    if (rule.onExitCodes) {
      const c = matchingContainer(pod, rule.onExitCodes);
      if (!c) continue;
      failJobMessage = `Container ${c.name} for pod ${ns}/${name} failed with exit code ${c.exitCode} matching ${rule.action} rule at index ${index}`;
    } else if (rule.onPodConditions) {
      const cond = (pod.status?.conditions ?? []).find((pc) => rule.onPodConditions?.some((p) => p.type === pc.type && (p.status ?? 'True') === pc.status));
      if (!cond) continue;
      failJobMessage = `Pod ${ns}/${name} has condition ${cond.type} matching ${rule.action} rule at index ${index}`;
    } else continue;
    switch (rule.action) {
      case 'Ignore':
        return { countFailed: false, action: 'Ignore' };
      case 'Count':
        return { countFailed: true, action: 'Count' };
      case 'FailJob':
        return { failJobMessage, countFailed: true, action: 'FailJob' };
      case 'FailIndex':
        return { countFailed: true, action: 'FailIndex' };
    }
  }
  return { countFailed: true };
}

// ---------- back-off ----------

/**
 * When a pod finished: its containers' latest finishedAt, else when Ready turned False, else its deletion time less
 * the grace period, else its creation (upstream's getFinishedTime).
 */
export function podFinishedTime(pod: Pod): number {
  const statuses = (pod.status?.containerStatuses ?? []) as TerminatedStatus[];
  let latest: number | undefined;
  let allDone = statuses.length > 0;
  for (const cs of statuses) {
    const t = cs.state?.terminated?.finishedAt ? Date.parse(cs.state.terminated.finishedAt) : NaN;
    if (Number.isNaN(t)) {
      allDone = false;
      break;
    }
    latest = latest === undefined ? t : Math.max(latest, t);
  }
  if (allDone && latest !== undefined) return latest;
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status === 'False' && ready.lastTransitionTime) {
    const t = Date.parse(ready.lastTransitionTime);
    if (!Number.isNaN(t)) return t;
  }
  if (pod.metadata.deletionTimestamp) {
    const grace = Number(pod.metadata.deletionGracePeriodSeconds ?? 0);
    return Date.parse(pod.metadata.deletionTimestamp) - grace * 1000;
  }
  return Date.parse(pod.metadata.creationTimestamp ?? '') || 0;
}

/** Failures since the last success and when the latest happened: the pod-recreation back-off's memory per Job. */
export interface BackoffRecord {
  failuresAfterLastSuccess: number;
  lastFailureTime?: number;
}

/** upstream's newBackoffRecord: a success resets the count; failures after the latest success add to it. */
export function nextBackoffRecord(old: BackoffRecord | undefined, newSucceeded: readonly Pod[], newFailed: readonly Pod[]): BackoffRecord {
  const rec: BackoffRecord = { failuresAfterLastSuccess: old?.failuresAfterLastSuccess ?? 0, ...(old?.lastFailureTime !== undefined ? { lastFailureTime: old.lastFailureTime } : {}) };
  const failedTimes = newFailed.map(podFinishedTime).sort((a, b) => a - b);
  if (newSucceeded.length === 0) {
    if (failedTimes.length === 0) return rec;
    return { failuresAfterLastSuccess: rec.failuresAfterLastSuccess + failedTimes.length, lastFailureTime: failedTimes[failedTimes.length - 1] as number };
  }
  const lastSuccess = Math.max(...newSucceeded.map(podFinishedTime));
  const after = failedTimes.filter((t) => t > lastSuccess);
  if (after.length === 0) return { failuresAfterLastSuccess: 0 };
  return { failuresAfterLastSuccess: after.length, lastFailureTime: after[after.length - 1] as number };
}

/** How long pod creation must still wait: 10 s after the first failure, doubling per further failure, capped. */
export function backoffRemainingMs(rec: BackoffRecord, now: number, baseMs = POD_FAILURE_BACKOFF_MS, maxMs = MAX_POD_FAILURE_BACKOFF_MS): number {
  if (rec.failuresAfterLastSuccess === 0 || rec.lastFailureTime === undefined) return 0;
  let delay = baseMs;
  for (let i = 1; i < rec.failuresAfterLastSuccess; i++) {
    delay *= 2;
    if (delay >= maxMs) {
      delay = maxMs;
      break;
    }
  }
  const elapsed = now - rec.lastFailureTime;
  return delay < elapsed ? 0 : delay - elapsed;
}

// ---------- indexes ----------

/** The completion index a pod carries (annotation, else label); undefined when missing or malformed. */
export function completionIndex(pod: Pod): number | undefined {
  const v = pod.metadata.annotations?.[JOB_COMPLETION_INDEX] ?? pod.metadata.labels?.[JOB_COMPLETION_INDEX];
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

/** Parses "1,3-5" (status.completedIndexes) into sorted indexes below `completions`. */
export function parseIndexes(s: string | undefined, completions: number): number[] {
  const out = new Set<number>();
  for (const part of (s ?? '').split(',')) {
    if (!part) continue;
    const [a, b] = part.split('-');
    const from = Number(a);
    const to = b === undefined ? from : Number(b);
    if (!Number.isInteger(from) || !Number.isInteger(to)) continue;
    for (let i = from; i <= to && i < completions; i++) out.add(i);
  }
  return [...out].sort((x, y) => x - y);
}

/** Sorted indexes as upstream writes them: runs of three or more as "a-b", pairs as "a,b" ("0,1,3-7"). */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] as number) + 1) j++;
    if (j > i + 1) parts.push(`${sorted[i]}-${sorted[j]}`);
    else if (j === i + 1) parts.push(`${sorted[i]},${sorted[j]}`);
    else parts.push(String(sorted[i]));
    i = j + 1;
  }
  return parts.join(',');
}

/** The lowest indexes with neither a success, nor a failure, nor an active pod, at most `count` of them. */
export function firstPendingIndexes(succeeded: ReadonlySet<number>, active: readonly Pod[], count: number, completions: number, failed: ReadonlySet<number> = new Set()): number[] {
  const taken = new Set([...succeeded, ...failed]);
  for (const p of active) {
    const ix = completionIndex(p);
    if (ix !== undefined) taken.add(ix);
  }
  const out: number[] = [];
  for (let i = 0; i < completions && out.length < count; i++) if (!taken.has(i)) out.push(i);
  return out;
}

/** Active pods of an Indexed Job that must go: no valid index, an index already succeeded, or a second pod for an index. */
export function surplusIndexedPods(active: readonly Pod[], succeeded: ReadonlySet<number>, completions: number): Pod[] {
  const rm: Pod[] = [];
  const seen = new Set<number>();
  // Keep the ready/running one of duplicates: look at the best candidates for keeping first.
  const keepOrder = rankPodsForDeletion([...active]).reverse();
  for (const p of keepOrder) {
    const ix = completionIndex(p);
    if (ix === undefined || ix >= completions || succeeded.has(ix) || seen.has(ix)) rm.push(p);
    else seen.add(ix);
  }
  return rm;
}

/**
 * What an Indexed Job's pod gets on top of its template: index annotation and label, hostname, a
 * JOB_COMPLETION_INDEX env var read from the label (PodIndexLabel is on in 1.32), name prefix.
 */
export function indexedPodTemplate(jobName: string, template: PodTemplate, index: number): { template: PodTemplate; generateName: string } {
  const t = JSON.parse(JSON.stringify(template)) as PodTemplate;
  t.metadata = { ...(t.metadata ?? {}) };
  t.metadata.annotations = { ...(t.metadata.annotations ?? {}), [JOB_COMPLETION_INDEX]: String(index) };
  t.metadata.labels = { ...(t.metadata.labels ?? {}), [JOB_COMPLETION_INDEX]: String(index) };
  t.spec = { ...(t.spec ?? {}), hostname: `${jobName}-${index}` };
  const withEnv = (cs: unknown): unknown =>
    Array.isArray(cs)
      ? cs.map((c: { env?: Array<{ name: string }> }) =>
          (c.env ?? []).some((e) => e.name === JOB_COMPLETION_INDEX_ENV)
            ? c
            : { ...c, env: [...(c.env ?? []), { name: JOB_COMPLETION_INDEX_ENV, valueFrom: { fieldRef: { fieldPath: `metadata.labels['${JOB_COMPLETION_INDEX}']` } } }] },
        )
      : cs;
  t.spec.containers = withEnv(t.spec.containers) as NonNullable<PodTemplate['spec']>['containers'];
  if (t.spec.initContainers) t.spec.initContainers = withEnv(t.spec.initContainers);
  // upstream's podGenerateNameWithIndex: "<job>-<index>-", the job name cut so the prefix stays within 58 characters.
  const suffix = `-${index}-`;
  const generateName = `${jobName.slice(0, Math.max(0, 58 - suffix.length))}${suffix}`;
  return { template: t, generateName };
}

// ---------- backoffLimitPerIndex ----------

export const hasBackoffLimitPerIndex = (job: Job): boolean => isIndexedJob(job) && job.spec.backoffLimitPerIndex !== undefined;

/** An annotation's count, 0 when missing, malformed or out of int32 range (upstream's parseInt32 fallback). */
function countAnnotation(pod: Pod, key: string): number {
  const v = pod.metadata.annotations?.[key];
  if (v === undefined || !/^\d+$/.test(v)) return 0;
  const n = Number(v);
  return n > 2147483647 ? 0 : n;
}

export const indexFailureCount = (pod: Pod): number => countAnnotation(pod, JOB_INDEX_FAILURE_COUNT);
export const indexAbsoluteFailureCount = (pod: Pod): number => countAnnotation(pod, JOB_INDEX_FAILURE_COUNT) + countAnnotation(pod, JOB_INDEX_IGNORED_FAILURE_COUNT);

/** upstream's isIndexFailed: a FailIndex rule matched, or the index's counted failures reached backoffLimitPerIndex. */
export function isIndexFailed(job: Job, pod: Pod): boolean {
  if (!isPodFailed(pod, job)) return false;
  let counted = true;
  if (job.spec.podFailurePolicy) {
    const m = matchPodFailurePolicy(job.spec.podFailurePolicy.rules, pod);
    if (m.action === 'FailIndex') return true;
    counted = m.countFailed;
  }
  return counted && indexFailureCount(pod) >= (job.spec.backoffLimitPerIndex ?? 0);
}

/** status.failedIndexes plus the indexes of uncounted pods (still carrying the finalizer) that failed for good. */
export function failedIndexesOf(job: Job, pods: readonly Pod[], previous: string | undefined): Set<number> {
  const completions = job.spec.completions ?? 0;
  const out = new Set(parseIndexes(previous, completions));
  for (const p of pods) {
    const ix = completionIndex(p);
    if (ix !== undefined && ix < completions && hasTrackingFinalizer(p) && isIndexFailed(job, p)) out.add(ix);
  }
  return out;
}

/**
 * upstream's getPodsWithDelayedDeletionPerIndex: per index still to be retried (not succeeded, not failed, no
 * active pod), the latest failed pod; it keeps its finalizer until its replacement exists, which inherits its counts.
 */
export function podsWithDelayedDeletion(job: Job, pods: readonly Pod[], active: readonly Pod[], succeeded: ReadonlySet<number>, failed: ReadonlySet<number>): Map<number, Pod> {
  const completions = job.spec.completions ?? 0;
  const activeIndexes = new Set(active.map(completionIndex).filter((i): i is number => i !== undefined));
  const out = new Map<number, Pod>();
  for (const p of pods) {
    if (!hasTrackingFinalizer(p) || !isPodFailed(p, job)) continue;
    const ix = completionIndex(p);
    if (ix === undefined || ix >= completions || succeeded.has(ix) || failed.has(ix) || activeIndexes.has(ix)) continue;
    const prev = out.get(ix);
    if (!prev || (indexAbsoluteFailureCount(prev) <= indexAbsoluteFailureCount(p) && podFinishedTime(p) >= podFinishedTime(prev))) out.set(ix, p);
  }
  return out;
}

/** The failure-count annotations of the pod replacing `replaced` (upstream's getNewIndexFailureCounts). */
export function replacementFailureCounts(job: Job, replaced: Pod | undefined): Record<string, string> {
  if (!replaced) return { [JOB_INDEX_FAILURE_COUNT]: '0' };
  let count = indexFailureCount(replaced);
  let ignored = countAnnotation(replaced, JOB_INDEX_IGNORED_FAILURE_COUNT);
  if (job.spec.podFailurePolicy && !matchPodFailurePolicy(job.spec.podFailurePolicy.rules, replaced).countFailed) ignored++;
  else count++;
  return { [JOB_INDEX_FAILURE_COUNT]: String(count), ...(ignored > 0 ? { [JOB_INDEX_IGNORED_FAILURE_COUNT]: String(ignored) } : {}) };
}

/** The back-off of one index: from its last failed pod's absolute failure count and finish time. */
export function indexBackoffRemainingMs(replaced: Pod | undefined, now: number): number {
  if (!replaced) return 0;
  return backoffRemainingMs({ failuresAfterLastSuccess: indexAbsoluteFailureCount(replaced) + 1, lastFailureTime: podFinishedTime(replaced) }, now);
}

export const MAX_FAILED_INDEXES_EXCEEDED = { reason: 'MaxFailedIndexesExceeded', message: 'Job has exceeded the specified maximal number of failed indexes' };
export const FAILED_INDEXES = { reason: 'FailedIndexes', message: 'Job has failed indexes' };

// ---------- success policy ----------

/**
 * upstream's matchSuccessPolicy (Indexed Jobs): the first rule whose succeededIndexes all succeeded, or of which
 * at least succeededCount did (or, without succeededIndexes, succeededCount indexes in all), makes the Job succeed
 * early. Returns the SuccessCriteriaMet message.
 */
export function matchSuccessPolicy(rules: readonly SuccessPolicyRule[] | undefined, completions: number, succeeded: ReadonlySet<number>): string | undefined {
  if (!rules || succeeded.size === 0) return undefined;
  for (const [index, rule] of rules.entries()) {
    if (rule.succeededIndexes !== undefined) {
      const required = parseIndexes(rule.succeededIndexes, completions);
      if (required.length === 0) continue;
      const contains = required.filter((i) => succeeded.has(i)).length;
      if (contains === required.length || (rule.succeededCount !== undefined && contains >= rule.succeededCount)) return `Matched rules at index ${index}`;
    } else if (rule.succeededCount !== undefined && succeeded.size >= rule.succeededCount) return `Matched rules at index ${index}`;
  }
  return undefined;
}

// ---------- conditions ----------

export const COMPLETIONS_REACHED = { reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' };
export const BACKOFF_LIMIT_EXCEEDED = { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
export const DEADLINE_EXCEEDED = { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };

export function newCondition(type: string, status: string, reason: string, message: string, now: Date): Condition {
  const t = rfc3339(now);
  return { type, status, reason, message, lastProbeTime: t, lastTransitionTime: t };
}

/**
 * upstream's ensureJobConditionStatus: sets a condition of `type` to the status, reason and message (a new
 * transition time only when one of them changes); a False condition is never added where none was.
 */
export function ensureCondition(list: readonly Condition[], type: string, status: string, reason: string, message: string, now: Date): { conditions: Condition[]; changed: boolean } {
  const i = list.findIndex((c) => c.type === type);
  if (i >= 0) {
    const c = list[i] as Condition;
    if (c.status === status && (c.reason ?? '') === reason && (c.message ?? '') === message) return { conditions: [...list], changed: false };
    const next = [...list];
    next[i] = newCondition(type, status, reason, message, now);
    return { conditions: next, changed: true };
  }
  if (status === 'False') return { conditions: [...list], changed: false };
  return { conditions: [...list, newCondition(type, status, reason, message, now)], changed: true };
}

/** restartPolicy OnFailure: the containers' restarts stand in for failed pods (upstream's pastBackoffLimitOnFailure). */
export function pastBackoffLimitOnFailure(job: Job, pods: readonly Pod[]): boolean {
  if (job.spec.template?.spec?.restartPolicy !== 'OnFailure') return false;
  let restarts = 0;
  for (const p of pods) {
    if (p.status?.phase !== 'Running' && p.status?.phase !== 'Pending') continue;
    for (const cs of [...(p.status?.containerStatuses ?? []), ...((p.status?.initContainerStatuses as Array<{ restartCount?: number }> | undefined) ?? [])]) restarts += cs.restartCount ?? 0;
  }
  const limit = job.spec.backoffLimit ?? 6;
  return limit === 0 ? restarts > 0 : restarts >= limit;
}

/** activeDeadlineSeconds reached since status.startTime (never while suspended). Returns ms left, 0 when past. */
export function activeDeadlineRemainingMs(job: Job, startTime: string | undefined, now: Date): number | undefined {
  if (job.spec.activeDeadlineSeconds === undefined || !startTime || isJobSuspended(job)) return undefined;
  const left = Date.parse(startTime) + job.spec.activeDeadlineSeconds * 1000 - now.getTime();
  return Math.max(0, left);
}

// ---------- pod management ----------

export interface ManageDecision {
  /** Pods to create (NonIndexed), or the indexes to create pods for (Indexed). */
  create: number;
  indexes: number[];
  /** Active pods to delete, best candidates first. */
  delete: Pod[];
  /** Creation held back by the failure back-off for this long. */
  backoffMs: number;
}

/**
 * upstream's manageJob as a decision. Suspended: delete every active pod. Otherwise the active count aims at
 * parallelism, never beyond the completions left (a Job without completions keeps what runs once one pod
 * succeeded); surplus pods go first, then missing pods come, unless the back-off still holds them.
 */
export function manageJob(
  job: Job,
  active: readonly Pod[],
  succeeded: number,
  succeededIndexes: ReadonlySet<number>,
  terminating: number,
  backoffMs: number,
  perIndex: { failed: ReadonlySet<number>; delayed: ReadonlyMap<number, Pod>; now: number } = { failed: new Set(), delayed: new Map(), now: 0 },
): ManageDecision {
  const none: ManageDecision = { create: 0, indexes: [], delete: [], backoffMs: 0 };
  if (isJobSuspended(job)) return { ...none, delete: rankPodsForDeletion([...active]) };
  const parallelism = job.spec.parallelism ?? 1;
  const completions = job.spec.completions;
  let want: number;
  if (completions === undefined) want = succeeded > 0 ? active.length : parallelism;
  else want = Math.max(0, Math.min(completions - succeeded, parallelism));

  let rm: Pod[] = [];
  let left = [...active];
  if (isIndexedJob(job) && completions !== undefined) {
    rm = surplusIndexedPods(active, succeededIndexes, completions);
    left = active.filter((p) => !rm.includes(p));
  }
  const atLeast = Math.max(0, active.length - want);
  if (rm.length < atLeast) rm = [...rm, ...rankPodsForDeletion(left).slice(0, atLeast - rm.length)];
  if (rm.length > 0) return { ...none, delete: rm.slice(0, MAX_POD_CREATE_DELETE_PER_SYNC) };

  const held = onlyReplaceFailedPods(job) ? terminating : 0;
  let diff = want - held - active.length;
  if (diff <= 0) return none;
  const perIndexBackoff = hasBackoffLimitPerIndex(job);
  if (backoffMs > 0 && !perIndexBackoff) return { ...none, backoffMs };
  diff = Math.min(diff, MAX_POD_CREATE_DELETE_PER_SYNC);
  if (isIndexedJob(job) && completions !== undefined) {
    let indexes = firstPendingIndexes(succeededIndexes, active, diff, completions, perIndex.failed);
    if (perIndexBackoff) {
      // Each index waits out its own back-off; when none may start yet, look again at the earliest.
      const waits = indexes.map((ix) => indexBackoffRemainingMs(perIndex.delayed.get(ix), perIndex.now));
      const ready = indexes.filter((_, i) => waits[i] === 0);
      if (ready.length === 0 && indexes.length > 0) return { ...none, backoffMs: Math.min(...waits) };
      indexes = ready;
    }
    return { ...none, create: indexes.length, indexes };
  }
  return { ...none, create: diff };
}

/** Active pods and how many of them are ready (upstream's FilterActivePods and countReadyPods). */
export function activePods(pods: readonly Pod[]): { active: Pod[]; ready: number } {
  const active = pods.filter(isPodActive);
  return { active, ready: active.filter(isPodReady).length };
}
