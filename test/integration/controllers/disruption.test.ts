import { afterEach, describe, expect, it } from 'vitest';
import { ApiStatusError, type KubeObject } from '../../../control/client/index.js';
import type { PodDisruptionBudget } from '../../../control/controllers/disruption.js';
import type { Pod } from '../../../control/controllers/objects.js';
import { eventually, listPods, podTemplate, R, startCluster, type Cluster } from './harness.js';

const active = (pods: Pod[]): Pod[] => pods.filter((p) => !p.metadata.deletionTimestamp);
const evict = (c: Cluster, name: string): Promise<KubeObject> =>
  c.client.create(R.pods, 'default', { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'default' } } as KubeObject, 'eviction', name);

describe('disruption controller and the eviction subresource', () => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  const pdb = async (c: Cluster, name = 'web'): Promise<PodDisruptionBudget> => c.client.get<PodDisruptionBudget>(R.poddisruptionbudgets, 'default', name);

  it('computes budgets from minAvailable and maxUnavailable, and evictions spend them until a 429', async () => {
    cluster = await startCluster(['replicaset', 'disruption']);
    const c = cluster;
    const { client } = c;
    await client.create(R.replicasets, 'default', { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web' }, spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: podTemplate({ app: 'web' }) } });
    await client.create(R.poddisruptionbudgets, 'default', { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } } });
    await client.create(R.poddisruptionbudgets, 'default', { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'half' }, spec: { maxUnavailable: '50%', selector: { matchLabels: { app: 'none' } } } });
    await eventually(async () => (await pdb(c)).status?.currentHealthy === 3 && (await pdb(c)).status?.disruptionsAllowed === 1, 'budget allows one disruption');
    const status = (await pdb(c)).status;
    expect(status).toMatchObject({ currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, disruptionsAllowed: 1, observedGeneration: 1 });
    expect(status?.conditions?.find((x) => x.type === 'DisruptionAllowed')).toMatchObject({ status: 'True', reason: 'SufficientPods' });
    await eventually(async () => (await pdb(c, 'half')).status?.observedGeneration === 1, 'empty budget observed');
    expect((await pdb(c, 'half')).status).toMatchObject({ expectedPods: 0, disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0 });

    const [a, b] = active(await listPods(client, 'default', 'app=web'));
    const ok = await evict(c, a?.metadata.name ?? '');
    expect(ok).toMatchObject({ kind: 'Status', status: 'Success' });
    // The eviction itself spent the budget, before the controller looks again.
    const after = await pdb(c);
    expect(after.status?.disruptedPods?.[a?.metadata.name ?? '']).toBeDefined();
    const refused = await evict(c, b?.metadata.name ?? '').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(ApiStatusError);
    const err = refused as ApiStatusError;
    expect(err.code).toBe(429);
    expect(err.message).toBe("Cannot evict pod as it would violate the pod's disruption budget.");
    expect(JSON.stringify(err.status)).toMatch(/The disruption budget web needs 2 healthy pods and has \d currently/);
    expect((await client.get<Pod>(R.pods, 'default', b?.metadata.name ?? '')).metadata.deletionTimestamp).toBeUndefined();

    // The replacement pod restores the budget, and the evicted pod is forgotten.
    await eventually(async () => {
      const s = (await pdb(c)).status;
      return s?.disruptionsAllowed === 1 && s.currentHealthy === 3 && !s.disruptedPods;
    }, 'budget restored by the replacement');

    // maxUnavailable as a percentage of the ReplicaSet's scale: 34% of 3 rounds up to 2 unavailable, 1 desired.
    await client.patch(R.poddisruptionbudgets, 'default', 'web', { spec: { minAvailable: null, maxUnavailable: '34%' } });
    await eventually(async () => {
      const s = (await pdb(c)).status;
      return s?.observedGeneration === 2 && s.desiredHealthy === 1 && s.expectedPods === 3 && s.disruptionsAllowed === 2;
    }, 'percentage budget');

    // A pod with no controller under a percentage budget makes the budget fail safe.
    await client.create(R.pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stray', labels: { app: 'web' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'gone', uid: 'nope', controller: true }] }, spec: { containers: [{ name: 'c', image: 'x' }] } });
    await eventually(async () => (await pdb(c)).status?.conditions?.find((x) => x.type === 'DisruptionAllowed')?.reason === 'SyncFailed', 'sync failed');
    const failed = (await pdb(c)).status;
    expect(failed?.disruptionsAllowed).toBe(0);
    expect(failed?.conditions?.find((x) => x.type === 'DisruptionAllowed')?.message).toBe('found no controllers for pod "stray"');
  });

  it('evicts pods without a budget, and pending pods whatever the budget', async () => {
    cluster = await startCluster(['disruption']);
    const c = cluster;
    const { client } = c;
    // A node whose kubelet never starts the pod: it stays Pending.
    c.kubelet.down.add('n9');
    await client.create(R.pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'free', labels: { app: 'free' } }, spec: { nodeName: 'n9', containers: [{ name: 'c', image: 'x' }] } });
    await client.create(R.poddisruptionbudgets, 'default', { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'all' }, spec: { minAvailable: 5, selector: { matchLabels: { app: 'free' } } } });
    await eventually(async () => (await pdb(c, 'all')).status?.observedGeneration === 1, 'budget observed');
    // Pending: evicted although the budget allows nothing.
    expect((await client.get<Pod>(R.pods, 'default', 'free')).status?.phase).toBe('Pending');
    await evict(c, 'free');
    await eventually(async () => !!(await client.get<Pod>(R.pods, 'default', 'free')).metadata.deletionTimestamp, 'free being deleted');
    // No budget at all: evicted.
    await client.create(R.pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'lone', labels: { app: 'lone' } }, spec: { containers: [{ name: 'c', image: 'x' }] } });
    await eventually(async () => (await client.get<Pod>(R.pods, 'default', 'lone')).status?.phase === 'Running', 'lone running');
    await evict(c, 'lone');
    await eventually(() => client.get(R.pods, 'default', 'lone').then(() => false, (e: unknown) => (e as { code?: number }).code === 404), 'lone gone');
    await expect(evict(c, 'missing')).rejects.toMatchObject({ code: 404 });
    await expect(client.create(R.pods, 'default', { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'other' } } as KubeObject, 'eviction', 'free2')).rejects.toMatchObject({ code: 400 });
  });
});
