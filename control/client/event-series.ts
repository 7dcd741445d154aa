/**
 * events.k8s.io/v1 Events with client-go's series semantics (tools/events), as upstream's scheduler records them.
 *
 * The first occurrence of an event is created as it is. Events are isomorphic when their type, action, reason,
 * reporting controller and instance, regarding and related objects are the same (the note is not compared): the
 * first repeat turns the cached event into a series (count 2) and patches it; later repeats only count in memory.
 * The counts reach the server every 30 minutes (refreshSeries), and once a series has seen nothing for 6 minutes its
 * final count is written and it leaves the cache (finishSeries), which singletons also leave after 6 minutes. A
 * pod that fails scheduling every few minutes therefore costs one create, one patch, then one patch per half hour,
 * where core/v1's correlator patches the count on every failure.
 */
import { hostname } from 'node:os';
import type { Logger } from '../../lib/log.js';
import { ApiStatusError, type KubeClient } from './client.js';
import { EventNamer } from './event-name.js';
import { RateLimiterClosedError } from './rate-limiter.js';

const EVENTS = { group: 'events.k8s.io', version: 'v1', resource: 'events' };

/** client-go's finishTime and refreshTime. */
export const SERIES_FINISH_MS = 6 * 60_000;
export const SERIES_REFRESH_MS = 30 * 60_000;
/** events.k8s.io/v1's NoteLengthLimit: longer notes are cut (upstream's scheduler does so before recording). */
export const NOTE_LENGTH_LIMIT = 1024;

export interface ObjectReference {
  kind: string;
  apiVersion: string;
  namespace?: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
  fieldPath?: string;
}

export interface SeriesEvent {
  regarding: ObjectReference;
  related?: ObjectReference;
  type: 'Normal' | 'Warning';
  reason: string;
  action: string;
  note: string;
}

interface Series {
  count: number;
  lastObservedTime: string;
}

interface Cached {
  namespace: string;
  name: string;
  eventTime: Date;
  body: Record<string, unknown>;
  series?: Series;
}

/** MicroTime: RFC 3339 with microseconds, as metav1.MicroTime serializes. */
export const microTime = (d: Date): string => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/** The note cut to the limit, ending in " ..." when cut (upstream scheduler's truncateMessage), on a UTF-8 boundary. */
export function truncateNote(note: string, limit = NOTE_LENGTH_LIMIT): string {
  const bytes = Buffer.from(note, 'utf8');
  if (bytes.length <= limit) return note;
  const suffix = ' ...';
  let cut = limit - suffix.length;
  // Step back over continuation bytes so that no character is split.
  while (cut > 0 && (bytes[cut]! & 0xc0) === 0x80) cut--;
  return bytes.subarray(0, cut).toString('utf8') + suffix;
}

const refKey = (r: ObjectReference | undefined): string =>
  r ? [r.kind, r.apiVersion, r.namespace ?? '', r.name, r.uid ?? '', r.resourceVersion ?? '', r.fieldPath ?? ''].join('\u0000') : '';

export interface EventSeriesRecorderOptions {
  client: KubeClient;
  reportingController: string;
  /** Upstream: "<controller>-<hostname>". */
  reportingInstance?: string;
  logger: Logger;
  now?: () => Date;
}

export class EventSeriesRecorder {
  private readonly cache = new Map<string, Cached>();
  private readonly client: KubeClient;
  private readonly logger: Logger;
  private readonly now: () => Date;
  readonly reportingController: string;
  readonly reportingInstance: string;
  private readonly names = new EventNamer();
  private timers: NodeJS.Timeout[] = [];

  constructor(opts: EventSeriesRecorderOptions) {
    this.client = opts.client;
    this.logger = opts.logger;
    this.now = opts.now ?? (() => new Date());
    this.reportingController = opts.reportingController;
    this.reportingInstance = opts.reportingInstance ?? `${opts.reportingController}-${hostname()}`;
  }

  /** Runs refreshSeries and finishSeries on upstream's periods until stop(). */
  start(): void {
    if (this.timers.length > 0) return;
    const every = (ms: number, fn: () => Promise<void>): NodeJS.Timeout => {
      const t = setInterval(() => void fn(), ms);
      t.unref?.();
      return t;
    };
    this.timers = [every(SERIES_REFRESH_MS, () => this.refreshSeries()), every(SERIES_FINISH_MS, () => this.finishSeries())];
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /** How many events the recorder remembers (singletons and series). */
  get size(): number {
    return this.cache.size;
  }

  /** Records one occurrence; resolves once whatever it had to write is written (or given up). */
  async record(e: SeriesEvent): Promise<void> {
    const now = this.now();
    const key = [e.type, e.action, e.reason, refKey(e.regarding), refKey(e.related)].join('\u0001');
    const cached = this.cache.get(key);
    if (cached) {
      if (cached.series) {
        cached.series.count++;
        cached.series.lastObservedTime = microTime(now);
        return;
      }
      cached.series = { count: 2, lastObservedTime: microTime(now) };
      await this.write(key, cached);
      return;
    }
    const namespace = e.regarding.namespace || 'default';
    const name = this.names.name(e.regarding.name, now.getTime());
    const body: Record<string, unknown> = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name, namespace },
      eventTime: microTime(now),
      reportingController: this.reportingController,
      reportingInstance: this.reportingInstance,
      action: e.action,
      reason: e.reason,
      regarding: e.regarding,
      ...(e.related ? { related: e.related } : {}),
      note: truncateNote(e.note),
      type: e.type,
    };
    const entry: Cached = { namespace, name, eventTime: now, body };
    this.cache.set(key, entry);
    await this.write(key, entry);
  }

  /** Writes every series' count (upstream: every 30 minutes, so that the counts reach the server and TTLs renew). */
  async refreshSeries(): Promise<void> {
    const writes: Promise<void>[] = [];
    for (const [key, entry] of this.cache) if (entry.series) writes.push(this.write(key, entry));
    await Promise.all(writes);
  }

  /** Series idle for 6 minutes get their final count written and leave the cache; so do singletons that old. */
  async finishSeries(): Promise<void> {
    const before = this.now().getTime() - SERIES_FINISH_MS;
    const writes: Promise<void>[] = [];
    for (const [key, entry] of this.cache) {
      if (entry.series) {
        if (Date.parse(entry.series.lastObservedTime) < before) {
          this.cache.delete(key);
          writes.push(this.write(key, entry));
        }
      } else if (entry.eventTime.getTime() < before) {
        this.cache.delete(key);
      }
    }
    await Promise.all(writes);
  }

  /** A series is patched (created if it is gone), a singleton created; failures are logged, not retried. */
  private async write(key: string, entry: Cached): Promise<void> {
    const series = entry.series ? { ...entry.series } : undefined;
    try {
      if (series) {
        try {
          await this.client.patch(EVENTS, entry.namespace, entry.name, { series }, 'strategic');
          return;
        } catch (err) {
          if (!(err instanceof ApiStatusError && err.code === 404)) throw err;
        }
      }
      await this.client.create(EVENTS, entry.namespace, { ...entry.body, ...(series ? { series } : {}) } as never);
    } catch (err) {
      // A singleton that never reached the server is forgotten, so that its next occurrence is created afresh.
      if (!series && this.cache.get(key) === entry) this.cache.delete(key);
      if (err instanceof RateLimiterClosedError) return;
      if (err instanceof ApiStatusError && err.code === 409 && !series) return;
      this.logger.warn({ err: err instanceof Error ? err.message : String(err), event: `${entry.namespace}/${entry.name}`, reason: entry.body.reason }, 'recording an event failed');
    }
  }
}
