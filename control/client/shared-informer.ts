import type { KubeObject } from './client.js';
import type { Informer, InformerHandlers } from './informer.js';

/**
 * One informer read by several components of the process, as client-go's shared informers are: the scheduler and
 * the controller manager of `skiff control` both watch every pod, and each kept its own decoded copy of every one
 * (about 9 MB per 5,000 pods). Each component (each term of office, under leader election) takes its own view():
 * the informer runs while a view is started, and a view's handlers hear events only while it is started. When the
 * last view stops, the informer stops and is dropped; the next start lists afresh.
 */
export class InformerShare<T extends KubeObject = KubeObject> {
  private users = 0;
  private current: Informer<T> | undefined;

  /** `create` makes the informer when a view starts and none runs: a cache left from a run before is not trusted. */
  constructor(private readonly create: () => Informer<T>) {}

  /** The informer that runs now (or will, once a view starts). */
  get informer(): Informer<T> {
    return (this.current ??= this.create());
  }

  view(): Informer<T> {
    return new SharedInformerView(this);
  }

  /** @internal a view started */
  acquire(): void {
    if (this.users++ === 0) this.informer.start();
  }

  /** @internal a view stopped */
  release(): void {
    if (--this.users > 0) return;
    this.current?.stop();
    this.current = undefined;
  }
}

class SharedInformerView<T extends KubeObject> implements Informer<T> {
  private handlers: InformerHandlers<T>[] = [];
  private started = false;

  constructor(private readonly share: InformerShare<T>) {}

  addHandlers(h: InformerHandlers<T>): void {
    this.handlers.push(h);
    // Attached now only when started; start() attaches the others (and, the cache being full, they hear of every
    // object as added, as a handler added to a synced informer does).
    if (this.started) this.share.informer.addHandlers(h);
  }

  removeHandlers(h: InformerHandlers<T>): void {
    this.handlers = this.handlers.filter((x) => x !== h);
    if (this.started) this.share.informer.removeHandlers(h);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.share.acquire();
    for (const h of this.handlers) this.share.informer.addHandlers(h);
  }

  stop(): void {
    if (!this.started) return;
    this.started = false;
    for (const h of this.handlers) this.share.informer.removeHandlers(h);
    this.share.release();
  }

  hasSynced(): boolean {
    return this.share.informer.hasSynced();
  }

  waitForSync(): Promise<void> {
    return this.share.informer.waitForSync();
  }

  list(): T[] {
    return this.share.informer.list();
  }

  get(key: string): T | undefined {
    return this.share.informer.get(key);
  }

  get resourceVersion(): string {
    return this.share.informer.resourceVersion;
  }
}

/**
 * The objects of `informer` that `matches`, as an informer of their own: what a field selector on the watch would
 * give, filtered here instead, so that one watch and one cache serve several selections (the scheduler's pending and
 * assigned pods). An object changing into the selection is an add, out of it a delete (of the old object), as
 * client-go's FilteringResourceEventHandler. start() and stop() are the underlying informer's.
 */
export function filteredInformer<T extends KubeObject>(informer: Informer<T>, matches: (obj: T) => boolean): Informer<T> {
  const wrapped = new Map<InformerHandlers<T>, InformerHandlers<T>>();
  return {
    addHandlers(h) {
      const w: InformerHandlers<T> = {
        onAdd: (obj) => {
          if (matches(obj)) h.onAdd?.(obj);
        },
        onUpdate: (oldObj, newObj) => {
          const was = matches(oldObj);
          const is = matches(newObj);
          if (was && is) h.onUpdate?.(oldObj, newObj);
          else if (is) h.onAdd?.(newObj);
          else if (was) h.onDelete?.(oldObj);
        },
        onDelete: (obj) => {
          if (matches(obj)) h.onDelete?.(obj);
        },
      };
      wrapped.set(h, w);
      informer.addHandlers(w);
    },
    removeHandlers(h) {
      const w = wrapped.get(h);
      if (w === undefined) return;
      wrapped.delete(h);
      informer.removeHandlers(w);
    },
    start: () => informer.start(),
    stop: () => informer.stop(),
    hasSynced: () => informer.hasSynced(),
    waitForSync: () => informer.waitForSync(),
    list: () => informer.list().filter(matches),
    get(key) {
      const obj = informer.get(key);
      return obj !== undefined && matches(obj) ? obj : undefined;
    },
    get resourceVersion() {
      return informer.resourceVersion;
    },
  };
}
