import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../../lib/log.js';
import { ErrCompacted, ErrLeaseNotFound } from '../errors.js';
import type {
  KeyRange,
  KeyValue,
  OpResponse,
  RangeResponse,
  Store,
  TxnResponse,
  Watch,
  WatchMessage,
} from '../store.js';
import {
  applyPost,
  decodeKey,
  decodeValue,
  encode,
  int,
  leaseIdOf,
  toKeyRange,
  toPbKv,
  toRangeRequest,
  toTxnRequest,
  type Int64,
  type OpPost,
  type PbDeleteRangeRequest,
  type PbHeader,
  type PbKeyValue,
  type PbPutRequest,
  type PbRangeRequest,
  type PbTxnRequest,
  type RangePost,
  type TxnPost,
} from './codec.js';
import { EtcdGrpcError, rpcErrors, toGrpcError } from './errors.js';
import { installFastUnary, type FastUnaryMethod, type FastUnaryStats } from './fast-unary.js';
import { encodePutResponse, encodeRangeResponse } from './pb-writer.js';
import { loadEtcdServices } from './proto.js';

/** A 64-bit unsigned id (cluster, member): etcd's are random, so numbers may not hold them exactly. */
export type Uint64Like = string | number | bigint;

export interface EtcdApiMember {
  readonly id: Uint64Like;
  readonly name: string;
  readonly peerURLs: readonly string[];
  readonly clientURLs: readonly string[];
  readonly isLearner?: boolean;
}

export interface EtcdApiCluster {
  readonly clusterId: Uint64Like;
  /** This member's id: it goes in every response header. */
  readonly memberId: Uint64Like;
  readonly name: string;
  readonly peerURLs: readonly string[];
  readonly clientURLs: readonly string[];
  /** Every member, this one included; a function when membership changes at run time. */
  readonly members: readonly EtcdApiMember[] | (() => readonly EtcdApiMember[]);
  /**
   * Run-time membership changes (etcdctl member add/remove/update); absent: refused as unimplemented. Each answers
   * once the change is applied on this member, with the member list after it.
   */
  readonly add?: (peerURLs: string[], isLearner: boolean) => Promise<{ member: EtcdApiMember; members: readonly EtcdApiMember[] }>;
  readonly remove?: (id: Uint64Like) => Promise<readonly EtcdApiMember[]>;
  readonly update?: (id: Uint64Like, peerURLs: string[]) => Promise<readonly EtcdApiMember[]>;
}

export interface EtcdApiStatus {
  /** Reported as etcd's server version; etcdctl shows it. */
  readonly version: string;
  readonly dbSize: number;
  /** The leader's member id (0: none known). */
  readonly leader: Uint64Like;
  readonly raftIndex: number;
  readonly raftTerm: number;
  readonly raftAppliedIndex?: number;
  readonly dbSizeInUse?: number;
  readonly isLearner?: boolean;
  readonly errors?: readonly string[];
}

export interface EtcdApiServerOptions {
  readonly store: Store;
  /** 'host:port'; port 0 picks a free one (see the returned `port`). */
  readonly listen: string;
  readonly cluster: EtcdApiCluster;
  /** Answers Maintenance.Status (etcdctl endpoint status). */
  readonly status: () => EtcdApiStatus | Promise<EtcdApiStatus>;
  /**
   * The Raft term for response headers. Default: the raftTerm of the latest status() answer (0 before the first);
   * status() itself may be too costly to call on every request.
   */
  readonly raftTerm?: () => number;
  readonly logger?: Logger;
  /** Default insecure (plaintext h2c), as etcd without --cert-file. */
  readonly credentials?: grpc.ServerCredentials;
  /** Extra grpc-js server options (message size limits, keepalive...). */
  readonly grpcOptions?: grpc.ChannelOptions;
  /** Serve Range/Put/DeleteRange/Txn on the lean path in front of grpc-js (fast-unary.ts). Default true. */
  readonly fastUnary?: boolean;
}

export interface EtcdApiStats {
  readonly watchStreams: number;
  /** Watches open across all watch streams. */
  readonly watches: number;
  readonly keepAliveStreams: number;
  /** Unary KV calls answered by the fast path (fast-unary.ts) rather than grpc-js. */
  readonly fastUnaryCalls: number;
}

export interface EtcdApiServer {
  readonly port: number;
  /** Open streams right now (for metrics, and for tests that check clients' streams are cleaned up). */
  stats(): EtcdApiStats;
  /** Ends every stream (watches, keep-alives) and stops listening; does not close the store. */
  close(): Promise<void>;
}

/**
 * Serves the etcd v3 gRPC API (KV, Watch, Lease, Cluster.MemberList, Maintenance.Status/Alarm) over a Store, so
 * etcdctl and etcd client libraries work against a Skiff member as against etcd.
 */
export async function startEtcdApiServer(options: EtcdApiServerOptions): Promise<EtcdApiServer> {
  const api = new EtcdApi(options);
  const services = loadEtcdServices();
  const grpcOptions: grpc.ServerOptions = {
    // Match etcd's default request limit (1.5 MiB + gRPC overhead) and allow its watch responses.
    'grpc.max_receive_message_length': 2 * 1024 * 1024,
    'grpc.max_send_message_length': 2 ** 31 - 1,
    // Channelz (gRPC's introspection service) is not served here, yet its per-call accounting would run on every
    // request: off.
    'grpc.enable_channelz': 0,
    ...options.grpcOptions,
  };
  const server = new grpc.Server(grpcOptions);
  server.addService(services.KV.service, api.kvService());
  server.addService(services.Watch.service, api.watchService());
  server.addService(services.Lease.service, api.leaseService());
  server.addService(services.Cluster.service, api.clusterService());
  server.addService(services.Maintenance.service, api.maintenanceService());
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(options.listen, options.credentials ?? grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    );
  });
  const fast = options.fastUnary === false ? undefined : startFastUnary(server, api, services, grpcOptions);
  if (options.fastUnary !== false && fast === undefined) {
    options.logger?.warn({}, 'etcd API: the fast path for KV calls could not hook into grpc-js; grpc-js serves them');
  }
  options.logger?.info({ listen: options.listen, port }, 'etcd API: serving');
  let closed = false;
  return {
    port,
    stats: () => ({ ...api.stats(), fastUnaryCalls: fast?.calls ?? 0 }),
    close: async () => {
      if (closed) return;
      closed = true;
      api.closeStreams();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}

/**
 * Hooks the fast path for the KV unary calls in front of grpc-js. Not with a connection idle limit configured: grpc-js
 * counts the streams it serves to tell an idle connection, and would not see these.
 */
function startFastUnary(
  server: grpc.Server,
  api: EtcdApi,
  services: ReturnType<typeof loadEtcdServices>,
  opts: grpc.ServerOptions,
): FastUnaryStats | undefined {
  if (opts['grpc.max_connection_idle_ms'] !== undefined) return undefined;
  const calls = api.kvCalls();
  const methods = new Map<string, FastUnaryMethod>();
  for (const [name, run] of Object.entries(calls)) {
    const def = services.KV.service[name];
    if (def === undefined) return undefined;
    // Put and Range responses are written by hand (pb-writer.ts), the same bytes without protobufjs' conversions.
    const direct = name === 'Put' ? encodePutResponse : name === 'Range' ? encodeRangeResponse : undefined;
    methods.set(def.path, {
      deserialize: (bytes) => def.requestDeserialize(bytes),
      serialize: (value) => direct?.(value) ?? def.responseSerialize(value),
      run,
    });
  }
  const limit = (v: unknown, def: number): number => (typeof v === 'number' ? v : def);
  return installFastUnary(server, methods, {
    maxReceiveMessageLength: limit(opts['grpc.max_receive_message_length'], 4 * 1024 * 1024),
    maxSendMessageLength: limit(opts['grpc.max_send_message_length'], -1),
  });
}

type Handler<Req, Res> = grpc.handleUnaryCall<Req, Res>;

function pbKvOrNull(kv: KeyValue | undefined): PbKeyValue | null {
  return kv === undefined ? null : toPbKv(kv);
}

function uint64(value: Uint64Like): string {
  return BigInt(value).toString();
}

interface Stream {
  close(): void;
}

/** Where a txn's ops stand: the revision it started from, and whether an op so far changed something. */
interface TxnRevisions {
  readonly begin: number;
  changed: boolean;
}

/** Whether the branch a txn ran changed anything (a put, a delete that removed keys, at any depth). */
function txnChanges(r: TxnResponse): boolean {
  return r.responses.some((op) => op.type === 'put' || (op.type === 'delete' && op.deleted > 0) || (op.type === 'txn' && txnChanges(op)));
}

class EtcdApi {
  private readonly store: Store;
  private readonly clusterId: string;
  private readonly memberId: string;
  private lastTerm = 0;
  private readonly streams = new Set<Stream>();

  constructor(private readonly options: EtcdApiServerOptions) {
    this.store = options.store;
    this.clusterId = uint64(options.cluster.clusterId);
    this.memberId = uint64(options.cluster.memberId);
  }

  stats(): Omit<EtcdApiStats, 'fastUnaryCalls'> {
    let watchStreams = 0;
    let watches = 0;
    let keepAliveStreams = 0;
    for (const s of this.streams) {
      if (s instanceof WatchStream) {
        watchStreams++;
        watches += s.size;
      } else keepAliveStreams++;
    }
    return { watchStreams, watches, keepAliveStreams };
  }

  closeStreams(): void {
    for (const s of [...this.streams]) s.close();
  }

  header(revision: number): PbHeader {
    const term = this.options.raftTerm?.() ?? this.lastTerm;
    return { cluster_id: this.clusterId, member_id: this.memberId, revision, raft_term: String(term) };
  }

  /** The store's current revision, for responses whose Store call does not report one. */
  async currentRevision(): Promise<number> {
    const r = await this.store.range({ key: '\0', countOnly: true });
    return r.header.revision;
  }

  /** Maps a failure to etcd's status, logged as such (grpc-js and the fast path alike). */
  private failure(name: string, error: unknown): EtcdGrpcError {
    const mapped = toGrpcError(error);
    const log = this.options.logger;
    if (mapped.code === grpc.status.UNKNOWN) log?.warn({ err: error, method: name }, 'etcd API: request failed');
    else log?.debug({ method: name, error: mapped.message }, 'etcd API: request refused');
    return mapped;
  }

  private unary<Req, Res>(name: string, fn: (request: Req) => Promise<Res>): Handler<Req, Res> {
    return (call, callback) => {
      fn(call.request).then(
        (response) => callback(null, response),
        (error: unknown) => callback(this.failure(name, error)),
      );
    };
  }

  // --- KV ------------------------------------------------------------------------------------------------------

  /** The KV calls the fast path (fast-unary.ts) may serve: each runs the request, failures mapped as for grpc-js. */
  kvCalls(): Record<'Range' | 'Put' | 'DeleteRange' | 'Txn', (request: unknown) => Promise<object>> {
    const wrap =
      <Req>(name: string, fn: (request: Req) => Promise<object>) =>
      (request: unknown): Promise<object> =>
        fn(request as Req).catch((error: unknown) => {
          throw this.failure(name, error);
        });
    return {
      Range: wrap('Range', (req: PbRangeRequest) => this.range(req)),
      Put: wrap('Put', (req: PbPutRequest) => this.put(req)),
      DeleteRange: wrap('DeleteRange', (req: PbDeleteRangeRequest) => this.deleteRange(req)),
      Txn: wrap('Txn', (req: PbTxnRequest) => this.txn(req)),
    };
  }

  kvService(): grpc.UntypedServiceImplementation {
    return {
      Range: this.unary('Range', (req: PbRangeRequest) => this.range(req)),
      Put: this.unary('Put', (req: PbPutRequest) => this.put(req)),
      DeleteRange: this.unary('DeleteRange', (req: PbDeleteRangeRequest) => this.deleteRange(req)),
      Txn: this.unary('Txn', (req: PbTxnRequest) => this.txn(req)),
      Compact: this.unary('Compact', async (req: { revision: Int64 }) => {
        const r = await this.store.compact(int(req.revision));
        return { header: this.header(r.header.revision) };
      }),
    };
  }

  private rangeResponse(r: RangeResponse, post: RangePost | undefined): object {
    const { kvs, more } = post === undefined ? r : applyPost(r.kvs, post);
    return { header: this.header(r.header.revision), kvs: kvs.map(toPbKv), more, count: r.count };
  }

  private async range(req: PbRangeRequest): Promise<object> {
    const { request, post } = toRangeRequest(req);
    return this.rangeResponse(await this.store.range(request), post);
  }

  private async put(req: PbPutRequest): Promise<object> {
    if (req.ignore_value && req.value !== undefined && req.value.length > 0) throw rpcErrors.valueProvided();
    if (req.ignore_lease && int(req.lease) !== 0) throw rpcErrors.leaseProvided();
    const key = decodeKey(req.key);
    if (key === '') throw rpcErrors.emptyKey();
    const lease = leaseIdOf(req.lease);
    if (lease === undefined) throw rpcErrors.leaseNotFound();
    const prevKv = req.prev_kv === true;
    if (!req.ignore_value && !req.ignore_lease) {
      const r = await this.store.put(key, decodeValue(req.value), { lease, prevKv });
      return { header: this.header(r.header.revision), prev_kv: pbKvOrNull(r.prevKv) };
    }
    // Keep the current value and/or lease: read it, then write only if nothing changed in between.
    for (let attempt = 0; ; attempt++) {
      const current = (await this.store.range({ key })).kvs[0];
      if (current === undefined) throw rpcErrors.keyNotFound();
      const r = await this.store.txn({
        compare: [{ key, target: 'modRevision', result: '=', value: current.modRevision }],
        success: [
          {
            type: 'put',
            key,
            value: req.ignore_value ? current.value : decodeValue(req.value),
            lease: req.ignore_lease ? current.lease : lease,
            prevKv,
          },
        ],
        failure: [],
      });
      const first = r.responses[0];
      if (r.succeeded && first?.type === 'put') {
        return { header: this.header(r.header.revision), prev_kv: pbKvOrNull(first.prevKv) };
      }
      if (attempt >= 100) throw rpcErrors.timeout();
    }
  }

  private async deleteRange(req: PbDeleteRangeRequest): Promise<object> {
    const range = toKeyRange(req.key, req.range_end);
    const r = await this.store.delete(range, { prevKv: req.prev_kv === true });
    return { header: this.header(r.header.revision), deleted: r.deleted, prev_kvs: r.prevKvs.map(toPbKv) };
  }

  private async txn(req: PbTxnRequest): Promise<object> {
    const { request, post } = toTxnRequest(req);
    const r = await this.store.txn(request);
    return this.txnResponse(r, post);
  }

  private txnResponse(r: TxnResponse, post: TxnPost): object {
    const changed = txnChanges(r);
    // The revision the txn started from: it takes one new revision iff it changed something.
    const at: TxnRevisions = { begin: changed ? r.header.revision - 1 : r.header.revision, changed: false };
    return {
      header: this.header(r.header.revision),
      succeeded: r.succeeded,
      responses: this.opResponses(r, post, at),
    };
  }

  /**
   * The responses of a txn's ops with the header revisions etcd 3.4 gives them (only the top-level header is
   * complete; inner ones carry a revision alone): a range reports the revision it read (the txn's start, or one
   * past it once an earlier op changed something), a put one past the start, a delete one past the start if it
   * or an earlier op changed something, and a nested txn 0.
   */
  private opResponses(r: TxnResponse, post: TxnPost, at: TxnRevisions): object[] {
    const posts = r.succeeded ? post.success : post.failure;
    return r.responses.map((op, i) => this.opResponse(op, posts[i] ?? {}, at));
  }

  private opResponse(op: OpResponse, post: OpPost, at: TxnRevisions): object {
    const rev = (): { revision: number } => ({ revision: at.begin + (at.changed ? 1 : 0) });
    switch (op.type) {
      case 'range': {
        const { kvs, more } = post.range === undefined ? op : applyPost(op.kvs, post.range);
        return { response_range: { header: rev(), kvs: kvs.map(toPbKv), more, count: op.count } };
      }
      case 'put':
        at.changed = true;
        return { response_put: { header: rev(), prev_kv: pbKvOrNull(op.prevKv) } };
      case 'delete':
        if (op.deleted > 0) at.changed = true;
        return { response_delete_range: { header: rev(), deleted: op.deleted, prev_kvs: op.prevKvs.map(toPbKv) } };
      case 'txn':
        return {
          response_txn: {
            header: { revision: 0 },
            succeeded: op.succeeded,
            responses: this.opResponses(op, post.txn ?? { success: [], failure: [] }, at),
          },
        };
    }
  }

  // --- Watch ---------------------------------------------------------------------------------------------------

  watchService(): grpc.UntypedServiceImplementation {
    return {
      Watch: (call: grpc.ServerDuplexStream<PbWatchRequest, object>) => {
        const stream = new WatchStream(this, this.store, call, this.options.logger);
        this.streams.add(stream);
        stream.onClose = () => this.streams.delete(stream);
      },
    };
  }

  // --- Lease ---------------------------------------------------------------------------------------------------

  leaseService(): grpc.UntypedServiceImplementation {
    return {
      LeaseGrant: this.unary('LeaseGrant', async (req: { TTL: Int64; ID: Int64 }) => {
        const id = leaseIdOf(req.ID);
        if (id === undefined) throw rpcErrors.invalid(`lease id ${req.ID} is out of Skiff's range (1 to 2^53-1)`);
        const r = await this.store.leaseGrant(int(req.TTL), id === 0 ? undefined : id);
        return { header: this.header(r.header.revision), ID: r.id, TTL: r.ttl, error: '' };
      }),
      LeaseRevoke: this.unary('LeaseRevoke', async (req: { ID: Int64 }) => {
        const id = leaseIdOf(req.ID);
        if (id === undefined || id === 0) throw rpcErrors.leaseNotFound();
        const r = await this.store.leaseRevoke(id);
        return { header: this.header(r.header.revision) };
      }),
      LeaseKeepAlive: (call: grpc.ServerDuplexStream<{ ID: Int64 }, object>) => {
        const stream = new KeepAliveStream(this, call, this.options.logger);
        this.streams.add(stream);
        stream.onClose = () => this.streams.delete(stream);
      },
      LeaseTimeToLive: this.unary('LeaseTimeToLive', async (req: { ID: Int64; keys: boolean }) => {
        const id = leaseIdOf(req.ID);
        const revision = await this.currentRevision();
        const header = this.header(revision);
        // As etcd: an unknown lease is not an error here, it answers TTL -1.
        if (id === undefined || id === 0) return { header, ID: req.ID, TTL: -1, grantedTTL: 0, keys: [] };
        const r = await this.store.leaseTimeToLive(id, { keys: req.keys === true });
        return { header, ID: r.id, TTL: r.ttl, grantedTTL: r.grantedTtl, keys: (r.keys ?? []).map(encode) };
      }),
      LeaseLeases: this.unary('LeaseLeases', async () => {
        const [ids, revision] = await Promise.all([this.store.leases(), this.currentRevision()]);
        return { header: this.header(revision), leases: ids.map((ID) => ({ ID })) };
      }),
    };
  }

  async keepAlive(idField: Int64): Promise<object> {
    const id = leaseIdOf(idField);
    let ttl = 0;
    if (id !== undefined && id !== 0) {
      try {
        ttl = await this.store.leaseKeepAlive(id);
      } catch (error) {
        // etcd answers an unknown lease with TTL 0 on the stream rather than ending it.
        if (!(error instanceof ErrLeaseNotFound)) throw error;
      }
    }
    return { header: this.header(await this.currentRevision()), ID: idField, TTL: ttl };
  }

  // --- Cluster, Maintenance ------------------------------------------------------------------------------------

  clusterService(): grpc.UntypedServiceImplementation {
    const cluster = this.options.cluster;
    const pbMember = (m: EtcdApiMember): object => ({
      ID: uint64(m.id),
      name: m.name,
      peerURLs: [...m.peerURLs],
      clientURLs: [...m.clientURLs],
      isLearner: m.isLearner === true,
    });
    // etcd reports no revision in membership answers: membership is not part of the key space.
    const answer = (members: readonly EtcdApiMember[]): object => ({ header: this.header(0), members: members.map(pbMember) });
    const unimplemented = (what: string): EtcdGrpcError => new EtcdGrpcError(grpc.status.UNIMPLEMENTED, `etcdserver: ${what} is not supported by this server`);
    return {
      MemberList: this.unary('MemberList', async () => {
        const { members } = cluster;
        return answer(typeof members === 'function' ? members() : members);
      }),
      MemberAdd: this.unary('MemberAdd', async (req: { peerURLs: string[]; isLearner: boolean }) => {
        if (cluster.add === undefined) throw unimplemented('member add');
        const r = await cluster.add([...(req.peerURLs ?? [])], req.isLearner === true);
        return { ...answer(r.members), member: pbMember(r.member) };
      }),
      MemberRemove: this.unary('MemberRemove', async (req: { ID: Int64 }) => {
        if (cluster.remove === undefined) throw unimplemented('member remove');
        return answer(await cluster.remove(String(req.ID ?? '0')));
      }),
      MemberUpdate: this.unary('MemberUpdate', async (req: { ID: Int64; peerURLs: string[] }) => {
        if (cluster.update === undefined) throw unimplemented('member update');
        return answer(await cluster.update(String(req.ID ?? '0'), [...(req.peerURLs ?? [])]));
      }),
      // Skiff has no learners, so there is never one to promote (etcd's answer for a voting member).
      MemberPromote: this.unary('MemberPromote', async () => {
        throw new EtcdGrpcError(grpc.status.FAILED_PRECONDITION, 'etcdserver: can only promote a learner member');
      }),
    };
  }

  maintenanceService(): grpc.UntypedServiceImplementation {
    return {
      Status: this.unary('Status', async () => {
        const [s, revision] = await Promise.all([this.options.status(), this.currentRevision()]);
        this.lastTerm = s.raftTerm;
        return {
          header: this.header(revision),
          version: s.version,
          dbSize: s.dbSize,
          leader: uint64(s.leader),
          raftIndex: s.raftIndex,
          raftTerm: s.raftTerm,
          raftAppliedIndex: s.raftAppliedIndex ?? s.raftIndex,
          errors: [...(s.errors ?? [])],
          dbSizeInUse: s.dbSizeInUse ?? s.dbSize,
          isLearner: s.isLearner === true,
        };
      }),
      // Skiff raises no alarms (no space quota, no corruption check): every action answers an empty list, and, as
      // etcd 3.4's Alarm does, no response header.
      Alarm: this.unary('Alarm', async () => ({ alarms: [] })),
    };
  }
}

/** Runs async work strictly in arrival order (responses on a stream must follow their requests' order). */
class SerialQueue {
  private tail: Promise<void> = Promise.resolve();
  constructor(private readonly onError: (error: unknown) => void) {}
  push(fn: () => Promise<void>): void {
    this.tail = this.tail.then(fn).catch(this.onError);
  }
}

interface PbWatchCreate {
  key: Buffer;
  range_end: Buffer;
  start_revision: Int64;
  progress_notify: boolean;
  filters: number[];
  prev_kv: boolean;
  watch_id: Int64;
}

interface PbWatchRequest {
  request_union?: 'create_request' | 'cancel_request' | 'progress_request';
  create_request?: PbWatchCreate | null;
  cancel_request?: { watch_id: Int64 } | null;
  progress_request?: object | null;
}

const NO_WATCH_ID = -1;

interface ProgressRound {
  remaining: number;
  revision: number;
}

interface StreamWatch {
  readonly id: number;
  watch: Watch | undefined;
  /** Messages that came before the created response went out. */
  buffer: WatchMessage[] | undefined;
  /** Progress rounds (watch-stream progress requests) this watch still owes a progress message to, oldest first. */
  rounds: ProgressRound[];
  ended: boolean;
}

/** One Watch bidi stream: any number of watches, ids chosen per stream as etcd does (0, 1, 2...). */
class WatchStream implements Stream {
  private readonly watches = new Map<number, StreamWatch>();
  private nextId = 0;
  private closed = false;
  private readonly queue: SerialQueue;
  onClose: () => void = () => {};

  constructor(
    private readonly api: EtcdApi,
    private readonly store: Store,
    private readonly call: grpc.ServerDuplexStream<PbWatchRequest, object>,
    private readonly logger: Logger | undefined,
  ) {
    this.queue = new SerialQueue((error) => this.fail(error));
    call.on('data', (req: PbWatchRequest) => this.queue.push(() => this.handle(req)));
    call.on('end', () => this.close());
    call.on('error', () => this.close());
    call.on('cancelled', () => this.close());
    call.on('close', () => this.close());
  }

  get size(): number {
    return this.watches.size;
  }

  private send(message: object): void {
    if (this.closed) return;
    this.call.write(message);
  }

  private fail(error: unknown): void {
    this.logger?.warn({ err: error }, 'etcd API: watch stream failed');
    if (this.closed) return;
    const e = toGrpcError(error);
    this.call.emit('error', { code: e.code, details: e.details });
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.watches.values()) {
      w.ended = true;
      void w.watch?.cancel();
    }
    this.watches.clear();
    try {
      this.call.end();
    } catch {
      // already ended
    }
    this.onClose();
  }

  private async handle(req: PbWatchRequest): Promise<void> {
    if (this.closed) return;
    switch (req.request_union) {
      case 'create_request':
        return this.create(req.create_request!);
      case 'cancel_request':
        return this.cancel(int(req.cancel_request!.watch_id));
      case 'progress_request':
        return this.progress();
      default:
        return;
    }
  }

  private async create(req: PbWatchCreate): Promise<void> {
    const requested = int(req.watch_id);
    let id: number;
    if (requested !== 0) {
      if (this.watches.has(requested)) {
        const revision = await this.currentRevision();
        this.send({
          header: this.api.header(revision),
          watch_id: NO_WATCH_ID,
          created: true,
          canceled: true,
          cancel_reason: 'mvcc: duplicate watch ID provided on the WatchStream',
        });
        return;
      }
      id = requested;
    } else {
      while (this.watches.has(this.nextId)) this.nextId++;
      id = this.nextId++;
    }
    const entry: StreamWatch = { id, watch: undefined, buffer: [], rounds: [], ended: false };
    this.watches.set(id, entry);
    let range: KeyRange;
    let revision: number;
    try {
      range = toKeyRange(req.key, req.range_end);
      // The created response's revision, and (with no start revision) exactly where the watch begins.
      revision = await this.currentRevision();
      const start = int(req.start_revision);
      const filters = req.filters ?? [];
      entry.watch = await this.store.watch(
        {
          ...range,
          startRevision: start > 0 ? start : revision + 1,
          prevKv: req.prev_kv === true,
          progressNotify: req.progress_notify === true,
          noPut: filters.includes(0),
          noDelete: filters.includes(1),
        },
        (message) => this.onMessage(entry, message),
      );
    } catch (error) {
      this.watches.delete(id);
      const e = toGrpcError(error);
      this.send({
        header: this.api.header(await this.currentRevision().catch(() => 0)),
        watch_id: id,
        created: true,
        canceled: true,
        cancel_reason: e.details,
        compact_revision: error instanceof ErrCompacted ? error.compactRevision : 0,
      });
      return;
    }
    if (this.closed) {
      void entry.watch.cancel();
      return;
    }
    this.send({ header: this.api.header(revision), watch_id: id, created: true });
    const buffered = entry.buffer ?? [];
    entry.buffer = undefined;
    for (const message of buffered) this.deliver(entry, message);
  }

  private onMessage(entry: StreamWatch, message: WatchMessage): void {
    if (entry.ended || this.closed) return;
    if (entry.buffer !== undefined) entry.buffer.push(message);
    else this.deliver(entry, message);
  }

  private deliver(entry: StreamWatch, message: WatchMessage): void {
    if (entry.ended || this.closed) return;
    switch (message.type) {
      case 'events':
        this.send({
          header: this.api.header(message.revision),
          watch_id: entry.id,
          events: message.events.map((e) => ({
            type: e.type === 'PUT' ? 0 : 1,
            kv: toPbKv(e.kv),
            prev_kv: pbKvOrNull(e.prevKv),
          })),
        });
        return;
      case 'progress': {
        const round = entry.rounds.shift();
        if (round === undefined) {
          // A periodic notification for a watch created with progress_notify.
          this.send({ header: this.api.header(message.revision), watch_id: entry.id });
        } else {
          this.settle(round, message.revision);
        }
        return;
      }
      case 'error': {
        this.end(entry);
        const error = message.error;
        if (error instanceof ErrCompacted) {
          this.send({
            header: this.api.header(0),
            watch_id: entry.id,
            canceled: true,
            compact_revision: error.compactRevision,
          });
        } else {
          this.send({
            header: this.api.header(0),
            watch_id: entry.id,
            canceled: true,
            cancel_reason: toGrpcError(error).details,
          });
        }
        return;
      }
    }
  }

  /** Forgets a watch; the progress rounds it owed no longer wait for it. */
  private end(entry: StreamWatch): void {
    entry.ended = true;
    this.watches.delete(entry.id);
    for (const round of entry.rounds.splice(0)) this.settle(round, undefined);
  }

  private settle(round: ProgressRound, revision: number | undefined): void {
    if (revision !== undefined) round.revision = Math.min(round.revision, revision);
    round.remaining--;
    if (round.remaining === 0 && round.revision !== Infinity) {
      this.send({ header: this.api.header(round.revision), watch_id: NO_WATCH_ID });
    }
  }

  private async cancel(id: number): Promise<void> {
    const entry = this.watches.get(id);
    if (entry === undefined) return;
    this.end(entry);
    await entry.watch?.cancel();
    this.send({ header: this.api.header(await this.currentRevision()), watch_id: id, canceled: true });
  }

  /**
   * etcd answers a progress request with one response (watch_id -1) once every watch on the stream has delivered
   * everything up to the revision it reports; with no watches, it answers nothing.
   */
  private async progress(): Promise<void> {
    const live = [...this.watches.values()].filter((w) => w.watch !== undefined && !w.ended);
    if (live.length === 0) return;
    const round: ProgressRound = { remaining: live.length, revision: Infinity };
    for (const w of live) {
      w.rounds.push(round);
      w.watch!.requestProgress();
    }
  }

  private currentRevision(): Promise<number> {
    return this.api.currentRevision();
  }
}

/** One LeaseKeepAlive bidi stream: every request renews a lease and is answered in order. */
class KeepAliveStream implements Stream {
  private closed = false;
  private readonly queue: SerialQueue;
  onClose: () => void = () => {};

  constructor(
    private readonly api: EtcdApi,
    private readonly call: grpc.ServerDuplexStream<{ ID: Int64 }, object>,
    private readonly logger: Logger | undefined,
  ) {
    this.queue = new SerialQueue((error) => {
      this.logger?.warn({ err: error }, 'etcd API: lease keep-alive stream failed');
      if (this.closed) return;
      const e = toGrpcError(error);
      this.call.emit('error', { code: e.code, details: e.details });
      this.close();
    });
    call.on('data', (req: { ID: Int64 }) =>
      this.queue.push(async () => {
        const response = await this.api.keepAlive(req.ID);
        if (!this.closed) this.call.write(response);
      }),
    );
    call.on('end', () => this.close());
    call.on('error', () => this.close());
    call.on('cancelled', () => this.close());
    call.on('close', () => this.close());
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.call.end();
    } catch {
      // already ended
    }
    this.onClose();
  }
}

