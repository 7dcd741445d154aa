import { isNotFound, type Informer } from '../client/index.js';
import { Controller, type ControllerContext, type SyncResult } from './controller.js';
import { finishedCondition, type Job } from './job.js';
import { JOBS } from './job-controller.js';
import { keyOf } from './objects.js';

/** Whether a finished Job's TTL is set (upstream's needsCleanup). */
export function needsCleanup(job: Job): boolean {
  return job.spec.ttlSecondsAfterFinished !== undefined && finishedCondition(job) !== undefined;
}

/**
 * When a finished Job expires: its Complete or Failed condition's lastTransitionTime plus ttlSecondsAfterFinished.
 * An error when the condition carries no time (upstream refuses to guess).
 */
export function expiresAt(job: Job): number {
  const c = finishedCondition(job);
  const at = c?.lastTransitionTime ? Date.parse(c.lastTransitionTime) : NaN;
  if (Number.isNaN(at)) throw new Error(`unable to find the time when the Job ${job.metadata.namespace}/${job.metadata.name} finished`);
  return at + (job.spec.ttlSecondsAfterFinished ?? 0) * 1000;
}

/** ms until the Job may be deleted (≤ 0: now); undefined when it is not to be cleaned up or is being deleted. */
export function ttlRemainingMs(job: Job, now: number): number | undefined {
  if (job.metadata.deletionTimestamp || !needsCleanup(job)) return undefined;
  return expiresAt(job) - now;
}

/**
 * upstream's TTL-after-finished controller: deletes a finished Job ttlSecondsAfterFinished after it finished,
 * in the foreground (its pods go first) and only if it is still the same Job with the same TTL when read afresh.
 */
export class TtlAfterFinishedController extends Controller {
  private readonly jobs: Informer<Job>;

  constructor(ctx: ControllerContext) {
    super('ttl-after-finished', ctx);
    this.jobs = this.watch<Job>(JOBS);
    const enqueue = (j: Job): void => {
      if (!j.metadata.deletionTimestamp && needsCleanup(j)) this.queue.add(keyOf(j));
    };
    this.jobs.addHandlers({ onAdd: enqueue, onUpdate: (_o, j) => enqueue(j) });
  }

  protected async sync(key: string): Promise<SyncResult> {
    const cached = this.jobs.get(key);
    if (!cached) return;
    const now = this.now().getTime();
    const left = ttlRemainingMs(cached, now);
    if (left === undefined) return;
    if (left > 0) return { requeueAfterMs: left };
    // The cache may be stale (a TTL just raised): decide again on the stored Job.
    let fresh: Job;
    try {
      fresh = await this.client.get<Job>(JOBS, cached.metadata.namespace, cached.metadata.name ?? '');
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    const freshLeft = ttlRemainingMs(fresh, now);
    if (freshLeft === undefined) return;
    if (freshLeft > 0) return { requeueAfterMs: freshLeft };
    this.logger.debug({ job: key }, 'cleaning up Job');
    try {
      await this.client.delete(JOBS, fresh.metadata.namespace, fresh.metadata.name ?? '', { propagationPolicy: 'Foreground', preconditions: { uid: fresh.metadata.uid ?? '' } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
