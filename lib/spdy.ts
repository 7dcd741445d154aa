import { EventEmitter } from 'node:events';
import { constants as zc, createDeflate, createInflate, type Deflate, type Inflate } from 'node:zlib';

/**
 * The server side of a SPDY/3.1 session, as the Kubernetes streaming protocols use it (client-go's spdystream):
 * the client opens streams with SYN_STREAM carrying headers (streamType, port, requestID ...), we answer SYN_REPLY,
 * data flows in DATA frames, FIN half-closes a direction and RST_STREAM aborts. PING is echoed; SETTINGS,
 * WINDOW_UPDATE and HEADERS are accepted and ignored (spdystream does no flow control either).
 *
 * The transport is abstract, so the same session runs over an upgraded HTTP connection or tunneled in WebSocket
 * binary messages (kubectl 1.31+'s port-forward).
 */

/** SPDY/3's header-compression dictionary (draft 3, section 2.6.10.1), byte for byte as spdystream has it. */
const DICTIONARY = Buffer.from(
  '\x00\x00\x00\x07options\x00\x00\x00\x04head\x00\x00\x00\x04post\x00\x00\x00\x03put\x00\x00\x00\x06delete\x00\x00\x00\x05trace' +
    '\x00\x00\x00\x06accept\x00\x00\x00\x0eaccept-charset\x00\x00\x00\x0faccept-encoding\x00\x00\x00\x0faccept-language' +
    '\x00\x00\x00\x0daccept-ranges\x00\x00\x00\x03age\x00\x00\x00\x05allow\x00\x00\x00\x0dauthorization\x00\x00\x00\rcache-control' +
    '\x00\x00\x00\nconnection\x00\x00\x00\x0ccontent-base\x00\x00\x00\x10content-encoding\x00\x00\x00\x10content-language' +
    '\x00\x00\x00\x0econtent-length\x00\x00\x00\x10content-location\x00\x00\x00\x0bcontent-md5\x00\x00\x00\rcontent-range' +
    '\x00\x00\x00\x0ccontent-type\x00\x00\x00\x04date\x00\x00\x00\x04etag\x00\x00\x00\x06expect\x00\x00\x00\x07expires' +
    '\x00\x00\x00\x04from\x00\x00\x00\x04host\x00\x00\x00\x08if-match\x00\x00\x00\x11if-modified-since\x00\x00\x00\rif-none-match' +
    '\x00\x00\x00\x08if-range\x00\x00\x00\x13if-unmodified-since\x00\x00\x00\rlast-modified\x00\x00\x00\x08location' +
    '\x00\x00\x00\x0cmax-forwards\x00\x00\x00\x06pragma\x00\x00\x00\x12proxy-authenticate\x00\x00\x00\x13proxy-authorization' +
    '\x00\x00\x00\x05range\x00\x00\x00\x07referer\x00\x00\x00\x0bretry-after\x00\x00\x00\x06server\x00\x00\x00\x02te' +
    '\x00\x00\x00\x07trailer\x00\x00\x00\x11transfer-encoding\x00\x00\x00\x07upgrade\x00\x00\x00\nuser-agent\x00\x00\x00\x04vary' +
    '\x00\x00\x00\x03via\x00\x00\x00\x07warning\x00\x00\x00\x10www-authenticate\x00\x00\x00\x06method\x00\x00\x00\x03get' +
    '\x00\x00\x00\x06status\x00\x00\x00\x06200 OK\x00\x00\x00\x07version\x00\x00\x00\x08HTTP/1.1\x00\x00\x00\x03url' +
    '\x00\x00\x00\x06public\x00\x00\x00\nset-cookie\x00\x00\x00\nkeep-alive\x00\x00\x00\x06origin' +
    '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
    '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized403 Forbidden' +
    '404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable' +
    'Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT' +
    'chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,text/javascript,' +
    'publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.',
  'latin1',
);

export const SPDY_DICTIONARY_FOR_TESTS = DICTIONARY;

const enum FrameType {
  SynStream = 1,
  SynReply = 2,
  RstStream = 3,
  Settings = 4,
  Ping = 6,
  GoAway = 7,
  Headers = 8,
  WindowUpdate = 9,
}

const FLAG_FIN = 0x01;
/** RST_STREAM statuses. */
export const RST_PROTOCOL_ERROR = 1;
export const RST_CANCEL = 5;
/** A frame longer than this is refused: nothing in the Kubernetes protocols needs more. */
const MAX_FRAME = 1 << 24;

/** One zlib stream per direction, flushed per header block; calls are serialized so blocks never interleave. */
class HeaderCodec {
  private chain: Promise<unknown> = Promise.resolve();
  constructor(private readonly z: Deflate | Inflate) {
    z.on('error', () => undefined);
  }
  run(input: Buffer): Promise<Buffer> {
    const next = this.chain.then(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          const chunks: Buffer[] = [];
          const onData = (c: Buffer): void => void chunks.push(c);
          const onError = (e: Error): void => {
            this.z.off('data', onData);
            reject(e);
          };
          this.z.on('data', onData);
          this.z.once('error', onError);
          this.z.write(input);
          this.z.flush(zc.Z_SYNC_FLUSH, () => {
            this.z.off('data', onData);
            this.z.off('error', onError);
            resolve(Buffer.concat(chunks));
          });
        }),
    );
    this.chain = next.catch(() => undefined);
    return next;
  }
  close(): void {
    this.z.close();
  }
}

export function encodeHeaderBlock(headers: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  const entries = Object.entries(headers);
  const count = Buffer.alloc(4);
  count.writeUInt32BE(entries.length);
  parts.push(count);
  for (const [name, value] of entries) {
    for (const s of [name.toLowerCase(), value]) {
      const b = Buffer.from(s, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length);
      parts.push(len, b);
    }
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(block: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  if (block.length < 4) throw new Error('truncated header block');
  const count = block.readUInt32BE(0);
  let i = 4;
  const read = (): string => {
    if (i + 4 > block.length) throw new Error('truncated header block');
    const len = block.readUInt32BE(i);
    i += 4;
    if (i + len > block.length) throw new Error('truncated header block');
    const s = block.subarray(i, i + len).toString('utf8');
    i += len;
    return s;
  };
  for (let n = 0; n < count; n++) {
    const name = read().toLowerCase();
    // Several values of one header are NUL-separated; the first is the one the Kubernetes protocols use.
    out[name] = read().split('\0')[0] ?? '';
  }
  return out;
}

function controlFrame(type: FrameType, flags: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(0x8003, 0);
  h.writeUInt16BE(type, 2);
  h.writeUInt32BE(payload.length, 4);
  h[4] = flags;
  return Buffer.concat([h, payload]);
}

function dataFrame(streamId: number, flags: number, data: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32BE(streamId & 0x7fffffff, 0);
  h.writeUInt32BE(data.length, 4);
  h[4] = flags;
  return Buffer.concat([h, data]);
}

export interface SpdyTransport {
  write(data: Buffer): void;
  end(): void;
  /** True while the transport holds more unsent data than it wants (back-pressure). */
  congested?(): boolean;
  /** Resolves when the transport has drained. */
  drained?(): Promise<void>;
}

/** One stream of a session. Events: 'data' (Buffer), 'end' (the peer half-closed), 'close' (reset or session gone). */
export class SpdyStream extends EventEmitter {
  private localFin = false;
  private remoteFin = false;
  private closed = false;

  constructor(
    private readonly session: SpdySession,
    readonly id: number,
    readonly headers: Record<string, string>,
  ) {
    super();
  }

  get writable(): boolean {
    return !this.localFin && !this.closed;
  }

  reply(headers: Record<string, string> = {}): Promise<void> {
    return this.session.sendReply(this.id, headers);
  }

  /** Sends data; false when the transport is congested and the writer should wait for drained(). */
  write(data: Buffer): boolean {
    if (!this.writable || data.length === 0) return true;
    for (let i = 0; i < data.length; i += 32 * 1024) this.session.sendData(this.id, 0, data.subarray(i, i + 32 * 1024));
    return !this.session.congested;
  }

  drained(): Promise<void> {
    return this.session.drained();
  }

  /** Half-closes our direction (DATA with FIN). */
  end(): void {
    if (!this.writable) return;
    this.localFin = true;
    this.session.sendData(this.id, FLAG_FIN, Buffer.alloc(0));
    if (this.remoteFin) this.finish();
  }

  reset(status = RST_CANCEL): void {
    if (this.closed) return;
    this.session.sendReset(this.id, status);
    this.finish();
  }

  /** @internal */
  onData(data: Buffer, fin: boolean): void {
    if (this.closed) return;
    if (data.length > 0) this.emit('data', data);
    if (fin && !this.remoteFin) {
      this.remoteFin = true;
      this.emit('end');
      if (this.localFin) this.finish();
    }
  }

  /** @internal */
  finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.session.forget(this.id);
    this.emit('close');
  }
}

/** A SPDY/3.1 server session. Events: 'stream' (SpdyStream), 'close', 'error' (protocol errors, logged by the owner). */
export class SpdySession extends EventEmitter {
  private readonly streams = new Map<number, SpdyStream>();
  private readonly deflate = new HeaderCodec(createDeflate({ dictionary: DICTIONARY }));
  private readonly inflate = new HeaderCodec(createInflate({ dictionary: DICTIONARY }));
  private buffer: Buffer = Buffer.alloc(0);
  /** Incoming frames are handled one at a time: header blocks must be inflated in order. */
  private incoming: Promise<void> = Promise.resolve();
  /** Outgoing frames are written in the order they were asked for, even when a header block is being deflated. */
  private outgoing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly transport: SpdyTransport) {
    super();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get congested(): boolean {
    return !this.closed && (this.transport.congested?.() ?? false);
  }

  drained(): Promise<void> {
    if (!this.congested) return Promise.resolve();
    return this.transport.drained?.() ?? Promise.resolve();
  }

  /** Feeds bytes received from the transport. */
  receive(chunk: Buffer): void {
    if (this.closed) return;
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= 8) {
      const len = this.buffer.readUInt32BE(4) & 0xffffff;
      if (len > MAX_FRAME) return this.fail(new Error('frame too large'));
      if (this.buffer.length < 8 + len) return;
      const frame = Buffer.from(this.buffer.subarray(0, 8 + len));
      this.buffer = this.buffer.subarray(8 + len);
      this.incoming = this.incoming.then(() => this.handle(frame)).catch((err: unknown) => this.fail(err instanceof Error ? err : new Error(String(err))));
    }
  }

  /** The transport went away. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.streams.values()]) s.finish();
    this.deflate.close();
    this.inflate.close();
    this.transport.end();
    this.emit('close');
  }

  /** @internal */
  forget(id: number): void {
    this.streams.delete(id);
  }

  /** @internal */
  sendReply(id: number, headers: Record<string, string>): Promise<void> {
    const block = this.deflate.run(encodeHeaderBlock(headers));
    return this.enqueue(async () => {
      const compressed = await block;
      const sid = Buffer.alloc(4);
      sid.writeUInt32BE(id & 0x7fffffff);
      return controlFrame(FrameType.SynReply, 0, Buffer.concat([sid, compressed]));
    });
  }

  /** @internal */
  sendData(id: number, flags: number, data: Buffer): void {
    void this.enqueue(() => dataFrame(id, flags, data));
  }

  /** @internal */
  sendReset(id: number, status: number): void {
    const p = Buffer.alloc(8);
    p.writeUInt32BE(id & 0x7fffffff, 0);
    p.writeUInt32BE(status, 4);
    void this.enqueue(() => controlFrame(FrameType.RstStream, 0, p));
  }

  private enqueue(make: () => Buffer | Promise<Buffer>): Promise<void> {
    const next = this.outgoing.then(async () => {
      const frame = await make();
      if (!this.closed) this.transport.write(frame);
    });
    this.outgoing = next.catch(() => undefined);
    return next;
  }

  private fail(err: Error): void {
    if (this.closed) return;
    this.emit('error', err);
    this.close();
  }

  private async handle(frame: Buffer): Promise<void> {
    if (this.closed) return;
    const control = ((frame[0] as number) & 0x80) !== 0;
    const flags = frame[4] as number;
    const payload = frame.subarray(8);
    if (!control) {
      const id = frame.readUInt32BE(0) & 0x7fffffff;
      const stream = this.streams.get(id);
      if (!stream) {
        this.sendReset(id, 2 /* INVALID_STREAM */);
        return;
      }
      stream.onData(payload, (flags & FLAG_FIN) !== 0);
      return;
    }
    const version = frame.readUInt16BE(0) & 0x7fff;
    const type = frame.readUInt16BE(2) as FrameType;
    if (version !== 3) throw new Error(`unsupported SPDY version ${version}`);
    switch (type) {
      case FrameType.SynStream: {
        if (payload.length < 10) throw new Error('short SYN_STREAM');
        const id = payload.readUInt32BE(0) & 0x7fffffff;
        const headers = decodeHeaderBlock(await this.inflate.run(payload.subarray(10)));
        if (this.streams.has(id)) {
          this.sendReset(id, 8 /* STREAM_IN_USE */);
          return;
        }
        const stream = new SpdyStream(this, id, headers);
        this.streams.set(id, stream);
        this.emit('stream', stream);
        if ((flags & FLAG_FIN) !== 0) stream.onData(Buffer.alloc(0), true);
        return;
      }
      case FrameType.Headers:
      case FrameType.SynReply: {
        // Keep the inflater's state in step even though we have no use for these headers.
        if (payload.length >= 4) await this.inflate.run(payload.subarray(4));
        return;
      }
      case FrameType.RstStream: {
        const id = payload.readUInt32BE(0) & 0x7fffffff;
        this.streams.get(id)?.finish();
        return;
      }
      case FrameType.Ping:
        void this.enqueue(() => controlFrame(FrameType.Ping, 0, Buffer.from(payload)));
        return;
      case FrameType.GoAway:
        this.close();
        return;
      case FrameType.Settings:
      case FrameType.WindowUpdate:
      default:
        return;
    }
  }
}
