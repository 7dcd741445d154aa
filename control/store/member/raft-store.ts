import { randomBytes } from 'node:crypto';
import { ErrLeaseExists, ErrStoreClosed } from '../errors.js';
import { asKeyRange } from '../keys.js';
import type { Command, CommandResult } from '../mvcc/commands.js';
import type { MemoryStore } from '../mvcc/memory-store.js';
import { NONE } from '../raft/messages.js';
import type {
  CompactResponse,
  DeleteOptions,
  DeleteResponse,
  KeyRange,
  LeaseGrantResponse,
  LeaseId,
  LeaseRevokeResponse,
  LeaseTimeToLiveResponse,
  PutOptions,
  PutResponse,
  RangeRequest,
  RangeResponse,
  Store,
  TxnRequest,
  TxnResponse,
  Watch,
  WatchListener,
  WatchRequest,
} from '../store.js';
import { ErrNoLeader, ErrNotLeader, isRetryable } from './errors.js';
import { RaftNode, type RaftNodeOptions } from './node.js';

export interface RaftStoreOptions {
  /**
   * 'linearizable' (default): every read first confirms, through Raft's ReadIndex, that this member has applied
   * everything committed when the read began. 'serializable': reads answer from the local state right away (may
   * be stale on a lagging follower), as etcd's --consistency=s.
   */
  readonly reads?: 'linearizable' | 'serializable';
}

/** A random positive safe integer (53 bits): concurrent grants on different members cannot pick the same id. */
export function randomLeaseId(): LeaseId {
  for (;;) {
    const buf = randomBytes(8);
    const id = Number(buf.readBigUInt64LE(0) >> 11n);
    if (id > 0) return id;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * The Store API on one member of a Raft group. Writes (put, delete, txn, compact, lease grant and revoke) are
 * proposed to the log; on a follower Raft forwards the proposal to the leader over the peer transport, and the
 * call resolves when this member applies the entry. A proposal known not to have been applied (no leader yet,
 * or lost in a leader change: ErrNoLeader / ErrNotLeader) is retried here, every heartbeat, until the request
 * timeout; then the last error surfaces (etcd API: UNAVAILABLE "no leader"). Timeouts are not retried: the write
 * may have been applied.
 *
 * Reads are linearizable by default (ReadIndex, then the local MemoryStore). Watches are served by this member's
 * MemoryStore; a watch "from now" first waits for the read barrier so "now" is not stale. Lease keep-alive and
 * time-to-live go to the leader, which owns lease deadlines (forwarded over the transport).
 */
export class RaftStore implements Store {
  private closed = false;

  constructor(
    readonly node: RaftNode,
    private readonly options: RaftStoreOptions = {},
  ) {}

  /** Opens the member's data dir, recovers, and starts it. */
  static async open(options: RaftNodeOptions & RaftStoreOptions): Promise<RaftStore> {
    const node = await RaftNode.open(options);
    try {
      await node.start();
    } catch (err) {
      await node.close();
      throw err;
    }
    return new RaftStore(node, options);
  }

  /** The local replica (reads, watches). Never write to it directly. */
  get memory(): MemoryStore {
    return this.node.memory;
  }

  // --- Writes --------------------------------------------------------------------------------------------------

  private async write<C extends Command>(cmd: C): Promise<CommandResult<C>> {
    this.assertOpen();
    const deadline = Date.now() + this.node.requestTimeoutMs;
    for (;;) {
      try {
        return await this.node.propose(cmd);
      } catch (err) {
        if (!isRetryable(err) || Date.now() + this.node.heartbeatMs >= deadline || this.closed) throw err;
        await sleep(this.node.heartbeatMs);
      }
    }
  }

  put(key: string, value: string, options: PutOptions = {}): Promise<PutResponse> {
    return this.write({ ...options, type: 'put', key, value });
  }

  delete(key: string | KeyRange, options: DeleteOptions = {}): Promise<DeleteResponse> {
    return this.write({ ...options, type: 'delete', ...asKeyRange(key) });
  }

  txn(request: TxnRequest): Promise<TxnResponse> {
    return this.write({ type: 'txn', compare: request.compare, success: request.success, failure: request.failure });
  }

  compact(revision: number): Promise<CompactResponse> {
    return this.write({ type: 'compact', revision });
  }

  async leaseGrant(ttlSeconds: number, id?: LeaseId): Promise<LeaseGrantResponse> {
    if (id !== undefined && id !== 0) return this.write({ type: 'leaseGrant', id, ttl: ttlSeconds });
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.write({ type: 'leaseGrant', id: randomLeaseId(), ttl: ttlSeconds });
      } catch (err) {
        if (!(err instanceof ErrLeaseExists) || attempt >= 5) throw err;
      }
    }
  }

  leaseRevoke(id: LeaseId): Promise<LeaseRevokeResponse> {
    return this.write({ type: 'leaseRevoke', id });
  }

  // --- Reads ---------------------------------------------------------------------------------------------------

  private async barrier(): Promise<void> {
    this.assertOpen();
    if (this.options.reads === 'serializable') return;
    await this.node.readBarrier();
  }

  async range(request: RangeRequest): Promise<RangeResponse> {
    if (request.serializable) this.assertOpen();
    else await this.barrier();
    return this.node.memory.read(request);
  }

  /** A read from the local state without the ReadIndex round (may be stale on a lagging member). */
  async rangeSerializable(request: RangeRequest): Promise<RangeResponse> {
    this.assertOpen();
    return this.node.memory.read(request);
  }

  async watch(request: WatchRequest, listener: WatchListener): Promise<Watch> {
    if (request.startRevision === undefined || request.startRevision === 0) await this.barrier();
    this.assertOpen();
    return this.node.memory.watch(request, listener);
  }

  async leases(): Promise<LeaseId[]> {
    await this.barrier();
    return this.node.memory.leases();
  }

  leaseKeepAlive(id: LeaseId): Promise<number> {
    return this.atLeader('leaseKeepAlive', { id }, () => this.node.localKeepAlive(id)) as Promise<number>;
  }

  leaseTimeToLive(id: LeaseId, options: { keys?: boolean } = {}): Promise<LeaseTimeToLiveResponse> {
    const keys = options.keys === true;
    return this.atLeader('leaseTimeToLive', { id, keys }, () => this.node.localTimeToLive(id, keys)) as Promise<LeaseTimeToLiveResponse>;
  }

  /** Runs a request on the leader: locally when this member leads, else forwarded over the transport. */
  private async atLeader(method: string, params: unknown, local: () => Promise<unknown>): Promise<unknown> {
    this.assertOpen();
    const deadline = Date.now() + this.node.requestTimeoutMs;
    for (;;) {
      const lead = this.node.leader;
      let error: unknown;
      try {
        if (lead === NONE) throw new ErrNoLeader('no leader to serve the lease request');
        if (lead === this.node.id) return await local();
        return await this.node.transport.call(lead, method, params, Math.max(100, deadline - Date.now()));
      } catch (err) {
        error = err;
      }
      if (!(error instanceof ErrNoLeader || error instanceof ErrNotLeader) || Date.now() + this.node.heartbeatMs >= deadline || this.closed) {
        throw error;
      }
      await sleep(this.node.heartbeatMs);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.node.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new ErrStoreClosed();
  }
}
