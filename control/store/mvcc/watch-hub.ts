import { ErrCompacted, type StoreError } from '../errors.js';
import { intervalContains, toInterval, type KeyInterval } from '../keys.js';
import type { Watch, WatchEvent, WatchListener, WatchMessage, WatchRequest } from '../store.js';
import type { MvccKv, RevisionRecord } from './kv-state.js';

interface Watcher {
  readonly id: number;
  readonly interval: KeyInterval;
  readonly request: WatchRequest;
  readonly listener: WatchListener;
  /** The next revision this watcher has not been given yet. */
  nextRev: number;
  queue: WatchMessage[];
  head: number;
  scheduled: boolean;
  /** No more messages are queued once ended (after an error); nothing is delivered once canceled. */
  ended: boolean;
  canceled: boolean;
  /** Whether events went out since the last periodic progress round (etcd only notifies idle watchers). */
  busy: boolean;
}

/**
 * Fans committed revisions out to watchers. Catch-up from history and subscription to new revisions happen in the
 * same synchronous step, and writes commit synchronously too, so no revision can fall between the two: that is
 * what makes delivery exactly-once and in order. Delivery itself is asynchronous (a microtask per watcher), so a
 * listener never runs inside a write and may write to the store itself.
 */
export class WatchHub {
  private watchers = new Map<number, Watcher>();
  private lastId = 0;

  constructor(
    /** The live key space; a getter because restore replaces it. */
    private readonly kvState: () => MvccKv,
    private readonly onListenerError: (error: unknown) => void,
  ) {}

  add(request: WatchRequest, listener: WatchListener): Watch {
    const kv = this.kvState();
    const interval = toInterval(request);
    const requested = request.startRevision ?? 0;
    const start = requested > 0 ? requested : kv.revision + 1;
    const w: Watcher = {
      id: ++this.lastId,
      interval,
      request: { ...request },
      listener,
      nextRev: start,
      queue: [],
      head: 0,
      scheduled: false,
      ended: false,
      canceled: false,
      busy: false,
    };
    this.watchers.set(w.id, w);
    this.catchUp(w, kv);
    return {
      id: w.id,
      cancel: async () => {
        w.canceled = true;
        w.queue = [];
        this.watchers.delete(w.id);
      },
      requestProgress: () => this.enqueue(w, { type: 'progress', revision: this.kvState().revision }),
    };
  }

  /** Delivers history from the watcher's next revision up to now, or ends it when that history is compacted. */
  private catchUp(w: Watcher, kv: MvccKv): void {
    if (w.nextRev > kv.revision) return;
    if (w.nextRev < kv.compactRevision) {
      this.fail(w, new ErrCompacted(kv.compactRevision));
      return;
    }
    for (const record of kv.historyFrom(w.nextRev)) this.deliver(w, record);
    w.nextRev = kv.revision + 1;
  }

  publish(record: RevisionRecord): void {
    for (const w of this.watchers.values()) {
      if (record.revision < w.nextRev) continue;
      this.deliver(w, record);
      w.nextRev = record.revision + 1;
    }
  }

  /** After the state was replaced (snapshot restore), replays whatever each watcher has not seen yet. */
  resync(): void {
    const kv = this.kvState();
    for (const w of [...this.watchers.values()]) this.catchUp(w, kv);
  }

  /** One periodic round: a progress message to each idle watcher that asked for them. */
  progressRound(revision: number): void {
    for (const w of this.watchers.values()) {
      if (w.request.progressNotify === true && !w.busy) this.enqueue(w, { type: 'progress', revision });
      w.busy = false;
    }
  }

  closeAll(error: StoreError): void {
    for (const w of [...this.watchers.values()]) this.fail(w, error);
  }

  get size(): number {
    return this.watchers.size;
  }

  private deliver(w: Watcher, record: RevisionRecord): void {
    const { prevKv, noPut, noDelete } = w.request;
    const events: WatchEvent[] = [];
    const { entries, prevs } = record;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      const prev = prevs[i];
      if (!intervalContains(w.interval, entry.kv.key)) continue;
      if (entry.tombstone ? noDelete === true : noPut === true) continue;
      const type = entry.tombstone ? 'DELETE' : 'PUT';
      const withPrev = prevKv === true && prev !== undefined;
      events.push(withPrev ? { type, kv: entry.kv, prevKv: prev } : { type, kv: entry.kv });
    }
    if (events.length === 0) return;
    w.busy = true;
    this.enqueue(w, { type: 'events', revision: record.revision, events });
  }

  private fail(w: Watcher, error: StoreError): void {
    this.enqueue(w, { type: 'error', error });
    w.ended = true;
    this.watchers.delete(w.id);
  }

  private enqueue(w: Watcher, message: WatchMessage): void {
    if (w.ended || w.canceled) return;
    w.queue.push(message);
    if (w.scheduled) return;
    w.scheduled = true;
    queueMicrotask(() => this.drain(w));
  }

  private drain(w: Watcher): void {
    w.scheduled = false;
    while (!w.canceled && w.head < w.queue.length) {
      const message = w.queue[w.head++]!;
      try {
        w.listener(message);
      } catch (error) {
        // One faulty listener must not stall the others or the writer that triggered it.
        this.onListenerError(error);
      }
    }
    w.queue = [];
    w.head = 0;
  }
}
