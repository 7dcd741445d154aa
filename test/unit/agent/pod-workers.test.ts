import { afterEach, describe, expect, it, vi } from 'vitest';
import { PodWorkers } from '../../../agent/pod-workers.js';

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}
function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
const tick = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

/** A sync function whose calls the test settles one by one, recording overlap per pod. */
class Syncs {
  readonly calls: string[] = [];
  readonly pending: Array<{ uid: string; d: Deferred }> = [];
  readonly running = new Map<string, number>();
  maxPerPod = 0;
  maxTotal = 0;
  private total = 0;
  auto = false;

  fn = async (uid: string): Promise<void> => {
    this.calls.push(uid);
    const n = (this.running.get(uid) ?? 0) + 1;
    this.running.set(uid, n);
    this.total++;
    this.maxPerPod = Math.max(this.maxPerPod, n);
    this.maxTotal = Math.max(this.maxTotal, this.total);
    const d = deferred();
    if (this.auto) d.resolve();
    else this.pending.push({ uid, d });
    try {
      await d.promise;
    } finally {
      this.running.set(uid, (this.running.get(uid) ?? 1) - 1);
      this.total--;
    }
  };

  finish(uid: string, err?: unknown): void {
    const i = this.pending.findIndex((p) => p.uid === uid);
    if (i < 0) throw new Error(`no pending sync of ${uid}`);
    const [p] = this.pending.splice(i, 1);
    if (err) p?.d.reject(err);
    else p?.d.resolve();
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe('PodWorkers', () => {
  it('never runs two syncs of one pod at once, and folds requests made meanwhile into one follow-up', async () => {
    const s = new Syncs();
    const w = new PodWorkers(s.fn, () => undefined);
    w.enqueue('a');
    await tick();
    expect(s.calls).toEqual(['a']);
    w.enqueue('a');
    w.enqueue('a');
    w.enqueue('a');
    await tick();
    expect(s.calls).toEqual(['a']);
    s.finish('a');
    await tick();
    expect(s.calls).toEqual(['a', 'a']);
    s.finish('a');
    await w.idle();
    expect(s.calls).toEqual(['a', 'a']);
    expect(s.maxPerPod).toBe(1);
  });

  it('a slow pod does not hold up another', async () => {
    const s = new Syncs();
    const w = new PodWorkers(s.fn, () => undefined);
    w.enqueue('slow');
    w.enqueue('fast');
    await tick();
    expect(s.calls).toEqual(['slow', 'fast']);
    s.finish('fast');
    w.enqueue('fast');
    await tick();
    expect(s.calls).toEqual(['slow', 'fast', 'fast']);
    s.finish('fast');
    s.finish('slow');
    await w.idle();
  });

  it('runs at most `concurrency` syncs together and starts queued pods as others finish', async () => {
    const s = new Syncs();
    const w = new PodWorkers(s.fn, () => undefined, 2);
    for (const uid of ['a', 'b', 'c', 'd']) w.enqueue(uid);
    await tick();
    expect(s.calls).toEqual(['a', 'b']);
    s.finish('a');
    await tick();
    expect(s.calls).toEqual(['a', 'b', 'c']);
    s.finish('b');
    s.finish('c');
    await tick();
    expect(s.calls).toEqual(['a', 'b', 'c', 'd']);
    s.finish('d');
    await w.idle();
    expect(s.maxTotal).toBe(2);
  });

  it('queued requests for a pod waiting for a slot are not duplicated', async () => {
    const s = new Syncs();
    const w = new PodWorkers(s.fn, () => undefined, 1);
    w.enqueue('a');
    w.enqueue('b');
    w.enqueue('b');
    w.enqueue('b');
    await tick();
    s.finish('a');
    await tick();
    s.finish('b');
    await w.idle();
    expect(s.calls).toEqual(['a', 'b']);
  });

  it('idle() waits for running and queued syncs', async () => {
    const s = new Syncs();
    const w = new PodWorkers(s.fn, () => undefined, 1);
    await w.idle(); // nothing to do: resolves at once
    w.enqueue('a');
    w.enqueue('b');
    let idle = false;
    void w.idle().then(() => (idle = true));
    await tick();
    expect(idle).toBe(false);
    s.finish('a');
    await tick();
    expect(idle).toBe(false);
    s.finish('b');
    await tick();
    expect(idle).toBe(true);
  });

  it('reports a failed sync and retries it about 2s later', async () => {
    vi.useFakeTimers();
    const errors: Array<[string, unknown]> = [];
    let n = 0;
    const w = new PodWorkers(
      async () => {
        n++;
        if (n === 1) throw new Error('docker is away');
      },
      (uid, err) => errors.push([uid, err]),
    );
    w.enqueue('a');
    await vi.advanceTimersByTimeAsync(0);
    expect(n).toBe(1);
    expect(errors.map(([uid, e]) => [uid, (e as Error).message])).toEqual([['a', 'docker is away']]);
    await vi.advanceTimersByTimeAsync(1900);
    expect(n).toBe(1);
    await vi.advanceTimersByTimeAsync(200);
    expect(n).toBe(2);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(n).toBe(2);
  });

  it('enqueueAt: the earliest of several requested times wins, and fires once', async () => {
    vi.useFakeTimers();
    const s = new Syncs();
    s.auto = true;
    const w = new PodWorkers(s.fn, () => undefined, 8, () => Date.now());
    const t0 = Date.now();
    w.enqueueAt('a', t0 + 5000);
    w.enqueueAt('a', t0 + 1000);
    w.enqueueAt('a', t0 + 3000);
    await vi.advanceTimersByTimeAsync(999);
    expect(s.calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(s.calls).toEqual(['a']);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(s.calls).toEqual(['a']);
  });

  it('a sync that returns nextSyncAt is run again then', async () => {
    vi.useFakeTimers();
    let n = 0;
    const w = new PodWorkers(
      async () => {
        n++;
        return n === 1 ? { nextSyncAt: Date.now() + 4000 } : {};
      },
      () => undefined,
      8,
      () => Date.now(),
    );
    w.enqueue('a');
    await vi.advanceTimersByTimeAsync(3999);
    expect(n).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(n).toBe(2);
  });

  it('stop() cancels timers and ignores later requests', async () => {
    vi.useFakeTimers();
    const s = new Syncs();
    s.auto = true;
    const w = new PodWorkers(s.fn, () => undefined, 8, () => Date.now());
    w.enqueueAt('a', Date.now() + 100);
    w.stop();
    w.enqueue('b');
    await vi.advanceTimersByTimeAsync(1000);
    expect(s.calls).toEqual([]);
  });

  it('forget() drops an idle worker but not a busy one', async () => {
    const s = new Syncs();
    const w = new PodWorkers(s.fn, () => undefined);
    w.enqueue('a');
    w.enqueue('b');
    await tick();
    s.finish('a');
    await tick();
    w.forget('a');
    w.forget('b');
    expect(w.size).toBe(1);
    s.finish('b');
    await w.idle();
    w.forget('b');
    expect(w.size).toBe(0);
  });
});

describe('PodWorkers.forget from inside the pod sync (how the agent forgets a terminated pod)', () => {
  it('drops the worker once that sync ends', async () => {
    let w!: PodWorkers;
    w = new PodWorkers(async (uid) => {
      w.forget(uid);
    }, () => undefined);
    for (let i = 0; i < 50; i++) w.enqueue(`gone-${i}`);
    await w.idle();
    expect(w.size).toBe(0);
  });

  it('still runs a request made during that sync (and that sync may forget it in turn)', async () => {
    const s = new Syncs();
    let w!: PodWorkers;
    w = new PodWorkers(async (uid) => {
      await s.fn(uid);
      w.forget(uid);
    }, () => undefined);
    w.enqueue('a');
    await tick();
    w.enqueue('a');
    s.finish('a');
    await tick();
    expect(s.calls).toEqual(['a', 'a']);
    s.finish('a');
    await w.idle();
    expect(w.size).toBe(0);
  });
});
