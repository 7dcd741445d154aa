import { rm } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../../../../control/api/index.js';
import type { MemoryEventRecorder } from '../../../../agent/events.js';
import type { PodSyncer } from '../../../../agent/kuberuntime/sync.js';
import type { FakeRuntime } from '../fake-runtime.js';
import { c, makePod, syncRig, UID, withEphemeral } from './fixtures.js';

/** The sync executing ephemeral containers against a fake runtime: what is created, how, and the events. */

let root: string;
let clock: { now: number };
let runtime: FakeRuntime;
let events: MemoryEventRecorder;
let syncer: PodSyncer;

beforeEach(async () => {
  ({ root, clock, runtime, events, syncer } = await syncRig('skiff-ephemeral-', Date.parse('2026-01-01T12:00:00Z'), ['busybox:1.36', 'skiff/busybox:1.0']));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const debug = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ name: 'debugger', image: 'skiff/busybox:1.0', stdin: true, tty: true, ...extra });
const eventsFor = (fieldPath: string): string[] => events.list().filter((e) => e.involvedObject.fieldPath === fieldPath).map((e) => `${e.type} ${e.reason}: ${e.message}`);
const created = (): string[] => runtime.calls.filter((x) => x.startsWith('createContainer:')).map((x) => x.slice('createContainer:'.length));

/** A pod synced until its app container runs. */
async function runningPod(spec: Record<string, unknown> = { containers: [c('app')] }): Promise<Pod> {
  const pod = makePod(spec);
  await syncer.sync(pod);
  return pod;
}

describe('PodSyncer: ephemeral containers', () => {
  it('a running pod gaining one starts it in the target’s PID namespace, with the usual events, leaving the app alone', async () => {
    const before = await runningPod();
    const app = runtime.latest(UID, 'app');
    const pod = withEphemeral(before, debug({ targetContainerName: 'app', command: ['sh', '-c', 'echo $(GREETING)'], env: [{ name: 'GREETING', value: 'hi' }] }));
    const out = await syncer.sync(pod);
    const dbg = runtime.latest(UID, 'debugger');
    expect(dbg?.state).toBe('running');
    expect(dbg?.ephemeral).toBe(true);
    expect(dbg?.init).toBe(false);
    expect(dbg?.attempt).toBe(0);
    expect(dbg?.pidTargetId).toBe(app?.id);
    expect(dbg?.sandboxId).toBe(runtime.latest(UID, 'POD')?.id);
    // Built like any container: env and $(VAR) expansion included.
    expect(dbg?.command).toEqual(['sh', '-c', 'echo hi']);
    expect(dbg?.env).toContainEqual({ name: 'GREETING', value: 'hi' });
    expect(eventsFor('spec.ephemeralContainers{debugger}')).toEqual([
      'Normal Pulled: Container image "skiff/busybox:1.0" already present on machine',
      'Normal Created: Created container debugger',
      'Normal Started: Started container debugger',
    ]);
    // The app container is the same instance: the update was in place.
    expect(runtime.latest(UID, 'app')?.id).toBe(app?.id);
    expect(runtime.calls.filter((x) => x.startsWith('stopContainer'))).toEqual([]);
    expect(out.runtime.find((x) => x.name === 'debugger')?.ephemeral).toBe(true);
  });

  it('without a target it joins no PID namespace', async () => {
    const pod = withEphemeral(await runningPod(), debug());
    await syncer.sync(pod);
    expect(runtime.latest(UID, 'debugger')?.state).toBe('running');
    expect(runtime.latest(UID, 'debugger')?.pidTargetId).toBeUndefined();
  });

  it('a target that is not running: CreateContainerConfigError and a Failed event, nothing created, retried later', async () => {
    // Under Never the app that failed stays dead while the side container keeps the pod running.
    const before = await runningPod({ restartPolicy: 'Never', containers: [c('app'), c('side')] });
    runtime.exit(runtime.latest(UID, 'app')?.id ?? '', 1);
    const out = await syncer.sync(withEphemeral(before, debug({ targetContainerName: 'app' })));
    expect(runtime.latest(UID, 'debugger')).toBeUndefined();
    expect(out.waiting.get('debugger')).toMatchObject({ reason: 'CreateContainerConfigError', message: 'unable to find target container app' });
    expect(out.nextSyncAt).toBe(clock.now + 10_000);
    expect(eventsFor('spec.ephemeralContainers{debugger}')).toEqual([
      'Normal Pulled: Container image "skiff/busybox:1.0" already present on machine',
      'Warning Failed: Error: unable to find target container app',
    ]);
    // Nothing was created, so a later sync tries again, and succeeds once the target runs.
    await syncer.sync(withEphemeral(before, debug({ targetContainerName: 'side' })));
    expect(runtime.latest(UID, 'debugger')?.pidTargetId).toBe(runtime.latest(UID, 'side')?.id);
  });

  it('starts before the init containers, while initialization goes on', async () => {
    const base = makePod({ initContainers: [c('init1'), c('init2')], containers: [c('app')] });
    await syncer.sync(base);
    expect(created()).toEqual(['init1']);
    await syncer.sync(withEphemeral(base, debug({ targetContainerName: 'init1' })));
    expect(runtime.latest(UID, 'debugger')?.pidTargetId).toBe(runtime.latest(UID, 'init1')?.id);
    runtime.exit(runtime.latest(UID, 'init1')?.id ?? '', 0);
    await syncer.sync(withEphemeral(base, debug({ targetContainerName: 'init1' }), debug({ name: 'debugger-2' })));
    // The second debugger goes first in its sync, then the next init container.
    expect(created()).toEqual(['init1', 'debugger', 'debugger-2', 'init2']);
  });

  it('is never started again once it exited, under restartPolicy Always', async () => {
    const pod = withEphemeral(await runningPod(), debug());
    await syncer.sync(pod);
    runtime.exit(runtime.latest(UID, 'debugger')?.id ?? '', 0);
    clock.now += 60_000;
    const out = await syncer.sync(pod);
    await syncer.sync(pod);
    expect(created()).toEqual(['app', 'debugger']);
    expect(out.waiting.has('debugger')).toBe(false);
    expect(out.runtime.find((x) => x.name === 'debugger')?.state).toBe('exited');
  });

  it('is stopped and removed with the pod, its Killing event naming it', async () => {
    const pod = withEphemeral(await runningPod({ containers: [c('app')], terminationGracePeriodSeconds: 5 }), debug());
    await syncer.sync(pod);
    const id = runtime.latest(UID, 'debugger')?.id ?? '';
    await syncer.terminate(pod, UID);
    expect(runtime.calls).toContain(`stopContainer:${id}:5`);
    expect(eventsFor('spec.ephemeralContainers{debugger}')).toContain('Normal Killing: Stopping container debugger');
    expect(runtime.byPod(UID)).toEqual([]);
  });

  it('is killed when the sandbox dies, and not started again in the new one', async () => {
    const pod = withEphemeral(await runningPod(), debug());
    await syncer.sync(pod);
    const dbg = runtime.latest(UID, 'debugger')?.id ?? '';
    runtime.exit(runtime.latest(UID, 'POD')?.id ?? '', 0);
    await syncer.sync(pod);
    expect(runtime.containers.get(dbg)?.state).toBe('exited');
    await syncer.sync(pod);
    expect(runtime.latest(UID, 'POD')?.attempt).toBe(1);
    expect(runtime.latest(UID, 'app')?.state).toBe('running');
    expect(created()).toEqual(['app', 'debugger', 'app']);
    // Its dead instance stays as the status's record.
    expect(runtime.containers.get(dbg)).toBeDefined();
  });
});
