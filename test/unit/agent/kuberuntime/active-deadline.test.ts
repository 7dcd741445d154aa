import { rm } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MemoryEventRecorder } from '../../../../agent/events.js';
import { activeDeadlineAt, pastActiveDeadline } from '../../../../agent/kuberuntime/actions.js';
import type { PodSyncer } from '../../../../agent/kuberuntime/sync.js';
import type { FakeRuntime } from '../fake-runtime.js';
import { c, compute, ctr, exited, makePod, NOW, sandbox, syncRig, UID } from './fixtures.js';

/** spec.activeDeadlineSeconds: upstream's activeDeadlineHandler, as computePodActions and the sync apply it. */

describe('pastActiveDeadline (upstream activeDeadlineHandler)', () => {
  const pod = (ads?: number) => makePod({ containers: [c('app')], ...(ads !== undefined ? { activeDeadlineSeconds: ads } : {}) });

  it('counts activeDeadlineSeconds from the start, deadline included', () => {
    expect(activeDeadlineAt(pod(30), NOW)).toBe(NOW + 30_000);
    expect(pastActiveDeadline(pod(30), NOW, NOW + 29_999)).toBe(false);
    expect(pastActiveDeadline(pod(30), NOW, NOW + 30_000)).toBe(true);
  });

  it('never passes without a deadline or without a start', () => {
    expect(pastActiveDeadline(pod(), NOW - 1e9, NOW)).toBe(false);
    expect(pastActiveDeadline(pod(1), undefined, NOW)).toBe(false);
    expect(activeDeadlineAt(pod(1), undefined)).toBeUndefined();
  });
});

describe('computePodActions past activeDeadlineSeconds', () => {
  it('kills a running pod and starts nothing, whatever the restart policy', () => {
    const pod = makePod({ activeDeadlineSeconds: 30, containers: [c('app'), c('other')] });
    const a = compute(pod, [sandbox(), ctr(pod, 'app'), exited(pod, 'other', 1)], { startTime: NOW - 30_000 });
    expect(a.deadlineExceeded).toBe(true);
    expect(a.killPod).toBe(true);
    expect(a.createSandbox).toBe(false);
    expect(a.containersToStart).toEqual([]);
    expect(a.waiting.size).toBe(0);
  });

  it('does not restart a stopped pod, nor recreate its sandbox', () => {
    const pod = makePod({ activeDeadlineSeconds: 30, containers: [c('app')] });
    const a = compute(pod, [sandbox({ state: 'exited' }), exited(pod, 'app', 137)], { startTime: NOW - 31_000 });
    expect(a).toMatchObject({ deadlineExceeded: true, killPod: false, createSandbox: false, containersToStart: [] });
  });

  it('runs the pod as usual before the deadline', () => {
    const pod = makePod({ activeDeadlineSeconds: 30, containers: [c('app')] });
    const a = compute(pod, [sandbox(), exited(pod, 'app', 1)], { startTime: NOW - 29_000 });
    expect(a.deadlineExceeded).toBeUndefined();
    expect(a.containersToStart.map((s) => s.container.name)).toEqual(['app']);
  });

  it('counts from the earliest container when the status has no startTime yet (an agent restarted)', () => {
    const pod = makePod({ activeDeadlineSeconds: 55, containers: [c('app')] });
    // The fixtures' sandbox was created 60s before NOW.
    expect(compute(pod, [sandbox(), ctr(pod, 'app')]).deadlineExceeded).toBe(true);
    const later = makePod({ activeDeadlineSeconds: 65, containers: [c('app')] });
    expect(compute(later, [sandbox(), ctr(later, 'app')]).deadlineExceeded).toBeUndefined();
  });
});

describe('sync with activeDeadlineSeconds', () => {
  let root: string;
  let clock: { now: number };
  let runtime: FakeRuntime;
  let events: MemoryEventRecorder;
  let syncer: PodSyncer;

  beforeEach(async () => {
    ({ root, clock, runtime, events, syncer } = await syncRig('skiff-deadline-', NOW, ['busybox:1.36']));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('wakes up at the deadline, then stops the pod once with a DeadlineExceeded event and never starts it again', async () => {
    const pod = makePod({ activeDeadlineSeconds: 3, terminationGracePeriodSeconds: 1, containers: [c('app', { imagePullPolicy: 'Never' })] });
    const first = await syncer.sync(pod);
    expect(runtime.latest(UID, 'app')?.state).toBe('running');
    // No startTime yet: the deadline counts from the pod's first container.
    expect(first.nextSyncAt).toBe(NOW + 3000);

    clock.now = NOW + 1000;
    expect((await syncer.sync(pod, NOW)).nextSyncAt).toBe(NOW + 3000);

    clock.now = NOW + 3000;
    const out = await syncer.sync(pod, NOW);
    expect(out.nextSyncAt).toBeUndefined();
    expect(runtime.latest(UID, 'app')?.state).toBe('exited');
    expect(runtime.latest(UID, 'POD')?.state).toBe('exited');
    const deadlineEvents = () => events.list().filter((e) => e.reason === 'DeadlineExceeded');
    expect(deadlineEvents().map((e) => [e.type, e.message])).toEqual([['Normal', 'Pod was active on the node longer than the specified deadline']]);

    clock.now = NOW + 60_000;
    await syncer.sync(pod, NOW);
    expect(runtime.latest(UID, 'app')?.attempt).toBe(0);
    expect(runtime.latest(UID, 'app')?.state).toBe('exited');
    expect(deadlineEvents()).toHaveLength(1);
  });
});
