/**
 * client-go's rate-limited work queue: a key is queued at most once, is never processed by two workers at the same
 * time, a key added while it is processed is processed again afterwards, and failures are retried with a per-key
 * exponential back-off. Time comes from an injected clock so controllers can be tested deterministically.
 */
export interface QueueClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): { cancel(): void };
}

export const realQueueClock: QueueClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
};

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly waiting = new Map<string, { at: number; cancel(): void }>();
  private getters: Array<(key: string | undefined) => void> = [];
  private shuttingDown = false;

  constructor(
    private readonly clock: QueueClock = realQueueClock,
    private readonly baseDelayMs = 5,
    private readonly maxDelayMs = 1000_000,
  ) {}

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    const getter = this.getters.shift();
    if (getter) {
      this.dirty.delete(key);
      this.processing.add(key);
      getter(key);
      return;
    }
    this.queue.push(key);
  }

  /** Adds the key after a delay (the earliest of several requests wins). */
  addAfter(key: string, ms: number): void {
    if (ms <= 0) return this.add(key);
    const at = this.clock.now() + ms;
    const existing = this.waiting.get(key);
    if (existing && existing.at <= at) return;
    existing?.cancel();
    const handle = this.clock.setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, ms);
    this.waiting.set(key, { at, cancel: () => handle.cancel() });
  }

  /** Re-adds a key after a failure, waiting longer each consecutive time. */
  addRateLimited(key: string): void {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    this.addAfter(key, Math.min(this.baseDelayMs * 2 ** n, this.maxDelayMs));
  }

  /** Resets the back-off of a key after it succeeded. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** The next key to work on; undefined once the queue shuts down. Call done(key) when finished. */
  get(): Promise<string | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((r) => this.getters.push(r));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
  }

  get length(): number {
    return this.queue.length;
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const w of this.waiting.values()) w.cancel();
    this.waiting.clear();
    const getters = this.getters;
    this.getters = [];
    for (const g of getters) g(undefined);
  }
}
