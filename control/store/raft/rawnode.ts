import {
  NONE,
  encodeConfChange,
  hardStateEqual,
  isEmptyHardState,
  isLocalMessage,
  isResponseMessage,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type ReadState,
  type Snapshot,
  type SoftState,
} from './messages.js';
import { Raft, type RaftConfig } from './raft.js';

/**
 * Everything the application must do after driving the node: persist `hardState`, `entries` and `snapshot` to
 * Storage; send `messages`; apply `snapshot` and `committedEntries` to the state machine; serve `readStates` once
 * applied; finally, once the write is durable, call advance(ready). The simple order (persist, send, apply) is
 * always correct. Two overlaps are allowed, as etcd's server does:
 *  - a leader may send `messages` while its write is in progress, unless `termChanged` or a snapshot is present:
 *    it counts its own copy toward the quorum only at advance(), so nothing commits on an unwritten copy;
 *  - `committedEntries` (not a `snapshot`) may be applied while the write is in progress: every member acks only
 *    durable entries, so committed ones are durable on a quorum already.
 * Followers must persist before sending (their acks promise durability).
 */
export interface Ready {
  /** Present only when leader or role changed. Not persisted. */
  softState?: SoftState;
  /** Present only when changed; must be persisted before messages are sent (a vote must survive a crash). */
  hardState?: HardState;
  /** Entries to append to stable storage before sending messages. */
  entries: Entry[];
  /** Snapshot to persist and install into the state machine. */
  snapshot?: Snapshot;
  /** Committed entries to apply, in order. */
  committedEntries: Entry[];
  messages: Message[];
  readStates: ReadState[];
  /**
   * etcd's MustSync: entries, or a term or vote change, must be fsync'd before `messages` are sent. A hard state
   * whose commit index alone changed may be written without waiting for an fsync (a restart recovers it).
   */
  mustSync: boolean;
  /** The hard state's term or vote changed: must be durable before any message goes out, even a leader's. */
  termChanged: boolean;
}

export class StepLocalMessageError extends Error {
  constructor(type: string) {
    super(`raft: cannot step raft local message ${type}`);
    this.name = 'StepLocalMessageError';
  }
}

/**
 * Thread-free, I/O-free wrapper around Raft that batches its outputs into Ready structs. The application owns
 * the loop: tick/step/propose, then `if (hasReady()) { const rd = ready(); ...; advance(rd) }`.
 */
export class RawNode {
  readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;

  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.prevSoftState = this.raft.softState();
    this.prevHardState = this.raft.hardState();
  }

  /**
   * Initialises a brand-new cluster member's log with one committed addNode entry per initial peer (term 1).
   * Membership then lives in the log itself, so a node added later learns the full configuration by replaying
   * it, exactly like the founders. Every founder must bootstrap with the same peers in the same order.
   */
  bootstrap(peers: readonly NodeId[]): void {
    if (peers.length === 0) throw new Error('raft: must provide at least one peer to bootstrap');
    const r = this.raft;
    if (r.raftLog.lastIndex() !== 0) throw new Error('raft: can only bootstrap an empty node');
    // Pretend we were a follower in term 1 so the entries have a term and the HardState gets persisted.
    r.becomeFollower(1, NONE);
    const ents: Entry[] = peers.map((id, i) => ({
      term: 1,
      index: i + 1,
      type: 'confChange',
      data: encodeConfChange({ type: 'addNode', nodeId: id }),
    }));
    r.raftLog.append(ents);
    // Committed by fiat: every founder holds identical entries. They still surface in committedEntries so the
    // application sees them like any other conf change (re-applying an addNode is a no-op).
    r.raftLog.committed = ents.length;
    for (const id of peers) r.applyConfChange({ type: 'addNode', nodeId: id });
  }

  get id(): NodeId {
    return this.raft.id;
  }

  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now instead of waiting for the election timeout. */
  campaign(): void {
    this.raft.step({ type: 'MsgHup', from: this.raft.id, to: this.raft.id, term: 0 });
  }

  /** Proposes data to be appended; throws ProposalDroppedError if it cannot be (e.g. no known leader). */
  propose(data: Uint8Array): void {
    this.raft.step({
      type: 'MsgProp',
      from: this.raft.id,
      to: NONE,
      term: 0,
      entries: [{ term: 0, index: 0, type: 'normal', data }],
    });
  }

  proposeConfChange(cc: ConfChange): void {
    this.raft.step({
      type: 'MsgProp',
      from: this.raft.id,
      to: NONE,
      term: 0,
      entries: [{ term: 0, index: 0, type: 'confChange', data: encodeConfChange(cc) }],
    });
  }

  /** Call when a conf change entry from committedEntries is applied. Returns the resulting membership. */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  /** Feeds a message received from a peer. Local-only message types are refused. */
  step(m: Message): void {
    if (isLocalMessage(m.type)) throw new StepLocalMessageError(m.type);
    // Responses from nodes outside the configuration are meaningless (e.g. from a removed member).
    if (isResponseMessage(m.type) && !this.raft.prs.has(m.from)) return;
    this.raft.step(m);
  }

  /**
   * Requests a linearizable read point. A ReadState with this context appears in a later Ready; the read may
   * be served once the state machine has applied up to its index. Requests may be silently dropped (no
   * leader, leader change); callers retry with a fresh context.
   */
  readIndex(context: string): void {
    this.raft.step({ type: 'MsgReadIndex', from: NONE, to: NONE, term: 0, context });
  }

  /** Asks the leader to hand over to `transferee`; works on any node (followers forward it). */
  transferLeadership(transferee: NodeId): void {
    this.raft.step({ type: 'MsgTransferLeader', from: transferee, to: this.raft.lead, term: 0 });
  }

  /** Transport feedback: `to` could not be reached, so stop pipelining to it. */
  reportUnreachable(id: NodeId): void {
    this.raft.step({ type: 'MsgUnreachable', from: id, to: this.raft.id, term: 0 });
  }

  /** Transport feedback about a MsgSnap sent to `id`; without it the leader waits for that snapshot forever. */
  reportSnapshot(id: NodeId, status: 'finish' | 'failure'): void {
    this.raft.step({ type: 'MsgSnapStatus', from: id, to: this.raft.id, term: 0, reject: status === 'failure' });
  }

  status(): { id: NodeId; softState: SoftState; hardState: HardState; applied: number; confState: ConfState } {
    return {
      id: this.raft.id,
      softState: this.raft.softState(),
      hardState: this.raft.hardState(),
      applied: this.raft.raftLog.applied,
      confState: this.raft.confState(),
    };
  }

  hasReady(): boolean {
    const r = this.raft;
    const ss = r.softState();
    if (ss.lead !== this.prevSoftState.lead || ss.state !== this.prevSoftState.state) return true;
    const hs = r.hardState();
    if (!isEmptyHardState(hs) && !hardStateEqual(hs, this.prevHardState)) return true;
    if (r.raftLog.unstable.snapshot !== undefined) return true;
    if (r.msgs.length > 0 || r.raftLog.unstable.entries.length > 0 || r.raftLog.hasNextCommittedEntries()) return true;
    return r.readStates.length > 0;
  }

  /** Collects pending work. The caller must process it and call advance() before the next ready(). */
  ready(): Ready {
    const r = this.raft;
    const rd: Ready = {
      entries: r.raftLog.unstableEntries(),
      committedEntries: r.raftLog.nextCommittedEntries(),
      messages: r.msgs,
      readStates: r.readStates,
      mustSync: false,
      termChanged: false,
    };
    const ss = r.softState();
    if (ss.lead !== this.prevSoftState.lead || ss.state !== this.prevSoftState.state) {
      rd.softState = ss;
      this.prevSoftState = ss;
    }
    const hs = r.hardState();
    if (!hardStateEqual(hs, this.prevHardState)) {
      rd.hardState = hs;
      rd.termChanged = hs.term !== this.prevHardState.term || hs.vote !== this.prevHardState.vote;
    }
    rd.mustSync = rd.termChanged || rd.entries.length > 0;
    if (r.raftLog.unstable.snapshot !== undefined) rd.snapshot = r.raftLog.unstable.snapshot;
    r.msgs = [];
    r.readStates = [];
    return rd;
  }

  /** Acknowledges that `rd` was persisted and applied. */
  advance(rd: Ready): void {
    const r = this.raft;
    if (rd.hardState !== undefined) this.prevHardState = rd.hardState;
    const lastCommitted = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastCommitted !== undefined) r.raftLog.appliedTo(lastCommitted.index);
    else if (rd.snapshot !== undefined && rd.snapshot.metadata.index > r.raftLog.applied) {
      r.raftLog.appliedTo(rd.snapshot.metadata.index);
    }
    const lastEntry = rd.entries[rd.entries.length - 1];
    if (lastEntry !== undefined) r.raftLog.stableTo(lastEntry.index, lastEntry.term);
    if (rd.snapshot !== undefined) r.raftLog.stableSnapTo(rd.snapshot.metadata.index);
    if (lastEntry !== undefined) r.persistedTo(lastEntry.index, lastEntry.term);
  }
}
