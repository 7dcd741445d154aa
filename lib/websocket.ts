import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * The server side of RFC 6455 WebSocket, as much as the Kubernetes streaming protocols need: the handshake with
 * subprotocol negotiation, binary and text messages (fragmented or not), ping/pong and close. Events: 'message'
 * (Buffer), 'close'.
 */

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** A message larger than this is a protocol error: nothing in the Kubernetes protocols sends more in one message. */
const MAX_MESSAGE = 16 * 1024 * 1024;

export function isWebSocketRequest(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
}

/** The subprotocols the client offers, in its order of preference. */
export function offeredProtocols(req: IncomingMessage): string[] {
  return (req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}

export class WebSocketConnection extends EventEmitter {
  private buffer: Buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private closed = false;

  private constructor(
    private readonly socket: Duplex,
    readonly protocol: string,
  ) {
    super();
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('close', () => this.finish());
    socket.on('error', () => this.finish());
    socket.on('end', () => this.finish());
  }

  /** Completes the handshake (101) with the first offered protocol we support; undefined after answering 400. */
  static accept(req: IncomingMessage, socket: Duplex, head: Buffer, supported: string[]): WebSocketConnection | undefined {
    const key = req.headers['sec-websocket-key'];
    const offered = offeredProtocols(req);
    const protocol = offered.find((p) => supported.includes(p)) ?? (offered.length === 0 ? '' : undefined);
    if (typeof key !== 'string' || protocol === undefined) {
      const body = protocol === undefined ? `requested protocol(s) are not supported: [${offered.join(' ')}]; supports [${supported.join(' ')}]` : 'missing Sec-WebSocket-Key';
      socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      return undefined;
    }
    const accept = createHash('sha1').update(key + GUID).digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : ''}\r\n`,
    );
    const conn = new WebSocketConnection(socket, protocol);
    if (head.length > 0) queueMicrotask(() => conn.onData(head));
    return conn;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  send(data: Buffer, opcode = 0x2): boolean {
    if (this.closed) return false;
    const len = data.length;
    let header: Buffer;
    if (len < 126) header = Buffer.from([0x80 | opcode, len]);
    else if (len < 65536) {
      header = Buffer.alloc(4);
      header[0] = 0x80 | opcode;
      header[1] = 126;
      header.writeUInt16BE(len, 2);
    } else {
      header = Buffer.alloc(10);
      header[0] = 0x80 | opcode;
      header[1] = 127;
      header.writeBigUInt64BE(BigInt(len), 2);
    }
    return this.socket.write(Buffer.concat([header, data]));
  }

  /** Sends a close frame with a status code and closes the connection. */
  close(code = 1000, reason = ''): void {
    if (this.closed) return;
    const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
    payload.writeUInt16BE(code, 0);
    payload.write(reason, 2);
    this.send(payload, 0x8);
    this.closed = true;
    this.socket.end();
    this.emit('close');
  }

  /** True while the socket holds more unsent data than it wants. */
  get congested(): boolean {
    return !this.closed && this.socket.writableNeedDrain;
  }

  /** Waits until written data has drained (back-pressure for whoever feeds us). */
  drained(): Promise<void> {
    if (!this.socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.once('drain', done);
      this.socket.once('close', done);
    });
  }

  destroy(): void {
    this.socket.destroy();
    this.finish();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const b = this.buffer;
      if (b.length < 2) return;
      const fin = ((b[0] as number) & 0x80) !== 0;
      const opcode = (b[0] as number) & 0x0f;
      const masked = ((b[1] as number) & 0x80) !== 0;
      let len = (b[1] as number) & 0x7f;
      let offset = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        offset = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        const big = b.readBigUInt64BE(2);
        if (big > BigInt(MAX_MESSAGE)) return this.protocolError('message too large');
        len = Number(big);
        offset = 10;
      }
      if (len > MAX_MESSAGE) return this.protocolError('message too large');
      const maskAt = offset;
      if (masked) offset += 4;
      if (b.length < offset + len) return;
      const payload = Buffer.from(b.subarray(offset, offset + len));
      if (masked) for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (b[maskAt + (i % 4)] as number);
      this.buffer = b.subarray(offset + len);
      if (opcode === 0x8) {
        // Echo the close, as RFC 6455 asks, then go away.
        if (!this.closed) {
          this.send(payload.subarray(0, 2), 0x8);
          this.closed = true;
          this.socket.end();
          this.emit('close');
        }
        return;
      }
      if (opcode === 0x9) {
        this.send(payload, 0xa);
        continue;
      }
      if (opcode === 0xa) continue;
      if (opcode === 0x0 || opcode === 0x1 || opcode === 0x2) {
        this.fragments.push(payload);
        if (this.fragments.reduce((n, f) => n + f.length, 0) > MAX_MESSAGE) return this.protocolError('message too large');
        if (fin) {
          const message = this.fragments.length === 1 ? (this.fragments[0] as Buffer) : Buffer.concat(this.fragments);
          this.fragments = [];
          this.emit('message', message);
        }
        continue;
      }
      return this.protocolError(`unknown opcode ${opcode}`);
    }
  }

  private protocolError(reason: string): void {
    this.close(1002, reason);
    this.socket.destroy();
  }
}
