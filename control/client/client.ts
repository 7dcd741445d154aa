import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Connection, InProcessCall, InProcessReply } from './kubeconfig.js';
import { RateLimiter, type RateLimit } from './rate-limiter.js';
import type { QueueClock } from './workqueue.js';

/**
 * A small typed client for the Kubernetes API that agent/, proxy/ and the controllers share: CRUD, list and watch
 * on any resource, errors as ApiStatusError carrying the server's Status.
 */

export interface ResourceRef {
  group: string;
  version: string;
  /** Plural resource name ("pods"). */
  resource: string;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name?: string; namespace?: string; uid?: string; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown };
  [k: string]: unknown;
}

export interface ObjectList<T extends KubeObject = KubeObject> {
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

export interface StatusBody {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
  details?: unknown;
}

export class ApiStatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly status?: StatusBody,
  ) {
    super(message);
  }
}

/** Whether an error is the API server's answer with this HTTP status (404: apierrors.IsNotFound, 409: IsConflict/IsAlreadyExists). */
export const hasStatusCode = (err: unknown, code: number): boolean => err instanceof ApiStatusError && err.code === code;
export const isNotFound = (err: unknown): boolean => hasStatusCode(err, 404);

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export function resourcePath(ref: ResourceRef, namespace?: string, name?: string, subresource?: string): string {
  const base = ref.group ? `/apis/${ref.group}/${ref.version}` : `/api/${ref.version}`;
  const ns = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${ref.resource}${name ? `/${encodeURIComponent(name)}` : ''}${subresource ? `/${subresource}` : ''}`;
}

/**
 * Subresources whose responses the API server streams from a kubelet (logs, the node proxy) or that switch protocols:
 * an in-process client sends these over its HTTP connection (a path naming an object "log" goes there too, which is
 * only slower).
 */
const STREAMED_FROM_KUBELET = /\/(log|proxy|exec|attach|portforward)(\/|\?|$)/;

/** A line of a watch stream holding no event. */
const BLANK = /^\s*$/;

/** A response body from its chunks: Buffers as HTTP delivers them, or whole strings from an in-process exchange. */
function bodyText(chunks: Array<Buffer | string>): string {
  if (chunks.length === 1 && typeof chunks[0] === 'string') return chunks[0];
  if (chunks.every((c) => typeof c !== 'string')) return Buffer.concat(chunks as Buffer[]).toString('utf8');
  // Each chunk of an in-process exchange is whole (a string or a Buffer the server wrote at once): decoded each alone.
  return chunks.map((c) => (typeof c === 'string' ? c : c.toString('utf8'))).join('');
}

/** Requests a client keeps in flight at once, an open watch included: its HTTP agent's sockets. */
const MAX_IN_FLIGHT = 32;

/**
 * What the clients made from one connection share: the HTTP agent (its sockets) and the gate that holds in-process
 * exchanges to as many in flight as the agent allows sockets.
 */
class Transport {
  readonly agent: HttpAgent | HttpsAgent;
  readonly secure: boolean;
  readonly url: URL;
  /** In-process exchanges in flight, and those waiting for one of them to finish (see MAX_IN_FLIGHT). */
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly conn: Connection) {
    this.url = new URL(conn.server);
    this.secure = this.url.protocol === 'https:' && !conn.connect;
    if (conn.connect) {
      // An API server in this process: its connections are in-memory streams (see Connection.connect).
      const connect = conn.connect;
      const agent = new HttpAgent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT });
      agent.createConnection = () => connect();
      this.agent = agent;
      return;
    }
    this.agent = this.secure
      ? new HttpsAgent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT, ...(conn.ca ? { ca: conn.ca } : {}), ...(conn.cert ? { cert: conn.cert } : {}), ...(conn.key ? { key: conn.key } : {}), rejectUnauthorized: !conn.insecureSkipTLSVerify })
      : new HttpAgent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT });
  }

  /**
   * An in-process exchange, held to as many in flight as the HTTP agent allowed connections: the in-process
   * components' work queues up here as it did for a free socket, rather than all of it competing at once with the
   * API server's other clients.
   */
  async exchange(exchange: NonNullable<Connection['exchange']>, call: InProcessCall): Promise<InProcessReply> {
    if (this.inFlight < MAX_IN_FLIGHT) this.inFlight++;
    else await new Promise<void>((r) => this.waiting.push(r));
    let reply: InProcessReply;
    try {
      reply = await exchange(call);
    } catch (err) {
      this.release();
      throw err;
    }
    if (reply.closed) this.release();
    else reply.once('close', () => this.release());
    return reply;
  }

  /** An exchange finished: its place goes to the next one waiting, if any. */
  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.inFlight--;
  }
}

export interface KubeClientOptions {
  /** client-go's QPS and Burst: requests beyond them wait their turn (see RateLimiter); absent, none wait. */
  rateLimit?: RateLimit;
  /** The time the rate limit is kept by (default the real one). */
  clock?: QueueClock;
}

export class KubeClient {
  private readonly transport: Transport;
  private readonly limiter: RateLimiter | undefined;
  private readonly ownsTransport: boolean;
  /** The QPS and burst this client's requests are held to; undefined: none. */
  readonly rateLimit: RateLimit | undefined;

  constructor(
    readonly conn: Connection,
    readonly userAgent = 'skiff',
    options: KubeClientOptions = {},
    /** @internal the transport of the client this one is made from (see limited) */
    shared?: Transport,
  ) {
    this.transport = shared ?? new Transport(conn);
    this.ownsTransport = shared === undefined;
    this.rateLimit = options.rateLimit;
    this.limiter = options.rateLimit && options.rateLimit.qps >= 0 ? new RateLimiter(options.rateLimit, options.clock) : undefined;
  }

  /**
   * A client on the same connection and sockets with a rate limit of its own, as upstream's components build one
   * client per controller from one rest.Config: each holds to its own QPS and burst.
   */
  limited(rateLimit: RateLimit, userAgent = this.userAgent, clock?: QueueClock): KubeClient {
    return new KubeClient(this.conn, userAgent, { rateLimit, ...(clock ? { clock } : {}) }, this.transport);
  }

  private send(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<IncomingMessage | InProcessReply> {
    // Without a wait the request leaves now, in the caller's turn, as it did before there were rate limits.
    const turn = this.limiter?.wait();
    return turn ? turn.then(() => this.sendNow(method, path, body, contentType)) : this.sendNow(method, path, body, contentType);
  }

  private sendNow(method: string, path: string, body: unknown, contentType: string): Promise<IncomingMessage | InProcessReply> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number> = { Accept: 'application/json', 'User-Agent': this.userAgent };
    if (payload) {
      headers['Content-Type'] = contentType;
      headers['Content-Length'] = payload.length;
    }
    if (this.conn.token) headers.Authorization = `Bearer ${this.conn.token}`;
    // An API server in this process takes the request as objects (see Connection.exchange), but for what a kubelet streams.
    if (this.conn.exchange && !STREAMED_FROM_KUBELET.test(path)) return this.transport.exchange(this.conn.exchange, { method, path, headers, ...(payload ? { body: payload } : {}) });
    const { secure, url, agent } = this.transport;
    const request = secure ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request({ protocol: secure ? 'https:' : 'http:', hostname: url.hostname, port: url.port, method, path, headers, agent }, resolve);
      req.on('error', reject);
      req.end(payload);
    });
  }

  private async json<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    const res = await this.send(method, path, body, contentType);
    const chunks: Array<Buffer | string> = [];
    for await (const c of res) chunks.push(c as Buffer | string);
    const text = bodyText(chunks);
    let parsed: unknown;
    try {
      parsed = text ? (JSON.parse(text) as unknown) : {};
    } catch {
      parsed = { message: text };
    }
    const code = res.statusCode ?? 0;
    if (code >= 400) {
      const status = parsed as StatusBody;
      throw new ApiStatusError(code, status.reason ?? 'Unknown', status.message ?? `HTTP ${code}`, status);
    }
    return parsed as T;
  }

  private query(opts: Record<string, string | number | boolean | undefined>): string {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(opts)) if (v !== undefined && v !== '') q.set(k, String(v));
    const s = q.toString();
    return s ? `?${s}` : '';
  }

  get<T extends KubeObject = KubeObject>(ref: ResourceRef, namespace: string | undefined, name: string, subresource?: string): Promise<T> {
    return this.json<T>('GET', resourcePath(ref, namespace, name, subresource));
  }

  list<T extends KubeObject = KubeObject>(ref: ResourceRef, opts: ListOptions = {}): Promise<ObjectList<T>> {
    const { namespace, ...rest } = opts;
    return this.json<ObjectList<T>>('GET', `${resourcePath(ref, namespace)}${this.query(rest as Record<string, string | number | undefined>)}`);
  }

  create<T extends KubeObject = KubeObject>(ref: ResourceRef, namespace: string | undefined, obj: T, subresource?: string, name?: string): Promise<T> {
    return this.json<T>('POST', resourcePath(ref, namespace, name, subresource), obj);
  }

  update<T extends KubeObject = KubeObject>(ref: ResourceRef, obj: T, subresource?: string): Promise<T> {
    return this.json<T>('PUT', resourcePath(ref, obj.metadata.namespace, obj.metadata.name, subresource), obj);
  }

  patch<T extends KubeObject = KubeObject>(ref: ResourceRef, namespace: string | undefined, name: string, patch: unknown, type: 'merge' | 'json' | 'strategic' = 'merge', subresource?: string): Promise<T> {
    const contentType = type === 'merge' ? 'application/merge-patch+json' : type === 'json' ? 'application/json-patch+json' : 'application/strategic-merge-patch+json';
    return this.json<T>('PATCH', resourcePath(ref, namespace, name, subresource), patch, contentType);
  }

  delete(ref: ResourceRef, namespace: string | undefined, name: string, opts: { gracePeriodSeconds?: number; propagationPolicy?: string; preconditions?: { uid?: string; resourceVersion?: string } } = {}): Promise<KubeObject> {
    const body = Object.keys(opts).length ? { kind: 'DeleteOptions', apiVersion: 'v1', ...opts } : undefined;
    return this.json<KubeObject>('DELETE', resourcePath(ref, namespace, name), body);
  }

  /**
   * Opens a watch and calls `onEvent` per event until the server ends the stream or `stop()` is called; resolves
   * with a stopper once the stream is open.
   */
  async watch<T extends KubeObject = KubeObject>(ref: ResourceRef, opts: ListOptions & { allowWatchBookmarks?: boolean; timeoutSeconds?: number }, onEvent: (e: WatchEvent<T>) => void, onEnd: (err?: Error) => void): Promise<() => void> {
    const { namespace, ...rest } = opts;
    const res = await this.send('GET', `${resourcePath(ref, namespace)}${this.query({ ...rest, watch: 'true' } as Record<string, string | number | boolean | undefined>)}`);
    if ((res.statusCode ?? 0) >= 400) {
      const chunks: Array<Buffer | string> = [];
      for await (const c of res) chunks.push(c as Buffer | string);
      let status: StatusBody = {};
      try {
        status = JSON.parse(bodyText(chunks)) as StatusBody;
      } catch {
        // not a Status body
      }
      throw new ApiStatusError(res.statusCode ?? 0, status.reason ?? 'Unknown', status.message ?? `HTTP ${res.statusCode}`, status);
    }
    let buf = '';
    let ended = false;
    const end = (err?: Error): void => {
      if (ended) return;
      ended = true;
      onEnd(err);
    };
    /** One line of the stream (JSON.parse allows the whitespace around it); false once the watch ended on it. */
    const deliver = (line: string): boolean => {
      if (BLANK.test(line)) return true;
      try {
        onEvent(JSON.parse(line) as WatchEvent<T>);
        return true;
      } catch (err) {
        end(err instanceof Error ? err : new Error(String(err)));
        res.destroy();
        return false;
      }
    };
    res.on('data', (chunk: Buffer | string) => {
      // Chunks already on their way when the watch ended (stopped, or a bad line) deliver nothing.
      if (ended) return;
      const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      // An API server in this process hands over each event as one whole line: parsed as it came, not copied into
      // the buffer and out of it again.
      if (buf === '' && text.indexOf('\n') === text.length - 1) {
        deliver(text);
        return;
      }
      buf += text;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!deliver(line)) return;
      }
    });
    res.on('end', () => end());
    res.on('error', (err) => end(err));
    res.on('close', () => end());
    return () => {
      ended = true;
      res.destroy();
    };
  }

  /**
   * Fails the requests still waiting for their turn under the rate limit, and closes the connection's sockets: those
   * of the clients made from this one too (see limited). Closing one of those closes no sockets.
   */
  close(): void {
    this.limiter?.close();
    if (this.ownsTransport) this.transport.agent.destroy();
  }
}
