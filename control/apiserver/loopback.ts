import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Duplex } from 'node:stream';
import type { UserInfo } from './authn.js';
import { SYSTEM_MASTERS } from './authz/bootstrap-policy.js';

/**
 * The in-process transport of the API server's loopback clients (the scheduler, the controller manager and the
 * metrics scraper when they run in the API server's process): the server's own HTTP handling, over a pair of
 * in-memory streams instead of a TLS connection over TCP. The HTTP framing, the handler chain (authentication,
 * authorization, admission, request metrics) and the watch protocol are the same as for any client; only the
 * encryption and the kernel round trips are gone.
 */

/**
 * One end of an in-memory connection. It stands in for a net.Socket where Node's HTTP client and server use one
 * (keep-alive, timeouts, ref/unref); those knobs mean nothing here and are accepted as no-ops. Writes become the
 * peer's reads, with backpressure: a write whose data the peer has not read yet completes when the peer reads.
 * Closing behaves as TCP does: end() is a FIN (the peer reads to the end, then closes its side as well, since half
 * open connections are not allowed, as for net.Socket by default), and destroy() sends the FIN too if it was not
 * sent yet, so the peer sees the connection end rather than hang.
 */
export class LoopbackSocket extends Duplex {
  peer: LoopbackSocket | undefined;
  readonly remoteAddress = '127.0.0.1';
  readonly remoteFamily = 'IPv4';
  readonly remotePort = 0;
  readonly localAddress = '127.0.0.1';
  readonly localPort = 0;
  readonly encrypted = false;
  /** A write the peer has not taken yet (it asked for no more data): completed by the peer's next read. */
  private blocked: ((error?: Error | null) => void) | undefined;
  private finSent = false;

  constructor() {
    super({ allowHalfOpen: false });
  }

  override _read(): void {
    const peer = this.peer;
    const blocked = peer?.blocked;
    if (peer && blocked) {
      peer.blocked = undefined;
      blocked();
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.deliver(chunk, callback);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    // HTTP writes headers and body corked: hand them over as one chunk, as one TCP segment would carry them.
    this.deliver(chunks.length === 1 ? (chunks[0] as { chunk: Buffer }).chunk : Buffer.concat(chunks.map((c) => c.chunk)), callback);
  }

  private deliver(chunk: Buffer, callback: (error?: Error | null) => void): void {
    const peer = this.peer;
    if (!peer || peer.destroyed || peer.readableEnded) {
      callback(connectionError('EPIPE', 'the loopback connection was closed by its other end'));
      return;
    }
    if (peer.push(chunk)) callback();
    else this.blocked = callback;
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.sendFin();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.sendFin();
    this.blocked = undefined;
    // A write the peer made that this end will never read fails, as one to a reset TCP connection does.
    const peerBlocked = this.peer?.blocked;
    if (this.peer && peerBlocked) {
      this.peer.blocked = undefined;
      peerBlocked(connectionError('EPIPE', 'the loopback connection was closed by its other end'));
    }
    callback(error);
  }

  private sendFin(): void {
    if (this.finSent) return;
    this.finSent = true;
    const peer = this.peer;
    if (peer && !peer.destroyed && !peer.readableEnded) peer.push(null);
  }

  setKeepAlive(): this {
    return this;
  }

  setNoDelay(): this {
    return this;
  }

  /** No idle timeouts: an in-process connection costs nothing while idle, and the client closes its own. */
  setTimeout(_ms: number, callback?: () => void): this {
    if (callback) this.once('timeout', callback);
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  address(): { address: string; family: string; port: number } {
    return { address: this.localAddress, family: 'IPv4', port: 0 };
  }
}

function connectionError(code: string, message: string): NodeJS.ErrnoException {
  const err = new Error(message) as NodeJS.ErrnoException;
  err.code = code;
  return err;
}

/** Two connected ends: what one writes, the other reads. */
export function loopbackPair(): [LoopbackSocket, LoopbackSocket] {
  const a = new LoopbackSocket();
  const b = new LoopbackSocket();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/** A connection attempt after the server stopped: refused, as a closed port refuses a TCP connection. */
export function refusedConnection(): LoopbackSocket {
  const socket = new LoopbackSocket();
  process.nextTick(() => socket.destroy(connectionError('ECONNREFUSED', 'the API server stopped: its loopback transport is closed')));
  return socket;
}

/** Upstream's user.APIServerUser. */
export const LOOPBACK_USER_NAME = 'system:apiserver';

/**
 * The loopback identity, as upstream's AuthorizeClientBearerToken sets it up: a bearer token made at startup that
 * authenticates as system:apiserver (a fresh UID per process) in system:masters. Upstream's token travels over the
 * network to the loopback interface; here the token is also only accepted on an in-memory connection, so neither a
 * leaked token nor any remote client can take the identity: only code in this process can open such a connection.
 */
export class LoopbackIdentity {
  readonly token = randomBytes(32).toString('base64url');
  readonly user: UserInfo = { name: LOOPBACK_USER_NAME, uid: randomUUID(), groups: ['system:authenticated', SYSTEM_MASTERS] };
  private readonly expected = Buffer.from(`Bearer ${this.token}`);

  /** The loopback user when the request came over an in-memory connection with the token; otherwise undefined. */
  authenticate(req: IncomingMessage): UserInfo | undefined {
    if (!(req.socket instanceof LoopbackSocket)) return undefined;
    const presented = Buffer.from(req.headers.authorization ?? '');
    return presented.length === this.expected.length && timingSafeEqual(presented, this.expected) ? this.user : undefined;
  }
}
