import { afterEach, describe, expect, it } from 'vitest';
import type { Obj, Pod } from '../../../control/controllers/objects.js';
import type { StatefulSet } from '../../../control/controllers/statefulset.js';
import { eventually, listPods, podTemplate, R, startCluster, type Cluster } from './harness.js';

const active = (pods: Pod[]): Pod[] => pods.filter((p) => !p.metadata.deletionTimestamp);
const image = (p: Pod | undefined): string | undefined => p?.spec?.containers?.[0]?.image;
const names = (pods: Pod[]): string[] => pods.map((p) => p.metadata.name ?? '').sort();

describe('statefulset controller', () => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  const sts = async (c: Cluster): Promise<StatefulSet> => c.client.get<StatefulSet>(R.statefulsets, 'default', 'db');

  it('creates pods in order, each ready before the next, with stable identities and claims, and scales down from the top', async () => {
    cluster = await startCluster(['statefulset']);
    const c = cluster;
    const { client } = c;
    // Pods stay unready until allowed: OrderedReady must not start db-1 before db-0 is Ready.
    const allowed = new Set<string>();
    c.kubelet.ready = (p) => allowed.has(p.metadata.name ?? '');
    await client.create(R.statefulsets, 'default', {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db' },
      spec: {
        replicas: 3,
        serviceName: 'db',
        selector: { matchLabels: { app: 'db' } },
        template: podTemplate({ app: 'db' }, 'db:1'),
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      },
    });
    await eventually(async () => names(await listPods(client, 'default', 'app=db')).join() === 'db-0', 'db-0 created');
    // Nothing more while db-0 is not ready.
    await new Promise((r) => setTimeout(r, 300));
    expect(names(await listPods(client, 'default', 'app=db'))).toEqual(['db-0']);
    allowed.add('db-0');
    c.kubelet.refresh();
    await eventually(async () => names(await listPods(client, 'default', 'app=db')).join() === 'db-0,db-1', 'db-1 after db-0 is ready');
    allowed.add('db-1');
    allowed.add('db-2');
    c.kubelet.refresh();
    await eventually(async () => (await sts(c)).status?.readyReplicas === 3, 'three ready replicas');

    const pod = await client.get<Pod>(R.pods, 'default', 'db-1');
    expect(pod.spec?.hostname).toBe('db-1');
    expect(pod.spec?.subdomain).toBe('db');
    expect(pod.metadata.labels?.['statefulset.kubernetes.io/pod-name']).toBe('db-1');
    expect(pod.metadata.labels?.['apps.kubernetes.io/pod-index']).toBe('1');
    expect((pod.spec?.volumes as Array<{ name: string; persistentVolumeClaim?: { claimName: string } }>).find((v) => v.name === 'data')?.persistentVolumeClaim?.claimName).toBe('data-db-1');
    const claims = (await client.list<Obj>(R.persistentvolumeclaims, { namespace: 'default' })).items;
    expect(names(claims as Pod[])).toEqual(['data-db-0', 'data-db-1', 'data-db-2']);
    const status = (await sts(c)).status;
    expect(status).toMatchObject({ replicas: 3, readyReplicas: 3, currentReplicas: 3, updatedReplicas: 3, availableReplicas: 3, observedGeneration: 1 });
    expect(status?.currentRevision).toBe(status?.updateRevision);
    expect(pod.metadata.labels?.['controller-revision-hash']).toBe(status?.updateRevision);

    // A deleted pod comes back under the same name.
    const uid = pod.metadata.uid;
    await client.delete(R.pods, 'default', 'db-1');
    await eventually(async () => {
      const again = await client.get<Pod>(R.pods, 'default', 'db-1');
      return again.metadata.uid !== uid && !again.metadata.deletionTimestamp;
    }, 'db-1 recreated');

    // The scale subresource: down to 1 removes db-2, then db-1.
    await client.patch(R.statefulsets, 'default', 'db', { spec: { replicas: 1 } }, 'merge', 'scale');
    await eventually(async () => names(active(await listPods(client, 'default', 'app=db'))).join() === 'db-0' && (await sts(c)).status?.replicas === 1, 'scaled down to db-0');
    // Claims outlive their pods.
    expect((await client.list<Obj>(R.persistentvolumeclaims, { namespace: 'default' })).items).toHaveLength(3);
  });

  it('rolls out from the highest ordinal down to the partition, then completes when the partition drops', async () => {
    cluster = await startCluster(['statefulset']);
    const c = cluster;
    const { client } = c;
    await client.create(R.statefulsets, 'default', {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db' },
      spec: { replicas: 3, podManagementPolicy: 'Parallel', selector: { matchLabels: { app: 'db' } }, template: podTemplate({ app: 'db' }, 'db:1') },
    });
    await eventually(async () => (await sts(c)).status?.readyReplicas === 3, 'three ready replicas');
    const first = (await sts(c)).status?.currentRevision;
    await client.patch(R.statefulsets, 'default', 'db', { spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } }, template: podTemplate({ app: 'db' }, 'db:2') } });
    await eventually(async () => {
      const s = (await sts(c)).status;
      return s?.updatedReplicas === 1 && s.readyReplicas === 3 && image(await client.get<Pod>(R.pods, 'default', 'db-2')) === 'db:2';
    }, 'db-2 updated, the partition holds the rest');
    expect(image(await client.get<Pod>(R.pods, 'default', 'db-0'))).toBe('db:1');
    expect(image(await client.get<Pod>(R.pods, 'default', 'db-1'))).toBe('db:1');
    let s = (await sts(c)).status;
    expect(s?.currentRevision).toBe(first);
    expect(s?.updateRevision).not.toBe(first);
    await client.patch(R.statefulsets, 'default', 'db', { spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } } } });
    await eventually(async () => {
      s = (await sts(c)).status;
      return s?.updatedReplicas === 3 && s.readyReplicas === 3 && s.currentRevision === s.updateRevision;
    }, 'rollout complete');
    expect(active(await listPods(client, 'default', 'app=db')).every((p) => image(p) === 'db:2')).toBe(true);

    // Settled: no further writes (status included) once nothing changes.
    const head = async (): Promise<string | undefined> => (await client.list(R.pods, {})).metadata.resourceVersion;
    await new Promise((r) => setTimeout(r, 300));
    const before = await head();
    await new Promise((r) => setTimeout(r, 1000));
    expect(await head()).toBe(before);
  });

  it('persistentVolumeClaimRetentionPolicy Delete: scaled-down and deleted sets take their claims with them', async () => {
    cluster = await startCluster(['statefulset', 'garbagecollector']);
    const c = cluster;
    const { client } = c;
    const claimNames = async (): Promise<string[]> => names((await client.list<Obj>(R.persistentvolumeclaims, { namespace: 'default' })).items as Pod[]);
    await client.create(R.statefulsets, 'default', {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'db' } },
        template: podTemplate({ app: 'db' }, 'db:1'),
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Delete' },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      },
    });
    await eventually(async () => (await sts(c)).status?.readyReplicas === 2, 'two ready replicas');
    const set = await sts(c);
    const claim = await client.get<Obj>(R.persistentvolumeclaims, 'default', 'data-db-1');
    expect(claim.metadata.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: set.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    await client.patch(R.statefulsets, 'default', 'db', { spec: { replicas: 1 } }, 'merge', 'scale');
    await eventually(async () => (await claimNames()).join() === 'data-db-0', 'the scaled-down pod took its claim');
    await client.delete(R.statefulsets, 'default', 'db');
    await eventually(async () => (await claimNames()).length === 0 && (await listPods(client, 'default', 'app=db')).length === 0, 'the deleted set took its pods and claims');
  });
});
