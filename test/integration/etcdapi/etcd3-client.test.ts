import { Etcd3, EtcdLeaseInvalidError, EtcdLockFailedError, GRPCOutOfRangeError, type IKeyValue } from 'etcd3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MEMBER_ID, startHarness, type Harness } from './helpers.js';

/** The etcd3 npm client (the project's etcd client library) against Skiff's etcd API, unchanged. */
let h: Harness;
let client: Etcd3;

beforeAll(async () => {
  h = await startHarness(process.env.ETCDAPI_TEST_ENDPOINT);
  client = new Etcd3({ hosts: `http://${h.endpoint}` });
});

afterAll(async () => {
  client?.close();
  await h?.close();
});

function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const check = (): void => {
      if (predicate()) resolve();
      else if (Date.now() - started > timeoutMs) reject(new Error('condition not met in time'));
      else setTimeout(check, 10);
    };
    check();
  });
}

describe('etcd3 client', () => {
  test('put, get, getAll, delete', async () => {
    await client.put('/n/a').value('1');
    await client.put('/n/b').value(JSON.stringify({ x: 1 }));
    await client.put('/o').value('outside');
    expect(await client.get('/n/a').string()).toBe('1');
    expect(await client.get('/n/b').json()).toEqual({ x: 1 });
    expect(await client.get('/n/none').string()).toBeNull();
    expect(await client.getAll().prefix('/n/').strings()).toEqual({ '/n/a': '1', '/n/b': '{"x":1}' });
    expect(await client.getAll().prefix('/n/').count()).toBe(2);
    expect(await client.getAll().prefix('/n/').sort('Key', 'Descend').keys()).toEqual(['/n/b', '/n/a']);
    expect(await client.getAll().prefix('/n/').limit(1).keys()).toEqual(['/n/a']);
    const res = await client.get('/n/a').exec();
    expect(res.kvs[0]!.version).toBe('1');
    expect(await client.delete().prefix('/n/')).toMatchObject({ deleted: '2' });
    expect(await client.getAll().prefix('/n/').keys()).toEqual([]);
  });

  test('txn via if/then/else', async () => {
    await client.put('/tx/k').value('v1');
    const yes = await client.if('/tx/k', 'Value', '==', 'v1').then(client.put('/tx/out').value('then')).else(client.put('/tx/out').value('else')).commit();
    expect(yes.succeeded).toBe(true);
    expect(await client.get('/tx/out').string()).toBe('then');
    const no = await client.if('/tx/k', 'Version', '>', 5).then(client.put('/tx/out').value('then')).else(client.get('/tx/k')).commit();
    expect(no.succeeded).toBe(false);
    expect(no.responses[0]!.response_range!.kvs[0]!.value.toString()).toBe('v1');
  });

  test('watch a prefix, with previous values', async () => {
    const watcher = await client.watch().prefix('/wt/').withPreviousKV().create();
    const seen: string[] = [];
    watcher.on('put', (kv: IKeyValue, prev?: IKeyValue) => seen.push(`put ${kv.key.toString()}=${kv.value.toString()} prev=${prev?.value.toString() ?? '-'}`));
    watcher.on('delete', (kv: IKeyValue) => seen.push(`delete ${kv.key.toString()}`));
    try {
      await client.put('/wt/a').value('1');
      await client.put('/wt/a').value('2');
      await client.delete().key('/wt/a');
      await until(() => seen.length >= 3);
      expect(seen).toEqual(['put /wt/a=1 prev=-', 'put /wt/a=2 prev=1', 'delete /wt/a']);
    } finally {
      await watcher.cancel();
    }
  });

  test('two watchers share one stream; cancelling one leaves the other', async () => {
    const w1 = await client.watch().key('/ws/1').create();
    const w2 = await client.watch().key('/ws/2').create();
    const got: string[] = [];
    w1.on('put', (kv: IKeyValue) => got.push(`w1 ${kv.value.toString()}`));
    w2.on('put', (kv: IKeyValue) => got.push(`w2 ${kv.value.toString()}`));
    await client.put('/ws/1').value('a');
    await client.put('/ws/2').value('b');
    await until(() => got.length >= 2);
    await w1.cancel();
    await client.put('/ws/1').value('c');
    await client.put('/ws/2').value('d');
    await until(() => got.length >= 3);
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toEqual(['w1 a', 'w2 b', 'w2 d']);
    await w2.cancel();
  });

  test('leases: grant, put with lease, keepaliveOnce, revoke', async () => {
    const lease = client.lease(30, { autoKeepAlive: false });
    const id = await lease.grant();
    expect(Number(id)).toBeGreaterThan(0);
    await lease.put('/ls/k').value('v');
    expect((await client.get('/ls/k').exec()).kvs[0]!.lease).toBe(id);
    const ka = await lease.keepaliveOnce();
    expect(ka.TTL).toBe('30');
    await lease.revoke();
    expect(await client.get('/ls/k').string()).toBeNull();
    const again = client.lease(30, { autoKeepAlive: false });
    await again.grant();
    await again.revoke();
    await expect(again.keepaliveOnce()).rejects.toBeInstanceOf(EtcdLeaseInvalidError);
  });

  test('a lease with automatic keep-alive stays alive', async () => {
    const lease = client.lease(2);
    await lease.put('/la/k').value('v');
    await new Promise((r) => setTimeout(r, 3000));
    expect(await client.get('/la/k').string()).toBe('v');
    expect(lease.revoked()).toBe(false);
    await lease.revoke();
  });

  test('locks (lease + txn): a held lock refuses a second holder until released', async () => {
    const first = client.lock('/lock/x');
    await first.acquire();
    await expect(client.lock('/lock/x').acquire()).rejects.toBeInstanceOf(EtcdLockFailedError);
    await first.release();
    const second = client.lock('/lock/x');
    await second.acquire();
    await second.release();
  });

  test('errors map to the client’s typed errors', async () => {
    await client.put('/ce/k').value('1');
    const old = (await client.get('/ce/k').exec()).header.revision;
    await client.put('/ce/k').value('2');
    const now = (await client.get('/ce/k').exec()).header.revision;
    const compacted = await client.kv.compact({ revision: now });
    expect(compacted.header.revision).toBe(now);
    const err = await client.get('/ce/k').revision(old).exec().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GRPCOutOfRangeError);
    expect((err as Error).message).toContain('etcdserver: mvcc: required revision has been compacted');
  });

  test.skipIf(process.env.ETCDAPI_TEST_ENDPOINT !== undefined)('maintenance status and member list', async () => {
    const status = await client.maintenance.status();
    expect(status.version).toBe('3.4.0-skiff');
    expect(status.leader).toBe(MEMBER_ID.toString());
    const members = await client.cluster.memberList({});
    expect(members.members.map((m) => [m.ID, m.name])).toEqual([[MEMBER_ID.toString(), 'skiff-1']]);
  });
});
