import {
  EMPTY_HARD_STATE,
  type ConfState,
  type Entry,
  type HardState,
  type Snapshot,
} from './messages.js';

/** The requested index is older than the first retained entry; the caller needs a snapshot instead. */
export class CompactedError extends Error {
  constructor() {
    super('raft: requested index is unavailable due to compaction');
    this.name = 'CompactedError';
  }
}

/** The requested index is beyond what storage holds. */
export class UnavailableError extends Error {
  constructor() {
    super('raft: requested entry at index is unavailable');
    this.name = 'UnavailableError';
  }
}

/** A snapshot older than the one already held was offered. */
export class SnapshotOutOfDateError extends Error {
  constructor() {
    super('raft: requested index is older than the existing snapshot');
    this.name = 'SnapshotOutOfDateError';
  }
}

/**
 * What the Raft core reads from durable state. The core never writes through this interface: the application
 * persists what `Ready` hands it, so the state machine stays free of I/O.
 */
export interface Storage {
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries in [lo, hi). Throws CompactedError if lo was compacted away. `maxEntries` caps the count (>= 1). */
  entries(lo: number, hi: number, maxEntries?: number): Entry[];
  /** Term of entry i; i may be firstIndex()-1 (the snapshot's last entry). */
  term(i: number): number;
  firstIndex(): number;
  lastIndex(): number;
  snapshot(): Snapshot;
}

/**
 * In-memory Storage. ents[0] is a dummy entry standing for the last entry covered by the snapshot, so its index
 * and term answer term(firstIndex()-1) without keeping compacted entries around.
 */
export class MemoryStorage implements Storage {
  private hardState: HardState = { ...EMPTY_HARD_STATE };
  private snap: Snapshot;
  private ents: Entry[];
  /**
   * Set when snapshot() was asked for while the log had been compacted past the latest snapshot (which compact()
   * allows): the application should create a new snapshot. Cleared by createSnapshot() and applySnapshot().
   */
  snapshotWanted = false;
  /** Set while the snapshot's data is on disk only (releaseSnapshotData): how to read it back. */
  private snapLoader: { load: () => Promise<Uint8Array>; loading: boolean } | undefined;

  constructor(confState: ConfState = { voters: [] }) {
    this.snap = {
      metadata: { index: 0, term: 0, confState: { voters: [...confState.voters] } },
      data: new Uint8Array(0),
    };
    this.ents = [{ term: 0, index: 0, type: 'normal', data: new Uint8Array(0) }];
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return {
      hardState: { ...this.hardState },
      confState: { voters: [...this.snap.metadata.confState.voters] },
    };
  }

  setHardState(hs: HardState): void {
    this.hardState = { ...hs };
  }

  private get offset(): number {
    return this.dummy.index;
  }

  private get dummy(): Entry {
    const d = this.ents[0];
    if (d === undefined) throw new Error('raft: memory storage lost its dummy entry');
    return d;
  }

  entries(lo: number, hi: number, maxEntries?: number): Entry[] {
    const offset = this.offset;
    if (lo <= offset) throw new CompactedError();
    if (hi > this.lastIndex() + 1) {
      throw new Error(`raft: entries' hi(${hi}) is out of bound lastindex(${this.lastIndex()})`);
    }
    if (lo >= hi) return [];
    let end = hi - offset;
    if (maxEntries !== undefined && end - (lo - offset) > maxEntries) end = lo - offset + Math.max(1, maxEntries);
    return this.ents.slice(lo - offset, end);
  }

  term(i: number): number {
    const offset = this.offset;
    if (i < offset) throw new CompactedError();
    const e = this.ents[i - offset];
    if (e === undefined) throw new UnavailableError();
    return e.term;
  }

  lastIndex(): number {
    return this.offset + this.ents.length - 1;
  }

  firstIndex(): number {
    return this.offset + 1;
  }

  /**
   * The latest snapshot. When its data was released, UnavailableError while it is read back from disk (the
   * leader skips the follower and tries again on its next heartbeat, as etcd's ErrSnapshotTemporarilyUnavailable).
   */
  snapshot(): Snapshot {
    if (this.snap.metadata.index < this.offset) {
      // The log was compacted past the snapshot (a group of one keeps no applied entries): it would not connect to
      // the log, so the follower would need another one at once. The application takes a new one (snapshotWanted).
      this.snapshotWanted = true;
      throw new UnavailableError();
    }
    if (this.snapLoader !== undefined) {
      this.loadSnapshotData(this.snapLoader);
      throw new UnavailableError();
    }
    return this.snap;
  }

  /**
   * Lets go of the snapshot's data, which is on disk (the .snap file `load` reads): it is the whole state machine,
   * needed only to catch up a follower that fell behind the log, and a group of one has none. etcd keeps only
   * membership data in its Raft snapshot for the same reason (the database itself is streamed from disk).
   */
  releaseSnapshotData(load: () => Promise<Uint8Array>): void {
    if (this.snap.metadata.index === 0 || this.snapLoader !== undefined) return;
    this.snap = { metadata: this.snap.metadata, data: new Uint8Array(0) };
    this.snapLoader = { load, loading: false };
  }

  private loadSnapshotData(loader: { load: () => Promise<Uint8Array>; loading: boolean }): void {
    if (loader.loading) return;
    loader.loading = true;
    const metadata = this.snap.metadata;
    loader.load().then(
      (data) => {
        // A newer snapshot may have replaced this one meanwhile.
        if (this.snapLoader !== loader) return;
        this.snap = { metadata, data };
        this.snapLoader = undefined;
      },
      () => {
        // Tried again the next time a follower needs it.
        loader.loading = false;
      },
    );
  }

  /** The index of the latest snapshot (0 before any), without touching its data. */
  latestSnapshotIndex(): number {
    return this.snap.metadata.index;
  }

  /** Replaces the whole log with a snapshot received from the leader. */
  applySnapshot(snap: Snapshot): void {
    if (this.snap.metadata.index >= snap.metadata.index) throw new SnapshotOutOfDateError();
    this.snap = snap;
    this.snapLoader = undefined;
    this.snapshotWanted = false;
    this.ents = [{ term: snap.metadata.term, index: snap.metadata.index, type: 'normal', data: new Uint8Array(0) }];
  }

  /**
   * Records a snapshot of the application state at `index` (which must be applied, hence committed and stored).
   * Does not drop entries: call compact() separately so a few entries can be kept for slow followers.
   */
  createSnapshot(index: number, confState: ConfState | undefined, data: Uint8Array, knownTerm?: number): Snapshot {
    if (index <= this.snap.metadata.index) throw new SnapshotOutOfDateError();
    if (index > this.lastIndex()) {
      throw new Error(`raft: snapshot ${index} is out of bound lastindex(${this.lastIndex()})`);
    }
    // A snapshot whose data was made in the background gives the term it read when it started: its entry may have
    // been compacted since (a lone voter compacts up to what it applied).
    const term = this.ents[index - this.offset]?.term ?? knownTerm;
    if (term === undefined) throw new Error(`raft: snapshot ${index} is below the compacted index`);
    this.snap = {
      metadata: {
        index,
        term,
        confState: { voters: [...(confState ?? this.snap.metadata.confState).voters] },
      },
      data,
    };
    this.snapLoader = undefined;
    this.snapshotWanted = false;
    return this.snap;
  }

  /**
   * Discards entries up to and including compactIndex; it becomes the new dummy entry. compactIndex may be past the
   * latest snapshot (etcd's MemoryStorage allows it too); snapshot() then asks for a new one (snapshotWanted).
   */
  compact(compactIndex: number): void {
    const offset = this.offset;
    if (compactIndex <= offset) throw new CompactedError();
    if (compactIndex > this.lastIndex()) {
      throw new Error(`raft: compact ${compactIndex} is out of bound lastindex(${this.lastIndex()})`);
    }
    const i = compactIndex - offset;
    const kept = this.ents[i];
    if (kept === undefined) throw new Error('raft: compaction index inside the log but entry missing');
    const dummy: Entry = { term: kept.term, index: kept.index, type: 'normal', data: new Uint8Array(0) };
    this.ents = [dummy, ...this.ents.slice(i + 1)];
  }

  /**
   * Appends entries handed over by Ready. Entries overlapping the existing log replace it from the first overlap
   * (a new leader may have overwritten an uncommitted suffix); entries already compacted are skipped.
   */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const firstNew = entries[0];
    if (firstNew === undefined) return;
    const last = firstNew.index + entries.length - 1;
    if (last < first) return;
    const ents = first > firstNew.index ? entries.slice(first - firstNew.index) : entries.slice();
    const head = ents[0];
    if (head === undefined) return;
    const offset = head.index - this.offset;
    if (offset > this.ents.length) {
      throw new Error(`raft: missing log entry [last: ${this.lastIndex()}, append at: ${head.index}]`);
    }
    if (offset === this.ents.length) {
      // The usual case, a plain append: no copy of the whole log per Ready.
      for (const e of ents) this.ents.push(e);
      return;
    }
    this.ents = [...this.ents.slice(0, offset), ...ents];
  }
}
