import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadEtcdServices } from '../../../control/store/etcdapi/index.js';
import { startEtcd, type EtcdProcess } from '../store/etcd-process.js';
import { ProcCluster, buildEntry } from './harness.js';

/**
 * Differential: the same etcd v3 requests, message for message, to Debian's etcd 3.4 and to a fresh `skiff store`
 * member, and the answers compared field by field (ids that differ by nature, cluster/member ids and raft terms,
 * are left out; lease ids are chosen by the test). Both start empty, so revisions must agree too. DIFF_DUMP=1
 * prints both sides of every exchange.
 */
interface Clients {
  kv: any;
  lease: any;
  watch: any;
  cluster: any;
  maintenance: any;
}

let etcd: EtcdProcess;
let skiff: ProcCluster;
const sides: Record<'etcd' | 'skiff', Clients> = {} as never;

function clients(endpoint: string): Clients {
  const s = loadEtcdServices();
  const creds = grpc.credentials.createInsecure();
  return {
    kv: new s.KV(endpoint, creds),
    lease: new s.Lease(endpoint, creds),
    watch: new s.Watch(endpoint, creds),
    cluster: new s.Cluster(endpoint, creds),
    maintenance: new s.Maintenance(endpoint, creds),
  };
}

beforeAll(async () => {
  await buildEntry();
  etcd = await startEtcd({ electionTimeoutMs: 1000, heartbeatIntervalMs: 100 });
  skiff = await ProcCluster.create(['diff']);
  skiff.members[0]!.start();
  await skiff.leader(skiff.members, 60_000);
  sides.etcd = clients(etcd.clientUrl.replace(/^http:\/\//, ''));
  sides.skiff = clients(skiff.members[0]!.endpoint);
}, 300_000);

afterAll(async () => {
  for (const c of Object.values(sides)) for (const client of Object.values(c)) (client as grpc.Client).close();
  await etcd?.stop();
  await skiff?.close();
});

const B = (s: string): Buffer => Buffer.from(s);

/** Drops what differs by nature between two clusters: ids and terms in headers. */
function normalize(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return `b:${value.toString('utf8')}`;
  if (Array.isArray(value)) return value.map(normalize);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === 'cluster_id' || k === 'member_id' || k === 'raft_term') continue;
      out[k] = normalize(v);
    }
    return out;
  }
  return value;
}

type Answer = { ok: unknown } | { error: { code: number; details: string } };

function call(client: any, method: string, request: object): Promise<Answer> {
  return new Promise((resolve) =>
    client[method](request, (err: grpc.ServiceError | null, res: unknown) =>
      resolve(err ? { error: { code: err.code, details: err.details } } : { ok: normalize(res) }),
    ),
  );
}

/** Runs the same unary call on both sides and expects the same answer; returns etcd's. */
async function same(service: keyof Clients, method: string, request: object, what = method): Promise<any> {
  const a = await call(sides.etcd[service], method, request);
  const b = await call(sides.skiff[service], method, request);
  if (process.env.DIFF_DUMP) console.log(what, JSON.stringify({ etcd: a, skiff: b }));
  expect(b, `${what}: skiff answered unlike etcd`).toEqual(a);
  return 'ok' in a ? a.ok : a.error;
}

/** A bidi stream on each side; `exchange` writes requests and collects the responses until the stream is quiet. */
function streams(service: 'watch' | 'lease', method: string) {
  const open = (c: Clients) => {
    const stream = c[service][method]();
    const got: unknown[] = [];
    stream.on('data', (r: unknown) => got.push(normalize(r)));
    stream.on('error', (e: grpc.ServiceError) => got.push({ streamError: e.code, details: e.details }));
    return { stream, got };
  };
  const a = open(sides.etcd);
  const b = open(sides.skiff);
  return {
    /**
     * Writes `requests` to both streams (or runs `action`), waits until each side has `n` more responses (and a
     * little longer, for extras), compares them.
     */
    async exchange(requests: object[] | (() => Promise<unknown>), n: number, what: string): Promise<any[]> {
      const startA = a.got.length;
      const startB = b.got.length;
      if (typeof requests === 'function') await requests();
      else {
        for (const r of requests) {
          a.stream.write(r);
          b.stream.write(r);
        }
      }
      const deadline = Date.now() + 10_000;
      while ((a.got.length - startA < n || b.got.length - startB < n) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      // Anything beyond n would show here too.
      await new Promise((r) => setTimeout(r, 300));
      // Responses of different watches on one stream come in no promised order (etcd's follows a Go map): compare
      // them grouped by watch, in order within each.
      const byWatch = (xs: unknown[]) => xs.map((x, i) => ({ x: x as any, i })).sort((p, q) => Number(p.x.watch_id ?? 0) - Number(q.x.watch_id ?? 0) || p.i - q.i).map((e) => e.x);
      const ga = byWatch(a.got.slice(startA));
      const gb = byWatch(b.got.slice(startB));
      if (process.env.DIFF_DUMP) console.log(what, JSON.stringify({ etcd: ga, skiff: gb }));
      expect(gb, `${what}: skiff's stream answered unlike etcd's`).toEqual(ga);
      expect(ga.length, `${what}: etcd's answers`).toBe(n);
      return ga as any[];
    },
    close(): void {
      a.stream.end();
      b.stream.end();
    },
  };
}

describe('the same requests to etcd 3.4 and to a skiff store member', () => {
  test('KV: put, range options, delete, the revisions in every header', async () => {
    await same('kv', 'Range', { key: B('a') }, 'range on an empty store');
    await same('kv', 'Put', { key: B('/d/a'), value: B('1') });
    await same('kv', 'Put', { key: B('/d/a'), value: B('2'), prev_kv: true });
    await same('kv', 'Put', { key: B('/d/b'), value: B('3') });
    await same('kv', 'Put', { key: B('/d/c'), value: B('0') });
    await same('kv', 'Put', { key: B('/d/b'), ignore_value: true, prev_kv: true }, 'put ignore_value');
    await same('kv', 'Put', { key: B('/d/none'), ignore_value: true }, 'put ignore_value on a missing key');
    await same('kv', 'Put', { key: B(''), value: B('x') }, 'put with no key');
    await same('kv', 'Range', { key: B('/d/'), range_end: B('/d0') });
    await same('kv', 'Range', { key: B('/d/'), range_end: B('/d0'), limit: 2 });
    await same('kv', 'Range', { key: B('/d/'), range_end: B('/d0'), count_only: true });
    await same('kv', 'Range', { key: B('/d/'), range_end: B('/d0'), keys_only: true });
    await same('kv', 'Range', { key: B('/d/'), range_end: B('/d0'), sort_order: 2, sort_target: 4, limit: 2 });
    await same('kv', 'Range', { key: B('/d/'), range_end: B('/d0'), min_mod_revision: 3 });
    await same('kv', 'Range', { key: B('/d/'), range_end: B('/d0'), revision: 2 });
    await same('kv', 'Range', { key: B('/d/'), range_end: B('/d0'), revision: 99 }, 'range at a future revision');
    await same('kv', 'Range', { key: B('\0'), range_end: B('\0'), count_only: true }, 'count everything');
    await same('kv', 'DeleteRange', { key: B('/d/zzz') }, 'delete nothing');
    await same('kv', 'DeleteRange', { key: B('/d/a'), prev_kv: true });
    await same('kv', 'Range', { key: B('/d/a') });
  });

  test('Txn: compares, both branches, nested ops and their headers, errors', async () => {
    await same('kv', 'Put', { key: B('/t/a'), value: B('1') });
    const cmp = { key: B('/t/a'), target: 3, result: 0, value: B('1') };
    await same('kv', 'Txn', {
      compare: [cmp],
      success: [
        { request_range: { key: B('/t/a') } },
        { request_put: { key: B('/t/b'), value: B('2'), prev_kv: true } },
        { request_range: { key: B('/t/'), range_end: B('/t0') } },
        { request_delete_range: { key: B('/t/a'), prev_kv: true } },
        { request_delete_range: { key: B('/t/none') } },
        { request_txn: { compare: [], success: [{ request_range: { key: B('/t/b') } }], failure: [] } },
      ],
      failure: [],
    }, 'txn success branch');
    await same('kv', 'Txn', {
      compare: [cmp],
      success: [{ request_put: { key: B('/t/x'), value: B('1') } }],
      failure: [{ request_range: { key: B('/t/'), range_end: B('/t0') } }, { request_delete_range: { key: B('/t/none') } }],
    }, 'txn failure branch (nothing written)');
    await same('kv', 'Txn', { compare: [], success: [], failure: [] }, 'empty txn');
    await same('kv', 'Txn', {
      compare: [],
      success: [{ request_put: { key: B('/t/d'), value: B('1') } }, { request_put: { key: B('/t/d'), value: B('2') } }],
      failure: [],
    }, 'duplicate key');
    await same('kv', 'Txn', {
      compare: [],
      success: Array.from({ length: 129 }, (_, i) => ({ request_put: { key: B(`/t/m${i}`), value: B('x') } })),
      failure: [],
    }, 'too many ops');
    await same('kv', 'Txn', {
      compare: [],
      success: [{ request_put: { key: B('/t/l'), value: B('1'), lease: 12345 } }],
      failure: [],
    }, 'txn put with an unknown lease');
    await same('kv', 'Txn', {
      compare: [],
      success: [{ request_range: { key: B('/t/a'), revision: 999 } }],
      failure: [],
    }, 'txn range at a future revision');
    await same('kv', 'Txn', {
      compare: [{ key: B('/t/'), range_end: B('/t0'), target: 0, result: 1, version: 0 }],
      success: [{ request_put: { key: B('/t/c'), value: B('1') } }],
      failure: [{ request_put: { key: B('/t/c'), value: B('2') } }],
    }, 'compare over a range');
  });

  test('Compact: errors, reads and watches below it', async () => {
    const rev = Number((await same('kv', 'Put', { key: B('/c/a'), value: B('1') })).header.revision);
    await same('kv', 'Put', { key: B('/c/a'), value: B('2') });
    await same('kv', 'Compact', { revision: rev + 100 }, 'compact a future revision');
    await same('kv', 'Compact', { revision: rev + 1, physical: true });
    await same('kv', 'Compact', { revision: rev }, 'compact below the last compaction');
    await same('kv', 'Compact', { revision: rev + 1 }, 'compact the same revision again');
    await same('kv', 'Range', { key: B('/c/a'), revision: rev }, 'range below the compaction');
    await same('kv', 'Range', { key: B('/c/a'), revision: rev + 1 }, 'range at the compaction');
    await same('kv', 'Txn', { compare: [], success: [{ request_range: { key: B('/c/a'), revision: rev } }], failure: [] }, 'txn range below the compaction');
    const w = streams('watch', 'Watch');
    try {
      await w.exchange([{ create_request: { key: B('/c/a'), start_revision: rev } }], 2, 'watch below the compaction');
      await w.exchange([{ create_request: { key: B('/c/a'), start_revision: rev + 1 } }], 2, 'watch at the compaction');
    } finally {
      w.close();
    }
  });

  test('Watch: created, events, filters, prev_kv, progress, cancel', async () => {
    const w = streams('watch', 'Watch');
    try {
      await w.exchange([{ create_request: { key: B('/w/'), range_end: B('/w0'), prev_kv: true } }], 1, 'create');
      await w.exchange([{ create_request: { key: B('/w/a'), filters: [1] } }], 1, 'create with NODELETE');
      await w.exchange([{ create_request: { key: B('/w/a'), watch_id: 7 } }], 1, 'create with an id');
      await w.exchange([{ progress_request: {} }], 1, 'progress');
      await w.exchange(() => same('kv', 'Put', { key: B('/w/a'), value: B('1') }), 3, 'a put seen by three watches');
      await w.exchange(() => same('kv', 'Put', { key: B('/w/a'), value: B('2') }), 3, 'a second put');
      await w.exchange(() => same('kv', 'DeleteRange', { key: B('/w/a') }), 2, 'a delete (one watch filters deletes)');
      await w.exchange([{ cancel_request: { watch_id: 1 } }], 1, 'cancel');
      await w.exchange([{ cancel_request: { watch_id: 42 } }], 0, 'cancel an unknown watch');
      await w.exchange([{ create_request: { key: B('/w/f'), start_revision: 1000 } }], 1, 'create at a future revision');
      await w.exchange([{ create_request: { key: B('/w/a'), watch_id: 7 } }], 1, 'create with a duplicate id');
    } finally {
      w.close();
    }
  });

  test('Lease: grant, keep-alive, time-to-live, revoke, errors', async () => {
    await same('lease', 'LeaseGrant', { TTL: 60, ID: 1001 });
    await same('lease', 'LeaseGrant', { TTL: 60, ID: 1001 }, 'grant an existing id');
    await same('lease', 'LeaseGrant', { TTL: 9_999_999_999, ID: 1002 }, 'grant a huge TTL');
    // Both run with a 1 s election timeout: etcd raises TTLs to 1.5 election timeouts, rounded up (2 s).
    await same('lease', 'LeaseGrant', { TTL: 1, ID: 1003 }, 'grant a TTL below the minimum');
    await same('lease', 'LeaseGrant', { TTL: 0, ID: 1004 }, 'grant TTL 0');
    await same('lease', 'LeaseGrant', { TTL: -5, ID: 1005 }, 'grant a negative TTL');
    await same('lease', 'LeaseRevoke', { ID: 1003 });
    await same('lease', 'LeaseRevoke', { ID: 1004 });
    await same('lease', 'LeaseRevoke', { ID: 1005 });
    await same('kv', 'Put', { key: B('/l/a'), value: B('1'), lease: 1001 });
    await same('kv', 'Put', { key: B('/l/b'), value: B('1'), lease: 4242 }, 'put with an unknown lease');
    const ttl = await same('lease', 'LeaseTimeToLive', { ID: 4242, keys: true }, 'time-to-live of an unknown lease');
    expect(ttl.TTL).toBe('-1');
    const a = await call(sides.etcd.lease, 'LeaseTimeToLive', { ID: 1001, keys: true });
    const b = await call(sides.skiff.lease, 'LeaseTimeToLive', { ID: 1001, keys: true });
    const shape = (x: any) => ({ ...x.ok, TTL: Number(x.ok.TTL) > 50 && Number(x.ok.TTL) <= 60 });
    expect(shape(b)).toEqual(shape(a));
    // etcd lists leases in no promised order (a Go map's).
    const sorted = (x: any) => ({ ...x.ok, leases: [...x.ok.leases].sort((p: any, q: any) => Number(p.ID) - Number(q.ID)) });
    expect(sorted(await call(sides.skiff.lease, 'LeaseLeases', {}))).toEqual(sorted(await call(sides.etcd.lease, 'LeaseLeases', {})));
    const k = streams('lease', 'LeaseKeepAlive');
    try {
      await k.exchange([{ ID: 1001 }, { ID: 4242 }], 2, 'keep-alive');
    } finally {
      k.close();
    }
    await same('lease', 'LeaseRevoke', { ID: 1001 });
    await same('lease', 'LeaseRevoke', { ID: 1001 }, 'revoke again');
    await same('kv', 'Range', { key: B('/l/'), range_end: B('/l0') });
  });

  test('Cluster: membership changes refused as etcd refuses them', async () => {
    await same('cluster', 'MemberRemove', { ID: '12345' }, 'remove an unknown member');
    await same('cluster', 'MemberUpdate', { ID: '12345', peerURLs: ['http://127.0.0.1:1'] }, 'update an unknown member');
    await same('cluster', 'MemberAdd', { peerURLs: ['http://127.0.0.1'] }, 'add a peer URL without a port');
    await same('cluster', 'MemberAdd', { peerURLs: ['ftp://127.0.0.1:1'] }, 'add a peer URL of another scheme');
    await same('cluster', 'MemberAdd', { peerURLs: [] }, 'add with no peer URL');
    // Each side's own peer URL is taken.
    const own = async (c: Clients) => {
      const list = (await call(c.cluster, 'MemberList', {})) as { ok: { members: Array<{ ID: string; peerURLs: string[] }> } };
      return list.ok.members[0]!;
    };
    const [ea, sk] = [await own(sides.etcd), await own(sides.skiff)];
    const dupA = await call(sides.etcd.cluster, 'MemberAdd', { peerURLs: ea.peerURLs });
    const dupB = await call(sides.skiff.cluster, 'MemberAdd', { peerURLs: sk.peerURLs });
    expect(dupB).toEqual(dupA);
    const selfA = await call(sides.etcd.cluster, 'MemberRemove', { ID: ea.ID });
    const selfB = await call(sides.skiff.cluster, 'MemberRemove', { ID: sk.ID });
    expect(selfB, 'removing the only member').toEqual(selfA);
    const promoteA = await call(sides.etcd.cluster, 'MemberPromote', { ID: ea.ID });
    const promoteB = await call(sides.skiff.cluster, 'MemberPromote', { ID: sk.ID });
    expect(promoteB, 'promoting a voting member').toEqual(promoteA);
  });

  test('Maintenance and Cluster answer with the same fields', async () => {
    const keysOf = async (service: keyof Clients, method: string) => {
      const a = await call(sides.etcd[service], method, {});
      const b = await call(sides.skiff[service], method, {});
      expect(Object.keys((b as any).ok ?? {}).sort()).toEqual(Object.keys((a as any).ok ?? {}).sort());
      return [a, b] as const;
    };
    const [sa, sb] = await keysOf('maintenance', 'Status');
    expect((sb as any).ok.header.revision).toBe((sa as any).ok.header.revision);
    await same('maintenance', 'Alarm', { action: 0 });
    const [ma, mb] = await keysOf('cluster', 'MemberList');
    expect((mb as any).ok.header).toEqual((ma as any).ok.header);
  });
});
