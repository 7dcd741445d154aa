import type * as RPC from 'etcd3';
import { FilterType } from 'etcd3';
import type { Logger } from '../../../lib/log.js';
import { ErrCompacted, ErrInvalidRequest, StoreError } from '../errors.js';
import type { Watch, WatchEvent, WatchListener, WatchMessage, WatchRequest } from '../store.js';
import { int, keyRange, kvFromEtcd } from './convert.js';
import { isTransient } from './errors.js';

type WatchStream = RPC.IDuplexStream<RPC.IWatchRequest, RPC.IWatchResponse>;

/**
 * How far a requested progress notification from etcd can be trusted.
 *
 * 'trust': etcd sends it through the watch's own event queue, after every event up to its revision (etcd 3.4.24+,
 * 3.5.8+, 3.6; etcd-io/etcd#15220, #15237).
 *
 * 'verify': older etcd answers RequestProgress out of band, so the answer can overtake events still queued for the
 * watch, and can come while a watch started in the past is still replaying. The watch then only passes it on once
 * the watch is known to be caught up (it started at/after the current revision, delivered an event at or past its
 * creation revision, or got a periodic progress notification, which etcd does send in order), and a second
 * progress round trip saw no event arrive in between. A watch started in the past with no event in its range cannot
 * show it is caught up, so it is taken as caught up one second after creation: a heuristic, as is the round trip
 * against a watch etcd has demoted for consuming too slowly. Use etcd >= 3.4.24 / 3.5.8 for a guarantee.
 */
export type ProgressOrdering = 'trust' | 'verify';

export interface EtcdWatchDeps {
  readonly id: number;
  readonly open: () => Promise<WatchStream>;
  readonly ordering: ProgressOrdering;
  readonly logger: Logger;
  /** Maps an etcd cancel reason / stream error to a typed store error when there is one. */
  readonly typedError: (error: unknown) => StoreError | undefined;
  readonly onEnd: (watch: EtcdWatch) => void;
  readonly createTimeoutMs: number;
}

interface PendingProgress {
  candidate: number | undefined;
  eventsSince: boolean;
  timer: NodeJS.Timeout;
}

const CTRL_WATCH_ID = '-1';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * One Store watch over one etcd Watch stream (a stream per watch keeps cancellation and RequestProgress, which
 * etcd answers per stream, unambiguous). Delivers each revision once, in order, as one 'events' message: etcd puts
 * all events of a revision in one response (unless fragmenting, which is reassembled here), possibly several
 * revisions per response, which are split here. When the stream breaks, it reconnects and resumes at the revision
 * after the last one delivered, dropping anything at or below it, so the listener sees no gap and no repeat.
 */
export class EtcdWatch implements Watch {
  readonly id: number;
  private stream: WatchStream | undefined;
  private generation = 0;
  private created = false;
  private createdAt = 0;
  private createdRevision = 0;
  /** First revision not yet delivered; 0 until the first creation pins "now". */
  private nextRevision: number;
  private lastEventRevision = 0;
  private knownSynced = false;
  private ended = false;
  private fragments: RPC.IEvent[] = [];
  private pending: PendingProgress | undefined;
  private createWaiter: { resolve: () => void; reject: (error: unknown) => void } | undefined;

  constructor(
    private readonly request: WatchRequest,
    private readonly listener: WatchListener,
    private readonly deps: EtcdWatchDeps,
  ) {
    this.id = deps.id;
    const start = request.startRevision ?? 0;
    if (!Number.isSafeInteger(start) || start < 0) {
      throw new ErrInvalidRequest(`startRevision must be a non-negative integer, got ${start}`);
    }
    this.nextRevision = start;
    keyRange(request); // validate now (ErrEmptyKey...), not in the stream
  }

  /** Opens the stream and waits until etcd confirms the watch, so "from now" means from before watch() returned. */
  async start(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.connect();
        return;
      } catch (error) {
        if (this.ended || attempt >= 3 || !isTransient(error)) throw error;
        await sleep(100 * 3 ** (attempt - 1));
      }
    }
  }

  async cancel(): Promise<void> {
    this.finish();
  }

  requestProgress(): void {
    if (this.ended || this.pending !== undefined) return;
    // Re-asked every second while unanswered: etcd 3.4.24-3.4.30 and 3.5.8-3.5.12 defer the answer for a watch
    // that has not synced yet and may never send it when no event comes (etcd-io/etcd#17507).
    const timer = setInterval(() => this.sendProgressRequest(), 1_000);
    timer.unref();
    this.pending = { candidate: undefined, eventsSince: false, timer };
    this.sendProgressRequest();
  }

  /** Ends the watch with an error message (store closing, compaction...). */
  fail(error: StoreError): void {
    if (this.ended) return;
    this.deliver({ type: 'error', error });
    this.finish();
  }

  // --- stream lifecycle ----------------------------------------------------------------------------------------

  private async connect(): Promise<void> {
    const stream = await this.deps.open();
    if (this.ended) {
      closeStream(stream);
      return;
    }
    const generation = ++this.generation;
    this.stream = stream;
    this.created = false;
    stream.on('data', (response: RPC.IWatchResponse) => this.onResponse(generation, response));
    stream.on('error', (error: Error) => this.onBroken(generation, error));
    stream.on('end', () => this.onBroken(generation, new Error('etcd closed the watch stream')));
    const createRequest: RPC.IWatchCreateRequest = {
      ...keyRange(this.request),
      start_revision: this.nextRevision,
      progress_notify: this.request.progressNotify === true,
      prev_kv: this.request.prevKv === true,
      // Big replays arrive in pieces of at most etcd's --max-request-bytes, reassembled in handle().
      fragment: true,
      filters: [
        ...(this.request.noPut === true ? [FilterType.Noput] : []),
        ...(this.request.noDelete === true ? [FilterType.Nodelete] : []),
      ],
    };
    const createdPromise = new Promise<void>((resolve, reject) => {
      this.createWaiter = { resolve, reject };
    });
    const timeout = setTimeout(
      () => this.createWaiter?.reject(new Error(`etcd did not confirm the watch in ${this.deps.createTimeoutMs} ms`)),
      this.deps.createTimeoutMs,
    );
    try {
      stream.write({ create_request: createRequest });
      await createdPromise;
    } catch (error) {
      if (this.generation === generation) {
        this.generation++;
        this.stream = undefined;
      }
      closeStream(stream);
      throw error;
    } finally {
      clearTimeout(timeout);
      this.createWaiter = undefined;
    }
  }

  private onBroken(generation: number, error: unknown): void {
    if (generation !== this.generation || this.ended) return;
    if (!this.created) {
      this.createWaiter?.reject(error);
      return;
    }
    this.generation++;
    const stream = this.stream;
    this.stream = undefined;
    if (stream !== undefined) closeStream(stream);
    const typed = this.deps.typedError(error);
    if (typed !== undefined) {
      this.fail(typed);
      return;
    }
    this.deps.logger.warn(
      { watch: this.id, err: error, resumeAt: this.nextRevision },
      'etcd watch stream broke; resuming',
    );
    void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    let backoff = 100;
    this.fragments = [];
    while (!this.ended) {
      await sleep(backoff);
      if (this.ended) return;
      try {
        await this.connect();
        return;
      } catch (error) {
        const typed = this.deps.typedError(error);
        if (typed !== undefined) {
          this.fail(typed);
          return;
        }
        this.deps.logger.debug({ watch: this.id, err: error }, 'etcd watch reconnect failed; retrying');
        backoff = Math.min(backoff * 2, 2_000);
      }
    }
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.generation++;
    this.clearPending();
    this.createWaiter?.reject(new Error('watch cancelled'));
    const stream = this.stream;
    this.stream = undefined;
    if (stream !== undefined) closeStream(stream);
    this.deps.onEnd(this);
  }

  // --- responses -----------------------------------------------------------------------------------------------

  private onResponse(generation: number, response: RPC.IWatchResponse): void {
    if (generation !== this.generation || this.ended) return;
    try {
      this.handle(response);
    } catch (error) {
      // A response the Store cannot represent (e.g. a key on a lease id beyond 2^53): end the watch loudly.
      this.fail(error instanceof StoreError ? error : new ErrInvalidRequest(String(error)));
    }
  }

  private handle(response: RPC.IWatchResponse): void {
    const revision = int(response.header?.revision, 'revision');
    const compactRevision = int(response.compact_revision, 'compact revision');
    if (response.created) {
      this.created = true;
      this.createdAt = Date.now();
      this.createdRevision = revision;
      const start = this.nextRevision;
      if (start === 0) this.nextRevision = revision + 1;
      this.knownSynced = start === 0 || start > revision;
      this.createWaiter?.resolve();
      if (this.pending !== undefined) {
        this.pending.candidate = undefined;
        this.sendProgressRequest();
      }
    }
    if (compactRevision > 0) {
      this.fail(new ErrCompacted(compactRevision));
      return;
    }
    if (response.canceled) {
      const reason = response.cancel_reason || 'etcd cancelled the watch';
      const error =
        this.deps.typedError(new Error(reason)) ?? new ErrInvalidRequest(`etcd cancelled the watch: ${reason}`);
      if (!this.created) this.createWaiter?.reject(error);
      else this.fail(error);
      return;
    }
    if (response.created) return;
    if (response.fragment) {
      this.fragments.push(...response.events);
      return;
    }
    const events = this.fragments.length > 0 ? [...this.fragments, ...response.events] : response.events;
    this.fragments = [];
    if (events.length > 0) this.dispatch(events);
    else this.onProgress(revision, response.watch_id === CTRL_WATCH_ID);
  }

  private dispatch(events: RPC.IEvent[]): void {
    let i = 0;
    while (i < events.length) {
      const revision = int(events[i]!.kv.mod_revision, 'mod revision');
      let j = i;
      const group: WatchEvent[] = [];
      while (j < events.length && int(events[j]!.kv.mod_revision, 'mod revision') === revision) {
        group.push(eventFromEtcd(events[j]!));
        j++;
      }
      i = j;
      if (revision < this.nextRevision) continue; // already delivered before a reconnect
      this.nextRevision = revision + 1;
      this.lastEventRevision = revision;
      if (revision >= this.createdRevision) this.knownSynced = true;
      if (this.pending !== undefined) this.pending.eventsSince = true;
      this.deliver({ type: 'events', revision, events: group });
      if (this.ended) return;
    }
    const pending = this.pending;
    if (pending?.candidate !== undefined && this.lastEventRevision >= pending.candidate) {
      this.answerProgress(this.lastEventRevision);
    }
  }

  private onProgress(revision: number, requested: boolean): void {
    if (!requested) {
      // Periodic (progress_notify): etcd queues it behind the watch's events, and only for a synced watch.
      this.knownSynced = true;
      this.clearPending();
      this.deliver({ type: 'progress', revision: Math.max(revision, this.lastEventRevision) });
      return;
    }
    const pending = this.pending;
    if (pending === undefined) return;
    if (revision <= this.lastEventRevision || this.deps.ordering === 'trust') {
      this.answerProgress(Math.max(revision, this.lastEventRevision));
      return;
    }
    if (!this.knownSynced && Date.now() - this.createdAt < 1_000) {
      pending.candidate = undefined;
      setTimeout(() => this.sendProgressRequest(), 200).unref();
      return;
    }
    if (pending.candidate === undefined || pending.eventsSince) {
      pending.candidate = revision;
      pending.eventsSince = false;
      setTimeout(() => this.sendProgressRequest(), 10).unref();
      return;
    }
    this.answerProgress(Math.max(pending.candidate, this.lastEventRevision));
  }

  private answerProgress(revision: number): void {
    this.clearPending();
    this.deliver({ type: 'progress', revision });
  }

  private sendProgressRequest(): void {
    if (this.ended || this.pending === undefined || this.stream === undefined || !this.created) return;
    try {
      this.stream.write({ progress_request: {} });
    } catch (error) {
      this.deps.logger.debug({ watch: this.id, err: error }, 'etcd progress request not sent');
    }
  }

  private clearPending(): void {
    if (this.pending === undefined) return;
    clearInterval(this.pending.timer);
    this.pending = undefined;
  }

  private deliver(message: WatchMessage): void {
    if (this.ended) return;
    try {
      this.listener(message);
    } catch (error) {
      this.deps.logger.warn({ watch: this.id, err: error }, 'store watch listener threw');
    }
  }
}

export function eventFromEtcd(event: RPC.IEvent): WatchEvent {
  const kv = kvFromEtcd(event.kv);
  const type = event.type === 'Delete' ? 'DELETE' : 'PUT';
  // etcd sends prev_kv null when the key did not exist (or the watch did not ask).
  return event.prev_kv ? { type, kv, prevKv: kvFromEtcd(event.prev_kv) } : { type, kv };
}

/**
 * Ends a stream without etcd3's failure accounting: its error listener marks the host failed (and trips the
 * circuit breaker) for errors on a still-writable stream, and cancelling reports CANCELLED as an error.
 */
export function closeStream(stream: RPC.IRequestStream<unknown>): void {
  try {
    stream.end();
  } catch {
    // already ended
  }
  try {
    stream.cancel();
  } catch {
    // already cancelled
  }
}
