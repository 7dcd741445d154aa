import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Pod } from '../../../../control/api/index.js';
import { Backoff } from '../../../../agent/kuberuntime/backoff.js';
import { Semaphore } from '../../../../agent/kuberuntime/semaphore.js';
import { PodSyncer, SANDBOX_NETWORK_CONCURRENCY } from '../../../../agent/kuberuntime/sync.js';
import { silentLogger } from '../../../../lib/log.js';
import { FakeRuntime } from '../fake-runtime.js';
import { c, makePod } from './fixtures.js';

/**
 * A runtime whose sandbox network operations (sandbox create, and stop/remove of a sandbox) block until the test
 * opens the gate, counting how many are in flight at once.
 */
class GatedRuntime extends FakeRuntime {
  inFlight = 0;
  maxInFlight = 0;
  private open = false;
  private readonly blocked: Array<() => void> = [];

  release(): void {
    this.open = true;
    for (const r of this.blocked.splice(0)) r();
  }

  private async gate<T>(op: () => Promise<T>): Promise<T> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (!this.open) await new Promise<void>((r) => this.blocked.push(r));
      return await op();
    } finally {
      this.inFlight--;
    }
  }

  private isSandbox(id: string): boolean {
    return this.containers.get(id)?.name === 'POD';
  }

  override createSandbox(pod: Pod, attempt: number): Promise<string> {
    return this.gate(() => super.createSandbox(pod, attempt));
  }

  override stopContainer(id: string, graceSeconds: number): Promise<void> {
    return this.isSandbox(id) ? this.gate(() => super.stopContainer(id, graceSeconds)) : super.stopContainer(id, graceSeconds);
  }

  override removeContainer(id: string): Promise<void> {
    return this.isSandbox(id) ? this.gate(() => super.removeContainer(id)) : super.removeContainer(id);
  }
}

const PODS = 20;
const pods = Array.from({ length: PODS }, (_, i) => makePod({ containers: [c('app'), c('sidecar')] }, { name: `web-${i}`, uid: `uid-${i}` }));

describe('PodSyncer sandbox network operations', () => {
  let rootDir: string;
  let runtime: GatedRuntime;
  let limit: Semaphore;
  let syncer: PodSyncer;

  beforeEach(async () => {
    rootDir = await mkdtemp(join(tmpdir(), 'skiff-sandbox-ops-'));
    runtime = new GatedRuntime();
    limit = new Semaphore(SANDBOX_NETWORK_CONCURRENCY);
    const backoff = (): Backoff => new Backoff({ initialMs: 10_000, maxMs: 300_000, resetAfterMs: 600_000 });
    syncer = new PodSyncer({
      runtime,
      rootDir,
      pauseImage: 'skiff/pause:3.10',
      crashBackoff: backoff(),
      pullBackoff: backoff(),
      probes: { result: () => 'unknown' },
      events: { event: () => undefined },
      logger: silentLogger(),
      now: () => Date.now(),
      sandboxOps: limit,
    });
  });

  afterEach(async () => {
    await rm(rootDir, { recursive: true, force: true });
  });

  it('creates at most SANDBOX_NETWORK_CONCURRENCY sandboxes at once, however many pods sync together', async () => {
    const syncs = Promise.all(pods.map((p) => syncer.sync(p)));
    await vi.waitFor(() => expect(limit.waiting).toBe(PODS - SANDBOX_NETWORK_CONCURRENCY));
    expect(runtime.inFlight).toBe(SANDBOX_NETWORK_CONCURRENCY);
    runtime.release();
    await syncs;
    expect(runtime.maxInFlight).toBe(SANDBOX_NETWORK_CONCURRENCY);
    for (const p of pods) expect(runtime.byPod(p.metadata.uid ?? '').map((x) => `${x.name}:${x.state}`).sort()).toEqual(['POD:running', 'app:running', 'sidecar:running']);
  });

  it('tears down at most SANDBOX_NETWORK_CONCURRENCY sandboxes at once, and removes app containers before their sandbox', async () => {
    runtime.release();
    await Promise.all(pods.map((p) => syncer.sync(p)));
    runtime.maxInFlight = 0;
    runtime.calls.length = 0;
    const sandboxOf = new Map(pods.map((p) => [p.metadata.uid ?? '', runtime.latest(p.metadata.uid ?? '', 'POD')?.id ?? '']));
    const appsOf = new Map(pods.map((p) => [p.metadata.uid ?? '', runtime.byPod(p.metadata.uid ?? '').filter((x) => x.name !== 'POD').map((x) => x.id)]));
    // Closed again: the teardown's sandbox operations queue up behind the gate.
    (runtime as unknown as { open: boolean }).open = false;

    const teardowns = Promise.all(pods.map((p) => syncer.terminate(p, p.metadata.uid ?? '', 0)));
    await vi.waitFor(() => expect(limit.waiting).toBe(PODS - SANDBOX_NETWORK_CONCURRENCY));
    expect(runtime.inFlight).toBe(SANDBOX_NETWORK_CONCURRENCY);
    runtime.release();
    await teardowns;

    expect(runtime.maxInFlight).toBe(SANDBOX_NETWORK_CONCURRENCY);
    expect(runtime.containers.size).toBe(0);
    for (const [uid, sandboxId] of sandboxOf) {
      const removedSandboxAt = runtime.calls.indexOf(`removeContainer:${sandboxId}`);
      expect(removedSandboxAt).toBeGreaterThan(-1);
      for (const app of appsOf.get(uid) ?? []) {
        const removedAppAt = runtime.calls.indexOf(`removeContainer:${app}`);
        expect(removedAppAt, `pod ${uid}: app container ${app} removed before its sandbox`).toBeGreaterThan(-1);
        expect(removedAppAt).toBeLessThan(removedSandboxAt);
        // And stopped before the sandbox is stopped: the app's processes must be gone before the network goes.
        expect(runtime.calls.findIndex((x) => x.startsWith(`stopContainer:${app}:`))).toBeLessThan(runtime.calls.findIndex((x) => x.startsWith(`stopContainer:${sandboxId}:`)));
      }
    }
  });

  it('removes dead app containers before a replaced sandbox when both are garbage in the same sync', async () => {
    runtime.release();
    const pod = pods[0] as Pod;
    const uid = pod.metadata.uid ?? '';
    const t = (s: number): Date => new Date(Date.now() - 100_000 + s * 1000);
    // Listed sandbox first, as Docker may list them: the old sandbox is dead, a new one runs; the app has died twice
    // (attempts 0 and 1) and runs again (attempt 2), so attempt 0 is neither the newest nor the newest dead.
    const oldSandbox = runtime.add({ name: 'POD', podUid: uid, attempt: 0, state: 'exited', createdAt: t(0), ip: '10.88.0.2' });
    runtime.add({ name: 'POD', podUid: uid, attempt: 1, state: 'running', createdAt: t(10), ip: '10.88.0.3' });
    const oldApp = runtime.add({ name: 'app', podUid: uid, attempt: 0, state: 'exited', createdAt: t(1) });
    runtime.add({ name: 'app', podUid: uid, attempt: 1, state: 'exited', createdAt: t(11) });
    runtime.add({ name: 'app', podUid: uid, attempt: 2, state: 'running', createdAt: t(12) });
    runtime.add({ name: 'sidecar', podUid: uid, attempt: 0, state: 'running', createdAt: t(12) });
    runtime.calls.length = 0;

    await syncer.sync(pod);

    const removed = runtime.calls.filter((x) => x.startsWith('removeContainer:')).map((x) => x.slice('removeContainer:'.length));
    expect(removed).toEqual([oldApp, oldSandbox]);
  });
});

describe('Semaphore', () => {
  it('runs at most `limit` tasks at once, in FIFO order, and frees the slot when a task throws', async () => {
    const s = new Semaphore(2);
    const started: number[] = [];
    const finish: Array<() => void> = [];
    const task = (i: number, fail = false) => () =>
      new Promise<number>((resolve, reject) => {
        started.push(i);
        finish[i] = () => (fail ? reject(new Error(`task ${i} failed`)) : resolve(i));
      });
    const runs = [s.run(task(0, true)), s.run(task(1)), s.run(task(2)), s.run(task(3))];
    await vi.waitFor(() => expect(started).toEqual([0, 1]));
    expect(s.waiting).toBe(2);
    finish[0]?.();
    await expect(runs[0]).rejects.toThrow('task 0 failed');
    await vi.waitFor(() => expect(started).toEqual([0, 1, 2]));
    expect(s.running).toBe(2);
    finish[1]?.();
    finish[2]?.();
    await vi.waitFor(() => expect(started).toEqual([0, 1, 2, 3]));
    finish[3]?.();
    expect(await Promise.all(runs.slice(1))).toEqual([1, 2, 3]);
    expect(s.running).toBe(0);
  });

  it('rejects a limit that is not a positive integer', () => {
    expect(() => new Semaphore(0)).toThrow('positive integer');
  });
});
