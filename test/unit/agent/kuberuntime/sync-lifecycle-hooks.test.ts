import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../../../../control/api/index.js';
import { MemoryEventRecorder } from '../../../../agent/events.js';
import { PodSyncer } from '../../../../agent/kuberuntime/sync.js';
import { silentLogger } from '../../../../lib/log.js';
import { FakeRuntime } from '../fake-runtime.js';
import { FakeClock, flush } from '../prober/fakes.js';
import { c, makePod, testSyncer, UID } from './fixtures.js';

let root: string;
let clock: FakeClock;
let runtime: FakeRuntime;
let events: MemoryEventRecorder;
let syncer: PodSyncer;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'skiff-hooks-'));
  clock = new FakeClock(Date.parse('2026-01-01T12:00:00Z'));
  runtime = new FakeRuntime(() => clock.now());
  runtime.images.add('busybox:1.36');
  events = new MemoryEventRecorder('node1', silentLogger(), () => new Date(clock.now()));
  syncer = testSyncer({
    runtime,
    rootDir: root,
    events,
    now: () => clock.now(),
    clock,
    // Sleep handlers on the test's clock, so the grace period accounting is exact.
    hookSleep: (ms, signal) =>
      new Promise((resolve) => {
        const t = clock.setTimeout(() => resolve(true), ms);
        signal.addEventListener('abort', () => {
          clock.clearTimeout(t);
          resolve(false);
        });
      }),
  });
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const reasons = (): string[] => events.list().map((e) => `${e.reason}: ${e.message}`);
const pod = (lifecycle: Record<string, unknown>, extra: Record<string, unknown> = {}): Pod =>
  makePod({ containers: [c('app', { imagePullPolicy: 'Never', lifecycle })], terminationGracePeriodSeconds: 10, ...extra });
const appId = (): string => runtime.latest(UID, 'app')?.id ?? '';

describe('postStart', () => {
  it('runs right after the container starts, before the sync returns', async () => {
    const out = await syncer.sync(pod({ postStart: { exec: { command: ['touch', '/ready'] } } }));
    const id = appId();
    expect(runtime.calls.filter((x) => x.startsWith('startContainer') || x.startsWith('exec'))).toEqual([`startContainer:${id}`, `exec:${id}:touch /ready`]);
    expect(out.runtime.find((x) => x.id === id)?.state).toBe('running');
    expect(out.waiting.size).toBe(0);
    expect(reasons()).not.toContain('FailedPostStartHook: PostStartHook failed');
  });

  it('kills the container when it fails: FailedPostStartHook, then Killing, and PostStartHookError as the wait reason', async () => {
    runtime.execResults.set('app', { exitCode: 2, output: 'no config' });
    const out = await syncer.sync(pod({ postStart: { exec: { command: ['sh', '-c', 'exit 2'] } } }));
    const id = appId();
    expect(out.runtime.find((x) => x.id === id)?.state).toBe('exited');
    const r = reasons();
    expect(r.indexOf('FailedPostStartHook: PostStartHook failed')).toBeGreaterThan(r.indexOf('Started: Started container app'));
    expect(r.indexOf('Killing: FailedPostStartHook')).toBeGreaterThan(r.indexOf('FailedPostStartHook: PostStartHook failed'));
    expect(out.waiting.get('app')).toEqual({
      reason: 'PostStartHookError',
      message: expect.stringContaining("command 'sh -c exit 2' exited with 2: no config"),
    });
    // The handler's output stays out of the events (secrets), as upstream.
    expect(r.join('\n')).not.toContain('no config');
  });
});

describe('preStop', () => {
  it('runs before the stop signal when the pod is deleted, and the stop gets the grace period left', async () => {
    const p = pod({ preStop: { exec: { command: ['/bin/drain'] } } });
    await syncer.sync(p);
    const id = appId();
    await syncer.terminate(p, UID, 10);
    const hookAndStop = runtime.calls.filter((x) => x === `exec:${id}:/bin/drain` || x.startsWith(`stopContainer:${id}`));
    expect(hookAndStop).toEqual([`exec:${id}:/bin/drain`, `stopContainer:${id}:10`]);
  });

  it('counts against the grace period: a 4 s sleep leaves 6 s for SIGTERM', async () => {
    const p = pod({ preStop: { sleep: { seconds: 4 } } });
    await syncer.sync(p);
    const id = appId();
    const done = syncer.terminate(p, UID, 10);
    await clock.advance(3_999);
    expect(runtime.calls.some((x) => x.startsWith(`stopContainer:${id}`))).toBe(false);
    await clock.advance(1);
    await done;
    expect(runtime.calls).toContain(`stopContainer:${id}:6`);
  });

  it('is cut off when it outlasts the grace period, and the stop still gets the 2 s minimum', async () => {
    const p = pod({ preStop: { sleep: { seconds: 60 } } });
    await syncer.sync(p);
    const id = appId();
    const done = syncer.terminate(p, UID, 10);
    await clock.advance(10_000);
    await done;
    expect(runtime.calls).toContain(`stopContainer:${id}:2`);
    // Cut off by the grace period, not failed: no FailedPreStopHook.
    expect(reasons()).not.toContain('FailedPreStopHook: PreStopHook failed');
  });

  it('records FailedPreStopHook when the hook fails, and stops the container anyway', async () => {
    const p = pod({ preStop: { exec: { command: ['false'] } } });
    await syncer.sync(p);
    const id = appId();
    runtime.execResults.set('app', { exitCode: 1, output: '' });
    await syncer.terminate(p, UID, 10);
    expect(reasons()).toContain('FailedPreStopHook: PreStopHook failed');
    expect(runtime.calls).toContain(`stopContainer:${id}:10`);
  });

  it('runs when a liveness failure kills the container, within the probe grace period', async () => {
    const probe = { exec: { command: ['check'] }, terminationGracePeriodSeconds: 5 };
    let live: 'success' | 'failure' = 'success';
    const s = testSyncer({
      runtime,
      rootDir: root,
      probes: { result: (_uid, _name, kind) => (kind === 'liveness' ? live : 'unknown') },
      events,
      now: () => clock.now(),
      clock,
    });
    const p = makePod({ containers: [c('app', { imagePullPolicy: 'Never', livenessProbe: probe, lifecycle: { preStop: { exec: { command: ['/bin/drain'] } } } })] });
    await s.sync(p);
    const id = appId();
    live = 'failure';
    await s.sync(p);
    await flush();
    const hookAndStop = runtime.calls.filter((x) => x === `exec:${id}:/bin/drain` || x.startsWith(`stopContainer:${id}`));
    expect(hookAndStop).toEqual([`exec:${id}:/bin/drain`, `stopContainer:${id}:5`]);
  });

  it('does not run for a container that has already exited', async () => {
    const p = pod({ preStop: { exec: { command: ['/bin/drain'] } } });
    await syncer.sync(p);
    const id = appId();
    runtime.exit(id, 0);
    await syncer.terminate(p, UID, 10);
    expect(runtime.calls).not.toContain(`exec:${id}:/bin/drain`);
  });
});
