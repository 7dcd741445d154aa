import { RaftLog } from './log.js';
import {
  NONE,
  isEmptyHardState,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type MsgApp,
  type MsgHeartbeat,
  type MsgReadIndex,
  type MsgSnap,
  type NodeId,
  type ReadState,
  type Snapshot,
  type SoftState,
  type StateType,
} from './messages.js';
import { Progress, ProgressTracker } from './progress.js';
import { majority } from './quorum.js';
import type { Rand } from './rand.js';
import { ReadOnly } from './readonly.js';
import { CompactedError, UnavailableError, type Storage } from './storage.js';

export interface RaftConfig {
  id: NodeId;
  /** Ticks without hearing from a leader before campaigning; the actual timeout is randomised in [e, 2e). */
  electionTick: number;
  /** Ticks between leader heartbeats. Must be well below electionTick. */
  heartbeatTick: number;
  storage: Storage;
  /** Last index the application has already applied (e.g. its snapshot's index after a restart). */
  applied?: number;
  maxEntriesPerMsg?: number;
  maxInflightMsgs?: number;
  /** Leader steps down when it has not heard from a quorum for an election timeout; also enables vote leases. */
  checkQuorum?: boolean;
  /** Campaign in a pre-vote phase first so a partitioned node cannot inflate terms and depose a healthy leader. */
  preVote?: boolean;
  rand: Rand;
}

/** A proposal could not be accepted (no leader, leader transfer in progress, conf change already pending, ...). */
export class ProposalDroppedError extends Error {
  constructor(reason: string) {
    super(`raft proposal dropped: ${reason}`);
    this.name = 'ProposalDroppedError';
  }
}

type StepFn = (m: Message) => void;

function voteRespType(t: 'MsgVote' | 'MsgPreVote'): 'MsgVoteResp' | 'MsgPreVoteResp' {
  return t === 'MsgVote' ? 'MsgVoteResp' : 'MsgPreVoteResp';
}

/**
 * The Raft state machine. Pure: inputs are step()/tick(), outputs accumulate in `msgs`, `readStates` and the
 * log's unstable part, and are drained by RawNode through Ready. It never reads a clock or does I/O.
 */
export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = NONE;
  readStates: ReadState[] = [];
  readonly raftLog: RaftLog;
  prs: ProgressTracker;
  state: StateType = 'follower';
  msgs: Message[] = [];
  lead: NodeId = NONE;
  /** Target of an in-progress leadership transfer, NONE otherwise. */
  leadTransferee: NodeId = NONE;
  /**
   * Index of the latest conf change the leader has appended. A new one is refused until it is applied, which
   * keeps membership changes strictly one at a time (any two consecutive majorities then overlap).
   */
  pendingConfIndex = 0;
  private readOnly = new ReadOnly();
  /** ReadIndex requests received before this leader committed an entry of its own term. */
  private pendingReadIndexMessages: MsgReadIndex[] = [];
  /** Leader: ticks since last check-quorum. Others: ticks since last heard from a valid leader. */
  electionElapsed = 0;
  private heartbeatElapsed = 0;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  private readonly heartbeatTimeout: number;
  private readonly electionTimeout: number;
  randomizedElectionTimeout = 0;
  private readonly rand: Rand;
  private stepFn: StepFn;

  constructor(c: RaftConfig) {
    if (c.id === NONE) throw new Error('raft: cannot use none as id');
    if (c.heartbeatTick <= 0) throw new Error('raft: heartbeat tick must be greater than 0');
    if (c.electionTick <= c.heartbeatTick) throw new Error('raft: election tick must be greater than heartbeat tick');
    this.id = c.id;
    this.raftLog = new RaftLog(c.storage, c.maxEntriesPerMsg ?? Number.MAX_SAFE_INTEGER);
    this.prs = new ProgressTracker(c.maxInflightMsgs ?? 256);
    this.checkQuorum = c.checkQuorum ?? false;
    this.preVote = c.preVote ?? false;
    this.heartbeatTimeout = c.heartbeatTick;
    this.electionTimeout = c.electionTick;
    this.rand = c.rand;
    this.stepFn = (m) => this.stepFollower(m);

    const { hardState, confState } = c.storage.initialState();
    this.applyConfState(confState);
    if (!isEmptyHardState(hardState)) this.loadState(hardState);
    if (c.applied !== undefined && c.applied > 0) this.raftLog.appliedTo(c.applied);
    this.becomeFollower(this.term, NONE);
  }

  softState(): SoftState {
    return { lead: this.lead, state: this.state };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  private loadState(hs: HardState): void {
    if (hs.commit < this.raftLog.committed || hs.commit > this.raftLog.lastIndex()) {
      const range = `[${this.raftLog.committed}, ${this.raftLog.lastIndex()}]`;
      throw new Error(`raft: ${this.id} state.commit ${hs.commit} is out of range ${range}`);
    }
    this.raftLog.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  private applyConfState(cs: ConfState): void {
    const tracker = new ProgressTracker(this.prs.maxInflight);
    const last = this.raftLog.lastIndex();
    for (const id of cs.voters) {
      const existing = this.prs.get(id);
      tracker.progress.set(id, existing ?? new Progress(0, last + 1, tracker.maxInflight));
    }
    this.prs = tracker;
  }

  confState(): ConfState {
    return { voters: this.prs.ids() };
  }

  /** A node removed from the configuration must not campaign, or it could disrupt the cluster that dropped it. */
  promotable(): boolean {
    return this.prs.has(this.id);
  }

  private send(m: Message): void {
    // Forwarded messages keep their originator (the proposer, the transferee) in `from`.
    if (m.from === NONE) m.from = this.id;
    if (m.type === 'MsgVote' || m.type === 'MsgVoteResp' || m.type === 'MsgPreVote' || m.type === 'MsgPreVoteResp') {
      // Campaign messages carry the term they are about (a pre-vote is for term+1), set by the caller.
      if (m.term === 0) throw new Error(`raft: term should be set when sending ${m.type}`);
    } else if (m.type !== 'MsgProp' && m.type !== 'MsgReadIndex') {
      // Forwarded proposals and reads carry no term so the leader treats them as local requests.
      m.term = this.term;
    }
    this.msgs.push(m);
  }

  // ---- replication ----

  sendAppend(to: NodeId): void {
    this.maybeSendAppend(to, true);
  }

  /**
   * Sends the entries `to` is missing, or a snapshot if they were compacted away. With sendIfEmpty false an
   * up-to-date follower gets nothing, so callers can loop until the pipeline is full.
   */
  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.prs.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.raftLog.term(prevIndex);
    let ents: Entry[] | undefined;
    try {
      ents = this.raftLog.entries(pr.next);
    } catch (err) {
      if (!(err instanceof CompactedError)) throw err;
      ents = undefined;
    }
    if (ents !== undefined && ents.length === 0 && !sendIfEmpty) return false;

    if (prevTerm === undefined || ents === undefined) {
      // The follower needs entries we no longer have: ship the snapshot. Skip peers we have not heard from,
      // since a snapshot is expensive and probably would not arrive.
      if (!pr.recentActive) return false;
      let snapshot: Snapshot;
      try {
        snapshot = this.raftLog.snapshot();
      } catch (err) {
        if (err instanceof UnavailableError) return false;
        throw err;
      }
      if (snapshot.metadata.index === 0) throw new Error('raft: need non-empty snapshot');
      pr.becomeSnapshot(snapshot.metadata.index);
      const m: MsgSnap = { type: 'MsgSnap', from: this.id, to, term: 0, snapshot };
      this.send(m);
      return true;
    }

    const m: MsgApp = {
      type: 'MsgApp',
      from: this.id,
      to,
      term: 0,
      index: prevIndex,
      logTerm: prevTerm,
      entries: ents,
      commit: this.raftLog.committed,
    };
    const lastEnt = ents[ents.length - 1];
    if (lastEnt !== undefined) {
      if (pr.state === 'replicate') {
        pr.optimisticUpdate(lastEnt.index);
        pr.inflights.add(lastEnt.index);
      } else if (pr.state === 'probe') {
        pr.probeSent = true;
      } else {
        throw new Error(`raft: ${this.id} is sending append in unhandled state ${pr.state}`);
      }
    }
    this.send(m);
    return true;
  }

  private sendHeartbeat(to: NodeId, context: string | undefined): void {
    const pr = this.prs.get(to);
    if (pr === undefined) return;
    // Never tell a follower to commit past what it is known to hold: it may not have those entries yet.
    const commit = Math.min(pr.match, this.raftLog.committed);
    const m: MsgHeartbeat = { type: 'MsgHeartbeat', from: this.id, to, term: 0, commit };
    if (context !== undefined) m.context = context;
    this.send(m);
  }

  bcastAppend(): void {
    for (const id of this.prs.ids()) if (id !== this.id) this.sendAppend(id);
  }

  private bcastHeartbeat(): void {
    this.bcastHeartbeatWithContext(this.readOnly.lastPendingRequestContext());
  }

  private bcastHeartbeatWithContext(context: string | undefined): void {
    for (const id of this.prs.ids()) if (id !== this.id) this.sendHeartbeat(id, context);
  }

  /** Advances the commit index if a quorum now matches a newer entry of the current term. */
  maybeCommit(): boolean {
    return this.raftLog.maybeCommit(this.prs.committed(), this.term);
  }

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.prs.resetVotes();
    const last = this.raftLog.lastIndex();
    // Our own copy counts only as far as it is durable (see persistedTo).
    const stable = Math.min(last, this.raftLog.unstable.offset - 1);
    for (const id of this.prs.ids()) {
      const pr = new Progress(0, last + 1, this.prs.maxInflight);
      if (id === this.id) pr.match = stable;
      this.prs.progress.set(id, pr);
    }
    this.pendingConfIndex = 0;
    this.readOnly = new ReadOnly();
    this.pendingReadIndexMessages = [];
  }

  private appendEntry(es: Entry[]): void {
    let li = this.raftLog.lastIndex();
    for (const e of es) {
      li++;
      e.term = this.term;
      e.index = li;
    }
    this.raftLog.append(es);
    // Our own copy is counted toward the quorum only once the application says it is durable (persistedTo), as
    // etcd-io/raft's self-addressed MsgAppResp: the application may send the entries to followers first.
  }

  /**
   * The application made the log durable up to `index`, an entry of `term` (RawNode.advance). A leader now counts
   * its own copy: a commit never rests on a copy that a crash could still lose, so committed entries may be sent,
   * applied and acknowledged before this member's own write of them finishes.
   */
  persistedTo(index: number, term: number): void {
    if (this.state !== 'leader' || this.raftLog.term(index) !== term) return;
    const pr = this.prs.get(this.id);
    if (pr === undefined || !pr.maybeUpdate(index)) return;
    if (this.maybeCommit()) {
      this.releasePendingReadIndexMessages();
      this.bcastAppend();
    }
  }

  // ---- ticks ----

  tick(): void {
    if (this.state === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0;
      this.step({ type: 'MsgHup', from: this.id, to: this.id, term: 0 });
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step({ type: 'MsgCheckQuorum', from: this.id, to: this.id, term: 0 });
      // A transfer that did not finish within an election timeout is abandoned so proposals can resume.
      if (this.state === 'leader' && this.leadTransferee !== NONE) this.abortLeaderTransfer();
    }
    if (this.state !== 'leader') return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step({ type: 'MsgBeat', from: this.id, to: this.id, term: 0 });
    }
  }

  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  private resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTimeout + this.rand.intn(this.electionTimeout);
  }

  // ---- role transitions ----

  becomeFollower(term: number, lead: NodeId): void {
    this.stepFn = (m) => this.stepFollower(m);
    this.reset(term);
    this.lead = lead;
    this.state = 'follower';
  }

  becomeCandidate(): void {
    if (this.state === 'leader') throw new Error('raft: invalid transition [leader -> candidate]');
    this.stepFn = (m) => this.stepCandidate(m);
    this.reset(this.term + 1);
    this.vote = this.id;
    this.state = 'candidate';
  }

  becomePreCandidate(): void {
    if (this.state === 'leader') throw new Error('raft: invalid transition [leader -> pre-candidate]');
    // Pre-vote changes neither term nor vote: a node that cannot win must leave no trace on the cluster.
    this.stepFn = (m) => this.stepCandidate(m);
    this.prs.resetVotes();
    this.state = 'preCandidate';
    this.lead = NONE;
  }

  becomeLeader(): void {
    if (this.state === 'follower') throw new Error('raft: invalid transition [follower -> leader]');
    this.stepFn = (m) => this.stepLeader(m);
    this.reset(this.term);
    this.lead = this.id;
    this.state = 'leader';
    const self = this.prs.get(this.id);
    if (self !== undefined) {
      self.becomeReplicate();
      self.recentActive = true;
    }
    // Conservatively treat any unapplied tail as possibly holding a conf change.
    this.pendingConfIndex = this.raftLog.lastIndex();
    // Entries from earlier terms can only be committed indirectly, via an entry of our own term.
    this.appendEntry([{ term: 0, index: 0, type: 'normal', data: new Uint8Array(0) }]);
  }

  private hup(transfer: boolean): void {
    if (this.state === 'leader') return;
    if (!this.promotable()) return;
    // An unapplied conf change could change who may vote; campaigning before applying it could be unsafe.
    const lo = Math.max(this.raftLog.applied + 1, this.raftLog.firstIndex());
    const ents = lo <= this.raftLog.committed ? this.raftLog.slice(lo, this.raftLog.committed + 1) : [];
    if (ents.some((e) => e.type === 'confChange')) return;
    if (this.preVote && !transfer) this.campaign('preElection', false);
    else this.campaign('election', transfer);
  }

  private campaign(kind: 'preElection' | 'election', transfer: boolean): void {
    let voteMsg: 'MsgVote' | 'MsgPreVote';
    let term: number;
    if (kind === 'preElection') {
      this.becomePreCandidate();
      voteMsg = 'MsgPreVote';
      // Pre-vote asks about the term we would campaign in, without moving to it.
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteMsg = 'MsgVote';
      term = this.term;
    }
    if (this.poll(this.id, true) === 'won') {
      // Single-node cluster: we won outright.
      if (kind === 'preElection') this.campaign('election', transfer);
      else this.becomeLeader();
      return;
    }
    const index = this.raftLog.lastIndex();
    const logTerm = this.raftLog.lastTerm();
    for (const id of this.prs.ids()) {
      if (id === this.id) continue;
      this.send({ type: voteMsg, from: this.id, to: id, term, index, logTerm, transfer });
    }
  }

  private poll(id: NodeId, granted: boolean): 'pending' | 'lost' | 'won' {
    this.prs.recordVote(id, granted);
    return this.prs.tallyVotes();
  }

  // ---- step ----

  /** Feeds one message. Throws ProposalDroppedError when a MsgProp cannot be accepted. */
  step(m: Message): void {
    if (m.term === 0) {
      // Local message (or forwarded proposal/read): no term handling.
    } else if (m.term > this.term) {
      if (m.type === 'MsgVote' || m.type === 'MsgPreVote') {
        // Leader lease: while we have heard from a leader within the election timeout, ignore candidates that
        // would depose it. A removed or partitioned node then cannot disrupt a healthy cluster.
        const inLease = this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout;
        if (!m.transfer && inLease) return;
      }
      if (m.type === 'MsgPreVote') {
        // Never change term on a pre-vote request.
      } else if (m.type === 'MsgPreVoteResp' && !m.reject) {
        // A granted pre-vote is for our future term; we move to it only once a quorum agrees.
      } else if (m.type === 'MsgApp' || m.type === 'MsgHeartbeat' || m.type === 'MsgSnap') {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === 'MsgHeartbeat' || m.type === 'MsgApp')) {
        // A stale leader (e.g. healed from a partition) would never learn about the new term if we stayed
        // silent: with check-quorum or pre-vote nobody sends it a higher-term vote request. Tell it.
        this.sendAppResp(m.from, 0);
      } else if (m.type === 'MsgPreVote') {
        // Reject explicitly so a pre-candidate with a stale term learns the current one and is not stuck.
        this.send({ type: 'MsgPreVoteResp', from: this.id, to: m.from, term: this.term, reject: true });
      }
      return;
    }

    switch (m.type) {
      case 'MsgHup':
        this.hup(m.transfer === true);
        return;
      case 'MsgVote':
      case 'MsgPreVote': {
        const canVote =
          this.vote === m.from ||
          (this.vote === NONE && this.lead === NONE) ||
          (m.type === 'MsgPreVote' && m.term > this.term);
        if (canVote && this.raftLog.isUpToDate(m.index, m.logTerm)) {
          // The response carries the request's term: for a pre-vote that is a term we have not reached.
          this.send({ type: voteRespType(m.type), from: this.id, to: m.from, term: m.term, reject: false });
          if (m.type === 'MsgVote') {
            this.electionElapsed = 0;
            this.vote = m.from;
          }
        } else {
          this.send({ type: voteRespType(m.type), from: this.id, to: m.from, term: this.term, reject: true });
        }
        return;
      }
      default:
        this.stepFn(m);
    }
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case 'MsgBeat':
        this.bcastHeartbeat();
        return;
      case 'MsgCheckQuorum':
        if (!this.prs.quorumActive(this.id)) this.becomeFollower(this.term, NONE);
        // Everyone must prove liveness again during the next election timeout.
        for (const [id, pr] of this.prs.progress) if (id !== this.id) pr.recentActive = false;
        return;
      case 'MsgProp': {
        if (m.entries.length === 0) throw new Error('raft: stepped empty MsgProp');
        if (!this.prs.has(this.id)) throw new ProposalDroppedError('leader was removed from the configuration');
        if (this.leadTransferee !== NONE) throw new ProposalDroppedError('leadership transfer in progress');
        for (let i = 0; i < m.entries.length; i++) {
          const e = m.entries[i];
          if (e === undefined || e.type !== 'confChange') continue;
          if (this.pendingConfIndex > this.raftLog.applied) {
            throw new ProposalDroppedError('a configuration change is already pending');
          }
          this.pendingConfIndex = this.raftLog.lastIndex() + i + 1;
        }
        // Copy: the caller's entry objects must not be renumbered under its feet.
        this.appendEntry(m.entries.map((e) => ({ term: 0, index: 0, type: e.type, data: e.data })));
        this.bcastAppend();
        return;
      }
      case 'MsgReadIndex':
        if (this.prs.progress.size === 1) {
          this.respondToReadIndex(m, this.raftLog.committed);
          return;
        }
        // Until an entry of our term is committed our commit index may lag what the previous leader committed,
        // so serving reads at it could be stale. Park them until then.
        if (!this.committedEntryInCurrentTerm()) {
          this.pendingReadIndexMessages.push(m);
          return;
        }
        this.sendReadIndexConfirmation(m);
        return;
      default:
        break;
    }

    const pr = this.prs.get(m.from);
    if (pr === undefined) return;
    switch (m.type) {
      case 'MsgAppResp': {
        pr.recentActive = true;
        if (m.reject) {
          let nextProbeIdx = m.rejectHint;
          if (m.logTerm > 0) {
            // The follower told us its term at rejectHint; skip every entry of ours with a larger term, since
            // none of them can match. One round trip per term instead of per entry.
            nextProbeIdx = this.raftLog.findConflictByTerm(m.rejectHint, m.logTerm).index;
          }
          if (pr.maybeDecrTo(m.index, nextProbeIdx)) {
            if (pr.state === 'replicate') pr.becomeProbe();
            this.sendAppend(m.from);
          }
          return;
        }
        const oldPaused = pr.isPaused();
        if (!pr.maybeUpdate(m.index)) return;
        if (pr.state === 'probe') {
          pr.becomeReplicate();
        } else if (pr.state === 'snapshot' && pr.match + 1 >= this.raftLog.firstIndex()) {
          // The follower caught up far enough (via the snapshot or otherwise) that plain appends work again.
          pr.becomeProbe();
          pr.becomeReplicate();
        } else if (pr.state === 'replicate') {
          pr.inflights.freeLE(m.index);
        }
        if (this.maybeCommit()) {
          this.releasePendingReadIndexMessages();
          this.bcastAppend();
        } else if (oldPaused) {
          this.sendAppend(m.from);
        }
        while (this.maybeSendAppend(m.from, false)) {
          // keep the pipeline full
        }
        if (m.from === this.leadTransferee && pr.match === this.raftLog.lastIndex()) {
          this.sendTimeoutNow(m.from);
        }
        return;
      }
      case 'MsgHeartbeatResp': {
        pr.recentActive = true;
        pr.probeSent = false;
        // A heartbeat response proves the follower is alive; free a slot so a stalled pipeline can resume.
        if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
        if (pr.match < this.raftLog.lastIndex()) this.sendAppend(m.from);
        if (m.context === undefined) return;
        const acks = this.readOnly.recvAck(m.from, m.context);
        if (acks === undefined) return;
        let granted = 0;
        for (const id of this.prs.progress.keys()) if (id === this.id || acks.has(id)) granted++;
        if (granted < majority(this.prs.progress.size)) return;
        for (const rs of this.readOnly.advance(m.context)) this.respondToReadIndex(rs.req, rs.index);
        return;
      }
      case 'MsgSnapStatus':
        if (pr.state !== 'snapshot') return;
        if (m.reject) pr.pendingSnapshot = 0;
        pr.becomeProbe();
        // Wait for a heartbeat response before probing, so we do not hammer a follower still loading it.
        pr.probeSent = true;
        return;
      case 'MsgUnreachable':
        if (pr.state === 'replicate') pr.becomeProbe();
        return;
      case 'MsgTransferLeader': {
        const transferee = m.from;
        if (this.leadTransferee !== NONE) {
          if (this.leadTransferee === transferee) return;
          this.abortLeaderTransfer();
        }
        if (transferee === this.id) return;
        // The transfer must finish within an election timeout or it is abandoned.
        this.electionElapsed = 0;
        this.leadTransferee = transferee;
        if (pr.match === this.raftLog.lastIndex()) this.sendTimeoutNow(transferee);
        else this.sendAppend(transferee);
        return;
      }
      default:
        return;
    }
  }

  private stepCandidate(m: Message): void {
    const myVoteRespType = this.state === 'preCandidate' ? 'MsgPreVoteResp' : 'MsgVoteResp';
    switch (m.type) {
      case 'MsgProp':
        throw new ProposalDroppedError('no leader');
      case 'MsgApp':
        this.becomeFollower(m.term, m.from);
        this.handleAppendEntries(m);
        return;
      case 'MsgHeartbeat':
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case 'MsgSnap':
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case 'MsgVoteResp':
      case 'MsgPreVoteResp': {
        if (m.type !== myVoteRespType) return;
        const res = this.poll(m.from, !m.reject);
        if (res === 'won') {
          if (this.state === 'preCandidate') {
            this.campaign('election', false);
          } else {
            this.becomeLeader();
            this.bcastAppend();
          }
        } else if (res === 'lost') {
          // A pre-vote rejection at a higher term has already moved us to that term in step().
          this.becomeFollower(this.term, NONE);
        }
        return;
      }
      default:
        return;
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'MsgProp':
        if (this.lead === NONE) throw new ProposalDroppedError('no leader');
        m.to = this.lead;
        this.send(m);
        return;
      case 'MsgApp':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppendEntries(m);
        return;
      case 'MsgHeartbeat':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case 'MsgSnap':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case 'MsgTransferLeader':
        if (this.lead === NONE) return;
        m.to = this.lead;
        this.send(m);
        return;
      case 'MsgTimeoutNow':
        // The leader vouches that our log is up to date; campaign right away, bypassing pre-vote and leases.
        this.hup(true);
        return;
      case 'MsgReadIndex':
        if (this.lead === NONE) return;
        m.to = this.lead;
        this.send(m);
        return;
      case 'MsgReadIndexResp':
        this.readStates.push({ index: m.index, context: m.context });
        return;
      default:
        return;
    }
  }

  private handleAppendEntries(m: MsgApp): void {
    if (m.index < this.raftLog.committed) {
      // Everything up to our commit index is known to match; tell the leader where we are.
      this.sendAppResp(m.from, this.raftLog.committed);
      return;
    }
    const lastNew = this.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      this.sendAppResp(m.from, lastNew);
      return;
    }
    // Point the leader at the largest index that could match: at most our last index, and no entry whose term is
    // above the leader's term at m.index can match (terms only grow along the log).
    const hintIndex = Math.min(m.index, this.raftLog.lastIndex());
    const hint = this.raftLog.findConflictByTerm(hintIndex, m.logTerm);
    this.sendAppResp(m.from, m.index, { hint: hint.index, term: hint.term });
  }

  /** Acks (or, with `rejection`, refuses) a MsgApp; `index` is our last matching index or the rejected one. */
  private sendAppResp(to: NodeId, index: number, rejection?: { hint: number; term: number }): void {
    this.send({
      type: 'MsgAppResp',
      from: this.id,
      to,
      term: 0,
      index,
      reject: rejection !== undefined,
      rejectHint: rejection?.hint ?? 0,
      logTerm: rejection?.term ?? 0,
    });
  }

  private handleHeartbeat(m: MsgHeartbeat): void {
    this.raftLog.commitTo(m.commit);
    const resp: Message = { type: 'MsgHeartbeatResp', from: this.id, to: m.from, term: 0 };
    if (m.context !== undefined) resp.context = m.context;
    this.send(resp);
  }

  private handleSnapshot(m: MsgSnap): void {
    const index = this.restore(m.snapshot) ? this.raftLog.lastIndex() : this.raftLog.committed;
    this.sendAppResp(m.from, index);
  }

  /** Installs a snapshot from the leader. Returns false when it is stale or our log already covers it. */
  restore(s: Snapshot): boolean {
    if (s.metadata.index <= this.raftLog.committed) return false;
    if (this.state !== 'follower') {
      // Only a leader of this term can send snapshots, so this cannot happen unless something is badly wrong;
      // stepping down is the safe reaction.
      this.becomeFollower(this.term + 1, NONE);
      return false;
    }
    if (this.raftLog.matchTerm(s.metadata.index, s.metadata.term)) {
      // We already hold the snapshot's last entry: just fast-forward the commit index and keep our log.
      this.raftLog.commitTo(s.metadata.index);
      return false;
    }
    this.raftLog.restore(s);
    this.applyConfState(s.metadata.confState);
    const last = this.raftLog.lastIndex();
    for (const [id, pr] of this.prs.progress) {
      pr.match = id === this.id ? last : 0;
      pr.next = last + 1;
    }
    return true;
  }

  // ---- reads ----

  private committedEntryInCurrentTerm(): boolean {
    return (this.raftLog.term(this.raftLog.committed) ?? 0) === this.term;
  }

  private releasePendingReadIndexMessages(): void {
    if (!this.committedEntryInCurrentTerm()) return;
    const msgs = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of msgs) this.sendReadIndexConfirmation(m);
  }

  private sendReadIndexConfirmation(m: MsgReadIndex): void {
    // Record the commit index now, then prove we are still leader with a heartbeat round: if a quorum answers,
    // no other leader can have committed anything newer in the meantime.
    this.readOnly.addRequest(this.raftLog.committed, m);
    this.readOnly.recvAck(this.id, m.context);
    this.bcastHeartbeatWithContext(m.context);
  }

  private respondToReadIndex(req: MsgReadIndex, index: number): void {
    if (req.from === NONE || req.from === this.id) {
      this.readStates.push({ index, context: req.context });
      return;
    }
    this.send({ type: 'MsgReadIndexResp', from: this.id, to: req.from, term: 0, index, context: req.context });
  }

  // ---- leader transfer ----

  private sendTimeoutNow(to: NodeId): void {
    this.send({ type: 'MsgTimeoutNow', from: this.id, to, term: 0 });
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  // ---- membership ----

  /** Applies a committed conf change entry. The application calls this when it applies the entry. */
  applyConfChange(cc: ConfChange): ConfState {
    if (cc.type === 'addNode') {
      if (!this.prs.has(cc.nodeId)) {
        const pr = new Progress(0, this.raftLog.lastIndex() + 1, this.prs.maxInflight);
        // A fresh node counts as active so check-quorum does not depose us before it had a chance to answer.
        pr.recentActive = true;
        this.prs.progress.set(cc.nodeId, pr);
      }
    } else {
      this.prs.progress.delete(cc.nodeId);
      this.prs.votes.delete(cc.nodeId);
    }
    if (this.state !== 'leader') return this.confState();
    if (!this.prs.has(this.id)) {
      // We removed ourselves: stop leading so the remaining voters elect a leader among themselves.
      this.becomeFollower(this.term, NONE);
      return this.confState();
    }
    if (this.leadTransferee !== NONE && !this.prs.has(this.leadTransferee)) this.abortLeaderTransfer();
    // The quorum may have shrunk, so something could now be committable; the new member needs its log.
    if (this.maybeCommit()) this.bcastAppend();
    else for (const id of this.prs.ids()) if (id !== this.id) this.maybeSendAppend(id, false);
    return this.confState();
  }
}
