import { afterEach, describe, expect, it } from 'vitest';
import { ApiServer } from '../../../control/apiserver/server.js';
import { KubeClient, type KubeObject } from '../../../control/client/index.js';
import { SharedInformers } from '../../../control/controllers/informers.js';
import { NodeIpamController } from '../../../control/controllers/nodeipam/range-allocator.js';
import { MemoryStore } from '../../../control/store/index.js';
import { silentLogger } from '../../../lib/log.js';
import { eventually } from './harness.js';

const NODES = { group: '', version: 'v1', resource: 'nodes' };
const EVENTS = { group: '', version: 'v1', resource: 'events' };
type NodeObj = KubeObject & { spec?: { podCIDR?: string; podCIDRs?: string[] } };

describe('nodeipam controller (range allocator)', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c();
    cleanups.length = 0;
  });

  async function start(clusterCidr: string, nodeCidrMaskSize: number, before: (client: KubeClient) => Promise<void> = async () => undefined) {
    const store = new MemoryStore();
    const server = new ApiServer({ store, logger: silentLogger() });
    const client = new KubeClient({ server: `http://127.0.0.1:${await server.listen(0)}` });
    cleanups.push(() => store.close(), () => server.close(), () => client.close());
    await before(client);
    const informers = new SharedInformers(client);
    const ipam = new NodeIpamController({ client, informers, logger: silentLogger() }, { clusterCidr, nodeCidrMaskSize });
    cleanups.push(() => informers.stop(), () => ipam.stop());
    informers.start();
    await ipam.start();
    return client;
  }
  const node = (name: string, podCIDR?: string) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, ...(podCIDR ? { spec: { podCIDR } } : {}) });
  const cidrOf = async (client: KubeClient, name: string) => {
    const n = await client.get<NodeObj>(NODES, undefined, name);
    return n.spec?.podCIDRs?.length ? n.spec : undefined;
  };

  it('gives each node its own podCIDR once, keeps ranges already set, and reuses a deleted node\'s range', async () => {
    const client = await start('10.244.0.0/16', 24, async (c) => {
      // Set before the controller starts: must be counted as used, never handed to another node.
      await c.create(NODES, undefined, node('old', '10.244.0.0/24'));
    });
    await client.create(NODES, undefined, node('n1'));
    await client.create(NODES, undefined, node('n2'));
    const s1 = await eventually(() => cidrOf(client, 'n1'), 'n1 gets a podCIDR');
    const s2 = await eventually(() => cidrOf(client, 'n2'), 'n2 gets a podCIDR');
    expect(s1.podCIDR).toBe(s1.podCIDRs?.[0]);
    expect(s1.podCIDRs).toHaveLength(1);
    const given = [s1.podCIDR, s2.podCIDR].sort();
    expect(given).toEqual(['10.244.1.0/24', '10.244.2.0/24']);
    expect((await cidrOf(client, 'old'))?.podCIDRs).toEqual(['10.244.0.0/24']);

    // Later updates of the node (labels, status) never move its range.
    const n1 = await client.get<NodeObj>(NODES, undefined, 'n1');
    await client.update(NODES, { ...n1, metadata: { ...n1.metadata, labels: { touched: 'yes' } } });
    await client.create(NODES, undefined, node('n3'));
    const s3 = await eventually(() => cidrOf(client, 'n3'), 'n3 gets a podCIDR');
    expect(s3.podCIDR).toBe('10.244.3.0/24');
    expect((await cidrOf(client, 'n1'))?.podCIDR).toBe(s1.podCIDR);
  });

  it('records CIDRNotAvailable when the cluster CIDR is full, and allocates once a node is deleted', async () => {
    const client = await start('10.10.0.0/23', 24);
    await client.create(NODES, undefined, node('a'));
    await client.create(NODES, undefined, node('b'));
    await eventually(async () => (await cidrOf(client, 'a')) && (await cidrOf(client, 'b')), 'a and b get podCIDRs');
    await client.create(NODES, undefined, node('c'));
    const event = await eventually(async () => (await client.list<KubeObject & { reason?: string; message?: string; involvedObject?: { kind?: string; name?: string } }>(EVENTS, { namespace: 'default' })).items.find((e) => e.reason === 'CIDRNotAvailable' && e.involvedObject?.name === 'c'), 'a CIDRNotAvailable event for node c');
    expect(event.involvedObject?.kind).toBe('Node');
    expect((event as { source?: { component?: string } }).source?.component).toBe('cidrAllocator');
    expect(event.message).toBe('Node c status is now: CIDRNotAvailable');
    expect(await cidrOf(client, 'c')).toBeUndefined();
    const freed = (await cidrOf(client, 'a'))?.podCIDR;
    await client.delete(NODES, undefined, 'a');
    const sc = await eventually(() => cidrOf(client, 'c'), 'c gets the range a had', 60_000);
    expect(sc.podCIDR).toBe(freed);
  });
});
