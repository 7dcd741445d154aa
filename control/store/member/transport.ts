/**
 * Member-to-member transport.
 *
 * Raft messages: each flush sends ONE HTTP POST per peer (`POST /raft/messages`) carrying every message queued for
 * it as a JSON array (Uint8Arrays as {"$b64": ...}); while a POST is in flight, new messages queue and go in the next
 * one. MsgSnap travels the same way. A peer that cannot be reached just loses the batch (Raft retries): the node is
 * told through reportUnreachable, and reportSnapshot(failure) for a lost MsgSnap (reportSnapshot(finish) once a
 * MsgSnap was delivered). Queues are capped; the oldest messages are dropped first.
 *
 * Forwarded requests: `POST /raft/rpc/<method>` with a JSON body, answered with {"result": ...} or {"error": {code,
 * message, ...}}; RaftStore uses it to send lease keep-alives and time-to-live queries to the leader.
 *
 * Every request carries the cluster id (X-Skiff-Cluster) and the sender's member id and client URLs; requests from
 * another cluster are refused with 409. Connections are kept alive (node:http Agent). TLS: pass `tls` (cert, key, ca)
 * and https URLs; the same options serve and dial, with client certificates required (peer mTLS, as etcd's
 * --peer-client-cert-auth). Plain HTTP is what the tests exercise.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../../lib/log.js';
import { silentLogger } from '../../../lib/log.js';
import { ErrInvalidRequest, ErrLeaseExists, ErrLeaseNotFound, ErrStoreClosed, StoreError } from '../errors.js';
import type { Message, NodeId } from '../raft/messages.js';
import { decodeJson, decodeMessages, encodeJson, encodeMessages } from './codec.js';
import { ErrNoLeader, ErrNotLeader, ErrStopped, ErrTimeout } from './errors.js';

/** What a transport delivers to its member. */
export interface TransportHandler {
  /** Messages from peers (the member checks they are addressed to it). */
  receive(messages: Message[]): void;
  /** A request a peer forwarded to this member. */
  rpc(method: string, params: unknown): Promise<unknown>;
  reportUnreachable(id: NodeId): void;
  reportSnapshot(id: NodeId, status: 'finish' | 'failure'): void;
}

export interface Transport {
  start(handler: TransportHandler): Promise<void>;
  /** Queues messages for their `to` peers; never throws, never waits. */
  send(messages: readonly Message[]): void;
  /** Calls `method` on peer `to`; rejects with the remote StoreError, or ErrTimeout / ErrNotLeader on failure. */
  call(to: NodeId, method: string, params: unknown, timeoutMs: number): Promise<unknown>;
  /** Client URLs peers advertised (learned from their requests). */
  peerClientUrls?(id: NodeId): readonly string[] | undefined;
  /** Membership changed at run time: send to `id` at `url` from now on (member/membership.ts). */
  setPeer?(id: NodeId, url: string): void;
  removePeer?(id: NodeId): void;
  close(): Promise<void>;
}

// --- Errors on the wire ------------------------------------------------------------------------------------------

export interface WireError {
  code: string;
  message: string;
  leaseId?: number;
}

export function errorToWire(error: unknown): WireError {
  if (error instanceof StoreError) {
    const leaseId = (error as { leaseId?: unknown }).leaseId;
    return { code: error.code, message: error.message, ...(typeof leaseId === 'number' ? { leaseId } : {}) };
  }
  return { code: 'unknown', message: error instanceof Error ? error.message : String(error) };
}

class RemoteStoreError extends StoreError {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function errorFromWire(w: WireError): Error {
  switch (w.code) {
    case 'lease-not-found':
      return new ErrLeaseNotFound(w.leaseId ?? 0);
    case 'lease-exists':
      return new ErrLeaseExists(w.leaseId ?? 0);
    case 'no-leader':
      return new ErrNoLeader(`remote: ${w.message}`);
    case 'not-leader':
      return new ErrNotLeader(`remote: ${w.message}`);
    case 'timeout':
      return new ErrTimeout(`remote: ${w.message}`);
    case 'stopped':
      return new ErrStopped(`remote: ${w.message}`);
    case 'closed':
      return new ErrStoreClosed();
    case 'invalid-request':
      return new ErrInvalidRequest(w.message);
    case 'unknown':
      return new Error(w.message);
    default:
      return new RemoteStoreError(w.code, w.message);
  }
}

// --- HTTP ----------------------------------------------------------------------------------------------------

export interface TlsOptions {
  /** Serving certificate and key (PEM). */
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /** CA that signed the peers' certificates; when set, peers must present a client certificate it signed. */
  readonly ca?: string | Buffer;
  /** Certificate presented when dialing peers, if not `cert` (which then needs the clientAuth usage). */
  readonly clientCert?: string | Buffer;
  readonly clientKey?: string | Buffer;
}

export interface HttpTransportOptions {
  readonly id: NodeId;
  /** Peers' URLs (e.g. http://10.0.0.2:2380), this member excluded or not. */
  readonly peers: ReadonlyMap<NodeId, string>;
  /** Where to listen (a peer URL: scheme, host and port; port 0 picks one, see `port`). */
  readonly listen: string;
  readonly clusterId: string;
  /** This member's client URLs, told to peers (member lists). */
  readonly clientUrls?: readonly string[];
  readonly tls?: TlsOptions;
  readonly logger?: Logger;
  /** Per peer. Default 4096 messages. */
  readonly maxQueue?: number;
  /** Timeout of one message POST. Default 10 s (snapshots can be big). */
  readonly postTimeoutMs?: number;
  /** Largest request body accepted. Default 512 MiB. */
  readonly maxBodyBytes?: number;
  /** Answers GET /members (cluster id and member list, for members joining at run time); 404 without it. */
  readonly membersInfo?: () => unknown;
}

interface PeerState {
  readonly id: NodeId;
  url: URL;
  queue: Message[];
  inflight: boolean;
  /** Last failure (for log rate limiting) and whether the peer was reported active. */
  failing: boolean;
}

const H_CLUSTER = 'x-skiff-cluster';
const H_FROM = 'x-skiff-from';
const H_CLIENT_URLS = 'x-skiff-client-urls';

export class HttpTransport implements Transport {
  private handler: TransportHandler | undefined;
  private server: http.Server | undefined;
  private readonly agent: http.Agent;
  private readonly peers = new Map<NodeId, PeerState>();
  private readonly clientUrls = new Map<NodeId, string[]>();
  private readonly log: Logger;
  private closed = false;
  port = 0;

  constructor(private readonly options: HttpTransportOptions) {
    this.log = options.logger ?? silentLogger();
    const agentOptions = { keepAlive: true, maxSockets: 4, keepAliveMsecs: 1000 };
    this.agent = options.tls
      ? new https.Agent({
          ...agentOptions,
          cert: options.tls.clientCert ?? options.tls.cert,
          key: options.tls.clientKey ?? options.tls.key,
          ...(options.tls.ca ? { ca: options.tls.ca } : {}),
        })
      : new http.Agent(agentOptions);
    for (const [id, url] of options.peers) {
      if (id === options.id) continue;
      this.peers.set(id, { id, url: new URL(url), queue: [], inflight: false, failing: false });
    }
  }

  async start(handler: TransportHandler): Promise<void> {
    this.handler = handler;
    const listen = new URL(this.options.listen);
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => this.serve(req, res);
    const tls = this.options.tls;
    const server = tls
      ? https.createServer({ cert: tls.cert, key: tls.key, ...(tls.ca ? { ca: tls.ca, requestCert: true } : {}) }, onRequest)
      : http.createServer(onRequest);
    server.keepAliveTimeout = 30_000;
    this.server = server;
    const host = listen.hostname.replace(/^\[(.*)\]$/, '$1');
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(Number(listen.port || (tls ? 443 : 80)), host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as AddressInfo).port;
    this.log.info({ listen: this.options.listen, port: this.port }, 'peer transport: listening');
  }

  peerClientUrls(id: NodeId): readonly string[] | undefined {
    return this.clientUrls.get(id);
  }

  setPeer(id: NodeId, url: string): void {
    if (id === this.options.id) return;
    const peer = this.peers.get(id);
    if (peer !== undefined) peer.url = new URL(url);
    else this.peers.set(id, { id, url: new URL(url), queue: [], inflight: false, failing: false });
  }

  removePeer(id: NodeId): void {
    this.peers.delete(id);
    this.clientUrls.delete(id);
  }

  send(messages: readonly Message[]): void {
    if (this.closed) return;
    const touched = new Set<PeerState>();
    for (const m of messages) {
      const peer = this.peers.get(m.to);
      if (peer === undefined) continue;
      peer.queue.push(m);
      const max = this.options.maxQueue ?? 4096;
      if (peer.queue.length > max) {
        const dropped = peer.queue.splice(0, peer.queue.length - max);
        for (const d of dropped) if (d.type === 'MsgSnap') this.handler?.reportSnapshot(peer.id, 'failure');
      }
      touched.add(peer);
    }
    for (const peer of touched) this.flush(peer);
  }

  private flush(peer: PeerState): void {
    if (peer.inflight || peer.queue.length === 0 || this.closed) return;
    const batch = peer.queue;
    peer.queue = [];
    peer.inflight = true;
    const body = encodeMessages(batch);
    this.post(peer.url, '/raft/messages', body, this.options.postTimeoutMs ?? 10_000).then(
      () => {
        peer.inflight = false;
        if (peer.failing) this.log.info({ peer: peer.id }, 'peer transport: peer reachable again');
        peer.failing = false;
        for (const m of batch) if (m.type === 'MsgSnap') this.handler?.reportSnapshot(peer.id, 'finish');
        this.flush(peer);
      },
      (err: unknown) => {
        peer.inflight = false;
        if (this.closed) return;
        if (!peer.failing) this.log.warn({ peer: peer.id, url: peer.url.href, err: String(err) }, 'peer transport: peer unreachable; dropping messages');
        peer.failing = true;
        this.handler?.reportUnreachable(peer.id);
        for (const m of batch) if (m.type === 'MsgSnap') this.handler?.reportSnapshot(peer.id, 'failure');
        // Do not spin on a dead peer: messages queued meanwhile go after a short pause.
        setTimeout(() => this.flush(peer), 50).unref();
      },
    );
  }

  async call(to: NodeId, method: string, params: unknown, timeoutMs: number): Promise<unknown> {
    const peer = this.peers.get(to);
    if (peer === undefined) throw new ErrNotLeader(`unknown member ${to}`);
    let text: string;
    try {
      text = await this.post(peer.url, `/raft/rpc/${encodeURIComponent(method)}`, encodeJson(params ?? {}), timeoutMs);
    } catch (err) {
      throw new ErrNotLeader(`member ${to} unreachable: ${err instanceof Error ? err.message : String(err)}`);
    }
    const answer = decodeJson(text) as { result?: unknown; error?: WireError };
    if (answer.error !== undefined) throw errorFromWire(answer.error);
    return answer.result;
  }

  private post(url: URL, path: string, body: string, timeoutMs: number): Promise<string> {
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise<string>((resolve, reject) => {
      const req = mod.request(
        {
          protocol: url.protocol,
          hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
          port: url.port,
          path,
          method: 'POST',
          agent: this.agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            [H_CLUSTER]: this.options.clusterId,
            [H_FROM]: String(this.options.id),
            [H_CLIENT_URLS]: (this.options.clientUrls ?? []).join(','),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300) resolve(text);
            else reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`));
          });
          res.on('error', reject);
        },
      );
      req.setNoDelay(true);
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  private serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    const reply = (status: number, text = ''): void => {
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    const url = req.url ?? '/';
    if (req.method === 'GET' && url === '/health') return reply(200, JSON.stringify({ id: this.options.id }));
    if (req.method === 'GET' && url === '/members' && this.options.membersInfo) return reply(200, JSON.stringify(this.options.membersInfo()));
    if (req.method !== 'POST' || !url.startsWith('/raft/')) return reply(404, '{"error":"not found"}');
    if (req.headers[H_CLUSTER] !== this.options.clusterId) {
      return reply(409, JSON.stringify({ error: `cluster id mismatch: this member is in cluster ${this.options.clusterId}` }));
    }
    const from = Number(req.headers[H_FROM]);
    const urls = req.headers[H_CLIENT_URLS];
    if (Number.isSafeInteger(from) && typeof urls === 'string' && urls !== '') this.clientUrls.set(from, urls.split(','));
    const chunks: Buffer[] = [];
    let size = 0;
    const max = this.options.maxBodyBytes ?? 512 * 1024 * 1024;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        reply(413, '{"error":"body too large"}');
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (res.headersSent) return;
      const text = Buffer.concat(chunks).toString('utf8');
      const handler = this.handler;
      if (handler === undefined || this.closed) return reply(503, '{"error":"stopped"}');
      if (url === '/raft/messages') {
        let messages: Message[];
        try {
          messages = decodeMessages(text);
        } catch (err) {
          return reply(400, JSON.stringify({ error: String(err) }));
        }
        reply(204);
        handler.receive(messages);
        return;
      }
      if (url.startsWith('/raft/rpc/')) {
        const method = decodeURIComponent(url.slice('/raft/rpc/'.length));
        let params: unknown;
        try {
          params = decodeJson(text);
        } catch (err) {
          return reply(400, JSON.stringify({ error: errorToWire(err) }));
        }
        handler.rpc(method, params).then(
          (result) => reply(200, encodeJson({ result })),
          (err: unknown) => reply(200, encodeJson({ error: errorToWire(err) })),
        );
        return;
      }
      reply(404, '{"error":"not found"}');
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.agent.destroy();
    const server = this.server;
    if (server === undefined) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}

// --- In memory -----------------------------------------------------------------------------------------------

/**
 * An in-process network for tests: members' transports deliver to each other asynchronously (every batch goes
 * through the JSON codec, as over HTTP). Members can be cut off and reconnected.
 */
export class MemoryNetwork {
  private readonly handlers = new Map<NodeId, TransportHandler>();
  private readonly down = new Set<NodeId>();
  /** Messages and calls delivered, for tests. */
  delivered = 0;

  transport(id: NodeId): Transport {
    const net = this;
    let closed = false;
    let mine: TransportHandler | undefined;
    return {
      async start(handler) {
        mine = handler;
        net.handlers.set(id, handler);
      },
      send(messages) {
        if (closed) return;
        const byPeer = new Map<NodeId, Message[]>();
        for (const m of messages) {
          const list = byPeer.get(m.to) ?? [];
          list.push(m);
          byPeer.set(m.to, list);
        }
        for (const [to, batch] of byPeer) {
          const wire = encodeMessages(batch);
          setImmediate(() => {
            const self = mine;
            const target = net.handlers.get(to);
            if (closed) return;
            if (target === undefined || net.down.has(to) || net.down.has(id)) {
              self?.reportUnreachable(to);
              for (const m of batch) if (m.type === 'MsgSnap') self?.reportSnapshot(to, 'failure');
              return;
            }
            net.delivered += batch.length;
            target.receive(decodeMessages(wire));
            for (const m of batch) if (m.type === 'MsgSnap') self?.reportSnapshot(to, 'finish');
          });
        }
      },
      async call(to, method, params) {
        const target = net.handlers.get(to);
        if (target === undefined || net.down.has(to) || net.down.has(id)) throw new ErrNotLeader(`member ${to} unreachable`);
        await new Promise((resolve) => setImmediate(resolve));
        try {
          return decodeJson(encodeJson(await target.rpc(method, decodeJson(encodeJson(params ?? {})))));
        } catch (err) {
          throw errorFromWire(errorToWire(err));
        }
      },
      async close() {
        closed = true;
        if (mine !== undefined && net.handlers.get(id) === mine) net.handlers.delete(id);
      },
    };
  }

  /** Cuts a member off: nothing reaches it or leaves it until reconnect(). */
  disconnect(id: NodeId): void {
    this.down.add(id);
  }

  reconnect(id: NodeId): void {
    this.down.delete(id);
  }
}
