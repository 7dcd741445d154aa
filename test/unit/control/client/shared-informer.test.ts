import { afterEach, describe, expect, it } from 'vitest';
import { ApiServer } from '../../../../control/apiserver/server.js';
import { Informer, KubeClient, type KubeObject } from '../../../../control/client/index.js';
import { filteredInformer, InformerShare } from '../../../../control/client/shared-informer.js';
import { MemoryStore } from '../../../../control/store/index.js';
import { silentLogger } from '../../../../lib/log.js';
import { eventually } from '../../../integration/agent/harness.js';

const configmaps = { group: '', version: 'v1', resource: 'configmaps' };
const cm = (name: string, data: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data });

describe('shared informer', () => {
  let server: ApiServer | undefined;
  let store: MemoryStore | undefined;
  let client: KubeClient | undefined;
  const stops: Array<() => void> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) stop();
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

  const recorder = (seen: string[], tag: string) => ({
    onAdd: (o: KubeObject) => seen.push(`${tag} add ${o.metadata.name}`),
    onUpdate: (_o: KubeObject, n: KubeObject) => seen.push(`${tag} update ${n.metadata.name}`),
    onDelete: (o: KubeObject) => seen.push(`${tag} delete ${o.metadata.name}`),
  });

  it('runs one informer for every started view: one cache, each view hearing events only while started', async () => {
    const c = await start();
    await c.create(configmaps, 'default', cm('before'));
    let created = 0;
    const share = new InformerShare(() => {
      created++;
      return new Informer(c, configmaps);
    });
    const a = share.view();
    const b = share.view();
    stops.push(() => a.stop(), () => b.stop());
    const seen: string[] = [];
    a.addHandlers(recorder(seen, 'a'));
    b.addHandlers(recorder(seen, 'b'));
    a.start();
    await a.waitForSync();
    expect(seen).toEqual(['a add before']);
    // b starts late: it hears of what is known as adds, as a handler added to a synced informer does.
    b.start();
    expect(seen).toEqual(['a add before', 'b add before']);
    // One decoded copy of each object, whichever view reads it.
    expect(a.get('default/before')).toBe(b.get('default/before'));
    await c.create(configmaps, 'default', cm('after'));
    await eventually(() => seen.length === 4, 'both views to hear the add');
    expect(seen.slice(2).sort()).toEqual(['a add after', 'b add after']);

    // b stops: its handlers hear nothing more; a goes on.
    b.stop();
    await c.delete(configmaps, 'default', 'before');
    await eventually(() => seen.includes('a delete before'), 'a to hear the delete');
    expect(seen.filter((s) => s.startsWith('b'))).toEqual(['b add before', 'b add after']);
    expect(created).toBe(1);

    // The last view stops: the informer stops. The next start lists again with a new informer.
    a.stop();
    await c.create(configmaps, 'default', cm('while-stopped'));
    const seenAgain: string[] = [];
    const again = share.view();
    stops.push(() => again.stop());
    again.addHandlers(recorder(seenAgain, 'again'));
    again.start();
    await again.waitForSync();
    expect(created).toBe(2);
    expect(seenAgain.sort()).toEqual(['again add after', 'again add while-stopped']);
    expect(seen.filter((s) => s.includes('while-stopped'))).toEqual([]);
  });

  it('a filtered informer hears an object that moves into its selection as an add, and out of it as a delete', async () => {
    const c = await start();
    const share = new InformerShare(() => new Informer(c, configmaps));
    const view = share.view();
    stops.push(() => view.stop());
    const marked = filteredInformer(view, (o) => (o as KubeObject & { data?: Record<string, string> }).data?.mark === 'yes');
    const seen: string[] = [];
    marked.addHandlers(recorder(seen, 'marked'));
    marked.start();
    await marked.waitForSync();
    const x = await c.create(configmaps, 'default', cm('x'));
    await c.create(configmaps, 'default', cm('y', { mark: 'yes' }));
    await eventually(() => view.list().length === 2, 'both created');
    expect(seen).toEqual(['marked add y']);
    expect(marked.list().map((o) => o.metadata.name)).toEqual(['y']);
    expect(marked.get('default/x')).toBeUndefined();

    const x2 = await c.update(configmaps, { ...x, data: { mark: 'yes' } });
    await eventually(() => seen.length === 2, 'x to move in');
    expect(seen[1]).toBe('marked add x');
    const x3 = await c.update(configmaps, { ...x2, data: { mark: 'yes', more: '1' } });
    await eventually(() => seen.length === 3, 'x to change inside');
    expect(seen[2]).toBe('marked update x');
    await c.update(configmaps, { ...x3, data: {} });
    await eventually(() => seen.length === 4, 'x to move out');
    expect(seen[3]).toBe('marked delete x');
    await c.delete(configmaps, 'default', 'x');
    await c.delete(configmaps, 'default', 'y');
    await eventually(() => seen.length === 5, 'y deleted');
    expect(seen[4]).toBe('marked delete y');
  });
});
