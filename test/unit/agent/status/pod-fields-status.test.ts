import { describe, expect, it } from 'vitest';
import { statusDiverged } from '../../../../agent/status/diverged.js';
import type { PodCondition, PodStatus } from '../../../../control/api/index.js';
import { c, ctr, exited, makePod, sandbox, status } from '../kuberuntime/fixtures.js';

/** Termination messages, activeDeadlineSeconds and readiness gates in the generated pod status. */

const cond = (s: PodStatus, type: string) => s.conditions?.find((x) => x.type === type);
const gate = (type: string, st: 'True' | 'False' | 'Unknown'): PodCondition => ({ type, status: st, lastProbeTime: null, lastTransitionTime: '2026-01-01T11:00:00Z' });

describe('termination messages in container statuses', () => {
  it('shows the message of a terminated container, and of the previous run in lastState', () => {
    const pod = makePod({ containers: [c('app'), c('done')], restartPolicy: 'OnFailure' });
    const s = status(pod, [
      sandbox(),
      exited(pod, 'app', 2, { message: 'first failure\n' }),
      ctr(pod, 'app', { attempt: 1 }),
      exited(pod, 'done', 0, { message: 'all good' }),
    ]);
    const app = s.containerStatuses?.find((x) => x.name === 'app');
    expect(app?.lastState?.terminated?.message).toBe('first failure\n');
    expect(app?.state?.running).toBeDefined();
    expect(s.containerStatuses?.find((x) => x.name === 'done')?.state?.terminated).toMatchObject({ exitCode: 0, message: 'all good' });
  });

  it('has no message key when the container left none', () => {
    const pod = makePod({ containers: [c('app')], restartPolicy: 'Never' });
    const t = status(pod, [sandbox(), exited(pod, 'app', 1)]).containerStatuses?.[0]?.state?.terminated;
    expect(t).toBeDefined();
    expect(t && 'message' in t).toBe(false);
  });

  it('shares 12 KiB among the pod\'s container statuses, as upstream\'s status manager', () => {
    const pod = makePod({ containers: [c('a'), c('b'), c('d')], initContainers: [c('i')], restartPolicy: 'Never' });
    const long = 'x'.repeat(4096);
    const s = status(pod, [sandbox(), exited(pod, 'i', 0, { message: long }), ...['a', 'b', 'd'].map((n) => exited(pod, n, 1, { message: long }))]);
    for (const x of [...(s.containerStatuses ?? []), ...(s.initContainerStatuses ?? [])]) expect(x.state?.terminated?.message).toHaveLength(3072);
    const one = makePod({ containers: [c('a')], restartPolicy: 'Never' });
    expect(status(one, [sandbox(), exited(one, 'a', 1, { message: long })]).containerStatuses?.[0]?.state?.terminated?.message).toHaveLength(4096);
  });
});

describe('activeDeadlineSeconds in the status', () => {
  const started = '2026-01-01T11:59:00Z'; // 60 s before NOW
  it('fails the pod with upstream\'s reason and message once the deadline has passed', () => {
    const pod = makePod({ activeDeadlineSeconds: 60, containers: [c('app')] });
    const s = status(pod, [sandbox({ state: 'exited' }), exited(pod, 'app', 137)], { previous: { phase: 'Running', startTime: started } });
    expect(s.phase).toBe('Failed');
    expect(s.reason).toBe('DeadlineExceeded');
    expect(s.message).toBe('Pod was active on the node longer than the specified deadline');
    expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason: 'PodFailed' });
    // Containers still running when the status is computed (the kill is on its way): Failed already.
    const running = status(pod, [sandbox(), ctr(pod, 'app')], { previous: { phase: 'Running', startTime: started } });
    expect([running.phase, running.reason]).toEqual(['Failed', 'DeadlineExceeded']);
  });

  it('leaves the pod alone before its deadline', () => {
    const pod = makePod({ activeDeadlineSeconds: 61, containers: [c('app')] });
    const s = status(pod, [sandbox(), ctr(pod, 'app')], { previous: { phase: 'Running', startTime: started } });
    expect(s.phase).toBe('Running');
    expect(s.reason).toBeUndefined();
  });

  it('keeps a pod that completed before its deadline Succeeded', () => {
    const pod = makePod({ activeDeadlineSeconds: 30, restartPolicy: 'Never', containers: [c('app')] });
    // Finished 40 s before NOW, 20 s after its start: in time.
    const s = status(pod, [sandbox({ state: 'exited' }), exited(pod, 'app', 0)], { previous: { phase: 'Succeeded', startTime: started } });
    expect(s.phase).toBe('Succeeded');
    expect(s.reason).toBeUndefined();
  });
});

describe('readiness gates', () => {
  const pod = makePod({ containers: [c('app')], readinessGates: [{ conditionType: 'example.com/lb' }, { conditionType: 'example.com/fw' }] });
  const rt = () => [sandbox(), ctr(pod, 'app')];

  it('holds Ready back while a gate\'s condition is missing or not True, with upstream\'s message', () => {
    const s = status(pod, rt(), { apiConditions: [gate('example.com/fw', 'False')] });
    expect(cond(s, 'ContainersReady')?.status).toBe('True');
    expect(cond(s, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ReadinessGatesNotReady',
      message: 'corresponding condition of pod readiness gate "example.com/lb" does not exist., the status of pod readiness gate "example.com/fw" is not "True", but False',
    });
  });

  it('is Ready once every gate\'s condition is True, and keeps those conditions as their owners set them', () => {
    const theirs = [gate('example.com/lb', 'True'), gate('example.com/fw', 'True')];
    const s = status(pod, rt(), { apiConditions: [...theirs, gate('Ready', 'False')] });
    expect(cond(s, 'Ready')?.status).toBe('True');
    expect(s.conditions?.filter((x) => x.type.startsWith('example.com/'))).toEqual(theirs);
    // The API's own Ready is not taken over: the agent computes it.
    expect(s.conditions?.filter((x) => x.type === 'Ready')).toHaveLength(1);
  });

  it('reports the containers first when they are not ready', () => {
    const s = status(pod, rt(), { ready: () => false, apiConditions: [] });
    expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady' });
  });

  it('carries the previous status\'s foreign conditions when the API\'s are unknown', () => {
    const previous = status(pod, rt(), { apiConditions: [gate('example.com/lb', 'True'), gate('example.com/fw', 'True')] });
    const s = status(pod, rt(), { previous });
    expect(cond(s, 'Ready')?.status).toBe('True');
    expect(cond(s, 'example.com/lb')?.status).toBe('True');
  });

  it('a pod without gates is Ready on its containers alone', () => {
    const plain = makePod({ containers: [c('app')] });
    expect(cond(status(plain, [sandbox(), ctr(plain, 'app')]), 'Ready')?.status).toBe('True');
  });

  it('a foreign condition changed in the API is not a divergence the agent puts back', () => {
    const wanted = status(pod, rt(), { apiConditions: [gate('example.com/lb', 'False'), gate('example.com/fw', 'True')] });
    const inApi: PodStatus = { ...wanted, conditions: (wanted.conditions ?? []).map((x) => (x.type === 'example.com/lb' ? { ...x, status: 'True' } : x)) };
    expect(statusDiverged(wanted, inApi)).toBe(false);
    const readyFlipped: PodStatus = { ...wanted, conditions: (wanted.conditions ?? []).map((x) => (x.type === 'Ready' ? { ...x, status: 'True' } : x)) };
    expect(statusDiverged(wanted, readyFlipped)).toBe(true);
  });
});

