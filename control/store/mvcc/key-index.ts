import type { KeyValue } from '../store.js';

/**
 * One modification of a key: the kv it produced (for a deletion, etcd's DELETE-event kv: key and modRevision only),
 * at revision (main, sub). `sub` orders the changes made within one revision (a txn, a multi-key delete).
 */
export interface Entry {
  readonly main: number;
  readonly sub: number;
  readonly kv: KeyValue;
  readonly tombstone: boolean;
}

export function tombstoneKv(key: string, revision: number): KeyValue {
  return Object.freeze({ key, value: '', createRevision: 0, modRevision: revision, version: 0, lease: 0 });
}

/** Latest entry with main <= rev in an entry list sorted by main; -1 when none. */
function latestAtOrBefore(entries: readonly Entry[], rev: number): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid]!.main <= rev) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/**
 * The history of one key as etcd's keyIndex keeps it: a list of generations, each running from the put that
 * created the key to the tombstone that deleted it. The last generation is open (it is empty right after a
 * deletion). Entries hold their kv so a read at any retained revision needs no second lookup.
 *
 * Memory: most keys have one generation holding one entry (written once, or compacted down to the latest), so
 * the open generation is a field of its own (older ones only exist after a deletion), and a one-entry open
 * generation is that entry itself rather than an array around it (a one-slot array costs about 56 bytes). A key
 * whose whole history is one put is not even given a KeyIndex: see KeyHistory below.
 */
export class KeyIndex {
  /** Generations closed by a tombstone, oldest first; undefined until the key is first deleted. */
  private closed: Entry[][] | undefined;
  /** The open generation: an array, or its only entry. */
  private open: Entry[] | Entry;

  constructor(first?: Entry) {
    this.open = first === undefined ? [] : first;
  }

  /** The open generation as an array (allocates only for a one-entry generation, off the write/read fast path). */
  private openGeneration(): Entry[] {
    return Array.isArray(this.open) ? this.open : [this.open];
  }

  put(entry: Entry): void {
    const open = this.open;
    if (!Array.isArray(open)) this.open = [open, entry];
    else if (open.length === 0) this.open = entry;
    else open.push(entry);
  }

  tombstone(entry: Entry): void {
    const gen = this.openGeneration();
    gen.push(entry);
    (this.closed ??= []).push(gen);
    this.open = [];
  }

  /** The live kv, if the key exists now. */
  current(): KeyValue | undefined {
    const open = this.open;
    return Array.isArray(open) ? open[open.length - 1]?.kv : open.kv;
  }

  /** The kv as of revision `rev`, or undefined when the key did not exist then. */
  at(rev: number): KeyValue | undefined {
    const open = this.open;
    if (!Array.isArray(open) && open.main <= rev) return open.kv;
    const closed = this.closed;
    for (let g = closed === undefined ? 0 : closed.length; g >= 0; g--) {
      const gen = closed === undefined || g === closed.length ? this.openGeneration() : closed[g]!;
      if (gen.length === 0 || gen[0]!.main > rev) continue;
      const entry = gen[latestAtOrBefore(gen, rev)]!;
      return entry.tombstone ? undefined : entry.kv;
    }
    return undefined;
  }

  /**
   * Drops what no read at or after `rev` can need: every entry older than `rev` except the newest of them when it
   * is a put. (Keeping that one also serves the prevKv of changes made exactly at `rev`.) Answers whether the
   * index is now empty, i.e. the key can be forgotten.
   */
  compact(rev: number): boolean {
    let generations = [...(this.closed ?? []), this.openGeneration()];
    let g = generations.length - 1;
    while (g >= 0 && (generations[g]!.length === 0 || generations[g]![0]!.main >= rev)) g--;
    if (g >= 0) {
      const gen = generations[g]!;
      const k = latestAtOrBefore(gen, rev - 1);
      const kept = gen[k]!.tombstone ? [] : [gen.slice(k)];
      generations = [...kept, ...generations.slice(g + 1)];
      if (generations.length === 0) generations = [[]];
      const open = generations[generations.length - 1]!;
      this.open = open.length === 1 ? open[0]! : open;
      this.closed = generations.length > 1 ? generations.slice(0, -1) : undefined;
    }
    return Array.isArray(this.open) && this.open.length === 0 && this.closed === undefined;
  }

  /** The only entry, when the history is one put in the open generation. */
  soleEntry(): Entry | undefined {
    return this.closed === undefined && !Array.isArray(this.open) ? this.open : undefined;
  }

  *entries(): Generator<Entry> {
    if (this.closed !== undefined) for (const gen of this.closed) yield* gen;
    const open = this.open;
    if (Array.isArray(open)) yield* open;
    else yield open;
  }
}

/**
 * What the key index maps a key to. Most keys are written once (or compacted down to their latest put), so such a
 * key is mapped to that put's entry alone, without a KeyIndex around it (about 40 bytes less per key); a second
 * change turns it into a KeyIndex.
 */
export type KeyHistory = KeyIndex | Entry;

export function historyCurrent(h: KeyHistory): KeyValue | undefined {
  return h instanceof KeyIndex ? h.current() : h.kv;
}

export function historyAt(h: KeyHistory, rev: number): KeyValue | undefined {
  if (h instanceof KeyIndex) return h.at(rev);
  return h.main <= rev ? h.kv : undefined;
}

export function* historyEntries(h: KeyHistory): Generator<Entry> {
  if (h instanceof KeyIndex) yield* h.entries();
  else yield h;
}

/** The history after a put: `entry` alone for a new key, else a KeyIndex (updated in place when it was one). */
export function withPut(h: KeyHistory | undefined, entry: Entry): KeyHistory {
  if (h === undefined) return entry;
  if (h instanceof KeyIndex) {
    h.put(entry);
    return h;
  }
  const ki = new KeyIndex(h);
  ki.put(entry);
  return ki;
}

/** The history after a deletion (tombstone entry) of a key that exists or existed. */
export function withTombstone(h: KeyHistory | undefined, entry: Entry): KeyIndex {
  const ki = h instanceof KeyIndex ? h : new KeyIndex(h);
  ki.tombstone(entry);
  return ki;
}

/** KeyIndex.compact for either form: the history left, its sole entry when one put is all that is left, or undefined when nothing is. */
export function compacted(h: KeyHistory, rev: number): KeyHistory | undefined {
  // A lone put is the newest entry at or before any rev it is older than: compaction keeps it.
  if (!(h instanceof KeyIndex)) return h;
  if (h.compact(rev)) return undefined;
  return h.soleEntry() ?? h;
}
