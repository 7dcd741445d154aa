import { afterEach, describe, expect, it } from 'vitest';
import { apiServerHealthChecks } from '../../../../control/apiserver/health.js';
import { ApiServer } from '../../../../control/apiserver/server.js';
import { MemoryStore, type RangeRequest, type RangeResponse } from '../../../../control/store/index.js';
import { silentLogger } from '../../../../lib/log.js';

/** A store whose health read (the key "health") can be made to fail or hang, as a store without quorum does. */
class SickableStore extends MemoryStore {
  health: 'ok' | 'fail' | 'hang' = 'ok';
  override range(request: RangeRequest): Promise<RangeResponse> {
    if ('key' in request && request.key === 'health') {
      if (this.health === 'fail') return Promise.reject(new Error('no leader'));
      if (this.health === 'hang') return new Promise(() => undefined);
    }
    return super.range(request);
  }
}

describe('health endpoints (/healthz, /livez, /readyz)', () => {
  let server: ApiServer | undefined;
  let store: SickableStore | undefined;
  afterEach(async () => {
    await server?.close();
    await store?.close();
    server = undefined;
  });

  async function start(): Promise<(path: string) => Promise<{ status: number; text: string }>> {
    store = new SickableStore();
    server = new ApiServer({ store, logger: silentLogger() });
    const port = await server.listen(0, '127.0.0.1');
    return async (path) => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      return { status: res.status, text: await res.text() };
    };
  }

  it('answers ok, or every check with ?verbose, while the store answers', async () => {
    const get = await start();
    for (const p of ['/healthz', '/livez', '/readyz']) expect(await get(p)).toEqual({ status: 200, text: 'ok' });
    expect(await get('/readyz?verbose')).toEqual({
      status: 200,
      text: '[+]ping ok\n[+]log ok\n[+]etcd ok\n[+]etcd-readiness ok\n[+]shutdown ok\nreadyz check passed\n',
    });
    expect(await get('/livez/etcd')).toEqual({ status: 200, text: 'ok' });
  });

  it('fails with 500 and withholds the reason when the store does not answer; exclude skips the check', async () => {
    const get = await start();
    (store as SickableStore).health = 'fail';
    expect(await get('/livez')).toEqual({ status: 500, text: '[+]ping ok\n[+]log ok\n[-]etcd failed: reason withheld\nlivez check failed\n' });
    expect((await get('/readyz')).text).toContain('[-]etcd-readiness failed: reason withheld\n[+]shutdown ok\nreadyz check failed\n');
    expect(await get('/livez?exclude=etcd')).toEqual({ status: 200, text: 'ok' });
    expect(await get('/livez?verbose&exclude=etcd&exclude=nope')).toEqual({
      status: 200,
      text: '[+]ping ok\n[+]log ok\n[+]etcd excluded: ok\nwarn: some health checks cannot be excluded: no matches for "nope"\nlivez check passed\n',
    });
    expect(await get('/livez/etcd')).toEqual({ status: 500, text: 'internal server error: no leader\n' });
    expect(await get('/livez/ping')).toEqual({ status: 200, text: 'ok' });
    (store as SickableStore).health = 'ok';
    expect(await get('/readyz')).toEqual({ status: 200, text: 'ok' });
  });

  it('answers 404 for a check an endpoint does not have', async () => {
    const get = await start();
    expect((await get('/livez/shutdown')).status).toBe(404);
    expect((await get('/readyz/nope')).status).toBe(404);
  });

  it('fails a store check that does not answer in time, and readiness once shutting down', async () => {
    store = new SickableStore();
    store.health = 'hang';
    let stopping = false;
    const checks = apiServerHealthChecks(store, () => stopping, 50);
    const etcd = checks.livez.find((c) => c.name === 'etcd');
    await expect(etcd?.check()).rejects.toThrow('the store did not answer within 50 ms');
    const shutdown = checks.readyz.find((c) => c.name === 'shutdown');
    await expect(shutdown?.check()).resolves.toBeUndefined();
    stopping = true;
    await expect(shutdown?.check()).rejects.toThrow('process is shutting down');
    expect(checks.livez.map((c) => c.name)).toEqual(['ping', 'log', 'etcd']);
  });
});
