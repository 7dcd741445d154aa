import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, eventually } from '../integration/agent/harness.js';
import { ControlPlane } from './control-harness.js';

/**
 * Jobs and CronJobs on a real control plane (`skiff control`) with a real node agent running busybox in Docker:
 * the pods' own exit codes drive completion and failure, kubectl waits for them and reads their logs.
 */
describe('batch workloads on a control plane with an agent', () => {
  const cp = new ControlPlane();
  let agent: AgentProcess;
  const apply = (yaml: string): string => cp.k(['apply', '-f', '-'], { input: yaml });
  const job = (name: string, spec: Record<string, unknown>, script: string): string =>
    JSON.stringify({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name },
      spec: { ...spec, template: { spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 1, containers: [{ name: 'work', image: 'skiff/busybox:1.0', command: ['sh', '-c', script] }] } } },
    });

  beforeAll(async () => {
    await cp.start();
    agent = new AgentProcess({ args: ['--kubeconfig', cp.kubeconfig, '--address', '0.0.0.0'] });
    await agent.start();
    await eventually(() => cp.k(['get', 'node', agent.nodeName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']) === 'True', 'node Ready');
  }, 180_000);
  afterAll(async () => {
    await agent?.cleanup();
    await cp.stop();
  });

  it('runs an Indexed Job to completion: each pod sees its JOB_COMPLETION_INDEX', async () => {
    apply(job('idx', { completions: 3, parallelism: 3, completionMode: 'Indexed' }, 'echo "index=$JOB_COMPLETION_INDEX"'));
    const waited = cp.kubectl(['wait', '--for=condition=complete', 'job/idx', '--timeout=150s']);
    expect(waited.stdout).toBe('job.batch/idx condition met\n');
    expect(cp.k(['get', 'job', 'idx', '-o', 'jsonpath={.status.succeeded} {.status.completedIndexes}'])).toBe('3 0-2');
    const pods = cp.k(['get', 'pods', '-l', 'batch.kubernetes.io/job-name=idx', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.metadata.annotations.batch\\.kubernetes\\.io/job-completion-index}{"\\n"}{end}']).trim().split('\n');
    expect(pods).toHaveLength(3);
    for (const line of pods) {
      const [pod, index] = line.split(' ');
      expect(cp.k(['logs', pod as string]).trim()).toBe(`index=${index}`);
    }
  }, 200_000);

  it('fails a Job whose pod exits 1 with backoffLimit 0 (BackoffLimitExceeded)', async () => {
    apply(job('bad', { backoffLimit: 0 }, 'exit 1'));
    const waited = cp.kubectl(['wait', '--for=condition=failed', 'job/bad', '--timeout=150s']);
    expect(waited.stdout).toBe('job.batch/bad condition met\n');
    expect(cp.k(['get', 'job', 'bad', '-o', 'jsonpath={.status.conditions[?(@.type=="Failed")].reason}'])).toBe('BackoffLimitExceeded');
    expect(cp.k(['get', 'job', 'bad', '-o', 'jsonpath={.status.failed}'])).toBe('1');
    const [header, row] = cp.k(['get', 'job', 'bad']).trim().split('\n').map((l) => l.trim().split(/\s{2,}/));
    expect(header?.slice(0, 3)).toEqual(['NAME', 'STATUS', 'COMPLETIONS']);
    expect(row?.slice(0, 3)).toEqual(['bad', 'Failed', '0/1']);
  }, 200_000);

  it('runs a Job made from a CronJob with kubectl create job --from, and the TTL controller removes it', async () => {
    cp.k(['create', 'cronjob', 'tick', '--image=skiff/busybox:1.0', '--schedule=0 0 1 1 *', '--', 'sh', '-c', 'echo tick']);
    cp.k(['create', 'job', 'tick-now', '--from=cronjob/tick']);
    expect(cp.kubectl(['wait', '--for=condition=complete', 'job/tick-now', '--timeout=150s']).code).toBe(0);
    const pod = cp.k(['get', 'pods', '-l', 'batch.kubernetes.io/job-name=tick-now', '-o', 'jsonpath={.items[0].metadata.name}']);
    expect(cp.k(['logs', pod]).trim()).toBe('tick');
    await eventually(() => cp.k(['get', 'cronjob', 'tick', '-o', 'jsonpath={.status.lastSuccessfulTime}']) !== '', 'lastSuccessfulTime');
    cp.k(['patch', 'job', 'tick-now', '--type=merge', '-p', '{"spec":{"ttlSecondsAfterFinished":0}}']);
    await eventually(() => cp.kubectl(['get', 'job', 'tick-now']).code !== 0, 'the finished Job removed by its TTL', 60_000);
    await eventually(() => cp.k(['get', 'pods', '-l', 'batch.kubernetes.io/job-name=tick-now', '-o', 'name']).trim() === '', 'its pod removed with it', 60_000);
  }, 200_000);
});
