import { afterEach, describe, expect, it } from 'vitest';
import { ApiServer } from '../../../../control/apiserver/server.js';
import { Informer, KubeClient, type KubeObject } from '../../../../control/client/index.js';
import { MemoryStore } from '../../../../control/store/index.js';
import { silentLogger } from '../../../../lib/log.js';
import { eventually } from '../../../integration/agent/harness.js';

const configmaps = { group: '', version: 'v1', resource: 'configmaps' };
const cm = (name: string, data: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data });

describe('informer', () => {
  let server: ApiServer | undefined;
  let store: MemoryStore | undefined;
  let client: KubeClient | undefined;
  let informer: Informer | undefined;
  afterEach(async () => {
    informer?.stop();
    client?.close();
    await server?.close();
    await store?.close();
  });

  async function start(): Promise<KubeClient> {
    store = new MemoryStore();
    server = new ApiServer({ store, logger: silentLogger() });
    const port = await server.listen(0);
    client = new KubeClient({ server: `http://127.0.0.1:${port}` });
    return client;
  }

  it('lists, then follows adds, updates and deletes through the watch', async () => {
    const c = await start();
    await c.create(configmaps, 'default', cm('before'));
    informer = new Informer(c, configmaps);
    const seen: string[] = [];
    informer.addHandlers({
      onAdd: (o) => seen.push(`add ${o.metadata.name}`),
      onUpdate: (_o, n) => seen.push(`update ${n.metadata.name}`),
      onDelete: (o) => seen.push(`delete ${o.metadata.name}`),
    });
    informer.start();
    await informer.waitForSync();
    expect(informer.list().map((o) => o.metadata.name)).toEqual(['before']);
    const created = await c.create(configmaps, 'default', cm('after'));
    await c.update(configmaps, { ...created, data: { a: 'b' } });
    await c.delete(configmaps, 'default', 'before');
    await eventually(() => seen.length >= 4, 'four events');
    expect(seen).toEqual(['add before', 'add after', 'update after', 'delete before']);
    expect(informer.get('default/after')?.data).toEqual({ a: 'b' });
  });

  it('relists when its resourceVersion is compacted away, and reports what changed meanwhile', async () => {
    const c = await start();
    await c.create(configmaps, 'default', cm('keep'));
    await c.create(configmaps, 'default', cm('gone'));
    informer = new Informer(c, configmaps, { backoffMs: 10 });
    const deleted: string[] = [];
    informer.addHandlers({ onDelete: (o) => deleted.push(o.metadata.name ?? '') });
    informer.start();
    await informer.waitForSync();
    // Cut the watch and compact past the informer's version: its next watch gets 410 and it must relist.
    informer.stop();
    await c.delete(configmaps, 'default', 'gone');
    await c.create(configmaps, 'default', cm('new'));
    const head = Number((await c.list(configmaps)).metadata.resourceVersion);
    await store!.compact(head);
    informer.start();
    await eventually(() => informer!.list().some((o) => o.metadata.name === 'new'), 'relisted');
    expect(informer.list().map((o) => o.metadata.name).sort()).toEqual(['keep', 'new']);
    expect(deleted).toEqual(['gone']);
  });
});
