/**
 * Deterministic in-memory cluster for Raft tests: a lossy, reordering network, crash/restart with only the
 * persisted state surviving, a tiny KV state machine, and the Raft safety invariants checked on demand.
 */
import {
  MemoryStorage,
  ProposalDroppedError,
  RawNode,
  SeededRand,
  decodeConfChange,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type Ready,
} from '../../../../../control/store/raft/index.js';
import type { KvOperation } from './linearizability.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

interface KvCommand {
  opId: string;
  key: string;
  value: string;
}

export function encodeCommand(c: KvCommand): Uint8Array {
  return enc.encode(JSON.stringify(c));
}

function decodeCommand(data: Uint8Array): KvCommand {
  return JSON.parse(dec.decode(data)) as KvCommand;
}

/** The replicated state machine: a map plus the op ids already applied, so a duplicated proposal applies once. */
export class Kv {
  data = new Map<string, string>();
  seen = new Set<string>();

  apply(c: KvCommand): boolean {
    if (this.seen.has(c.opId)) return false;
    this.seen.add(c.opId);
    this.data.set(c.key, c.value);
    return true;
  }

  serialize(): Uint8Array {
    return enc.encode(JSON.stringify({ data: [...this.data], seen: [...this.seen] }));
  }

  static from(bytes: Uint8Array): Kv {
    const kv = new Kv();
    if (bytes.length === 0) return kv;
    const parsed = JSON.parse(dec.decode(bytes)) as { data: [string, string][]; seen: string[] };
    kv.data = new Map(parsed.data);
    kv.seen = new Set(parsed.seen);
    return kv;
  }
}

export class InvariantViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvariantViolation';
  }
}

export interface ClusterOptions {
  ids: NodeId[];
  /** Members at bootstrap; defaults to `ids`. Others start empty and join through conf changes. */
  voters?: NodeId[];
  seed: number;
  electionTick?: number;
  heartbeatTick?: number;
  preVote?: boolean;
  checkQuorum?: boolean;
  maxEntriesPerMsg?: number;
  maxInflightMsgs?: number;
  /**
   * 'log' (default): founders bootstrap with committed addNode entries, so nodes added later learn the whole
   * membership from the log. 'snapshot': founders start from a storage snapshot naming the voters (compact
   * scripted tests; only valid without adding nodes).
   */
  bootstrap?: 'log' | 'snapshot';
  /** Shut a node down for good once its removal is applied anywhere (simulation); scripted tests keep it. */
  decommissionRemoved?: boolean;
}

export class SimNode {
  raw: RawNode | undefined;
  kv = new Kv();
  lastApplied = 0;
  /** Client requests attached to this incarnation; a crash loses them, like a dropped connection. */
  pendingPuts = new Map<string, number>();
  pendingReads = new Map<string, { key: string; call: number }>();
  readStates: { index: number; context: string }[] = [];
  /** Every entry this incarnation applied, for tests to inspect. */
  applied: Entry[] = [];
  /** A Ready whose write is in progress (begun, not finished): a crash loses it. */
  writing: Ready | undefined;
  /** Whether `writing`'s messages already went out (a leader sends before its write finishes). */
  sentEarly = false;
  /** The hard state as of the last fsync: a commit-only change is written unsynced, and a crash may lose it. */
  syncedHardState: HardState | undefined;

  constructor(
    readonly id: NodeId,
    readonly storage: MemoryStorage,
  ) {}

  get alive(): boolean {
    return this.raw !== undefined;
  }
}

function sig(e: Entry): string {
  return `${e.type}:${dec.decode(e.data)}`;
}

export class Cluster {
  readonly nodes = new Map<NodeId, SimNode>();
  inflight: Message[] = [];
  readonly rand: SeededRand;
  /** Blocked directed links "from->to". */
  blocked = new Set<string>();
  dropRate = 0;
  duplicateRate = 0;
  /** Pick the next delivered message among the first `reorderWindow` in flight. */
  reorderWindow = 1;
  time = 0;
  readonly history: KvOperation[] = [];
  readonly ackedPuts = new Set<string>();
  /** index -> term and content of every entry any node has applied. */
  readonly committed = new Map<number, { term: number; sig: string }>();
  readonly leaderOfTerm = new Map<number, NodeId>();
  private readonly entriesSeen = new Map<string, { sig: string; prevTerm: number | undefined }>();
  private opCounter = 0;
  /** Messages handed to the network, by type: lets the simulation prove it exercised each mechanism. */
  readonly sent = new Map<string, number>();
  /** Logical time each put was first applied anywhere: by then it had certainly taken effect. */
  readonly firstApplied = new Map<string, number>();
  /** History index -> op id, for puts. */
  readonly putOps = new Map<number, string>();
  /** Nodes whose removal committed: shut down for good, as an operator would after `member remove`. */
  readonly decommissioned = new Set<NodeId>();
  private toDecommission: NodeId[] = [];
  /** Scripted tests: return false to drop a message; may also edit the (copied) message before delivery. */
  filter: ((m: Message) => boolean) | undefined;

  constructor(readonly opts: ClusterOptions) {
    this.rand = new SeededRand(opts.seed);
    const voters = opts.voters ?? opts.ids;
    for (const id of opts.ids) {
      const seeded = opts.bootstrap === 'snapshot' && voters.includes(id);
      const storage = new MemoryStorage({ voters: seeded ? voters : [] });
      this.nodes.set(id, new SimNode(id, storage));
      this.start(id);
    }
  }

  /** Founders whose bootstrap entries are not persisted yet (a crash before the first Ready loses them). */
  private founders(id: NodeId): boolean {
    return this.opts.bootstrap !== 'snapshot' && (this.opts.voters ?? this.opts.ids).includes(id);
  }

  private start(id: NodeId): void {
    const n = this.sim(id);
    const snap = n.storage.snapshot();
    n.raw = new RawNode({
      id,
      storage: n.storage,
      applied: snap.metadata.index,
      electionTick: this.opts.electionTick ?? 10,
      heartbeatTick: this.opts.heartbeatTick ?? 1,
      preVote: this.opts.preVote ?? false,
      checkQuorum: this.opts.checkQuorum ?? false,
      maxEntriesPerMsg: this.opts.maxEntriesPerMsg ?? 64,
      maxInflightMsgs: this.opts.maxInflightMsgs ?? 64,
      rand: new SeededRand(this.rand.intn(2 ** 32)),
    });
    if (this.founders(id) && n.storage.lastIndex() === 0) n.raw.bootstrap(this.opts.voters ?? this.opts.ids);
    n.kv = Kv.from(snap.data);
    n.lastApplied = snap.metadata.index;
    n.pendingPuts.clear();
    n.pendingReads.clear();
    n.readStates = [];
  }

  sim(id: NodeId): SimNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  node(id: NodeId): RawNode {
    const raw = this.sim(id).raw;
    if (raw === undefined) throw new Error(`node ${id} is down`);
    return raw;
  }

  live(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.alive);
  }

  ids(): NodeId[] {
    return [...this.nodes.keys()];
  }

  leaders(): NodeId[] {
    return this.live()
      .filter((n) => n.raw?.raft.state === 'leader')
      .map((n) => n.id);
  }

  /** The unique live leader with the highest term, if any. */
  leader(): NodeId | undefined {
    let best: SimNode | undefined;
    for (const n of this.live()) {
      if (n.raw?.raft.state !== 'leader') continue;
      if (best === undefined || (best.raw?.raft.term ?? 0) < n.raw.raft.term) best = n;
    }
    return best?.id;
  }

  // ---- network ----

  private enqueue(msgs: readonly Message[]): void {
    for (const m of msgs) {
      this.sent.set(m.type, (this.sent.get(m.type) ?? 0) + 1);
      if (this.linkBlocked(m.from, m.to) || (this.dropRate > 0 && this.rand.chance(this.dropRate))) {
        this.dropped(m);
        continue;
      }
      this.inflight.push(m);
      if (this.duplicateRate > 0 && this.rand.chance(this.duplicateRate)) this.inflight.push(m);
    }
  }

  private linkBlocked(from: NodeId, to: NodeId): boolean {
    return this.blocked.has(`${from}->${to}`);
  }

  private dropped(m: Message): void {
    // The transport tells the sender a snapshot did not make it, as etcd's does.
    if (m.type === 'MsgSnap') this.sim(m.from).raw?.reportSnapshot(m.to, 'failure');
  }

  /** Delivers the i-th in-flight message (a shallow copy: the receiver may re-address it when forwarding). */
  deliver(i: number): void {
    const [m] = this.inflight.splice(i, 1);
    if (m === undefined) return;
    const target = this.nodes.get(m.to)?.raw;
    const copy = { ...m };
    if (target === undefined || this.linkBlocked(m.from, m.to) || (this.filter !== undefined && !this.filter(copy))) {
      this.dropped(m);
      return;
    }
    try {
      target.step(copy);
    } catch (err) {
      if (!(err instanceof ProposalDroppedError)) throw err;
    }
    if (m.type === 'MsgSnap') this.sim(m.from).raw?.reportSnapshot(m.to, 'finish');
  }

  deliverRandom(): void {
    if (this.inflight.length === 0) return;
    this.deliver(this.rand.intn(Math.min(this.reorderWindow, this.inflight.length)));
  }

  /** Delivers messages and processes Readies until nothing moves (no ticks). */
  stabilize(maxIterations = 10_000): void {
    for (let i = 0; i < maxIterations; i++) {
      let progressed = false;
      for (const n of this.live()) {
        if (n.writing !== undefined || n.raw?.hasReady()) {
          this.processReady(n.id);
          progressed = true;
        }
      }
      if (this.inflight.length > 0) {
        // FIFO, and only what is in flight now: replies queue up behind for the next iteration.
        for (let k = this.inflight.length; k > 0; k--) this.deliver(0);
        progressed = true;
      }
      if (!progressed) return;
    }
    throw new Error('cluster did not stabilize');
  }

  isolate(id: NodeId): void {
    for (const other of this.ids()) {
      if (other === id) continue;
      this.blocked.add(`${id}->${other}`);
      this.blocked.add(`${other}->${id}`);
    }
  }

  /** Splits the cluster: no traffic between different groups. */
  partition(groups: NodeId[][]): void {
    this.blocked.clear();
    for (const a of groups) {
      for (const b of groups) {
        if (a === b) continue;
        for (const x of a) for (const y of b) this.blocked.add(`${x}->${y}`);
      }
    }
  }

  heal(): void {
    this.blocked.clear();
  }

  // ---- nodes ----

  tick(id: NodeId): void {
    this.node(id).tick();
  }

  tickAll(times = 1): void {
    for (let t = 0; t < times; t++) for (const n of this.live()) n.raw?.tick();
  }

  /**
   * Stops a node, losing a write in progress. `power` (default): a power loss, which also loses a commit-only hard
   * state written without an fsync; false: a process crash (kill -9), after which the page cache still has it.
   */
  crash(id: NodeId, power = true): void {
    const n = this.sim(id);
    n.writing = undefined;
    n.sentEarly = false;
    if (power && n.syncedHardState !== undefined) n.storage.setHardState(n.syncedHardState);
    n.raw = undefined;
    n.pendingPuts.clear();
    n.pendingReads.clear();
    n.readStates = [];
  }

  restart(id: NodeId): void {
    if (this.decommissioned.has(id)) return;
    this.start(id);
  }

  /** Voters according to the most advanced live node (by applied index). */
  members(): NodeId[] {
    let best: SimNode | undefined;
    for (const n of this.live()) if (best === undefined || best.lastApplied < n.lastApplied) best = n;
    return best?.raw?.status().confState.voters ?? [];
  }

  /** The application's side of the Ready contract, start to finish with nothing in between. */
  processReady(id: NodeId): Ready | undefined {
    const n = this.sim(id);
    if (n.writing !== undefined) return this.finishReady(id);
    const rd = this.beginReady(id);
    if (rd !== undefined) this.finishReady(id);
    return rd;
  }

  /**
   * Takes a Ready and starts its write, overlapping what Member's loop overlaps (see Ready): a leader sends its
   * messages now (unless its term or vote changed, or a snapshot came), any member does when nothing needs an
   * fsync; committed entries are applied now (unless a snapshot came). Until finishReady the node keeps stepping messages and ticking; a crash loses the write.
   */
  beginReady(id: NodeId): Ready | undefined {
    const n = this.sim(id);
    const raw = n.raw;
    if (raw === undefined || n.writing !== undefined || !raw.hasReady()) return undefined;
    const rd = raw.ready();
    this.checkLogMatching(id, rd.entries, (i) => raw.raft.raftLog.term(i));
    if (rd.softState?.state === 'leader' || raw.raft.state === 'leader') this.noteLeader(raw.raft.term, id);
    n.writing = rd;
    // A Ready with nothing to fsync (at most a commit index) sends at once on any member, as Member does.
    n.sentEarly = rd.snapshot === undefined && (!rd.mustSync || (raw.raft.state === 'leader' && !rd.termChanged));
    if (n.sentEarly) this.enqueue(rd.messages);
    if (rd.snapshot === undefined) for (const e of rd.committedEntries) this.apply(n, e);
    return rd;
  }

  /** The write of the Ready begun by beginReady is durable: store it, send what waited for it, advance. */
  finishReady(id: NodeId): Ready | undefined {
    const n = this.sim(id);
    const raw = n.raw;
    const rd = n.writing;
    if (raw === undefined || rd === undefined) return undefined;
    n.writing = undefined;
    if (rd.snapshot !== undefined) {
      n.storage.applySnapshot(rd.snapshot);
      n.kv = Kv.from(rd.snapshot.data);
      n.lastApplied = rd.snapshot.metadata.index;
    }
    n.storage.append(rd.entries);
    if (rd.hardState !== undefined) n.storage.setHardState(rd.hardState);
    // An fsync (entries, term or vote, snapshot) makes every earlier write durable too.
    if (rd.mustSync || rd.snapshot !== undefined) n.syncedHardState = n.storage.initialState().hardState;
    if (!n.sentEarly) this.enqueue(rd.messages);
    n.sentEarly = false;
    if (rd.snapshot !== undefined) for (const e of rd.committedEntries) this.apply(n, e);
    n.readStates.push(...rd.readStates);
    raw.advance(rd);
    this.serveReads(n);
    for (const gone of this.toDecommission) {
      this.decommissioned.add(gone);
      this.crash(gone);
    }
    this.toDecommission = [];
    return rd;
  }

  private noteLeader(term: number, id: NodeId): void {
    const prev = this.leaderOfTerm.get(term);
    if (prev !== undefined && prev !== id) {
      throw new InvariantViolation(`election safety: nodes ${prev} and ${id} both leader in term ${term}`);
    }
    this.leaderOfTerm.set(term, id);
  }

  private apply(n: SimNode, e: Entry): void {
    if (e.index !== n.lastApplied + 1) {
      throw new InvariantViolation(`node ${n.id} applied ${e.index} after ${n.lastApplied}`);
    }
    n.lastApplied = e.index;
    const s = sig(e);
    const prev = this.committed.get(e.index);
    if (prev === undefined) this.committed.set(e.index, { term: e.term, sig: s });
    else if (prev.term !== e.term || prev.sig !== s) {
      throw new InvariantViolation(
        `state machine safety: node ${n.id} applied ${s}@${e.term} at ${e.index}, ` +
          `another applied ${prev.sig}@${prev.term}`,
      );
    }
    n.applied.push(e);
    if (e.type === 'confChange') {
      const cc = decodeConfChange(e.data);
      n.raw?.applyConfChange(cc);
      if (this.opts.decommissionRemoved === true && cc.type === 'removeNode' && !this.decommissioned.has(cc.nodeId)) {
        this.toDecommission.push(cc.nodeId);
      }
      return;
    }
    if (e.data.length === 0) return;
    const c = decodeCommand(e.data);
    n.kv.apply(c);
    if (!this.firstApplied.has(c.opId)) this.firstApplied.set(c.opId, ++this.time);
    const h = n.pendingPuts.get(c.opId);
    if (h !== undefined) {
      n.pendingPuts.delete(c.opId);
      const op = this.history[h];
      if (op !== undefined) op.ret = ++this.time;
      this.ackedPuts.add(c.opId);
    }
  }

  private serveReads(n: SimNode): void {
    const waiting: { index: number; context: string }[] = [];
    for (const rs of n.readStates) {
      const req = n.pendingReads.get(rs.context);
      if (req === undefined) continue;
      if (n.lastApplied < rs.index) {
        waiting.push(rs);
        continue;
      }
      n.pendingReads.delete(rs.context);
      const output = n.kv.data.get(req.key) ?? '';
      this.history.push({ input: { kind: 'get', key: req.key }, output, call: req.call, ret: ++this.time });
    }
    n.readStates = waiting;
  }

  // ---- clients ----

  /** Proposes a put through node `id`. Returns the op id, or undefined if the proposal was refused outright. */
  put(id: NodeId, key: string, value: string): string | undefined {
    const n = this.sim(id);
    const opId = `p${++this.opCounter}`;
    try {
      this.node(id).propose(encodeCommand({ opId, key, value }));
    } catch (err) {
      if (err instanceof ProposalDroppedError) return undefined;
      throw err;
    }
    n.pendingPuts.set(opId, this.history.length);
    this.putOps.set(this.history.length, opId);
    this.history.push({ input: { kind: 'put', key, value }, output: '', call: ++this.time, ret: Infinity });
    return opId;
  }

  get(id: NodeId, key: string): string {
    const n = this.sim(id);
    const ctx = `r${++this.opCounter}`;
    n.pendingReads.set(ctx, { key, call: ++this.time });
    this.node(id).readIndex(ctx);
    return ctx;
  }

  /** Snapshots node `id` at its applied index and drops log entries up to `keep` entries before it. */
  compact(id: NodeId, keep: number): boolean {
    const n = this.sim(id);
    const raw = n.raw;
    if (raw === undefined) return false;
    const applied = n.lastApplied;
    // As Member: snapshots are taken between Readies, never while a write is in progress.
    if (n.writing !== undefined) return false;
    if (applied <= n.storage.snapshot().metadata.index) return false;
    n.storage.createSnapshot(applied, raw.status().confState, n.kv.serialize());
    // Saving a snapshot fsyncs the WAL, and with it every hard state written before.
    n.syncedHardState = n.storage.initialState().hardState;
    const upTo = applied - keep;
    if (upTo >= n.storage.firstIndex()) n.storage.compact(upTo);
    return true;
  }

  /**
   * The history with every unacknowledged put resolved, valid once the cluster has converged and the network
   * is drained: a put applied somewhere completed no later than its first application; a put applied nowhere
   * never took effect and never will. Removing the open-ended operations keeps the checker's search small.
   */
  resolvedHistory(): KvOperation[] {
    const out: KvOperation[] = [];
    this.history.forEach((op, i) => {
      const opId = this.putOps.get(i);
      if (opId === undefined || op.ret !== Infinity) {
        out.push(op);
        return;
      }
      const at = this.firstApplied.get(opId);
      if (at !== undefined) out.push({ ...op, ret: at });
    });
    return out;
  }

  // ---- invariants ----

  /**
   * Log matching, checked incrementally: every entry reaches a log through the unstable part (and every
   * persisted or sent entry through a Ready), where we record (index, term) -> content and previous term. If the
   * same (index, term) always has the same content and the same predecessor term, by induction any two logs that
   * share an entry share the whole prefix before it.
   */
  private checkLogMatching(id: NodeId, ents: readonly Entry[], termOf: (i: number) => number | undefined): void {
    let prevTerm = ents[0] === undefined ? undefined : termOf(ents[0].index - 1);
    for (const e of ents) {
      const key = `${e.index}:${e.term}`;
      const s = sig(e);
      const seen = this.entriesSeen.get(key);
      if (seen === undefined) {
        this.entriesSeen.set(key, { sig: s, prevTerm });
      } else {
        if (seen.sig !== s) throw new InvariantViolation(`log matching: node ${id} holds a different entry ${key}`);
        if (seen.prevTerm === undefined) seen.prevTerm = prevTerm;
        else if (prevTerm !== undefined && seen.prevTerm !== prevTerm) {
          throw new InvariantViolation(
            `log matching: node ${id} holds ${key} after term ${prevTerm}, another after ${seen.prevTerm}`,
          );
        }
      }
      prevTerm = e.term;
    }
  }

  /** Log matching and leader completeness over the current logs (unstable included) of live nodes. */
  checkInvariants(): void {
    const live = this.live();
    for (const n of live) {
      const r = n.raw?.raft;
      if (r?.state === 'leader') this.noteLeader(r.term, n.id);
    }
    for (const n of live) {
      const log = n.raw?.raft.raftLog;
      if (log !== undefined) this.checkLogMatching(n.id, log.unstable.entries, (i) => log.term(i));
    }
    for (const n of live) {
      const r = n.raw?.raft;
      if (r?.state !== 'leader') continue;
      const log = r.raftLog;
      const first = log.firstIndex();
      for (const [index, c] of this.committed) {
        if (c.term >= r.term || index < first) continue;
        const t = log.term(index);
        if (t !== c.term) {
          throw new InvariantViolation(
            `leader completeness: leader ${n.id} (term ${r.term}) lacks committed ${index}@${c.term}`,
          );
        }
      }
    }
  }
}
