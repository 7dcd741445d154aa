/**
 * Member-to-member transport.
 *
 * Raft messages travel on one long-lived stream per peer and direction (as etcd's stream): the sender dials
 * `GET /raft/stream` with `Upgrade: skiff-raft/1`, the receiver answers 101 and from then on the connection carries
 * length-prefixed binary frames (wire.ts), one per send() call per peer, written as soon as they are queued: no
 * request/response round trip, no waiting for the previous batch. Messages queued while the stream is being dialed
 * go in its first frame. A stream that breaks or cannot be dialed loses what was queued or in flight (Raft
 * retries): the node is told through reportUnreachable, and the next send dials again (after a short pause when
 * dialing failed). MsgSnap goes in its own `POST /raft/messages` (binary body), so a large snapshot never holds up
 * heartbeats; reportSnapshot(finish) once the POST succeeded, reportSnapshot(failure) when it failed. A peer that
 * answers the upgrade with 404 (an older member) gets every message by POST with a JSON body, as it expects.
 * Queues are capped; the oldest messages are dropped first.
 *
 * Forwarded requests: `POST /raft/rpc/<method>` with a JSON body, answered with {"result": ...} or {"error": {code,
 * message, ...}}; RaftStore uses it to send lease keep-alives and time-to-live queries to the leader.
 *
 * Every request and stream carries the cluster id (X-Skiff-Cluster) and the sender's member id and client URLs;
 * requests from another cluster are refused with 409. POSTs use kept-alive connections (node:http Agent). TLS: pass
 * `tls` (cert, key, ca) and https URLs; the same options serve and dial, with client certificates required (peer
 * mTLS, as etcd's --peer-client-cert-auth). Plain HTTP is what the tests exercise.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../../lib/log.js';
import { silentLogger } from '../../../lib/log.js';
import { ErrInvalidRequest, ErrLeaseExists, ErrLeaseNotFound, ErrStoreClosed, StoreError } from '../errors.js';
import type { Message, NodeId } from '../raft/messages.js';
import { decodeJson, decodeMessages, encodeJson, encodeMessages } from './codec.js';
import { FrameReader, decodeMessageBatch, encodeFrame, encodeMessageBatch } from './wire.js';
import { ErrNoLeader, ErrNotLeader, ErrStopped, ErrTimeout } from './errors.js';
import { nextTurn } from '../../../lib/event-loop.js';

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

function newPeer(id: NodeId, url: string): PeerState {
  return { id, url: new URL(url), queue: [], snaps: [], inflight: false, stream: undefined, dialing: false, retryAt: 0, redial: undefined, noStream: false, failing: false };
}

interface PeerState {
  readonly id: NodeId;
  url: URL;
  /** Messages waiting for the stream being dialed (or, for a peer without streams, for the next POST). */
  queue: Message[];
  /** MsgSnap waiting for a POST. */
  snaps: Message[];
  /** A POST of `snaps` (or of `queue`, for a peer without streams) is in flight. */
  inflight: boolean;
  /** The open outgoing stream. */
  stream: Duplex | undefined;
  dialing: boolean;
  /** After a failed dial: no new dial before this time (ms); `redial` fires then if messages wait. */
  retryAt: number;
  redial: NodeJS.Timeout | undefined;
  /** The peer answered the stream upgrade with 404 (an older member): POST with JSON bodies only. */
  noStream: boolean;
  /** Last failure (for log rate limiting) and whether the peer was reported active. */
  failing: boolean;
}

const H_CLUSTER = 'x-skiff-cluster';
const H_FROM = 'x-skiff-from';
const H_CLIENT_URLS = 'x-skiff-client-urls';
const STREAM_PROTOCOL = 'skiff-raft/1';
const STREAM_PATH = '/raft/stream';
const BINARY_TYPE = 'application/x-skiff-raft';
/** Pause after a failed dial before the next one (Raft's heartbeats keep asking). */
const REDIAL_MS = 50;
/** Bytes a stream may hold unsent before we stop writing to it and let Raft retry (a stalled peer). */
const MAX_STREAM_BACKLOG = 64 * 1024 * 1024;

export class HttpTransport implements Transport {
  private handler: TransportHandler | undefined;
  private server: http.Server | undefined;
  private readonly agent: http.Agent;
  private readonly peers = new Map<NodeId, PeerState>();
  private readonly clientUrls = new Map<NodeId, string[]>();
  /** Streams peers dialed to us: an upgraded socket is no longer the HTTP server's to close. */
  private readonly inbound = new Set<Duplex>();
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
      if (id !== options.id) this.peers.set(id, newPeer(id, url));
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
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => this.acceptStream(req, socket, head));
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
    if (peer !== undefined) {
      peer.url = new URL(url);
      // A moved peer is dialed afresh at its new address.
      peer.stream?.destroy();
      peer.stream = undefined;
    } else this.peers.set(id, newPeer(id, url));
  }

  removePeer(id: NodeId): void {
    const peer = this.peers.get(id);
    if (peer) {
      peer.stream?.destroy();
      peer.stream = undefined;
      if (peer.redial !== undefined) clearTimeout(peer.redial);
    }
    this.peers.delete(id);
    this.clientUrls.delete(id);
  }

  send(messages: readonly Message[]): void {
    if (this.closed) return;
    const byPeer = new Map<PeerState, Message[]>();
    for (const m of messages) {
      const peer = this.peers.get(m.to);
      if (peer === undefined) continue;
      if (m.type === 'MsgSnap' && !peer.noStream) {
        peer.snaps.push(m);
        this.flushSnaps(peer);
        continue;
      }
      const list = byPeer.get(peer);
      if (list === undefined) byPeer.set(peer, [m]);
      else list.push(m);
    }
    for (const [peer, batch] of byPeer) {
      if (peer.noStream) {
        this.enqueue(peer, batch);
        this.flushPost(peer);
      } else if (peer.stream !== undefined && !peer.dialing) {
        this.writeStream(peer, peer.stream, batch);
      } else {
        this.enqueue(peer, batch);
        this.dial(peer);
      }
    }
  }

  private enqueue(peer: PeerState, batch: readonly Message[]): void {
    for (const m of batch) peer.queue.push(m);
    const max = this.options.maxQueue ?? 4096;
    if (peer.queue.length > max) {
      const dropped = peer.queue.splice(0, peer.queue.length - max);
      for (const d of dropped) if (d.type === 'MsgSnap') this.handler?.reportSnapshot(peer.id, 'failure');
    }
  }

  private writeStream(peer: PeerState, stream: Duplex, batch: readonly Message[]): void {
    if (stream.writableLength > MAX_STREAM_BACKLOG) {
      // The peer does not read: drop (Raft retries, and probes instead of pipelining once told).
      this.handler?.reportUnreachable(peer.id);
      return;
    }
    let frame: Buffer;
    try {
      frame = encodeFrame(batch);
    } catch (err) {
      this.log.error({ peer: peer.id, err }, 'peer transport: cannot encode messages; dropped');
      return;
    }
    stream.write(frame);
  }

  /** Opens the outgoing stream to `peer`; what queued meanwhile goes in its first frame. */
  private dial(peer: PeerState): void {
    if (peer.dialing || peer.stream !== undefined || this.closed) return;
    const wait = peer.retryAt - Date.now();
    if (wait > 0) {
      peer.redial ??= setTimeout(() => {
        peer.redial = undefined;
        if (peer.queue.length > 0) this.dial(peer);
      }, wait).unref();
      return;
    }
    peer.dialing = true;
    const url = peer.url;
    const mod = url.protocol === 'https:' ? https : http;
    const tls = this.options.tls;
    const req = mod.request({
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port,
      path: STREAM_PATH,
      method: 'GET',
      agent: false,
      headers: {
        connection: 'Upgrade',
        upgrade: STREAM_PROTOCOL,
        [H_CLUSTER]: this.options.clusterId,
        [H_FROM]: String(this.options.id),
        [H_CLIENT_URLS]: (this.options.clientUrls ?? []).join(','),
      },
      ...(tls && url.protocol === 'https:'
        ? { cert: tls.clientCert ?? tls.cert, key: tls.clientKey ?? tls.key, ...(tls.ca ? { ca: tls.ca } : {}) }
        : {}),
    });
    let settled = false;
    const failed = (err: unknown, noStream = false): void => {
      if (settled) return;
      settled = true;
      peer.dialing = false;
      req.destroy();
      if (this.closed) return;
      if (noStream) {
        // An older member: POST only, from now on.
        this.log.info({ peer: peer.id }, 'peer transport: peer has no message stream; sending by POST');
        peer.noStream = true;
        peer.queue = [...peer.snaps, ...peer.queue];
        peer.snaps = [];
        this.flushPost(peer);
        return;
      }
      peer.retryAt = Date.now() + REDIAL_MS;
      this.unreachable(peer, peer.queue.splice(0), err);
    };
    req.setTimeout(this.options.postTimeoutMs ?? 10_000, () => failed(new Error('no answer to the stream upgrade')));
    req.on('error', (err) => failed(err));
    req.on('response', (res) => {
      res.resume();
      failed(new Error(`HTTP ${res.statusCode} to the stream upgrade`), res.statusCode === 404);
    });
    req.on('upgrade', (_res: http.IncomingMessage, socket: Socket) => {
      if (settled || this.closed) {
        socket.destroy();
        return;
      }
      settled = true;
      req.setTimeout(0);
      peer.dialing = false;
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 1000);
      peer.stream = socket;
      if (peer.failing) this.log.info({ peer: peer.id }, 'peer transport: peer reachable again');
      peer.failing = false;
      // Nothing comes back on this stream; answers arrive on the peer's own.
      socket.on('data', () => undefined);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        if (peer.stream !== socket) return;
        peer.stream = undefined;
        if (!this.closed) this.unreachable(peer, [], new Error('stream closed'));
      });
      const queued = peer.queue.splice(0);
      if (queued.length > 0) this.writeStream(peer, socket, queued);
    });
    req.end();
  }

  private unreachable(peer: PeerState, lost: readonly Message[], err: unknown): void {
    if (!peer.failing) this.log.warn({ peer: peer.id, url: peer.url.href, err: String(err) }, 'peer transport: peer unreachable; dropping messages');
    peer.failing = true;
    this.handler?.reportUnreachable(peer.id);
    for (const m of lost) if (m.type === 'MsgSnap') this.handler?.reportSnapshot(peer.id, 'failure');
  }

  /** POSTs MsgSnap one at a time (binary body). */
  private flushSnaps(peer: PeerState): void {
    if (peer.inflight || peer.snaps.length === 0 || this.closed) return;
    const batch = peer.snaps;
    peer.snaps = [];
    peer.inflight = true;
    this.postBatch(peer, batch, encodeMessageBatch(batch), BINARY_TYPE, () => this.flushSnaps(peer));
  }

  /** For a peer without streams: every message by POST with a JSON body, one POST in flight. */
  private flushPost(peer: PeerState): void {
    if (peer.inflight || peer.queue.length === 0 || this.closed) return;
    const batch = peer.queue;
    peer.queue = [];
    peer.inflight = true;
    this.postBatch(peer, batch, encodeMessages(batch), 'application/json', () => this.flushPost(peer));
  }

  private postBatch(peer: PeerState, batch: readonly Message[], body: string | Buffer, type: string, next: () => void): void {
    this.post(peer.url, '/raft/messages', body, this.options.postTimeoutMs ?? 10_000, type).then(
      () => {
        peer.inflight = false;
        if (peer.failing) this.log.info({ peer: peer.id }, 'peer transport: peer reachable again');
        peer.failing = false;
        for (const m of batch) if (m.type === 'MsgSnap') this.handler?.reportSnapshot(peer.id, 'finish');
        next();
      },
      (err: unknown) => {
        peer.inflight = false;
        if (this.closed) return;
        this.unreachable(peer, batch, err);
        // Do not spin on a dead peer: messages queued meanwhile go after a short pause.
        setTimeout(next, REDIAL_MS).unref();
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

  private post(url: URL, path: string, body: string | Buffer, timeoutMs: number, type = 'application/json'): Promise<string> {
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
            'content-type': type,
            'content-length': typeof body === 'string' ? Buffer.byteLength(body) : body.length,
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
      const body = Buffer.concat(chunks);
      const text = (): string => body.toString('utf8');
      const handler = this.handler;
      if (handler === undefined || this.closed) return reply(503, '{"error":"stopped"}');
      if (url === '/raft/messages') {
        let messages: Message[];
        try {
          messages = req.headers['content-type'] === BINARY_TYPE ? decodeMessageBatch(body) : decodeMessages(text());
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
          params = decodeJson(text());
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

  /** A peer's outgoing stream: check it belongs here, answer 101, then feed its frames to the member. */
  private acceptStream(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const refuse = (status: string, text: string): void => {
      socket.end(`HTTP/1.1 ${status}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`);
    };
    socket.on('error', () => undefined);
    if (req.url !== STREAM_PATH || req.headers.upgrade !== STREAM_PROTOCOL) return refuse('404 Not Found', '{"error":"not found"}');
    if (req.headers[H_CLUSTER] !== this.options.clusterId) {
      return refuse('409 Conflict', JSON.stringify({ error: `cluster id mismatch: this member is in cluster ${this.options.clusterId}` }));
    }
    if (this.closed || this.handler === undefined) return refuse('503 Service Unavailable', '{"error":"stopped"}');
    const from = Number(req.headers[H_FROM]);
    const urls = req.headers[H_CLIENT_URLS];
    if (Number.isSafeInteger(from) && typeof urls === 'string' && urls !== '') this.clientUrls.set(from, urls.split(','));
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: ${STREAM_PROTOCOL}\r\nconnection: Upgrade\r\n\r\n`);
    if ('setNoDelay' in socket) (socket as Socket).setNoDelay(true);
    this.inbound.add(socket);
    socket.on('close', () => this.inbound.delete(socket));
    const frames = new FrameReader(this.options.maxBodyBytes ?? 512 * 1024 * 1024);
    const onData = (chunk: Buffer): void => {
      let batches: Buffer[];
      const messages: Message[] = [];
      try {
        batches = frames.push(chunk);
        for (const b of batches) for (const m of decodeMessageBatch(b)) messages.push(m);
      } catch (err) {
        this.log.warn({ peer: from, err: String(err) }, 'peer transport: malformed frame on a stream; closing it');
        socket.destroy();
        return;
      }
      if (messages.length > 0 && !this.closed) this.handler?.receive(messages);
    };
    socket.on('data', onData);
    if (head.length > 0) onData(head);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const peer of this.peers.values()) {
      peer.stream?.destroy();
      peer.stream = undefined;
      if (peer.redial !== undefined) clearTimeout(peer.redial);
    }
    for (const s of this.inbound) s.destroy();
    this.inbound.clear();
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
 * through the binary codec, as over the peer streams). Members can be cut off and reconnected.
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
          const wire = encodeMessageBatch(batch);
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
            target.receive(decodeMessageBatch(wire));
            for (const m of batch) if (m.type === 'MsgSnap') self?.reportSnapshot(to, 'finish');
          });
        }
      },
      async call(to, method, params) {
        const target = net.handlers.get(to);
        if (target === undefined || net.down.has(to) || net.down.has(id)) throw new ErrNotLeader(`member ${to} unreachable`);
        await nextTurn();
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
