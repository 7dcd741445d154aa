/**
 * The scheduling queue, after upstream's PriorityQueue: an active queue ordered by priority then by when the pod
 * was queued, a backoff queue for pods that failed recently (1 s doubling to 10 s), and an unschedulable set for
 * pods no node fit, moved back when the cluster changes (a node added or updated, a pod deleted) or after
 * unschedulableTimeoutMs. Time comes from an injected clock, so tests run without waiting.
 */
import { realQueueClock, type QueueClock } from '../client/workqueue.js';
import { podKey, type SchedPod } from './types.js';

export interface QueuedPod {
  key: string;
  pod: SchedPod;
  priority: number;
  /** When the pod entered the active queue (orders pods of equal priority). */
  timestamp: number;
  /** Scheduling attempts so far. */
  attempts: number;
  /** When the pod was first queued, for the attempt-latency metric. */
  initialTimestamp: number;
  /** When the last attempt failed: its backoff runs from there. */
  lastFailure?: number;
}

export interface QueueOptions {
  clock?: QueueClock;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Pods left unschedulable this long are retried even without a cluster event (upstream: 5 min). */
  unschedulableTimeoutMs?: number;
  /** Told whenever the queue lengths change (for the pending-pods gauge). */
  onChange?(counts: { active: number; backoff: number; unschedulable: number }): void;
  priorityOf?(pod: SchedPod): number;
}

/** A binary heap with a removable index, ordered by `less`. */
class Heap<T extends { key: string }> {
  private readonly items: T[] = [];
  private readonly index = new Map<string, number>();
  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }
  has(key: string): boolean {
    return this.index.has(key);
  }
  get(key: string): T | undefined {
    const i = this.index.get(key);
    return i === undefined ? undefined : this.items[i];
  }
  peek(): T | undefined {
    return this.items[0];
  }
  values(): T[] {
    return [...this.items];
  }
  push(item: T): void {
    const existing = this.index.get(item.key);
    if (existing !== undefined) {
      this.items[existing] = item;
      this.fix(existing);
      return;
    }
    this.items.push(item);
    this.index.set(item.key, this.items.length - 1);
    this.up(this.items.length - 1);
  }
  pop(): T | undefined {
    if (this.items.length === 0) return undefined;
    const top = this.items[0] as T;
    this.removeAt(0);
    return top;
  }
  delete(key: string): T | undefined {
    const i = this.index.get(key);
    if (i === undefined) return undefined;
    const item = this.items[i] as T;
    this.removeAt(i);
    return item;
  }
  private removeAt(i: number): void {
    const item = this.items[i] as T;
    this.index.delete(item.key);
    const last = this.items.pop() as T;
    if (i < this.items.length) {
      this.items[i] = last;
      this.index.set(last.key, i);
      this.fix(i);
    }
  }
  private fix(i: number): void {
    this.up(i);
    this.down(i);
  }
  private swap(i: number, j: number): void {
    const a = this.items[i] as T;
    const b = this.items[j] as T;
    this.items[i] = b;
    this.items[j] = a;
    this.index.set(b.key, i);
    this.index.set(a.key, j);
  }
  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(this.items[i] as T, this.items[parent] as T)) break;
      this.swap(i, parent);
      i = parent;
    }
  }
  private down(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.items.length && this.less(this.items[l] as T, this.items[m] as T)) m = l;
      if (r < this.items.length && this.less(this.items[r] as T, this.items[m] as T)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
  }
}

export class SchedulingQueue {
  private readonly clock: QueueClock;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly unschedulableTimeoutMs: number;
  private readonly active = new Heap<QueuedPod>((a, b) => (a.priority !== b.priority ? a.priority > b.priority : a.timestamp < b.timestamp));
  private readonly backoff = new Heap<QueuedPod & { until: number }>((a, b) => a.until < b.until);
  private readonly unschedulable = new Map<string, QueuedPod & { since: number }>();
  /** Pods popped and being scheduled: their latest object, so updates during the attempt are not lost. */
  private readonly inFlight = new Map<string, SchedPod | null>();
  private waiters: Array<(p: QueuedPod | undefined) => void> = [];
  private backoffTimer: { at: number; cancel(): void } | undefined;
  private closed = false;
  /** Bumped by every cluster event; a pod failing after one arrived retries from backoff, not unschedulable. */
  private moveRequestCycle = -1;
  private schedulingCycle = 0;

  constructor(private readonly opts: QueueOptions = {}) {
    this.clock = opts.clock ?? realQueueClock;
    this.initialBackoffMs = opts.initialBackoffMs ?? 1000;
    this.maxBackoffMs = opts.maxBackoffMs ?? 10_000;
    this.unschedulableTimeoutMs = opts.unschedulableTimeoutMs ?? 5 * 60_000;
  }

  private priority(pod: SchedPod): number {
    return this.opts.priorityOf ? this.opts.priorityOf(pod) : (pod.spec?.priority ?? 0);
  }

  /** A new pending pod. */
  add(pod: SchedPod): void {
    if (this.closed) return;
    const key = podKey(pod);
    if (this.inFlight.has(key)) {
      this.inFlight.set(key, pod);
      return;
    }
    const now = this.clock.now();
    const existing = this.find(key);
    if (existing) return this.update(pod);
    this.pushActive({ key, pod, priority: this.priority(pod), timestamp: now, attempts: 0, initialTimestamp: now });
  }

  /**
   * A pending pod changed: an unschedulable one gets another chance when its spec changed (it may now fit);
   * status-only changes just refresh the stored object.
   */
  update(pod: SchedPod, specChanged = true): void {
    if (this.closed) return;
    const key = podKey(pod);
    if (this.inFlight.has(key)) {
      if (specChanged) this.inFlight.set(key, pod);
      return;
    }
    const a = this.active.get(key);
    if (a) {
      this.active.push({ ...a, pod, priority: this.priority(pod) });
      return this.changed();
    }
    const b = this.backoff.get(key);
    if (b) {
      this.backoff.push({ ...b, pod, priority: this.priority(pod) });
      return this.changed();
    }
    const u = this.unschedulable.get(key);
    if (u && !specChanged) {
      this.unschedulable.set(key, { ...u, pod });
      return;
    }
    if (u) {
      this.unschedulable.delete(key);
      this.requeue({ ...u, pod, priority: this.priority(pod) });
      return;
    }
    this.add(pod);
  }

  delete(pod: SchedPod): void {
    const key = podKey(pod);
    if (this.inFlight.has(key)) this.inFlight.set(key, null);
    this.active.delete(key);
    this.backoff.delete(key);
    this.unschedulable.delete(key);
    this.changed();
  }

  /** The next pod to schedule, by priority; waits when none is active; undefined once closed. */
  pop(): Promise<QueuedPod | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const next = this.active.pop();
    if (next) return Promise.resolve(this.take(next));
    return new Promise((r) => this.waiters.push(r));
  }

  private take(p: QueuedPod): QueuedPod {
    this.schedulingCycle++;
    this.inFlight.set(p.key, p.pod);
    const taken = { ...p, attempts: p.attempts + 1 };
    this.changed();
    return taken;
  }

  /** The pod was bound (or dropped): it leaves the queue for good. */
  done(key: string): void {
    this.inFlight.delete(key);
  }

  /**
   * The attempt failed. Unschedulable pods wait for a cluster event (or go to backoff when one came during the
   * attempt); errors go to backoff. A pod deleted or changed meanwhile is handled with its latest object.
   */
  requeueFailed(p: QueuedPod, reason: 'unschedulable' | 'error'): void {
    const latest = this.inFlight.get(p.key);
    this.inFlight.delete(p.key);
    if (this.closed || latest === null) return;
    const pod = latest ?? p.pod;
    const item = { ...p, pod, priority: this.priority(pod), lastFailure: this.clock.now() };
    if (reason === 'unschedulable' && this.moveRequestCycle < this.schedulingCycle && latest === p.pod) {
      this.unschedulable.set(p.key, { ...item, since: this.clock.now() });
      this.changed();
      return;
    }
    this.pushBackoff(item);
  }

  /** A cluster event that may make unschedulable pods fit: they go to backoff or straight to active. */
  moveAllToActiveOrBackoff(filter?: (pod: SchedPod) => boolean): void {
    this.moveRequestCycle = this.schedulingCycle;
    for (const [key, u] of this.unschedulable) {
      if (filter && !filter(u.pod)) continue;
      this.unschedulable.delete(key);
      this.requeue(u);
    }
    this.changed();
  }

  /** Unschedulable pods that waited longer than the timeout are retried (call periodically). */
  flushUnschedulableLeftover(): void {
    const now = this.clock.now();
    for (const [key, u] of this.unschedulable) {
      if (now - u.since < this.unschedulableTimeoutMs) continue;
      this.unschedulable.delete(key);
      this.requeue(u);
    }
  }

  backoffDuration(attempts: number): number {
    if (attempts <= 0) return 0;
    return Math.min(this.initialBackoffMs * 2 ** (attempts - 1), this.maxBackoffMs);
  }

  counts(): { active: number; backoff: number; unschedulable: number } {
    return { active: this.active.size, backoff: this.backoff.size, unschedulable: this.unschedulable.size };
  }

  /** Keys per queue, for tests and debugging. */
  dump(): { active: string[]; backoff: string[]; unschedulable: string[] } {
    return {
      active: this.active.values().sort((a, b) => (a.priority !== b.priority ? b.priority - a.priority : a.timestamp - b.timestamp)).map((p) => p.key),
      backoff: this.backoff.values().map((p) => p.key).sort(),
      unschedulable: [...this.unschedulable.keys()].sort(),
    };
  }

  close(): void {
    this.closed = true;
    this.backoffTimer?.cancel();
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(undefined);
  }

  private find(key: string): QueuedPod | undefined {
    return this.active.get(key) ?? this.backoff.get(key) ?? this.unschedulable.get(key);
  }

  /** Back to active, or to backoff while the pod's backoff since its last failure still runs. */
  private requeue(p: QueuedPod): void {
    if (p.lastFailure !== undefined && p.lastFailure + this.backoffDuration(p.attempts) > this.clock.now()) this.pushBackoff(p);
    else this.pushActive({ ...p, timestamp: this.clock.now() });
  }

  private pushActive(p: QueuedPod): void {
    const { until: _u, since: _s, ...clean } = p as QueuedPod & { until?: number; since?: number };
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter(this.take(clean));
      return;
    }
    this.active.push(clean);
    this.changed();
  }

  private pushBackoff(p: QueuedPod): void {
    const until = (p.lastFailure ?? this.clock.now()) + this.backoffDuration(p.attempts);
    this.backoff.push({ ...p, until });
    this.changed();
    this.armBackoffTimer();
  }

  /** One timer for the earliest backoff expiry. */
  private armBackoffTimer(): void {
    const head = this.backoff.peek();
    if (!head || this.closed) return;
    if (this.backoffTimer && this.backoffTimer.at <= head.until) return;
    this.backoffTimer?.cancel();
    const delay = Math.max(0, head.until - this.clock.now());
    const handle = this.clock.setTimeout(() => {
      this.backoffTimer = undefined;
      this.flushBackoff();
    }, delay);
    this.backoffTimer = { at: head.until, cancel: () => handle.cancel() };
  }

  /** Moves pods whose backoff has expired to the active queue. */
  flushBackoff(): void {
    const now = this.clock.now();
    for (let head = this.backoff.peek(); head && head.until <= now; head = this.backoff.peek()) {
      this.backoff.pop();
      this.pushActive({ ...head, timestamp: now });
    }
    this.changed();
    this.armBackoffTimer();
  }

  private changed(): void {
    this.opts.onChange?.(this.counts());
  }
}
