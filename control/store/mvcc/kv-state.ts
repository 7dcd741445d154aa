import { ErrCompacted, ErrFutureRev, ErrInvalidRequest } from '../errors.js';
import { UNBOUNDED, toInterval, type KeyInterval } from '../keys.js';
import type { KeyValue, LeaseId, RangeRequest } from '../store.js';
import {
  compacted,
  historyAt,
  historyCurrent,
  historyEntries,
  tombstoneKv,
  withPut,
  withTombstone,
  type Entry,
  type KeyHistory,
} from './key-index.js';
import { SortedKeySet } from './sorted-keys.js';

/**
 * Everything one revision changed, in the order it was changed: entries[i] is the i-th change and prevs[i] the kv
 * it replaced (for watchers' prevKv). Two parallel arrays rather than one object per change: the history keeps a
 * record of every revision since the last compaction, so per-change objects would cost ~40 bytes per key written.
 */
export interface RevisionRecord {
  readonly revision: number;
  readonly entries: readonly Entry[];
  readonly prevs: readonly (KeyValue | undefined)[];
}

/**
 * The record of a revision that changed one key, as nearly all do: the entry and the kv it replaced held directly
 * (48 bytes) rather than in two one-element arrays (160 with the record around them; 2.8 MB for the 17,500
 * revisions of the apiserver bench). The arrays are made when asked for (a watcher catching up, a compaction).
 */
class OneChangeRecord implements RevisionRecord {
  constructor(
    readonly revision: number,
    private readonly entry: Entry,
    private readonly prev: KeyValue | undefined,
  ) {}

  get entries(): readonly Entry[] {
    return [this.entry];
  }

  get prevs(): readonly (KeyValue | undefined)[] {
    return [this.prev];
  }
}

function revisionRecord(revision: number, entries: Entry[], prevs: (KeyValue | undefined)[]): RevisionRecord {
  // Several changes: the arrays copied to their length (one grown by push() from empty keeps room for 16).
  return entries.length === 1 ? new OneChangeRecord(revision, entries[0]!, prevs[0]) : { revision, entries: entries.slice(), prevs: prevs.slice() };
}

interface PendingWrite {
  readonly entries: Entry[];
  readonly prevs: (KeyValue | undefined)[];
}

export interface RangeResult {
  readonly kvs: KeyValue[];
  readonly more: boolean;
  readonly count: number;
}

/**
 * The multi-version key space: a key index (per key, etcd-style generations) ordered by a sorted key set, and a
 * revision-ordered history of changes for watchers. Writes happen between begin() and commit(); all changes in
 * between share one revision. Nothing here reads a clock or a random source: same writes, same state.
 */
export class MvccKv {
  private rev = 1;
  private compactRev = 0;
  private index = new Map<string, KeyHistory>();
  private keys = new SortedKeySet();
  /** Records for consecutive revisions from the compaction revision (or 2) up to `rev`. */
  private history: RevisionRecord[] = [];
  private pending: PendingWrite | undefined;

  get revision(): number {
    return this.rev;
  }

  /** 0 until the first compaction. */
  get compactRevision(): number {
    return this.compactRev;
  }

  get keyCount(): number {
    return this.index.size;
  }

  /** The revision reads see: inside a write that has changed something, its own not-yet-committed revision. */
  private readRevision(): number {
    return this.pending !== undefined && this.pending.entries.length > 0 ? this.rev + 1 : this.rev;
  }

  /** Validates a read revision (0/absent = current) the way etcd does. */
  checkRevision(requested: number | undefined): number {
    const current = this.readRevision();
    if (requested === undefined || requested <= 0) return current;
    if (requested > current) throw new ErrFutureRev(requested, current);
    if (requested < this.compactRev) throw new ErrCompacted(this.compactRev);
    return requested;
  }

  get(key: string, revision?: number): KeyValue | undefined {
    const h = this.index.get(key);
    return h === undefined ? undefined : historyAt(h, revision ?? this.readRevision());
  }

  range(request: RangeRequest): RangeResult {
    const rev = this.checkRevision(request.revision);
    const limit = request.limit !== undefined && request.limit > 0 ? request.limit : Infinity;
    const kvs: KeyValue[] = [];
    let count = 0;
    for (const kv of this.kvsIn(toInterval(request), rev)) {
      count++;
      if (request.countOnly === true || kvs.length >= limit) continue;
      kvs.push(request.keysOnly === true ? { ...kv, value: '' } : kv);
    }
    return { kvs, more: request.countOnly !== true && count > kvs.length, count };
  }

  private *kvsIn(iv: KeyInterval, rev: number): Generator<KeyValue> {
    if (iv.end === undefined) {
      const h = this.index.get(iv.start);
      const kv = h === undefined ? undefined : historyAt(h, rev);
      if (kv !== undefined) yield kv;
      return;
    }
    for (const key of this.keys.range(iv.start, iv.end === UNBOUNDED ? undefined : iv.end)) {
      const kv = historyAt(this.index.get(key)!, rev);
      if (kv !== undefined) yield kv;
    }
  }

  begin(): void {
    if (this.pending !== undefined) throw new Error('mvcc: write already in progress');
    this.pending = { entries: [], prevs: [] };
  }

  private requirePending(): PendingWrite {
    if (this.pending === undefined) throw new Error('mvcc: write outside begin()/commit()');
    return this.pending;
  }

  /** Answers the kv the put replaced. */
  put(key: string, value: string, lease: LeaseId): KeyValue | undefined {
    const pending = this.requirePending();
    const h = this.index.get(key);
    const prev = h === undefined ? undefined : historyCurrent(h);
    const main = this.rev + 1;
    // Frozen because readers, watchers and history all share this one object.
    const kv: KeyValue = Object.freeze({
      key,
      value,
      createRevision: prev?.createRevision ?? main,
      modRevision: main,
      version: (prev?.version ?? 0) + 1,
      lease,
    });
    const entry: Entry = { main, sub: pending.entries.length, kv, tombstone: false };
    const next = withPut(h, entry);
    if (next !== h) this.index.set(key, next);
    if (h === undefined) this.keys.add(key);
    pending.entries.push(entry);
    pending.prevs.push(prev);
    return prev;
  }

  /** Deletes every live key in the interval, in key order; answers the deleted kvs. */
  deleteRange(iv: KeyInterval): KeyValue[] {
    const pending = this.requirePending();
    const victims = [...this.kvsIn(iv, this.readRevision())];
    const main = this.rev + 1;
    for (const prev of victims) {
      const h = this.index.get(prev.key)!;
      if (historyCurrent(h) === undefined) continue;
      const entry: Entry = { main, sub: pending.entries.length, kv: tombstoneKv(prev.key, main), tombstone: true };
      const next = withTombstone(h, entry);
      if (next !== h) this.index.set(prev.key, next);
      pending.entries.push(entry);
      pending.prevs.push(prev);
    }
    return victims;
  }

  /** Ends the write; answers its record, or undefined when it changed nothing (the revision stays put). */
  commit(): RevisionRecord | undefined {
    const { entries, prevs } = this.requirePending();
    this.pending = undefined;
    if (entries.length === 0) return undefined;
    this.rev++;
    const record = revisionRecord(this.rev, entries, prevs);
    this.history.push(record);
    return record;
  }

  compact(revision: number): void {
    if (revision <= this.compactRev) throw new ErrCompacted(this.compactRev);
    if (revision > this.rev) throw new ErrFutureRev(revision, this.rev);
    // Only keys changed in the discarded records can have entries to drop: older ones were trimmed last time.
    const cut = this.historyIndex(revision);
    const touched = new Set<string>();
    for (let i = 0; i < cut; i++) for (const e of this.history[i]!.entries) touched.add(e.kv.key);
    for (const key of touched) {
      const h = this.index.get(key);
      if (h === undefined) continue;
      const next = compacted(h, revision);
      if (next === undefined) {
        this.index.delete(key);
        this.keys.delete(key);
      } else if (next !== h) this.index.set(key, next);
    }
    this.history = this.history.slice(cut);
    this.compactRev = revision;
  }

  /** Index of the first history record with revision >= `revision`. */
  private historyIndex(revision: number): number {
    let lo = 0;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.history[mid]!.revision < revision) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Records of revisions >= `revision` (the caller checks it is not compacted). */
  *historyFrom(revision: number): Generator<RevisionRecord> {
    for (let i = this.historyIndex(revision); i < this.history.length; i++) yield this.history[i]!;
  }

  /**
   * Every retained entry, in revision order: the snapshot form of this state. Those at or after the compaction
   * revision are the history's records, already in order; only the older ones a compaction kept (a key's newest put
   * before it) are found through the key index and sorted. Sorting every entry of a 5,000-pod store instead held
   * the event loop for tens of ms at each snapshot.
   */
  entries(): Entry[] {
    const compacted: Entry[] = [];
    if (this.compactRev > 0) {
      for (const h of this.index.values()) {
        for (const e of historyEntries(h)) {
          if (e.main >= this.compactRev) break;
          compacted.push(e);
        }
      }
      compacted.sort((a, b) => a.main - b.main || a.sub - b.sub);
    }
    const all = compacted;
    for (let i = this.historyIndex(this.compactRev); i < this.history.length; i++) for (const e of this.history[i]!.entries) all.push(e);
    return all;
  }

  /** Rebuilds from `entries()` output (etcd rebuilds its keyIndex from the backend the same way). */
  static fromEntries(revision: number, compactRevision: number, entries: readonly Entry[]): MvccKv {
    const kv = new MvccKv();
    kv.rev = revision;
    kv.compactRev = compactRevision;
    let last: Entry | undefined;
    // The changes of the revision being read, recorded once the next revision starts (or the entries end).
    let group: { revision: number; entries: Entry[]; prevs: (KeyValue | undefined)[] } | undefined;
    const flush = (): void => {
      if (group !== undefined) kv.history.push(revisionRecord(group.revision, group.entries, group.prevs));
      group = undefined;
    };
    for (const entry of entries) {
      if (last !== undefined && (entry.main < last.main || (entry.main === last.main && entry.sub <= last.sub))) {
        throw new ErrInvalidRequest('snapshot: entries out of revision order');
      }
      if (entry.main > revision) throw new ErrInvalidRequest('snapshot: entry newer than the snapshot revision');
      last = entry;
      const h = kv.index.get(entry.kv.key);
      const prev = h === undefined ? undefined : historyCurrent(h);
      const next = entry.tombstone ? withTombstone(h, entry) : withPut(h, entry);
      if (next !== h) kv.index.set(entry.kv.key, next);
      if (entry.main >= compactRevision) {
        if (group?.revision !== entry.main) {
          flush();
          group = { revision: entry.main, entries: [], prevs: [] };
        }
        group.entries.push(entry);
        group.prevs.push(prev);
      }
    }
    flush();
    kv.keys = SortedKeySet.fromSorted([...kv.index.keys()].sort());
    return kv;
  }
}
