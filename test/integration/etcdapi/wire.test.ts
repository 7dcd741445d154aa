import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadEtcdServices } from '../../../control/store/etcdapi/index.js';
import { startHarness, type Harness } from './helpers.js';

/**
 * The etcd v3 API at the message level, through a plain gRPC client built from Skiff's own .proto files: the
 * details etcdctl does not show (watch ids, batching, progress, cancellation, error codes). Every expectation here
 * also holds against etcd 3.4 (ETCDAPI_TEST_ENDPOINT=host:port of a fresh etcd), except the Skiff-only tests.
 */
const external = process.env.ETCDAPI_TEST_ENDPOINT !== undefined;
let h: Harness;
let kv: any;
let lease: any;
let watchClient: any;
let maintenance: any;

beforeAll(async () => {
  h = await startHarness(process.env.ETCDAPI_TEST_ENDPOINT);
  const s = loadEtcdServices();
  const creds = grpc.credentials.createInsecure();
  kv = new s.KV(h.endpoint, creds);
  lease = new s.Lease(h.endpoint, creds);
  watchClient = new s.Watch(h.endpoint, creds);
  maintenance = new s.Maintenance(h.endpoint, creds);
});

afterAll(async () => {
  for (const c of [kv, lease, watchClient, maintenance]) c?.close();
  await h?.close();
});

const B = (s: string): Buffer => Buffer.from(s);

function call(client: any, method: string, request: object): Promise<any> {
  return new Promise((resolve, reject) => client[method](request, (err: any, res: any) => (err ? reject(err) : resolve(res))));
}

async function fails(client: any, method: string, request: object): Promise<{ code: number; details: string }> {
  try {
    await call(client, method, request);
  } catch (e: any) {
    return { code: e.code, details: e.details };
  }
  throw new Error(`${method} succeeded`);
}

const put = (key: string, value: string, extra: object = {}): Promise<any> => call(kv, 'Put', { key: B(key), value: B(value), ...extra });

async function revision(): Promise<number> {
  return Number((await call(kv, 'Range', { key: B('/no-such-key') })).header.revision);
}

/** A Watch stream whose responses queue up for `next()`. */
function openWatch() {
  const stream = watchClient.Watch();
  const queue: any[] = [];
  const waiters: Array<() => void> = [];
  stream.on('data', (r: any) => {
    queue.push(r);
    for (const w of waiters.splice(0)) w();
  });
  stream.on('error', () => {});
  return {
    write: (req: object) => stream.write(req),
    async next(timeoutMs = 5000): Promise<any> {
      const deadline = Date.now() + timeoutMs;
      while (queue.length === 0) {
        if (Date.now() > deadline) throw new Error('no watch response');
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
      return queue.shift();
    },
    async none(ms = 200): Promise<void> {
      await new Promise((r) => setTimeout(r, ms));
      expect(queue).toEqual([]);
    },
    close: () => stream.end(),
  };
}

const kvOf = (e: any) => ({ key: e.kv.key.toString(), value: e.kv.value.toString(), mod: Number(e.kv.mod_revision) });

describe('KV over the wire', () => {
  test('etcd’s error codes and messages', async () => {
    expect(await fails(kv, 'Range', { key: B('') })).toEqual({
      code: grpc.status.INVALID_ARGUMENT,
      details: 'etcdserver: key is not provided',
    });
    expect(await fails(kv, 'Range', { key: B('a'), revision: 1_000_000 })).toEqual({
      code: grpc.status.OUT_OF_RANGE,
      details: 'etcdserver: mvcc: required revision is a future revision',
    });
    const ops = Array.from({ length: 129 }, (_, i) => ({ request_range: { key: B(`k${i}`) } }));
    expect(await fails(kv, 'Txn', { success: ops })).toEqual({
      code: grpc.status.INVALID_ARGUMENT,
      details: 'etcdserver: too many operations in txn request',
    });
    const dup = [{ request_put: { key: B('/e/d'), value: B('1') } }, { request_put: { key: B('/e/d'), value: B('2') } }];
    expect(await fails(kv, 'Txn', { success: dup })).toEqual({
      code: grpc.status.INVALID_ARGUMENT,
      details: 'etcdserver: duplicate key given in txn request',
    });
    expect(await fails(kv, 'Put', { key: B('/e/k'), value: B('v'), lease: 123456 })).toEqual({
      code: grpc.status.NOT_FOUND,
      details: 'etcdserver: requested lease not found',
    });
    expect(await fails(kv, 'Put', { key: B('/e/missing'), ignore_value: true })).toEqual({
      code: grpc.status.INVALID_ARGUMENT,
      details: 'etcdserver: key not found',
    });
    expect(await fails(kv, 'Put', { key: B('/e/k'), value: B('v'), ignore_value: true })).toEqual({
      code: grpc.status.INVALID_ARGUMENT,
      details: 'etcdserver: value is provided',
    });
  });

  test('put with ignore_value and ignore_lease keeps what is there', async () => {
    const g = await call(lease, 'LeaseGrant', { TTL: 60 });
    await put('/iv/k', 'first', { lease: g.ID });
    await put('/iv/k', 'changed', { ignore_lease: true });
    let got = (await call(kv, 'Range', { key: B('/iv/k') })).kvs[0];
    expect([got.value.toString(), got.lease, got.version]).toEqual(['changed', g.ID, '2']);
    // ignore_value alone keeps the value but takes the request's lease (none), as etcd does.
    const r = await put('/iv/k', '', { ignore_value: true, prev_kv: true });
    expect(r.prev_kv.value.toString()).toBe('changed');
    got = (await call(kv, 'Range', { key: B('/iv/k') })).kvs[0];
    expect([got.value.toString(), got.lease, got.version]).toEqual(['changed', '0', '3']);
    await call(lease, 'LeaseRevoke', { ID: g.ID });
  });

  test('sorting by every target, count_only, revision filters, in Range and inside Txn', async () => {
    await put('/so/a', 'z');
    await put('/so/b', 'y');
    await put('/so/c', 'x');
    await put('/so/a', 'w'); // a: version 2, highest mod revision
    const range = { key: B('/so/'), range_end: B('/so0') };
    const keys = (r: any): string[] => r.kvs.map((x: any) => x.key.toString());
    expect(keys(await call(kv, 'Range', { ...range, sort_target: 4 }))).toEqual(['/so/a', '/so/c', '/so/b']); // VALUE, ascending by default
    expect(keys(await call(kv, 'Range', { ...range, sort_target: 3, sort_order: 2 }))).toEqual(['/so/a', '/so/c', '/so/b']); // MOD desc
    expect(keys(await call(kv, 'Range', { ...range, sort_target: 2, sort_order: 2, limit: 2 }))).toEqual(['/so/c', '/so/b']); // CREATE desc
    expect(keys(await call(kv, 'Range', { ...range, sort_target: 1, sort_order: 2, limit: 1 }))).toEqual(['/so/a']); // VERSION desc
    expect(keys(await call(kv, 'Range', { ...range, sort_order: 2 }))).toEqual(['/so/c', '/so/b', '/so/a']); // KEY desc
    const valueSortedKeys = await call(kv, 'Range', { ...range, sort_target: 4, sort_order: 2, keys_only: true });
    expect(valueSortedKeys.kvs.map((x: any) => [x.key.toString(), x.value.toString()])).toEqual([
      ['/so/b', ''],
      ['/so/c', ''],
      ['/so/a', ''],
    ]);
    const counted = await call(kv, 'Range', { ...range, count_only: true });
    expect([counted.kvs, counted.count]).toEqual([[], '3']);
    const a = (await call(kv, 'Range', { key: B('/so/a') })).kvs[0];
    expect(keys(await call(kv, 'Range', { ...range, min_mod_revision: a.mod_revision }))).toEqual(['/so/a']);
    expect(keys(await call(kv, 'Range', { ...range, max_create_revision: a.create_revision }))).toEqual(['/so/a']);
    const t = await call(kv, 'Txn', { success: [{ request_range: { ...range, sort_target: 4, sort_order: 2, limit: 2 } }] });
    expect(keys(t.responses[0].response_range)).toEqual(['/so/b', '/so/c']);
    expect(t.responses[0].response_range.more).toBe(true);
  });

  test.skipIf(external)('keys that are not UTF-8 are refused (Skiff stores text)', async () => {
    const e = await fails(kv, 'Put', { key: Buffer.from([0x2f, 0xff]), value: B('v') });
    expect(e.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(e.details).toContain('key is not valid UTF-8');
    const v = await fails(kv, 'Put', { key: B('/bin'), value: Buffer.from([0xc3]) });
    expect(v.details).toContain('value is not valid UTF-8');
  });
});

describe('Watch over the wire', () => {
  test('ids per stream, created revision, one response per revision, cancel', async () => {
    const w = openWatch();
    try {
      const rev = await revision();
      w.write({ create_request: { key: B('/wa/'), range_end: B('/wa0') } });
      const c0 = await w.next();
      expect([c0.watch_id, c0.created, Number(c0.header.revision)]).toEqual(['0', true, rev]);
      w.write({ create_request: { key: B('/wa/x'), prev_kv: true } });
      const c1 = await w.next();
      expect([c1.watch_id, c1.created]).toEqual(['1', true]);

      await put('/wa/x', '1');
      const e1 = await w.next();
      const e2 = await w.next();
      const byId = Object.fromEntries([e1, e2].map((r) => [r.watch_id, r]));
      expect(byId['0'].events.map(kvOf)).toEqual([{ key: '/wa/x', value: '1', mod: rev + 1 }]);
      expect(Number(byId['0'].header.revision)).toBe(rev + 1);
      expect(byId['1'].events[0].prev_kv).toBeNull();

      await call(kv, 'Txn', {
        success: [{ request_put: { key: B('/wa/y'), value: B('2') } }, { request_delete_range: { key: B('/wa/x') } }],
      });
      const batch = await w.next();
      const other = await w.next();
      const all = batch.watch_id === '0' ? batch : other;
      expect(all.events.map((e: any) => [e.type, e.kv.key.toString()])).toEqual([
        [0, '/wa/y'],
        [1, '/wa/x'],
      ]);
      const one = batch.watch_id === '1' ? batch : other;
      expect(one.events[0].prev_kv.value.toString()).toBe('1');

      w.write({ cancel_request: { watch_id: 0 } });
      const canceled = await w.next();
      expect([canceled.watch_id, canceled.canceled]).toEqual(['0', true]);
      await put('/wa/z', '3');
      await w.none();
    } finally {
      w.close();
    }
  });

  test('progress requests, client-chosen ids, duplicates, filters', async () => {
    const w = openWatch();
    try {
      w.write({ create_request: { key: B('/wb/k'), watch_id: 7, filters: [0] } }); // NOPUT
      expect((await w.next()).watch_id).toBe('7');
      w.write({ create_request: { key: B('/wb/k'), watch_id: 7 } });
      const dup = await w.next();
      expect([dup.watch_id, dup.created, dup.canceled, dup.cancel_reason]).toEqual([
        '-1',
        true,
        true,
        'mvcc: duplicate watch ID provided on the WatchStream',
      ]);
      await put('/wb/k', 'v');
      await w.none();
      w.write({ progress_request: {} });
      const progress = await w.next();
      expect([progress.watch_id, progress.events, Number(progress.header.revision)]).toEqual(['-1', [], await revision()]);
      await call(kv, 'DeleteRange', { key: B('/wb/k') });
      const del = await w.next();
      expect([del.watch_id, del.events[0].type]).toEqual(['7', 1]);
    } finally {
      w.close();
    }
  });

  test('start_revision in the past replays; below the compaction it is canceled with compact_revision', async () => {
    const start = (await revision()) + 1;
    await put('/wc/k', '1');
    await put('/wc/k', '2');
    const w = openWatch();
    try {
      w.write({ create_request: { key: B('/wc/k'), start_revision: start } });
      expect((await w.next()).created).toBe(true);
      // Skiff sends one response per revision; etcd may put several revisions of history in one.
      const events: any[] = [];
      while (events.length < 2) events.push(...(await w.next()).events);
      expect(events.map(kvOf)).toEqual([
        { key: '/wc/k', value: '1', mod: start },
        { key: '/wc/k', value: '2', mod: start + 1 },
      ]);

      await call(kv, 'Compact', { revision: start + 1 });
      w.write({ create_request: { key: B('/wc/k'), start_revision: start } });
      const created = await w.next();
      expect([created.watch_id, created.created]).toEqual(['1', true]);
      const canceled = await w.next();
      expect([canceled.watch_id, canceled.canceled, canceled.compact_revision]).toEqual(['1', true, String(start + 1)]);
    } finally {
      w.close();
    }
  });
});

describe('Lease and Maintenance over the wire', () => {
  test('keep-alive stream answers TTL 0 for unknown leases; TimeToLive -1; LeaseLeases; lease errors', async () => {
    const g = await call(lease, 'LeaseGrant', { TTL: 100, ID: 4242 });
    expect([g.ID, g.TTL]).toEqual(['4242', '100']);
    expect(await fails(lease, 'LeaseGrant', { TTL: 100, ID: 4242 })).toEqual({
      code: grpc.status.FAILED_PRECONDITION,
      details: 'etcdserver: lease already exists',
    });
    expect(await fails(lease, 'LeaseGrant', { TTL: 9_000_000_001 })).toEqual({
      code: grpc.status.OUT_OF_RANGE,
      details: 'etcdserver: too large lease TTL',
    });
    const stream = lease.LeaseKeepAlive();
    const got: any[] = [];
    stream.on('data', (r: any) => got.push(r));
    stream.on('error', () => {});
    stream.write({ ID: 4242 });
    stream.write({ ID: 999_999 });
    for (let i = 0; i < 100 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    stream.end();
    expect(got.map((r) => [r.ID, r.TTL])).toEqual([
      ['4242', '100'],
      ['999999', '0'],
    ]);
    const ttl = await call(lease, 'LeaseTimeToLive', { ID: 999_999 });
    expect([ttl.TTL, ttl.grantedTTL]).toEqual(['-1', '0']);
    const leases = await call(lease, 'LeaseLeases', {});
    expect(leases.leases.map((l: any) => l.ID)).toContain('4242');
    await call(lease, 'LeaseRevoke', { ID: 4242 });
    expect(await fails(lease, 'LeaseRevoke', { ID: 4242 })).toEqual({
      code: grpc.status.NOT_FOUND,
      details: 'etcdserver: requested lease not found',
    });
  });

  test('Alarm lists no alarms', async () => {
    const r = await call(maintenance, 'Alarm', { action: 0 });
    expect(r.alarms).toEqual([]);
  });
});
