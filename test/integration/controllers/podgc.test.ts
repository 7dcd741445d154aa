import { afterEach, describe, it } from 'vitest';
import { ApiServer } from '../../../control/apiserver/server.js';
import { KubeClient } from '../../../control/client/index.js';
import { SharedInformers } from '../../../control/controllers/informers.js';
import { PodGcController } from '../../../control/controllers/podgc.js';
import { MemoryStore } from '../../../control/store/index.js';
import { silentLogger } from '../../../lib/log.js';
import { eventually, listPods, R } from './harness.js';

describe('pod GC controller', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c();
    cleanups.length = 0;
  });

  it('force-deletes pods bound to a node that does not exist, and finished pods over the threshold', async () => {
    const store = new MemoryStore();
    const server = new ApiServer({ store, logger: silentLogger() });
    const client = new KubeClient({ server: `http://127.0.0.1:${await server.listen(0)}` });
    const informers = new SharedInformers(client);
    const gc = new PodGcController({ client, informers, logger: silentLogger() }, { quarantineMs: 200, periodMs: 100, terminatedThreshold: 1 });
    cleanups.push(() => store.close(), () => server.close(), () => client.close(), () => informers.stop(), () => gc.stop());
    await client.create({ group: '', version: 'v1', resource: 'nodes' }, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
    const pod = (name: string, node: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: node, containers: [{ name: 'c', image: 'x' }] } });
    await client.create(R.pods, 'default', pod('on-n1', 'n1'));
    await client.create(R.pods, 'default', pod('on-ghost', 'ghost'));
    for (const [name, phase] of [['done-1', 'Succeeded'], ['done-2', 'Failed']] as const) {
      const p = await client.create(R.pods, 'default', pod(name, 'n1'));
      await client.update(R.pods, { ...p, status: { phase } }, 'status');
      await new Promise((r) => setTimeout(r, 1100));
    }
    informers.start();
    await gc.start();
    await eventually(async () => (await listPods(client)).map((p) => p.metadata.name).sort().join(',') === 'done-2,on-n1', 'ghost pod and oldest finished pod collected');
  });

  it('started on a cluster without pods or nodes, collects pods created later on its periodic pass', async () => {
    const store = new MemoryStore();
    const server = new ApiServer({ store, logger: silentLogger() });
    const client = new KubeClient({ server: `http://127.0.0.1:${await server.listen(0)}` });
    const informers = new SharedInformers(client);
    const gc = new PodGcController({ client, informers, logger: silentLogger() }, { quarantineMs: 200, periodMs: 100 });
    cleanups.push(() => store.close(), () => server.close(), () => client.close(), () => informers.stop(), () => gc.stop());
    informers.start();
    await gc.start();
    const pod = (name: string, node?: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { ...(node ? { nodeName: node } : {}), containers: [{ name: 'c', image: 'x' }] } });
    await client.create(R.pods, 'default', pod('pending'));
    await client.create(R.pods, 'default', pod('on-ghost', 'ghost'));
    await eventually(async () => (await listPods(client)).map((p) => p.metadata.name).join(',') === 'pending', 'pod of the missing node collected');
  });
});
