import type { ApiError } from '../http/status.js';
import type { ResourceDef } from '../resources.js';
import type { KubeObject, ObjectStorage, WatchEvent } from './object-storage.js';

/**
 * Every object of one cluster-scoped resource, kept current by a store watch (upstream's informer-backed listers, as
 * admission plugins read namespaces). A name the cache does not hold is looked up in the store, so an object created
 * a moment ago is never missed; the embedded store delivers a write's watch event before the write's answer, so
 * what a client has been told is written is what the cache holds.
 */
export class ObjectCache {
  private readonly objects = new Map<string, KubeObject>();
  private syncing: Promise<void> | undefined;
  private synced = false;

  constructor(
    private readonly storage: ObjectStorage,
    private readonly def: ResourceDef,
  ) {}

  async get(name: string): Promise<KubeObject | undefined> {
    if (!this.synced) {
      this.syncing ??= this.sync();
      await this.syncing.catch(() => undefined);
    }
    return (this.synced ? this.objects.get(name) : undefined) ?? (await this.storage.tryGet(this.def, undefined, name));
  }

  private async sync(): Promise<void> {
    try {
      const listed = await this.storage.list(this.def, undefined);
      this.objects.clear();
      for (const o of listed.items) this.objects.set(o.metadata.name ?? '', o);
      await this.storage.watch(this.def, undefined, Number(listed.resourceVersion), (e) => this.onEvent(e), (err) => this.onError(err));
      this.synced = true;
    } finally {
      this.syncing = undefined;
    }
  }

  private onEvent(e: WatchEvent): void {
    if (e.type === 'BOOKMARK' || e.type === 'ERROR') return;
    const obj = e.object as KubeObject;
    if (e.type === 'DELETED') this.objects.delete(obj.metadata.name ?? '');
    else this.objects.set(obj.metadata.name ?? '', obj);
  }

  /** The watch ended (compaction during an outage): read from the store until the next get lists again. */
  private onError(_err: ApiError): void {
    this.synced = false;
    this.objects.clear();
  }
}
