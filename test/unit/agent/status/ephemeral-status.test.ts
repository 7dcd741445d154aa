import { describe, expect, it } from 'vitest';
import { statusDiverged } from '../../../../agent/status/diverged.js';
import type { ContainerStatus, PodStatus } from '../../../../control/api/index.js';
import { c, ctr, exited, makePod, NOW, sandbox, status, withEphemeral } from '../kuberuntime/fixtures.js';

/** status.ephemeralContainerStatuses, as upstream's generateAPIPodStatus gives them. */

const iso = (d: Date | undefined): string | undefined => d?.toISOString().replace('.000Z', 'Z');

const ecs = (s: PodStatus, name: string): ContainerStatus | undefined => s.ephemeralContainerStatuses?.find((x) => x.name === name);
const cond = (s: PodStatus, type: string) => s.conditions?.find((x) => x.type === type);
const debug = (name = 'debugger'): Record<string, unknown> => ({ name, image: 'skiff/busybox:1.0', targetContainerName: 'app' });

describe('ephemeralContainerStatuses', () => {
  it('is absent from a pod without ephemeral containers', () => {
    const pod = makePod({ containers: [c('app')] });
    expect(status(pod, [sandbox(), ctr(pod, 'app')])).not.toHaveProperty('ephemeralContainerStatuses');
  });

  it('a spec’d ephemeral container not yet created waits in ContainerCreating', () => {
    const pod = withEphemeral(makePod({ containers: [c('app')] }), debug());
    const s = status(pod, [sandbox(), ctr(pod, 'app')]);
    expect(s.ephemeralContainerStatuses).toEqual([
      { name: 'debugger', image: 'skiff/busybox:1.0', imageID: '', restartCount: 0, ready: false, state: { waiting: { reason: 'ContainerCreating' } }, lastState: {} },
    ]);
  });

  it('in a pod with init containers it waits in PodInitializing, upstream’s default for such a pod', () => {
    const base = makePod({ initContainers: [c('init1')], containers: [c('app')] });
    const pod = withEphemeral(base, debug());
    expect(ecs(status(pod, [sandbox(), ctr(base, 'init1')]), 'debugger')?.state).toEqual({ waiting: { reason: 'PodInitializing' } });
  });

  it('a wait reason from the sync shows (an image that cannot be pulled, a target not running)', () => {
    const pod = withEphemeral(makePod({ containers: [c('app')] }), debug());
    const waiting = new Map([['debugger', { reason: 'CreateContainerConfigError', message: 'unable to find target container app' }]]);
    expect(ecs(status(pod, [sandbox()], { waiting }), 'debugger')?.state).toEqual({
      waiting: { reason: 'CreateContainerConfigError', message: 'unable to find target container app' },
    });
  });

  it('a running one: running since its start, never ready, no started field, restart count 0, its IDs', () => {
    const pod = withEphemeral(makePod({ containers: [c('app')] }), debug());
    const dbg = ctr(pod, 'debugger', { startedAt: new Date(NOW - 1000) });
    const s = status(pod, [sandbox(), ctr(pod, 'app'), dbg]);
    expect(ecs(s, 'debugger')).toEqual({
      name: 'debugger',
      image: 'skiff/busybox:1.0',
      imageID: dbg.imageRef,
      containerID: `docker://${dbg.id}`,
      restartCount: 0,
      ready: false,
      state: { running: { startedAt: iso(new Date(NOW - 1000)) } },
      lastState: {},
    });
  });

  it('an exited one stays terminated, with its exit code, reason and times', () => {
    const pod = withEphemeral(makePod({ containers: [c('app')] }), debug());
    const dbg = exited(pod, 'debugger', 130);
    const s = status(pod, [sandbox(), ctr(pod, 'app'), dbg]);
    expect(ecs(s, 'debugger')?.state).toEqual({
      terminated: {
        exitCode: 130,
        reason: 'Error',
        startedAt: iso(dbg.startedAt),
        finishedAt: iso(dbg.finishedAt),
        containerID: `docker://${dbg.id}`,
      },
    });
    expect(ecs(s, 'debugger')?.restartCount).toBe(0);
  });

  it('lists one status per ephemeral container, in spec order', () => {
    const pod = withEphemeral(makePod({ containers: [c('app')] }), debug('a-debugger'), debug('b-debugger'));
    const s = status(pod, [sandbox(), ctr(pod, 'app'), ctr(pod, 'b-debugger')]);
    expect(s.ephemeralContainerStatuses?.map((x) => [x.name, Object.keys(x.state ?? {})[0]])).toEqual([
      ['a-debugger', 'waiting'],
      ['b-debugger', 'running'],
    ]);
    // Not mixed into the regular containers' statuses.
    expect(s.containerStatuses?.map((x) => x.name)).toEqual(['app']);
  });

  it('never affects the phase nor the Ready and ContainersReady conditions', () => {
    const base = makePod({ containers: [c('app')] });
    const ready = status(base, [sandbox(), ctr(base, 'app')]);
    const pod = withEphemeral(base, debug(), debug('waiting-one'), debug('dead-one'));
    const s = status(pod, [sandbox(), ctr(pod, 'app'), ctr(pod, 'debugger'), exited(pod, 'dead-one', 1)]);
    expect(s.phase).toBe('Running');
    expect(cond(s, 'Ready')).toEqual(cond(ready, 'Ready'));
    expect(cond(s, 'ContainersReady')).toEqual(cond(ready, 'ContainersReady'));
    expect(cond(s, 'Ready')?.status).toBe('True');
  });

  it('a pod whose containers all succeeded is Succeeded while its debugger still runs', () => {
    const base = makePod({ restartPolicy: 'Never', containers: [c('app')] });
    const pod = withEphemeral(base, debug());
    expect(status(pod, [sandbox(), exited(base, 'app', 0), ctr(pod, 'debugger')]).phase).toBe('Succeeded');
  });

  it('a change in an ephemeral container’s status makes the API’s copy diverged, so it is written again', () => {
    const pod = withEphemeral(makePod({ containers: [c('app')] }), debug());
    const running = status(pod, [sandbox(), ctr(pod, 'app'), ctr(pod, 'debugger')]);
    const waiting = status(pod, [sandbox(), ctr(pod, 'app')]);
    expect(statusDiverged(running, waiting)).toBe(true);
    expect(statusDiverged(running, running)).toBe(false);
  });
});
