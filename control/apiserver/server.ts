import { createServer as createHttpServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Registry } from 'prom-client';
import type { Duplex } from 'node:stream';
import { parseAllDocuments } from 'yaml';
import { closeServer, listenOn } from '../../lib/http-server.js';
import type { Logger } from '../../lib/log.js';
import { MAX_NESTING, maxBracketDepth } from '../../lib/nesting.js';
import type { Store } from '../store/index.js';
import type { Authenticator, UserInfo } from './authn.js';
import { ANONYMOUS_USER, authorizeRequest, handleAccessReview, isAccessReview, nodeTokenRequestMessage, tokenRequestForbidden, type Authorizer } from './authz/index.js';
import { aggregatedContentType, aggregatedDiscovery, negotiateAggregatedDiscovery } from './discovery/aggregated.js';
import { apiGroup, apiGroupList, apiResourceList, apiVersions } from './discovery/discovery.js';
import { groupVersionDocument, openApiV2Document, openApiV3Discovery } from './openapi/openapi.js';
import { parseRequestInfo, type RequestInfo, type ResourceRequest } from './http/request-info.js';
import { apiServerMetrics, type ApiServerMetrics } from './metrics.js';
import { issueToken, type ServiceAccountTokenConfig } from './serviceaccount/tokens.js';
import { storageTokenLookup } from './serviceaccount/lookup.js';
import { METRICS_API_RESOURCES } from '../metrics/api.js';
import { METRICS_GROUP, metricsApiGroup, metricsResourceList, serveMetricsRequest, withMetricsGroup, type ResourceMetricsSource } from './metrics-api.js';
import { ApiError, badRequest, methodNotAllowed } from './http/status.js';
import { acceptedPatchTypes, applyPatch, parsePatchBody, PatchError, patchTypeFromContentType, type JsonObject } from './patch/index.js';
import { registerAllPrinters } from './printing/printers/index.js';
import { decodeKubeProtobuf, isKubeProtobuf, loadKubeProtobufSchemas } from './protobuf/index.js';
import { toTable, type IncludeObject } from './printing/table.js';
import { applyScale, toScale } from './scale.js';
import { apiVersionOf, findResource, type ResourceDef } from './resources.js';
import { parseSelection, Rest, StaleRead, type Admission, type RequestContext } from './rest.js';
import type { KubeletClientConfig } from './proxy/kubelet-client.js';
import { servePodLog } from './proxy/pod-log.js';
import { proxyNode } from './proxy/node-proxy.js';
import { proxyPodStream, STREAMING_SUBRESOURCES } from './proxy/pod-stream.js';
import { isTokenReview, reviewToken } from './token-review.js';
import { isSelfSubjectReview, reviewSelfSubject } from './self-subject-review.js';
import { COMPONENT_STATUS_DEPRECATION, getComponentStatus, listComponentStatuses, storeComponent, type ComponentProbe } from './component-status.js';
import { apiServerHealthChecks, parseHealthPath, serveHealth, type HealthCheck, type HealthEndpoint } from './health.js';
import { ConvertingStorage } from './conversion.js';
import { Compactor, DEFAULT_COMPACTION_INTERVAL_MS } from './storage/compactor.js';
import { evictPod } from './eviction.js';
import { LoopbackIdentity, loopbackPair, LoopbackSocket, refusedConnection } from './loopback.js';
import { inProcessConnectionError, inProcessExchange, type InProcessResponse } from './in-process.js';
import type { Connection, InProcessCall, InProcessReply } from '../client/kubeconfig.js';
import { knownJson, ObjectStorage, parseResourceVersion, type KubeObject } from './storage/object-storage.js';
import { nextTurn } from '../../lib/event-loop.js';

/**
 * Upstream (1.31+, AuthorizePodWebsocketUpgradeCreatePermission) authorizes exec, attach and port-forward as create,
 * whether they arrive as a WebSocket GET or a SPDY POST.
 */
function streamingVerb<T extends ReturnType<typeof parseRequestInfo>>(info: T): T {
  if (info.kind === 'resource' && STREAMING_SUBRESOURCES.includes(info.subresource ?? '') && info.def?.kind === 'Pod') return { ...info, verb: 'create' };
  return info;
}

/** Upstream's limit on a request body. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export interface ApiServerOptions {
  store: Store;
  logger: Logger;
  /** TLS: when given, the server speaks HTTPS and asks for client certificates. */
  tls?: { key: string; cert: string; ca: string };
  admission?: Admission;
  version?: { major: string; minor: string; gitVersion: string };
  now?: () => Date;
  /** Events live this long after their last update (upstream's --event-ttl, 1 h). */
  eventTtlSeconds?: number;
  /** Who is asking; requests nobody vouches for get 401 (health and version endpoints excepted). */
  authenticate?: Authenticator;
  /** Node,RBAC authorization; without it every authenticated request is allowed. */
  authorizer?: Authorizer;
  /**
   * Served on /metrics (to users allowed `get` on that non-resource URL); the server's own request metrics are kept
   * there too. Components running in the same process (scheduler, controller manager) share it.
   */
  metrics?: Registry;
  /** When given, serviceaccounts/<name>/token issues bound tokens signed with its key (the TokenRequest API). */
  serviceAccountTokens?: ServiceAccountTokenConfig;
  /** When given, metrics.k8s.io/v1beta1 (NodeMetrics, PodMetrics) is served from it, as metrics-server would. */
  resourceMetrics?: ResourceMetricsSource;
  /**
   * How to reach node agents for logs, exec, attach and port-forward: TLS with this client certificate
   * (--kubelet-client-certificate/--kubelet-client-key, --kubelet-certificate-authority). Without it, logs are
   * fetched over plain HTTP and the streaming subresources are refused.
   */
  kubeletClient?: KubeletClientConfig;
  /** How often the store's history is compacted (upstream's --etcd-compaction-interval, 5 min); 0 turns it off. */
  compactionIntervalMs?: number;
  /** What componentstatuses reports on; by default the store alone, as etcd-0. */
  components?: ComponentProbe[];
}

export const SKIFF_KUBE_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0-skiff' };

class BodyTooLarge extends Error {}

/** The client went away (reset, or closed mid-body) before its request body arrived: nobody is left to answer. */
class ClientGone extends Error {}

const isPublicPath = (path: string): boolean => /^\/(healthz|livez|readyz|version)\/?$/.test(path);

/**
 * The request's body, read through its events: an async iterator over the request cost a promise per chunk and more
 * per request (1.4% of the API server's CPU under creates). Over MAX_BODY_BYTES the request is destroyed as the
 * iterator did when left early.
 */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        done();
        req.destroy();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      done();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
    };
    const onError = (err: Error): void => {
      done();
      reject(new ClientGone(err.message));
    };
    const onClose = (): void => {
      done();
      reject(new ClientGone('Premature close'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/**
 * Requests Node's HTTP parser refuses (malformed request line or headers, headers over the size limit, headers that
 * never finish) are answered with a Status too, not Node's bare status line.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  // A response already under way on this connection cannot be followed by another one.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const [code, reason, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'RequestHeaderFieldsTooLarge', 'the request headers are too large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Timeout', 'the request headers did not arrive in time']
        : [400, 'BadRequest', `malformed HTTP request${err.code ? ` (${err.code})` : ''}`];
  const text = JSON.stringify(new ApiError(code, reason, message).toStatus());
  socket.end(`HTTP/1.1 ${code} ${STATUS_CODES[code] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
}

/** Decodes a JSON or YAML request body; malformed input is a 400 naming the problem, never a 500. */
export function decodeBody(buf: Buffer, contentType: string): unknown {
  const text = buf.toString('utf8');
  if (maxBracketDepth(text) > MAX_NESTING) throw badRequest(`the request body nests deeper than ${MAX_NESTING} levels`);
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  // kubectl 1.32 sends built-in types as Kubernetes protobuf; client-go never falls back to JSON for it.
  if (isKubeProtobuf(type)) return decodeKubeProtobuf(buf).object;
  if (type.includes('yaml')) {
    const docs = parseAllDocuments(text);
    const list = Array.isArray(docs) ? docs : [docs];
    if (list.length !== 1) throw badRequest('the request body must hold exactly one YAML document');
    const doc = list[0]!;
    if (doc.errors.length > 0) throw badRequest(`error converting YAML to JSON: ${doc.errors[0]?.message ?? 'invalid YAML'}`);
    try {
      return doc.toJS({ maxAliasCount: 100 }) as unknown;
    } catch (err) {
      // Alias bombs ("excessive alias count") and the like are the client's fault.
      throw badRequest(`error converting YAML to JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (type !== '' && !type.includes('json')) {
    throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw badRequest(`couldn't get version/kind; json parse error: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The body of a create or an update, subresources included: an object, or a 400 before any handler reads it. */
function decodeObjectBody(buf: Buffer, contentType: string): Record<string, unknown> {
  const body = decodeBody(buf, contentType);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the body of the request must be a JSON or YAML object');
  return body as Record<string, unknown>;
}

type DeleteOptions = Parameters<Rest['delete']>[3];

/** DeleteOptions from the body (JSON or YAML, or none), with gracePeriodSeconds and propagationPolicy also taken from the query. */
async function readDeleteOptions(req: IncomingMessage, query: URLSearchParams): Promise<DeleteOptions> {
  const buf = await readBody(req);
  const decoded = buf.length > 0 ? decodeBody(buf, req.headers['content-type'] ?? 'application/json') : null;
  // A JSON null is empty DeleteOptions, as Go decodes it; anything but an object is not DeleteOptions at all.
  if (decoded !== null && (typeof decoded !== 'object' || Array.isArray(decoded))) throw badRequest('the body of a delete request must be a DeleteOptions object');
  const opts = (decoded ?? {}) as Record<string, unknown>;
  const graceQ = query.get('gracePeriodSeconds');
  const grace = graceQ !== null ? Number(graceQ) : typeof opts.gracePeriodSeconds === 'number' ? opts.gracePeriodSeconds : undefined;
  if (grace !== undefined && (!Number.isInteger(grace) || grace < 0)) throw badRequest('gracePeriodSeconds must be a non-negative integer');
  const policy = query.get('propagationPolicy') ?? (typeof opts.propagationPolicy === 'string' ? opts.propagationPolicy : undefined);
  if (policy !== undefined && !['Orphan', 'Background', 'Foreground'].includes(policy)) {
    throw badRequest(`propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`);
  }
  return {
    ...(grace !== undefined ? { gracePeriodSeconds: grace } : {}),
    ...(opts.preconditions ? { preconditions: opts.preconditions as { uid?: string; resourceVersion?: string } } : {}),
    ...(policy ? { propagationPolicy: policy } : {}),
  };
}

interface Negotiated {
  table: boolean;
  include: IncludeObject;
}

/** Content negotiation: JSON, or a Table when kubectl asks for `as=Table`; protobuf alone is refused with 406. */
function negotiate(accept: string | undefined, query: URLSearchParams): Negotiated {
  const parts = (accept ?? '').split(',').map((p) => p.trim().toLowerCase());
  const table = parts.some((p) => p.includes('as=table') && p.startsWith('application/json'));
  const acceptable = parts.length === 0 || parts.some((p) => p === '' || p.startsWith('application/json') || p.startsWith('*/*') || p.startsWith('application/*') || p.includes('yaml'));
  if (!acceptable) {
    throw new ApiError(406, 'NotAcceptable', 'only the following media types are accepted: application/json, application/yaml');
  }
  const include = (query.get('includeObject') as IncludeObject | null) ?? 'Metadata';
  return { table, include: ['None', 'Metadata', 'Object'].includes(include) ? include : 'Metadata' };
}

/**
 * RFC 7234 warnings as upstream sends them (`299 - "text"`), which kubectl prints as `Warning: text`. The text may
 * carry whatever field names a client sent: anything outside printable ASCII is escaped (\uXXXX), so no header is
 * ever invalid however Node encodes it.
 */
function warningHeaders(ctx: RequestContext): Record<string, string[]> {
  const warnings = ctx.warnings ?? [];
  const value = (w: string): string => `299 - ${JSON.stringify(w).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}`;
  return warnings.length > 0 ? { Warning: [...new Set(warnings)].map(value) } : {};
}

function sendJson(res: ServerResponse, code: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  // An object a write just stored is sent as the bytes it was stored as (knownJson), not serialized again.
  const text = (body !== null && typeof body === 'object' ? knownJson(body) : undefined) ?? JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Items per write of a list's body: a big LIST goes out in slices, with other requests served in between. */
const LIST_SLICE = 500;

/**
 * Resolves once the response has passed on what it holds (or is gone). A slice written while the last is still
 * going out is held by the socket and sent with everything after it in one go: for TLS, one encryption of the rest of
 * the body (8.5 MB for 5,000 pods: 125-175 ms in which the process served nothing else).
 */
function drained(res: ServerResponse): Promise<void> {
  if (res.destroyed || res.writableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * A list's JSON from its items' JSON, written in slices with a turn of the event loop between them, each once the last
 * has gone out, so a LIST of thousands of objects does not hold up every other request while one multi-megabyte
 * string is built, encrypted and sent.
 */
export async function sendList(res: ServerResponse, head: string, items: string[], tail: string): Promise<void> {
  let length = Buffer.byteLength(head) + Buffer.byteLength(tail) + Math.max(0, items.length - 1);
  for (const item of items) length += Buffer.byteLength(item);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': length });
  if (items.length <= LIST_SLICE) {
    res.end(`${head}${items.join(',')}${tail}`);
    return;
  }
  for (let i = 0; i < items.length; i += LIST_SLICE) {
    if (i > 0) await nextTurn();
    if (res.destroyed) return;
    if (!res.write(`${i === 0 ? head : ','}${items.slice(i, i + LIST_SLICE).join(',')}`)) await drained(res);
  }
  if (res.destroyed) return;
  res.end(tail);
}

function watchLine(type: string, object: unknown): string {
  return `${JSON.stringify({ type, object })}\n`;
}

/**
 * Watch events as sent, by the object's JSON (WatchEvent.json): every watcher of a resource is handed the same one
 * for the same event (the watch cache fans one store event out), so its line is made once, not once per watcher.
 */
const watchLines = new WeakMap<() => string, Map<string, string>>();

function sharedWatchLine(type: string, json: () => string): string {
  let byType = watchLines.get(json);
  let line = byType?.get(type);
  if (line === undefined) {
    line = `{"type":${JSON.stringify(type)},"object":${json()}}\n`;
    if (!byType) watchLines.set(json, (byType = new Map()));
    byType.set(type, line);
  }
  return line;
}

/** The body of a review request (access, self subject, token), which only POST may send. */
async function reviewBody(req: IncomingMessage, method: string): Promise<unknown> {
  if (method !== 'POST') throw methodNotAllowed(method);
  return decodeBody(await readBody(req), req.headers['content-type'] ?? '');
}

/**
 * The Kubernetes API over HTTP(S): discovery, CRUD, list, watch and patch for every resource in resources.ts, errors as
 * Status bodies. Authentication, authorization and admission plug in through the options.
 */
export class ApiServer {
  readonly storage: ObjectStorage;
  readonly rest: Rest;
  private server: Server | undefined;
  private readonly now: () => Date;
  private readonly watches = new Set<() => void>();
  private readonly requestMetrics: ApiServerMetrics | undefined;
  private readonly requestInfos = new WeakMap<IncomingMessage, RequestInfo>();
  private readonly upgraded = new Set<Duplex>();
  private readonly compactor: Compactor;
  private readonly loopbackIdentity = new LoopbackIdentity();
  private loopbackServer: Server | undefined;
  private readonly loopbackSockets = new Set<LoopbackSocket>();
  /** The socket every in-process exchange's request arrives on: in memory, never connected (see in-process.ts). */
  private readonly inProcessSocket = new LoopbackSocket();
  private readonly inProcessResponses = new Set<InProcessResponse>();
  private closed = false;
  private readonly healthChecks: Record<HealthEndpoint, HealthCheck[]>;

  constructor(private readonly opts: ApiServerOptions) {
    registerAllPrinters();
    loadKubeProtobufSchemas();
    const eventTtl = opts.eventTtlSeconds ?? 3600;
    // Kinds served in several versions are converted to and from their storage version (conversion.ts).
    this.storage = new ConvertingStorage(opts.store, (r) => (r.resource === 'events' ? eventTtl : undefined));
    this.rest = new Rest(this.storage, opts.admission);
    this.now = opts.now ?? (() => new Date());
    this.requestMetrics = opts.metrics ? apiServerMetrics(opts.metrics) : undefined;
    this.compactor = new Compactor(opts.store, opts.logger);
    this.healthChecks = apiServerHealthChecks(opts.store, () => this.closed);
  }

  /** Every request, whichever connection it came on (HTTPS, plain HTTP in tests, or the in-process loopback). */
  private readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const done = this.requestMetrics?.begin(req.method ?? 'GET');
    if (done) res.once('close', () => done(this.requestInfos.get(req), res.statusCode));
    this.handle(req, res).catch((err: unknown) => this.fail(res, err, req));
  };

  /** The HTTP handling every server of this API server shares: malformed requests, and upgrades for streaming. */
  private serve(server: Server): Server {
    server.headersTimeout = 60_000;
    server.requestTimeout = 0;
    // An idle keep-alive connection stays open 90 s, as upstream's (its IdleTimeout, net/http's client default), not
    // Node's 5 s: a client that pauses a few seconds between bursts (a controller's resync, kubectl in a script)
    // would otherwise pay a TLS handshake per connection again, and a burst of clients all at once.
    server.keepAliveTimeout = 90_000;
    server.on('clientError', answerClientError);
    // kubectl exec, attach and port-forward ask to switch protocols (WebSocket or SPDY); those requests come here.
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => undefined);
      // Upgraded connections are no longer the HTTP server's to close: close() ends them itself.
      this.upgraded.add(socket);
      socket.once('close', () => this.upgraded.delete(socket));
      this.handleUpgrade(req, socket, head).catch((err: unknown) => this.failRaw(socket, err, req));
    });
    return server;
  }

  async listen(port: number, host = '127.0.0.1'): Promise<number> {
    const server = this.serve(
      this.opts.tls
        ? createHttpsServer({ key: this.opts.tls.key, cert: this.opts.tls.cert, ca: this.opts.tls.ca, requestCert: true, rejectUnauthorized: false }, this.onRequest)
        : createHttpServer(this.onRequest),
    );
    this.server = server;
    const bound = await listenOn(server, port, host);
    this.compactor.start(this.opts.compactionIntervalMs ?? DEFAULT_COMPACTION_INTERVAL_MS);
    return bound;
  }

  /**
   * How clients in this process reach this server (upstream's loopback client config): HTTP over in-memory
   * connections (see loopback.ts), as the loopback identity, system:apiserver in system:masters. Works whether or
   * not listen() was called; after close(), connections are refused.
   */
  loopbackConnection(): Connection {
    return { server: 'http://apiserver.loopback', token: this.loopbackIdentity.token, connect: () => this.openLoopback(), exchange: (call) => this.exchange(call) };
  }

  /** A loopback client's request handed to the request handler without HTTP framing (see in-process.ts). */
  private exchange(call: InProcessCall): Promise<InProcessReply> {
    if (this.closed) return Promise.reject(inProcessConnectionError('ECONNREFUSED', 'the API server stopped: its loopback transport is closed'));
    return new Promise((resolve, reject) => {
      const { req, res } = inProcessExchange(call, this.inProcessSocket, resolve, reject);
      this.inProcessResponses.add(res);
      res.once('close', () => this.inProcessResponses.delete(res));
      // Off the caller's stack, as a request written to a connection reaches the server's parser.
      process.nextTick(() => this.onRequest(req as unknown as IncomingMessage, res as unknown as ServerResponse));
    });
  }

  private openLoopback(): Duplex {
    if (this.closed) return refusedConnection();
    // A server that never listens: it is handed each connection's server end, as a listening one is by accept().
    this.loopbackServer ??= this.serve(createHttpServer(this.onRequest));
    const [client, server] = loopbackPair();
    this.loopbackSockets.add(server);
    server.once('close', () => this.loopbackSockets.delete(server));
    this.loopbackServer.emit('connection', server);
    return client;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const stop of this.watches) stop();
    this.rest.watchCache.close();
    await this.compactor.stop();
    for (const socket of this.loopbackSockets) socket.destroy();
    for (const res of this.inProcessResponses) res.destroy();
    await closeServer(this.server, this.upgraded);
  }

  private fail(res: ServerResponse, err: unknown, req: IncomingMessage): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof ApiError) {
      sendJson(res, err.code, err.toStatus());
      return;
    }
    if (err instanceof ClientGone) {
      res.destroy();
      return;
    }
    if (err instanceof BodyTooLarge) {
      res.setHeader('Connection', 'close');
      sendJson(res, 413, new ApiError(413, 'RequestEntityTooLarge', 'the request body is too large').toStatus());
      return;
    }
    this.opts.logger.error({ err: err instanceof Error ? (err.stack ?? err.message) : String(err), url: req.url, method: req.method }, 'internal error');
    sendJson(res, 500, new ApiError(500, 'InternalError', `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`).toStatus());
  }

  /** An error on a connection that asked to upgrade: a Status as a plain HTTP/1.1 response. */
  private failRaw(socket: Duplex, err: unknown, req: IncomingMessage): void {
    if (!socket.writable) return;
    let e: ApiError;
    if (err instanceof ApiError) e = err;
    else {
      this.opts.logger.error({ err: err instanceof Error ? (err.stack ?? err.message) : String(err), url: req.url }, 'internal error');
      e = new ApiError(500, 'InternalError', `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`);
    }
    const text = JSON.stringify(e.toStatus());
    socket.end(`HTTP/1.1 ${e.code} ${STATUS_CODES[e.code] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
  }

  /** Authentication and authorization as for any request, then the pod's node takes the connection over. */
  private async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://apiserver');
    const method = req.method ?? 'GET';
    const authenticated = await this.authenticate(req, url.pathname);
    const info = streamingVerb(parseRequestInfo(method, url.pathname, url.searchParams));
    const authorizer = this.opts.authorizer;
    const user = authorizer && this.opts.authenticate ? await authorizeRequest(authorizer, authenticated, { method, url, headers: req.headersDistinct }, info) : authenticated;
    if (info.kind !== 'resource' || info.def?.kind !== 'Pod' || info.name === undefined || !STREAMING_SUBRESOURCES.includes(info.subresource ?? '') || info.namespace === undefined) {
      throw badRequest(`the server does not support upgrading the connection for ${url.pathname}`);
    }
    if (!this.opts.kubeletClient) throw new ApiError(503, 'ServiceUnavailable', 'this API server has no kubelet client certificate to reach nodes with');
    const ctx = this.context(info, url.searchParams, user);
    await proxyPodStream(this.rest, ctx, info.name, info.subresource as string, url.searchParams, req, socket, head, this.opts.kubeletClient);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://apiserver');
    const method = req.method ?? 'GET';
    const authenticated = await this.authenticate(req, url.pathname);
    const info = streamingVerb(parseRequestInfo(method, url.pathname, url.searchParams));
    this.requestInfos.set(req, info);
    // Authorization comes before anything else answers, also for paths that do not exist, as upstream.
    const authorizer = this.opts.authorizer;
    const user = authorizer && this.opts.authenticate && !isPublicPath(url.pathname)
      ? await authorizeRequest(authorizer, authenticated, { method, url, headers: req.headersDistinct }, info)
      : authenticated;
    // Reviews are created and answered, never stored: POST only, 201 with the answer.
    if (authorizer && isAccessReview(info)) {
      return sendJson(res, 201, await handleAccessReview(authorizer, user ?? ANONYMOUS_USER, info, await reviewBody(req, method)));
    }
    if (isSelfSubjectReview(info)) return sendJson(res, 201, reviewSelfSubject(user ?? ANONYMOUS_USER, await reviewBody(req, method), this.now()));
    if (isTokenReview(info)) return sendJson(res, 201, await reviewToken(this.opts.authenticate, await reviewBody(req, method)));
    if (info.kind === 'resource' && STREAMING_SUBRESOURCES.includes(info.subresource ?? '') && info.def?.kind === 'Pod') {
      throw badRequest('Upgrade request required');
    }
    if (info.kind === 'nonresource' && this.opts.metrics && /^\/metrics\/?$/.test(info.path) && (method === 'GET' || method === 'HEAD')) {
      const text = await this.opts.metrics.metrics();
      res.writeHead(200, { 'Content-Type': this.opts.metrics.contentType });
      res.end(text);
      return;
    }
    const health = info.kind === 'nonresource' ? parseHealthPath(info.path) : undefined;
    if (health) {
      if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed(method);
      if (await serveHealth(res, health, url.searchParams, this.healthChecks, this.opts.logger)) return;
    }
    if (info.kind === 'nonresource') return this.nonResource(info.path, method, res, req.headers.accept ?? '');
    if (!info.def && info.group === METRICS_GROUP && this.opts.resourceMetrics) {
      return sendJson(res, 200, await serveMetricsRequest(info, url.searchParams, this.storage, this.opts.resourceMetrics));
    }
    if (!info.def) {
      const list = apiResourceList(info.group, info.version);
      if (!list) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      throw new ApiError(404, 'NotFound', `the server could not find the requested resource (${method.toLowerCase()} ${info.resource})`);
    }
    return this.resource(info, info.def, req, res, url.searchParams, user);
  }

  /** Public endpoints (health, version) answer anyone, as upstream's system:public-info-viewer role allows. */
  private async authenticate(req: IncomingMessage, path: string): Promise<UserInfo | undefined> {
    // The loopback identity first, as upstream puts its token authenticator ahead of the configured ones.
    const loopback = this.loopbackIdentity.authenticate(req);
    if (loopback) return loopback;
    if (!this.opts.authenticate) return undefined;
    const user = await this.opts.authenticate(req);
    if (user) return user;
    if (isPublicPath(path)) return undefined;
    throw new ApiError(401, 'Unauthorized', 'Unauthorized');
  }

  private nonResource(path: string, method: string, res: ServerResponse, accept = ''): void {
    if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed(method);
    const trimmed = path.replace(/\/+$/, '') || '/';
    if (trimmed === '/version') {
      const v = this.opts.version ?? SKIFF_KUBE_VERSION;
      return sendJson(res, 200, { ...v, gitCommit: 'skiff', gitTreeState: 'clean', buildDate: '2026-11-30T00:00:00Z', goVersion: `node${process.versions.node}`, compiler: 'tsc', platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}` });
    }
    if (trimmed === '/api' || trimmed === '/apis') {
      const version = negotiateAggregatedDiscovery(accept);
      // metrics.k8s.io is served beside RESOURCES when a metrics source is configured, as metrics-server registers it.
      const extra = this.opts.resourceMetrics ? [{ group: METRICS_GROUP, version: 'v1beta1', resources: METRICS_API_RESOURCES }] : [];
      if (version) return sendJson(res, 200, aggregatedDiscovery(trimmed, version, extra), { 'Content-Type': aggregatedContentType(version), Vary: 'Accept' });
    }
    if (trimmed === '/api') return sendJson(res, 200, apiVersions('127.0.0.1:6443'), { Vary: 'Accept' });
    if (trimmed === '/openapi/v3') return sendJson(res, 200, openApiV3Discovery());
    if (trimmed === '/openapi/v2') {
      const v2 = openApiV2Document(accept.includes('protobuf'));
      res.writeHead(200, { 'Content-Type': v2.contentType, 'Content-Length': v2.body.length });
      res.end(v2.body);
      return;
    }
    const oa = /^\/openapi\/v3\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(trimmed);
    if (oa) {
      const entry = oa[1] ? groupVersionDocument('', 'v1') : groupVersionDocument(oa[2] as string, oa[3] as string);
      if (entry) return sendJson(res, 200, entry.doc, { 'Cache-Control': 'public, immutable', Etag: `"${entry.hash}"` });
    }
    if (trimmed === '/apis') return sendJson(res, 200, this.opts.resourceMetrics ? withMetricsGroup(apiGroupList()) : apiGroupList(), { Vary: 'Accept' });
    if (this.opts.resourceMetrics && trimmed === `/apis/${METRICS_GROUP}/v1beta1`) return sendJson(res, 200, metricsResourceList());
    if (this.opts.resourceMetrics && trimmed === `/apis/${METRICS_GROUP}`) return sendJson(res, 200, metricsApiGroup());
    const gv = /^\/api\/(v1)$/.exec(trimmed) ?? /^\/apis\/([^/]+\/[^/]+)$/.exec(trimmed);
    if (gv) {
      const [group, version] = trimmed.startsWith('/api/') ? ['', 'v1'] : (gv[1] as string).split('/');
      const list = apiResourceList(group ?? '', version ?? '');
      if (list) return sendJson(res, 200, list);
    }
    const g = /^\/apis\/([^/]+)$/.exec(trimmed);
    if (g) {
      const doc = apiGroup(g[1] as string);
      if (doc) return sendJson(res, 200, doc);
    }
    throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  }

  private context(info: ResourceRequest, query: URLSearchParams, user: UserInfo | undefined): RequestContext {
    const dryRun = query.getAll('dryRun');
    if (dryRun.some((d) => d !== 'All')) throw badRequest(`Invalid dryRun value: ${dryRun.join(',')}; valid values are: All`);
    const fv = query.get('fieldValidation') ?? 'Warn';
    if (!['Strict', 'Warn', 'Ignore', ''].includes(fv)) throw badRequest(`fieldValidation must be one of "Ignore", "Warn", "Strict", got "${fv}"`);
    return { ...(info.namespace !== undefined ? { namespace: info.namespace } : {}), strict: fv === 'Strict', dryRun: dryRun.length > 0, now: this.now(), warnings: [], ...(user ? { user } : {}) };
  }

  /** componentstatuses: checked on each GET, never stored; every answer carries upstream's deprecation warning. */
  private async componentStatuses(info: ResourceRequest, def: ResourceDef, ctx: RequestContext, query: URLSearchParams, negotiated: Negotiated, res: ServerResponse): Promise<void> {
    const components = this.opts.components ?? [storeComponent('etcd-0', this.opts.store)];
    const headers = warningHeaders({ ...ctx, warnings: [COMPONENT_STATUS_DEPRECATION] });
    if (info.verb !== 'get' && info.verb !== 'list') throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    if (info.subresource !== undefined) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    if (info.verb === 'get') {
      const obj = await getComponentStatus(components, info.name as string);
      return sendJson(res, 200, negotiated.table ? toTable(def, [obj], { now: ctx.now, include: negotiated.include }) : obj, headers);
    }
    const items = await listComponentStatuses(components, query);
    if (negotiated.table) return sendJson(res, 200, toTable(def, items, { now: ctx.now, include: negotiated.include }), headers);
    return sendJson(res, 200, { kind: 'ComponentStatusList', apiVersion: 'v1', metadata: {}, items }, headers);
  }

  private async resource(info: ResourceRequest, def: ResourceDef, req: IncomingMessage, res: ServerResponse, query: URLSearchParams, user: UserInfo | undefined): Promise<void> {
    if (def.namespaced && info.namespace === undefined && info.name !== undefined) {
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    }
    if (!def.namespaced && info.namespace !== undefined) {
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    }
    const ctx = this.context(info, query, user);
    const negotiated = negotiate(req.headers.accept, query);
    const sub = info.subresource;
    if (sub !== undefined && !def.subresources.includes(sub)) {
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    }
    if (def.group === '' && def.kind === 'ComponentStatus') return this.componentStatuses(info, def, ctx, query, negotiated, res);
    if (sub === 'proxy' && def.kind === 'Node') return proxyNode(this.rest, ctx, info.name as string, info.rest, query, req, res, this.opts.kubeletClient);
    switch (info.verb) {
      case 'get': {
        if (sub === 'log' && def.kind === 'Pod') return servePodLog(this.rest, ctx, info.name as string, query, req, res, this.opts.kubeletClient);
        if (sub !== undefined && sub !== 'status' && sub !== 'scale' && sub !== 'ephemeralcontainers') throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
        const obj = await this.rest.get(def, ctx, info.name as string);
        if (sub === 'scale') return sendJson(res, 200, toScale(obj));
        if (negotiated.table) return sendJson(res, 200, toTable(def, [obj], { now: ctx.now, include: negotiated.include, ...(obj.metadata.resourceVersion ? { resourceVersion: obj.metadata.resourceVersion } : {}) }));
        return sendJson(res, 200, obj);
      }
      case 'list':
        return this.list(def, ctx, query, negotiated, res);
      case 'watch':
        return this.watch(def, ctx, query, negotiated, req, res, info.name);
      case 'create': {
        const body = decodeObjectBody(await readBody(req), req.headers['content-type'] ?? '');
        if (info.name !== undefined && sub === 'binding' && def.kind === 'Pod') {
          const b = body as { target?: { kind?: string; name?: string } };
          await this.rest.bind(ctx, info.name, b.target ?? {});
          return sendJson(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
        }
        if (info.name !== undefined && sub === 'token' && def.kind === 'ServiceAccount') {
          if (!this.opts.serviceAccountTokens) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
          // NodeRestriction: a node may only ask for tokens bound to its own pods (TokenRequests skip the admission chain here).
          const pods = findResource('', 'v1', 'pods') as ResourceDef;
          const refused = await nodeTokenRequestMessage(ctx.user, ctx.namespace ?? 'default', body, (ns, name) => this.storage.tryGet(pods, ns, name));
          if (refused !== undefined) throw tokenRequestForbidden(info.name, refused);
          return sendJson(res, 201, await issueToken(this.opts.serviceAccountTokens, storageTokenLookup(this.storage), ctx.namespace ?? 'default', info.name, body, this.now().getTime()));
        }
        if (info.name !== undefined && sub === 'eviction' && def.kind === 'Pod') return sendJson(res, 201, await evictPod(this.rest, ctx, info.name, body));
        if (def.kind === 'Binding') {
          const b = body as { metadata?: { name?: string }; target?: { kind?: string; name?: string } };
          await this.rest.bind(ctx, b.metadata?.name ?? '', b.target ?? {});
          return sendJson(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
        }
        if (info.name !== undefined) throw methodNotAllowed('POST');
        const created = await this.rest.create(def, ctx, body);
        return sendJson(res, 201, created, warningHeaders(ctx));
      }
      case 'update': {
        const body = decodeObjectBody(await readBody(req), req.headers['content-type'] ?? '');
        if (sub === 'scale') {
          const current = await this.rest.get(def, ctx, info.name as string);
          const rv = (body as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
          if (rv && rv !== current.metadata.resourceVersion) {
            throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${def.group ? `${def.resource}.${def.group}` : def.resource} "${info.name}": the object has been modified; please apply your changes to the latest version and try again`);
          }
          return sendJson(res, 200, toScale(await this.rest.replace(def, ctx, current, applyScale(current, body))));
        }
        const updated = await this.rest.update(def, ctx, info.name as string, body, sub);
        return sendJson(res, 200, updated, warningHeaders(ctx));
      }
      case 'patch':
        return this.patchHandler(def, ctx, info, req, res);
      case 'delete': {
        const deleteOpts = await readDeleteOptions(req, query);
        const result = await this.rest.delete(def, ctx, info.name as string, deleteOpts);
        return sendJson(res, result.finished ? 200 : 202, result.obj);
      }
      case 'deletecollection': {
        // As upstream: the options apply to every item; items go one at a time, so an error (a 403 for an immortal
        // namespace, a failed precondition) ends the request with the items before it already deleted. The answer is
        // the list as it was before the deletes.
        const deleteOpts = await readDeleteOptions(req, query);
        const sel = parseSelection(def, query);
        const listed = await this.rest.list(def, ctx, sel, {});
        for (const item of listed.items) {
          try {
            await this.rest.delete(def, { ...ctx, ...(item.metadata.namespace ? { namespace: item.metadata.namespace } : {}) }, item.metadata.name ?? '', deleteOpts);
          } catch (err) {
            if (!(err instanceof ApiError && err.code === 404)) throw err;
          }
        }
        const apiVersion = apiVersionOf(def);
        return sendJson(res, 200, { kind: `${def.kind}List`, apiVersion, metadata: { resourceVersion: listed.resourceVersion }, items: listed.items.map((o) => ({ apiVersion, kind: def.kind, ...o })) });
      }
    }
  }

  private async list(def: ResourceDef, ctx: RequestContext, query: URLSearchParams, negotiated: Negotiated, res: ServerResponse): Promise<void> {
    const sel = parseSelection(def, query);
    const limitQ = query.get('limit');
    const limit = limitQ !== null ? Number(limitQ) : undefined;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) throw badRequest(`invalid limit: "${limitQ}"`);
    const cont = query.get('continue') ?? undefined;
    if (negotiated.table) {
      const listed = await this.rest.list(def, ctx, sel, { ...(limit ? { limit } : {}), ...(cont ? { continue: cont } : {}) });
      return sendJson(
        res,
        200,
        toTable(
          def,
          listed.items.map((o) => ({ apiVersion: apiVersionOf(def), kind: def.kind, ...o })),
          { now: ctx.now, include: negotiated.include, resourceVersion: listed.resourceVersion, ...(listed.continue ? { continue: listed.continue } : {}) },
        ),
      );
    }
    const encoded = await this.rest.listEncoded(def, ctx, sel, { ...(limit ? { limit } : {}), ...(cont ? { continue: cont } : {}) });
    const head = JSON.stringify({ kind: `${def.kind}List`, apiVersion: apiVersionOf(def), metadata: { resourceVersion: encoded.resourceVersion, ...(encoded.continue ? { continue: encoded.continue } : {}) } });
    return sendList(res, `${head.slice(0, -1)},"items":[`, encoded.items, ']}');
  }

  private async watch(def: ResourceDef, ctx: RequestContext, query: URLSearchParams, negotiated: Negotiated, req: IncomingMessage, res: ServerResponse, name: string | undefined): Promise<void> {
    const sel = parseSelection(def, query);
    if (name !== undefined) sel.fields.push({ field: 'metadata.name', operator: 'Equals', value: name });
    const fromRevision = parseResourceVersion(query.get('resourceVersion') ?? undefined);
    const bookmarks = ['true', '1'].includes(query.get('allowWatchBookmarks') ?? '');
    const timeoutQ = query.get('timeoutSeconds');
    const timeoutMs = timeoutQ !== null && Number(timeoutQ) > 0 ? Number(timeoutQ) * 1000 : 30 * 60 * 1000;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    let headersSent = false;
    // An event's object may be parsed on first read (WatchEvent.stored): only a Table reads it when `json` is given.
    const write = (type: string, e: { object: unknown; json?: () => string }): void => {
      if (negotiated.table && (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED')) {
        res.write(watchLine(type, toTable(def, [e.object as KubeObject], { now: this.now(), include: negotiated.include, noHeaders: headersSent })));
        headersSent = true;
      } else {
        res.write(e.json ? sharedWatchLine(type, e.json) : watchLine(type, e.object));
      }
    };
    let stop: (() => void) | undefined;
    const end = (): void => {
      stop?.();
      if (stop) this.watches.delete(stop);
      clearTimeout(timer);
      if (!res.writableEnded) res.end();
    };
    const timer = setTimeout(end, timeoutMs);
    req.on('close', end);
    try {
      stop = await this.rest.watch(
        def,
        ctx,
        sel,
        fromRevision,
        (e) => {
          if (e.type === 'BOOKMARK') {
            if (bookmarks) write('BOOKMARK', { object: { kind: def.kind, apiVersion: apiVersionOf(def), metadata: e.object.metadata } });
            return;
          }
          write(e.type, e);
        },
        (err) => {
          write('ERROR', { object: err.toStatus() });
          end();
        },
      );
      this.watches.add(stop);
      if (res.writableEnded) end();
    } catch (err) {
      if (err instanceof ApiError) write('ERROR', { object: err.toStatus() });
      end();
      if (!(err instanceof ApiError)) throw err;
    }
  }

  private async patchHandler(def: ResourceDef, ctx: RequestContext, info: ResourceRequest, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    const buf = await readBody(req);
    if (maxBracketDepth(buf.toString('utf8')) > MAX_NESTING) throw badRequest(`the request body nests deeper than ${MAX_NESTING} levels`);
    if (contentType === 'application/apply-patch+yaml') {
      throw new ApiError(415, 'UnsupportedMediaType', 'server-side apply is not supported by this server yet: use client-side kubectl apply (without --server-side)');
    }
    const type = patchTypeFromContentType(contentType);
    if (!type) {
      throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${acceptedPatchTypes(def.group, def.version, def.kind).join(', ')}`);
    }
    try {
      const patch = parsePatchBody(type, buf);
      // The first read may come from the store member's local state (rest.current); what it alone decided is read
      // again consistently: a precondition that fails, a patch that changes nothing, a conflict.
      let fresh = false;
      for (let attempt = 0; ; attempt++) {
        const current = await this.rest.current(def, ctx, info.name as string, fresh);
        const again = (err: unknown): boolean => {
          if (err instanceof StaleRead || (err instanceof ApiError && err.code === 409 && this.rest.isPossiblyStale(current))) {
            fresh = true;
            return true;
          }
          return false;
        };
        if (info.subresource === 'scale') {
          const scale = applyPatch(type, toScale(current) as unknown as JsonObject, patch, { group: 'autoscaling', version: 'v1', kind: 'Scale' });
          try {
            return sendJson(res, 200, toScale(await this.rest.replace(def, ctx, current, applyScale(current, scale))));
          } catch (err) {
            if (again(err)) continue;
            if (err instanceof ApiError && err.code === 409 && attempt < 5) continue;
            throw err;
          }
        }
        const patched = applyPatch(type, current as unknown as JsonObject, patch, { group: def.group, version: def.version, kind: def.kind }) as unknown as KubeObject;
        if (patched.metadata === null || typeof patched.metadata !== 'object') throw badRequest('metadata must be an object');
        // A patch is applied to what was just read, so its resourceVersion is the precondition unless the patch set one.
        const setRv = patched.metadata.resourceVersion !== current.metadata.resourceVersion ? patched.metadata.resourceVersion : undefined;
        try {
          if (setRv !== undefined) {
            throw new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${def.group ? `${def.resource}.${def.group}` : def.resource} "${info.name}": the object has been modified; please apply your changes to the latest version and try again`);
          }
          const updated = await this.rest.replace(def, ctx, current, { ...patched, metadata: { ...patched.metadata } }, info.subresource);
          return sendJson(res, 200, updated, warningHeaders(ctx));
        } catch (err) {
          if (again(err)) continue;
          // Someone wrote in between: re-read and re-apply, as upstream's patcher retries.
          if (err instanceof ApiError && err.code === 409 && setRv === undefined && attempt < 5) {
            fresh = true;
            continue;
          }
          throw err;
        }
      }
    } catch (err) {
      if (err instanceof PatchError) {
        // Upstream answers a few malformed strategic merge patches (a list element without its merge key, an unknown
        // $patch directive) with a 500; they are the client's error, so they are a 400 here.
        if (err.code >= 500) throw new ApiError(400, 'BadRequest', err.message, err.details);
        throw new ApiError(err.code, err.reason || 'InternalError', err.message, err.details);
      }
      throw err;
    }
  }
}
