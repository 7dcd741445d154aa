import { afterEach, describe, expect, it } from 'vitest';
import { JOBS } from '../../../control/controllers/job-controller.js';
import type { Job } from '../../../control/controllers/job.js';
import { eventually, startCluster, type Cluster } from './harness.js';

/** Columns of a kubectl table, split on the runs of two or more spaces kubectl pads with. */
const rows = (out: string): string[][] =>
  out
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s{2,}/));

describe('batch workloads through kubectl', () => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('kubectl create job, kubectl wait --for=condition=complete, kubectl get jobs', async () => {
    cluster = await startCluster(['job']);
    const c = cluster;
    c.kubelet.finish = () => 'Succeeded';
    const created = await c.kubectl(['create', 'job', 'pi', '--image=busybox', '--', 'echo', 'hi']);
    expect(created.stderr).toBe('');
    expect(created.stdout.trim()).toBe('job.batch/pi created');
    const waited = await c.kubectl(['wait', '--for=condition=complete', 'job/pi', '--timeout=60s']);
    expect(waited).toMatchObject({ code: 0, stdout: 'job.batch/pi condition met\n' });
    const got = await c.kubectl(['get', 'jobs']);
    const [header, row] = rows(got.stdout);
    expect(header).toEqual(['NAME', 'STATUS', 'COMPLETIONS', 'DURATION', 'AGE']);
    expect(row?.slice(0, 3)).toEqual(['pi', 'Complete', '1/1']);
    expect(row?.[3]).toMatch(/^\d+s$/);
    const wide = rows((await c.kubectl(['get', 'job', 'pi', '-o', 'wide'])).stdout);
    expect(wide[0]).toEqual(['NAME', 'STATUS', 'COMPLETIONS', 'DURATION', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
    const uid = (await c.client.get<Job>(JOBS, 'default', 'pi')).metadata.uid;
    expect(wide[1]?.slice(5)).toEqual(['pi', 'busybox', `batch.kubernetes.io/controller-uid=${uid}`]);
    // The Completed event is written in the background, after the condition kubectl waited for.
    const described = await eventually(async () => {
      const d = await c.kubectl(['describe', 'job', 'pi']);
      return d.stdout.includes('Job completed') ? d : undefined;
    }, 'describe showing the Completed event');
    expect(described.stdout).toMatch(/Pods Statuses:\s+0 Active \(0 Ready\) \/ 1 Succeeded \/ 0 Failed/);
    expect(described.stdout).toMatch(/Normal\s+SuccessfulCreate\s+.*job-controller\s+Created pod: pi-/);
    expect(described.stdout).toMatch(/Normal\s+Completed\s+.*job-controller\s+Job completed/);
  });

  it('kubectl wait --for=condition=failed on a Job past its backoff limit', async () => {
    cluster = await startCluster(['job']);
    const c = cluster;
    c.kubelet.finish = () => 'Failed';
    const manifest = JSON.stringify({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'bad' }, spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'bad', image: 'busybox' }] } } } });
    expect((await c.kubectl(['apply', '-f', '-'], manifest)).stdout.trim()).toBe('job.batch/bad created');
    const waited = await c.kubectl(['wait', '--for=condition=failed', 'job/bad', '--timeout=60s']);
    expect(waited).toMatchObject({ code: 0, stdout: 'job.batch/bad condition met\n' });
    const [, row] = rows((await c.kubectl(['get', 'jobs'])).stdout);
    expect(row?.slice(0, 3)).toEqual(['bad', 'Failed', '0/1']);
  });

  it('kubectl create cronjob, kubectl get cronjobs, kubectl create job --from=cronjob/...', async () => {
    cluster = await startCluster(['job', 'cronjob']);
    const c = cluster;
    c.kubelet.finish = () => 'Succeeded';
    const created = await c.kubectl(['create', 'cronjob', 'hello', '--image=busybox', '--schedule=*/5 * * * *', '--', 'date']);
    expect(created.stdout.trim()).toBe('cronjob.batch/hello created');
    const [header, row] = rows((await c.kubectl(['get', 'cronjobs'])).stdout);
    expect(header).toEqual(['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE', 'AGE']);
    expect(row?.slice(0, 6)).toEqual(['hello', '*/5 * * * *', '<none>', 'False', '0', '<none>']);

    const manual = await c.kubectl(['create', 'job', 'manual', '--from=cronjob/hello']);
    expect(manual.stdout.trim()).toBe('job.batch/manual created');
    const job = await c.client.get<Job>(JOBS, 'default', 'manual');
    expect(job.metadata.annotations?.['cronjob.kubernetes.io/instantiate']).toBe('manual');
    expect(job.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'CronJob', name: 'hello', controller: true });
    expect((await c.kubectl(['wait', '--for=condition=complete', 'job/manual', '--timeout=60s'])).code).toBe(0);
    // The CronJob's controller saw a Job it did not create, and then its success.
    await eventually(async () => {
      const cj = (await c.kubectl(['get', 'cronjob', 'hello', '-o', 'jsonpath={.status.lastSuccessfulTime}'])).stdout;
      return cj !== '' ? cj : undefined;
    }, 'lastSuccessfulTime from the manual run');
    const events = (await c.kubectl(['get', 'events', '--field-selector', 'involvedObject.name=hello', '-o', 'jsonpath={range .items[*]}{.reason}{"\\n"}{end}'])).stdout;
    expect(events.split('\n')).toContain('UnexpectedJob');
  });
});
