import type { Entry, Snapshot } from './messages.js';
import { CompactedError, UnavailableError, type Storage } from './storage.js';

/**
 * Entries (and possibly a snapshot) the node holds but the application has not yet persisted. Indices below
 * `offset` live in Storage. A crash loses everything here, which is exactly what the simulation tests exercise.
 */
export class Unstable {
  snapshot: Snapshot | undefined = undefined;
  entries: Entry[] = [];

  constructor(public offset: number) {}

  maybeFirstIndex(): number | undefined {
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index + 1;
  }

  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index;
  }

  maybeTerm(i: number): number | undefined {
    if (i < this.offset) {
      if (this.snapshot !== undefined && this.snapshot.metadata.index === i) return this.snapshot.metadata.term;
      return undefined;
    }
    const last = this.maybeLastIndex();
    if (last === undefined || i > last) return undefined;
    return this.entries[i - this.offset]?.term;
  }

  /**
   * Marks entries up to i as persisted. The term check matters: if the suffix was replaced by a new leader after
   * the Ready was produced, the persisted entry is not the one we now hold and must stay unstable.
   */
  stableTo(i: number, t: number): void {
    const gt = this.maybeTerm(i);
    if (gt === undefined) return;
    if (gt === t && i >= this.offset) {
      this.entries = this.entries.slice(i + 1 - this.offset);
      this.offset = i + 1;
    }
  }

  stableSnapTo(i: number): void {
    if (this.snapshot !== undefined && this.snapshot.metadata.index === i) this.snapshot = undefined;
  }

  restore(s: Snapshot): void {
    this.offset = s.metadata.index + 1;
    this.entries = [];
    this.snapshot = s;
  }

  truncateAndAppend(ents: readonly Entry[]): void {
    const first = ents[0];
    if (first === undefined) return;
    const after = first.index;
    if (after === this.offset + this.entries.length) {
      this.entries = this.entries.concat(ents);
    } else if (after <= this.offset) {
      // Replaces everything unstable; storage will be overwritten from `after` when these are persisted.
      this.offset = after;
      this.entries = ents.slice();
    } else {
      this.entries = this.entries.slice(0, after - this.offset).concat(ents);
    }
  }

  slice(lo: number, hi: number): Entry[] {
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}

/** The log as Raft sees it: Storage (stable) followed by Unstable. */
export class RaftLog {
  readonly unstable: Unstable;
  /** Highest index known to be replicated on a quorum. */
  committed: number;
  /** Highest index the application has applied. Invariant: applied <= committed. */
  applied: number;

  constructor(
    readonly storage: Storage,
    private readonly maxEntriesPerMsg: number = Number.MAX_SAFE_INTEGER,
  ) {
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1);
    this.committed = first - 1;
    this.applied = first - 1;
  }

  /**
   * Follower side of MsgApp: appends if the entry before `ents` matches, truncating any conflicting suffix.
   * Returns the index of the last new entry, or undefined if the previous entry did not match.
   */
  maybeAppend(index: number, logTerm: number, committed: number, ents: readonly Entry[]): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = index + ents.length;
    const ci = this.findConflict(ents);
    if (ci !== 0) {
      if (ci <= this.committed) {
        throw new Error(`raft: entry ${ci} conflicts with committed entry [committed(${this.committed})]`);
      }
      this.append(ents.slice(ci - (index + 1)));
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  append(ents: readonly Entry[]): number {
    const first = ents[0];
    if (first === undefined) return this.lastIndex();
    if (first.index - 1 < this.committed) {
      throw new Error(`raft: after(${first.index - 1}) is out of range [committed(${this.committed})]`);
    }
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * First index whose term differs from what we hold (or that we do not hold at all), 0 if all match. Entries
   * already present are skipped so a duplicated or reordered MsgApp never truncates newer entries.
   */
  findConflict(ents: readonly Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * Largest index <= `index` whose term is <= `term`. Both sides use it to skip a whole term of mismatching
   * entries per round trip instead of one entry at a time.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (let i = index; i > 0; i--) {
      const t = this.term(i);
      if (t === undefined) return { index: i, term: 0 };
      if (t <= term) return { index: i, term: t };
    }
    return { index: 0, term: 0 };
  }

  unstableEntries(): Entry[] {
    return this.unstable.entries.slice();
  }

  /** Committed entries not yet applied (skipping anything covered by a snapshot). */
  nextCommittedEntries(): Entry[] {
    const off = Math.max(this.applied + 1, this.firstIndex());
    if (this.committed + 1 > off) return this.slice(off, this.committed + 1);
    return [];
  }

  hasNextCommittedEntries(): boolean {
    return this.committed + 1 > Math.max(this.applied + 1, this.firstIndex());
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  commitTo(toCommit: number): void {
    // Never decrease: a stale heartbeat or MsgApp may carry an older commit index.
    if (this.committed < toCommit) {
      if (this.lastIndex() < toCommit) {
        throw new Error(`raft: tocommit(${toCommit}) is out of range [lastIndex(${this.lastIndex()})]`);
      }
      this.committed = toCommit;
    }
  }

  appliedTo(i: number): void {
    if (i === 0) return;
    if (this.committed < i || i < this.applied) {
      const range = `[prevApplied(${this.applied}), committed(${this.committed})]`;
      throw new Error(`raft: applied(${i}) is out of range ${range}`);
    }
    this.applied = i;
  }

  stableTo(i: number, t: number): void {
    this.unstable.stableTo(i, t);
  }

  stableSnapTo(i: number): void {
    this.unstable.stableSnapTo(i);
  }

  lastTerm(): number {
    const t = this.term(this.lastIndex());
    if (t === undefined) throw new Error('raft: unexpected error when getting the last term');
    return t;
  }

  /** Term of entry i, or undefined when i was compacted away or is beyond the log. */
  term(i: number): number | undefined {
    const dummy = this.firstIndex() - 1;
    if (i < dummy || i > this.lastIndex()) return undefined;
    const ut = this.unstable.maybeTerm(i);
    if (ut !== undefined) return ut;
    try {
      return this.storage.term(i);
    } catch (err) {
      if (err instanceof CompactedError || err instanceof UnavailableError) return undefined;
      throw err;
    }
  }

  /** Entries from i to the end, at most maxEntriesPerMsg of them. Throws CompactedError if i is compacted. */
  entries(i: number): Entry[] {
    if (i > this.lastIndex()) return [];
    return this.slice(i, this.lastIndex() + 1, this.maxEntriesPerMsg);
  }

  /** The whole log, for tests and debugging. */
  allEntries(): Entry[] {
    return this.slice(this.firstIndex(), this.lastIndex() + 1);
  }

  isUpToDate(lasti: number, term: number): boolean {
    const lastTerm = this.lastTerm();
    return term > lastTerm || (term === lastTerm && lasti >= this.lastIndex());
  }

  matchTerm(i: number, term: number): boolean {
    const t = this.term(i);
    return t !== undefined && t === term;
  }

  /** Commits maxIndex only if it is from `term`: Raft never counts replicas of older-term entries (§5.4.2). */
  maybeCommit(maxIndex: number, term: number): boolean {
    if (maxIndex > this.committed && (this.term(maxIndex) ?? 0) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  restore(s: Snapshot): void {
    this.committed = s.metadata.index;
    this.unstable.restore(s);
  }

  /** Entries in [lo, hi), stitched from storage and unstable. */
  slice(lo: number, hi: number, maxEntries: number = Number.MAX_SAFE_INTEGER): Entry[] {
    if (lo > hi) throw new Error(`raft: invalid slice ${lo} > ${hi}`);
    const first = this.firstIndex();
    if (lo < first) throw new CompactedError();
    const last = this.lastIndex();
    if (hi > last + 1) throw new Error(`raft: slice[${lo},${hi}) out of bound [${first},${last}]`);
    if (lo === hi) return [];
    const limit = Math.min(hi, lo + Math.max(1, maxEntries));
    let ents: Entry[] = [];
    const offset = this.unstable.offset;
    if (lo < offset) {
      const storedHi = Math.min(limit, offset);
      ents = this.storage.entries(lo, storedHi);
      // Storage returned fewer than asked (it was capped): the rest cannot be contiguous.
      if (ents.length < storedHi - lo) return ents;
    }
    if (limit > offset) {
      const un = this.unstable.slice(Math.max(lo, offset), limit);
      ents = ents.length > 0 ? ents.concat(un) : un;
    }
    return ents;
  }
}
