import { afterEach, describe, expect, it } from 'vitest';
import { ApiStatusError, Informer } from '../../../control/client/index.js';
import type { Pod, ReplicaSet } from '../../../control/controllers/objects.js';
import { eventually, listPods, podTemplate, R, startCluster, type Cluster } from './harness.js';

const gone = async (p: Promise<unknown>): Promise<boolean> => {
  try {
    await p;
    return false;
  } catch (err) {
    return err instanceof ApiStatusError && err.code === 404;
  }
};

describe('garbage collector', () => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  async function replicaSetWithPods(c: Cluster, name: string, replicas = 2): Promise<{ rs: ReplicaSet; pods: Pod[] }> {
    const rs = await c.client.create<ReplicaSet>(R.replicasets, 'default', { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name }, spec: { replicas, selector: { matchLabels: { app: name } }, template: podTemplate({ app: name }) } });
    const pods = await eventually(async () => {
      const ps = (await listPods(c.client, 'default', `app=${name}`)).filter((p) => p.status?.phase === 'Running');
      return ps.length === replicas ? ps : undefined;
    }, `${replicas} running pods of ${name}`);
    return { rs, pods };
  }

  it('background: deleting a ReplicaSet deletes its pods', async () => {
    cluster = await startCluster(['replicaset', 'garbagecollector']);
    const c = cluster;
    await replicaSetWithPods(c, 'bg');
    await c.client.delete(R.replicasets, 'default', 'bg', { propagationPolicy: 'Background' });
    await eventually(async () => (await listPods(c.client, 'default', 'app=bg')).length === 0, 'pods collected');
  });

  it('orphan: deleting a ReplicaSet leaves its pods, without owner references', async () => {
    cluster = await startCluster(['replicaset', 'garbagecollector']);
    const c = cluster;
    const { pods } = await replicaSetWithPods(c, 'orph');
    await c.client.delete(R.replicasets, 'default', 'orph', { propagationPolicy: 'Orphan' });
    await eventually(() => gone(c.client.get(R.replicasets, 'default', 'orph')), 'ReplicaSet deleted once orphaning is done');
    const left = await listPods(c.client, 'default', 'app=orph');
    expect(left.map((p) => p.metadata.name).sort()).toEqual(pods.map((p) => p.metadata.name).sort());
    expect(left.every((p) => !p.metadata.ownerReferences?.length && !p.metadata.deletionTimestamp)).toBe(true);
  });

  it('foreground: the ReplicaSet stays, deleting, until its pods are gone', async () => {
    cluster = await startCluster(['replicaset', 'garbagecollector']);
    const c = cluster;
    await replicaSetWithPods(c, 'fg');
    const order: string[] = [];
    const rsWatch = new Informer<ReplicaSet>(c.client, R.replicasets);
    const podWatch = new Informer<Pod>(c.client, R.pods);
    rsWatch.addHandlers({ onDelete: (o) => order.push(`rs ${o.metadata.name}`) });
    podWatch.addHandlers({ onDelete: (o) => order.push(`pod ${o.metadata.name}`) });
    rsWatch.start();
    podWatch.start();
    await Promise.all([rsWatch.waitForSync(), podWatch.waitForSync()]);
    await c.client.delete(R.replicasets, 'default', 'fg', { propagationPolicy: 'Foreground' });
    const deleting = await c.client.get<ReplicaSet>(R.replicasets, 'default', 'fg');
    expect(deleting.metadata.finalizers).toContain('foregroundDeletion');
    await eventually(() => gone(c.client.get(R.replicasets, 'default', 'fg')), 'ReplicaSet deleted after its pods');
    await eventually(() => order.includes('rs fg'), 'deletion seen');
    rsWatch.stop();
    podWatch.stop();
    expect(order.filter((o) => o.startsWith('pod')).length).toBe(2);
    expect(order.at(-1)).toBe('rs fg');
    expect(await listPods(c.client, 'default', 'app=fg')).toEqual([]);
  });

  it('deleting a Deployment takes its ReplicaSets and their pods with it', async () => {
    cluster = await startCluster(['deployment', 'replicaset', 'garbagecollector']);
    const c = cluster;
    await c.client.create(R.deployments, 'default', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: podTemplate({ app: 'web' }) } });
    await eventually(async () => (await listPods(c.client, 'default', 'app=web')).length === 2, 'pods');
    await c.client.delete(R.deployments, 'default', 'web');
    await eventually(async () => (await c.client.list(R.replicasets, { namespace: 'default' })).items.length === 0 && (await listPods(c.client, 'default', 'app=web')).length === 0, 'everything collected');
  });
});
