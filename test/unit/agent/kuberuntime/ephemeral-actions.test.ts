import { describe, expect, it } from 'vitest';
import type { PodActions } from '../../../../agent/kuberuntime/actions.js';
import { c, compute, ctr, exited, makePod, NOW, sandbox, withEphemeral } from './fixtures.js';

/** computePodActions for ephemeral containers (kubectl debug), as upstream's computePodActions/SyncPod treat them. */


const ephemeral = (a: PodActions): string[] => a.ephemeralContainersToStart.map((e) => e.name);
const started = (a: PodActions): Array<[string, boolean, number]> => a.containersToStart.map((s) => [s.container.name, s.init, s.attempt]);
const debug = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ name: 'debugger', image: 'skiff/busybox:1.0', stdin: true, tty: true, ...extra });

describe('computePodActions: ephemeral containers', () => {
  it('an ephemeral container added to a running pod is started once the sandbox is up, touching nothing else', () => {
    const before = makePod({ containers: [c('app'), c('side')] });
    const pod = withEphemeral(before, debug({ targetContainerName: 'app' }));
    const a = compute(pod, [sandbox(), ctr(before, 'app'), ctr(before, 'side')]);
    expect(ephemeral(a)).toEqual(['debugger']);
    expect(a.ephemeralContainersToStart[0]?.targetContainerName).toBe('app');
    // The pod's update is in place: the other containers' spec hashes are unchanged, so none is killed or restarted.
    expect(a.killPod).toBe(false);
    expect(a.createSandbox).toBe(false);
    expect(a.containersToKill).toEqual([]);
    expect(a.containersToStart).toEqual([]);
  });

  it('is not started in the sync that creates the sandbox (a new pod, or a dead sandbox)', () => {
    const pod = withEphemeral(makePod({ containers: [c('app')] }), debug());
    const fresh = compute(pod, []);
    expect(fresh.createSandbox).toBe(true);
    expect(ephemeral(fresh)).toEqual([]);
    const dead = compute(pod, [sandbox({ state: 'exited' }), exited(pod, 'app', 137)]);
    expect(dead.createSandbox).toBe(true);
    expect(ephemeral(dead)).toEqual([]);
  });

  it('a running ephemeral container is kept: no probe, no spec hash, no restart decision applies', () => {
    const pod = withEphemeral(makePod({ containers: [c('app')] }), debug());
    const a = compute(pod, [sandbox(), ctr(pod, 'app'), ctr(pod, 'debugger', { specHash: 'something-else' })], { liveness: () => 'failure', startup: () => 'failure' });
    expect(ephemeral(a)).toEqual([]);
    expect(a.containersToKill).toEqual([]);
    expect(a.killPod).toBe(false);
  });

  it.each([
    ['Always', 0],
    ['Always', 1],
    ['OnFailure', 1],
    ['Never', 130],
  ])('restartPolicy %s: an ephemeral container that exited with %i is never restarted, and no back-off is waited', (policy, code) => {
    const pod = withEphemeral(makePod({ restartPolicy: policy, containers: [c('app')] }), debug());
    const a = compute(pod, [sandbox(), ctr(pod, 'app'), exited(pod, 'debugger', code)], { backoffRemaining: () => 5000, backoffDelay: () => 10_000 });
    expect(ephemeral(a)).toEqual([]);
    expect(a.containersToStart).toEqual([]);
    expect(a.waiting.size).toBe(0);
    expect(a.killPod).toBe(false);
  });

  it('one left in "created" (its start failed) is not started again either: it has had its one attempt', () => {
    const pod = withEphemeral(makePod({ containers: [c('app')] }), debug());
    const a = compute(pod, [sandbox(), ctr(pod, 'app'), ctr(pod, 'debugger', { state: 'created' })]);
    expect(ephemeral(a)).toEqual([]);
    expect(a.containersToKill).toEqual([]);
  });

  it('is started while init containers are still running, and beside the next init container', () => {
    const base = makePod({ initContainers: [c('init1'), c('init2')], containers: [c('app')] });
    const pod = withEphemeral(base, debug({ targetContainerName: 'init1' }));
    const during = compute(pod, [sandbox(), ctr(base, 'init1')]);
    expect(ephemeral(during)).toEqual(['debugger']);
    expect(started(during)).toEqual([]);
    const between = compute(pod, [sandbox(), exited(base, 'init1', 0)]);
    expect(ephemeral(between)).toEqual(['debugger']);
    expect(started(between)).toEqual([['init2', true, 0]]);
  });

  it('is started while a failing init container waits out its back-off', () => {
    const base = makePod({ initContainers: [c('init1')], containers: [c('app')] });
    const pod = withEphemeral(base, debug());
    const a = compute(pod, [sandbox(), exited(base, 'init1', 1)], { backoffRemaining: () => 5000, backoffDelay: () => 10_000 });
    expect(a.waiting.get('init1')?.reason).toBe('CrashLoopBackOff');
    expect(ephemeral(a)).toEqual(['debugger']);
  });

  it('only the ones not yet created start; several may be added over time', () => {
    const base = makePod({ containers: [c('app')] });
    const pod = withEphemeral(base, debug(), debug({ name: 'debugger-2' }), debug({ name: 'debugger-3' }));
    const a = compute(pod, [sandbox(), ctr(base, 'app'), exited(pod, 'debugger', 0), ctr(pod, 'debugger-2')]);
    expect(ephemeral(a)).toEqual(['debugger-3']);
  });

  it('is not started again after the sandbox is re-created', () => {
    const pod = withEphemeral(makePod({ containers: [c('app')] }), debug());
    // The sandbox died while the debugger ran: the pod is killed (the debugger with it) and the sandbox re-created.
    const oldSandbox = sandbox({ attempt: 0, state: 'exited' });
    const oldDebugger = ctr(pod, 'debugger');
    const dying = compute(pod, [oldSandbox, ctr(pod, 'app'), oldDebugger]);
    expect(dying.killPod).toBe(true);
    expect(dying.createSandbox).toBe(true);
    expect(ephemeral(dying)).toEqual([]);
    expect(started(dying)).toEqual([['app', false, 1]]);
    // Its dead instance is the status's record: the GC keeps it.
    expect(dying.containersToRemove).not.toContain(oldDebugger.id);
    // The next sync, in the new sandbox: the app runs again, the debugger does not.
    const next = compute(pod, [oldSandbox, sandbox({ attempt: 1 }), exited(pod, 'app', 137), ctr(pod, 'app', { attempt: 1 }), { ...oldDebugger, state: 'exited', exitCode: 137, finishedAt: new Date(NOW) }]);
    expect(next.createSandbox).toBe(false);
    expect(ephemeral(next)).toEqual([]);
    expect(next.containersToStart).toEqual([]);
    expect(next.containersToRemove).not.toContain(oldDebugger.id);
  });

  it('is killed with the pod when its sandbox dies', () => {
    const pod = withEphemeral(makePod({ containers: [c('app')] }), debug());
    const a = compute(pod, [sandbox({ state: 'exited' }), exited(pod, 'app', 137), ctr(pod, 'debugger')]);
    expect(a.killPod).toBe(true);
  });

  it('does not keep a finished pod alive: killed with it, and none is started in a sandbox about to stop', () => {
    const base = makePod({ restartPolicy: 'Never', containers: [c('app')] });
    const pod = withEphemeral(base, debug(), debug({ name: 'debugger-2' }));
    const a = compute(pod, [sandbox(), exited(base, 'app', 0), ctr(pod, 'debugger')]);
    expect(a.killPod).toBe(true);
    expect(ephemeral(a)).toEqual([]);
  });

  it('is not started in a pod whose init container failed under restartPolicy Never', () => {
    const base = makePod({ restartPolicy: 'Never', initContainers: [c('init1')], containers: [c('app')] });
    const pod = withEphemeral(base, debug());
    const a = compute(pod, [sandbox(), exited(base, 'init1', 1)]);
    expect(a.killPod).toBe(true);
    expect(ephemeral(a)).toEqual([]);
  });
});
