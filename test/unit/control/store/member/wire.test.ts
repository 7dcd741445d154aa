import { createServer as createHttpServer, request, type IncomingMessage } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { HttpTransport, type TransportHandler } from '../../../../../control/store/member/transport.js';
import { FrameReader, WireFormatError, decodeMessageBatch, encodeFrame, encodeMessageBatch } from '../../../../../control/store/member/wire.js';
import type { Message } from '../../../../../control/store/raft/index.js';
import { until } from './helpers.js';
import { freePort } from '../../../../helpers/free-port.js';

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

/** One message of every type that travels between members, with every optional field both ways. */
const EVERY: Message[] = [
  { type: 'MsgProp', from: 2, to: 1, term: 0, entries: [{ term: 0, index: 0, type: 'normal', data: bytes(1, 2) }] },
  {
    type: 'MsgApp',
    from: 1,
    to: 2,
    term: 3,
    index: 4,
    logTerm: 3,
    commit: 4,
    entries: [
      { term: 3, index: 5, type: 'normal', data: bytes(0, 1, 255) },
      { term: 3, index: 6, type: 'confChange', data: new TextEncoder().encode('{"type":"addNode","nodeId":9}') },
      { term: 3, index: 7, type: 'normal', data: bytes() },
    ],
  },
  { type: 'MsgApp', from: 1, to: 2, term: 3, index: 7, logTerm: 3, commit: 7, entries: [] },
  { type: 'MsgAppResp', from: 2, to: 1, term: 3, index: 7, reject: false, rejectHint: 0, logTerm: 0 },
  { type: 'MsgAppResp', from: 2, to: 1, term: 3, index: 9, reject: true, rejectHint: 6, logTerm: 2 },
  { type: 'MsgVote', from: 3, to: 1, term: 4, index: 7, logTerm: 3, transfer: true },
  { type: 'MsgVoteResp', from: 1, to: 3, term: 4, reject: false },
  { type: 'MsgPreVote', from: 3, to: 1, term: 5, index: 7, logTerm: 3, transfer: false },
  { type: 'MsgPreVoteResp', from: 1, to: 3, term: 5, reject: true },
  { type: 'MsgHeartbeat', from: 1, to: 2, term: 3, commit: 7 },
  { type: 'MsgHeartbeat', from: 1, to: 2, term: 3, commit: 7, context: 'ctx-é' },
  { type: 'MsgHeartbeatResp', from: 2, to: 1, term: 3 },
  { type: 'MsgHeartbeatResp', from: 2, to: 1, term: 3, context: 'ctx-é' },
  {
    type: 'MsgSnap',
    from: 1,
    to: 2,
    term: 3,
    snapshot: { metadata: { index: 9, term: 3, confState: { voters: [1, 2, 2 ** 52] } }, data: new TextEncoder().encode('{"a":1}') },
  },
  { type: 'MsgTransferLeader', from: 3, to: 1, term: 3 },
  { type: 'MsgTimeoutNow', from: 1, to: 3, term: 3 },
  { type: 'MsgReadIndex', from: 2, to: 1, term: 0, context: '2.abc.r1' },
  { type: 'MsgReadIndexResp', from: 1, to: 2, term: 3, index: 7, context: '2.abc.r1' },
];

describe('peer wire format', () => {
  it('every message type round-trips with its bytes, and decoded entries own their bytes', () => {
    const buf = encodeMessageBatch(EVERY);
    const back = decodeMessageBatch(buf);
    expect(back).toEqual(EVERY);
    const app = back[1];
    expect(app?.type === 'MsgApp' && app.entries[0]?.data.buffer).not.toBe(buf.buffer);
    expect(decodeMessageBatch(encodeMessageBatch([]))).toEqual([]);
  });

  it('refuses local messages on the way out', () => {
    expect(() => encodeMessageBatch([{ type: 'MsgHup', from: 1, to: 1, term: 0 }])).toThrow(WireFormatError);
  });

  it('every truncation, a bad type code, a non-integer id and trailing bytes are errors, never a crash', () => {
    const buf = encodeMessageBatch(EVERY);
    for (let n = 0; n < buf.length; n++) expect(() => decodeMessageBatch(buf.subarray(0, n)), `cut at ${n}`).toThrow(WireFormatError);
    const badType = Buffer.from(buf);
    badType[4] = 200;
    expect(() => decodeMessageBatch(badType)).toThrow(/unknown message type code 200/);
    const badId = encodeMessageBatch([{ type: 'MsgTimeoutNow', from: 1, to: 3, term: 3 }]);
    badId.writeDoubleBE(1.5, 5);
    expect(() => decodeMessageBatch(badId)).toThrow(/non-negative integer/);
    expect(() => decodeMessageBatch(Buffer.concat([buf, Buffer.from([0])]))).toThrow(/trailing/);
  });

  it('frames split at any byte boundary, or several in one chunk, come out whole and in order', () => {
    const a = encodeFrame(EVERY.slice(0, 5));
    const b = encodeFrame(EVERY.slice(5));
    const stream = Buffer.concat([a, b]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const r = new FrameReader(1 << 20);
      const frames = [...r.push(stream.subarray(0, cut)), ...r.push(stream.subarray(cut))];
      expect(frames.map((f) => decodeMessageBatch(f)), `cut at ${cut}`).toEqual([EVERY.slice(0, 5), EVERY.slice(5)]);
    }
    const r = new FrameReader(1 << 20);
    const oneByOne = [...stream].flatMap((byte) => r.push(Buffer.from([byte])));
    expect(oneByOne.length).toBe(2);
  });

  it('a frame announcing more than the limit is refused', () => {
    const r = new FrameReader(10);
    expect(() => r.push(encodeFrame(EVERY))).toThrow(/exceeds the limit/);
  });
});

function recorder(): TransportHandler & { got: Message[]; unreachable: number[]; snaps: string[] } {
  const got: Message[] = [];
  const unreachable: number[] = [];
  const snaps: string[] = [];
  return {
    got,
    unreachable,
    snaps,
    receive: (m) => got.push(...m),
    rpc: async () => 'pong',
    reportUnreachable: (id) => unreachable.push(id),
    reportSnapshot: (id, status) => snaps.push(`${id}:${status}`),
  };
}

const hb = (commit: number): Message => ({ type: 'MsgHeartbeat', from: 1, to: 2, term: 1, commit });

describe('peer streams', () => {
  it('delivers in order on one stream, snapshots by POST; after the peer restarts the next send dials again', async () => {
    const ports = [await freePort(), await freePort()];
    const peers = new Map([
      [1, `http://127.0.0.1:${ports[0]}`],
      [2, `http://127.0.0.1:${ports[1]}`],
    ]);
    const ha = recorder();
    const hb2 = recorder();
    const a = new HttpTransport({ id: 1, peers, listen: peers.get(1)!, clusterId: 'c' });
    let b = new HttpTransport({ id: 2, peers, listen: peers.get(2)!, clusterId: 'c' });
    await a.start(ha);
    await b.start(hb2);
    try {
      for (let i = 1; i <= 100; i++) a.send([hb(i)]);
      const snap = EVERY.find((m) => m.type === 'MsgSnap')!;
      a.send([{ ...snap, from: 1, to: 2 }]);
      await until(() => hb2.got.length === 101, 'delivery');
      expect(hb2.got.filter((m) => m.type === 'MsgHeartbeat').map((m) => (m.type === 'MsgHeartbeat' ? m.commit : 0))).toEqual(
        Array.from({ length: 100 }, (_, i) => i + 1),
      );
      await until(() => ha.snaps.includes('2:finish'), 'snapshot reported delivered');
      await b.close();
      // The broken stream is noticed (reportUnreachable); messages sent while the peer is down are lost.
      await until(() => ha.unreachable.length > 0, 'stream loss reported');
      const hb3 = recorder();
      b = new HttpTransport({ id: 2, peers, listen: peers.get(2)!, clusterId: 'c' });
      await b.start(hb3);
      await until(() => {
        a.send([hb(500)]);
        return hb3.got.length > 0;
      }, 'redial after restart');
      expect(hb3.got[0]).toMatchObject({ type: 'MsgHeartbeat', commit: 500 });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('a malformed frame closes that stream only; the member keeps serving and the sender redials', async () => {
    const ports = [await freePort(), await freePort()];
    const peers = new Map([
      [1, `http://127.0.0.1:${ports[0]}`],
      [2, `http://127.0.0.1:${ports[1]}`],
    ]);
    const h = recorder();
    const b = new HttpTransport({ id: 2, peers, listen: peers.get(2)!, clusterId: 'c' });
    await b.start(h);
    const a = new HttpTransport({ id: 1, peers, listen: peers.get(1)!, clusterId: 'c' });
    await a.start(recorder());
    try {
      const closed = await new Promise<boolean>((resolve, reject) => {
        const req = request({
          host: '127.0.0.1',
          port: ports[1],
          path: '/raft/stream',
          headers: { connection: 'Upgrade', upgrade: 'skiff-raft/1', 'x-skiff-cluster': 'c', 'x-skiff-from': '1' },
        });
        req.on('upgrade', (_res: IncomingMessage, socket: Socket) => {
          socket.on('close', () => resolve(true));
          socket.on('error', () => undefined);
          const garbage = Buffer.from([0, 0, 0, 3, 1, 2, 3]);
          socket.write(garbage);
        });
        req.on('response', (res) => reject(new Error(`no upgrade: HTTP ${res.statusCode}`)));
        req.on('error', reject);
        req.end();
      });
      expect(closed).toBe(true);
      expect(h.got).toEqual([]);
      a.send([hb(7)]);
      await until(() => h.got.length === 1, 'a good stream still delivers');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('a stream from another cluster is refused with 409', async () => {
    const port = await freePort();
    const peers = new Map([[2, `http://127.0.0.1:${port}`]]);
    const b = new HttpTransport({ id: 2, peers, listen: peers.get(2)!, clusterId: 'c' });
    await b.start(recorder());
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request({
          host: '127.0.0.1',
          port,
          path: '/raft/stream',
          headers: { connection: 'Upgrade', upgrade: 'skiff-raft/1', 'x-skiff-cluster': 'other' },
        });
        req.on('upgrade', () => reject(new Error('upgraded')));
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
      expect(status).toBe(409);
    } finally {
      await b.close();
    }
  });

  it('a peer without streams (an older member: 404 to the upgrade) gets every message by POST with JSON', async () => {
    const ports = [await freePort(), await freePort()];
    const bodies: Array<{ type: string | undefined; body: unknown }> = [];
    const old = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/raft/messages') {
          bodies.push({ type: req.headers['content-type'], body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
          res.writeHead(204).end();
        } else res.writeHead(404).end('{"error":"not found"}');
      });
    });
    await new Promise<void>((resolve) => old.listen(ports[1], '127.0.0.1', resolve));
    const peers = new Map([
      [1, `http://127.0.0.1:${ports[0]}`],
      [2, `http://127.0.0.1:${ports[1]}`],
    ]);
    const a = new HttpTransport({ id: 1, peers, listen: peers.get(1)!, clusterId: 'c' });
    await a.start(recorder());
    try {
      a.send([hb(1)]);
      await until(() => bodies.length > 0, 'POST to the older member');
      a.send([hb(2)]);
      await until(() => bodies.flatMap((b) => b.body as Message[]).length === 2, 'second POST');
      expect(bodies.every((b) => b.type === 'application/json')).toBe(true);
      expect(bodies.flatMap((b) => b.body as Message[]).map((m) => (m.type === 'MsgHeartbeat' ? m.commit : 0))).toEqual([1, 2]);
    } finally {
      await a.close();
      await new Promise<void>((resolve) => old.close(() => resolve()));
    }
  });
});
