/**
 * One member of a Raft group: the run loop around the pure RawNode, its durable storage and the replicated MVCC
 * state machine.
 *
 * The loop (drive(), one at a time): take a Ready, persist its hard state, entries and snapshot through the WAL and
 * the snapshotter (persistReady: fsync'd when Raft says it must, not for a commit index alone), and meanwhile apply
 * the committed entries to the MemoryStore in log order (they are durable on a quorum); a leader hands its messages
 * to the transport before its own write, a follower only after it (its acks promise durability); a snapshot is
 * installed only once persisted. Then answer ReadIndex requests, advance (where a leader's own copy starts to count
 * toward the quorum), and take a local snapshot every `snapshotCount` applied entries (compacting the in-memory log,
 * purging WAL segments and old snapshot files); the group's only voter compacts its in-memory log after every
 * apply instead, and snapshots early when Raft asks for a snapshot newer than its log's start. tick()/step()/propose() may run while a Ready is being persisted; the next turn of the loop picks
 * up what they produced.
 *
 * Time: Raft ticks come from an injected Ticker every heartbeat interval (heartbeatTick = 1, electionTick =
 * electionTimeoutMs / heartbeatMs). Lease deadlines read an injected Clock. Request timeouts use real timers.
 *
 * Proposals: every normal entry carries a request id (member id, boot nonce, counter) and a JSON mvcc Command. The
 * member that proposed it resolves its caller when it applies the entry, with the command's result or its typed
 * StoreError (every member fails a command the same way). A proposal rejected on the spot (no leader: Raft's
 * ProposalDroppedError) fails with ErrNoLeader. An entry also carries the proposer's term, and every member skips an
 * entry appended in another term than it was proposed in; so once a member applies an entry of a later term, its
 * pending proposals of earlier terms can never apply and fail with ErrNotLeader (as does one this leader appended
 * whose log slot another leader's entry took). Both are known not to have been applied (retryable). Anything else
 * that does not come back in time fails with ErrTimeout, outcome unknown, as etcd's "request timed out".
 *
 * Writes on a follower: RawNode forwards the MsgProp to the leader over the transport (Raft's own forwarding),
 * the leader appends it, and the follower resolves its caller when it applies the entry like every other member.
 *
 * Leases (etcd's split): only the leader acts on deadlines. On each tick it asks the MemoryStore for expired leases
 * and proposes a leaseRevoke for each (once per lease while in flight); keep-alives and time-to-live queries are
 * served by the leader (RaftStore forwards them); a member that becomes leader gives every lease a full TTL.
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../../lib/log.js';
import { silentLogger } from '../../../lib/log.js';
import { systemClock, type Clock } from '../clock.js';
import { StoreError } from '../errors.js';
import type { Command, CommandResult } from '../mvcc/commands.js';
import { MemoryStore } from '../mvcc/memory-store.js';
import type { StoreSnapshot } from '../mvcc/snapshot.js';
import {
  NONE,
  decodeConfChange,
  type ConfChange,
  isEmptyHardState,
  type ConfState,
  type Entry,
  type Message,
  type NodeId,
  type ReadState,
  type Snapshot,
  type SoftState,
  type StateType,
} from '../raft/messages.js';
import { ProposalDroppedError } from '../raft/raft.js';
import { SeededRand } from '../raft/rand.js';
import { RawNode, type Ready } from '../raft/rawnode.js';
import { SnapshotOutOfDateError, type MemoryStorage } from '../raft/storage.js';
import { Snapshotter, snapshotName } from '../wal/snapshotter.js';
import { openRaftStorage, persistReady, saveLocalSnapshot } from '../wal/storage.js';
import type { Wal, WalOptions } from '../wal/wal.js';
import type { LeaseId, LeaseTimeToLiveResponse } from '../store.js';
import { decodeEntry, decodeSnapshotData, encodeEntry, encodeSnapshotDataInSlices, type EntryPayload } from './codec.js';
import { dutyCyclePacer } from '../../../lib/event-loop.js';
import { ErrConfChangePending, ErrNoLeader, ErrNotLeader, ErrStopped, ErrTimeout } from './errors.js';
import type { MembershipCommand } from './membership.js';
import type { Transport, TransportHandler } from './transport.js';

/**
 * Applied entries between two snapshots. etcd's default is 100,000, but etcd's backend keeps its state on disk as it
 * applies, so its restart replays little; this store's state is on disk only in snapshots, so a restart replays every
 * entry since the last one (90,000 entries of 1.6 KB took 7.7 s here, 10,000 1.4 s).
 */
export const DEFAULT_SNAPSHOT_COUNT = 10_000;

/**
 * The share of the thread a snapshot's encoding and checksum may take (see dutyCyclePacer). With 5,000 pods a snapshot
 * is about 100 ms of work: paced, it takes one to two seconds with its write; a slice per turn took a fifth of the
 * thread (up to two fifths in 50-ms windows) for half a second under the bench's creates.
 */
export const SNAPSHOT_THREAD_SHARE = 0.1;

/** Calls `fn` every `ms` milliseconds until the returned function is called. */
export interface Ticker {
  every(ms: number, fn: () => void): () => void;
}

export const realTicker: Ticker = {
  every(ms, fn) {
    const timer = setInterval(fn, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};

/** A ticker that fires only when told to (tests). */
export class ManualTicker implements Ticker {
  private readonly fns = new Set<() => void>();
  every(_ms: number, fn: () => void): () => void {
    this.fns.add(fn);
    return () => this.fns.delete(fn);
  }
  tick(n = 1): void {
    for (let i = 0; i < n; i++) for (const fn of [...this.fns]) fn();
  }
}

/** What a member records in its WAL at creation and checks on every restart. */
export interface MemberIdentity {
  readonly memberId: NodeId;
  readonly clusterId: string;
  readonly name?: string;
}

export interface RaftNodeOptions {
  readonly id: NodeId;
  /** The founding members' ids (this one included), identical on every founder; used only for a new data dir. */
  readonly peers: readonly NodeId[];
  /** Holds `wal/` and `snap/`. */
  readonly dataDir: string;
  readonly transport: Transport;
  /** Cluster id stored with the member id in the WAL (a data dir of another cluster is refused). Default 'skiff'. */
  readonly clusterId?: string;
  readonly name?: string;
  /** Lease deadlines. Default: the system clock. */
  readonly clock?: Clock;
  /** Raft ticks. Default: real timers. */
  readonly ticker?: Ticker;
  /** Default 100 ms (etcd's --heartbeat-interval). */
  readonly heartbeatMs?: number;
  /** Default 1000 ms (etcd's --election-timeout); at least twice the heartbeat. */
  readonly electionTimeoutMs?: number;
  /** How long a proposal or read may wait. Default 5 s + 2 election timeouts, as etcd. */
  readonly requestTimeoutMs?: number;
  /** Take a snapshot every this many applied entries. Default DEFAULT_SNAPSHOT_COUNT (etcd: --snapshot-count). */
  readonly snapshotCount?: number;
  /** Entries kept in memory behind a snapshot so slow followers catch up without one. Default 5 000. */
  readonly snapshotCatchUpEntries?: number;
  /** Snapshot files kept. Default 5 (etcd's --max-snapshots). */
  readonly maxSnapshots?: number;
  readonly wal?: WalOptions;
  /** Must be the same on every member. Defaults as MemoryStore (128, 1 s). */
  readonly maxTxnOps?: number;
  readonly minLeaseTtl?: number;
  /** Period of progress notifications to idle watchers. Default 10 minutes. */
  readonly progressIntervalMs?: number;
  readonly logger?: Logger;
  /** Seed for the election timeout randomisation. Default: random. */
  readonly seed?: number;
  /** Called once when the member stops on its own (WAL failure): the process should exit. */
  readonly onFatal?: (error: unknown) => void;
  /**
   * A member added at run time (etcd's --initial-cluster-state existing): its log starts empty, and the leader
   * brings it up to date (entries or a snapshot), membership included. `peers` is then not used.
   */
  readonly join?: boolean;
  /** Run-time membership (member/membership.ts): told of every applied conf change and membership command. */
  readonly membership?: MembershipHooks;
  /** Told how long each snapshot took to save, in seconds, encoding included (etcd's snap save duration). */
  readonly onSnapshotSaved?: (seconds: number) => void;
}

/** What run-time membership needs from the apply loop (see member/membership.ts). */
export interface MembershipHooks {
  applyConfChange(cc: ConfChange, index: number): void;
  applyCommand(cmd: MembershipCommand, index: number): unknown;
  /** Requests a peer forwarded (member add/remove/update go to the leader). */
  rpc(method: string, params: unknown): Promise<unknown> | undefined;
}

interface PendingProposal {
  resolve(result: unknown): void;
  reject(error: unknown): void;
  timer: NodeJS.Timeout;
  /** The log index, when this member was leader and appended the entry itself. */
  index?: number;
  /** This member's term when it proposed: the entry only applies if appended in that term. */
  term: number;
  /** The entry's bytes and what they encode: applying its own entry, the leader skips decoding them again. */
  data: Uint8Array;
  payload: EntryPayload;
}

interface ReadWaiter {
  resolve(): void;
  reject(error: unknown): void;
  deadline: number;
}

interface ReadRound {
  context: string;
  waiters: ReadWaiter[];
  sentTick: number;
  lead: NodeId;
}

export interface NodeStatus {
  readonly id: NodeId;
  readonly leader: NodeId;
  readonly state: StateType;
  readonly term: number;
  readonly commit: number;
  readonly applied: number;
  readonly snapshotIndex: number;
  /** The first entry still held in the in-memory log (the ones before it were compacted into a snapshot). */
  readonly logFirstIndex: number;
  readonly voters: NodeId[];
  /** Leaders this member has seen come and go since it started (etcd_server_leader_changes_seen_total). */
  readonly leaderChanges: number;
  /** Proposals of this member waiting to be applied (etcd_server_proposals_pending). */
  readonly pendingProposals: number;
}

const READ_RETRY_TICKS = 5;

export class RaftNode implements TransportHandler {
  readonly id: NodeId;
  readonly memory: MemoryStore;
  readonly heartbeatMs: number;
  readonly electionTimeoutMs: number;
  readonly requestTimeoutMs: number;
  private readonly raw: RawNode;
  private readonly storage: MemoryStorage;
  private readonly log: Logger;
  private readonly leaseClock: Clock;
  private frozenNow: number | undefined;
  private applied: number;
  /** Raft term of the last applied entry (or snapshot). */
  private appliedTerm = 0;
  private snapshotIndex: number;
  /** The snapshot being encoded and saved in the background, if one is. */
  private snapshotting: Promise<void> | undefined;
  private confState: ConfState;
  private readonly pending = new Map<string, PendingProposal>();
  private readonly pendingByIndex = new Map<number, string>();
  private readonly appliedWaiters: Array<{ index: number; resolve: () => void; reject: (error: unknown) => void }> = [];
  private readQueue: ReadWaiter[] = [];
  private readRound: ReadRound | undefined;
  private readonly revoking = new Set<LeaseId>();
  private readonly nonce = randomBytes(4).toString('hex');
  private counter = 0;
  private ticks = 0;
  private lastProgressRound: number;
  private state: StateType = 'follower';
  private lead: NodeId = NONE;
  private stopTicker: (() => void) | undefined;
  private looping: Promise<void> | undefined;
  private driveScheduled = false;
  /** The leader's commit-only MsgApps waiting to go out after the responses of the entries they commit (see send). */
  private held: Message[] = [];
  private heldScheduled = false;
  /** No more input is processed (closed, or failed). */
  private stopped = false;
  private closed = false;
  private closing: Promise<void> | undefined;
  private fatal: unknown;
  private soloCampaign = false;
  private replayed = false;
  /** The commit index recovered from the WAL: replay is done once applied reaches it. */
  private readonly initialCommit: number;
  /** Leader changes observed (for tests and status). */
  leaderChanges = 0;

  private constructor(
    private readonly options: RaftNodeOptions,
    private readonly wal: Wal,
    private readonly snapshotter: Snapshotter,
    recovered: { storage: MemoryStorage; snapshot: Snapshot | undefined; bootstrap: boolean },
  ) {
    this.id = options.id;
    this.log = options.logger ?? silentLogger();
    this.heartbeatMs = options.heartbeatMs ?? 100;
    this.electionTimeoutMs = options.electionTimeoutMs ?? 1000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5000 + 2 * this.electionTimeoutMs;
    const electionTick = Math.round(this.electionTimeoutMs / this.heartbeatMs);
    if (!(this.heartbeatMs > 0) || electionTick < 2) {
      throw new RangeError(
        `election timeout (${this.electionTimeoutMs} ms) must be at least twice the heartbeat interval (${this.heartbeatMs} ms)`,
      );
    }
    const inner = options.clock ?? systemClock;
    this.leaseClock = inner;
    // The MemoryStore reads time only through this; freezing it makes "no lease expired" checks race-free.
    const clock: Clock = { now: () => this.frozenNow ?? inner.now() };
    this.memory = new MemoryStore({
      clock,
      ...(options.maxTxnOps !== undefined ? { maxTxnOps: options.maxTxnOps } : {}),
      ...(options.minLeaseTtl !== undefined ? { minLeaseTtl: options.minLeaseTtl } : {}),
      // Its tick() is called only by progressRound(), on this member's own schedule.
      progressIntervalMs: 0,
      onListenerError: (error) => this.log.warn({ err: error }, 'store: watch listener threw'),
    });
    this.lastProgressRound = inner.now();
    this.storage = recovered.storage;
    this.confState = recovered.storage.initialState().confState;
    this.applied = 0;
    this.snapshotIndex = 0;
    if (recovered.snapshot !== undefined && recovered.snapshot.metadata.index > 0) {
      const data = decodeSnapshotData(recovered.snapshot.data);
      this.memory.restore(data.mvcc);
      this.applied = recovered.snapshot.metadata.index;
      this.appliedTerm = recovered.snapshot.metadata.term;
      this.snapshotIndex = this.applied;
      this.confState = { voters: [...recovered.snapshot.metadata.confState.voters] };
      this.releaseSnapshotData(recovered.snapshot);
    }
    this.raw = new RawNode({
      id: options.id,
      electionTick,
      heartbeatTick: 1,
      storage: this.storage,
      applied: this.applied,
      checkQuorum: true,
      preVote: true,
      maxEntriesPerMsg: 512,
      rand: new SeededRand(options.seed ?? randomBytes(4).readUInt32LE(0)),
    });
    if (recovered.bootstrap) this.raw.bootstrap([...options.peers].sort((a, b) => a - b));
    this.initialCommit = this.raw.raft.raftLog.committed;
  }

  /**
   * Opens (or creates) the member's data dir and recovers: the newest snapshot the WAL recorded restores the
   * MVCC store, the WAL's entries after it are replayed as the first Ready's committed entries once started.
   */
  static async open(options: RaftNodeOptions): Promise<RaftNode> {
    const log = options.logger ?? silentLogger();
    if (options.id === NONE || !Number.isSafeInteger(options.id) || options.id < 0) {
      throw new RangeError(`member id must be a positive safe integer, got ${options.id}`);
    }
    if (options.join !== true && !options.peers.includes(options.id)) throw new Error(`member ${options.id} is not among the initial peers`);
    await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
    const walDir = join(options.dataDir, 'wal');
    const snapshotter = await Snapshotter.open(join(options.dataDir, 'snap'), { logger: log });
    const identity: MemberIdentity = {
      memberId: options.id,
      clusterId: options.clusterId ?? 'skiff',
      ...(options.name !== undefined ? { name: options.name } : {}),
    };
    const rec = await openRaftStorage(walDir, snapshotter, {
      // Segments reserved up front (sparse, as etcd's): a write inside the file costs its fdatasync no size
      // update, which appending to the end did on every write (p50 145 -> 108 us per fdatasync on this VM's ext4).
      preallocate: true,
      ...options.wal,
      logger: options.wal?.logger ?? log,
      metadata: new TextEncoder().encode(JSON.stringify(identity)),
    });
    try {
      if (!rec.created) checkIdentity(rec.metadata, identity, options.dataDir);
      const empty = rec.snapshot === undefined && rec.entries.length === 0 && isEmptyHardState(rec.hardState);
      if (rec.repaired) log.warn({ ...rec.repaired }, 'member: the WAL had a torn tail; recovered up to the last valid record');
      if (rec.created || empty) {
        log.info({ dataDir: options.dataDir, peers: options.peers }, 'member: new data dir; bootstrapping the initial cluster');
      } else {
        log.info(
          {
            dataDir: options.dataDir,
            snapshotIndex: rec.snapshot?.metadata.index ?? 0,
            walEntries: rec.entries.length,
            commit: rec.hardState.commit,
            term: rec.hardState.term,
          },
          'member: recovered from snapshot and WAL; replaying committed entries',
        );
      }
      const bootstrap = (rec.created || empty) && options.join !== true;
      return new RaftNode(options, rec.wal, snapshotter, { storage: rec.storage, snapshot: rec.snapshot, bootstrap });
    } catch (err) {
      await rec.wal.close();
      throw err;
    }
  }

  /** Starts ticking and receiving messages. */
  async start(): Promise<void> {
    await this.options.transport.start(this);
    this.stopTicker = (this.options.ticker ?? realTicker).every(this.heartbeatMs, () => this.tick());
    // Alone in the configuration: no need to wait an election timeout (campaign once the membership entries are
    // applied, as Raft refuses to campaign with unapplied configuration changes).
    this.soloCampaign = true;
    this.maybeSoloCampaign();
    this.schedule();
  }

  // --- Inputs --------------------------------------------------------------------------------------------------

  tick(): void {
    if (this.stopped) return;
    this.ticks++;
    this.raw.tick();
    this.retryReads();
    if (this.state === 'leader') this.checkLeases();
    const now = this.leaseClock.now();
    if (now - this.lastProgressRound >= (this.options.progressIntervalMs ?? 600_000) && this.progressRound(now)) {
      this.lastProgressRound = now;
    }
    this.schedule();
  }

  /** Starts an election now. */
  campaign(): void {
    if (this.stopped) return;
    this.raw.campaign();
    this.schedule();
  }

  /** Asks the leader to hand leadership over to `to`. */
  transferLeadership(to: NodeId): void {
    this.raw.transferLeadership(to);
    this.schedule();
  }

  receive(messages: Message[]): void {
    if (this.stopped) return;
    for (const m of messages) {
      if (m.to !== this.id) continue;
      try {
        this.raw.step(m);
      } catch (err) {
        // A forwarded proposal the leader cannot take (transfer in progress...): the proposer learns it was lost
        // when it applies an entry of a later term, or times out.
        if (!(err instanceof ProposalDroppedError)) this.log.warn({ err, type: m.type, from: m.from }, 'member: step failed');
      }
    }
    this.schedule();
  }

  reportUnreachable(id: NodeId): void {
    if (this.stopped) return;
    this.raw.reportUnreachable(id);
    this.schedule();
  }

  reportSnapshot(id: NodeId, status: 'finish' | 'failure'): void {
    if (this.stopped) return;
    this.raw.reportSnapshot(id, status);
    this.schedule();
  }

  /** Requests peers forward to the leader (see RaftStore). */
  async rpc(method: string, params: unknown): Promise<unknown> {
    const p = (params ?? {}) as { id?: unknown; keys?: unknown };
    const id = typeof p.id === 'number' ? p.id : 0;
    switch (method) {
      case 'leaseKeepAlive':
        return this.localKeepAlive(id);
      case 'leaseTimeToLive':
        return this.localTimeToLive(id, p.keys === true);
      default: {
        const answer = this.options.membership?.rpc(method, p);
        if (answer === undefined) throw new Error(`member: unknown rpc ${method}`);
        return answer;
      }
    }
  }

  /**
   * Proposes a command; resolves with its result once this member applied it. Rejects with the command's
   * StoreError, ErrNoLeader / ErrNotLeader (not applied), ErrTimeout (unknown) or ErrStopped.
   */
  propose<C extends Command>(cmd: C): Promise<CommandResult<C>> {
    if (this.stopped) return Promise.reject(new ErrStopped(this.fatal === undefined ? 'member closed' : 'member failed'));
    const id = `${this.id.toString(36)}.${this.nonce}.${(++this.counter).toString(36)}`;
    const term = this.raw.raft.term;
    const payload: EntryPayload = { id, term, cmd };
    const data = encodeEntry(payload);
    return new Promise<CommandResult<C>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.dropPending(id);
        reject(new ErrTimeout(`proposal not applied within ${this.requestTimeoutMs} ms; it may still be applied`));
      }, this.requestTimeoutMs);
      timer.unref();
      const p: PendingProposal = { resolve: resolve as (r: unknown) => void, reject, timer, term, data, payload };
      this.pending.set(id, p);
      try {
        this.raw.propose(data);
      } catch (err) {
        this.dropPending(id);
        reject(err instanceof ProposalDroppedError ? new ErrNoLeader(err.message) : err);
        return;
      }
      if (this.raw.raft.state === 'leader') {
        const ents = this.raw.raft.raftLog.unstable.entries;
        const last = ents[ents.length - 1];
        if (last !== undefined && last.data === data) {
          p.index = last.index;
          this.pendingByIndex.set(last.index, id);
        }
      }
      this.schedule();
    });
  }

  /** Proposes a membership command (member/membership.ts); resolves with what its apply answered. */
  proposeMembership(cmd: MembershipCommand): Promise<unknown> {
    // Membership commands ride in normal entries beside the MVCC ones; applyCommand routes them by type.
    return this.propose(cmd as unknown as Command);
  }

  /**
   * Proposes a Raft configuration change, on the leader only, one at a time (ErrConfChangePending while one is
   * unapplied); resolves with its log index once this member applied that index.
   */
  async proposeConfChange(cc: ConfChange): Promise<number> {
    await this.asLeader();
    if (this.raw.raft.pendingConfIndex > this.applied) throw new ErrConfChangePending();
    try {
      this.raw.proposeConfChange(cc);
    } catch (err) {
      throw err instanceof ProposalDroppedError ? new ErrNotLeader(err.message) : err;
    }
    const index = this.raw.raft.raftLog.lastIndex();
    this.schedule();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ErrTimeout('configuration change not applied in time')), this.requestTimeoutMs);
    });
    try {
      await Promise.race([this.waitApplied(index), timeout]);
    } finally {
      clearTimeout(timer);
    }
    return index;
  }

  /** Resolves once this member's state reflects every write acknowledged before the call (ReadIndex). */
  readBarrier(): Promise<void> {
    if (this.stopped) return Promise.reject(new ErrStopped('member closed'));
    return new Promise<void>((resolve, reject) => {
      this.readQueue.push({ resolve, reject, deadline: Date.now() + this.requestTimeoutMs });
      this.startReadRound();
    });
  }

  /** Resolves once the state machine has applied `index`. */
  waitApplied(index: number): Promise<void> {
    if (this.applied >= index) return Promise.resolve();
    if (this.stopped) return Promise.reject(new ErrStopped('member closed'));
    return new Promise<void>((resolve, reject) => this.appliedWaiters.push({ index, resolve, reject }));
  }

  /** Keep-alive as the leader serves it: renew the lease's local deadline. */
  async localKeepAlive(id: LeaseId): Promise<number> {
    await this.asLeader();
    return this.memory.renewLease(id);
  }

  async localTimeToLive(id: LeaseId, keys: boolean): Promise<LeaseTimeToLiveResponse> {
    await this.asLeader();
    return this.memory.leaseTimeToLive(id, { keys });
  }

  /** Checks lease deadlines now (the leader also does on every tick). */
  checkLeases(): void {
    if (this.stopped || this.state !== 'leader') return;
    for (const id of this.memory.expireLeases(this.leaseClock.now())) {
      if (this.revoking.has(id)) continue;
      this.revoking.add(id);
      this.log.debug({ lease: id }, 'member: lease expired; proposing its revocation');
      this.propose({ type: 'leaseRevoke', id }).then(
        () => this.revoking.delete(id),
        () => this.revoking.delete(id),
      );
    }
  }

  status(): NodeStatus {
    const s = this.raw.status();
    return {
      id: this.id,
      leader: s.softState.lead,
      state: s.softState.state,
      term: s.hardState.term,
      commit: s.hardState.commit,
      applied: this.applied,
      snapshotIndex: this.snapshotIndex,
      logFirstIndex: this.storage.firstIndex(),
      voters: [...this.confState.voters],
      leaderChanges: this.leaderChanges,
      pendingProposals: this.pending.size,
    };
  }

  get leader(): NodeId {
    return this.raw.raft.lead;
  }

  get isLeader(): boolean {
    return this.raw.raft.state === 'leader';
  }

  get transport(): Transport {
    return this.options.transport;
  }

  /** Stops ticking, receiving and applying; fails everything waiting with ErrStopped; closes the WAL. */
  async close(): Promise<void> {
    if (this.closed) {
      await this.closing;
      return;
    }
    this.closed = true;
    this.closing = this.shutdown();
    await this.closing;
  }

  private async shutdown(): Promise<void> {
    this.stopped = true;
    this.stopTicker?.();
    await this.options.transport.close().catch(() => undefined);
    while (this.looping) await this.looping.catch(() => undefined);
    // A snapshot being saved writes to the WAL: it finishes (or gives up, seeing stopped) before the WAL closes.
    await this.snapshotting;
    this.failAll(new ErrStopped('member closed'));
    await this.wal.close().catch(() => undefined);
    await this.memory.close();
    this.log.info({ id: this.id }, 'member: stopped');
  }

  // --- The loop ------------------------------------------------------------------------------------------------

  private schedule(): void {
    if (this.stopped || this.looping || this.driveScheduled) return;
    this.driveScheduled = true;
    // setImmediate lets proposals made in the same turn of the event loop share one Ready (and one fsync).
    setImmediate(() => {
      this.driveScheduled = false;
      if (this.stopped || this.looping) return;
      this.looping = this.drive().finally(() => {
        this.looping = undefined;
        if (!this.stopped && this.raw.hasReady()) this.schedule();
      });
    });
  }

  private async drive(): Promise<void> {
    try {
      while (!this.stopped && this.raw.hasReady()) {
        const rd = this.raw.ready();
        const snapshot = rd.snapshot !== undefined && rd.snapshot.metadata.index > 0;
        // Nothing that needs an fsync (at most a commit index): the write is queued in order and the loop goes on
        // without waiting for it, so the next Ready (the next put's entries) is not held up by a thread-pool hop.
        const noWait = !rd.mustSync && !snapshot;
        // etcd's overlap (see Ready): a leader replicates while it writes its own copy, which Raft counts only
        // after advance(); a follower's messages (acks) wait for its write when it holds entries or a vote.
        const sendFirst = noWait || (this.raw.raft.state === 'leader' && !rd.termChanged && !snapshot);
        if (sendFirst && rd.messages.length > 0) this.send(rd.messages, this.raw.raft.state === 'leader' && answersClients(rd.committedEntries));
        // A lone write (one entry at most, at most one proposal of this member waiting: a client writing one at a
        // time) has its fsync done on this thread, as etcd's raft loop does: there is nothing else for the thread to
        // do meanwhile, and the thread pool's two wake-ups cost a third of the fsync. Under concurrent writes the
        // fsync stays off the thread, which then reads the next requests into the following batch.
        const inline = rd.entries.length <= 1 && this.pending.size <= 1;
        const written = persistReady(this.wal, this.snapshotter, this.storage, rd, { inline });
        if (noWait) written.catch((err: unknown) => this.fail(err));
        // Committed entries are durable on a quorum: apply them while the write (its fsync) is in progress.
        let appliedEarly = false;
        if (!snapshot) {
          written.catch(() => undefined);
          if (rd.softState !== undefined) this.onSoftState(rd.softState);
          this.applyEntries(rd.committedEntries);
          appliedEarly = true;
        }
        if (!noWait) await written;
        if (this.stopped) return;
        if (!sendFirst && rd.messages.length > 0) this.send(rd.messages, false);
        if (!appliedEarly) {
          if (rd.softState !== undefined) this.onSoftState(rd.softState);
          if (snapshot && rd.snapshot !== undefined) {
            this.installSnapshot(rd.snapshot);
            this.releaseSnapshotData(rd.snapshot);
          }
          this.applyEntries(rd.committedEntries);
        }
        for (const rs of rd.readStates) this.onReadState(rs);
        this.raw.advance(rd);
        this.maybeSoloCampaign();
        if (!this.replayed && this.applied >= this.initialCommit) {
          this.replayed = true;
          this.log.info({ applied: this.applied, revision: this.memory.revision }, 'member: local log replayed; state machine up to date with the local commit index');
        }
        await this.maybeSnapshot();
      }
    } catch (err) {
      this.fail(err);
    }
  }

  /**
   * Hands messages to the transport. With `applying` (a leader about to apply committed entries, so about to answer
   * clients; never for a configuration change, whose commit must reach a removed member before its peer goes), a
   * Ready whose messages are all MsgApps without entries (they only carry the new commit index) is sent
   * two turns of the event loop later: node's HTTP/2 writes a response on the next turn and its trailers on the one
   * after, and on a busy machine the followers woken by these messages (their writes, their acks, reading those acks)
   * ran ahead of that. Followers learn the commit index a few tens of microseconds later; nothing waits on it here.
   * Order per peer is kept: whatever is sent next flushes the held messages first.
   */
  private send(messages: readonly Message[], applying: boolean): void {
    this.flushHeld();
    if (applying && messages.every((m) => m.type === 'MsgApp' && m.entries.length === 0)) {
      this.held = [...messages];
      if (!this.heldScheduled) {
        this.heldScheduled = true;
        setImmediate(() =>
          setImmediate(() => {
            this.heldScheduled = false;
            this.flushHeld();
          }),
        );
      }
      return;
    }
    this.options.transport.send(messages);
  }

  private flushHeld(): void {
    if (this.held.length === 0) return;
    const held = this.held;
    this.held = [];
    if (!this.stopped) this.options.transport.send(held);
  }

  private maybeSoloCampaign(): void {
    if (!this.soloCampaign || this.stopped) return;
    const voters = this.confState.voters;
    if (voters.length === 0 || this.applied < this.raw.raft.raftLog.committed) return;
    this.soloCampaign = false;
    if (voters.length === 1 && voters[0] === this.id && this.raw.raft.state !== 'leader') this.raw.campaign();
  }

  private fail(err: unknown): void {
    if (this.stopped) return;
    this.fatal = err;
    this.log.error({ err }, 'member: fatal error; stopping');
    this.stopped = true;
    this.stopTicker?.();
    this.failAll(new ErrStopped(err instanceof Error ? err.message : String(err)));
    void this.options.transport.close().catch(() => undefined);
    this.options.onFatal?.(err);
  }

  private failAll(error: StoreError): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(error);
      this.pending.delete(id);
    }
    this.pendingByIndex.clear();
    const waiters = [...this.readQueue, ...(this.readRound?.waiters ?? [])];
    this.readQueue = [];
    this.readRound = undefined;
    for (const w of waiters) w.reject(error);
    for (const w of this.appliedWaiters.splice(0)) w.reject(error);
  }

  private dropPending(id: string): void {
    const p = this.pending.get(id);
    if (p === undefined) return;
    clearTimeout(p.timer);
    this.pending.delete(id);
    if (p.index !== undefined) this.pendingByIndex.delete(p.index);
  }

  private onSoftState(ss: SoftState): void {
    const wasLeader = this.state === 'leader';
    if (ss.lead !== this.lead) {
      this.leaderChanges++;
      this.log.info({ id: this.id, leader: ss.lead, term: this.raw.raft.term, state: ss.state }, ss.lead === NONE ? 'member: lost the leader' : 'member: leader elected');
    }
    this.state = ss.state;
    this.lead = ss.lead;
    if (ss.state === 'leader' && !wasLeader) {
      // etcd's Promote: the previous leader's keep-alives are unknown here, so every lease gets a full TTL.
      this.memory.refreshLeases();
      this.revoking.clear();
    }
    // A read round sent to a leader that is gone will never be answered: send it again to the new one.
    if (this.readRound !== undefined && ss.lead !== NONE && ss.lead !== this.readRound.lead) this.reissueRead();
  }

  private installSnapshot(snap: Snapshot): void {
    const data = decodeSnapshotData(snap.data);
    this.memory.restore(data.mvcc);
    this.applied = snap.metadata.index;
    this.snapshotIndex = snap.metadata.index;
    this.confState = { voters: [...snap.metadata.confState.voters] };
    const unknown = (): Error => new ErrTimeout('the log position of this proposal was replaced by a snapshot; outcome unknown');
    for (const [index, id] of this.pendingByIndex) {
      if (index > snap.metadata.index) continue;
      this.pendingByIndex.delete(index);
      this.rejectPending(id, unknown());
    }
    // Older-term proposals either are inside the snapshot or will never apply: which, we cannot tell.
    this.appliedTerm = snap.metadata.term;
    this.rejectStale(unknown);
    this.log.info({ index: snap.metadata.index, term: snap.metadata.term, revision: this.memory.revision }, 'member: applied snapshot from the leader');
    this.wakeApplied();
  }

  private applyEntries(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    for (const e of entries) {
      if (e.index <= this.applied) continue;
      if (e.type === 'confChange') {
        const cc = decodeConfChange(e.data);
        this.confState = this.raw.applyConfChange(cc);
        this.expectAt(e.index, undefined);
        this.options.membership?.applyConfChange(cc, e.index);
      } else {
        const payload = this.ownPayload(e) ?? decodeEntry(e.data);
        this.expectAt(e.index, payload?.id);
        if (payload !== undefined) {
          if (payload.term === undefined || payload.term === e.term) this.applyCommand(payload.id, payload.cmd, e.index);
          else this.rejectPending(payload.id, new ErrNotLeader(`proposed in term ${payload.term} but appended in term ${e.term}; not applied`));
        }
      }
      this.applied = e.index;
      this.appliedTerm = e.term;
    }
    this.rejectStale(() => new ErrNotLeader('leadership changed before the proposal was committed'));
    this.wakeApplied();
  }

  /**
   * The payload of an entry this member appended as leader, as it was proposed: the entry still holds the very bytes
   * encoded from it, so decoding them would give the same plain JSON data (Command's contract). Membership commands
   * are decoded all the same (rare, and their apply has side effects beyond the store).
   */
  private ownPayload(e: Entry): EntryPayload | undefined {
    const id = this.pendingByIndex.get(e.index);
    if (id === undefined) return undefined;
    const p = this.pending.get(id);
    if (p === undefined || p.data !== e.data || (p.payload.cmd as { type: string }).type === 'member') return undefined;
    return p.payload;
  }

  private rejectPending(id: string, error: unknown): void {
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.dropPending(id);
    p.reject(error);
  }

  /**
   * Pending proposals made in a term older than the last applied entry's can no longer apply (see EntryPayload.term):
   * a later entry of theirs would be skipped by every member.
   */
  private rejectStale(error: () => Error): void {
    for (const [id, p] of this.pending) if (p.term < this.appliedTerm) this.rejectPending(id, error());
  }

  /** A proposal this member appended at `index` as leader is lost if another entry got that slot. */
  private expectAt(index: number, id: string | undefined): void {
    const mine = this.pendingByIndex.get(index);
    if (mine === undefined) return;
    this.pendingByIndex.delete(index);
    if (mine === id) return;
    const p = this.pending.get(mine);
    if (p === undefined) return;
    this.dropPending(mine);
    p.reject(new ErrNotLeader('leadership changed before the proposal was committed'));
  }

  private applyCommand(id: string, cmd: Command | MembershipCommand, index: number): void {
    let result: unknown;
    let error: unknown;
    let failed = false;
    try {
      if (cmd.type === 'member') result = this.options.membership?.applyCommand(cmd, index);
      else result = this.memory.apply(cmd);
    } catch (err) {
      failed = true;
      error = err;
      if (!(err instanceof StoreError)) this.log.error({ err, cmd: cmd.type }, 'member: command failed with an untyped error');
    }
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.dropPending(id);
    if (failed) p.reject(error);
    else p.resolve(result);
  }

  private wakeApplied(): void {
    if (this.appliedWaiters.length === 0) return;
    const keep: typeof this.appliedWaiters = [];
    for (const w of this.appliedWaiters) {
      if (w.index <= this.applied) w.resolve();
      else keep.push(w);
    }
    this.appliedWaiters.splice(0, this.appliedWaiters.length, ...keep);
  }

  /** The snapshot's data (the whole store, serialized) stays on disk, in its .snap file, until a follower needs it. */
  private releaseSnapshotData(snap: Snapshot): void {
    const name = snapshotName(snap.metadata.term, snap.metadata.index);
    this.storage.releaseSnapshotData(async () => (await this.snapshotter.read(name)).data);
  }

  /** This member is the group's only voter: no follower ever reads its log. */
  private get solo(): boolean {
    return this.confState.voters.length === 1 && this.confState.voters[0] === this.id;
  }

  private async maybeSnapshot(): Promise<void> {
    // The only voter keeps no applied entries in memory: they are in the WAL (recovery replays them from there),
    // and no follower will ask for them (one that joins later needs a snapshot anyway, taken fresh when asked for:
    // see snapshotWanted). Kept until the snapshot every 10,000 entries, they were up to 15 MB of a 5,000-pod
    // control plane (the JSON of every write since the last snapshot, in buffers of their own).
    if (this.solo) {
      const to = Math.min(this.applied, this.storage.lastIndex());
      if (to > this.storage.firstIndex() - 1) this.storage.compact(to);
    }
    if (this.snapshotting !== undefined) return;
    const every = this.options.snapshotCount ?? DEFAULT_SNAPSHOT_COUNT;
    const wanted = this.storage.snapshotWanted && this.applied > this.snapshotIndex;
    if ((!wanted && this.applied - this.snapshotIndex < every) || this.applied < this.storage.firstIndex() - 1) return;
    // Entries applied while their write was in progress are in storage once it finished; never snapshot past it.
    if (this.applied > this.storage.lastIndex()) return;
    // The state is copied now (references to immutable values, a few ms); encoding and saving it go on in the
    // background while this loop keeps writing and applying, as etcd's snapshots do: done inline they held every
    // request of the process for a quarter of a second per 10,000 entries with 5,000 pods.
    const index = this.applied;
    const term = this.storage.term(index);
    const confState = { voters: [...this.confState.voters] };
    const state = this.memory.snapshot();
    this.snapshotting = this.saveSnapshot(index, term, confState, state)
      .catch((err: unknown) => {
        if (!this.stopped) this.fail(err);
      })
      .finally(() => {
        this.snapshotting = undefined;
        // Writes applied meanwhile may already call for the next one, with no further write to ask for it.
        if (!this.stopped) void this.maybeSnapshot().catch((err: unknown) => this.fail(err));
      });
  }

  private async saveSnapshot(index: number, term: number, confState: ConfState, state: StoreSnapshot): Promise<void> {
    const started = performance.now();
    // Background work: at most a tenth of the thread, however short the turns of the load it runs beside.
    const pace = dutyCyclePacer(SNAPSHOT_THREAD_SHARE);
    const data = await encodeSnapshotDataInSlices(index, state, undefined, pace);
    const encoded = performance.now();
    if (this.stopped) return;
    let snap: Snapshot;
    try {
      snap = this.storage.createSnapshot(index, confState, data, term);
    } catch (err) {
      // A newer snapshot came from the leader while this one was being made: that one stands.
      if (err instanceof SnapshotOutOfDateError) return;
      throw err;
    }
    await saveLocalSnapshot(this.wal, this.snapshotter, snap, pace);
    const saved = performance.now();
    this.options.onSnapshotSaved?.((saved - started) / 1000);
    if (this.stopped) return;
    this.snapshotIndex = Math.max(this.snapshotIndex, index);
    if (this.storage.latestSnapshotIndex() === index) this.releaseSnapshotData(snap);
    // The entries kept after a snapshot let a lagging follower catch up without a snapshot of its own. A group of
    // one voter has no follower to serve (a member that joins later is sent a snapshot), so it keeps none.
    const catchUp = this.solo ? 0 : (this.options.snapshotCatchUpEntries ?? 5_000);
    const compactTo = index - catchUp;
    if (compactTo > this.storage.firstIndex() - 1) this.storage.compact(compactTo);
    const purged = await this.wal.purge();
    const purgedSnaps = await this.snapshotter.purge(this.options.maxSnapshots ?? 5);
    const ms = (a: number, b: number): number => Math.round((b - a) * 10) / 10;
    this.log.info(
      { index, term: snap.metadata.term, bytes: data.length, compactedTo: Math.max(compactTo, 0), purgedWal: purged, purgedSnapshots: purgedSnaps, encodeMs: ms(started, encoded), saveMs: ms(encoded, saved), purgeMs: ms(saved, performance.now()) },
      'member: saved snapshot',
    );
  }

  // --- Reads ---------------------------------------------------------------------------------------------------

  private startReadRound(): void {
    if (this.readRound !== undefined || this.readQueue.length === 0 || this.stopped) return;
    const waiters = this.readQueue;
    this.readQueue = [];
    this.readRound = { context: '', waiters, sentTick: this.ticks, lead: NONE };
    this.reissueRead();
  }

  private reissueRead(): void {
    const round = this.readRound;
    if (round === undefined) return;
    round.context = `${this.id.toString(36)}.${this.nonce}.r${(++this.counter).toString(36)}`;
    round.sentTick = this.ticks;
    round.lead = this.raw.raft.lead;
    this.raw.readIndex(round.context);
    this.schedule();
  }

  private onReadState(rs: ReadState): void {
    const round = this.readRound;
    if (round === undefined || rs.context !== round.context) return;
    this.readRound = undefined;
    const done = this.waitApplied(rs.index);
    for (const w of round.waiters) done.then(w.resolve, w.reject);
    this.startReadRound();
  }

  private retryReads(): void {
    const now = Date.now();
    const expire = (list: ReadWaiter[]): ReadWaiter[] =>
      list.filter((w) => {
        if (w.deadline > now) return true;
        w.reject(this.raw.raft.lead === NONE ? new ErrNoLeader('read index not confirmed in time') : new ErrTimeout('read index not confirmed in time'));
        return false;
      });
    this.readQueue = expire(this.readQueue);
    const round = this.readRound;
    if (round === undefined) return;
    round.waiters = expire(round.waiters);
    if (round.waiters.length === 0) {
      this.readRound = undefined;
      this.startReadRound();
      return;
    }
    if (this.ticks - round.sentTick >= READ_RETRY_TICKS) this.reissueRead();
  }

  /** Waits until this member is leader and has applied everything committed so far. */
  private async asLeader(): Promise<void> {
    if (this.stopped) throw new ErrStopped('member closed');
    if (this.raw.raft.state !== 'leader') throw new ErrNotLeader(`member ${this.id} is not the leader`);
    await this.waitApplied(this.raw.raft.raftLog.committed);
    if (this.raw.raft.state !== 'leader') throw new ErrNotLeader(`member ${this.id} lost leadership`);
  }

  /** Idle-watch progress notifications: MemoryStore.tick() with the clock frozen, never when a lease is due. */
  private progressRound(now: number): boolean {
    this.frozenNow = now;
    try {
      // Followers never act on deadlines; give their leases a full TTL so tick() cannot revoke anything locally.
      if (this.state !== 'leader') this.memory.refreshLeases();
      // On the leader a due lease is being revoked through the log: try again next tick.
      if (this.memory.expireLeases(now).length > 0) return false;
      this.memory.tick();
      return true;
    } finally {
      this.frozenNow = undefined;
    }
  }
}

/** Committed entries whose application answers clients: normal entries only (see RaftNode.send). */
function answersClients(entries: readonly Entry[]): boolean {
  if (entries.length === 0) return false;
  for (const e of entries) if (e.type === 'confChange') return false;
  return true;
}

function checkIdentity(metadata: Uint8Array, want: MemberIdentity, dataDir: string): void {
  let got: Partial<MemberIdentity>;
  try {
    got = JSON.parse(new TextDecoder().decode(metadata)) as Partial<MemberIdentity>;
  } catch {
    throw new Error(`member: ${dataDir}: the WAL metadata is not a Skiff member identity`);
  }
  if (got.memberId !== want.memberId || got.clusterId !== want.clusterId) {
    throw new Error(
      `member: ${dataDir} belongs to member ${String(got.memberId)} of cluster ${String(got.clusterId)}, ` +
        `not member ${want.memberId} of cluster ${want.clusterId}`,
    );
  }
}

export type { Ready };
