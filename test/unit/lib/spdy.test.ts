import { constants as zc, createDeflate, createInflate, type Deflate, type Inflate } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeHeaderBlock, encodeHeaderBlock, SPDY_DICTIONARY_FOR_TESTS, SpdySession, type SpdyStream } from '../../../lib/spdy.js';

/** The client's side of the wire, written independently of the session: what spdystream sends and reads. */
function zstep(z: Deflate | Inflate, input: Buffer): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const onData = (c: Buffer): void => void chunks.push(c);
    z.on('data', onData);
    z.write(input);
    z.flush(zc.Z_SYNC_FLUSH, () => {
      z.off('data', onData);
      resolve(Buffer.concat(chunks));
    });
  });
}

function control(type: number, flags: number, payload: Buffer): Buffer {
  const h = Buffer.from([0x80, 0x03, 0, type, flags, 0, 0, 0]);
  h.writeUIntBE(payload.length, 5, 3);
  return Buffer.concat([h, payload]);
}

function data(id: number, flags: number, body: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32BE(id, 0);
  h.writeUIntBE(body.length, 5, 3);
  h[4] = flags;
  return Buffer.concat([h, body]);
}

async function synStream(deflate: Deflate, id: number, headers: Record<string, string>, flags = 0): Promise<Buffer> {
  const block = await zstep(deflate, encodeHeaderBlock(headers));
  const p = Buffer.alloc(10);
  p.writeUInt32BE(id, 0);
  return control(1, flags, Buffer.concat([p, block]));
}

/** Splits written bytes into frames. */
function frames(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const len = buf.readUIntBE(i + 5, 3);
    out.push(buf.subarray(i, i + 8 + len));
    i += 8 + len;
  }
  return out;
}

// Header blocks go through zlib on the thread pool: under load that takes longer than any count of event-loop turns.
const until = async (cond: () => boolean): Promise<void> => {
  const deadline = Date.now() + 20_000;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
  expect(cond()).toBe(true);
};

describe('SpdySession', () => {
  it('uses SPDY/3 header dictionary (1423 bytes, Adler-32 e3c6a7c2 as spdystream)', () => {
    let a = 1;
    let b = 0;
    for (const x of SPDY_DICTIONARY_FOR_TESTS) {
      a = (a + x) % 65521;
      b = (b + a) % 65521;
    }
    expect(SPDY_DICTIONARY_FOR_TESTS.length).toBe(1423);
    expect(((b << 16) | a) >>> 0).toBe(0xe3c6a7c2);
  });

  it('decodes a SYN_STREAM spdystream wrote (a captured frame)', async () => {
    const wire = Buffer.from('800300010000002b0000000100000000000078f9e3c6a7c2626060600 4a7b392a2d4c45c6851c2565c92925f5a02000000ffff'.replace(/\s/g, ''), 'hex');
    const session = new SpdySession({ write: () => undefined, end: () => undefined });
    const streams: SpdyStream[] = [];
    session.on('stream', (s: SpdyStream) => streams.push(s));
    session.receive(wire);
    await until(() => streams.length === 1);
    expect(streams[0]?.id).toBe(1);
    expect(streams[0]?.headers).toEqual({ streamtype: 'stdout' });
  });

  it('opens streams, replies, carries data both ways, half-closes with FIN and echoes PING', async () => {
    const written: Buffer[] = [];
    const session = new SpdySession({ write: (d) => void written.push(d), end: () => undefined });
    const deflate = createDeflate({ dictionary: SPDY_DICTIONARY_FOR_TESTS });
    const inflate = createInflate({ dictionary: SPDY_DICTIONARY_FOR_TESTS });
    const got: string[] = [];
    let ended = false;
    session.on('stream', (s: SpdyStream) => {
      void s.reply();
      s.on('data', (d: Buffer) => {
        got.push(d.toString());
        s.write(Buffer.from(d.toString().toUpperCase()));
      });
      s.on('end', () => {
        ended = true;
        s.end();
      });
    });
    // Two frames arriving in one chunk, and a frame split over two chunks.
    const syn = await synStream(deflate, 1, { streamType: 'data', port: '80', requestID: '0' });
    session.receive(Buffer.concat([syn, data(1, 0, Buffer.from('hello'))]));
    const fin = data(1, 1, Buffer.from(' world'));
    session.receive(fin.subarray(0, 5));
    session.receive(fin.subarray(5));
    const ping = Buffer.alloc(4);
    ping.writeUInt32BE(7);
    session.receive(control(6, 0, ping));
    await until(() => ended && frames(Buffer.concat(written)).length >= 5);
    expect(got.join('')).toBe('hello world');
    const out = frames(Buffer.concat(written));
    const reply = out.find((f) => (f[0] as number) & 0x80 && f.readUInt16BE(2) === 2) as Buffer;
    expect(reply.readUInt32BE(8)).toBe(1);
    expect(decodeHeaderBlock(await zstep(inflate, reply.subarray(12)))).toEqual({});
    const payloads = out.filter((f) => !((f[0] as number) & 0x80)).map((f) => [f.readUInt32BE(0), f[4], f.subarray(8).toString()]);
    expect(payloads).toEqual([
      [1, 0, 'HELLO'],
      [1, 0, ' WORLD'],
      [1, 1, ''],
    ]);
    const pong = out.find((f) => (f[0] as number) & 0x80 && f.readUInt16BE(2) === 6) as Buffer;
    expect(pong.readUInt32BE(8)).toBe(7);
    deflate.close();
    inflate.close();
    session.close();
  });

  it('resets data for a stream it does not know and ends every stream when closed', async () => {
    const written: Buffer[] = [];
    let transportEnded = false;
    const session = new SpdySession({ write: (d) => void written.push(d), end: () => (transportEnded = true) });
    const deflate = createDeflate({ dictionary: SPDY_DICTIONARY_FOR_TESTS });
    let closed = 0;
    let opened = 0;
    session.on('stream', (s: SpdyStream) => {
      opened++;
      s.on('close', () => closed++);
    });
    session.receive(await synStream(deflate, 3, { streamtype: 'error' }));
    session.receive(data(9, 0, Buffer.from('x')));
    // Header blocks are inflated asynchronously: wait for the stream as well as for the reset.
    await until(() => written.length >= 1 && opened === 1);
    const rst = frames(Buffer.concat(written))[0] as Buffer;
    expect([rst.readUInt16BE(2), rst.readUInt32BE(8), rst.readUInt32BE(12)]).toEqual([3, 9, 2]);
    session.close();
    expect(closed).toBe(1);
    expect(transportEnded).toBe(true);
    deflate.close();
  });

  it('refuses a frame with a header block that is not zlib', async () => {
    const session = new SpdySession({ write: () => undefined, end: () => undefined });
    const errors: Error[] = [];
    session.on('error', (e: Error) => errors.push(e));
    const p = Buffer.alloc(10);
    p.writeUInt32BE(1, 0);
    session.receive(control(1, 0, Buffer.concat([p, Buffer.from('not zlib at all')])));
    await until(() => errors.length === 1);
    expect(session.isClosed).toBe(true);
  });
});
