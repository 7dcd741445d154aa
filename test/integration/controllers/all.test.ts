import { afterEach, describe, expect, it } from 'vitest';
import type { EndpointSubset } from '../../../control/controllers/endpoints.js';
import type { Deployment, Obj } from '../../../control/controllers/objects.js';
import { eventually, listPods, podTemplate, R, startCluster, type Cluster } from './harness.js';

describe('the controller manager with every controller', () => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('serves a Deployment behind a Service, settles without further writes, and reports metrics', async () => {
    cluster = await startCluster();
    const c = cluster;
    const { client } = c;
    await client.create(R.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
    await client.create(R.deployments, 'shop', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: podTemplate({ app: 'web' }, 'nginx', [{ name: 'http', containerPort: 8080 }]) } });
    await client.create(R.services, 'shop', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] } });
    await eventually(async () => (await client.get<Obj & { subsets?: EndpointSubset[] }>(R.endpoints, 'shop', 'web')).subsets?.[0]?.addresses?.length === 3, 'three endpoints');
    await eventually(() => client.get(R.serviceaccounts, 'shop', 'default'), 'default service account');
    await eventually(async () => (await client.get<Deployment>(R.deployments, 'shop', 'web')).status?.conditions?.find((x) => x.type === 'Progressing')?.reason === 'NewReplicaSetAvailable', 'rolled out');

    // Settled: another second brings no writes at all.
    const head = async () => (await client.list(R.pods, {})).metadata.resourceVersion;
    await new Promise((r) => setTimeout(r, 300));
    const before = await head();
    await new Promise((r) => setTimeout(r, 1000));
    expect(await head()).toBe(before);

    const text = await c.registry.metrics();
    for (const name of ['deployment', 'replicaset', 'endpoint', 'endpointslice', 'garbagecollector', 'namespace', 'serviceaccount']) {
      expect(text).toContain(`workqueue_depth{name="${name}"} 0`);
    }
    expect(text).toMatch(/workqueue_adds_total\{name="deployment"\} \d+/);
    expect(text).toMatch(/controller_runtime_reconcile_time_seconds_count\{controller="replicaset"\} \d+/);

    // The namespace goes, and everything in it.
    await client.delete(R.namespaces, undefined, 'shop');
    await eventually(async () => {
      try {
        await client.get(R.namespaces, undefined, 'shop');
        return false;
      } catch {
        return true;
      }
    }, 'namespace gone');
    expect(await listPods(client, 'shop')).toEqual([]);
    expect((await client.list(R.endpointslices, { namespace: 'shop' })).items).toEqual([]);
  });
});
