/**
 * One worker per pod (the kubelet's podWorkers): syncs of the same pod never overlap, a slow pod never blocks
 * another, and a sync requested while one runs is folded into a single follow-up. At most `concurrency` pods sync
 * at once: enough that a burst of pods is Docker-bound rather than queued behind each other, bounded so a burst of
 * hundreds does not open hundreds of Docker calls together.
 */
export type SyncFn = (uid: string) => Promise<{ nextSyncAt?: number } | void>;

interface WorkerState {
  running: boolean;
  dirty: boolean;
  timer?: NodeJS.Timeout;
  timerAt?: number;
  /** forget() was called while the pod's sync ran (the agent forgets a pod from its own sync): drop it after. */
  forgetWhenDone?: boolean;
}

export class PodWorkers {
  private readonly workers = new Map<string, WorkerState>();
  private readonly queue: string[] = [];
  private active = 0;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly sync: SyncFn,
    private readonly onError: (uid: string, err: unknown) => void,
    private readonly concurrency = 32,
    private readonly now: () => number = Date.now,
  ) {}

  /** Asks for a sync of this pod as soon as possible. */
  enqueue(uid: string): void {
    if (this.stopped) return;
    let w = this.workers.get(uid);
    if (!w) {
      w = { running: false, dirty: false };
      this.workers.set(uid, w);
    }
    if (w.running) {
      w.dirty = true;
      return;
    }
    if (w.dirty) return;
    w.dirty = true;
    this.queue.push(uid);
    this.pump();
  }

  /** Asks for a sync at a given time (a back-off ending), keeping the earliest of several requests. */
  enqueueAt(uid: string, at: number): void {
    if (this.stopped) return;
    const w = this.workers.get(uid) ?? { running: false, dirty: false };
    this.workers.set(uid, w);
    if (w.timer && w.timerAt !== undefined && w.timerAt <= at) return;
    if (w.timer) clearTimeout(w.timer);
    w.timerAt = at;
    w.timer = setTimeout(() => {
      w.timer = undefined;
      w.timerAt = undefined;
      this.enqueue(uid);
    }, Math.max(0, at - this.now()));
    w.timer.unref?.();
  }

  /** Forgets a pod's worker once its sync says it is gone. */
  forget(uid: string): void {
    const w = this.workers.get(uid);
    if (!w) return;
    if (w.running) {
      w.forgetWhenDone = true;
      return;
    }
    if (w.dirty) return;
    if (w.timer) clearTimeout(w.timer);
    this.workers.delete(uid);
  }

  private pump(): void {
    while (this.active < this.concurrency && this.queue.length > 0) {
      const uid = this.queue.shift() as string;
      const w = this.workers.get(uid);
      if (!w) continue;
      w.dirty = false;
      w.running = true;
      this.active++;
      void this.run(uid, w);
    }
    if (this.active === 0 && this.queue.length === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const r of waiters) r();
    }
  }

  private async run(uid: string, w: WorkerState): Promise<void> {
    try {
      const result = await this.sync(uid);
      if (result && result.nextSyncAt !== undefined) this.enqueueAt(uid, result.nextSyncAt);
    } catch (err) {
      this.onError(uid, err);
      // Errors (Docker away, a transient failure) retry soon; level-triggered syncs make a retry safe.
      this.enqueueAt(uid, this.now() + 2000);
    } finally {
      w.running = false;
      this.active--;
      if (w.forgetWhenDone) {
        w.forgetWhenDone = false;
        this.forget(uid);
      }
      if (w.dirty && !this.stopped) this.queue.push(uid);
      this.pump();
    }
  }

  /** Resolves once nothing is running or queued (for orderly shutdown and tests). */
  idle(): Promise<void> {
    if (this.active === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.workers.values()) if (w.timer) clearTimeout(w.timer);
    this.queue.length = 0;
  }

  get size(): number {
    return this.workers.size;
  }
}
