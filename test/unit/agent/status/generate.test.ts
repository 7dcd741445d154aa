import { describe, expect, it } from 'vitest';
import type { Waiting } from '../../../../agent/kuberuntime/actions.js';
import { podPhase, qosClass } from '../../../../agent/status/generate.js';
import type { ContainerStatus, PodStatus } from '../../../../control/api/index.js';
import { c, ctr, exited, makePod, NOW, sandbox, status } from '../kuberuntime/fixtures.js';

const NOW_ISO = new Date(NOW).toISOString().replace('.000Z', 'Z');


const cond = (s: PodStatus, type: string) => s.conditions?.find((x) => x.type === type);
const cs = (s: PodStatus, name: string): ContainerStatus | undefined => s.containerStatuses?.find((x) => x.name === name);

// ---- podPhase: statuses written by hand, as upstream's getPhase tests do ----

type St = ContainerStatus;
const running = (name: string): St => ({ name, ready: true, restartCount: 0, image: 'i', imageID: '', state: { running: { startedAt: NOW_ISO } } });
const succeeded = (name: string): St => ({ name, ready: false, restartCount: 0, image: 'i', imageID: '', state: { terminated: { exitCode: 0, reason: 'Completed' } } });
const failed = (name: string): St => ({ name, ready: false, restartCount: 0, image: 'i', imageID: '', state: { terminated: { exitCode: 1, reason: 'Error' } } });
const waiting = (name: string, reason = 'ContainerCreating'): St => ({ name, ready: false, restartCount: 0, image: 'i', imageID: '', state: { waiting: { reason } } });
/** Waiting to restart after a run (CrashLoopBackOff): it has a last termination state. */
const restarting = (name: string, exitCode = 1): St => ({
  name,
  ready: false,
  restartCount: 1,
  image: 'i',
  imageID: '',
  state: { waiting: { reason: 'CrashLoopBackOff' } },
  lastState: { terminated: { exitCode } },
});
const noState = (name: string): St => ({ name, ready: false, restartCount: 0, image: 'i', imageID: '' });

describe('podPhase (upstream getPhase)', () => {
  const two = (policy: string) => makePod({ restartPolicy: policy, containers: [c('a'), c('b')] });

  it.each([
    // [policy, a, b, phase]
    ['Always', running('a'), running('b'), 'Running'],
    ['Always', succeeded('a'), failed('b'), 'Running'],
    ['Always', succeeded('a'), succeeded('b'), 'Running'],
    ['Always', running('a'), succeeded('b'), 'Running'],
    ['Always', running('a'), waiting('b'), 'Pending'],
    ['Always', running('a'), restarting('b'), 'Running'],
    ['Always', restarting('a'), restarting('b'), 'Running'],
    ['Always', running('a'), noState('b'), 'Pending'],
    ['Never', running('a'), running('b'), 'Running'],
    ['Never', succeeded('a'), succeeded('b'), 'Succeeded'],
    ['Never', failed('a'), failed('b'), 'Failed'],
    ['Never', succeeded('a'), running('b'), 'Running'],
    ['Never', succeeded('a'), failed('b'), 'Failed'],
    ['Never', waiting('a'), running('b'), 'Pending'],
    ['OnFailure', running('a'), running('b'), 'Running'],
    ['OnFailure', succeeded('a'), succeeded('b'), 'Succeeded'],
    ['OnFailure', failed('a'), failed('b'), 'Running'],
    ['OnFailure', succeeded('a'), running('b'), 'Running'],
    ['OnFailure', succeeded('a'), failed('b'), 'Running'],
    ['OnFailure', waiting('a'), running('b'), 'Pending'],
    ['OnFailure', restarting('a'), succeeded('b'), 'Running'],
    ['OnFailure', waiting('a'), waiting('b'), 'Pending'],
  ] as const)('restartPolicy %s: [%j, %j] → %s', (policy, a, b, phase) => {
    expect(podPhase(two(policy), [a, b], [])).toBe(phase);
  });

  const inits = (policy: string) => makePod({ restartPolicy: policy, initContainers: [c('i1'), c('i2')], containers: [c('a')] });

  it.each([
    // [policy, init statuses, app status, phase]
    ['Always', [running('i1'), waiting('i2')], waiting('a', 'PodInitializing'), 'Pending'],
    ['Always', [failed('i1'), waiting('i2')], waiting('a', 'PodInitializing'), 'Pending'],
    ['Always', [restarting('i1'), waiting('i2')], waiting('a', 'PodInitializing'), 'Pending'],
    ['Always', [succeeded('i1'), succeeded('i2')], running('a'), 'Running'],
    ['OnFailure', [failed('i1'), waiting('i2')], waiting('a', 'PodInitializing'), 'Pending'],
    ['OnFailure', [restarting('i1'), waiting('i2')], waiting('a', 'PodInitializing'), 'Pending'],
    ['Never', [running('i1'), waiting('i2')], waiting('a', 'PodInitializing'), 'Pending'],
    ['Never', [succeeded('i1'), failed('i2')], waiting('a', 'PodInitializing'), 'Failed'],
    ['Never', [restarting('i1'), waiting('i2')], waiting('a', 'PodInitializing'), 'Failed'],
    ['Never', [succeeded('i1'), succeeded('i2')], succeeded('a'), 'Succeeded'],
    ['Never', [succeeded('i1'), succeeded('i2')], failed('a'), 'Failed'],
  ] as const)('with init containers, restartPolicy %s: %j, app %j → %s', (policy, initSt, app, phase) => {
    expect(podPhase(inits(policy), [app], [...initSt])).toBe(phase);
  });
});

// ---- generatePodStatus over runtime data ----

describe('generatePodStatus: phase from the runtime', () => {
  it('a new pod with nothing created yet is Pending, its containers ContainerCreating', () => {
    const pod = makePod({ containers: [c('app')] });
    const s = status(pod, []);
    expect(s.phase).toBe('Pending');
    expect(cs(s, 'app')?.state).toEqual({ waiting: { reason: 'ContainerCreating' } });
    expect(cs(s, 'app')?.ready).toBe(false);
    expect(cs(s, 'app')?.restartCount).toBe(0);
  });

  it('a running pod is Running', () => {
    const pod = makePod({ containers: [c('app')] });
    expect(status(pod, [sandbox(), ctr(pod, 'app')]).phase).toBe('Running');
  });

  it.each([
    ['Never', 0, 'Succeeded'],
    ['Never', 2, 'Failed'],
    ['OnFailure', 0, 'Succeeded'],
    ['OnFailure', 2, 'Running'],
    ['Always', 0, 'Running'],
    ['Always', 2, 'Running'],
  ] as const)('restartPolicy %s, the only container exited %i → %s', (policy, code, phase) => {
    const pod = makePod({ restartPolicy: policy, containers: [c('app')] });
    expect(status(pod, [sandbox(), exited(pod, 'app', code)]).phase).toBe(phase);
  });

  it('an init container failing under Never fails the pod', () => {
    const pod = makePod({ restartPolicy: 'Never', initContainers: [c('init')], containers: [c('app')] });
    const s = status(pod, [sandbox(), exited(pod, 'init', 3)]);
    expect(s.phase).toBe('Failed');
    expect(s.initContainerStatuses?.[0]?.state?.terminated?.exitCode).toBe(3);
  });
});

describe('generatePodStatus: conditions', () => {
  const types = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'];

  it('lists the kubelet conditions in upstream order, all True for a ready pod', () => {
    const pod = makePod({ containers: [c('app')] });
    const s = status(pod, [sandbox(), ctr(pod, 'app')]);
    expect(s.conditions?.map((x) => x.type)).toEqual(types);
    for (const x of s.conditions ?? []) {
      expect(x.status).toBe('True');
      expect(x.reason).toBeUndefined();
      expect(x.lastProbeTime).toBeNull();
      expect(x.lastTransitionTime).toBe(NOW_ISO);
    }
  });

  it('not-ready containers: Ready and ContainersReady False with ContainersNotReady naming them', () => {
    const pod = makePod({ containers: [c('app'), c('side'), c('third')] });
    const s = status(pod, [sandbox(), ctr(pod, 'app'), ctr(pod, 'side'), ctr(pod, 'third')], { ready: (name) => name === 'side' });
    for (const type of ['Ready', 'ContainersReady']) {
      expect(cond(s, type)).toMatchObject({ status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [app third]' });
    }
    expect(cond(s, 'PodReadyToStartContainers')?.status).toBe('True');
  });

  it('no sandbox yet: PodReadyToStartContainers False', () => {
    const pod = makePod({ containers: [c('app')] });
    const s = status(pod, []);
    expect(cond(s, 'PodReadyToStartContainers')?.status).toBe('False');
    expect(cond(s, 'PodScheduled')?.status).toBe('True');
  });

  it('init containers not done: Initialized False with ContainersNotInitialized naming the incomplete ones', () => {
    const pod = makePod({ initContainers: [c('i1'), c('i2')], containers: [c('app')] });
    const s = status(pod, [sandbox(), exited(pod, 'i1', 0), ctr(pod, 'i2')]);
    expect(cond(s, 'Initialized')).toMatchObject({ status: 'False', reason: 'ContainersNotInitialized', message: 'containers with incomplete status: [i2]' });
    expect(s.phase).toBe('Pending');
    // App containers wait for the init containers.
    expect(cs(s, 'app')?.state).toEqual({ waiting: { reason: 'PodInitializing' } });
  });

  it('containers not created yet in a pod with init containers wait with PodInitializing (upstream default)', () => {
    const pod = makePod({ initContainers: [c('i1'), c('i2')], containers: [c('app')] });
    const s = status(pod, [sandbox(), exited(pod, 'i1', 0)]);
    expect(s.initContainerStatuses?.[1]?.state).toEqual({ waiting: { reason: 'PodInitializing' } });
    expect(cs(s, 'app')?.state).toEqual({ waiting: { reason: 'PodInitializing' } });
    expect(cond(s, 'Initialized')?.message).toBe('containers with incomplete status: [i2]');
  });

  it('Succeeded: Ready/ContainersReady False with reason PodCompleted and no message', () => {
    const pod = makePod({ restartPolicy: 'Never', containers: [c('app')] });
    const s = status(pod, [sandbox({ state: 'exited' }), exited(pod, 'app', 0)]);
    expect(s.phase).toBe('Succeeded');
    for (const type of ['Ready', 'ContainersReady']) {
      expect(cond(s, type)?.status).toBe('False');
      expect(cond(s, type)?.reason).toBe('PodCompleted');
      expect(cond(s, type)?.message).toBeUndefined();
    }
    expect(cond(s, 'Initialized')?.status).toBe('True');
  });

  it('Failed: Ready/ContainersReady False with reason PodFailed (upstream), no message', () => {
    const pod = makePod({ restartPolicy: 'Never', containers: [c('app')] });
    const s = status(pod, [sandbox({ state: 'exited' }), exited(pod, 'app', 1)]);
    expect(s.phase).toBe('Failed');
    for (const type of ['Ready', 'ContainersReady']) {
      expect(cond(s, type)?.status).toBe('False');
      expect(cond(s, type)?.reason).toBe('PodFailed');
      expect(cond(s, type)?.message).toBeUndefined();
    }
  });

  it('keeps lastTransitionTime while a condition keeps its status, and moves it when the status changes', () => {
    const pod = makePod({ containers: [c('app')] });
    const runtime = [sandbox(), ctr(pod, 'app')];
    const first = status(pod, runtime, { now: new Date(NOW - 100_000) });
    const earlier = new Date(NOW - 100_000).toISOString().replace('.000Z', 'Z');
    // Same inputs later: every condition keeps its time.
    const same = status(pod, runtime, { previous: first });
    for (const x of same.conditions ?? []) expect(x.lastTransitionTime).toBe(earlier);
    // Readiness drops: Ready and ContainersReady move, the others stay.
    const dropped = status(pod, runtime, { previous: first, ready: () => false });
    expect(cond(dropped, 'Ready')?.lastTransitionTime).toBe(NOW_ISO);
    expect(cond(dropped, 'ContainersReady')?.lastTransitionTime).toBe(NOW_ISO);
    expect(cond(dropped, 'Initialized')?.lastTransitionTime).toBe(earlier);
    expect(cond(dropped, 'PodScheduled')?.lastTransitionTime).toBe(earlier);
  });
});

describe('generatePodStatus: containerStatuses', () => {
  it('running: state.running with startedAt, imageID, containerID docker://, restartCount from the attempt', () => {
    const pod = makePod({ containers: [c('app')] });
    const app = ctr(pod, 'app', { attempt: 4, imageRef: 'docker-pullable://busybox@sha256:abcd', startedAt: new Date(NOW - 5000) });
    const s = cs(status(pod, [sandbox(), app]), 'app');
    expect(s).toMatchObject({
      name: 'app',
      image: 'busybox:1.36',
      imageID: 'docker-pullable://busybox@sha256:abcd',
      containerID: `docker://${app.id}`,
      restartCount: 4,
      ready: true,
      started: true,
      state: { running: { startedAt: new Date(NOW - 5000).toISOString().replace('.000Z', 'Z') } },
    });
  });

  it('terminated: exit code, reason, times and containerID; lastState is the instance before', () => {
    const pod = makePod({ restartPolicy: 'Never', containers: [c('app')] });
    const prev = exited(pod, 'app', 7, { attempt: 0, reason: 'OOMKilled' });
    const cur = exited(pod, 'app', 0, { attempt: 1 });
    const s = cs(status(pod, [sandbox(), prev, cur]), 'app');
    expect(s?.state?.terminated).toEqual({
      exitCode: 0,
      reason: 'Completed',
      startedAt: cur.startedAt?.toISOString().replace('.000Z', 'Z'),
      finishedAt: cur.finishedAt?.toISOString().replace('.000Z', 'Z'),
      containerID: `docker://${cur.id}`,
    });
    expect(s?.lastState?.terminated).toMatchObject({ exitCode: 7, reason: 'OOMKilled', containerID: `docker://${prev.id}` });
    expect(s?.ready).toBe(false);
    expect(s?.started).toBe(false);
    expect(s?.restartCount).toBe(1);
  });

  it('CrashLoopBackOff: waiting with reason and message, the dead instance in lastState', () => {
    const pod = makePod({ containers: [c('app')] });
    const dead = exited(pod, 'app', 1, { attempt: 2 });
    const message = 'back-off 20s restarting failed container=app pod=web_default(uid-1)';
    const w = new Map<string, Waiting>([['app', { reason: 'CrashLoopBackOff', message, retryAt: NOW + 1 }]]);
    const s = cs(status(pod, [sandbox(), exited(pod, 'app', 1, { attempt: 1 }), dead], { waiting: w }), 'app');
    expect(s?.state).toEqual({ waiting: { reason: 'CrashLoopBackOff', message } });
    expect(s?.lastState?.terminated).toMatchObject({ exitCode: 1, reason: 'Error', containerID: `docker://${dead.id}` });
    expect(s?.restartCount).toBe(2);
    expect(s?.ready).toBe(false);
  });

  it('a running container after restarts shows the last death in lastState', () => {
    const pod = makePod({ containers: [c('app')] });
    const dead = exited(pod, 'app', 137, { attempt: 0 });
    const s = cs(status(pod, [sandbox(), dead, ctr(pod, 'app', { attempt: 1 })]), 'app');
    expect(s?.state?.running).toBeDefined();
    expect(s?.lastState?.terminated?.exitCode).toBe(137);
    expect(s?.restartCount).toBe(1);
  });

  it('a container never created shows why it waits (ErrImagePull ...)', () => {
    const pod = makePod({ containers: [c('app')] });
    const w = new Map<string, Waiting>([['app', { reason: 'ErrImagePull', message: 'Failed to pull image "busybox:1.36": nope' }]]);
    const s = cs(status(pod, [sandbox()], { waiting: w }), 'app');
    expect(s?.state).toEqual({ waiting: { reason: 'ErrImagePull', message: 'Failed to pull image "busybox:1.36": nope' } });
    expect(s?.lastState).toEqual({});
  });

  it.each([
    // [has probes? (passed via the callbacks), started, ready-probe, expected started, expected ready]
    [true, true, true, true],
    [true, false, true, false],
    [false, true, false, false],
    [false, false, false, false],
  ])('running with startup passed=%s and readiness=%s → started=%s ready=%s', (startedOk, readyOk, expStarted, expReady) => {
    const pod = makePod({ containers: [c('app')] });
    const s = cs(status(pod, [sandbox(), ctr(pod, 'app')], { started: () => startedOk, ready: () => readyOk }), 'app');
    expect(s?.started).toBe(expStarted);
    expect(s?.ready).toBe(expReady);
  });

  it('asks the probe callbacks about the current instance by id', () => {
    const pod = makePod({ containers: [c('app')] });
    const app = ctr(pod, 'app', { attempt: 1 });
    const asked: string[] = [];
    status(pod, [sandbox(), exited(pod, 'app', 1), app], {
      ready: (n, id) => (asked.push(`ready ${n} ${id}`), true),
      started: (n, id) => (asked.push(`started ${n} ${id}`), true),
    });
    expect(asked).toEqual([`started app ${app.id}`, `ready app ${app.id}`]);
  });

  it('init containers: their own statuses, a completed one is ready', () => {
    const pod = makePod({ initContainers: [c('i1'), c('i2')], containers: [c('app')] });
    const s = status(pod, [sandbox(), exited(pod, 'i1', 0), exited(pod, 'i2', 0), ctr(pod, 'app')]);
    expect(s.initContainerStatuses?.map((x) => [x.name, x.ready, x.state?.terminated?.reason])).toEqual([
      ['i1', true, 'Completed'],
      ['i2', true, 'Completed'],
    ]);
    expect(s.phase).toBe('Running');
    expect(cond(s, 'Initialized')?.status).toBe('True');
    // No init containers: no initContainerStatuses at all.
    const plain = makePod({ containers: [c('app')] });
    expect(status(plain, [sandbox(), ctr(plain, 'app')]).initContainerStatuses).toBeUndefined();
  });
});

describe('generatePodStatus: addresses and times', () => {
  it('podIP comes from the running sandbox; hostIP from the node', () => {
    const pod = makePod({ containers: [c('app')] });
    const s = status(pod, [sandbox({ ip: '10.88.0.9' }), ctr(pod, 'app')]);
    expect(s.podIP).toBe('10.88.0.9');
    expect(s.podIPs).toEqual([{ ip: '10.88.0.9' }]);
    expect(s.hostIP).toBe('192.168.1.10');
    expect(s.hostIPs).toEqual([{ ip: '192.168.1.10' }]);
  });

  it('a hostNetwork pod reports the host IP as its pod IP', () => {
    const pod = makePod({ hostNetwork: true, containers: [c('app')] });
    const s = status(pod, [sandbox({ ip: undefined, hostNetwork: true }), ctr(pod, 'app')]);
    expect(s.podIP).toBe('192.168.1.10');
  });

  it('without a running sandbox the previous podIP is kept (or none)', () => {
    const pod = makePod({ containers: [c('app')] });
    expect(status(pod, []).podIP).toBeUndefined();
    const prev = status(pod, [sandbox({ ip: '10.88.0.3' }), ctr(pod, 'app')]);
    expect(status(pod, [sandbox({ state: 'exited' })], { previous: prev }).podIP).toBe('10.88.0.3');
  });

  it('startTime is kept from the previous status, else the first container creation', () => {
    const pod = makePod({ containers: [c('app')] });
    const sb = sandbox({ createdAt: new Date(NOW - 90_000) });
    const first = status(pod, [sb, ctr(pod, 'app')]);
    expect(first.startTime).toBe(new Date(NOW - 90_000).toISOString().replace('.000Z', 'Z'));
    const later = status(pod, [sandbox({ createdAt: new Date(NOW - 1000) })], { previous: first });
    expect(later.startTime).toBe(first.startTime);
    expect(status(pod, []).startTime).toBe(NOW_ISO);
  });
});

describe('qosClass (upstream GetPodQOS)', () => {
  const res = (requests?: Record<string, string>, limits?: Record<string, string>) => ({ resources: { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) } });

  it.each([
    ['no resources anywhere', [c('a')], [], 'BestEffort'],
    ['only a zero request', [c('a', res({ cpu: '0' }))], [], 'BestEffort'],
    ['only a non-compute resource', [c('a', res({ 'ephemeral-storage': '1Gi' }))], [], 'BestEffort'],
    ['a cpu request only', [c('a', res({ cpu: '100m' }))], [], 'Burstable'],
    ['limits for cpu and memory (requests defaulted from them)', [c('a', res(undefined, { cpu: '1', memory: '1Gi' }))], [], 'Guaranteed'],
    ['requests equal to limits written differently', [c('a', res({ cpu: '1000m', memory: '1024Mi' }, { cpu: '1', memory: '1Gi' }))], [], 'Guaranteed'],
    ['requests below limits', [c('a', res({ cpu: '500m', memory: '1Gi' }, { cpu: '1', memory: '1Gi' }))], [], 'Burstable'],
    ['only a cpu limit', [c('a', res(undefined, { cpu: '1' }))], [], 'Burstable'],
    [
      'one container guaranteed, another without resources',
      [c('a', res(undefined, { cpu: '1', memory: '1Gi' })), c('b')],
      [],
      'Burstable',
    ],
    [
      'app containers guaranteed, an init container without resources',
      [c('a', res(undefined, { cpu: '1', memory: '1Gi' }))],
      [c('i')],
      'Burstable',
    ],
    [
      'every container and init container guaranteed',
      [c('a', res(undefined, { cpu: '1', memory: '1Gi' }))],
      [c('i', res(undefined, { cpu: '200m', memory: '64Mi' }))],
      'Guaranteed',
    ],
    ['only an init container has requests', [c('a')], [c('i', res({ memory: '64Mi' }))], 'Burstable'],
  ] as const)('%s', (_name, containers, initContainers, expected) => {
    const pod = makePod({ containers, initContainers });
    expect(qosClass(pod)).toBe(expected);
    expect(status(pod, []).qosClass).toBe(expected);
  });
});
