import { describe, expect, it } from 'vitest';
import { parseCronSchedule } from '../../../../control/api/batch/cron.js';
import {
  effectiveSchedule,
  jobFromTemplate,
  jobNameFor,
  jobsBeyondHistory,
  mostRecentScheduleTime,
  nextScheduleDelayMs,
  nextScheduleTime,
  rfc1123z,
  rfc3339InZone,
  type ChildJob,
  type CronJob,
} from '../../../../control/controllers/cronjob.js';
import { expiresAt, needsCleanup, ttlRemainingMs } from '../../../../control/controllers/ttlafterfinished.js';
import type { Job } from '../../../../control/controllers/job.js';

const T = (s: string) => Date.parse(s);
const created = '2026-01-01T10:00:30Z';

function cj(spec: Partial<CronJob['spec']> = {}, status: CronJob['status'] = {}): CronJob {
  return { metadata: { name: 'hello', namespace: 'default', uid: 'cj-uid', creationTimestamp: created }, spec: { schedule: '*/5 * * * *', ...spec }, status };
}

describe('mostRecentScheduleTime / nextScheduleTime', () => {
  const sched = parseCronSchedule('*/5 * * * *');
  it.each([
    // now, last schedule time, starting deadline, want scheduled time (or none), too many missed
    ['before the first run', '2026-01-01T10:04:00Z', undefined, undefined, 'none', false],
    ['the first run', '2026-01-01T10:05:10Z', undefined, undefined, '2026-01-01T10:05:00.000Z', false],
    ['a few missed: the latest only', '2026-01-01T10:27:00Z', undefined, undefined, '2026-01-01T10:25:00.000Z', false],
    ['already run', '2026-01-01T10:07:00Z', '2026-01-01T10:05:00Z', undefined, 'none', false],
    ['next after the last run', '2026-01-01T10:10:01Z', '2026-01-01T10:05:00Z', undefined, '2026-01-01T10:10:00.000Z', false],
    ['within the starting deadline', '2026-01-01T10:10:20Z', undefined, 30, '2026-01-01T10:10:00.000Z', false],
    ['past the starting deadline', '2026-01-01T10:10:40Z', undefined, 30, 'none', false],
    ['many missed (> 100)', '2026-01-02T10:00:00Z', undefined, undefined, '2026-01-02T10:00:00.000Z', true],
    ['many missed, but a deadline bounds them', '2026-01-02T10:00:10Z', undefined, 600, '2026-01-02T10:00:00.000Z', false],
  ])('%s', (_name, now, last, deadline, want, many) => {
    const c = cj(deadline !== undefined ? { startingDeadlineSeconds: deadline } : {}, last ? { lastScheduleTime: last } : {});
    const r = nextScheduleTime(c, T(now), sched, 'UTC');
    expect(r.time === undefined ? 'none' : new Date(r.time).toISOString()).toBe(want);
    expect(r.tooManyMissed).toBe(many);
  });

  it('reports an impossible schedule as such', () => {
    const r = mostRecentScheduleTime(cj(), T('2026-06-01T00:00:00Z'), parseCronSchedule('0 0 30 2 *'), true, 'UTC');
    expect(r.mostRecent).toBeUndefined();
  });

  it('requeues 100 ms after the next activation', () => {
    expect(nextScheduleDelayMs(cj(), T('2026-01-01T10:01:00Z'), sched, 'UTC')).toBe(4 * 60_000 + 100);
    expect(nextScheduleDelayMs(cj({}, { lastScheduleTime: '2026-01-01T10:05:00Z' }), T('2026-01-01T10:06:00Z'), sched, 'UTC')).toBe(4 * 60_000 + 100);
    // Missed runs (nothing scheduled yet): from now.
    expect(nextScheduleDelayMs(cj(), T('2026-01-01T10:27:00Z'), sched, 'UTC')).toBe(3 * 60_000 + 100);
  });
});

describe('jobs of a CronJob', () => {
  it('names a Job after its schedule time in minutes since the epoch', () => {
    expect(jobNameFor(cj(), T('2026-01-01T10:05:00Z'))).toBe(`hello-${T('2026-01-01T10:05:00Z') / 60_000}`);
  });

  it('builds the Job from the template with the scheduled-timestamp annotation in the time zone', () => {
    const c = cj({ timeZone: 'Europe/Paris', jobTemplate: { metadata: { labels: { a: 'b' }, annotations: { x: 'y' } }, spec: { backoffLimit: 2, template: { spec: {} } } } });
    const j = jobFromTemplate(c, T('2026-01-01T10:05:00Z'), 'Europe/Paris');
    expect(j.metadata).toMatchObject({
      name: 'hello-29454365',
      labels: { a: 'b' },
      annotations: { x: 'y', 'batch.kubernetes.io/cronjob-scheduled-timestamp': '2026-01-01T11:05:00+01:00' },
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'hello', uid: 'cj-uid', controller: true, blockOwnerDeletion: true }],
    });
    expect(j.spec).toEqual({ backoffLimit: 2, template: { spec: {} } });
    expect(rfc3339InZone(T('2026-07-01T00:00:00Z'), 'America/New_York')).toBe('2026-06-30T20:00:00-04:00');
    expect(rfc3339InZone(T('2026-07-01T00:00:00Z'), 'UTC')).toBe('2026-07-01T00:00:00Z');
  });

  it('turns spec.timeZone into a TZ= prefix unless the schedule has its own', () => {
    expect(effectiveSchedule(cj({ timeZone: 'Asia/Tokyo' }))).toEqual({ spec: 'TZ=Asia/Tokyo */5 * * * *', tzInSchedule: false });
    expect(effectiveSchedule(cj({ schedule: 'CRON_TZ=UTC 0 * * * *', timeZone: 'Asia/Tokyo' }))).toEqual({ spec: 'CRON_TZ=UTC 0 * * * *', tzInSchedule: true });
    expect(effectiveSchedule(cj())).toEqual({ spec: '*/5 * * * *', tzInSchedule: false });
  });

  it('removes the oldest finished Jobs beyond the history limits', () => {
    const job = (name: string, type: string | undefined, start: string): ChildJob => ({ metadata: { name }, status: { startTime: start, ...(type ? { conditions: [{ type, status: 'True' }] } : {}) } });
    const jobs = [job('ok3', 'Complete', '2026-01-01T03:00:00Z'), job('ok1', 'Complete', '2026-01-01T01:00:00Z'), job('ok2', 'Complete', '2026-01-01T02:00:00Z'), job('bad1', 'Failed', '2026-01-01T01:30:00Z'), job('bad2', 'Failed', '2026-01-01T02:30:00Z'), job('running', undefined, '2026-01-01T00:00:00Z')];
    expect(jobsBeyondHistory(cj({ successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 1 }), jobs).map((j) => j.metadata.name)).toEqual(['ok1', 'ok2', 'bad1']);
    expect(jobsBeyondHistory(cj({ successfulJobsHistoryLimit: 0, failedJobsHistoryLimit: 5 }), jobs).map((j) => j.metadata.name)).toEqual(['ok1', 'ok2', 'ok3']);
    expect(jobsBeyondHistory(cj(), jobs)).toEqual([]);
  });

  it('formats MissSchedule times as Go RFC1123Z', () => {
    expect(rfc1123z(T('2026-01-02T03:04:05Z'))).toBe('Fri, 02 Jan 2026 03:04:05 +0000');
  });
});

describe('ttl after finished', () => {
  const job = (ttl: number | undefined, cond?: { type: string; at?: string }, deleting = false): Job => ({
    metadata: { name: 'j', namespace: 'default', ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    spec: { ...(ttl !== undefined ? { ttlSecondsAfterFinished: ttl } : {}) },
    status: cond ? { conditions: [{ type: cond.type, status: 'True', ...(cond.at ? { lastTransitionTime: cond.at } : {}) }] } : {},
  });
  it.each([
    ['no ttl', job(undefined, { type: 'Complete', at: '2026-01-01T00:00:00Z' }), undefined],
    ['not finished', job(10), undefined],
    ['interim condition only', job(10, { type: 'SuccessCriteriaMet', at: '2026-01-01T00:00:00Z' }), undefined],
    ['complete, 10 s ttl, 4 s ago', job(10, { type: 'Complete', at: '2026-01-01T00:00:00Z' }), 6000],
    ['failed, ttl 0', job(0, { type: 'Failed', at: '2026-01-01T00:00:00Z' }), -4000],
    ['being deleted', job(0, { type: 'Failed', at: '2026-01-01T00:00:00Z' }, true), undefined],
  ])('%s', (_name, j, want) => {
    expect(ttlRemainingMs(j, T('2026-01-01T00:00:04Z'))).toBe(want);
  });

  it('refuses to guess a finish time', () => {
    const j = job(5, { type: 'Complete' });
    expect(needsCleanup(j)).toBe(true);
    expect(() => expiresAt(j)).toThrow(/unable to find the time when the Job default\/j finished/);
  });
});
