import { isKnownTimeZone } from '../api/batch/cron.js';
import { hasStatusCode, isNotFound, type Informer, type ResourceRef } from '../client/index.js';
import { Controller, type ControllerContext, type SyncResult } from './controller.js';
import { localTimeZone } from './cron-schedule.js';
import {
  effectiveSchedule,
  isJobSucceeded,
  jobFromTemplate,
  jobNameFor,
  jobsBeyondHistory,
  nextScheduleDelayMs,
  nextScheduleTime,
  parseSchedule,
  rfc1123z,
  type ChildJob,
  type CronJob,
  type ObjectReference,
} from './cronjob.js';
import { finishedCondition } from './job.js';
import { JOBS } from './job-controller.js';
import { clone, controllerRef, errorMessage, jsonEqual, keyOf, rfc3339 } from './objects.js';

export const CRONJOBS: ResourceRef = { group: 'batch', version: 'v1', resource: 'cronjobs' };
const CRONJOB_KIND = { apiVersion: 'batch/v1', kind: 'CronJob' };

const isAlreadyExists = (err: unknown): boolean => hasStatusCode(err, 409);

/**
 * upstream's CronJob controller (v2): each CronJob is looked at when its schedule next fires (the work queue's
 * delayed add), creates the Job of the latest unmet schedule time within startingDeadlineSeconds, honours
 * concurrencyPolicy Allow / Forbid / Replace and suspend, tracks status.active, lastScheduleTime and
 * lastSuccessfulTime from its Jobs, and removes finished Jobs beyond the history limits.
 */
export class CronJobController extends Controller {
  private readonly cronJobs: Informer<CronJob>;
  private readonly jobs: Informer<ChildJob>;
  /** The zone of schedules that name none (upstream: the controller manager's local time). */
  private readonly zone: string;

  constructor(ctx: ControllerContext, zone: string = localTimeZone()) {
    super('cronjob', ctx);
    this.zone = zone;
    this.cronJobs = this.watch<CronJob>(CRONJOBS);
    this.jobs = this.watch<ChildJob>(JOBS);
    this.cronJobs.addHandlers({
      onAdd: (cj) => this.queue.add(keyOf(cj)),
      onUpdate: (old, cj) => this.cronJobUpdated(old, cj),
      onDelete: (cj) => this.queue.add(keyOf(cj)),
    });
    const owner = (j: ChildJob): void => {
      const ref = controllerRef(j);
      if (ref?.kind !== 'CronJob') return;
      const cj = this.cronJobs.get(`${j.metadata.namespace}/${ref.name}`);
      if (cj && cj.metadata.uid === ref.uid) this.queue.add(keyOf(cj));
    };
    this.jobs.addHandlers({ onAdd: owner, onUpdate: (_o, j) => owner(j), onDelete: owner });
  }

  private cronJobUpdated(old: CronJob, cj: CronJob): void {
    // A new schedule or zone: the next run is computed afresh (upstream requeues at it).
    if (old.spec.schedule !== cj.spec.schedule || old.spec.timeZone !== cj.spec.timeZone) {
      const sched = parseSchedule(effectiveSchedule(cj).spec);
      if (!('error' in sched)) {
        const delay = nextScheduleDelayMs(cj, this.now().getTime(), sched, this.zone);
        if (delay !== undefined) {
          this.queue.addAfter(keyOf(cj), Math.max(1, delay));
          return;
        }
      }
    }
    this.queue.add(keyOf(cj));
  }

  private childJobs(cj: CronJob): ChildJob[] {
    return this.jobs.list().filter((j) => {
      const ref = controllerRef(j);
      return j.metadata.namespace === cj.metadata.namespace && ref?.kind === 'CronJob' && ref.name === cj.metadata.name && ref.uid === cj.metadata.uid;
    });
  }

  protected async sync(key: string): Promise<SyncResult> {
    const cached = this.cronJobs.get(key);
    if (!cached) return;
    const cj = clone(cached);
    const jobs = this.childJobs(cj);
    const before = clone(cj.status ?? {});
    const { requeueAfterMs, error } = await this.syncCronJob(cj, jobs);
    if (!cj.metadata.deletionTimestamp) await this.cleanupFinishedJobs(cj, jobs);
    if (!jsonEqual(before, cj.status ?? {})) {
      try {
        await this.client.update(CRONJOBS, cj, 'status');
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    if (error !== undefined) throw error;
    if (requeueAfterMs !== undefined) return { requeueAfterMs: Math.max(1, requeueAfterMs) };
  }

  /** upstream's syncCronJob; updates cj.status in place. */
  private async syncCronJob(cj: CronJob, jobs: ChildJob[]): Promise<{ requeueAfterMs?: number; error?: unknown }> {
    const now = this.now().getTime();
    const status = (cj.status ??= {});
    const active = () => status.active ?? [];
    const children = new Set(jobs.map((j) => j.metadata.uid));
    for (const j of jobs) {
      const listed = active().some((a) => a.uid === j.metadata.uid);
      const finished = finishedCondition(j);
      if (!listed && !finished) {
        // Maybe our own status is behind: look at the stored CronJob before calling the Job unexpected.
        const fresh = await this.client.get<CronJob>(CRONJOBS, cj.metadata.namespace, cj.metadata.name ?? '');
        if ((fresh.status?.active ?? []).some((a) => a.uid === j.metadata.uid)) {
          status.active = fresh.status?.active ?? [];
          continue;
        }
        this.events.event(cj, CRONJOB_KIND, 'Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${j.metadata.name}`);
      } else if (listed && finished) {
        status.active = active().filter((a) => a.uid !== j.metadata.uid);
        this.events.event(cj, CRONJOB_KIND, 'Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata.name}, status: ${finished.type}`);
        if (isJobSucceeded(j)) this.noteSuccess(cj, j);
      } else if (isJobSucceeded(j)) this.noteSuccess(cj, j);
    }
    // Active Jobs that vanished: asked of the API server, not just the cache, before they are dropped.
    for (const ref of active()) {
      if (children.has(ref.uid)) continue;
      try {
        await this.client.get(JOBS, ref.namespace ?? cj.metadata.namespace, ref.name ?? '');
      } catch (err) {
        if (!isNotFound(err)) return { error: err };
        this.events.event(cj, CRONJOB_KIND, 'Normal', 'MissingJob', `Active job went missing: ${ref.name}`);
        status.active = active().filter((a) => a.uid !== ref.uid);
      }
    }
    if (cj.metadata.deletionTimestamp) return {};
    if (cj.spec.timeZone !== undefined && !isKnownTimeZone(cj.spec.timeZone)) {
      this.events.event(cj, CRONJOB_KIND, 'Warning', 'UnknownTimeZone', `invalid timeZone: ${JSON.stringify(cj.spec.timeZone)}: unknown time zone ${cj.spec.timeZone}`);
      return {};
    }
    if (cj.spec.suspend) return {};
    const eff = effectiveSchedule(cj);
    if (eff.tzInSchedule)
      this.events.event(cj, CRONJOB_KIND, 'Warning', 'UnsupportedSchedule', `CRON_TZ or TZ used in schedule ${JSON.stringify(cj.spec.schedule)} is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details`);
    const sched = parseSchedule(eff.spec);
    if ('error' in sched) {
      this.events.event(cj, CRONJOB_KIND, 'Warning', 'UnparseableSchedule', `unparseable schedule: ${JSON.stringify(cj.spec.schedule)} : ${sched.error}`);
      return {};
    }
    const delay = (): number | undefined => nextScheduleDelayMs(cj, now, sched, this.zone);
    const next = nextScheduleTime(cj, now, sched, this.zone);
    if (next.error !== undefined) {
      this.events.event(cj, CRONJOB_KIND, 'Warning', 'InvalidSchedule', `invalid schedule: ${cj.spec.schedule} : ${next.error}`);
      return {};
    }
    if (next.tooManyMissed) this.events.event(cj, CRONJOB_KIND, 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
    const scheduled = next.time;
    if (scheduled === undefined) return { ...opt(delay()) };
    if (cj.spec.startingDeadlineSeconds !== undefined && scheduled + cj.spec.startingDeadlineSeconds * 1000 < now) {
      this.events.event(cj, CRONJOB_KIND, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${rfc1123z(scheduled)}`);
      return { ...opt(delay()) };
    }
    const name = jobNameFor(cj, scheduled);
    if (active().some((a) => a.name === name) || (status.lastScheduleTime && Date.parse(status.lastScheduleTime) === scheduled)) return { ...opt(delay()) };
    if (cj.spec.concurrencyPolicy === 'Forbid' && active().length > 0) {
      this.events.event(cj, CRONJOB_KIND, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      return { ...opt(delay()) };
    }
    if (cj.spec.concurrencyPolicy === 'Replace') {
      for (const ref of active()) {
        let job: ChildJob;
        try {
          job = await this.client.get<ChildJob>(JOBS, ref.namespace ?? cj.metadata.namespace, ref.name ?? '');
        } catch (err) {
          this.events.event(cj, CRONJOB_KIND, 'Warning', 'FailedGet', `Get job: ${errorMessage(err)}`);
          return { error: err };
        }
        if (!(await this.deleteJob(cj, job))) return { error: new Error(`could not replace job ${job.metadata.namespace}/${job.metadata.name}`) };
      }
    }
    const req = jobFromTemplate(cj, scheduled, cj.spec.timeZone || 'UTC');
    let created: ChildJob;
    try {
      created = await this.client.create<ChildJob>(JOBS, cj.metadata.namespace, req);
      this.events.event(cj, CRONJOB_KIND, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata.name}`);
    } catch (err) {
      if (!isAlreadyExists(err)) {
        this.events.event(cj, CRONJOB_KIND, 'Warning', 'FailedCreate', `Error creating job: ${errorMessage(err)}`);
        return { error: err };
      }
      // Created before, by us (status update lost) or by someone else (who keeps the status).
      created = await this.client.get<ChildJob>(JOBS, cj.metadata.namespace, req.metadata.name ?? '');
      if (controllerRef(created)?.uid !== cj.metadata.uid) return {};
      if (active().some((a) => a.uid === created.metadata.uid)) return {};
    }
    const ref: ObjectReference = { kind: 'Job', namespace: created.metadata.namespace ?? '', name: created.metadata.name ?? '', uid: created.metadata.uid ?? '', apiVersion: 'batch/v1', resourceVersion: created.metadata.resourceVersion ?? '' };
    status.active = [...active(), ref];
    status.lastScheduleTime = rfc3339(new Date(scheduled));
    return { ...opt(delay()) };
  }

  private noteSuccess(cj: CronJob, j: ChildJob): void {
    const status = (cj.status ??= {});
    const at = j.status?.completionTime;
    if (!at) return;
    if (!status.lastSuccessfulTime || Date.parse(at) > Date.parse(status.lastSuccessfulTime)) status.lastSuccessfulTime = at;
  }

  /** Deletes a Job (its pods in the background, as upstream's jobControl) and drops it from status.active. */
  private async deleteJob(cj: CronJob, job: ChildJob): Promise<boolean> {
    try {
      await this.client.delete(JOBS, job.metadata.namespace, job.metadata.name ?? '', { propagationPolicy: 'Background' });
    } catch (err) {
      if (!isNotFound(err)) {
        this.events.event(cj, CRONJOB_KIND, 'Warning', 'FailedDelete', `Deleted job: ${errorMessage(err)}`);
        return false;
      }
    }
    if (cj.status) cj.status.active = (cj.status.active ?? []).filter((a) => a.uid !== job.metadata.uid);
    this.events.event(cj, CRONJOB_KIND, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata.name}`);
    return true;
  }

  private async cleanupFinishedJobs(cj: CronJob, jobs: ChildJob[]): Promise<void> {
    for (const j of jobsBeyondHistory(cj, jobs)) await this.deleteJob(cj, j);
  }
}

function opt(ms: number | undefined): { requeueAfterMs?: number } {
  return ms === undefined ? {} : { requeueAfterMs: ms };
}
