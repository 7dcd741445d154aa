import { afterEach, describe, expect, it } from 'vitest';
import { findResource, type ResourceDef } from '../../../../../control/apiserver/resources.js';
import { ObjectCache } from '../../../../../control/apiserver/storage/object-cache.js';
import { ObjectStorage, type KubeObject } from '../../../../../control/apiserver/storage/object-storage.js';
import { MemoryStore } from '../../../../../control/store/index.js';

const serviceaccounts = findResource('', 'v1', 'serviceaccounts') as ResourceDef;
const priorityclasses = findResource('scheduling.k8s.io', 'v1', 'priorityclasses') as ResourceDef;

/** Storage that counts the reads that reach the store. */
class CountingStorage extends ObjectStorage {
  reads = 0;
  override async tryGet(r: ResourceDef, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
    this.reads++;
    return super.tryGet(r, namespace, name);
  }
}

describe('ObjectCache', () => {
  let store: MemoryStore | undefined;
  afterEach(async () => {
    await store?.close();
  });

  const sa = (namespace: string, name: string): KubeObject => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } });
  const names = (objs: KubeObject[]): string[] => objs.map((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort();

  it('holds a namespaced resource under namespace/name: get and list by namespace', async () => {
    store = new MemoryStore();
    const storage = new CountingStorage(store);
    await storage.create(serviceaccounts, sa('a', 'default'));
    await storage.create(serviceaccounts, sa('b', 'default'));
    await storage.create(serviceaccounts, sa('b', 'builder'));
    const cache = new ObjectCache(storage, serviceaccounts);
    expect(names(await cache.list('b'))).toEqual(['b/builder', 'b/default']);
    expect(names(await cache.list('a'))).toEqual(['a/default']);
    const got = await cache.get('default', 'b');
    expect(got?.metadata.namespace).toBe('b');
    expect(got?.metadata.resourceVersion).toBe((await storage.get(serviceaccounts, 'b', 'default')).metadata.resourceVersion);
    expect(storage.reads).toBe(0);
    // Not held: asked of the store, and not found there either.
    expect(await cache.get('default', 'c')).toBeUndefined();
    expect(storage.reads).toBe(1);
  });

  it('has what was written before the write was answered, including deletions, with its resourceVersion', async () => {
    store = new MemoryStore();
    const storage = new CountingStorage(store);
    const cache = new ObjectCache(storage, serviceaccounts);
    expect(await cache.list('x')).toEqual([]);
    const created = await storage.create(serviceaccounts, sa('x', 'robot'));
    const cached = await cache.get('robot', 'x');
    expect(cached?.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    const updated = await storage.update(serviceaccounts, { ...created, automountServiceAccountToken: false }, Number(created.metadata.resourceVersion));
    expect((await cache.get('robot', 'x'))?.metadata.resourceVersion).toBe(updated.metadata.resourceVersion);
    expect((await cache.list('x')).map((o) => o.automountServiceAccountToken)).toEqual([false]);
    expect(storage.reads).toBe(0);
    await storage.delete(serviceaccounts, 'x', 'robot', Number(updated.metadata.resourceVersion));
    expect(await cache.list('x')).toEqual([]);
    expect(await cache.get('robot', 'x')).toBeUndefined();
  });

  it('lists every object of a cluster-scoped resource', async () => {
    store = new MemoryStore();
    const storage = new ObjectStorage(store);
    const cache = new ObjectCache(storage, priorityclasses);
    await storage.create(priorityclasses, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'high' }, value: 1000 });
    await storage.create(priorityclasses, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'low' }, value: 1 });
    expect((await cache.list()).map((o) => o.metadata.name).sort()).toEqual(['high', 'low']);
    expect((await cache.get('high'))?.value).toBe(1000);
  });
});
