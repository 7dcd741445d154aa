import { readFileSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import type { CallOptions } from '@grpc/grpc-js';
import { Etcd3, type IOptions } from 'etcd3';
import type * as RPC from 'etcd3';
import { silentLogger, type Logger } from '../../../lib/log.js';
import {
  ErrCompacted,
  ErrDuplicateKey,
  ErrEmptyKey,
  ErrFutureRev,
  ErrInvalidRequest,
  ErrLeaseExists,
  ErrLeaseNotFound,
  ErrLeaseTtlTooLarge,
  ErrStoreClosed,
  ErrTooManyOps,
  StoreError,
} from '../errors.js';
import { asKeyRange } from '../keys.js';
import type {
  CompactResponse,
  DeleteOptions,
  DeleteResponse,
  KeyRange,
  LeaseGrantResponse,
  LeaseId,
  LeaseRevokeResponse,
  LeaseTimeToLiveResponse,
  OpResponse,
  PutOptions,
  PutResponse,
  RangeRequest,
  RangeResponse,
  ResponseHeader,
  Store,
  TxnRequest,
  TxnResponse,
  Watch,
  WatchListener,
  WatchRequest,
} from '../store.js';
import {
  dec,
  duplicateKeyOf,
  enc,
  int,
  keyRange,
  kvFromEtcd,
  leaseFromEtcd,
  leaseToEtcd,
  rangeRequest,
  txnLeases,
  txnReadRevision,
  txnToEtcd,
} from './convert.js';
import { classifyEtcdError, isTransient, type EtcdErrorKind } from './errors.js';
import { EtcdWatch, closeStream, type ProgressOrdering } from './watch.js';

/** PEM material, inline or as file paths (as kube-apiserver's --etcd-cafile/--etcd-certfile/--etcd-keyfile). */
export interface EtcdTlsOptions {
  readonly ca?: string | Buffer;
  readonly caFile?: string;
  readonly cert?: string | Buffer;
  readonly certFile?: string;
  readonly key?: string | Buffer;
  readonly keyFile?: string;
}

export interface EtcdStoreOptions {
  /** Client URLs, e.g. ['http://127.0.0.1:2379'] (https:// with `tls`). */
  readonly endpoints: readonly string[];
  readonly tls?: EtcdTlsOptions;
  readonly auth?: { readonly username: string; readonly password: string };
  readonly logger?: Logger;
  /** The etcd server's --max-txn-ops, reported in ErrTooManyOps (etcd does not say). Default 128, etcd's default. */
  readonly maxTxnOps?: number;
  /** Deadline of each unary request. Default 30 s. */
  readonly requestTimeoutMs?: number;
  /**
   * Whether etcd's answers to RequestProgress can be passed on as they come (see ProgressOrdering). Default 'auto':
   * 'trust' from etcd 3.4.24 / 3.5.8 / 3.6 on, 'verify' for older servers or when the version cannot be read.
   */
  readonly progressOrdering?: ProgressOrdering | 'auto';
}

const MAX_SAFE_LEASE_ID = Number.MAX_SAFE_INTEGER;

export function createEtcdStore(options: EtcdStoreOptions): EtcdStore {
  return new EtcdStore(options);
}

function pem(inline: string | Buffer | undefined, file: string | undefined): Buffer | undefined {
  if (inline !== undefined) return Buffer.isBuffer(inline) ? inline : Buffer.from(inline);
  if (file !== undefined) return readFileSync(file);
  return undefined;
}

/** "3.4.23" → whether RequestProgress answers are ordered with the watch's events (etcd-io/etcd#15237). */
export function progressOrderingOf(version: string): ProgressOrdering {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (m === null) return 'verify';
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (major > 3 || (major === 3 && minor >= 6)) return 'trust';
  if (major === 3 && minor === 5) return patch >= 8 ? 'trust' : 'verify';
  if (major === 3 && minor === 4) return patch >= 24 ? 'trust' : 'verify';
  return 'verify';
}

/** A policy that runs the call once: etcd3's default retries writes that may already have been applied. */
const runOnce = {
  execute: <T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T) =>
    Promise.resolve().then(() => fn({ signal: new AbortController().signal })),
  onSuccess: () => ({ dispose() {} }),
  onFailure: () => ({ dispose() {} }),
} as unknown as NonNullable<NonNullable<IOptions['faultHandling']>['global']>;

/**
 * The Store over an etcd v3 cluster, through the etcd3 client's raw RPC services (client.kv, client.watchClient,
 * client.leaseClient): every Store call is one etcd request of the same meaning, so revisions, compare semantics,
 * txn limits and watch history are etcd's own.
 *
 * Differences the Store hides:
 * - strings ⇄ UTF-8 bytes; prefixes end on the UTF-8 bytes.
 * - lease ids: Store ids are JS numbers. leaseGrant without an id picks a random safe integer and grants with it
 *   (retrying on a collision); ids etcd reports that are not safe integers (leases made by other etcd clients) are
 *   refused with ErrInvalidRequest rather than rounded.
 * - errors: etcd's gRPC errors become the Store's typed errors, with the details etcd leaves out looked up:
 *   ErrCompacted's compaction revision (from a watch below it, which etcd answers with compact_revision),
 *   ErrFutureRev's current revision, ErrDuplicateKey's key, ErrLeaseNotFound's id. Other failures (unavailable,
 *   timeouts, no leader) are passed through as the etcd3 client's errors. Only idempotent reads are retried.
 * - leaseKeepAlive is one keep-alive round trip (the caller keeps the lease alive by calling it).
 * - watches: one etcd Watch stream per Store watch, resumed after a broken stream at the next undelivered revision;
 *   responses are split into one message per revision; requestProgress answers are checked against etcd's
 *   out-of-order progress bug on servers older than 3.4.24 / 3.5.8 (see ProgressOrdering in watch.ts).
 */
export class EtcdStore implements Store {
  /** The underlying etcd3 client, for tooling and tests; requests made through it bypass the Store's checks. */
  readonly client: Etcd3;
  private readonly logger: Logger;
  private readonly maxTxnOps: number;
  private readonly requestTimeoutMs: number;
  private readonly watches = new Set<EtcdWatch>();
  private readonly orderingOption: ProgressOrdering | 'auto';
  private ordering: Promise<ProgressOrdering> | undefined;
  private nextWatchId = 1;
  private closed = false;

  constructor(options: EtcdStoreOptions) {
    if (options.endpoints.length === 0) throw new ErrInvalidRequest('etcd store: no endpoints');
    this.logger = options.logger ?? silentLogger();
    this.maxTxnOps = options.maxTxnOps ?? 128;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.orderingOption = options.progressOrdering ?? 'auto';
    const tls = options.tls;
    const ca = pem(tls?.ca, tls?.caFile);
    const clientOptions: IOptions = {
      hosts: [...options.endpoints],
      faultHandling: { global: runOnce },
      // grpc-js refuses messages over 4 MiB by default; a range over a big prefix or a watch replaying history can
      // be larger (etcd itself sends up to 2 GiB). kube-apiserver's etcd client lifts the limit the same way.
      grpcOptions: { 'grpc.max_receive_message_length': -1 },
      ...(tls !== undefined
        ? {
            credentials: {
              // grpc-js uses the system roots when no CA is given.
              rootCertificate: ca as Buffer,
              ...(pem(tls.key, tls.keyFile) !== undefined ? { privateKey: pem(tls.key, tls.keyFile) } : {}),
              ...(pem(tls.cert, tls.certFile) !== undefined ? { certChain: pem(tls.cert, tls.certFile) } : {}),
            },
          }
        : {}),
      ...(options.auth !== undefined
        ? { auth: { username: options.auth.username, password: options.auth.password } }
        : {}),
    };
    this.client = new Etcd3(clientOptions);
  }

  // --- KV --------------------------------------------------------------------------------------------------------

  async range(request: RangeRequest): Promise<RangeResponse> {
    this.assertOpen();
    const req = rangeRequest(request);
    const res = await this.call(() => this.client.kv.range(req, this.callOptions()), {
      idempotent: true,
      revision: request.revision,
    });
    return this.rangeResponse(res, request.countOnly === true);
  }

  async put(key: string, value: string, options: PutOptions = {}): Promise<PutResponse> {
    this.assertOpen();
    if (typeof key !== 'string' || typeof value !== 'string') {
      throw new ErrInvalidRequest('put: key and value must be strings');
    }
    if (key === '') throw new ErrEmptyKey();
    const req: RPC.IPutRequest = {
      key: enc(key),
      value: enc(value),
      lease: leaseToEtcd(options.lease),
      prev_kv: options.prevKv === true,
    };
    const res = await this.call(() => this.client.kv.put(req, this.callOptions()), { lease: options.lease });
    const header = this.header(res.header);
    return res.prev_kv ? { header, prevKv: kvFromEtcd(res.prev_kv) } : { header };
  }

  async delete(key: string | KeyRange, options: DeleteOptions = {}): Promise<DeleteResponse> {
    this.assertOpen();
    const req: RPC.IDeleteRangeRequest = { ...keyRange(asKeyRange(key)), prev_kv: options.prevKv === true };
    const res = await this.call(() => this.client.kv.deleteRange(req, this.callOptions()), {});
    return {
      header: this.header(res.header),
      deleted: int(res.deleted, 'deleted count'),
      prevKvs: options.prevKv === true ? (res.prev_kvs ?? []).map(kvFromEtcd) : [],
    };
  }

  async txn(request: TxnRequest): Promise<TxnResponse> {
    this.assertOpen();
    const req = txnToEtcd(request);
    const res = await this.call(() => this.client.kv.txn(req, this.callOptions()), { txn: request });
    // All of a txn's ops happen at one revision: sub-responses carry the txn's header, as in the other backends.
    return this.txnResponse(res, this.header(res.header));
  }

  async compact(revision: number): Promise<CompactResponse> {
    this.assertOpen();
    if (!Number.isSafeInteger(revision) || revision < 0) {
      throw new ErrInvalidRequest(`compact: revision must be a non-negative integer, got ${revision}`);
    }
    const res = await this.call(() => this.client.kv.compact({ revision, physical: false }, this.callOptions()), {
      revision,
      compaction: true,
    });
    return { header: this.header(res.header) };
  }

  // --- Watch -----------------------------------------------------------------------------------------------------

  async watch(request: WatchRequest, listener: WatchListener): Promise<Watch> {
    this.assertOpen();
    const ordering = await this.progressOrdering();
    const watch = new EtcdWatch(request, listener, {
      id: this.nextWatchId++,
      open: () => this.client.watchClient.watch(),
      ordering,
      logger: this.logger,
      typedError: (error) => this.simpleTypedError(error),
      onEnd: (w) => this.watches.delete(w),
      createTimeoutMs: this.requestTimeoutMs,
    });
    this.watches.add(watch);
    try {
      await watch.start();
    } catch (error) {
      await watch.cancel();
      throw this.simpleTypedError(error) ?? error;
    }
    if (this.closed) {
      await watch.cancel();
      throw new ErrStoreClosed();
    }
    return watch;
  }

  // --- Lease -----------------------------------------------------------------------------------------------------

  async leaseGrant(ttlSeconds: number, id?: LeaseId): Promise<LeaseGrantResponse> {
    this.assertOpen();
    if (typeof ttlSeconds !== 'number' || Number.isNaN(ttlSeconds)) {
      throw new ErrInvalidRequest(`lease TTL must be a number, got ${ttlSeconds}`);
    }
    if (!Number.isFinite(ttlSeconds)) throw new ErrLeaseTtlTooLarge(ttlSeconds);
    const ttl = Math.max(0, Math.ceil(ttlSeconds));
    const chosen = id !== undefined && id !== 0;
    if (chosen) leaseToEtcd(id);
    for (let attempt = 1; ; attempt++) {
      const leaseId = chosen ? id : randomInt(1, 2 ** 48) * 32 + randomInt(0, 32); // uniform-ish over [32, 2^53)
      if (leaseId > MAX_SAFE_LEASE_ID) continue;
      try {
        const res = await this.call(
          () => this.client.leaseClient.leaseGrant({ TTL: ttl, ID: String(leaseId) }, this.callOptions()),
          { lease: leaseId, ttl: ttlSeconds },
        );
        if (res.error) throw new ErrInvalidRequest(`etcd lease grant: ${res.error}`);
        const granted = leaseFromEtcd(res.ID);
        if (granted !== leaseId) throw new ErrInvalidRequest(`etcd granted lease ${res.ID}, asked for ${leaseId}`);
        return { header: this.header(res.header), id: granted, ttl: int(res.TTL, 'TTL') };
      } catch (error) {
        // A random id taken by another lease: pick another.
        if (!chosen && error instanceof ErrLeaseExists && attempt < 5) continue;
        throw error;
      }
    }
  }

  async leaseKeepAlive(id: LeaseId): Promise<number> {
    this.assertOpen();
    const ID = leaseToEtcd(id);
    if (id === 0) throw new ErrLeaseNotFound(id);
    let stream: RPC.IDuplexStream<RPC.ILeaseKeepAliveRequest, RPC.ILeaseKeepAliveResponse>;
    try {
      stream = await this.client.leaseClient.leaseKeepAlive();
    } catch (error) {
      throw await this.mapError(error, { lease: id });
    }
    let ttl: number;
    try {
      ttl = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`etcd did not answer the keep-alive in ${this.requestTimeoutMs} ms`)),
          this.requestTimeoutMs,
        );
        stream.on('data', (res: RPC.ILeaseKeepAliveResponse) => {
          clearTimeout(timer);
          try {
            resolve(int(res.TTL, 'TTL'));
          } catch (error) {
            reject(error);
          }
        });
        stream.on('error', (error: Error) => {
          clearTimeout(timer);
          reject(error);
        });
        stream.on('end', () => {
          clearTimeout(timer);
          reject(new Error('etcd closed the keep-alive stream'));
        });
        stream.write({ ID });
      });
    } catch (error) {
      throw await this.mapError(error, { lease: id });
    } finally {
      closeStream(stream);
    }
    // etcd answers TTL 0 (not an error) for a lease that is gone or expired.
    if (ttl <= 0) throw new ErrLeaseNotFound(id);
    return ttl;
  }

  async leaseRevoke(id: LeaseId): Promise<LeaseRevokeResponse> {
    this.assertOpen();
    const ID = leaseToEtcd(id);
    if (id === 0) throw new ErrLeaseNotFound(id);
    const res = await this.call(() => this.client.leaseClient.leaseRevoke({ ID }, this.callOptions()), { lease: id });
    return { header: this.header(res.header) };
  }

  async leaseTimeToLive(id: LeaseId, options: { keys?: boolean } = {}): Promise<LeaseTimeToLiveResponse> {
    this.assertOpen();
    const ID = leaseToEtcd(id);
    if (id === 0) return { id, ttl: -1, grantedTtl: 0 };
    const res = await this.call(
      () => this.client.leaseClient.leaseTimeToLive({ ID, keys: options.keys === true }, this.callOptions()),
      { idempotent: true, lease: id },
    );
    const ttl = int(res.TTL, 'TTL');
    if (ttl < 0) return { id, ttl: -1, grantedTtl: 0 };
    const answer = { id, ttl, grantedTtl: int(res.grantedTTL, 'granted TTL') };
    if (options.keys !== true) return answer;
    return { ...answer, keys: (res.keys ?? []).map((k) => dec(k)).sort() };
  }

  async leases(): Promise<LeaseId[]> {
    this.assertOpen();
    const res = await this.call(() => this.client.leaseClient.leaseLeases(this.callOptions()), { idempotent: true });
    return (res.leases ?? []).map((l) => leaseFromEtcd(l.ID)).sort((a, b) => a - b);
  }

  // --- lifecycle -------------------------------------------------------------------------------------------------

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const closed = new ErrStoreClosed();
    for (const watch of [...this.watches]) watch.fail(closed);
    this.watches.clear();
    this.client.close();
  }

  /** The etcd server version of one endpoint (maintenance Status), e.g. '3.4.23'. */
  async serverVersion(): Promise<string> {
    this.assertOpen();
    const status = await this.call(() => this.client.maintenance.status(this.callOptions()), { idempotent: true });
    return status.version;
  }

  // --- internals -------------------------------------------------------------------------------------------------

  private assertOpen(): void {
    if (this.closed) throw new ErrStoreClosed();
  }

  private callOptions(): CallOptions {
    return { deadline: Date.now() + this.requestTimeoutMs };
  }

  private progressOrdering(): Promise<ProgressOrdering> {
    if (this.orderingOption !== 'auto') return Promise.resolve(this.orderingOption);
    this.ordering ??= this.serverVersion().then(
      (version) => {
        const ordering = progressOrderingOf(version);
        if (ordering === 'verify') {
          this.logger.info(
            { etcdVersion: version },
            'etcd answers watch progress requests out of order with events (fixed in 3.4.24/3.5.8); verifying them',
          );
        }
        return ordering;
      },
      (error: unknown) => {
        this.ordering = undefined; // ask again next time
        this.logger.warn({ err: error }, 'cannot read the etcd version; verifying watch progress answers');
        return 'verify' as const;
      },
    );
    return this.ordering;
  }

  private header(header: RPC.IResponseHeader | null | undefined): ResponseHeader {
    return { revision: int(header?.revision, 'revision') };
  }

  private rangeResponse(res: RPC.IRangeResponse, countOnly: boolean, header = this.header(res.header)): RangeResponse {
    return {
      header,
      kvs: countOnly ? [] : (res.kvs ?? []).map(kvFromEtcd),
      more: res.more === true,
      count: int(res.count, 'count'),
    };
  }

  private txnResponse(res: RPC.ITxnResponse, header: ResponseHeader): TxnResponse {
    return {
      header,
      succeeded: res.succeeded === true,
      responses: (res.responses ?? []).map((r) => this.opResponse(r, header)),
    };
  }

  private opResponse(r: RPC.IResponseOp, header: ResponseHeader): OpResponse {
    if (r.response_range) return { type: 'range', ...this.rangeResponse(r.response_range, false, header) };
    if (r.response_put) {
      const prev = r.response_put.prev_kv;
      return prev ? { type: 'put', header, prevKv: kvFromEtcd(prev) } : { type: 'put', header };
    }
    if (r.response_delete_range) {
      const d = r.response_delete_range;
      return {
        type: 'delete',
        header,
        deleted: int(d.deleted, 'deleted count'),
        prevKvs: (d.prev_kvs ?? []).map(kvFromEtcd),
      };
    }
    if (r.response_txn) return { type: 'txn', ...this.txnResponse(r.response_txn, header) };
    throw new ErrInvalidRequest(`etcd answered a txn op response of no known kind: ${JSON.stringify(r)}`);
  }

  /** Runs one unary request, retrying idempotent ones on transport failures, and maps etcd's errors. */
  private async call<T>(fn: () => Promise<T>, context: ErrorContext & { idempotent?: boolean }): Promise<T> {
    const attempts = context.idempotent === true ? 3 : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if (this.closed) throw new ErrStoreClosed();
        if (attempt < attempts && isTransient(error)) {
          await new Promise((resolve) => setTimeout(resolve, 100 * 3 ** (attempt - 1)));
          continue;
        }
        throw await this.mapError(error, context);
      }
    }
  }

  /** Typed errors that need no extra request to build (for watch streams). */
  private simpleTypedError(error: unknown): StoreError | undefined {
    if (error instanceof StoreError) return error;
    const kind = classifyEtcdError(error);
    if (kind === 'closed') return new ErrStoreClosed();
    if (kind === 'empty-key') return new ErrEmptyKey();
    if (kind === 'request-too-large') return new ErrInvalidRequest(messageOf(error));
    return undefined;
  }

  private async mapError(error: unknown, context: ErrorContext): Promise<unknown> {
    if (error instanceof StoreError) return error;
    const kind: EtcdErrorKind | undefined = classifyEtcdError(error);
    switch (kind) {
      case undefined:
        return error;
      case 'closed':
        return new ErrStoreClosed();
      case 'empty-key':
        return new ErrEmptyKey();
      case 'compacted': {
        const rev = context.revision ?? (context.txn && txnReadRevision(context.txn, Math.min)) ?? 1;
        return new ErrCompacted(await this.compactRevisionBelow(rev, context.compaction === true));
      }
      case 'future-revision':
        return new ErrFutureRev(
          context.revision ?? (context.txn && txnReadRevision(context.txn, Math.max)) ?? 0,
          await this.currentRevision().catch(() => 0),
        );
      case 'lease-not-found':
        return new ErrLeaseNotFound(context.lease ?? (await this.missingLease(context.txn)));
      case 'lease-exists':
        return new ErrLeaseExists(context.lease ?? 0);
      case 'lease-ttl-too-large':
        return new ErrLeaseTtlTooLarge(context.ttl ?? 0);
      case 'too-many-ops':
        return new ErrTooManyOps(this.maxTxnOps);
      case 'duplicate-key':
        return new ErrDuplicateKey(context.txn !== undefined ? (duplicateKeyOf(context.txn) ?? '') : '');
      case 'request-too-large':
        return new ErrInvalidRequest(messageOf(error));
    }
  }

  private async currentRevision(): Promise<number> {
    const res = await this.client.kv.range({ key: Buffer.from([0]), count_only: true }, this.callOptions());
    return int(res.header.revision, 'revision');
  }

  /**
   * etcd's ErrCompacted does not say where the compaction is. A watch from below it does: etcd cancels it with
   * compact_revision set. Used only on the error path. `rev` was refused as compacted (a read of rev: rev < compaction;
   * a compaction at rev: rev <= compaction), so a watch from rev - 1 is always below the compaction when rev > 1.
   */
  private async compactRevisionBelow(rev: number, compaction: boolean): Promise<number> {
    const start = Math.max(1, compaction ? rev - 1 : rev);
    const fallback = rev;
    let stream: RPC.IDuplexStream<RPC.IWatchRequest, RPC.IWatchResponse> | undefined;
    try {
      stream = await this.client.watchClient.watch();
      const s = stream;
      return await new Promise<number>((resolve) => {
        const timer = setTimeout(() => resolve(fallback), 3_000);
        const done = (value: number) => {
          clearTimeout(timer);
          resolve(value);
        };
        s.on('data', (res: RPC.IWatchResponse) => {
          const compact = int(res.compact_revision, 'compact revision');
          if (compact > 0) done(compact);
          else if (res.canceled || res.events.length > 0) done(fallback);
        });
        s.on('error', () => done(fallback));
        s.on('end', () => done(fallback));
        // A single key no one writes: only the compaction check can answer.
        s.write({ create_request: { key: Buffer.from('\0skiff-compaction-probe'), start_revision: start } });
      });
    } catch {
      return fallback;
    } finally {
      if (stream !== undefined) closeStream(stream);
    }
  }

  /** Which of a txn's leases is gone (etcd does not say). */
  private async missingLease(txn: TxnRequest | undefined): Promise<LeaseId> {
    if (txn === undefined) return 0;
    for (const lease of txnLeases(txn)) {
      try {
        const res = await this.client.leaseClient.leaseTimeToLive({ ID: String(lease) }, this.callOptions());
        if (int(res.TTL, 'TTL') < 0) return lease;
      } catch {
        // keep looking
      }
    }
    return 0;
  }
}

interface ErrorContext {
  /** The revision a read or compaction asked for. */
  readonly revision?: number | undefined;
  readonly compaction?: boolean;
  readonly lease?: LeaseId | undefined;
  readonly ttl?: number;
  readonly txn?: TxnRequest;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
