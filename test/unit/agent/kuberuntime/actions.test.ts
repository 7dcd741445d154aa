import { describe, expect, it } from 'vitest';
import { latestByName, latestSandbox, shouldRestart, type PodActions } from '../../../../agent/kuberuntime/actions.js';
import type { Pod } from '../../../../control/api/index.js';
import { c, compute, ctr, exited, makePod, NOW, sandbox } from './fixtures.js';


const started = (a: PodActions): Array<[string, boolean, number]> => a.containersToStart.map((s) => [s.container.name, s.init, s.attempt]);
const killed = (a: PodActions): string[] => a.containersToKill.map((k) => k.id);

const twoApps = (restartPolicy = 'Always'): Pod => makePod({ restartPolicy, containers: [c('app'), c('side')] });
const withInits = (restartPolicy = 'Always'): Pod => makePod({ restartPolicy, initContainers: [c('init1'), c('init2')], containers: [c('app')] });

describe('computePodActions: a new pod', () => {
  it('creates the sandbox (attempt 0) and starts every app container', () => {
    const a = compute(twoApps(), []);
    expect(a.createSandbox).toBe(true);
    expect(a.sandboxAttempt).toBe(0);
    expect(a.killPod).toBe(false);
    expect(a.sandboxId).toBeUndefined();
    expect(started(a)).toEqual([
      ['app', false, 0],
      ['side', false, 0],
    ]);
    expect(a.containersToKill).toEqual([]);
    expect(a.containersToRemove).toEqual([]);
  });

  it('with init containers starts only the first init container', () => {
    const a = compute(withInits(), []);
    expect(a.createSandbox).toBe(true);
    expect(started(a)).toEqual([['init1', true, 0]]);
  });
});

describe('computePodActions: the sandbox', () => {
  it.each([
    ['exited', sandbox({ state: 'exited', attempt: 2 })],
    ['running without an IP', sandbox({ ip: undefined, attempt: 2 })],
    ['unknown', sandbox({ state: 'unknown', attempt: 2 })],
  ])('a sandbox that is %s is killed and re-created with attempt+1', (_what, sb) => {
    const pod = twoApps();
    const app = ctr(pod, 'app', { attempt: 3 });
    const a = compute(pod, [sb, app]);
    expect(a.killPod).toBe(true);
    expect(a.createSandbox).toBe(true);
    expect(a.sandboxAttempt).toBe(3);
    // Containers restart in the new sandbox, counting on from their previous instance.
    expect(started(a)).toEqual([
      ['app', false, 4],
      ['side', false, 0],
    ]);
    expect(a.containersToStart[0]?.previous).toEqual({ startedAt: app.startedAt, finishedAt: undefined });
  });

  it('a dead sandbox with nothing active left needs no killPod', () => {
    const pod = twoApps();
    const a = compute(pod, [sandbox({ state: 'exited' }), exited(pod, 'app', 137), exited(pod, 'side', 137)]);
    expect(a.killPod).toBe(false);
    expect(a.createSandbox).toBe(true);
  });

  it('a hostNetwork sandbox needs no pod IP', () => {
    const pod = makePod({ hostNetwork: true, containers: [c('app')] });
    const sb = sandbox({ ip: undefined, hostNetwork: true });
    const a = compute(pod, [sb, ctr(pod, 'app')]);
    expect(a.createSandbox).toBe(false);
    expect(a.killPod).toBe(false);
    expect(a.sandboxId).toBe(sb.id);
    expect(a.containersToStart).toEqual([]);
  });

  it('a healthy sandbox is joined, not re-created', () => {
    const pod = twoApps();
    const sb = sandbox();
    const a = compute(pod, [sb, ctr(pod, 'app')]);
    expect(a.createSandbox).toBe(false);
    expect(a.sandboxId).toBe(sb.id);
    expect(started(a)).toEqual([['side', false, 0]]);
  });

  it('restartPolicy Never: a dead sandbox whose containers already ran is not re-created', () => {
    const pod = twoApps('Never');
    const a = compute(pod, [sandbox({ state: 'exited' }), ctr(pod, 'app'), exited(pod, 'side', 0)]);
    expect(a.killPod).toBe(true);
    expect(a.createSandbox).toBe(false);
    expect(a.containersToStart).toEqual([]);
  });

  it('restartPolicy Never: a dead sandbox whose init container already ran is not re-created (nothing runs twice)', () => {
    // Upstream counts every container status of the pod, init containers included.
    const pod = withInits('Never');
    const a = compute(pod, [sandbox({ state: 'exited' }), exited(pod, 'init1', 0)]);
    expect(a.createSandbox).toBe(false);
    expect(a.containersToStart).toEqual([]);
  });

  it('restartPolicy Never: a dead sandbox with no container run yet is re-created', () => {
    const pod = twoApps('Never');
    const a = compute(pod, [sandbox({ state: 'exited' })]);
    expect(a.createSandbox).toBe(true);
    expect(a.sandboxAttempt).toBe(1);
    expect(started(a).map(([n]) => n)).toEqual(['app', 'side']);
  });

  it('restartPolicy OnFailure: a dead sandbox whose containers all succeeded is not re-created', () => {
    const pod = twoApps('OnFailure');
    const a = compute(pod, [sandbox({ state: 'exited' }), exited(pod, 'app', 0), exited(pod, 'side', 0)]);
    expect(a.createSandbox).toBe(false);
    expect(a.containersToStart).toEqual([]);
  });

  it('restartPolicy OnFailure: only the containers that did not succeed start in the new sandbox', () => {
    const pod = twoApps('OnFailure');
    const a = compute(pod, [sandbox({ state: 'exited' }), exited(pod, 'app', 0), exited(pod, 'side', 2, { attempt: 1 })]);
    expect(a.createSandbox).toBe(true);
    expect(started(a)).toEqual([['side', false, 2]]);
  });
});

describe('computePodActions: init containers', () => {
  it('runs them one at a time, in order', () => {
    const pod = withInits();
    const sb = sandbox();
    expect(started(compute(pod, [sb, exited(pod, 'init1', 0)]))).toEqual([['init2', true, 0]]);
    // A running init container is waited for; nothing else starts.
    const running = compute(pod, [sb, exited(pod, 'init1', 0), ctr(pod, 'init2')]);
    expect(running.containersToStart).toEqual([]);
    expect(running.killPod).toBe(false);
    // Every init container done: the app containers start.
    expect(started(compute(pod, [sb, exited(pod, 'init1', 0), exited(pod, 'init2', 0)]))).toEqual([['app', false, 0]]);
  });

  it('restartPolicy Never: a failed init container fails the pod (killPod, nothing starts)', () => {
    const pod = withInits('Never');
    const a = compute(pod, [sandbox(), exited(pod, 'init1', 0), exited(pod, 'init2', 1)]);
    expect(a.killPod).toBe(true);
    expect(a.containersToStart).toEqual([]);
    expect(a.createSandbox).toBe(false);
  });

  it.each(['Always', 'OnFailure'])('restartPolicy %s: a failed init container restarts (attempt+1) once its back-off allows', (policy) => {
    const pod = withInits(policy);
    const init1 = exited(pod, 'init1', 1, { attempt: 2 });
    const a = compute(pod, [sandbox(), init1]);
    expect(a.killPod).toBe(false);
    expect(started(a)).toEqual([['init1', true, 3]]);

    const seen: Array<[string, number]> = [];
    const waiting = compute(pod, [sandbox(), init1], {
      backoffRemaining: (name, finishedAt) => {
        seen.push([name, finishedAt]);
        return 5000;
      },
      backoffDelay: () => 40_000,
    });
    expect(seen).toEqual([['init1', init1.finishedAt?.getTime()]]);
    expect(waiting.containersToStart).toEqual([]);
    expect(waiting.waiting.get('init1')).toEqual({
      reason: 'CrashLoopBackOff',
      message: 'back-off 40s restarting failed container=init1 pod=web_default(uid-1)',
      retryAt: NOW + 5000,
    });
  });

  it('an init container left in "created" is removed from the way and started again', () => {
    const pod = withInits();
    const left = ctr(pod, 'init1', { state: 'created', attempt: 1, startedAt: undefined });
    const a = compute(pod, [sandbox(), left]);
    expect(killed(a)).toEqual([left.id]);
    expect(started(a)).toEqual([['init1', true, 2]]);
  });
});

describe('computePodActions: app containers that exited', () => {
  it.each([
    ['Always', 0, true],
    ['Always', 1, true],
    ['OnFailure', 0, false],
    ['OnFailure', 1, true],
    ['Never', 0, false],
    ['Never', 1, false],
  ] as const)('restartPolicy %s, exit code %i: restart=%s', (policy, code, restart) => {
    const pod = makePod({ restartPolicy: policy, containers: [c('app'), c('side')] });
    const dead = exited(pod, 'app', code, { attempt: 4 });
    const a = compute(pod, [sandbox(), dead, ctr(pod, 'side')]);
    expect(shouldRestart(policy, code)).toBe(restart);
    expect(started(a)).toEqual(restart ? [['app', false, 5]] : []);
    expect(a.containersToKill).toEqual([]);
    expect(a.createSandbox).toBe(false);
    if (restart) expect(a.containersToStart[0]?.previous).toEqual({ startedAt: dead.startedAt, finishedAt: dead.finishedAt });
  });

  it('CrashLoopBackOff: a container still in back-off waits, with upstream wording and when the wait ends', () => {
    const pod = twoApps();
    const dead = exited(pod, 'app', 1, { attempt: 3 });
    const a = compute(pod, [sandbox(), dead, ctr(pod, 'side')], { backoffRemaining: () => 12_345, backoffDelay: () => 80_000 });
    expect(a.containersToStart).toEqual([]);
    expect(a.killPod).toBe(false);
    expect(a.waiting.get('app')).toEqual({
      reason: 'CrashLoopBackOff',
      // Upstream prints the delay as a Go duration.
      message: 'back-off 1m20s restarting failed container=app pod=web_default(uid-1)',
      retryAt: NOW + 12_345,
    });
    expect(a.waiting.has('side')).toBe(false);
  });

  it.each([
    [10_000, '10s'],
    [80_000, '1m20s'],
    [300_000, '5m0s'],
    [500, '500ms'],
    [1500, '1.5s'],
    [3_600_000, '1h0m0s'],
  ])('prints a %i ms back-off as Go does: %s', (ms, text) => {
    const pod = makePod({ containers: [c('app')] });
    const a = compute(pod, [sandbox(), exited(pod, 'app', 1)], { backoffRemaining: () => 1, backoffDelay: () => ms });
    expect(a.waiting.get('app')?.message).toBe(`back-off ${text} restarting failed container=app pod=web_default(uid-1)`);
  });

  it('a container left in "created" is killed and started again with attempt+1', () => {
    const pod = twoApps();
    const left = ctr(pod, 'app', { state: 'created', attempt: 2, startedAt: undefined });
    const a = compute(pod, [sandbox(), left, ctr(pod, 'side')]);
    expect(a.containersToKill).toEqual([{ id: left.id, name: 'app', reason: 'Killing', message: expect.any(String) }]);
    expect(started(a)).toEqual([['app', false, 3]]);
  });

  it('restartPolicy Never: once every container has finished, the sandbox is stopped (upstream keepCount == 0)', () => {
    const pod = twoApps('Never');
    const a = compute(pod, [sandbox(), exited(pod, 'app', 0), exited(pod, 'side', 1)]);
    expect(a.killPod).toBe(true);
    expect(a.createSandbox).toBe(false);
    expect(a.containersToStart).toEqual([]);
  });

  it('restartPolicy OnFailure: once every container has succeeded, the sandbox is stopped', () => {
    const pod = twoApps('OnFailure');
    expect(compute(pod, [sandbox(), exited(pod, 'app', 0), exited(pod, 'side', 0)]).killPod).toBe(true);
  });

  it('a pod waiting out a back-off keeps its sandbox', () => {
    const pod = makePod({ containers: [c('app')] });
    const a = compute(pod, [sandbox(), exited(pod, 'app', 1)], { backoffRemaining: () => 1000, backoffDelay: () => 10_000 });
    expect(a.killPod).toBe(false);
  });
});

describe('computePodActions: running containers', () => {
  const probed = (policy = 'Always'): Pod =>
    makePod({
      restartPolicy: policy,
      containers: [
        c('app', {
          livenessProbe: { exec: { command: ['true'] } },
          startupProbe: { exec: { command: ['true'] } },
        }),
      ],
    });

  it('keeps a healthy running container', () => {
    const pod = probed();
    const a = compute(pod, [sandbox(), ctr(pod, 'app')]);
    expect(a.containersToKill).toEqual([]);
    expect(a.containersToStart).toEqual([]);
    expect(a.killPod).toBe(false);
    expect(a.waiting.size).toBe(0);
  });

  it.each([
    ['liveness', 'failed liveness probe'],
    ['startup', 'failed startup probe'],
  ] as const)('a %s failure kills the container and restarts it (attempt+1)', (kind, words) => {
    const pod = probed();
    const app = ctr(pod, 'app', { attempt: 1 });
    const calls: string[] = [];
    const a = compute(pod, [sandbox(), app], {
      [kind]: (name: string, id: string) => {
        calls.push(`${name}/${id}`);
        return 'failure';
      },
    });
    expect(calls).toContain(`app/${app.id}`);
    // The cause picks the probe's own terminationGracePeriodSeconds for the stop.
    expect(a.containersToKill).toEqual([{ id: app.id, name: 'app', reason: 'Killing', message: `Container app ${words}, will be restarted`, cause: `${kind}Probe` }]);
    expect(started(a)).toEqual([['app', false, 2]]);
    expect(a.killPod).toBe(false);
  });

  it.each(['liveness', 'startup'] as const)('restartPolicy Never: a %s failure kills the container and does not restart it', (kind) => {
    const pod = probed('Never');
    const app = ctr(pod, 'app');
    const a = compute(pod, [sandbox(), app], { [kind]: () => 'failure' });
    expect(killed(a)).toEqual([app.id]);
    // Upstream adds ", will be restarted" only when the container will be.
    expect(a.containersToKill[0]?.message).toBe(`Container app failed ${kind} probe`);
    expect(a.containersToStart).toEqual([]);
  });

  it('a liveness failure after an earlier restart waits out the back-off from the previous dead instance (CrashLoopBackOff)', () => {
    const pod = probed();
    const dead = exited(pod, 'app', 137, { attempt: 0, finishedAt: new Date(NOW - 3000) });
    const app = ctr(pod, 'app', { attempt: 1 });
    const since: number[] = [];
    const a = compute(pod, [sandbox(), dead, app], {
      liveness: () => 'failure',
      backoffRemaining: (_name, finishedAt) => {
        since.push(finishedAt);
        return Math.max(0, finishedAt + 10_000 - NOW);
      },
      backoffDelay: () => 10_000,
    });
    expect(since).toEqual([NOW - 3000]);
    expect(killed(a)).toEqual([app.id]);
    expect(a.containersToStart).toEqual([]);
    expect(a.waiting.get('app')).toEqual({ reason: 'CrashLoopBackOff', message: `back-off 10s restarting failed container=app pod=web_default(${pod.metadata.uid})`, retryAt: NOW + 7000 });
    expect(a.killPod).toBe(false);
  });

  it('a liveness failure restarts at once when the back-off since the previous dead instance is over', () => {
    const pod = probed();
    const dead = exited(pod, 'app', 137, { attempt: 0, finishedAt: new Date(NOW - 60_000) });
    const app = ctr(pod, 'app', { attempt: 1 });
    const a = compute(pod, [sandbox(), dead, app], { liveness: () => 'failure', backoffRemaining: (_n, finishedAt) => Math.max(0, finishedAt + 10_000 - NOW) });
    expect(started(a)).toEqual([['app', false, 2]]);
    expect(a.waiting.size).toBe(0);
  });

  it('restartPolicy OnFailure: a liveness failure restarts the container (a kill is a failure)', () => {
    const pod = probed('OnFailure');
    const a = compute(pod, [sandbox(), ctr(pod, 'app')], { liveness: () => 'failure' });
    expect(started(a)).toEqual([['app', false, 1]]);
  });

  it.each(['unknown', 'success'] as const)('a %s liveness verdict keeps the container', (verdict) => {
    const pod = probed();
    expect(compute(pod, [sandbox(), ctr(pod, 'app')], { liveness: () => verdict }).containersToKill).toEqual([]);
  });

  it('a failure reported for a container without that probe is ignored', () => {
    const pod = twoApps();
    const a = compute(pod, [sandbox(), ctr(pod, 'app'), ctr(pod, 'side')], { liveness: () => 'failure', startup: () => 'failure' });
    expect(a.containersToKill).toEqual([]);
  });

  it.each(['Always', 'OnFailure', 'Never'])('restartPolicy %s: a changed spec replaces the container (whatever the policy)', (policy) => {
    const pod = makePod({ restartPolicy: policy, containers: [c('app')] });
    const app = ctr(pod, 'app', { specHash: '0123456789abcdef', attempt: 2 });
    const a = compute(pod, [sandbox(), app]);
    expect(a.containersToKill).toEqual([{ id: app.id, name: 'app', reason: 'Killing', message: 'Container app definition changed, will be restarted' }]);
    expect(started(a)).toEqual([['app', false, 3]]);
  });

  it('an empty recorded spec hash (a container from before hashes) is not a change', () => {
    const pod = twoApps();
    expect(compute(pod, [sandbox(), ctr(pod, 'app', { specHash: '' }), ctr(pod, 'side')]).containersToKill).toEqual([]);
  });
});

describe('computePodActions: garbage', () => {
  it('keeps, per container, the newest instance and the newest dead one (lastState); removes older dead ones', () => {
    const pod = twoApps();
    const a0 = exited(pod, 'app', 1, { attempt: 0 });
    const a1 = exited(pod, 'app', 1, { attempt: 1 });
    const a2 = ctr(pod, 'app', { attempt: 2 });
    const s0 = exited(pod, 'side', 1, { attempt: 0 });
    const s1 = exited(pod, 'side', 1, { attempt: 1 });
    const a = compute(pod, [sandbox(), a0, a1, a2, s0, s1], { backoffRemaining: () => 1000 });
    // Upstream's container GC keeps one dead instance per container beside the running one.
    expect(a.containersToRemove.sort()).toEqual([a0.id, s0.id].sort());
  });

  it('removes dead sandboxes other than the one in use, never a running one', () => {
    const pod = twoApps();
    const old0 = sandbox({ attempt: 0, state: 'exited' });
    const old1 = sandbox({ attempt: 1, state: 'exited' });
    const cur = sandbox({ attempt: 2 });
    const a = compute(pod, [old0, old1, cur, ctr(pod, 'app'), ctr(pod, 'side')]);
    expect(a.containersToRemove.sort()).toEqual([old0.id, old1.id].sort());
    expect(a.containersToRemove).not.toContain(cur.id);
  });

  it('keeps the newest dead sandbox while it is being replaced, and removes older ones', () => {
    const pod = twoApps();
    const old0 = sandbox({ attempt: 0, state: 'exited' });
    const old1 = sandbox({ attempt: 1, state: 'exited' });
    const a = compute(pod, [old0, old1]);
    expect(a.createSandbox).toBe(true);
    expect(a.sandboxAttempt).toBe(2);
    expect(a.containersToRemove).toEqual([old0.id]);
  });

  it('never removes a running container or the newest instance', () => {
    const pod = twoApps();
    const old = ctr(pod, 'app', { attempt: 0 });
    const newer = ctr(pod, 'app', { attempt: 1, state: 'created' });
    const a = compute(pod, [sandbox(), old, newer, ctr(pod, 'side')]);
    expect(a.containersToRemove).toEqual([]);
  });
});

describe('latestByName / latestSandbox', () => {
  it('picks the highest attempt, then the newest creation, and leaves the sandbox out', () => {
    const pod = twoApps();
    const a1 = ctr(pod, 'app', { attempt: 1, createdAt: new Date(NOW - 10) });
    const a1b = ctr(pod, 'app', { attempt: 1, createdAt: new Date(NOW) });
    const a0 = ctr(pod, 'app', { attempt: 0, createdAt: new Date(NOW + 5000) });
    const sb0 = sandbox({ attempt: 0 });
    const sb1 = sandbox({ attempt: 1 });
    const latest = latestByName([a1, a0, sb1, a1b, sb0]);
    expect([...latest.keys()]).toEqual(['app']);
    expect(latest.get('app')?.id).toBe(a1b.id);
    expect(latestSandbox([sb0, a1, sb1])?.id).toBe(sb1.id);
    expect(latestSandbox([a1])).toBeUndefined();
  });
});
