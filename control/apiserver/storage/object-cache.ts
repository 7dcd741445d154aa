import type { ApiError } from '../http/status.js';
import type { ResourceDef } from '../resources.js';
import type { KubeObject, ObjectStorage, WatchEvent } from './object-storage.js';

/**
 * Every object of one resource, kept current by a store watch (upstream's informer-backed listers, as admission
 * plugins read namespaces, service accounts and priority classes). A name the cache does not hold is looked up in
 * the store, so an object created a moment ago is never missed; the embedded store delivers a write's watch event
 * before the write's answer, so what a client has been told is written is what the cache holds. Objects of a
 * namespaced resource are held under namespace/name.
 */
export class ObjectCache {
  private readonly objects = new Map<string, KubeObject>();
  private syncing: Promise<void> | undefined;
  private synced = false;

  constructor(
    private readonly storage: ObjectStorage,
    private readonly def: ResourceDef,
  ) {}

  private static key(namespace: string | undefined, name: string): string {
    return namespace === undefined ? name : `${namespace}/${name}`;
  }

  private async ensureSynced(): Promise<boolean> {
    if (!this.synced) {
      this.syncing ??= this.sync();
      await this.syncing.catch(() => undefined);
    }
    return this.synced;
  }

  /** The object named (in `namespace`, for a namespaced resource), from the cache, else from the store. */
  async get(name: string, namespace?: string): Promise<KubeObject | undefined> {
    const ns = this.def.namespaced ? namespace : undefined;
    const cached = (await this.ensureSynced()) ? this.objects.get(ObjectCache.key(ns, name)) : undefined;
    return cached ?? (await this.storage.tryGet(this.def, ns, name));
  }

  /** Every object (of `namespace`, for a namespaced resource), from the cache once it has listed, else from the store. */
  async list(namespace?: string): Promise<KubeObject[]> {
    const ns = this.def.namespaced ? namespace : undefined;
    if (!(await this.ensureSynced())) return (await this.storage.list(this.def, ns)).items;
    const all = [...this.objects.values()];
    return ns === undefined ? all : all.filter((o) => o.metadata.namespace === ns);
  }

  private async sync(): Promise<void> {
    try {
      const listed = await this.storage.list(this.def, undefined);
      this.objects.clear();
      for (const o of listed.items) this.objects.set(this.keyOf(o), o);
      await this.storage.watch(this.def, undefined, Number(listed.resourceVersion), (e) => this.onEvent(e), (err) => this.onError(err));
      this.synced = true;
    } finally {
      this.syncing = undefined;
    }
  }

  private keyOf(o: KubeObject): string {
    return ObjectCache.key(this.def.namespaced ? o.metadata.namespace : undefined, o.metadata.name ?? '');
  }

  private onEvent(e: WatchEvent): void {
    if (e.type === 'BOOKMARK' || e.type === 'ERROR') return;
    const obj = e.object as KubeObject;
    if (e.type === 'DELETED') this.objects.delete(this.keyOf(obj));
    else this.objects.set(this.keyOf(obj), obj);
  }

  /** The watch ended (compaction during an outage): read from the store until the next get lists again. */
  private onError(_err: ApiError): void {
    this.synced = false;
    this.objects.clear();
  }
}
