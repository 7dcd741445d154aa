import type { Watch } from '../../store/index.js';
import { gone, type ApiError } from '../http/status.js';
import type { ResourceDef } from '../resources.js';
import type { KubeObject, ObjectStorage, WatchEvent } from './object-storage.js';

/**
 * One store watch per resource, fanned out to every client watching it (upstream's watch cache): a client watching
 * from a recent resourceVersion is served from a bounded window of recent events, so a thousand watchers cost one
 * store watch. Older versions fall back to a watch of their own on the store, which answers 410 once compacted.
 */

interface Cached {
  revision: number;
  namespace: string | undefined;
  event: WatchEvent;
}

type Subscriber = { namespace: string | undefined; onEvent: (e: WatchEvent) => void; onError: (e: ApiError) => void };

class ResourceWatchCache {
  private readonly window: Cached[] = [];
  /** The cache holds every event with a revision greater than this. */
  private complete = Number.POSITIVE_INFINITY;
  private readonly subscribers = new Set<Subscriber>();
  private storeWatch: Watch | undefined;
  private starting: Promise<void> | undefined;

  constructor(
    private readonly storage: ObjectStorage,
    private readonly def: ResourceDef,
    private readonly capacity: number,
  ) {}

  private start(): Promise<void> {
    this.starting ??= (async () => {
      const revision = await this.storage.currentRevision();
      this.complete = revision;
      this.storeWatch = await this.storage.watch(
        this.def,
        undefined,
        revision,
        (e) => this.onStoreEvent(e),
        (err) => this.onStoreError(err),
      );
    })();
    return this.starting;
  }

  private onStoreEvent(e: WatchEvent): void {
    if (e.type === 'BOOKMARK') {
      for (const s of this.subscribers) s.onEvent(e);
      return;
    }
    // An event read from the store says where it belongs without its object being parsed.
    const obj = e.stored ? undefined : (e.object as KubeObject);
    const revision = e.stored ? e.stored.revision : Number(obj?.metadata.resourceVersion);
    const cached: Cached = { revision, namespace: e.stored ? e.stored.namespace : obj?.metadata.namespace, event: e };
    this.window.push(cached);
    if (this.window.length > this.capacity) {
      const dropped = this.window.shift() as Cached;
      this.complete = dropped.revision;
    }
    for (const s of this.subscribers) if (s.namespace === undefined || s.namespace === cached.namespace) s.onEvent(e);
  }

  /** The store watch failed (compaction during an outage): every client must relist, and the cache starts afresh. */
  private onStoreError(err: ApiError): void {
    const subs = [...this.subscribers];
    this.subscribers.clear();
    this.window.length = 0;
    this.complete = Number.POSITIVE_INFINITY;
    this.storeWatch = undefined;
    this.starting = undefined;
    for (const s of subs) s.onError(err.code === 410 ? err : gone(err.message));
  }

  /** Subscribes from just after `fromRevision`, or undefined when the window no longer reaches that far back. */
  async subscribe(namespace: string | undefined, fromRevision: number, onEvent: (e: WatchEvent) => void, onError: (e: ApiError) => void): Promise<(() => void) | undefined> {
    await this.start();
    if (fromRevision < this.complete) return undefined;
    const sub: Subscriber = { namespace, onEvent, onError };
    // Replay and join in one synchronous step, so no event falls between the two.
    for (const c of this.window) {
      if (c.revision > fromRevision && (namespace === undefined || c.namespace === namespace)) onEvent(c.event);
    }
    this.subscribers.add(sub);
    return () => this.subscribers.delete(sub);
  }

  close(): void {
    this.storeWatch?.cancel();
    this.subscribers.clear();
  }
}

export class WatchCache {
  private readonly caches = new Map<string, ResourceWatchCache>();

  constructor(
    private readonly storage: ObjectStorage,
    private readonly capacity = 1000,
  ) {}

  /**
   * Watches a resource (optionally one namespace) from just after `fromRevision`, from the shared window when it
   * reaches that far back, else directly on the store.
   */
  async watch(def: ResourceDef, namespace: string | undefined, fromRevision: number, onEvent: (e: WatchEvent) => void, onError: (e: ApiError) => void): Promise<() => void> {
    const key = `${def.group}/${def.version}/${def.resource}`;
    let cache = this.caches.get(key);
    if (!cache) {
      cache = new ResourceWatchCache(this.storage, def, this.capacity);
      this.caches.set(key, cache);
    }
    const cancel = await cache.subscribe(namespace, fromRevision, onEvent, onError);
    if (cancel) return cancel;
    const w = await this.storage.watch(def, namespace, fromRevision, onEvent, onError);
    return () => w.cancel();
  }

  close(): void {
    for (const c of this.caches.values()) c.close();
    this.caches.clear();
  }
}
