import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../control/client/index.js';
import type { ResourceQuota } from '../../../control/controllers/index.js';
import { eventually, R, startCluster, type Cluster } from './harness.js';

describe('resourcequota controller', () => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('keeps status.used of every quota in step with the namespace', async () => {
    cluster = await startCluster(['resourcequota'], { config: { resourceQuotaSyncPeriodMs: 500 } });
    const { client } = cluster;
    const used = async (name: string): Promise<Record<string, string> | undefined> => (await client.get<ResourceQuota>(R.resourcequotas, 'default', name)).status?.used;
    const pod = (name: string, requests?: Record<string, string>) =>
      client.create(R.pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'x', ...(requests ? { resources: { requests, limits: requests } } : {}) }] } });
    await client.create(R.resourcequotas, 'default', {
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { name: 'compute' },
      spec: { hard: { pods: '10', 'count/pods': '10', 'requests.cpu': '4', 'requests.memory': '4Gi', 'limits.cpu': '8', services: '5', 'services.nodeports': '2', configmaps: '3', 'count/deployments.apps': '2' } },
    });
    await client.create(R.resourcequotas, 'default', { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'besteffort' }, spec: { hard: { pods: '5' }, scopes: ['BestEffort'] } });
    await eventually(async () => (await used('compute'))?.pods === '0', 'empty usage');
    expect(await used('compute')).toEqual({ pods: '0', 'count/pods': '0', 'requests.cpu': '0', 'requests.memory': '0', 'limits.cpu': '0', services: '0', 'services.nodeports': '0', configmaps: '0', 'count/deployments.apps': '0' });
    expect((await client.get<ResourceQuota>(R.resourcequotas, 'default', 'compute')).status?.hard).toEqual((await client.get<ResourceQuota>(R.resourcequotas, 'default', 'compute')).spec?.hard);

    await pod('a', { cpu: '500m', memory: '256Mi' });
    await pod('b', { cpu: '1', memory: '256Mi' });
    await pod('c');
    await client.create(R.services, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { type: 'NodePort', ports: [{ port: 80 }] } });
    await client.create({ group: '', version: 'v1', resource: 'configmaps' }, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: {} } as KubeObject);
    await client.create(R.deployments, 'default', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } } });
    await eventually(async () => (await used('compute'))?.configmaps === '1' && (await used('compute'))?.['count/deployments.apps'] === '1', 'usage counted');
    expect(await used('compute')).toEqual({ pods: '3', 'count/pods': '3', 'requests.cpu': '1500m', 'requests.memory': '512Mi', 'limits.cpu': '1500m', services: '1', 'services.nodeports': '1', configmaps: '1', 'count/deployments.apps': '1' });
    await eventually(async () => (await used('besteffort'))?.pods === '1', 'only the best-effort pod in the scoped quota');

    // A deleted pod stops counting.
    await client.delete(R.pods, 'default', 'a');
    await eventually(async () => (await used('compute'))?.pods === '2' && (await used('compute'))?.['requests.cpu'] === '1', 'usage released');
    expect((await used('compute'))?.['requests.memory']).toBe('256Mi');
    expect((await used('compute'))?.['count/pods']).toBe('2');

    // A finished pod frees its compute resources and "pods", but count/pods counts every pod that is stored.
    cluster.kubelet.finish = (p) => (p.metadata.name === 'b' ? 'Succeeded' : undefined);
    await eventually(async () => (await used('compute'))?.pods === '1', 'finished pod released');
    expect(await used('compute')).toMatchObject({ pods: '1', 'count/pods': '2', 'requests.cpu': '0', 'requests.memory': '0', 'limits.cpu': '0' });
  });
});
