import { afterEach, describe, expect, it } from 'vitest';
import type { EndpointSlice, EndpointSubset } from '../../../control/controllers/endpoints.js';
import type { Obj, Pod } from '../../../control/controllers/objects.js';
import { eventually, R, startCluster, type Cluster } from './harness.js';

const podBody = (name: string, labels: Record<string, string>): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels },
  spec: { containers: [{ name: 'web', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }] }] },
});

describe('endpoints and endpointslice controllers', () => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it("list ready pod IPs at the targetPort and move not-ready ones to notReadyAddresses", async () => {
    cluster = await startCluster(['endpoint', 'endpointslice']);
    const { client, kubelet } = cluster;
    kubelet.ready = (p) => p.metadata.labels?.ready !== 'no';
    await client.create(R.services, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', labels: { team: 'a' } }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } });
    await client.create(R.pods, 'default', podBody('a', { app: 'web' }));
    await client.create(R.pods, 'default', podBody('b', { app: 'web' }));
    await client.create(R.pods, 'default', podBody('c', { app: 'web', ready: 'no' }));
    await client.create(R.pods, 'default', podBody('other', { app: 'db' }));
    const ipOf = async (n: string) => (await client.get<Pod>(R.pods, 'default', n)).status?.podIP;

    const ep = await eventually(async () => {
      const e = await client.get<Obj & { subsets?: EndpointSubset[] }>(R.endpoints, 'default', 'web');
      const s = e.subsets?.[0];
      return s?.addresses?.length === 2 && s.notReadyAddresses?.length === 1 ? e : undefined;
    }, 'endpoints with 2 ready and 1 not ready');
    const subset = ep.subsets?.[0];
    expect(subset?.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(subset?.addresses?.map((a) => a.targetRef?.name).sort()).toEqual(['a', 'b']);
    expect(subset?.notReadyAddresses?.map((a) => a.ip)).toEqual([await ipOf('c')]);
    expect(ep.metadata.labels).toEqual({ team: 'a' });

    const slices = await eventually(async () => {
      const list = (await client.list<EndpointSlice & Obj>(R.endpointslices, { namespace: 'default', labelSelector: 'kubernetes.io/service-name=web' })).items;
      return list.length === 1 && list[0]?.endpoints?.length === 3 ? list : undefined;
    }, 'one slice with three endpoints');
    const slice = slices[0]!;
    expect(slice.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(slice.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Service', name: 'web', controller: true });
    const byName = Object.fromEntries((slice.endpoints ?? []).map((e) => [e.targetRef?.name, e.conditions]));
    expect(byName.c).toEqual({ ready: false, serving: false, terminating: false });
    expect(byName.a).toEqual({ ready: true, serving: true, terminating: false });

    // c becomes ready, a goes away.
    kubelet.ready = () => true;
    kubelet.refresh();
    await client.delete(R.pods, 'default', 'a');
    await eventually(async () => {
      const e = await client.get<Obj & { subsets?: EndpointSubset[] }>(R.endpoints, 'default', 'web');
      const names = (e.subsets?.[0]?.addresses ?? []).map((a) => a.targetRef?.name).sort();
      return names.join(',') === 'b,c' && !e.subsets?.[0]?.notReadyAddresses;
    }, 'endpoints b and c, all ready');
    await eventually(async () => {
      const list = (await client.list<EndpointSlice & Obj>(R.endpointslices, { namespace: 'default', labelSelector: 'kubernetes.io/service-name=web' })).items;
      return list.length === 1 && list[0]?.endpoints?.length === 2 && list[0].endpoints.every((e) => e.conditions.ready);
    }, 'slice with b and c ready');

    // No pods left: empty Endpoints, a placeholder slice; the service gone: its Endpoints too.
    await client.delete(R.services, 'default', 'web');
    await eventually(async () => {
      try {
        await client.get(R.endpoints, 'default', 'web');
        return false;
      } catch {
        return true;
      }
    }, 'endpoints deleted with the service');
  });
});
