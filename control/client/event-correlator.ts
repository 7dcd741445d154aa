/**
 * client-go's EventCorrelator (tools/record/events_cache.go), pure: it decides, for an event a component wants to
 * record, whether to create a new Event, bump the count of one already written (same source, object, type, reason
 * and message), or drop it. Two limits keep a component that reports the same trouble over and over from flooding
 * the API server:
 * - aggregation: once an object has had 10 events of one reason that differ only by message within 10 minutes,
 *   further ones go into a single "(combined from similar events): ..." Event whose count grows;
 * - a spam filter: a token bucket per source and object, 25 events at once, refilled at 1 event every 5 minutes.
 * Its caches are LRUs of 4,096 keys, as upstream's. Time comes from an injected clock.
 */

export interface CorrelatorOptions {
  /** Milliseconds since the epoch. */
  now?(): number;
  cacheSize?: number;
  /** Events one source may send about one object at once (upstream: 25). */
  burst?: number;
  /** Refill of that budget, in events per second (upstream: 1 every 300 s). */
  qps?: number;
  /** Messages of one reason about one object before they are combined (upstream: 10)... */
  aggregateMaxEvents?: number;
  /** ...within this many milliseconds of the last such event (upstream: 600 s). */
  aggregateIntervalMs?: number;
}

/** The fields of an Event the correlator keys on. */
export interface EventFacts {
  /** source.component */
  component: string;
  /** source.host */
  host?: string;
  involvedObject: { kind?: string; namespace?: string; name?: string; uid?: string; apiVersion?: string; fieldPath?: string };
  type: string;
  reason: string;
  message: string;
}

export type Correlation =
  /** Over the spam budget: write nothing. */
  | { action: 'skip' }
  /** Write a new Event named `name` with this message (the aggregate message when events were combined). */
  | { action: 'create'; key: string; name: string; message: string }
  /** Bump the Event `name`, first recorded at firstMs, to `count`. */
  | { action: 'patch'; key: string; name: string; message: string; count: number; firstMs: number };

/** A Map used as a least-recently-used cache of at most `size` keys. */
class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly size: number) {}
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: string, v: V): void {
    this.map.delete(key);
    this.map.set(key, v);
    if (this.map.size > this.size) this.map.delete(this.map.keys().next().value as string);
  }
  delete(key: string): void {
    this.map.delete(key);
  }
}

const SEP = '\u0000';

export class EventCorrelator {
  private readonly now: () => number;
  private readonly burst: number;
  private readonly qps: number;
  private readonly maxEvents: number;
  private readonly intervalMs: number;
  private readonly buckets: Lru<{ tokens: number; at: number }>;
  private readonly aggregates: Lru<{ messages: Set<string>; lastMs: number }>;
  private readonly observed: Lru<{ name: string; count: number; firstMs: number }>;

  constructor(opts: CorrelatorOptions = {}) {
    this.now = opts.now ?? Date.now;
    const size = opts.cacheSize ?? 4096;
    this.burst = opts.burst ?? 25;
    this.qps = opts.qps ?? 1 / 300;
    this.maxEvents = opts.aggregateMaxEvents ?? 10;
    this.intervalMs = opts.aggregateIntervalMs ?? 600_000;
    this.buckets = new Lru(size);
    this.aggregates = new Lru(size);
    this.observed = new Lru(size);
  }

  /** What to write for `ev`; `freshName` names the Event if a new one is to be created. */
  correlate(ev: EventFacts, freshName: string): Correlation {
    const now = this.now();
    const o = ev.involvedObject;
    const object = [ev.component, ev.host ?? '', o.kind ?? '', o.namespace ?? '', o.name ?? '', o.uid ?? '', o.apiVersion ?? ''].join(SEP);

    // Aggregation: the reason's distinct messages about this object in the interval.
    const aggregateKey = [object, ev.type, ev.reason].join(SEP);
    let agg = this.aggregates.get(aggregateKey);
    if (!agg || now - agg.lastMs > this.intervalMs) agg = { messages: new Set(), lastMs: now };
    agg.messages.add(ev.message);
    agg.lastMs = now;
    this.aggregates.set(aggregateKey, agg);
    let key = [object, o.fieldPath ?? '', ev.type, ev.reason, ev.message].join(SEP);
    let message = ev.message;
    if (agg.messages.size >= this.maxEvents) {
      // Keep the set from growing: one message leaves, so the next distinct one is combined again.
      agg.messages.delete(agg.messages.values().next().value as string);
      key = aggregateKey;
      message = `(combined from similar events): ${ev.message}`;
    }

    // De-duplication: the same event again bumps the count of the one written.
    const prior = this.observed.get(key);
    const result: Correlation = prior
      ? { action: 'patch', key, name: prior.name, message, count: prior.count + 1, firstMs: prior.firstMs }
      : { action: 'create', key, name: freshName, message };
    this.observed.set(key, prior ? { ...prior, count: prior.count + 1 } : { name: freshName, count: 1, firstMs: now });

    // The spam filter sees every event, repeats included, as upstream's filters after observing.
    let bucket = this.buckets.get(object);
    if (!bucket) bucket = { tokens: this.burst, at: now };
    else bucket = { tokens: Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.qps), at: now };
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    this.buckets.set(object, bucket);
    return allowed ? result : { action: 'skip' };
  }

  /** The write for `key` failed: the next occurrence creates a fresh Event. */
  forget(key: string): void {
    this.observed.delete(key);
  }

  /** The Event for `key` was gone when it was to be bumped, so `name` was created in its place with count 1. */
  recreated(key: string, name: string): void {
    this.observed.set(key, { name, count: 1, firstMs: this.now() });
  }
}
