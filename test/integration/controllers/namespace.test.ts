import { afterEach, describe, expect, it } from 'vitest';
import { ApiStatusError, Informer } from '../../../control/client/index.js';
import type { Namespace, Pod, ReplicaSet } from '../../../control/controllers/objects.js';
import { eventually, listPods, podTemplate, R, startCluster, type Cluster } from './harness.js';

const gone = async (p: Promise<unknown>): Promise<boolean> => {
  try {
    await p;
    return false;
  } catch (err) {
    return err instanceof ApiStatusError && err.code === 404;
  }
};

describe('namespace controller', () => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('deleting a namespace deletes its pods and everything else in it, then the namespace', async () => {
    cluster = await startCluster(['namespace', 'replicaset']);
    const { client } = cluster;
    await client.create(R.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } });
    await client.create(R.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kept' } });
    await client.create<ReplicaSet>(R.replicasets, 'doomed', { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web' }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: podTemplate({ app: 'web' }) } });
    await client.create(R.replicasets, 'kept', { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web' }, spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: podTemplate({ app: 'web' }) } });
    await client.create({ group: '', version: 'v1', resource: 'configmaps' }, 'doomed', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { a: 'b' } });
    await eventually(async () => (await listPods(client, 'doomed')).filter((p) => p.status?.phase === 'Running').length === 2, 'two running pods');
    await eventually(async () => (await listPods(client, 'kept')).length === 1, 'a pod in the other namespace');

    // Watch the order things go in: every pod before the namespace.
    const order: string[] = [];
    const podWatch = new Informer<Pod>(client, R.pods, { namespace: 'doomed' });
    const nsWatch = new Informer<Namespace>(client, R.namespaces);
    podWatch.addHandlers({ onDelete: (p) => order.push(`pod ${p.metadata.name}`) });
    nsWatch.addHandlers({ onDelete: (n) => order.push(`namespace ${n.metadata.name}`) });
    podWatch.start();
    nsWatch.start();
    await Promise.all([podWatch.waitForSync(), nsWatch.waitForSync()]);
    await client.delete(R.namespaces, undefined, 'doomed');
    const terminating = await client.get<Namespace>(R.namespaces, undefined, 'doomed');
    expect(terminating.status?.phase).toBe('Terminating');

    await eventually(() => gone(client.get(R.namespaces, undefined, 'doomed')), 'namespace deleted');
    await eventually(() => order.includes('namespace doomed'), 'namespace deletion seen');
    podWatch.stop();
    nsWatch.stop();
    expect(order.filter((o) => o.startsWith('pod')).length).toBeGreaterThanOrEqual(2);
    expect(order.at(-1)).toBe('namespace doomed');
    expect(await listPods(client, 'doomed')).toEqual([]);
    expect((await client.list(R.replicasets, { namespace: 'doomed' })).items).toEqual([]);
    expect((await client.list({ group: '', version: 'v1', resource: 'configmaps' }, { namespace: 'doomed' })).items).toEqual([]);
    expect((await listPods(client, 'kept')).length).toBe(1);
  });
});
