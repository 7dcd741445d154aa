import { systemClock, type Clock } from '../clock.js';
import { ErrLeaseNotFound, ErrStoreClosed } from '../errors.js';
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
import type { Command, CommandResult } from './commands.js';
import type { StoreSnapshot } from './snapshot.js';
import { StateMachine } from './state-machine.js';
import { WatchHub } from './watch-hub.js';

export interface MemoryStoreOptions {
  /** Lease deadlines and progress rounds read time from here. Default: the system clock. */
  readonly clock?: Clock;
  /** Default 128, as etcd. */
  readonly maxTxnOps?: number;
  /** Seconds; default 1. */
  readonly minLeaseTtl?: number;
  /** Period of progress messages to idle progressNotify watchers, checked on tick(). Default 10 minutes, as etcd. */
  readonly progressIntervalMs?: number;
  /**
   * Call tick() on a real timer this often. Default: every 500 ms with the system clock, never with an injected
   * clock (whoever injects the clock drives tick()). A Raft replica sets neither: its leader drives expiry.
   */
  readonly autoTickMs?: number;
  /** Where exceptions thrown by watch listeners go. Default: dropped. */
  readonly onListenerError?: (error: unknown) => void;
}

/**
 * The in-memory etcd-like store: the Store API over a deterministic state machine. Every mutation is a Command
 * passed to apply(), which the Raft-backed store calls with the commands of its log; snapshot()/restore() carry
 * the whole replicated state. Lease expiry is split as in etcd: expireLeases() finds leases past their deadline
 * (local time), and revoking them is an ordinary leaseRevoke command, which tick() applies here directly.
 */
export class MemoryStore implements Store {
  private readonly clock: Clock;
  private readonly machine: StateMachine;
  private readonly hub: WatchHub;
  private readonly progressIntervalMs: number;
  private lastProgressRound: number;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.machine = new StateMachine({
      clock: this.clock,
      maxTxnOps: options.maxTxnOps ?? 128,
      minLeaseTtl: options.minLeaseTtl ?? 1,
    });
    this.hub = new WatchHub(() => this.machine.kv, options.onListenerError ?? (() => {}));
    this.machine.onCommit = (record) => this.hub.publish(record);
    this.progressIntervalMs = options.progressIntervalMs ?? 600_000;
    this.lastProgressRound = this.clock.now();
    const tickMs = options.autoTickMs ?? (options.clock === undefined ? 500 : undefined);
    if (tickMs !== undefined) {
      this.timer = setInterval(() => this.tick(), tickMs);
      this.timer.unref();
    }
  }

  static fromSnapshot(snapshot: StoreSnapshot, options?: MemoryStoreOptions): MemoryStore {
    const store = new MemoryStore(options);
    store.restore(snapshot);
    return store;
  }

  get revision(): number {
    return this.machine.kv.revision;
  }

  get compactRevision(): number {
    return this.machine.kv.compactRevision;
  }

  // --- The replication surface -------------------------------------------------------------------------------

  /** Applies one command; throws the command's typed error, having changed nothing. */
  apply<C extends Command>(command: C): CommandResult<C> {
    this.assertOpen();
    return this.machine.apply(command);
  }

  /** A synchronous read of the local state. */
  read(request: RangeRequest): RangeResponse {
    this.assertOpen();
    return this.machine.read(request);
  }

  snapshot(): StoreSnapshot {
    return this.machine.snapshot();
  }

  /** Replaces the state with a snapshot's; open watches continue from where they were (or end if compacted). */
  restore(snapshot: StoreSnapshot): void {
    this.assertOpen();
    this.machine.restore(snapshot);
    this.hub.resync();
  }

  /** Leases whose deadline is at or before `now`: the leader proposes a leaseRevoke for each. */
  expireLeases(now: number = this.clock.now()): LeaseId[] {
    return this.machine.lessor.expired(now);
  }

  /** Moves a lease's local deadline a full TTL ahead; answers the TTL. */
  renewLease(id: LeaseId): number {
    this.assertOpen();
    return this.machine.lessor.renew(id, this.clock.now());
  }

  /** Gives every lease a full TTL from now, as a node taking over expiry must (etcd's Promote). */
  refreshLeases(): void {
    this.machine.lessor.refresh(this.clock.now());
  }

  /** Revokes expired leases and sends due progress messages. */
  tick(): void {
    if (this.closed) return;
    for (const id of this.expireLeases()) {
      try {
        this.machine.apply({ type: 'leaseRevoke', id });
      } catch (error) {
        if (!(error instanceof ErrLeaseNotFound)) throw error;
      }
    }
    const now = this.clock.now();
    if (now - this.lastProgressRound >= this.progressIntervalMs) {
      this.lastProgressRound = now;
      this.hub.progressRound(this.machine.kv.revision);
    }
  }

  // --- Store ---------------------------------------------------------------------------------------------------

  async range(request: RangeRequest): Promise<RangeResponse> {
    return this.read(request);
  }

  async put(key: string, value: string, options: PutOptions = {}): Promise<PutResponse> {
    return this.apply({ ...options, type: 'put', key, value });
  }

  async delete(key: string | KeyRange, options: DeleteOptions = {}): Promise<DeleteResponse> {
    return this.apply({ ...options, type: 'delete', ...asKeyRange(key) });
  }

  async txn(request: TxnRequest): Promise<TxnResponse> {
    return this.apply({ type: 'txn', compare: request.compare, success: request.success, failure: request.failure });
  }

  async watch(request: WatchRequest, listener: WatchListener): Promise<Watch> {
    this.assertOpen();
    return this.hub.add(request, listener);
  }

  async leaseGrant(ttlSeconds: number, id?: LeaseId): Promise<LeaseGrantResponse> {
    this.assertOpen();
    const leaseId = id === undefined || id === 0 ? this.machine.lessor.nextId() : id;
    return this.apply({ type: 'leaseGrant', id: leaseId, ttl: ttlSeconds });
  }

  async leaseKeepAlive(id: LeaseId): Promise<number> {
    this.tick();
    return this.renewLease(id);
  }

  async leaseRevoke(id: LeaseId): Promise<LeaseRevokeResponse> {
    return this.apply({ type: 'leaseRevoke', id });
  }

  async leaseTimeToLive(id: LeaseId, options: { keys?: boolean } = {}): Promise<LeaseTimeToLiveResponse> {
    this.assertOpen();
    const info = this.machine.lessor.timeToLive(id, this.clock.now());
    if (info === undefined) return { id, ttl: -1, grantedTtl: 0 };
    const ttl = Math.floor(info.remainingMs / 1000);
    const answer = { id, ttl, grantedTtl: info.ttl };
    return options.keys === true ? { ...answer, keys: info.keys } : answer;
  }

  async leases(): Promise<LeaseId[]> {
    this.assertOpen();
    return this.machine.lessor.ids();
  }

  async compact(revision: number): Promise<CompactResponse> {
    return this.apply({ type: 'compact', revision });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.hub.closeAll(new ErrStoreClosed());
  }

  private assertOpen(): void {
    if (this.closed) throw new ErrStoreClosed();
  }
}
