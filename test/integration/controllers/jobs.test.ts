import { afterEach, describe, expect, it } from 'vitest';
import { JOBS } from '../../../control/controllers/job-controller.js';
import type { Job } from '../../../control/controllers/job.js';
import type { Pod } from '../../../control/controllers/objects.js';
import { eventually, listPods, R, startCluster, syncOnce, type Cluster } from './harness.js';

const job = (name: string, spec: Record<string, unknown>, labels: Record<string, string> = { app: name }) => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name },
  spec: { template: { metadata: { labels }, spec: { restartPolicy: 'Never', containers: [{ name: 'work', image: 'busybox' }] } }, ...spec },
});
const cond = (j: Job, type: string) => j.status?.conditions?.find((c) => c.type === type);
const events = async (c: Cluster, name: string) =>
  (await c.client.list<{ metadata: { name: string }; reason: string; message: string; involvedObject: { name: string }; source?: { component?: string } } & Record<string, unknown>>({ group: '', version: 'v1', resource: 'events' }, { namespace: 'default' })).items.filter((e) => e.involvedObject.name === name);

describe('job controller', () => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('runs completions with parallelism, counts successes through the tracking finalizer and completes', async () => {
    cluster = await startCluster(['job']);
    const c = cluster;
    c.kubelet.finish = () => 'Succeeded';
    const created = await c.client.create<Job>(JOBS, 'default', job('pi', { completions: 3, parallelism: 2 }));
    const done = await eventually(async () => {
      const j = await c.client.get<Job>(JOBS, 'default', 'pi');
      return cond(j, 'Complete')?.status === 'True' ? j : undefined;
    }, 'job complete');
    expect(done.status?.succeeded).toBe(3);
    expect(done.status?.failed).toBeUndefined();
    expect(done.status?.startTime).toBeDefined();
    expect(done.status?.completionTime).toBeDefined();
    expect(cond(done, 'SuccessCriteriaMet')).toMatchObject({ status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' });
    expect(cond(done, 'Complete')).toMatchObject({ status: 'True', reason: 'CompletionsReached' });
    expect(done.status?.uncountedTerminatedPods ?? {}).toEqual({});
    const pods = await listPods(c.client);
    expect(pods).toHaveLength(3);
    for (const p of pods) {
      expect(p.metadata.finalizers ?? []).not.toContain('batch.kubernetes.io/job-tracking');
      expect(p.metadata.labels).toMatchObject({ 'batch.kubernetes.io/job-name': 'pi', 'batch.kubernetes.io/controller-uid': created.metadata.uid, 'job-name': 'pi' });
      expect(p.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Job', name: 'pi', controller: true });
      expect(p.metadata.name).toMatch(/^pi-/);
    }
    const evs = await eventually(async () => {
      const e = await events(c, 'pi');
      return e.some((x) => x.reason === 'Completed') ? e : undefined;
    }, 'Completed event');
    expect(evs.filter((e) => e.reason === 'SuccessfulCreate')).toHaveLength(3);
    expect(evs.find((e) => e.reason === 'Completed')?.message).toBe('Job completed');
    expect(evs[0]?.source?.component).toBe('job-controller');
  });

  it('runs an Indexed job: one pod per index with annotation, label, hostname and env var', async () => {
    cluster = await startCluster(['job']);
    const c = cluster;
    c.kubelet.finish = () => 'Succeeded';
    await c.client.create<Job>(JOBS, 'default', job('idx', { completions: 3, parallelism: 3, completionMode: 'Indexed' }));
    const done = await eventually(async () => {
      const j = await c.client.get<Job>(JOBS, 'default', 'idx');
      return cond(j, 'Complete')?.status === 'True' ? j : undefined;
    }, 'indexed job complete');
    expect(done.status?.completedIndexes).toBe('0-2');
    expect(done.status?.succeeded).toBe(3);
    const pods = await listPods(c.client);
    const byIndex = new Map(pods.map((p) => [p.metadata.annotations?.['batch.kubernetes.io/job-completion-index'], p]));
    expect([...byIndex.keys()].sort()).toEqual(['0', '1', '2']);
    const p1 = byIndex.get('1') as Pod;
    expect(p1.metadata.labels?.['batch.kubernetes.io/job-completion-index']).toBe('1');
    expect(p1.spec?.hostname).toBe('idx-1');
    expect(p1.metadata.name).toMatch(/^idx-1-/);
    expect((p1.spec?.containers?.[0] as { env?: unknown[] }).env).toContainEqual({ name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: "metadata.labels['batch.kubernetes.io/job-completion-index']" } } });
  });

  it('fails with BackoffLimitExceeded once more pods failed than backoffLimit allows', async () => {
    cluster = await startCluster(['job']);
    const c = cluster;
    c.kubelet.finish = () => 'Failed';
    await c.client.create<Job>(JOBS, 'default', job('boom', { backoffLimit: 0 }));
    const failed = await eventually(async () => {
      const j = await c.client.get<Job>(JOBS, 'default', 'boom');
      return cond(j, 'Failed')?.status === 'True' ? j : undefined;
    }, 'job failed');
    expect(failed.status?.failed).toBe(1);
    expect(cond(failed, 'FailureTarget')).toMatchObject({ status: 'True', reason: 'BackoffLimitExceeded' });
    expect(cond(failed, 'Failed')).toMatchObject({ reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' });
    expect(failed.status?.completionTime).toBeUndefined();
    await eventually(async () => (await events(c, 'boom')).some((e) => e.reason === 'BackoffLimitExceeded' && e.type === 'Warning'), 'BackoffLimitExceeded event');
  });

  it('waits the back-off (10 s after a failure, on the injected clock) before recreating a failed pod', async () => {
    let offsetMs = 0;
    cluster = await startCluster(['job'], { now: () => new Date(Date.now() + offsetMs) });
    const c = cluster;
    let failures = 1;
    c.kubelet.finish = () => (failures-- > 0 ? 'Failed' : 'Succeeded');
    await c.client.create<Job>(JOBS, 'default', job('retry', { backoffLimit: 3 }));
    await eventually(async () => (await c.client.get<Job>(JOBS, 'default', 'retry')).status?.failed === 1, 'first failure counted');
    // Within the back-off no replacement appears, however often the Job is looked at.
    const ctl = c.manager.controllers.get('job');
    for (let i = 0; i < 5; i++) await syncOnce(c, 'job', 'default/retry');
    expect(await listPods(c.client)).toHaveLength(1);
    offsetMs = 11_000;
    ctl?.queue.add('default/retry');
    const done = await eventually(async () => {
      const j = await c.client.get<Job>(JOBS, 'default', 'retry');
      return cond(j, 'Complete')?.status === 'True' ? j : undefined;
    }, 'job complete after a retry');
    expect(done.status).toMatchObject({ succeeded: 1, failed: 1 });
    expect(await listPods(c.client)).toHaveLength(2);
  });

  it('fails with DeadlineExceeded after activeDeadlineSeconds and deletes its running pods', async () => {
    cluster = await startCluster(['job']);
    const c = cluster;
    await c.client.create<Job>(JOBS, 'default', job('slow', { activeDeadlineSeconds: 1, parallelism: 2, completions: 2 }));
    const failed = await eventually(async () => {
      const j = await c.client.get<Job>(JOBS, 'default', 'slow');
      return cond(j, 'Failed')?.status === 'True' ? j : undefined;
    }, 'deadline exceeded');
    expect(cond(failed, 'Failed')).toMatchObject({ reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' });
    expect(failed.status?.active ?? 0).toBe(0);
    await eventually(async () => (await listPods(c.client)).length === 0, 'running pods removed');
  });

  it('suspends (deleting active pods, Suspended condition) and resumes', async () => {
    cluster = await startCluster(['job']);
    const c = cluster;
    await c.client.create<Job>(JOBS, 'default', job('sus', { parallelism: 2, completions: 4 }));
    await eventually(async () => (await c.client.get<Job>(JOBS, 'default', 'sus')).status?.ready === 2, '2 ready pods');
    await c.client.patch(JOBS, 'default', 'sus', { spec: { suspend: true } });
    const suspended = await eventually(async () => {
      const j = await c.client.get<Job>(JOBS, 'default', 'sus');
      return cond(j, 'Suspended')?.status === 'True' && (await listPods(c.client)).length === 0 ? j : undefined;
    }, 'suspended');
    expect(cond(suspended, 'Suspended')).toMatchObject({ reason: 'JobSuspended', message: 'Job suspended' });
    expect(suspended.status?.active ?? 0).toBe(0);
    await c.client.patch(JOBS, 'default', 'sus', { spec: { suspend: false } });
    const resumed = await eventually(async () => {
      const j = await c.client.get<Job>(JOBS, 'default', 'sus');
      return cond(j, 'Suspended')?.status === 'False' && j.status?.active === 2 ? j : undefined;
    }, 'resumed');
    expect(cond(resumed, 'Suspended')).toMatchObject({ reason: 'JobResumed', message: 'Job resumed' });
    // Events are written in the background: look until they are there.
    await eventually(async () => {
      const reasons = (await events(c, 'sus')).map((e) => e.reason);
      return ['Suspended', 'Resumed', 'SuccessfulDelete'].every((r) => reasons.includes(r));
    }, 'Suspended, Resumed and SuccessfulDelete events');
  });

  it('fails at once on a pod failure policy FailJob rule and ignores Ignore rules', async () => {
    cluster = await startCluster(['job']);
    const c = cluster;
    c.kubelet.finish = () => 'Failed';
    await c.client.create<Job>(JOBS, 'default', job('pfp', { backoffLimit: 6, podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [1] } }] } }));
    const failed = await eventually(async () => {
      const j = await c.client.get<Job>(JOBS, 'default', 'pfp');
      return cond(j, 'Failed')?.status === 'True' ? j : undefined;
    }, 'failed by policy');
    expect(cond(failed, 'Failed')?.reason).toBe('PodFailurePolicy');
    expect(cond(failed, 'Failed')?.message).toMatch(/^Container work for pod default\/pfp-\w+ failed with exit code 1 matching FailJob rule at index 0$/);
  });

  it('lets the pods of a deleted running Job go: the tracking finalizer comes off orphans', async () => {
    cluster = await startCluster(['job', 'garbagecollector']);
    const c = cluster;
    await c.client.create<Job>(JOBS, 'default', job('gone', { parallelism: 2, completions: 2 }));
    await eventually(async () => {
      const pods = await listPods(c.client);
      return pods.length === 2 && pods.every((p) => p.metadata.finalizers?.includes('batch.kubernetes.io/job-tracking'));
    }, 'two pods with the tracking finalizer');
    await c.client.delete(JOBS, 'default', 'gone', { propagationPolicy: 'Background' });
    await eventually(async () => (await listPods(c.client)).length === 0, 'pods deleted, finalizers removed');
  });

  it('adopts a matching orphan pod (manualSelector) and adds the tracking finalizer', async () => {
    cluster = await startCluster(['job']);
    const c = cluster;
    await c.client.create(R.pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stray', labels: { app: 'man' } }, spec: { containers: [{ name: 'work', image: 'busybox' }] } });
    const j = await c.client.create<Job>(JOBS, 'default', { ...job('man', { manualSelector: true, selector: { matchLabels: { app: 'man' } }, parallelism: 1, completions: 1 }) });
    expect(j.spec.template?.metadata?.labels).toEqual({ app: 'man' });
    const adopted = await eventually(async () => {
      const p = await c.client.get<Pod>(R.pods, 'default', 'stray');
      return p.metadata.ownerReferences?.[0]?.uid === j.metadata.uid ? p : undefined;
    }, 'stray pod adopted');
    expect(adopted.metadata.finalizers).toContain('batch.kubernetes.io/job-tracking');
    await eventually(async () => (await c.client.get<Job>(JOBS, 'default', 'man')).status?.active === 1, 'one active pod: the adopted one');
    expect(await listPods(c.client)).toHaveLength(1);
  });

  it('succeeds an Indexed job early by its success policy, removing the pods still running', async () => {
    cluster = await startCluster(['job']);
    const c = cluster;
    c.kubelet.finish = (p) => (p.metadata.annotations?.['batch.kubernetes.io/job-completion-index'] === '0' ? 'Succeeded' : undefined);
    await c.client.create<Job>(JOBS, 'default', job('leader', { completions: 3, parallelism: 3, completionMode: 'Indexed', successPolicy: { rules: [{ succeededIndexes: '0' }] } }));
    const done = await eventually(async () => {
      const j = await c.client.get<Job>(JOBS, 'default', 'leader');
      return cond(j, 'Complete')?.status === 'True' ? j : undefined;
    }, 'complete by success policy');
    expect(cond(done, 'SuccessCriteriaMet')).toMatchObject({ status: 'True', reason: 'SuccessPolicy', message: 'Matched rules at index 0' });
    expect(cond(done, 'Complete')).toMatchObject({ reason: 'SuccessPolicy', message: 'Matched rules at index 0' });
    expect(done.status?.completedIndexes).toBe('0');
    await eventually(async () => (await listPods(c.client)).filter((p) => p.status?.phase !== 'Succeeded').length === 0, 'the other indexes removed');
  });

  it('backoffLimitPerIndex: retries an index after its own back-off, then marks it failed; FailedIndexes ends the Job', async () => {
    let offsetMs = 0;
    cluster = await startCluster(['job'], { now: () => new Date(Date.now() + offsetMs) });
    const c = cluster;
    const index = (p: Pod) => p.metadata.annotations?.['batch.kubernetes.io/job-completion-index'];
    c.kubelet.finish = (p) => (index(p) === '1' ? 'Failed' : 'Succeeded');
    await c.client.create<Job>(JOBS, 'default', job('per', { completions: 3, parallelism: 3, completionMode: 'Indexed', backoffLimitPerIndex: 1 }));
    const first = await eventually(async () => {
      const pods = (await listPods(c.client)).filter((p) => index(p) === '1');
      return pods.length === 1 && pods[0]?.status?.phase === 'Failed' ? pods[0] : undefined;
    }, 'index 1 failed once');
    expect(first.metadata.annotations?.['batch.kubernetes.io/job-index-failure-count']).toBe('0');
    // Its finalizer stays until the replacement exists; the replacement waits out the index's back-off.
    const ctl = c.manager.controllers.get('job');
    await syncOnce(c, 'job', 'default/per');
    expect((await listPods(c.client)).filter((p) => index(p) === '1')).toHaveLength(1);
    expect((await c.client.get<Pod>(R.pods, 'default', first.metadata.name ?? '')).metadata.finalizers).toContain('batch.kubernetes.io/job-tracking');
    offsetMs = 11_000;
    ctl?.queue.add('default/per');
    const failed = await eventually(async () => {
      const j = await c.client.get<Job>(JOBS, 'default', 'per');
      return cond(j, 'Failed')?.status === 'True' ? j : undefined;
    }, 'job failed with a failed index');
    expect(cond(failed, 'Failed')).toMatchObject({ reason: 'FailedIndexes', message: 'Job has failed indexes' });
    expect(failed.status).toMatchObject({ failedIndexes: '1', completedIndexes: '0,2', succeeded: 2, failed: 2 });
    const retries = (await listPods(c.client)).filter((p) => index(p) === '1').map((p) => p.metadata.annotations?.['batch.kubernetes.io/job-index-failure-count']);
    expect(retries.sort()).toEqual(['0', '1']);
  });
});
