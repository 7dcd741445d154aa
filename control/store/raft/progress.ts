import type { NodeId } from './messages.js';
import { committedIndex, majority, voteResult, type VoteResult } from './quorum.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/**
 * Bounded window of in-flight MsgApp, identified by the last index each carried. Lets the leader pipeline
 * appends to a healthy follower without flooding one whose acks stopped.
 */
export class Inflights {
  private buf: number[] = [];

  constructor(readonly size: number) {}

  add(lastIndex: number): void {
    if (this.full()) throw new Error('raft: cannot add into a full inflights');
    this.buf.push(lastIndex);
  }

  /** Frees every in-flight message whose last index is <= to (acks are cumulative). */
  freeLE(to: number): void {
    let i = 0;
    while (i < this.buf.length && (this.buf[i] ?? 0) <= to) i++;
    if (i > 0) this.buf = this.buf.slice(i);
  }

  freeFirstOne(): void {
    this.buf.shift();
  }

  full(): boolean {
    return this.buf.length >= this.size;
  }

  count(): number {
    return this.buf.length;
  }

  reset(): void {
    this.buf = [];
  }
}

/**
 * The leader's view of one follower. probe: one MsgApp at a time until we find where logs match; replicate:
 * optimistic pipelining; snapshot: waiting for a MsgSnap to land, sending nothing else.
 */
export class Progress {
  state: ProgressState = 'probe';
  /** In probe state: a MsgApp is outstanding, so hold off until a response or heartbeat response. */
  probeSent = false;
  pendingSnapshot = 0;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  readonly inflights: Inflights;

  constructor(
    public match: number,
    public next: number,
    maxInflight: number,
  ) {
    this.inflights = new Inflights(maxInflight);
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    if (this.state === 'snapshot') {
      // Resume after the snapshot even if its ack got lost: the follower most likely has it.
      const pending = this.pendingSnapshot;
      this.resetState('probe');
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState('probe');
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  /** Records a successful ack up to n. Returns false for stale acks that tell us nothing new. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  optimisticUpdate(n: number): void {
    this.next = n + 1;
  }

  /**
   * Handles a rejected MsgApp for index `rejected`; `matchHint` is the follower's best guess at a matching
   * index. Returns false if the rejection is stale (reordered or duplicated) and must be ignored.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }
}

/** Progress of every voter plus the vote tally of the current campaign. */
export class ProgressTracker {
  readonly progress = new Map<NodeId, Progress>();
  readonly votes = new Map<NodeId, boolean>();

  constructor(readonly maxInflight: number) {}

  voters(): ReadonlySet<NodeId> {
    return new Set(this.progress.keys());
  }

  /** Voter ids in ascending order, so message order never depends on insertion history. */
  ids(): NodeId[] {
    return [...this.progress.keys()].sort((a, b) => a - b);
  }

  get(id: NodeId): Progress | undefined {
    return this.progress.get(id);
  }

  has(id: NodeId): boolean {
    return this.progress.has(id);
  }

  committed(): number {
    return committedIndex(this.voters(), (id) => this.progress.get(id)?.match);
  }

  quorumActive(self: NodeId): boolean {
    let active = 0;
    for (const [id, pr] of this.progress) if (id === self || pr.recentActive) active++;
    return active >= majority(this.progress.size);
  }

  resetVotes(): void {
    this.votes.clear();
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): VoteResult {
    return voteResult(this.voters(), this.votes);
  }
}
