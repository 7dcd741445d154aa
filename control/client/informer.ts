import { ApiStatusError, type KubeClient, type KubeObject, type ListOptions, type ResourceRef, type WatchEvent } from './client.js';
import { informerStrings } from './intern.js';

/**
 * client-go's shared informer, reduced to what Skiff needs: list, then watch from the list's resourceVersion, keep a
 * cache keyed by namespace/name, relist when the watch says 410 Gone (or breaks), and tell handlers what changed.
 */

export interface InformerHandlers<T extends KubeObject> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T): void;
}

export function objectKey(obj: KubeObject): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : (obj.metadata.name ?? '');
}

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Wait before relisting after a failure, growing to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  onError?(err: Error): void;
}

/** What components read an informer through: the list-and-watch one below, or a view of a shared one (shared.ts). */
export interface Informer<T extends KubeObject = KubeObject> {
  addHandlers(h: InformerHandlers<T>): void;
  /** Takes back handlers given to addHandlers (the same object); they hear nothing more. */
  removeHandlers(h: InformerHandlers<T>): void;
  start(): void;
  stop(): void;
  hasSynced(): boolean;
  /** Resolves once the first list has filled the cache. */
  waitForSync(): Promise<void>;
  list(): T[];
  get(key: string): T | undefined;
  readonly resourceVersion: string;
}

export const Informer: new <T extends KubeObject = KubeObject>(client: KubeClient, ref: ResourceRef, opts?: InformerOptions) => Informer<T> = class ListWatchInformer<T extends KubeObject = KubeObject> implements Informer<T> {
  private readonly cache = new Map<string, T>();
  /** Replaced, never changed in place: a handler taken back while events are being dispatched skips no other. */
  private handlers: InformerHandlers<T>[] = [];
  private stopWatch: (() => void) | undefined;
  private stopped = false;
  private synced = false;
  private syncWaiters: Array<() => void> = [];
  private retry: NodeJS.Timeout | undefined;
  private failures = 0;
  private lastResourceVersion = '';

  constructor(
    private readonly client: KubeClient,
    private readonly ref: ResourceRef,
    private readonly opts: InformerOptions = {},
  ) {}

  addHandlers(h: InformerHandlers<T>): void {
    this.handlers = [...this.handlers, h];
    // A handler added late hears of everything already known, as client-go's AddEventHandler does.
    if (this.synced) for (const obj of this.cache.values()) h.onAdd?.(obj);
  }

  removeHandlers(h: InformerHandlers<T>): void {
    this.handlers = this.handlers.filter((x) => x !== h);
  }

  start(): void {
    this.stopped = false;
    void this.listAndWatch();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    this.stopWatch?.();
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves once the first list has filled the cache. */
  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((r) => this.syncWaiters.push(r));
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  get resourceVersion(): string {
    return this.lastResourceVersion;
  }

  private selectors(): ListOptions {
    return {
      ...(this.opts.namespace ? { namespace: this.opts.namespace } : {}),
      ...(this.opts.labelSelector ? { labelSelector: this.opts.labelSelector } : {}),
      ...(this.opts.fieldSelector ? { fieldSelector: this.opts.fieldSelector } : {}),
    };
  }

  private scheduleRelist(err?: Error): void {
    if (this.stopped) return;
    if (err) this.opts.onError?.(err);
    this.stopWatch?.();
    this.stopWatch = undefined;
    this.failures++;
    const base = this.opts.backoffMs ?? 500;
    const delay = Math.min(base * 2 ** Math.min(this.failures - 1, 8), this.opts.maxBackoffMs ?? 30_000);
    this.retry = setTimeout(() => void this.listAndWatch(), err ? delay : 0);
    this.retry.unref?.();
  }

  private async listAndWatch(): Promise<void> {
    if (this.stopped) return;
    try {
      const list = await this.client.list<T>(this.ref, this.selectors());
      this.replace(list.items.map((o) => informerStrings.internValues({ ...o })), list.metadata.resourceVersion ?? '');
      await this.watchFrom(this.lastResourceVersion);
      this.failures = 0;
    } catch (err) {
      this.scheduleRelist(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private async watchFrom(resourceVersion: string): Promise<void> {
    this.stopWatch = await this.client.watch<T>(
      this.ref,
      { ...this.selectors(), resourceVersion, allowWatchBookmarks: true },
      (e) => this.onEvent(e),
      (err) => {
        // The server closes watches from time to time: resume from the last version seen; relist after errors.
        if (this.stopped) return;
        if (err) this.scheduleRelist(err);
        else void this.watchFrom(this.lastResourceVersion).catch((e: unknown) => this.scheduleRelist(e instanceof Error ? e : new Error(String(e))));
      },
    );
  }

  private onEvent(e: WatchEvent<T>): void {
    if (e.type === 'ERROR') {
      const status = e.object as unknown as { code?: number; message?: string; reason?: string };
      const err = new ApiStatusError(status.code ?? 500, status.reason ?? 'Unknown', status.message ?? 'watch error');
      // 410 Gone: our version was compacted away; a fresh list is the only way back.
      this.scheduleRelist(err.code === 410 ? undefined : err);
      return;
    }
    const rv = e.object.metadata?.resourceVersion;
    if (rv) this.lastResourceVersion = rv;
    if (e.type === 'BOOKMARK') return;
    const key = objectKey(e.object);
    const old = this.cache.get(key);
    if (e.type === 'DELETED') {
      this.cache.delete(key);
      for (const h of this.handlers) h.onDelete?.(e.object);
      return;
    }
    this.cache.set(key, informerStrings.internValues(e.object));
    for (const h of this.handlers) {
      if (old) h.onUpdate?.(old, e.object);
      else h.onAdd?.(e.object);
    }
  }

  /** Replaces the cache with a fresh list, telling handlers what was added, changed and removed meanwhile. */
  private replace(items: T[], resourceVersion: string): void {
    const next = new Map(items.map((o) => [objectKey(o), o]));
    for (const [key, old] of this.cache) {
      if (!next.has(key)) {
        this.cache.delete(key);
        for (const h of this.handlers) h.onDelete?.(old);
      }
    }
    for (const [key, obj] of next) {
      const old = this.cache.get(key);
      this.cache.set(key, obj);
      if (!old) for (const h of this.handlers) h.onAdd?.(obj);
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) for (const h of this.handlers) h.onUpdate?.(old, obj);
    }
    this.lastResourceVersion = resourceVersion;
    if (!this.synced) {
      this.synced = true;
      const waiters = this.syncWaiters;
      this.syncWaiters = [];
      for (const w of waiters) w();
    }
  }
};
