import { afterEach, describe, expect, it } from 'vitest';
import { namespaceLifecycle } from '../../../../../control/apiserver/admission/namespace-lifecycle.js';
import type { RequestContext } from '../../../../../control/apiserver/rest.js';
import { findResource, type ResourceDef } from '../../../../../control/apiserver/resources.js';
import { ObjectStorage, type KubeObject } from '../../../../../control/apiserver/storage/object-storage.js';
import { MemoryStore } from '../../../../../control/store/index.js';

const namespaces = findResource('', 'v1', 'namespaces') as ResourceDef;
const configmaps = findResource('', 'v1', 'configmaps') as ResourceDef;
const ctx: RequestContext = { strict: false, dryRun: false, now: new Date() };
const cm = (namespace: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace } });

describe('NamespaceLifecycle (namespaces read from a watch-fed cache)', () => {
  let store: MemoryStore | undefined;
  afterEach(async () => {
    await store?.close();
  });

  it('follows namespaces created, terminating and deleted after it first looked', async () => {
    store = new MemoryStore();
    const storage = new ObjectStorage(store);
    const plugin = namespaceLifecycle(storage);
    await storage.create(namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
    await expect(plugin.mutate!('create', configmaps, cm('team'), undefined, ctx)).resolves.toBe(false);
    await expect(plugin.mutate!('create', configmaps, cm('nowhere'), undefined, ctx)).rejects.toMatchObject({ code: 404, message: 'namespaces "nowhere" not found' });

    // Created after the cache listed: found at once (a miss is looked up in the store).
    await storage.create(namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'late' } });
    await expect(plugin.mutate!('create', configmaps, cm('late'), undefined, ctx)).resolves.toBe(false);

    const team = await storage.get(namespaces, undefined, 'team');
    await storage.update(namespaces, { ...team, metadata: { ...team.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' }, status: { phase: 'Terminating' } }, Number(team.metadata.resourceVersion));
    await expect.poll(() => plugin.mutate!('create', configmaps, cm('team'), undefined, ctx).then(() => 'admitted', (err: { code: number }) => err.code), { timeout: 10_000 }).toBe(403);

    const late = await storage.get(namespaces, undefined, 'late');
    await storage.delete(namespaces, undefined, 'late', Number(late.metadata.resourceVersion));
    await expect.poll(() => plugin.mutate!('create', configmaps, cm('late'), undefined, ctx).then(() => 'admitted', (err: { code: number }) => err.code), { timeout: 10_000 }).toBe(404);
  });
});
