import { afterEach, describe, expect, it } from 'vitest';
import { findResource, type ResourceDef } from '../../../../../control/apiserver/resources.js';
import { hasEmptyMeta, ObjectStorage, type KubeObject } from '../../../../../control/apiserver/storage/object-storage.js';
import { MemoryStore } from '../../../../../control/store/index.js';

const configmaps = findResource('', 'v1', 'configmaps') as ResourceDef;

describe('ObjectStorage.listEncoded', () => {
  let store: MemoryStore | undefined;
  afterEach(async () => {
    await store?.close();
  });

  async function seeded(): Promise<ObjectStorage> {
    store = new MemoryStore();
    const storage = new ObjectStorage(store);
    // As the registry writes objects: apiVersion and kind first.
    await storage.create(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'ns', labels: { app: 'x' } }, data: { k: 'v' } });
    // Written by something else: no apiVersion/kind, metadata not first, empty metadata after the revision goes in.
    await storage.create(configmaps, { data: { q: '1' }, metadata: { name: 'b', namespace: 'ns' } });
    await storage.create(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'ns', labels: { app: 'y' } } });
    await storage.create(configmaps, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'd', namespace: 'other' } });
    return storage;
  }

  const typed = (o: KubeObject): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', ...o });

  it('sends every object as list() reads it, with apiVersion, kind and resourceVersion', async () => {
    const storage = await seeded();
    const decoded = await storage.list(configmaps, 'ns');
    const encoded = await storage.listEncoded(configmaps, 'ns');
    expect(encoded.resourceVersion).toBe(decoded.resourceVersion);
    expect(encoded.items.map((s) => JSON.parse(s) as unknown)).toEqual(decoded.items.map(typed));
    expect(encoded.items.map((s) => (JSON.parse(s) as KubeObject).metadata.name)).toEqual(['a', 'b', 'c']);
    for (const s of encoded.items) expect((JSON.parse(s) as KubeObject).metadata.resourceVersion).toMatch(/^\d+$/);
  });

  it('filters and pages as list() does', async () => {
    const storage = await seeded();
    const filter = (o: KubeObject): boolean => o.metadata.labels?.app !== undefined;
    const encoded = await storage.listEncoded(configmaps, undefined, { filter });
    expect(encoded.items.map((s) => JSON.parse(s) as unknown)).toEqual((await storage.list(configmaps, undefined, { filter })).items.map(typed));
    const first = await storage.listEncoded(configmaps, undefined, { limit: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.continue).toBeDefined();
    const second = await storage.listEncoded(configmaps, undefined, { limit: 2, continue: first.continue as string });
    expect([...first.items, ...second.items].map((s) => (JSON.parse(s) as KubeObject).metadata.name)).toEqual(['a', 'b', 'c', 'd']);
    expect(second.continue).toBeUndefined();
  });
});

describe('hasEmptyMeta', () => {
  const pod = (metadata: Record<string, unknown>): string =>
    JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', ...metadata }, spec: { securityContext: {}, containers: [{ name: 'c', args: [] }] } });

  it('finds each metadata member a client is never sent empty', () => {
    expect(hasEmptyMeta(pod({ labels: {} }))).toBe(true);
    expect(hasEmptyMeta(pod({ annotations: {} }))).toBe(true);
    expect(hasEmptyMeta(pod({ finalizers: [] }))).toBe(true);
    expect(hasEmptyMeta(pod({ ownerReferences: [] }))).toBe(true);
    // After other empty objects and arrays, which are no reason.
    expect(hasEmptyMeta(`{"spec":{"a":{},"b":[],"c":{}},"metadata":{"labels":{}}}`)).toBe(true);
  });

  it('passes objects whose empty members are not those', () => {
    expect(hasEmptyMeta(pod({ labels: { a: 'b' }, finalizers: ['x'] }))).toBe(false);
    expect(hasEmptyMeta(`{"matchLabels":{},"extraFinalizers":[],"v":"[]{}"}`)).toBe(false);
    // The member's name inside a string value is escaped, so it is not the member.
    expect(hasEmptyMeta(JSON.stringify({ metadata: { annotations: { note: '"labels":{}' } } }))).toBe(false);
  });
});
