import { describe, expect, it } from 'vitest';
import {
  CompactedError,
  Inflights,
  MemoryStorage,
  Progress,
  UnavailableError,
  RaftLog,
  committedIndex,
  voteResult,
  type Entry,
} from '../../../../../control/store/raft/index.js';
import { checkKvLinearizable, type KvOperation } from './linearizability.js';

function ent(index: number, term: number): Entry {
  return { index, term, type: 'normal', data: new Uint8Array([index]) };
}

describe('MemoryStorage', () => {
  it('appends, truncates conflicting suffixes, compacts and snapshots', () => {
    const s = new MemoryStorage({ voters: [1] });
    s.append([ent(1, 1), ent(2, 1), ent(3, 2)]);
    expect(s.lastIndex()).toBe(3);
    s.append([ent(3, 3), ent(4, 3)]);
    expect(s.term(3)).toBe(3);
    expect(s.lastIndex()).toBe(4);
    s.createSnapshot(2, undefined, new Uint8Array([9]));
    s.compact(2);
    expect(s.firstIndex()).toBe(3);
    expect(s.term(2)).toBe(1);
    expect(() => s.entries(2, 4)).toThrow(CompactedError);
    expect(s.entries(3, 5).map((e) => e.index)).toEqual([3, 4]);
    expect(s.entries(3, 5, 1).map((e) => e.index)).toEqual([3]);
    expect(s.snapshot().metadata).toEqual({ index: 2, term: 1, confState: { voters: [1] } });
    s.applySnapshot({ metadata: { index: 10, term: 4, confState: { voters: [1, 2] } }, data: new Uint8Array() });
    expect(s.firstIndex()).toBe(11);
    expect(s.lastIndex()).toBe(10);
    expect(s.initialState().confState.voters).toEqual([1, 2]);
  });

  it('a released snapshot is unavailable until its data has been read back, then served as before', async () => {
    const s = new MemoryStorage({ voters: [1] });
    s.append([ent(1, 1), ent(2, 1), ent(3, 1)]);
    s.createSnapshot(2, undefined, new Uint8Array([7, 7]));
    let reads = 0;
    let finish: (data: Uint8Array) => void = () => undefined;
    s.releaseSnapshotData(() => {
      reads++;
      return new Promise((r) => (finish = r));
    });
    expect(() => s.snapshot()).toThrow(UnavailableError);
    expect(() => s.snapshot()).toThrow(UnavailableError);
    expect(reads).toBe(1);
    finish(new Uint8Array([7, 7]));
    await Promise.resolve();
    expect(s.snapshot()).toEqual({ metadata: { index: 2, term: 1, confState: { voters: [1] } }, data: new Uint8Array([7, 7]) });
  });

  it('a failed read of a released snapshot is tried again; a newer snapshot is served without one', async () => {
    const s = new MemoryStorage({ voters: [1] });
    s.append([ent(1, 1), ent(2, 1), ent(3, 1)]);
    s.createSnapshot(1, undefined, new Uint8Array([1]));
    let reads = 0;
    s.releaseSnapshotData(() => {
      reads++;
      return Promise.reject(new Error('gone'));
    });
    expect(() => s.snapshot()).toThrow(UnavailableError);
    await new Promise((r) => setImmediate(r));
    expect(() => s.snapshot()).toThrow(UnavailableError);
    expect(reads).toBe(2);
    s.createSnapshot(3, undefined, new Uint8Array([3]));
    expect(s.snapshot().data).toEqual(new Uint8Array([3]));
  });
});

describe('RaftLog', () => {
  it('stitches stable and unstable entries and stabilises them by index and term', () => {
    const s = new MemoryStorage();
    s.append([ent(1, 1), ent(2, 1)]);
    const log = new RaftLog(s);
    log.append([ent(3, 2), ent(4, 2)]);
    expect(log.slice(1, 5).map((e) => e.index)).toEqual([1, 2, 3, 4]);
    // A stale stableTo (term mismatch) must not drop entries that were replaced meanwhile.
    log.stableTo(4, 1);
    expect(log.unstableEntries()).toHaveLength(2);
    log.stableTo(3, 2);
    expect(log.unstableEntries().map((e) => e.index)).toEqual([4]);
  });

  it('maybeAppend truncates a conflicting uncommitted suffix and ignores stale duplicates', () => {
    const log = new RaftLog(new MemoryStorage());
    expect(log.maybeAppend(0, 0, 0, [ent(1, 1), ent(2, 1), ent(3, 1)])).toBe(3);
    // A reordered, shorter duplicate must not truncate entry 3.
    expect(log.maybeAppend(0, 0, 0, [ent(1, 1)])).toBe(1);
    expect(log.lastIndex()).toBe(3);
    expect(log.maybeAppend(1, 1, 2, [ent(2, 2)])).toBe(2);
    expect(log.lastIndex()).toBe(2);
    expect(log.committed).toBe(2);
    expect(log.maybeAppend(2, 1, 2, [])).toBeUndefined();
  });

  it('findConflictByTerm skips a whole term', () => {
    const log = new RaftLog(new MemoryStorage());
    log.append([ent(1, 1), ent(2, 1), ent(3, 3), ent(4, 3), ent(5, 3)]);
    expect(log.findConflictByTerm(5, 2)).toEqual({ index: 2, term: 1 });
    expect(log.findConflictByTerm(5, 3)).toEqual({ index: 5, term: 3 });
  });

  it('commits only entries of the given term', () => {
    const log = new RaftLog(new MemoryStorage());
    log.append([ent(1, 1), ent(2, 2)]);
    expect(log.maybeCommit(1, 2)).toBe(false);
    expect(log.maybeCommit(2, 2)).toBe(true);
    expect(log.committed).toBe(2);
  });
});

describe('quorum and progress', () => {
  it('computes the majority-acknowledged index', () => {
    const m = new Map([[1, 5], [2, 3], [3, 9]]);
    expect(committedIndex(new Set([1, 2, 3]), (id) => m.get(id))).toBe(5);
    m.set(4, 1);
    expect(committedIndex(new Set([1, 2, 3, 4]), (id) => m.get(id))).toBe(3);
  });

  it('tallies votes', () => {
    const voters = new Set([1, 2, 3, 4, 5]);
    expect(voteResult(voters, new Map([[1, true], [2, true]]))).toBe('pending');
    expect(voteResult(voters, new Map([[1, true], [2, true], [3, true]]))).toBe('won');
    expect(voteResult(voters, new Map([[1, false], [2, false], [3, false]]))).toBe('lost');
  });

  it('ignores stale rejections and backs off to the hint in probe state', () => {
    const pr = new Progress(0, 10, 4);
    expect(pr.maybeDecrTo(5, 4)).toBe(false);
    expect(pr.maybeDecrTo(9, 3)).toBe(true);
    expect(pr.next).toBe(4);
    pr.maybeUpdate(3);
    pr.becomeReplicate();
    expect(pr.maybeDecrTo(2, 0)).toBe(false);
  });

  it('bounds in-flight appends', () => {
    const inf = new Inflights(2);
    inf.add(3);
    inf.add(5);
    expect(inf.full()).toBe(true);
    inf.freeLE(4);
    expect(inf.count()).toBe(1);
  });
});

describe('linearizability checker', () => {
  const put = (key: string, value: string, call: number, ret: number): KvOperation => ({
    input: { kind: 'put', key, value },
    output: '',
    call,
    ret,
  });
  const get = (key: string, output: string, call: number, ret: number): KvOperation => ({
    input: { kind: 'get', key },
    output,
    call,
    ret,
  });

  it('accepts concurrent operations in any consistent order', () => {
    expect(checkKvLinearizable([put('x', '1', 0, 10), get('x', '1', 1, 2), get('x', '', 3, 4)]).ok).toBe(false);
    expect(checkKvLinearizable([put('x', '1', 0, 10), get('x', '', 1, 2), get('x', '1', 3, 4)]).ok).toBe(true);
  });

  it('rejects a stale read after a completed write', () => {
    expect(checkKvLinearizable([put('x', '1', 0, 1), get('x', '', 2, 3)]).ok).toBe(false);
    expect(checkKvLinearizable([put('x', '1', 0, 1), put('x', '2', 2, 3), get('x', '1', 4, 5)]).ok).toBe(false);
  });

  it('lets writes with unknown outcome take effect at any later point, or never', () => {
    expect(checkKvLinearizable([put('x', '1', 0, Infinity), get('x', '', 1, 2), get('x', '1', 3, 4)]).ok).toBe(true);
    expect(checkKvLinearizable([put('x', '1', 0, Infinity), get('x', '', 5, 6)]).ok).toBe(true);
    expect(checkKvLinearizable([put('x', '1', 0, Infinity), get('x', '1', 1, 2), get('x', '', 3, 4)]).ok).toBe(false);
  });

  it('checks keys independently', () => {
    expect(checkKvLinearizable([put('x', '1', 0, 1), get('y', '', 2, 3), get('x', '1', 4, 5)]).ok).toBe(true);
  });
});
