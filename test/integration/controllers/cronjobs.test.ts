import { afterEach, describe, expect, it } from 'vitest';
import { CRONJOBS } from '../../../control/controllers/cronjob-controller.js';
import type { ChildJob, CronJob } from '../../../control/controllers/cronjob.js';
import { JOBS } from '../../../control/controllers/job-controller.js';
import type { Job } from '../../../control/controllers/job.js';
import { eventually, startCluster, syncOnce, type Cluster } from './harness.js';

const cronJob = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'batch/v1',
  kind: 'CronJob',
  metadata: { name },
  spec: {
    schedule: '* * * * *',
    jobTemplate: { metadata: { labels: { from: name } }, spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'hello', image: 'busybox' }] } } } },
    ...spec,
  },
});

interface Ev {
  reason: string;
  message: string;
  type: string;
  involvedObject: { name: string; kind: string };
}
const events = async (c: Cluster, name: string): Promise<Ev[]> =>
  ((await c.client.list({ group: '', version: 'v1', resource: 'events' }, { namespace: 'default' })).items as unknown as Ev[]).filter((e) => e.involvedObject.name === name);
const jobsOf = async (c: Cluster, cj: string): Promise<ChildJob[]> => (await c.client.list<ChildJob>(JOBS, { namespace: 'default' })).items.filter((j) => j.metadata.ownerReferences?.[0]?.name === cj);

/** A cluster whose controllers run on a clock the test moves forward; a poke makes a controller look again now. */
async function clockedCluster(controllers: string[]): Promise<{ c: Cluster; advance(ms: number): void; poke(controller: string, key: string): void }> {
  let offset = 0;
  const c = await startCluster(controllers, { now: () => new Date(Date.now() + offset) });
  return {
    c,
    advance: (ms) => (offset += ms),
    poke: (controller, key) => c.manager.controllers.get(controller)?.queue.add(key),
  };
}

describe('cronjob controller', () => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('creates the Job of each schedule time, tracks it in status and keeps successfulJobsHistoryLimit finished Jobs', async () => {
    const t = await clockedCluster(['cronjob', 'job']);
    cluster = t.c;
    const c = t.c;
    c.kubelet.finish = () => 'Succeeded';
    const cj = await c.client.create<CronJob>(CRONJOBS, 'default', cronJob('hello', { successfulJobsHistoryLimit: 1 }));
    t.advance(61_000);
    t.poke('cronjob', 'default/hello');
    const [first] = await eventually(async () => {
      const js = await jobsOf(c, 'hello');
      return js.length === 1 ? js : undefined;
    }, 'the first Job');
    // The Job is written before the CronJob's status that records it.
    const status = await eventually(async () => {
      const st = (await c.client.get<CronJob>(CRONJOBS, 'default', 'hello')).status;
      return st?.lastScheduleTime ? st : undefined;
    }, 'lastScheduleTime');
    const scheduled = Date.parse(status?.lastScheduleTime ?? '');
    expect(scheduled % 60_000).toBe(0);
    expect(first?.metadata.name).toBe(`hello-${scheduled / 60_000}`);
    expect(first?.metadata.labels?.from).toBe('hello');
    expect(first?.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp']).toBe(new Date(scheduled).toISOString().replace('.000Z', 'Z'));
    expect(first?.metadata.ownerReferences?.[0]).toMatchObject({ apiVersion: 'batch/v1', kind: 'CronJob', name: 'hello', uid: cj.metadata.uid, controller: true, blockOwnerDeletion: true });

    // The Job completes: it leaves status.active and sets lastSuccessfulTime.
    const done = await eventually(async () => {
      const s = (await c.client.get<CronJob>(CRONJOBS, 'default', 'hello')).status;
      return s?.lastSuccessfulTime && !(s.active ?? []).length ? s : undefined;
    }, 'lastSuccessfulTime');
    expect(Date.parse(done.lastSuccessfulTime ?? '')).toBeGreaterThan(0);

    // The next minute: a second Job; once it completes the first goes (history limit 1).
    t.advance(60_000);
    t.poke('cronjob', 'default/hello');
    await eventually(async () => {
      const js = await jobsOf(c, 'hello');
      return js.length === 1 && js[0]?.metadata.name !== first?.metadata.name && (js[0]?.status?.conditions ?? []).some((x) => x.type === 'Complete') ? js : undefined;
    }, 'the first Job removed by the history limit');
    await eventually(async () => {
      const reasons = (await events(c, 'hello')).map((e) => e.reason);
      return ['SuccessfulCreate', 'SawCompletedJob', 'SuccessfulDelete'].every((r) => reasons.includes(r));
    }, 'SuccessfulCreate, SawCompletedJob and SuccessfulDelete events');
    const created = (await events(c, 'hello')).filter((e) => e.reason === 'SuccessfulCreate').map((e) => e.message);
    expect(created[0]).toMatch(/^Created job hello-\d+$/);
  });

  it('Forbid skips a run while one is active; Replace deletes the active Job and starts the new one', async () => {
    const t = await clockedCluster(['cronjob']);
    cluster = t.c;
    const c = t.c;
    await c.client.create(CRONJOBS, 'default', cronJob('forbid', { concurrencyPolicy: 'Forbid' }));
    await c.client.create(CRONJOBS, 'default', cronJob('replace', { concurrencyPolicy: 'Replace' }));
    t.advance(61_000);
    t.poke('cronjob', 'default/forbid');
    t.poke('cronjob', 'default/replace');
    const [f1] = await eventually(async () => ((await jobsOf(c, 'forbid')).length === 1 ? jobsOf(c, 'forbid') : undefined), 'forbid: first Job');
    const [r1] = await eventually(async () => ((await jobsOf(c, 'replace')).length === 1 ? jobsOf(c, 'replace') : undefined), 'replace: first Job');
    await eventually(async () => ((await c.client.get<CronJob>(CRONJOBS, 'default', 'replace')).status?.active ?? []).length === 1, 'replace: active recorded');
    await eventually(async () => ((await c.client.get<CronJob>(CRONJOBS, 'default', 'forbid')).status?.active ?? []).length === 1, 'forbid: active recorded');

    t.advance(60_000);
    t.poke('cronjob', 'default/forbid');
    t.poke('cronjob', 'default/replace');
    await eventually(async () => (await events(c, 'forbid')).some((e) => e.reason === 'JobAlreadyActive' && e.message === 'Not starting job because prior execution is running and concurrency policy is Forbid'), 'JobAlreadyActive');
    expect((await jobsOf(c, 'forbid')).map((j) => j.metadata.name)).toEqual([f1?.metadata.name]);
    const [r2] = await eventually(async () => {
      const js = await jobsOf(c, 'replace');
      return js.length === 1 && js[0]?.metadata.name !== r1?.metadata.name ? js : undefined;
    }, 'replace: the old Job replaced');
    const active = (await c.client.get<CronJob>(CRONJOBS, 'default', 'replace')).status?.active ?? [];
    expect(active.map((a) => a.name)).toEqual([r2?.metadata.name]);
    await eventually(async () => (await events(c, 'replace')).some((e) => e.reason === 'SuccessfulDelete' && e.message === `Deleted job ${r1?.metadata.name}`), 'SuccessfulDelete event');
  });

  it('after many missed start times warns TooManyMissedTimes and runs only the latest; suspend runs nothing', async () => {
    const t = await clockedCluster(['cronjob']);
    cluster = t.c;
    const c = t.c;
    await c.client.create(CRONJOBS, 'default', cronJob('late'));
    await c.client.create(CRONJOBS, 'default', cronJob('paused', { suspend: true }));
    t.advance(200 * 60_000);
    t.poke('cronjob', 'default/late');
    const ev = await eventually(async () => (await events(c, 'late')).find((e) => e.reason === 'TooManyMissedTimes'), 'TooManyMissedTimes');
    expect(ev.type).toBe('Warning');
    expect(ev.message).toBe('too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
    const [only] = await eventually(async () => ((await jobsOf(c, 'late')).length ? jobsOf(c, 'late') : undefined), 'the latest Job');
    const last = Date.parse(await eventually(async () => (await c.client.get<CronJob>(CRONJOBS, 'default', 'late')).status?.lastScheduleTime, 'lastScheduleTime'));
    expect(Date.now() + 200 * 60_000 - last).toBeLessThan(120_000);
    expect(only?.metadata.name).toBe(`late-${last / 60_000}`);
    await syncOnce(c, 'cronjob', 'default/paused');
    expect(await jobsOf(c, 'paused')).toHaveLength(0);
  });

  it('does not start a run whose startingDeadlineSeconds has passed', async () => {
    const t = await clockedCluster(['cronjob']);
    cluster = t.c;
    const c = t.c;
    // The deadline is 5 s and the controller's clock is 30 s past a run.
    await c.client.create(CRONJOBS, 'default', cronJob('strict', { startingDeadlineSeconds: 5 }));
    const nextMinute = Math.ceil((Date.now() + 1) / 60_000) * 60_000;
    t.advance(nextMinute + 30_000 - Date.now());
    await syncOnce(c, 'cronjob', 'default/strict');
    expect(await jobsOf(c, 'strict')).toHaveLength(0);
    expect((await c.client.get<CronJob>(CRONJOBS, 'default', 'strict')).status?.lastScheduleTime).toBeUndefined();
  });
});

describe('ttl-after-finished controller', () => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('deletes a finished Job (and, in the foreground, its pods) ttlSecondsAfterFinished after it finished', async () => {
    const t = await clockedCluster(['job', 'ttl-after-finished', 'garbagecollector']);
    cluster = t.c;
    const c = t.c;
    c.kubelet.finish = () => 'Succeeded';
    const mk = (name: string, ttl: number) => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name }, spec: { ttlSecondsAfterFinished: ttl, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'w', image: 'busybox' }] } } } });
    await c.client.create(JOBS, 'default', mk('short', 0));
    await c.client.create(JOBS, 'default', mk('long', 3600));
    await eventually(async () => {
      try {
        await c.client.get(JOBS, 'default', 'short');
        return false;
      } catch {
        return true;
      }
    }, 'the ttl 0 Job deleted');
    await eventually(async () => ((await c.client.get<Job>(JOBS, 'default', 'long')).status?.conditions ?? []).some((x) => x.type === 'Complete'), 'long Job complete');
    await eventually(async () => (await c.client.list(R_PODS, { namespace: 'default', labelSelector: 'batch.kubernetes.io/job-name=short' })).items.length === 0, 'its pods deleted');
    // An hour later (on the controller's clock) the other one goes too.
    await syncOnce(c, 'ttl-after-finished', 'default/long');
    expect((await c.client.get<Job>(JOBS, 'default', 'long')).metadata.name).toBe('long');
    t.advance(3601_000);
    t.poke('ttl-after-finished', 'default/long');
    await eventually(async () => {
      try {
        await c.client.get(JOBS, 'default', 'long');
        return false;
      } catch {
        return true;
      }
    }, 'the ttl 3600 Job deleted after an hour');
  });
});

const R_PODS = { group: '', version: 'v1', resource: 'pods' };
