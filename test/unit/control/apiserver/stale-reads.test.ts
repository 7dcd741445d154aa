import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiServer } from '../../../../control/apiserver/server.js';
import { ApiStatusError, KubeClient, type KubeObject } from '../../../../control/client/index.js';
import { MemoryStore, type RangeRequest } from '../../../../control/store/index.js';
import { silentLogger } from '../../../../lib/log.js';

const CMS = { group: '', version: 'v1', resource: 'configmaps' };
const DEPLOYS = { group: 'apps', version: 'v1', resource: 'deployments' };

/**
 * Updates and patches start from the store member's local state (a serializable read). Here that state lags on
 * demand: serializable reads answer as of an older revision, as a member behind the leader would.
 */
describe('writes that start from the local state of the store', () => {
  let store: MemoryStore;
  let server: ApiServer;
  let client: KubeClient;
  let lagAt: number | undefined;
  const reads: Array<'serializable' | 'consistent'> = [];

  beforeEach(async () => {
    store = new MemoryStore();
    lagAt = undefined;
    reads.length = 0;
    const lagging = new Proxy(store, {
      get(target, prop) {
        if (prop === 'range') {
          return (req: RangeRequest) => {
            if (req.key.startsWith('/registry/configmaps/') || req.key.startsWith('/registry/deployments/')) reads.push(req.serializable ? 'serializable' : 'consistent');
            return target.range(req.serializable && lagAt !== undefined ? { ...req, revision: lagAt } : req);
          };
        }
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    server = new ApiServer({ store: lagging, logger: silentLogger() });
    const port = await server.listen(0);
    client = new KubeClient({ server: `http://127.0.0.1:${port}` });
  });

  afterEach(async () => {
    client.close();
    await server.close();
    await store.close();
  });

  const cm = (data: Record<string, string>, labels?: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default', ...(labels ? { labels } : {}) }, data } as KubeObject);
  const revision = async (): Promise<number> => (await store.range({ key: '\0', rangeEnd: '\0', countOnly: true })).header.revision;
  const stored = async (): Promise<KubeObject> => client.get(CMS, 'default', 'c');

  it('reads no more than the local state for an update that goes through', async () => {
    const created = await client.create(CMS, 'default', cm({ a: '1' }));
    reads.length = 0;
    await client.update(CMS, { ...created, data: { a: '2' } } as KubeObject);
    expect(reads).toEqual(['serializable']);
    await client.patch(CMS, 'default', 'c', { data: { a: '3' } });
    expect(reads).toEqual(['serializable', 'serializable']);
  });

  it('does not answer Conflict for the latest resourceVersion when the local state is behind', async () => {
    await client.create(CMS, 'default', cm({ a: '1' }));
    lagAt = await revision();
    const latest = await client.update(CMS, { ...(await stored()), data: { a: '2' } } as KubeObject);
    const out = await client.update(CMS, { ...latest, data: { a: '3' } } as KubeObject);
    expect(out.data).toEqual({ a: '3' });
    expect((await stored()).data).toEqual({ a: '3' });
  });

  it('still answers Conflict for a resourceVersion that really is stale', async () => {
    const first = await client.create(CMS, 'default', cm({ a: '1' }));
    await client.update(CMS, { ...first, data: { a: '2' } } as KubeObject);
    lagAt = Number(first.metadata.resourceVersion);
    await expect(client.update(CMS, { ...first, data: { a: '3' } } as KubeObject)).rejects.toMatchObject({ code: 409 });
    expect((await stored()).data).toEqual({ a: '2' });
  });

  it('writes an unconditional update equal to the stale local state, rather than taking it for a no-op', async () => {
    const first = await client.create(CMS, 'default', cm({ a: '1' }));
    lagAt = Number(first.metadata.resourceVersion);
    await client.update(CMS, { ...first, data: { a: '2' } } as KubeObject);
    const { resourceVersion: _rv, ...meta } = first.metadata;
    await client.update(CMS, { ...first, metadata: meta, data: { a: '1' } } as KubeObject);
    expect((await stored()).data).toEqual({ a: '1' });
  });

  it('applies a patch to the latest object, not to the stale local one', async () => {
    await client.create(CMS, 'default', cm({ a: '1' }));
    lagAt = await revision();
    await client.patch(CMS, 'default', 'c', { data: { b: '2' } });
    const out = await client.patch(CMS, 'default', 'c', { data: { c: '3' } });
    expect(out.data).toEqual({ a: '1', b: '2', c: '3' });
    // A patch that carries the latest resourceVersion as its precondition.
    const latest = await stored();
    const again = await client.patch(CMS, 'default', 'c', { metadata: { resourceVersion: latest.metadata.resourceVersion }, data: { d: '4' } });
    expect(again.data).toEqual({ a: '1', b: '2', c: '3', d: '4' });
    // And a patch that changes nothing in the stale copy but does in the stored one (b is absent locally).
    const removed = await client.patch(CMS, 'default', 'c', { data: { b: null } });
    expect(removed.data).toEqual({ a: '1', c: '3', d: '4' });
  });

  it('finds an object the local state does not hold yet, and scales a deployment from the latest', async () => {
    lagAt = await revision();
    await client.create(CMS, 'default', cm({ a: '1' }));
    const created = await stored();
    expect((await client.update(CMS, { ...created, data: { a: '2' } } as KubeObject)).data).toEqual({ a: '2' });
    await expect(client.update(CMS, { ...created, metadata: { ...created.metadata, name: 'missing' } } as KubeObject)).rejects.toSatisfy((e: unknown) => e instanceof ApiStatusError && e.code === 404);

    lagAt = undefined;
    const deploy = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'default' }, spec: { replicas: 1, selector: { matchLabels: { app: 'd' } }, template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } } };
    await client.create(DEPLOYS, 'default', deploy as unknown as KubeObject);
    lagAt = await revision();
    await client.patch(DEPLOYS, 'default', 'd', { spec: { replicas: 3 } });
    // kubectl scale: a patch of the scale subresource, against a local state that still says 1.
    await client.patch(DEPLOYS, 'default', 'd', { spec: { replicas: 1 } }, 'merge', 'scale');
    expect(((await client.get(DEPLOYS, 'default', 'd')).spec as { replicas: number }).replicas).toBe(1);
  });
});
