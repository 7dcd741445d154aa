import { afterEach, describe, it } from 'vitest';
import { R } from '../../../control/controllers/objects.js';
import { eventually, startCluster, type Cluster } from './harness.js';

describe('serviceaccount controller', () => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('gives every namespace a default service account, and puts it back when deleted', async () => {
    cluster = await startCluster(['serviceaccount']);
    const { client } = cluster;
    await client.create(R.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
    await eventually(() => client.get(R.serviceaccounts, 'team-a', 'default').then(() => true), 'default account');
    const first = await client.get(R.serviceaccounts, 'team-a', 'default');
    await client.delete(R.serviceaccounts, 'team-a', 'default');
    await eventually(async () => (await client.get(R.serviceaccounts, 'team-a', 'default')).metadata.uid !== first.metadata.uid, 'recreated');
  });
});
