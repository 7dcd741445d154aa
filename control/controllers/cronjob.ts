/**
 * The CronJob controller's decisions on plain data (upstream's pkg/controller/cronjob, v2): the most recent unmet
 * schedule time, when to look again, the Job a schedule creates and its name, and which finished Jobs the history
 * limits remove. The clock is a parameter everywhere.
 */
import { CronError, isKnownTimeZone, parseCronSchedule, type CronSchedule } from '../api/batch/cron.js';
import { nextActivation, wallClock, zoneOffsetMs } from './cron-schedule.js';
import { finishedCondition } from './job.js';
import { rfc3339, type Condition, type Obj, type OwnerReference } from './objects.js';

export const CRONJOB_SCHEDULED_TIMESTAMP = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
/** upstream's nextScheduleDelta: a requeue lands this long after the schedule time, against clock skew. */
export const NEXT_SCHEDULE_DELTA_MS = 100;
/** More missed start times than this and upstream warns (TooManyMissedTimes). */
export const MANY_MISSED = 100;

export interface ObjectReference {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
}

export interface CronJob extends Obj {
  spec: {
    schedule: string;
    timeZone?: string;
    startingDeadlineSeconds?: number;
    concurrencyPolicy?: string;
    suspend?: boolean;
    jobTemplate?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Record<string, unknown> };
    successfulJobsHistoryLimit?: number;
    failedJobsHistoryLimit?: number;
  };
  status?: { active?: ObjectReference[]; lastScheduleTime?: string; lastSuccessfulTime?: string };
}

export interface ChildJob extends Obj {
  spec?: Record<string, unknown>;
  status?: { conditions?: Condition[]; startTime?: string; completionTime?: string };
}

/** The schedule the controller runs: spec.timeZone becomes a TZ= prefix unless the schedule carries its own. */
export function effectiveSchedule(cj: CronJob): { spec: string; tzInSchedule: boolean } {
  if (cj.spec.schedule.includes('TZ')) return { spec: cj.spec.schedule, tzInSchedule: true };
  if (cj.spec.timeZone !== undefined && isKnownTimeZone(cj.spec.timeZone)) return { spec: cj.spec.timeZone ? `TZ=${cj.spec.timeZone} ${cj.spec.schedule}` : cj.spec.schedule, tzInSchedule: false };
  return { spec: cj.spec.schedule, tzInSchedule: false };
}

export function parseSchedule(spec: string): CronSchedule | { error: string } {
  try {
    return parseCronSchedule(spec);
  } catch (err) {
    return { error: err instanceof CronError ? err.message : String(err) };
  }
}

export type Missed = 'none' | 'few' | 'many';

export interface MostRecent {
  /** The last schedule time, else the CronJob's creation (later of it and the starting deadline when asked). */
  earliest: number;
  /** The latest schedule time at or before now after `earliest`, if any. */
  mostRecent?: number;
  missed: Missed;
  error?: string;
}

/**
 * upstream's mostRecentScheduleTime: from the last schedule time (or creation) to now, the latest activation, and
 * how many were missed (estimated from the spacing of the first two, as upstream does, so decades of missed
 * minutes cost nothing to count).
 */
export function mostRecentScheduleTime(cj: CronJob, now: number, sched: CronSchedule, includeStartingDeadline: boolean, zone?: string): MostRecent {
  let earliest = Date.parse(cj.status?.lastScheduleTime ?? cj.metadata.creationTimestamp ?? '') || now;
  if (includeStartingDeadline && cj.spec.startingDeadlineSeconds !== undefined) earliest = Math.max(earliest, now - cj.spec.startingDeadlineSeconds * 1000);
  const t1 = nextActivation(sched, earliest, zone);
  if (t1 === undefined || now < t1) return { earliest, missed: 'none' };
  const t2 = nextActivation(sched, t1, zone);
  if (t2 === undefined || now < t2) return { earliest, mostRecent: t1, missed: 'none' };
  const between = Math.round((t2 - t1) / 1000);
  if (between < 1) return { earliest, missed: 'none', error: 'time difference between two schedules is less than 1 second' };
  const elapsed = Math.floor((now - t1) / 1000);
  const missedCount = Math.floor(elapsed / between) + 1;
  // Start a little before the estimate and let the schedule find the true latest time (irregular schedules).
  const from = t1 + (missedCount - 2) * between * 1000;
  let mostRecent: number | undefined;
  for (let t = nextActivation(sched, from, zone); t !== undefined && t <= now; t = nextActivation(sched, t, zone)) mostRecent = t;
  const missed: Missed = missedCount > MANY_MISSED ? 'many' : missedCount > 0 ? 'few' : 'none';
  return { earliest, ...(mostRecent !== undefined ? { mostRecent } : {}), missed };
}

/** upstream's nextScheduleTimeDuration: how long until the next activation after the most recent one (plus 100 ms). */
export function nextScheduleDelayMs(cj: CronJob, now: number, sched: CronSchedule, zone?: string): number | undefined {
  const r = mostRecentScheduleTime(cj, now, sched, false, zone);
  const base = r.error !== undefined ? now : (r.mostRecent ?? (r.missed === 'none' ? r.earliest : now));
  const next = nextActivation(sched, base, zone);
  return next === undefined ? undefined : next + NEXT_SCHEDULE_DELTA_MS - now;
}

/** upstream's nextScheduleTime: the unmet schedule time to run now, if any, and whether too many were missed. */
export function nextScheduleTime(cj: CronJob, now: number, sched: CronSchedule, zone?: string): { time?: number; tooManyMissed: boolean; error?: string } {
  const r = mostRecentScheduleTime(cj, now, sched, true, zone);
  if (r.mostRecent === undefined || r.mostRecent > now) return { tooManyMissed: false, ...(r.error !== undefined ? { error: r.error } : {}) };
  return { time: r.mostRecent, tooManyMissed: r.missed === 'many' };
}

/** Deterministic per schedule time, so a Job is never created twice for one: <cronjob>-<minutes since the epoch>. */
export function jobNameFor(cj: CronJob, scheduledMs: number): string {
  return `${cj.metadata.name}-${Math.floor(scheduledMs / 60_000)}`;
}

/** RFC 3339 in a zone, as Go formats it: "Z" for UTC, else the numeric offset. */
export function rfc3339InZone(ms: number, zone: string): string {
  const offset = zoneOffsetMs(ms, zone);
  if (offset === 0) return rfc3339(new Date(ms));
  const w = wallClock(ms, zone);
  const pad = (n: number, l = 2): string => String(n).padStart(l, '0');
  const secs = new Date(ms).getUTCSeconds();
  const abs = Math.abs(offset) / 60_000;
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(secs)}${offset < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** upstream's getJobFromTemplate2: the template's labels, annotations and spec, the scheduled-timestamp annotation, a controller reference. */
export function jobFromTemplate(cj: CronJob, scheduledMs: number, zone = 'UTC'): ChildJob {
  const owner: OwnerReference = { apiVersion: 'batch/v1', kind: 'CronJob', name: cj.metadata.name ?? '', uid: cj.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
  const tpl = cj.spec.jobTemplate ?? {};
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobNameFor(cj, scheduledMs),
      namespace: cj.metadata.namespace ?? 'default',
      labels: { ...(tpl.metadata?.labels ?? {}) },
      annotations: { ...(tpl.metadata?.annotations ?? {}), [CRONJOB_SCHEDULED_TIMESTAMP]: rfc3339InZone(scheduledMs, zone) },
      ownerReferences: [owner],
    },
    spec: JSON.parse(JSON.stringify(tpl.spec ?? {})) as Record<string, unknown>,
  };
}

export const isJobSucceeded = (j: ChildJob): boolean => finishedCondition(j)?.type === 'Complete';

/** Oldest first by start time (never started last), names breaking ties (upstream's byJobStartTime). */
export function byStartTime(a: ChildJob, b: ChildJob): number {
  const sa = a.status?.startTime;
  const sb = b.status?.startTime;
  if (!sa && sb) return 1;
  if (sa && !sb) return -1;
  if (sa && sb && sa !== sb) return Date.parse(sa) - Date.parse(sb);
  return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : (a.metadata.name ?? '') > (b.metadata.name ?? '') ? 1 : 0;
}

/** upstream's cleanupFinishedJobs: the oldest finished Jobs beyond successfulJobsHistoryLimit and failedJobsHistoryLimit. */
export function jobsBeyondHistory(cj: CronJob, jobs: readonly ChildJob[]): ChildJob[] {
  const out: ChildJob[] = [];
  const pick = (type: string, limit: number | undefined): void => {
    if (limit === undefined) return;
    const list = jobs.filter((j) => finishedCondition(j)?.type === type).sort(byStartTime);
    out.push(...list.slice(0, Math.max(0, list.length - limit)));
  };
  pick('Complete', cj.spec.successfulJobsHistoryLimit);
  pick('Failed', cj.spec.failedJobsHistoryLimit);
  return out;
}

/** Go's time.RFC1123Z of an instant in UTC ("Mon, 02 Jan 2006 15:04:05 +0000"), which MissSchedule events use. */
export function rfc1123z(ms: number): string {
  const d = new Date(ms);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${p(d.getUTCDate())} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}
