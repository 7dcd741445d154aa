import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { etcdServerComponent, inProcessComponent, storeComponent, type ComponentProbe } from '../../../../control/apiserver/component-status.js';
import { ApiServer } from '../../../../control/apiserver/server.js';
import { MemoryStore, type RangeRequest, type RangeResponse } from '../../../../control/store/index.js';
import { silentLogger } from '../../../../lib/log.js';

/** A store whose health read fails, as one without a quorum does. */
class SickableStore extends MemoryStore {
  sick = false;
  override range(request: RangeRequest): Promise<RangeResponse> {
    if (this.sick && 'key' in request && request.key === 'health') return Promise.reject(new Error('no leader'));
    return super.range(request);
  }
}

const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';

describe('componentstatuses', () => {
  let server: ApiServer | undefined;
  let store: SickableStore | undefined;
  let etcd: Server | undefined;
  afterEach(async () => {
    await server?.close();
    await store?.close();
    await new Promise<void>((r) => (etcd ? etcd.close(() => r()) : r()));
    server = undefined;
    etcd = undefined;
  });

  async function start(components?: (store: SickableStore) => ComponentProbe[]): Promise<(path: string, init?: RequestInit) => Promise<{ status: number; body: Record<string, unknown>; warning: string | null }>> {
    store = new SickableStore();
    server = new ApiServer({ store, logger: silentLogger(), ...(components ? { components: components(store) } : {}) });
    const port = await server.listen(0, '127.0.0.1');
    return async (path, init) => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, init);
      return { status: res.status, body: (await res.json()) as Record<string, unknown>, warning: res.headers.get('warning') };
    };
  }

  it('lists the store as etcd-0 by default, healthy, with upstream deprecation warning', async () => {
    const get = await start();
    const list = await get('/api/v1/componentstatuses');
    expect(list.status).toBe(200);
    expect(list.warning).toBe('299 - "v1 ComponentStatus is deprecated in v1.19+"');
    expect(list.body).toEqual({
      kind: 'ComponentStatusList',
      apiVersion: 'v1',
      metadata: {},
      items: [{ kind: 'ComponentStatus', apiVersion: 'v1', metadata: { name: 'etcd-0' }, conditions: [{ type: 'Healthy', status: 'True', message: 'ok' }] }],
    });
  });

  it('reports a failing check as Unhealthy with its error, in the Table kubectl prints', async () => {
    const get = await start((s) => [inProcessComponent('scheduler'), inProcessComponent('controller-manager'), storeComponent('etcd-0', s)]);
    (store as SickableStore).sick = true;
    const table = await get('/api/v1/componentstatuses', { headers: { Accept: TABLE } });
    expect(table.status).toBe(200);
    expect((table.body.columnDefinitions as Array<{ name: string }>).map((c) => c.name)).toEqual(['Name', 'Status', 'Message', 'Error']);
    expect((table.body.rows as Array<{ cells: unknown[] }>).map((r) => r.cells)).toEqual([
      ['scheduler', 'Healthy', 'ok', ''],
      ['controller-manager', 'Healthy', 'ok', ''],
      ['etcd-0', 'Unhealthy', '', 'no leader'],
    ]);
    (store as SickableStore).sick = false;
    const one = await get('/api/v1/componentstatuses/etcd-0');
    expect(one.body.conditions).toEqual([{ type: 'Healthy', status: 'True', message: 'ok' }]);
  });

  it('answers an unknown name with a 500 without a reason, as upstream does', async () => {
    const get = await start();
    const r = await get('/api/v1/componentstatuses/nope');
    expect(r.status).toBe(500);
    expect(r.body).toMatchObject({ kind: 'Status', status: 'Failure', code: 500, message: 'Component not found: nope' });
    expect(r.body).not.toHaveProperty('reason');
  });

  it('filters by field and label selectors; the components carry no labels', async () => {
    const get = await start((s) => [inProcessComponent('scheduler'), storeComponent('etcd-0', s)]);
    const names = async (q: string): Promise<string[]> => ((await get(`/api/v1/componentstatuses?${q}`)).body.items as Array<{ metadata: { name: string } }>).map((i) => i.metadata.name);
    expect(await names('fieldSelector=metadata.name%3Dscheduler')).toEqual(['scheduler']);
    expect(await names('fieldSelector=metadata.name!%3Dscheduler')).toEqual(['etcd-0']);
    expect(await names('labelSelector=a%3Db')).toEqual([]);
    expect(await names('labelSelector=a!%3Db')).toEqual(['scheduler', 'etcd-0']);
    expect((await get('/api/v1/componentstatuses?fieldSelector=status.phase%3DRunning')).status).toBe(400);
  });

  it('serves get and list only: writes and watches get 405', async () => {
    const get = await start();
    expect((await get('/api/v1/componentstatuses', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"metadata":{"name":"x"}}' })).status).toBe(405);
    expect((await get('/api/v1/componentstatuses/etcd-0', { method: 'DELETE' })).status).toBe(405);
    expect((await get('/api/v1/componentstatuses?watch=true')).status).toBe(405);
  });

  it("reads an etcd server's /health: healthy only when it says so", async () => {
    let answer = { status: 200, body: '{"health":"true"}' };
    etcd = createServer((req, res) => {
      res.writeHead(req.url === '/health' ? answer.status : 404, { 'Content-Type': 'application/json' });
      res.end(req.url === '/health' ? answer.body : '');
    });
    await new Promise<void>((r) => (etcd as Server).listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(etcd.address() as { port: number }).port}`;
    const component = etcdServerComponent('etcd-0', url);
    expect(await component.probe()).toBe('ok');
    answer = { status: 503, body: '{"health":"false","reason":"RAFT NO LEADER"}' };
    await expect(component.probe()).rejects.toThrow(`${url}/health answered 503: {"health":"false","reason":"RAFT NO LEADER"}`);
    // Nothing listening: the connection error is the reason.
    await expect(etcdServerComponent('etcd-1', 'http://127.0.0.1:1').probe()).rejects.toThrow();
  });
});
