import { claimObjects } from './controller-ref-manager.js';
import { selectorFromSpec } from '../api/selectors.js';
import { isNotFound, type Informer, type ResourceRef } from '../client/index.js';
import { Controller, type ControllerContext, type SyncResult } from './controller.js';
import { Expectations } from './expectations.js';
import {
  activeDeadlineRemainingMs,
  activePods,
  BACKOFF_LIMIT_EXCEEDED,
  backoffRemainingMs,
  completionIndex,
  COMPLETIONS_REACHED,
  DEADLINE_EXCEEDED,
  ensureCondition,
  FAILED_INDEXES,
  failedIndexesOf,
  formatIndexes,
  hasBackoffLimitPerIndex,
  hasTrackingFinalizer,
  indexedPodTemplate,
  isIndexedJob,
  isJobFinished,
  isJobSuspended,
  isPodFailed,
  isPodTerminatingUnfinished,
  JOB_TRACKING_FINALIZER,
  jobCondition,
  manageJob,
  matchPodFailurePolicy,
  matchSuccessPolicy,
  MAX_FAILED_INDEXES_EXCEEDED,
  MAX_UNCOUNTED_PODS,
  newCondition,
  nextBackoffRecord,
  parseIndexes,
  pastBackoffLimitOnFailure,
  podsWithDelayedDeletion,
  replacementFailureCounts,
  type BackoffRecord,
  type Job,
  type JobStatus,
} from './job.js';
import { clone, controllerRef, errorMessage, isPodReady, jsonEqual, keyOf, ownerRefFor, R, rfc3339, splitKey, type Condition, type Pod } from './objects.js';
import { claimPods, slowStartBatch } from './replicaset.js';

export const JOBS: ResourceRef = { group: 'batch', version: 'v1', resource: 'jobs' };
const JOB_KIND = { apiVersion: 'batch/v1', kind: 'Job' };
/** The value of spec.managedBy that leaves a Job to this controller. */
const JOB_CONTROLLER_NAME = 'kubernetes.io/job-controller';
const ORPHAN = 'orphan-pod:';

/** backoffLimitPerIndex state of one sync: indexes failed for good, and per index the failed pod a replacement follows. */
interface PerIndex {
  failed: Set<number>;
  delayed: Map<number, Pod>;
  now: number;
}

/**
 * upstream's Job controller: runs a Job's pods to completion (parallelism, completions, Indexed completion mode),
 * recreates failed pods after an exponential back-off until backoffLimit, enforces activeDeadlineSeconds and the pod
 * failure policy, suspends and resumes, and reports status and conditions. Finished pods are counted through the
 * batch.kubernetes.io/job-tracking finalizer and status.uncountedTerminatedPods, as upstream does, so that no
 * success or failure is lost or counted twice when pods are removed or the controller restarts.
 */
export class JobController extends Controller {
  readonly expectations: Expectations;
  private readonly jobs: Informer<Job>;
  private readonly pods: Informer<Pod>;
  /** Pod UIDs per Job whose finalizer removal was sent but not yet seen (upstream's finalizerExpectations). */
  private readonly finalizerRemovals = new Map<string, Set<string>>();
  /** Failures since the last success, per Job (upstream's podBackoffStore). */
  private readonly backoff = new Map<string, BackoffRecord>();

  constructor(ctx: ControllerContext) {
    super('job', ctx);
    this.expectations = new Expectations(() => this.now().getTime());
    this.jobs = this.watch<Job>(JOBS);
    this.pods = this.watch<Pod>(R.pods);
    this.jobs.addHandlers({
      onAdd: (j) => this.queue.add(keyOf(j)),
      onUpdate: (old, j) => this.jobUpdated(old, j),
      onDelete: (j) => {
        this.queue.add(keyOf(j));
        this.cleanupPodFinalizers(j);
      },
    });
    this.pods.addHandlers({
      onAdd: (p) => this.podAdded(p),
      onUpdate: (old, p) => this.podUpdated(old, p),
      onDelete: (p) => this.podDeleted(p, true),
    });
  }

  private jobUpdated(old: Job, job: Job): void {
    this.queue.add(keyOf(job));
    // The Job should not finish while pods keep the finalizer; this is the backup.
    if (isJobFinished(job)) this.cleanupPodFinalizers(job);
    // A changed activeDeadlineSeconds: look again when it passes.
    const start = job.status?.startTime;
    if (start && job.spec.activeDeadlineSeconds !== undefined && job.spec.activeDeadlineSeconds !== old.spec.activeDeadlineSeconds) {
      const left = activeDeadlineRemainingMs(job, start, this.now());
      if (left !== undefined) this.queue.addAfter(keyOf(job), left + 1);
    }
  }

  /** Every pod of the Job still carrying the tracking finalizer is looked at as an orphan. */
  private cleanupPodFinalizers(job: Job): void {
    for (const p of this.pods.list()) {
      if (p.metadata.namespace === job.metadata.namespace && hasTrackingFinalizer(p) && controllerRef(p)?.uid === job.metadata.uid) this.queue.add(ORPHAN + keyOf(p));
    }
  }

  private resolve(pod: Pod): Job | undefined {
    const ref = controllerRef(pod);
    if (!ref || ref.kind !== 'Job') return undefined;
    const job = this.jobs.get(`${pod.metadata.namespace}/${ref.name}`);
    return job && job.metadata.uid === ref.uid ? job : undefined;
  }

  private finalizerRemovalObserved(jobKey: string, uid: string | undefined): void {
    const set = this.finalizerRemovals.get(jobKey);
    if (set && uid) set.delete(uid);
  }

  private enqueueMatching(pod: Pod): void {
    for (const j of this.jobs.list()) {
      if (j.metadata.namespace !== pod.metadata.namespace || !j.spec.selector) continue;
      if (claimPods(j.metadata.uid ?? '', false, selectorFromSpec(j.spec.selector as Parameters<typeof selectorFromSpec>[0]), [pod]).adopt.length) this.queue.add(keyOf(j));
    }
  }

  private podAdded(pod: Pod): void {
    if (pod.metadata.deletionTimestamp) return this.podDeleted(pod, false);
    const job = this.resolve(pod);
    if (job) {
      this.expectations.creationObserved(keyOf(job));
      this.queue.add(keyOf(job));
      return;
    }
    if (hasTrackingFinalizer(pod)) this.queue.add(ORPHAN + keyOf(pod));
    if (!controllerRef(pod)) this.enqueueMatching(pod);
  }

  private podUpdated(old: Pod, pod: Pod): void {
    if (old.metadata.resourceVersion === pod.metadata.resourceVersion) return;
    if (pod.metadata.deletionTimestamp) return this.podDeleted(pod, false);
    const removed = !hasTrackingFinalizer(pod);
    const oldRef = controllerRef(old);
    const ref = controllerRef(pod);
    if (oldRef && oldRef.uid !== ref?.uid) {
      const prev = this.resolve(old);
      if (prev) {
        if (removed) this.finalizerRemovalObserved(keyOf(prev), pod.metadata.uid);
        this.queue.add(keyOf(prev));
      }
    }
    const job = this.resolve(pod);
    if (job) {
      if (removed) this.finalizerRemovalObserved(keyOf(job), pod.metadata.uid);
      this.queue.add(keyOf(job));
      return;
    }
    if (hasTrackingFinalizer(pod)) this.queue.add(ORPHAN + keyOf(pod));
    if (!ref && (!jsonEqual(old.metadata.labels, pod.metadata.labels) || oldRef)) this.enqueueMatching(pod);
  }

  private podDeleted(pod: Pod, final: boolean): void {
    const job = this.resolve(pod);
    if (!job || isJobFinished(job)) {
      if (hasTrackingFinalizer(pod) && !final) this.queue.add(ORPHAN + keyOf(pod));
      return;
    }
    const key = keyOf(job);
    this.expectations.deletionObserved(key, keyOf(pod));
    if (final || !hasTrackingFinalizer(pod)) this.finalizerRemovalObserved(key, pod.metadata.uid);
    this.queue.add(key);
  }

  protected async sync(key: string): Promise<SyncResult> {
    if (key.startsWith(ORPHAN)) return this.syncOrphanPod(key.slice(ORPHAN.length));
    const cached = this.jobs.get(key);
    if (!cached) {
      this.expectations.delete(key);
      this.finalizerRemovals.delete(key);
      this.backoff.delete(key);
      return;
    }
    if (cached.spec.managedBy !== undefined && cached.spec.managedBy !== JOB_CONTROLLER_NAME) return;
    if (isJobFinished(cached)) {
      this.backoff.delete(key);
      return;
    }
    const job = clone(cached);
    if (job.spec.completionMode !== undefined && job.spec.completionMode !== 'NonIndexed' && job.spec.completionMode !== 'Indexed') {
      this.events.event(job, JOB_KIND, 'Warning', 'UnknownCompletionMode', 'Skipped Job sync because completion mode is unknown');
      return;
    }
    const now = this.now();
    const { namespace } = splitKey(key);
    const ns = namespace ?? 'default';
    const status: JobStatus = { ...(job.status ?? {}) };
    const uncounted = { succeeded: new Set(status.uncountedTerminatedPods?.succeeded ?? []), failed: new Set(status.uncountedTerminatedPods?.failed ?? []) };
    // Expectations first: a pod that appears after this check is seen by the next sync.
    const satisfied = this.expectations.satisfied(key);
    const pods = await this.podsForJob(job, ns);
    const expectedRm = this.finalizerRemovals.get(key) ?? new Set<string>();
    const { active: activeList, ready: readyCount } = activePods(pods);
    let active = activeList.length;
    let ready = readyCount;
    let terminating = pods.filter(isPodTerminatingUnfinished).length;
    const completions = job.spec.completions;
    const indexed = isIndexedJob(job);
    const rules = job.spec.podFailurePolicy?.rules;

    // Finished pods not yet counted: they still carry the finalizer and are in no uncounted list.
    const fresh = (p: Pod): boolean => {
      const uid = p.metadata.uid ?? '';
      if (!hasTrackingFinalizer(p) || expectedRm.has(uid)) return false;
      if (indexed) {
        const ix = completionIndex(p);
        if (ix === undefined || ix >= (completions ?? 0)) return false;
      }
      return true;
    };
    const newSucceeded = pods.filter((p) => fresh(p) && !uncounted.succeeded.has(p.metadata.uid ?? '') && p.status?.phase === 'Succeeded');
    const newFailed = pods.filter((p) => fresh(p) && !uncounted.failed.has(p.metadata.uid ?? '') && isPodFailed(p, job));
    let succeeded = (status.succeeded ?? 0) + newSucceeded.length + uncounted.succeeded.size;
    const failed = (status.failed ?? 0) + newFailed.filter((p) => matchPodFailurePolicy(rules, p).countFailed).length + uncounted.failed.size;

    if (!status.startTime && !isJobSuspended(job)) status.startTime = rfc3339(now);
    const backoff = nextBackoffRecord(this.backoff.get(key), newSucceeded, newFailed);
    let requeueAfterMs: number | undefined;

    // The terminal decision: an interim SuccessCriteriaMet or FailureTarget first, Complete or Failed once no pod is left running.
    let finished: Condition | undefined = jobCondition(job, 'SuccessCriteriaMet')?.status === 'True' ? jobCondition(job, 'SuccessCriteriaMet') : undefined;
    if (!finished) {
      const target = jobCondition(job, 'FailureTarget');
      if (target?.status === 'True') finished = target;
      else {
        const msg = rules ? pods.filter((p) => isPodFailed(p, job)).map((p) => matchPodFailurePolicy(rules, p).failJobMessage).find((m) => m !== undefined) : undefined;
        if (msg !== undefined) finished = newCondition('FailureTarget', 'True', 'PodFailurePolicy', msg, now);
      }
    }
    if (!finished) {
      const deadline = activeDeadlineRemainingMs(job, status.startTime, now);
      if (failed > (job.spec.backoffLimit ?? 6) || pastBackoffLimitOnFailure(job, pods)) finished = newCondition('FailureTarget', 'True', BACKOFF_LIMIT_EXCEEDED.reason, BACKOFF_LIMIT_EXCEEDED.message, now);
      else if (deadline === 0) finished = newCondition('FailureTarget', 'True', DEADLINE_EXCEEDED.reason, DEADLINE_EXCEEDED.message, now);
      else if (deadline !== undefined) requeueAfterMs = deadline + 1;
    }

    let succeededIndexes = new Set<number>();
    let perIndex: PerIndex | undefined;
    if (indexed) {
      succeededIndexes = new Set(parseIndexes(status.completedIndexes, completions ?? 0));
      for (const p of pods) {
        const ix = completionIndex(p);
        if (p.status?.phase === 'Succeeded' && ix !== undefined && ix < (completions ?? 0) && (hasTrackingFinalizer(p) || succeededIndexes.has(ix))) succeededIndexes.add(ix);
      }
      succeeded = succeededIndexes.size;
      if (hasBackoffLimitPerIndex(job)) {
        const valid = pods.filter((p) => !expectedRm.has(p.metadata.uid ?? ''));
        const failedIndexes = failedIndexesOf(job, valid, status.failedIndexes);
        perIndex = { failed: failedIndexes, delayed: podsWithDelayedDeletion(job, valid, activeList, succeededIndexes, failedIndexes), now: now.getTime() };
        if (!finished) {
          if (job.spec.maxFailedIndexes !== undefined && failedIndexes.size > job.spec.maxFailedIndexes) finished = newCondition('FailureTarget', 'True', MAX_FAILED_INDEXES_EXCEEDED.reason, MAX_FAILED_INDEXES_EXCEEDED.message, now);
          else if (failedIndexes.size > 0 && failedIndexes.size + succeededIndexes.size >= (completions ?? 0)) finished = newCondition('FailureTarget', 'True', FAILED_INDEXES.reason, FAILED_INDEXES.message, now);
        }
      }
      if (!finished) {
        const msg = matchSuccessPolicy(job.spec.successPolicy?.rules, completions ?? 0, succeededIndexes);
        if (msg !== undefined) finished = newCondition('SuccessCriteriaMet', 'True', 'SuccessPolicy', msg, now);
      }
    }

    let suspendChanged = false;
    let manageError: unknown;
    if (finished) {
      // Failing: every active pod goes (finalizers stay until they are counted).
      const r = await this.deletePods(job, key, ns, activeList, false);
      if (r.deleted !== active || !satisfied) finished = undefined;
      active -= r.deleted;
      terminating += r.deleted;
      ready -= r.deletedReady;
      manageError = r.error;
    } else {
      let managed = false;
      if (satisfied && !job.metadata.deletionTimestamp) {
        managed = true;
        const decision = manageJob(job, activeList, succeeded, succeededIndexes, terminating, backoffRemainingMs(backoff, now.getTime()), perIndex);
        if (decision.delete.length) {
          const r = await this.deletePods(job, key, ns, decision.delete, true);
          active -= r.deleted;
          terminating += r.deleted;
          ready -= r.deletedReady;
          manageError = r.error;
        } else if (decision.backoffMs > 0) {
          requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, Math.max(1000, decision.backoffMs));
        } else if (decision.create > 0) {
          const r = await this.createPods(job, key, ns, decision.create, decision.indexes, perIndex);
          active += r.created;
          manageError = r.error;
        }
      }
      const complete = completions === undefined ? succeeded > 0 && active === 0 : succeeded >= completions && active === 0;
      if (complete) finished = newCondition('SuccessCriteriaMet', 'True', COMPLETIONS_REACHED.reason, COMPLETIONS_REACHED.message, now);
      else if (managed) {
        const suspended = isJobSuspended(job);
        const r = suspended
          ? ensureCondition(status.conditions ?? [], 'Suspended', 'True', 'JobSuspended', 'Job suspended', now)
          : ensureCondition(status.conditions ?? [], 'Suspended', 'False', 'JobResumed', 'Job resumed', now);
        if (r.changed) {
          suspendChanged = true;
          status.conditions = r.conditions;
          this.events.event(job, JOB_KIND, 'Normal', suspended ? 'Suspended' : 'Resumed', suspended ? 'Job suspended' : 'Job resumed');
          // A resumed Job starts its activeDeadlineSeconds afresh.
          if (!suspended) status.startTime = rfc3339(now);
        }
      }
    }

    const needsUpdate = suspendChanged || active !== (status.active ?? 0) || ready !== status.ready || terminating !== status.terminating || status.startTime !== job.status?.startTime;
    status.active = active;
    status.ready = ready;
    status.terminating = terminating;
    await this.trackStatus(job, key, ns, pods, status, uncounted, expectedRm, finished, succeededIndexes, perIndex, backoff, needsUpdate, now);
    if (manageError !== undefined) throw manageError;
    if (requeueAfterMs !== undefined) return { requeueAfterMs };
  }

  /**
   * upstream's trackJobStatusAndRemoveFinalizers: finished pods go into status.uncountedTerminatedPods (written
   * first), then lose the finalizer, then move into succeeded/failed; the terminal condition comes last, once
   * nothing is left uncounted or terminating.
   */
  private async trackStatus(
    job: Job,
    key: string,
    ns: string,
    pods: Pod[],
    status: JobStatus,
    uncounted: { succeeded: Set<string>; failed: Set<string> },
    expectedRm: Set<string>,
    finishedIn: Condition | undefined,
    succeededIndexes: Set<number>,
    perIndex: PerIndex | undefined,
    backoff: BackoffRecord,
    needsUpdateIn: boolean,
    now: Date,
  ): Promise<void> {
    let needsFlush = needsUpdateIn;
    let finished = finishedIn;
    const indexed = isIndexedJob(job);
    const completions = job.spec.completions ?? 0;
    const rules = job.spec.podFailurePolicy?.rules;
    const withFinalizer = new Set(pods.filter((p) => hasTrackingFinalizer(p) && !expectedRm.has(p.metadata.uid ?? '')).map((p) => p.metadata.uid ?? ''));
    if (this.countRemoved(status, uncounted, withFinalizer)) needsFlush = true;
    const toRemove: Pod[] = [];
    const prevIndexes = formatIndexes(parseIndexes(status.completedIndexes, completions));
    let reachedMax = false;
    for (const pod of pods) {
      const uid = pod.metadata.uid ?? '';
      if (!hasTrackingFinalizer(pod) || expectedRm.has(uid)) continue;
      const failedPod = isPodFailed(pod, job);
      let canRemove = !!job.metadata.deletionTimestamp || finished !== undefined || pod.status?.phase === 'Succeeded' || failedPod;
      // The last failed pod of an index to be retried keeps its finalizer until its replacement exists.
      if (canRemove && !job.metadata.deletionTimestamp && finished === undefined && pod.status?.phase !== 'Succeeded') {
        const ix = completionIndex(pod);
        if (ix !== undefined && perIndex?.delayed.get(ix)?.metadata.uid === uid) canRemove = false;
      }
      if (!canRemove) continue;
      toRemove.push(pod);
      if (pod.status?.phase === 'Succeeded' && !uncounted.failed.has(uid)) {
        if (!indexed && !uncounted.succeeded.has(uid)) {
          uncounted.succeeded.add(uid);
          needsFlush = true;
        }
      } else if (failedPod || (finished !== undefined && finished.type !== 'SuccessCriteriaMet')) {
        const ix = completionIndex(pod);
        if (!uncounted.failed.has(uid) && (!indexed || (ix !== undefined && ix < completions)) && matchPodFailurePolicy(rules, pod).countFailed) {
          uncounted.failed.add(uid);
          needsFlush = true;
        }
      }
      if (uncounted.succeeded.size + uncounted.failed.size >= MAX_UNCOUNTED_PODS) {
        reachedMax = true;
        break;
      }
    }
    if (indexed) {
      const s = formatIndexes(succeededIndexes);
      if (s !== prevIndexes || s !== (status.completedIndexes ?? '')) needsFlush = true;
      status.succeeded = succeededIndexes.size;
      if (s) status.completedIndexes = s;
      else delete status.completedIndexes;
      if (perIndex) {
        const f = formatIndexes(perIndex.failed);
        if (f !== status.failedIndexes) needsFlush = true;
        status.failedIndexes = f;
      }
    }
    if (finished?.type === 'FailureTarget') {
      if (jobCondition({ ...job, status }, 'FailureTarget')?.status !== 'True') {
        status.conditions = [...(status.conditions ?? []), finished];
        needsFlush = true;
      }
      finished = newCondition('Failed', 'True', finished.reason ?? '', finished.message ?? '', now);
    }
    if (finished?.type === 'SuccessCriteriaMet') {
      if (jobCondition({ ...job, status }, 'SuccessCriteriaMet')?.status !== 'True') {
        status.conditions = [...(status.conditions ?? []), finished];
        needsFlush = true;
      }
      finished = newCondition('Complete', 'True', finished.reason ?? '', finished.message ?? '', now);
    }
    this.setUncounted(status, uncounted);
    let current = job;
    if (needsFlush) {
      current = await this.writeStatus(job, status);
      this.backoff.set(key, backoff);
      needsFlush = false;
    }
    // Finalizers off the pods now recorded as uncounted (or succeeded indexes), then the counters move.
    let rmError: unknown;
    if (toRemove.length) {
      let set = this.finalizerRemovals.get(key);
      if (!set) this.finalizerRemovals.set(key, (set = new Set()));
      const results = await Promise.allSettled(toRemove.map((p) => this.removeFinalizer(ns, p)));
      results.forEach((r, i) => {
        const uid = toRemove[i]?.metadata.uid ?? '';
        if (r.status === 'fulfilled' || isNotFound(r.reason)) {
          set.add(uid);
          withFinalizer.delete(uid);
        } else rmError ??= r.reason;
      });
    }
    if (this.countRemoved(status, uncounted, withFinalizer)) needsFlush = true;
    this.setUncounted(status, uncounted);
    // Terminal only once every finished pod is counted and none is still terminating.
    let jobFinished = false;
    if (finished && !reachedMax && uncounted.succeeded.size + uncounted.failed.size === 0 && (status.terminating ?? 0) === 0) {
      status.conditions = ensureCondition(status.conditions ?? [], finished.type, finished.status, finished.reason ?? '', finished.message ?? '', now).conditions;
      if (finished.type === 'Complete') status.completionTime = finished.lastTransitionTime ?? rfc3339(now);
      jobFinished = true;
      needsFlush = true;
    }
    if (needsFlush) {
      current = await this.writeStatus(current, status);
      if (jobFinished) {
        if (finished?.type === 'Complete') {
          if (job.spec.completions !== undefined && (status.succeeded ?? 0) > job.spec.completions) this.events.event(current, JOB_KIND, 'Warning', 'TooManySucceededPods', 'Too many succeeded pods running after completion count reached');
          this.events.event(current, JOB_KIND, 'Normal', 'Completed', 'Job completed');
        } else if (finished) this.events.event(current, JOB_KIND, 'Warning', finished.reason ?? 'Failed', finished.message ?? '');
      }
    }
    if (rmError !== undefined) throw rmError;
  }

  /** Uncounted UIDs whose pods lost the finalizer (or are gone) move into status.succeeded / status.failed. */
  private countRemoved(status: JobStatus, uncounted: { succeeded: Set<string>; failed: Set<string> }, withFinalizer: Set<string>): boolean {
    let changed = false;
    for (const which of ['succeeded', 'failed'] as const) {
      for (const uid of [...uncounted[which]]) {
        if (withFinalizer.has(uid)) continue;
        uncounted[which].delete(uid);
        status[which] = (status[which] ?? 0) + 1;
        changed = true;
      }
    }
    return changed;
  }

  private setUncounted(status: JobStatus, uncounted: { succeeded: Set<string>; failed: Set<string> }): void {
    status.uncountedTerminatedPods = {
      ...(uncounted.succeeded.size ? { succeeded: [...uncounted.succeeded] } : {}),
      ...(uncounted.failed.size ? { failed: [...uncounted.failed] } : {}),
    };
  }

  private async writeStatus(job: Job, status: JobStatus): Promise<Job> {
    const st: JobStatus = { ...status };
    if (!st.succeeded) delete st.succeeded;
    if (!st.failed) delete st.failed;
    if (!st.active) delete st.active;
    return this.client.update<Job>(JOBS, { ...job, status: st }, 'status');
  }

  private async removeFinalizer(ns: string, pod: Pod): Promise<void> {
    // A strategic merge patch that removes only this finalizer, whatever others come and go meanwhile.
    await this.client.patch(R.pods, ns, pod.metadata.name ?? '', { metadata: { uid: pod.metadata.uid, '$deleteFromPrimitiveList/finalizers': [JOB_TRACKING_FINALIZER] } }, 'strategic');
  }

  /** The Job's pods: owned ones, orphans it adopts (gaining the tracking finalizer), minus the ones it releases. */
  private async podsForJob(job: Job, ns: string): Promise<Pod[]> {
    const selector = job.spec.selector ? selectorFromSpec(job.spec.selector as Parameters<typeof selectorFromSpec>[0]) : 'nothing';
    const candidates = this.pods.list().filter((p) => p.metadata.namespace === ns);
    return claimObjects(this.client, R.pods, job, ownerRefFor(job, JOB_KIND.apiVersion, JOB_KIND.kind), selector, candidates, {
      adoptMetadata: (pod) => ({ finalizers: [...new Set([...(pod.metadata.finalizers ?? []), JOB_TRACKING_FINALIZER])] }),
    });
  }

  private async createPods(job: Job, key: string, ns: string, count: number, indexes: number[], perIndex: PerIndex | undefined): Promise<{ created: number; error?: unknown }> {
    this.expectations.expectCreations(key, count);
    const template = job.spec.template ?? {};
    const ref = ownerRefFor(job, JOB_KIND.apiVersion, JOB_KIND.kind);
    const queue = [...indexes];
    const r = await slowStartBatch(count, 1, async () => {
      const ix = queue.shift();
      const { template: t, generateName } = ix === undefined ? { template, generateName: `${job.metadata.name}-` } : indexedPodTemplate(job.metadata.name ?? '', template, ix);
      const finalizers = [...new Set([...((t.metadata?.finalizers as string[] | undefined) ?? []), JOB_TRACKING_FINALIZER])];
      const counts = perIndex && ix !== undefined ? replacementFailureCounts(job, perIndex.delayed.get(ix)) : undefined;
      const annotations = { ...(t.metadata?.annotations ?? {}), ...(counts ?? {}) };
      const body: Pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          generateName,
          namespace: ns,
          ...(t.metadata?.labels ? { labels: { ...t.metadata.labels } } : {}),
          ...(Object.keys(annotations).length ? { annotations } : {}),
          finalizers,
          ownerReferences: [ref],
        },
        spec: clone(t.spec ?? {}),
      };
      try {
        const pod = await this.client.create(R.pods, ns, body);
        this.events.event(job, JOB_KIND, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
      } catch (err) {
        this.events.event(job, JOB_KIND, 'Warning', 'FailedCreate', `Error creating: ${errorMessage(err)}`);
        throw err;
      }
    });
    if (r.error !== undefined) this.expectations.lowerCreations(key, count - r.done);
    return { created: r.done, ...(r.error !== undefined ? { error: r.error } : {}) };
  }

  /**
   * Deletes pods; with `dropFinalizer` (scale-down, suspension) the finalizer goes first, as upstream's
   * deleteJobPods, since such pods are not counted; a failing Job keeps them so they are counted as failed.
   */
  private async deletePods(job: Job, key: string, ns: string, pods: Pod[], dropFinalizer: boolean): Promise<{ deleted: number; deletedReady: number; error?: unknown }> {
    if (!pods.length) return { deleted: 0, deletedReady: 0 };
    if (dropFinalizer) this.expectations.expectDeletions(key, pods.map((p) => keyOf(p)));
    let deleted = 0;
    let deletedReady = 0;
    let error: unknown;
    await Promise.all(
      pods.map(async (pod) => {
        const name = pod.metadata.name ?? '';
        try {
          if (dropFinalizer && hasTrackingFinalizer(pod)) await this.removeFinalizer(ns, pod);
          await this.client.delete(R.pods, ns, name);
          this.events.event(job, JOB_KIND, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
          deleted++;
          if (isPodReady(pod)) deletedReady++;
        } catch (err) {
          if (dropFinalizer) this.expectations.deletionObserved(key, keyOf(pod));
          if (isNotFound(err)) {
            deleted++;
            return;
          }
          error ??= err;
          this.events.event(job, JOB_KIND, 'Warning', 'FailedDelete', `Error deleting: ${errorMessage(err)}`);
        }
      }),
    );
    return { deleted, deletedReady, ...(error !== undefined ? { error } : {}) };
  }

  /** upstream's syncOrphanPod: the finalizer comes off a pod whose Job is gone, finished, or is not a Job at all. */
  private async syncOrphanPod(podKey: string): Promise<SyncResult> {
    const pod = this.pods.get(podKey);
    if (!pod || !hasTrackingFinalizer(pod)) return;
    const ref = controllerRef(pod);
    if (ref) {
      if (ref.kind !== 'Job' || ref.apiVersion !== 'batch/v1') return;
      const job = this.resolve(pod);
      if (job && !isJobFinished(job)) return;
    }
    try {
      await this.removeFinalizer(pod.metadata.namespace ?? 'default', pod);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
