import { EventEmitter } from 'node:events';
import type { OutgoingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { InProcessCall, InProcessReply } from '../client/kubeconfig.js';
import type { LoopbackSocket } from './loopback.js';

/**
 * The API server's in-process exchange: a loopback client's request handed to the server's request handler as
 * objects rather than HTTP bytes. The handler, and everything behind it (authentication, authorization, admission,
 * request metrics, watches), is the one every request goes through; it is given stand-ins for Node's IncomingMessage
 * and ServerResponse that hold the members it uses. What is saved is the HTTP framing on both ends (request and
 * status lines, headers, chunked encoding, two HTTP parsers, the client's agent), which cost as much CPU as the work
 * of a small request; and each body chunk, once written by the server as a string, reaches the client as that
 * string, not encoded to UTF-8 and decoded back.
 *
 * The request arrives on the server's in-memory socket (a LoopbackSocket that is never connected): the loopback
 * identity's check, that a request came over a connection only code in this process can open, holds as it is.
 */

/** A request as the server's handler reads it: method, URL, headers (lower-case names), body, socket. */
export class InProcessRequest extends Readable {
  readonly method: string;
  readonly url: string;
  readonly httpVersion = '1.1';
  readonly headers: Record<string, string>;
  readonly headersDistinct: Record<string, string[]>;

  constructor(
    call: InProcessCall,
    readonly socket: LoopbackSocket,
  ) {
    super();
    this.method = call.method;
    this.url = call.path;
    const headers: Record<string, string> = { host: 'apiserver.loopback' };
    const distinct: Record<string, string[]> = { host: ['apiserver.loopback'] };
    for (const name of Object.keys(call.headers)) {
      const value = String(call.headers[name]);
      const lower = name.toLowerCase();
      headers[lower] = value;
      distinct[lower] = [value];
    }
    this.headers = headers;
    this.headersDistinct = distinct;
    if (call.body && call.body.length > 0) this.push(call.body);
    this.push(null);
  }

  override _read(): void {
    // Everything was pushed at construction.
  }
}

/** The client's end of a response: a stream of the chunks the server wrote; destroying it is the client going away. */
class Reply extends Readable implements InProcessReply {
  statusCode = 0;
  headers: Record<string, string | string[] | number> = {};
  onDestroy: (() => void) | undefined;

  constructor() {
    super({ objectMode: true });
  }

  override _read(): void {
    // The server writes when it has something; it is never asked to.
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const onDestroy = this.onDestroy;
    this.onDestroy = undefined;
    onDestroy?.();
    callback(error);
  }
}

function connectionError(code: string, message: string): NodeJS.ErrnoException {
  const err = new Error(message) as NodeJS.ErrnoException;
  err.code = code;
  return err;
}

/**
 * A response as the server's handler writes it: ServerResponse's status, header, write/end and destroy members. The
 * status and headers go to the client with the first write (or flushHeaders), each chunk as it is written. It emits
 * 'close' once, after the end or when either side gave up, as a ServerResponse does.
 */
export class InProcessResponse extends EventEmitter {
  statusCode = 200;
  headersSent = false;
  writableEnded = false;
  writableFinished = false;
  destroyed = false;
  private readonly pending: Record<string, string | string[] | number> = {};
  private readonly reply = new Reply();
  private closed = false;

  constructor(
    private readonly req: InProcessRequest,
    private readonly delivered: (reply: InProcessReply) => void,
    private readonly failed: (err: Error) => void,
  ) {
    super();
    this.reply.onDestroy = () => {
      // The client went away (a watch it stopped): the server's writes go nowhere from now on.
      if (this.writableEnded && this.headersSent) return;
      this.destroyed = true;
      this.finish();
    };
  }

  setHeader(name: string, value: string | string[] | number): this {
    this.pending[name.toLowerCase()] = value;
    return this;
  }

  getHeader(name: string): string | string[] | number | undefined {
    return this.pending[name.toLowerCase()];
  }

  hasHeader(name: string): boolean {
    return name.toLowerCase() in this.pending;
  }

  removeHeader(name: string): void {
    delete this.pending[name.toLowerCase()];
  }

  writeHead(code: number, reasonOrHeaders?: string | OutgoingHttpHeaders, maybeHeaders?: OutgoingHttpHeaders): this {
    if (this.headersSent) throw Object.assign(new Error('Cannot write headers after they are sent to the client'), { code: 'ERR_HTTP_HEADERS_SENT' });
    const headers = typeof reasonOrHeaders === 'string' ? maybeHeaders : reasonOrHeaders;
    this.statusCode = code;
    if (headers) for (const name of Object.keys(headers)) {
      const value = headers[name];
      if (value !== undefined) this.pending[name.toLowerCase()] = value;
    }
    this.sendHead();
    return this;
  }

  flushHeaders(): void {
    if (!this.headersSent) this.sendHead();
  }

  write(chunk: string | Buffer | Uint8Array, encodingOrCallback?: BufferEncoding | (() => void), callback?: () => void): boolean {
    if (this.writableEnded || this.destroyed) return false;
    if (!this.headersSent) this.sendHead();
    if (chunk.length > 0) this.reply.push(typeof chunk === 'string' || Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    const cb = typeof encodingOrCallback === 'function' ? encodingOrCallback : callback;
    if (cb) process.nextTick(cb);
    return true;
  }

  end(chunk?: string | Buffer | Uint8Array | (() => void), encodingOrCallback?: BufferEncoding | (() => void), callback?: () => void): this {
    if (this.writableEnded) return this;
    if (chunk !== undefined && typeof chunk !== 'function') this.write(chunk);
    else if (!this.headersSent && !this.destroyed) this.sendHead();
    this.writableEnded = true;
    if (this.destroyed) return this;
    this.reply.push(null);
    this.writableFinished = true;
    const cb = typeof chunk === 'function' ? chunk : typeof encodingOrCallback === 'function' ? encodingOrCallback : callback;
    process.nextTick(() => {
      this.emit('finish');
      cb?.();
    });
    this.finish();
    return this;
  }

  /**
   * The connection dropped (a failure after the headers went out, or the server closing): the client sees it cut, as
   * a socket's peer would, whatever error the server had (it stays on the server's side).
   */
  destroy(_error?: Error): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    const cut = connectionError('ECONNRESET', 'socket hang up');
    if (!this.headersSent) this.failed(cut);
    else if (!this.writableEnded) this.reply.destroy(cut);
    this.reply.onDestroy = undefined;
    this.finish();
    return this;
  }

  private sendHead(): void {
    this.headersSent = true;
    this.reply.statusCode = this.statusCode;
    this.reply.headers = this.pending;
    this.delivered(this.reply);
  }

  /** 'close' for the response, then for the request, on the next tick, once. */
  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    process.nextTick(() => {
      this.emit('close');
      this.req.destroy();
    });
  }
}

/** One in-process exchange's request and response; `delivered` gets the reply once its status is known. */
export function inProcessExchange(call: InProcessCall, socket: LoopbackSocket, delivered: (reply: InProcessReply) => void, failed: (err: Error) => void): { req: InProcessRequest; res: InProcessResponse } {
  const req = new InProcessRequest(call, socket);
  return { req, res: new InProcessResponse(req, delivered, failed) };
}

export { connectionError as inProcessConnectionError };
