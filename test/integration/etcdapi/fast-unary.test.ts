import * as http2 from 'node:http2';
import { gzipSync } from 'node:zlib';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MemoryStore } from '../../../control/store/index.js';
import type { Store } from '../../../control/store/store.js';
import { loadEtcdServices, startEtcdApiServer, type EtcdApiServer } from '../../../control/store/etcdapi/index.js';

/**
 * The fast path for unary KV calls (control/store/etcdapi/fast-unary.ts) answers as grpc-js does: the same requests,
 * raw over HTTP/2, go to one server with the fast path and one without (grpc-js alone), and the answers (status,
 * message, response body) must match. Plus: it is what serves the etcd3 client's KV calls, and compressed requests
 * are left to grpc-js.
 */

interface Answer {
  status: string | undefined;
  message: string | undefined;
  /** The response message bytes (after the 5-byte gRPC prefix), hex; '' when none. */
  body: string;
  contentType: string | undefined;
}

/** One raw gRPC call: the given frames as the request body, the status from trailers (or trailers-only headers). */
function raw(port: number, path: string, body: Buffer, headers: http2.OutgoingHttpHeaders = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers });
    let head: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on('response', (h) => (head = h));
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', reject);
    req.on('close', () => {
      session.close();
      const data = Buffer.concat(chunks);
      const str = (v: unknown): string | undefined => (v === undefined ? undefined : String(v));
      resolve({
        status: str(trailers['grpc-status'] ?? head['grpc-status']),
        message: str(trailers['grpc-message'] ?? head['grpc-message']),
        body: data.length >= 5 ? data.subarray(5).toString('hex') : '',
        contentType: str(head['content-type']),
      });
    });
    req.end(body);
  });
}

function frame(msg: Buffer, compressed = false, declaredLength = msg.length): Buffer {
  const f = Buffer.alloc(5 + msg.length);
  f[0] = compressed ? 1 : 0;
  f.writeUInt32BE(declaredLength, 1);
  msg.copy(f, 5);
  return f;
}

/** A store whose puts on /hang/ never finish (to hit the grpc-timeout deadline). */
function hanging(store: MemoryStore): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'put') {
        return (key: string, ...rest: unknown[]) =>
          key.startsWith('/hang/') ? new Promise(() => undefined) : (target.put as (...a: unknown[]) => unknown)(key, ...rest);
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as Store;
}

async function serve(fastUnary: boolean): Promise<{ server: EtcdApiServer; store: MemoryStore }> {
  const store = new MemoryStore();
  const server = await startEtcdApiServer({
    store: hanging(store),
    listen: '127.0.0.1:0',
    fastUnary,
    cluster: { clusterId: 7, memberId: 9, name: 'm', peerURLs: [], clientURLs: [], members: [] },
    status: () => ({ version: '3.4.0-skiff', dbSize: 0, leader: 9, raftIndex: store.revision, raftTerm: 1 }),
    raftTerm: () => 1,
  });
  return { server, store };
}

let fast: { server: EtcdApiServer; store: MemoryStore };
let plain: { server: EtcdApiServer; store: MemoryStore };

beforeAll(async () => {
  fast = await serve(true);
  plain = await serve(false);
});

afterAll(async () => {
  for (const s of [fast, plain]) {
    await s?.server.close();
    await s?.store.close();
  }
});

const kv = loadEtcdServices().KV.service;
const putReq = (key: string, value = 'v'): Buffer => kv.Put!.requestSerialize({ key: Buffer.from(key), value: Buffer.from(value) });

describe('fast path for unary KV calls', () => {
  const cases: Array<[string, string, () => Buffer, http2.OutgoingHttpHeaders?]> = [
    ['a put', '/etcdserverpb.KV/Put', () => frame(putReq('/a', 'one'))],
    ['a range', '/etcdserverpb.KV/Range', () => frame(kv.Range!.requestSerialize({ key: Buffer.from('/a') }))],
    ['a txn', '/etcdserverpb.KV/Txn', () => frame(kv.Txn!.requestSerialize({ success: [{ request_put: { key: Buffer.from('/t'), value: Buffer.from('x') } }] }))],
    ['a delete', '/etcdserverpb.KV/DeleteRange', () => frame(kv.DeleteRange!.requestSerialize({ key: Buffer.from('/t'), prev_kv: true }))],
    ['an empty key (etcd error)', '/etcdserverpb.KV/Put', () => frame(putReq(''))],
    ['a message over the receive limit', '/etcdserverpb.KV/Put', () => frame(Buffer.alloc(16), false, 3 * 1024 * 1024)],
    ['a frame flagged compressed under identity encoding (read as is)', '/etcdserverpb.KV/Put', () => frame(putReq('/c'), true)],
    ['no message', '/etcdserverpb.KV/Put', () => Buffer.alloc(0)],
    ['two messages', '/etcdserverpb.KV/Put', () => Buffer.concat([frame(putReq('/d')), frame(putReq('/e'))])],
    ['bytes that are not a PutRequest', '/etcdserverpb.KV/Put', () => frame(Buffer.from([0xff, 0xff, 0xff]))],
    ['a deadline that passes', '/etcdserverpb.KV/Put', () => frame(putReq('/hang/x')), { 'grpc-timeout': '50m' }],
  ];

  test.each(cases)('%s: answered as grpc-js answers it', async (_name, path, body, headers) => {
    const before = fast.server.stats().fastUnaryCalls;
    const a = await raw(fast.server.port, path, body(), headers);
    expect(fast.server.stats().fastUnaryCalls).toBe(before + 1);
    const b = await raw(plain.server.port, path, body(), headers);
    expect(plain.server.stats().fastUnaryCalls).toBe(0);
    expect(a).toEqual(b);
    expect(a.status).toBeDefined();
  });

  test('a gzip-compressed request is left to grpc-js, which decompresses it', async () => {
    const before = fast.server.stats().fastUnaryCalls;
    const a = await raw(fast.server.port, '/etcdserverpb.KV/Put', frame(gzipSync(putReq('/gz', 'zipped')), true), { 'grpc-encoding': 'gzip' });
    expect(a.status).toBe('0');
    expect(fast.server.stats().fastUnaryCalls).toBe(before);
    expect((await fast.store.range({ key: '/gz' })).kvs[0]?.value).toBe('zipped');
  });

  test('other services stay with grpc-js', async () => {
    const before = fast.server.stats().fastUnaryCalls;
    const a = await raw(fast.server.port, '/etcdserverpb.Maintenance/Status', frame(Buffer.alloc(0)));
    expect(a.status).toBe('0');
    const unknown = await raw(fast.server.port, '/etcdserverpb.KV/NoSuchCall', frame(Buffer.alloc(0)));
    expect(unknown.status).toBe('12');
    expect(fast.server.stats().fastUnaryCalls).toBe(before);
  });

  test("the etcd3 client's KV calls go through it", async () => {
    const client = new Etcd3({ hosts: `http://127.0.0.1:${fast.server.port}` });
    try {
      const before = fast.server.stats().fastUnaryCalls;
      await client.put('/client/k').value('v1');
      expect(await client.get('/client/k').string()).toBe('v1');
      await client.delete().key('/client/k');
      expect(await client.get('/client/k').string()).toBeNull();
      expect(fast.server.stats().fastUnaryCalls).toBe(before + 4);
      await expect(client.put('').value('x')).rejects.toThrow(/key is not provided/);
    } finally {
      client.close();
    }
  });
});
