import { afterEach, describe, expect, it } from 'vitest';
import type { Deployment, Pod, ReplicaSet } from '../../../control/controllers/objects.js';
import { eventually, listPods, podTemplate, R, startCluster, type Cluster } from './harness.js';

const isReady = (p: Pod): boolean => p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
const active = (pods: Pod[]): Pod[] => pods.filter((p) => !p.metadata.deletionTimestamp);

describe('replicaset and replicationcontroller controllers', () => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('keeps a ReplicaSet at its replica count, replaces deleted pods and reports status', async () => {
    cluster = await startCluster(['replicaset']);
    const { client } = cluster;
    await client.create(R.replicasets, 'default', { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web' }, spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: podTemplate({ app: 'web' }) } });
    await eventually(async () => active(await listPods(client)).length === 3 && (await client.get<ReplicaSet>(R.replicasets, 'default', 'web')).status?.readyReplicas === 3, '3 ready pods');
    const pods = await listPods(client);
    expect(pods.every((p) => p.metadata.ownerReferences?.[0]?.kind === 'ReplicaSet' && p.metadata.ownerReferences[0].controller)).toBe(true);
    expect(pods.every((p) => p.metadata.name?.startsWith('web-'))).toBe(true);
    const rs = await client.get<ReplicaSet>(R.replicasets, 'default', 'web');
    expect(rs.status).toMatchObject({ replicas: 3, fullyLabeledReplicas: 3, readyReplicas: 3, availableReplicas: 3, observedGeneration: 1 });

    await client.delete(R.pods, 'default', pods[0]?.metadata.name ?? '');
    await eventually(async () => {
      const now = active(await listPods(client));
      return now.length === 3 && !now.some((p) => p.metadata.name === pods[0]?.metadata.name);
    }, 'a replacement pod');

    await client.patch(R.replicasets, 'default', 'web', { spec: { replicas: 1 } });
    await eventually(async () => (await listPods(client)).length === 1, 'scaled down to 1 pod');
    // Never more than asked for, even while the informer catches up.
    expect(active(await listPods(client)).length).toBe(1);
  });

  it('adopts a matching orphan and releases a pod whose labels stop matching', async () => {
    cluster = await startCluster(['replicaset']);
    const { client } = cluster;
    await client.create(R.pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'orphan', labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } });
    const rs = await client.create<ReplicaSet>(R.replicasets, 'default', { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web' }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: podTemplate({ app: 'web' }) } });
    await eventually(async () => (await client.get<Pod>(R.pods, 'default', 'orphan')).metadata.ownerReferences?.[0]?.uid === rs.metadata.uid, 'orphan adopted');
    await eventually(async () => active(await listPods(client, 'default', 'app=web')).length === 2, 'two pods in all');
    await client.patch(R.pods, 'default', 'orphan', { metadata: { labels: { app: 'other' } } });
    await eventually(async () => !(await client.get<Pod>(R.pods, 'default', 'orphan')).metadata.ownerReferences?.length, 'released');
    await eventually(async () => active(await listPods(client, 'default', 'app=web')).length === 2, 'a replacement for the released pod');
  });

  it('runs ReplicationControllers too', async () => {
    cluster = await startCluster(['replicationcontroller']);
    const { client } = cluster;
    await client.create(R.replicationcontrollers, 'default', { apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'legacy' }, spec: { replicas: 2, selector: { app: 'legacy' }, template: podTemplate({ app: 'legacy' }) } });
    await eventually(async () => (await client.get<ReplicaSet>(R.replicationcontrollers, 'default', 'legacy')).status?.readyReplicas === 2, 'RC ready');
    expect((await listPods(client)).every((p) => p.metadata.ownerReferences?.[0]?.kind === 'ReplicationController')).toBe(true);
  });
});

describe('deployment controller', () => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  const rsOf = async (c: Cluster): Promise<ReplicaSet[]> => (await c.client.list<ReplicaSet>(R.replicasets, { namespace: 'default' })).items;
  const deploy = async (c: Cluster): Promise<Deployment> => c.client.get<Deployment>(R.deployments, 'default', 'web');

  it('creates a ReplicaSet and pods, scales, rolls out a new image and rolls back', async () => {
    cluster = await startCluster(['deployment', 'replicaset']);
    const c = cluster;
    const { client } = c;
    await client.create(R.deployments, 'default', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: podTemplate({ app: 'web' }, 'nginx:1.25') } });
    await eventually(async () => (await deploy(c)).status?.availableReplicas === 3, '3 available replicas');
    const [first] = await rsOf(c);
    expect(first?.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
    const hash = first?.metadata.labels?.['pod-template-hash'];
    expect(first?.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
    expect(first?.metadata.annotations?.['deployment.kubernetes.io/desired-replicas']).toBe('3');
    expect(first?.metadata.annotations?.['deployment.kubernetes.io/max-replicas']).toBe('4');
    expect((await listPods(c.client)).every((p) => p.metadata.labels?.['pod-template-hash'] === hash)).toBe(true);
    let d = await deploy(c);
    expect(d.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
    await eventually(async () => (await deploy(c)).status?.conditions?.find((x) => x.type === 'Progressing')?.reason === 'NewReplicaSetAvailable', 'Progressing NewReplicaSetAvailable');
    d = await deploy(c);
    expect(d.status).toMatchObject({ observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 });
    expect(d.status?.conditions?.find((x) => x.type === 'Available')).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable' });

    // The events kubectl describe shows.
    const events = await eventually(async () => {
      const items = (await client.list<{ metadata: { name?: string }; reason?: string; message?: string; involvedObject?: { kind?: string }; source?: { component?: string } }>({ group: '', version: 'v1', resource: 'events' }, { namespace: 'default' })).items;
      return items.some((e) => e.reason === 'ScalingReplicaSet') && items.filter((e) => e.reason === 'SuccessfulCreate').length === 3 ? items : undefined;
    }, 'events');
    expect(events.find((e) => e.reason === 'ScalingReplicaSet')).toMatchObject({ message: `Scaled up replica set ${first?.metadata.name} from 0 to 3`, involvedObject: { kind: 'Deployment' }, source: { component: 'deployment-controller' } });
    expect(events.find((e) => e.reason === 'SuccessfulCreate')?.message).toMatch(new RegExp(`^Created pod: ${first?.metadata.name}-[a-z0-9]{5}$`));

    // Scale to 5: same ReplicaSet, more pods.
    await client.patch(R.deployments, 'default', 'web', { spec: { replicas: 5 } });
    await eventually(async () => (await deploy(c)).status?.availableReplicas === 5 && (await deploy(c)).status?.observedGeneration === 2, '5 available');
    expect((await rsOf(c)).length).toBe(1);

    // New image: a second ReplicaSet takes over while the old one scales down.
    let maxPods = 0;
    let minReady = Infinity;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const pods = active(await listPods(client));
        maxPods = Math.max(maxPods, pods.length);
        minReady = Math.min(minReady, pods.filter(isReady).length);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await client.patch(R.deployments, 'default', 'web', { spec: { template: podTemplate({ app: 'web' }, 'nginx:1.26') } });
    await eventually(async () => {
      const x = await deploy(c);
      return x.status?.observedGeneration === 3 && x.status.updatedReplicas === 5 && x.status.replicas === 5 && x.status.availableReplicas === 5;
    }, 'rollout to the new image');
    watching = false;
    await watcher;
    const sets = await rsOf(c);
    expect(sets.length).toBe(2);
    const newer = sets.find((s) => s.metadata.annotations?.['deployment.kubernetes.io/revision'] === '2');
    const older = sets.find((s) => s.metadata.annotations?.['deployment.kubernetes.io/revision'] === '1');
    expect(newer?.spec.replicas).toBe(5);
    expect(older?.spec.replicas).toBe(0);
    // 25% of 5: at most 2 extra pods (surge rounds up), at most 1 unavailable (rounds down).
    expect(maxPods).toBeLessThanOrEqual(7);
    expect(minReady).toBeGreaterThanOrEqual(4);
    await eventually(async () => (await listPods(client)).every((p) => p.spec?.containers?.[0]?.image === 'nginx:1.26'), 'only new pods left');
    expect((await deploy(c)).metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('2');

    // kubectl rollout undo: copy revision 1's template back; the old ReplicaSet becomes revision 3.
    const { rollbackTemplate } = await import('../../../control/controllers/deployment.js');
    await client.patch(R.deployments, 'default', 'web', { spec: { template: rollbackTemplate(await deploy(c), await rsOf(c), 1) } });
    await eventually(async () => {
      const x = await deploy(c);
      return x.status?.observedGeneration === 4 && x.status.updatedReplicas === 5 && x.status.replicas === 5 && x.status.availableReplicas === 5 ? x : undefined;
    }, 'rollback');
    const back = (await rsOf(c)).find((s) => s.metadata.name === older?.metadata.name);
    expect(back?.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    expect(back?.metadata.annotations?.['deployment.kubernetes.io/revision-history']).toBe('1');
    expect((await rsOf(c)).length).toBe(2);
  });

  it('Recreate takes every old pod down before the new ones start; pause stops rollouts', async () => {
    cluster = await startCluster(['deployment', 'replicaset']);
    const c = cluster;
    const { client } = c;
    await client.create(R.deployments, 'default', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 2, strategy: { type: 'Recreate' }, selector: { matchLabels: { app: 'web' } }, template: podTemplate({ app: 'web' }, 'nginx:1.25') } });
    await eventually(async () => (await deploy(c)).status?.availableReplicas === 2, '2 available');
    let mixed = false;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const images = new Set(active(await listPods(client)).map((p) => p.spec?.containers?.[0]?.image));
        if (images.size > 1) mixed = true;
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await client.patch(R.deployments, 'default', 'web', { spec: { template: podTemplate({ app: 'web' }, 'nginx:1.26') } });
    await eventually(async () => {
      const x = await deploy(c);
      return x.status?.observedGeneration === 2 && x.status.updatedReplicas === 2 && x.status.availableReplicas === 2 && x.status.replicas === 2;
    }, 'recreated');
    watching = false;
    await watcher;
    expect(mixed).toBe(false);

    // Paused: a template change waits; resumed: it rolls out.
    await client.patch(R.deployments, 'default', 'web', { spec: { paused: true } });
    await eventually(async () => (await deploy(c)).status?.conditions?.find((x) => x.type === 'Progressing')?.reason === 'DeploymentPaused', 'DeploymentPaused');
    await client.patch(R.deployments, 'default', 'web', { spec: { template: podTemplate({ app: 'web' }, 'nginx:1.27') } });
    await new Promise((r) => setTimeout(r, 500));
    expect((await rsOf(c)).length).toBe(2);
    await client.patch(R.deployments, 'default', 'web', { spec: { paused: false } });
    await eventually(async () => (await rsOf(c)).length === 3, 'rollout after resume');
    await eventually(async () => (await listPods(client)).filter((p) => p.spec?.containers?.[0]?.image === 'nginx:1.27' && isReady(p)).length === 2, 'new pods after resume');
  });

  it('marks ProgressDeadlineExceeded when new pods never become ready', async () => {
    cluster = await startCluster(['deployment', 'replicaset']);
    const c = cluster;
    c.kubelet.ready = () => false;
    await c.client.create(R.deployments, 'default', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 1, progressDeadlineSeconds: 1, selector: { matchLabels: { app: 'web' } }, template: podTemplate({ app: 'web' }) } });
    const cond = await eventually(async () => {
      const x = (await deploy(c)).status?.conditions?.find((k) => k.type === 'Progressing');
      return x?.reason === 'ProgressDeadlineExceeded' ? x : undefined;
    }, 'ProgressDeadlineExceeded');
    expect(cond.status).toBe('False');
    expect(cond.message).toMatch(/^ReplicaSet "web-[a-z0-9]+" has timed out progressing\.$/);
  });
});
