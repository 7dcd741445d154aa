import { spawnSync } from 'node:child_process';
import { copyFile, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  WalClosedError,
  WalCorruptError,
  WalExistsError,
  WalFailedError,
  WalLockedError,
  WalNotFoundError,
  WalSnapshotMismatchError,
  WalSnapshotNotFoundError,
} from '../../../../../control/store/wal/errors.js';
import { LOCK_FILE } from '../../../../../control/store/wal/lock.js';
import { RecordType, decodeRecord, type WalRecord } from '../../../../../control/store/wal/record.js';
import { Wal, listSegments, segmentName, type WalOptions } from '../../../../../control/store/wal/wal.js';
import { CaptureLogger, CountingIo, deferred, entries, entry, hs, noSyncIo, tempDirs } from './helpers.js';

const temps = tempDirs();
afterEach(() => temps.cleanup());

const META = new TextEncoder().encode('{"clusterId":"c1","nodeId":1}');
const SEG0 = segmentName(0, 0);

/** Offsets of the valid records in a segment's bytes (stops at the first non-ok). */
function recordsOf(buf: Uint8Array): WalRecord[] {
  const out: WalRecord[] = [];
  let off = 0;
  let crc = 0;
  for (;;) {
    const r = decodeRecord(buf, off, crc);
    if (r.kind !== 'ok') return out;
    out.push(r.record);
    crc = r.crc;
    off = r.next;
  }
}

function recordOffsets(buf: Uint8Array): number[] {
  const out: number[] = [];
  let off = 0;
  let crc = 0;
  for (;;) {
    const r = decodeRecord(buf, off, crc);
    if (r.kind !== 'ok') return out;
    out.push(off);
    crc = r.crc;
    off = r.next;
  }
}

async function bytesOf(path: string): Promise<Uint8Array> {
  return new Uint8Array(await readFile(path));
}

/** A log with entries 1..n each saved (and acknowledged) by its own save, hard state commit following. */
async function writeLog(dir: string, n: number, opts: WalOptions = {}): Promise<void> {
  const wal = await Wal.create(dir, META, { io: noSyncIo, ...opts });
  for (let i = 1; i <= n; i++) await wal.save(hs(1, i - 1), [entry(i)]);
  await wal.close();
}

const indexes = (es: { index: number }[]): number[] => es.map((e) => e.index);

describe('Wal: create, save, open', () => {
  it('round-trips metadata, hard state and entries across restart', async () => {
    const dir = await temps.make();
    const wal = await Wal.create(dir, META);
    await wal.save(hs(1, 0), entries(1, 3));
    await wal.save(hs(2, 3, 2), [entry(4, 2, 'x'.repeat(1000))]);
    await wal.save(undefined, []);
    await wal.close();

    const r = await Wal.open(dir);
    expect(r.metadata).toEqual(META);
    expect(r.hardState).toEqual(hs(2, 3, 2));
    expect(r.entries).toEqual([...entries(1, 3), entry(4, 2, 'x'.repeat(1000))]);
    expect(r.repaired).toBeUndefined();
    expect(r.wal.lastIndex).toBe(4);
    // Appending after a restart continues the chain.
    await r.wal.save(hs(2, 4, 2), [entry(5, 2)]);
    await r.wal.close();
    const again = await Wal.open(dir);
    expect(indexes(again.entries)).toEqual([1, 2, 3, 4, 5]);
    expect(again.hardState.commit).toBe(4);
    await again.wal.close();
  });

  it('refuses to create over an existing log and to open a missing one', async () => {
    const dir = await temps.make();
    await (await Wal.create(dir, META)).close();
    await expect(Wal.create(dir, META)).rejects.toBeInstanceOf(WalExistsError);
    await expect(Wal.open(join(dir, 'nope'))).rejects.toBeInstanceOf(WalNotFoundError);
  });

  it('later entries replace conflicting ones with the same index (raft log overwrite)', async () => {
    const dir = await temps.make();
    const wal = await Wal.create(dir, META);
    await wal.save(hs(1, 2), entries(1, 5, 1));
    await wal.save(hs(2, 2), entries(3, 4, 2));
    await wal.save(undefined, [entry(5, 3)]);
    await wal.close();
    const r = await Wal.open(dir);
    expect(r.entries.map((e) => [e.index, e.term])).toEqual([
      [1, 1],
      [2, 1],
      [3, 2],
      [4, 2],
      [5, 3],
    ]);
    await r.wal.close();
  });

  it('rejects a save that would leave a gap, and stays usable', async () => {
    const dir = await temps.make();
    const wal = await Wal.create(dir, META);
    await wal.save(hs(1, 0), entries(1, 2));
    await expect(wal.save(undefined, [entry(5)])).rejects.toThrow(/gap/);
    await expect(wal.save(undefined, [entry(3), entry(5)])).rejects.toThrow(/contiguous/);
    await wal.save(undefined, [entry(3)]);
    await wal.close();
    const r = await Wal.open(dir);
    expect(indexes(r.entries)).toEqual([1, 2, 3]);
    await r.wal.close();
  });

  it('opens from a snapshot: only entries after it, and the snapshot must be recorded with the same term', async () => {
    const dir = await temps.make();
    const wal = await Wal.create(dir, META);
    await wal.save(hs(3, 10), entries(1, 10, 3));
    await wal.saveSnapshot({ index: 6, term: 3 });
    await wal.save(hs(3, 12), entries(11, 12, 3));
    await wal.close();

    const r = await Wal.open(dir, { fromSnapshot: { index: 6, term: 3 } });
    expect(indexes(r.entries)).toEqual([7, 8, 9, 10, 11, 12]);
    expect(r.hardState.commit).toBe(12);
    await r.wal.close();
    await expect(Wal.open(dir, { fromSnapshot: { index: 6, term: 2 } })).rejects.toBeInstanceOf(WalSnapshotMismatchError);
    await expect(Wal.open(dir, { fromSnapshot: { index: 7, term: 3 } })).rejects.toBeInstanceOf(WalSnapshotNotFoundError);
    // A failed open releases the lock.
    (await Wal.open(dir)).wal.close();
  });

  it('a snapshot marker ahead of the log (snapshot received from the leader) lets entries continue after it', async () => {
    const dir = await temps.make();
    const wal = await Wal.create(dir, META);
    await wal.save(hs(1, 3), entries(1, 3));
    await wal.saveSnapshot({ index: 100, term: 4 });
    await wal.save(hs(4, 100), []);
    await wal.save(undefined, entries(101, 102, 4));
    await wal.close();
    expect(await Wal.readSnapshots(dir)).toEqual([
      { index: 0, term: 0 },
      { index: 100, term: 4 },
    ]);
    const r = await Wal.open(dir, { fromSnapshot: { index: 100, term: 4 } });
    expect(indexes(r.entries)).toEqual([101, 102]);
    await r.wal.close();
    // Replaying from the beginning cannot produce a contiguous log: clear error, not a silent hole.
    await expect(Wal.open(dir)).rejects.toThrow(/gap after 3/);
  });

  it('readSnapshots lists only snapshots covered by the recorded commit', async () => {
    const dir = await temps.make();
    const wal = await Wal.create(dir, META);
    await wal.save(hs(1, 5), entries(1, 8));
    await wal.saveSnapshot({ index: 5, term: 1 });
    await wal.saveSnapshot({ index: 8, term: 1 });
    await wal.close();
    expect(await Wal.readSnapshots(dir)).toEqual([
      { index: 0, term: 0 },
      { index: 5, term: 1 },
    ]);
  });

  it('operations after close reject', async () => {
    const dir = await temps.make();
    const wal = await Wal.create(dir, META);
    await wal.close();
    await expect(wal.save(hs(1, 0), [entry(1)])).rejects.toBeInstanceOf(WalClosedError);
    await wal.close();
  });
});

describe('Wal: torn tails are cut back to the last complete record', () => {
  /** A log whose last record is a large entry 6, written by its own save after entries 1..5 were acknowledged. */
  async function logWithBigLast(dir: string): Promise<{ path: string; lastStart: number; full: Uint8Array }> {
    const wal = await Wal.create(dir, META);
    for (let i = 1; i <= 5; i++) await wal.save(hs(1, i - 1), [entry(i)]);
    await wal.save(undefined, [entry(6, 1, 'z'.repeat(200))]);
    await wal.close();
    const path = join(dir, SEG0);
    const full = await bytesOf(path);
    const offs = recordOffsets(full);
    return { path, lastStart: offs[offs.length - 1]!, full };
  }

  it('truncating the last record at every byte offset recovers entries 1..5, and the log stays writable', async () => {
    const dir = await temps.make();
    const { path, lastStart, full } = await logWithBigLast(dir);
    expect(full.length - lastStart).toBeGreaterThan(200);
    for (let cut = lastStart; cut < full.length; cut++) {
      await writeFile(path, full.subarray(0, cut));
      const logger = new CaptureLogger();
      const r = await Wal.open(dir, { logger, io: noSyncIo });
      expect(indexes(r.entries), `cut at ${cut}`).toEqual([1, 2, 3, 4, 5]);
      expect(r.hardState.commit).toBe(4);
      if (cut > lastStart) {
        expect(r.repaired).toMatchObject({ file: SEG0, offset: lastStart, droppedBytes: cut - lastStart });
        expect(logger.lines.some((l) => l.level === 'warn' && /torn tail/.test(l.msg))).toBe(true);
      } else {
        expect(r.repaired).toBeUndefined();
      }
      expect((await stat(path)).size).toBe(lastStart);
      if (cut % 37 === 0 || cut === full.length - 1) {
        await r.wal.save(hs(1, 5), [entry(6, 1, 'again')]);
        await r.wal.close();
        const again = await Wal.open(dir, { io: noSyncIo });
        expect(indexes(again.entries)).toEqual([1, 2, 3, 4, 5, 6]);
        expect(new TextDecoder().decode(again.entries[5]!.data)).toBe('again');
        await again.wal.close();
      } else {
        await r.wal.close();
      }
    }
  });

  it('a zero-filled last record (length kept) is cut', async () => {
    const dir = await temps.make();
    const { path, lastStart, full } = await logWithBigLast(dir);
    const zeroed = full.slice();
    zeroed.fill(0, lastStart);
    await writeFile(path, zeroed);
    const r = await Wal.open(dir);
    expect(indexes(r.entries)).toEqual([1, 2, 3, 4, 5]);
    await r.wal.close();
    expect((await stat(path)).size).toBe(lastStart);
  });

  it('a last record zeroed from its middle (torn sector) is cut', async () => {
    const dir = await temps.make();
    const { path, lastStart, full } = await logWithBigLast(dir);
    for (const from of [lastStart + 16, lastStart + 100, full.length - 8]) {
      const torn = full.slice();
      torn.fill(0, from);
      await writeFile(path, torn);
      const r = await Wal.open(dir);
      expect(indexes(r.entries)).toEqual([1, 2, 3, 4, 5]);
      expect(r.repaired?.reason).toMatch(/crc mismatch/);
      await r.wal.close();
    }
  });

  it('zero fill after the last record (unwritten space) keeps every record', async () => {
    const dir = await temps.make();
    const { path, full } = await logWithBigLast(dir);
    await writeFile(path, new Uint8Array([...full, ...new Uint8Array(8192)]));
    const r = await Wal.open(dir);
    expect(indexes(r.entries)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(r.repaired).toBeUndefined();
    await r.wal.close();
    expect((await stat(path)).size).toBe(full.length);
  });

  it('garbage after the last record is cut', async () => {
    const dir = await temps.make();
    const { path, full } = await logWithBigLast(dir);
    const garbage = new Uint8Array(777).map((_, i) => (i * 97 + 13) & 0xff);
    await writeFile(path, new Uint8Array([...full, ...garbage]));
    const r = await Wal.open(dir);
    expect(indexes(r.entries)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(r.repaired).toMatchObject({ offset: full.length, droppedBytes: 777 });
    await r.wal.close();
  });

  it('a crc mismatch in the last record is cut and logged with file and offset', async () => {
    const dir = await temps.make();
    const { path, lastStart, full } = await logWithBigLast(dir);
    const flipped = full.slice();
    flipped[lastStart + 100]! ^= 0x10;
    await writeFile(path, flipped);
    const logger = new CaptureLogger();
    const r = await Wal.open(dir, { logger });
    expect(indexes(r.entries)).toEqual([1, 2, 3, 4, 5]);
    const warn = logger.lines.find((l) => l.level === 'warn');
    expect(warn?.obj).toMatchObject({ file: SEG0, offset: lastStart, reason: expect.stringMatching(/crc mismatch/) });
    await r.wal.close();
  });

  it('several torn records written by one batch are all cut', async () => {
    const dir = await temps.make();
    const wal = await Wal.create(dir, META);
    await wal.save(hs(1, 0), entries(1, 3));
    await wal.save(hs(1, 3), entries(4, 8));
    await wal.close();
    const path = join(dir, SEG0);
    const full = await bytesOf(path);
    const offs = recordOffsets(full);
    // Records: crc, metadata, snapshot, e1..e3, hs, e4..e8, hs. Tear inside e6.
    const e6 = offs[offs.length - 4]!;
    await writeFile(path, full.subarray(0, e6 + 20));
    const r = await Wal.open(dir);
    expect(indexes(r.entries)).toEqual([1, 2, 3, 4, 5]);
    await r.wal.close();
  });
});

describe('Wal: corruption before the tail refuses to start', () => {
  it('a flipped bit in an earlier record of the last segment names file and offset', async () => {
    const dir = await temps.make();
    await writeLog(dir, 6);
    const path = join(dir, SEG0);
    const full = await bytesOf(path);
    const offs = recordOffsets(full);
    for (const victim of [3, 5, offs.length - 3]) {
      const at = offs[victim]!;
      const bad = full.slice();
      bad[at + 17]! ^= 0x01;
      await writeFile(path, bad);
      const err = await Wal.open(dir).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(WalCorruptError);
      expect((err as WalCorruptError).message).toMatch(
        new RegExp(`^wal: corrupt record at ${SEG0} offset ${at}: crc mismatch.*; refusing to start$`),
      );
      expect(err).toMatchObject({ file: SEG0, offset: at });
      // Nothing was truncated, and the lock was released.
      expect(await bytesOf(path)).toEqual(bad);
      expect((await readdir(dir)).includes(LOCK_FILE)).toBe(false);
    }
  });

  it('a damaged header (length field) in the middle is refused, not treated as a torn tail', async () => {
    const dir = await temps.make();
    await writeLog(dir, 6);
    const path = join(dir, SEG0);
    const full = await bytesOf(path);
    const offs = recordOffsets(full);
    const at = offs[4]!;
    for (const byte of [0, 1, 3, 4, 8, 12]) {
      const bad = full.slice();
      bad[at + byte]! ^= 0x40;
      await writeFile(path, bad);
      await expect(Wal.open(dir)).rejects.toThrow(new RegExp(`corrupt record at ${SEG0} offset ${at}: malformed record header`));
    }
    // Zeroing a whole record in the middle is refused too.
    const zeroed = full.slice();
    zeroed.fill(0, at, offs[5]!);
    await writeFile(path, zeroed);
    await expect(Wal.open(dir)).rejects.toThrow(/zero-filled record header followed by non-zero bytes/);
  });

  it('any damage in an earlier segment is refused, even its last record', async () => {
    const dir = await temps.make();
    await writeLog(dir, 40, { segmentSizeBytes: 1024 });
    const segs = await listSegments(dir);
    expect(segs.length).toBeGreaterThan(2);
    const victim = segs[1]!;
    const path = join(dir, victim.name);
    const full = await bytesOf(path);
    const offs = recordOffsets(full);
    const at = offs[offs.length - 1]!;
    const bad = full.slice();
    bad[at + 20]! ^= 0x80;
    await writeFile(path, bad);
    await expect(Wal.open(dir)).rejects.toThrow(`wal: corrupt record at ${victim.name} offset ${at}: crc mismatch`);
    // Truncating an earlier segment mid-record is refused as well.
    await writeFile(path, full.subarray(0, at + 20));
    await expect(Wal.open(dir)).rejects.toThrow(new RegExp(`corrupt record at ${victim.name} offset ${at}: torn record`));
    // Cutting whole records off an earlier segment breaks the chain into the next segment.
    await writeFile(path, full.subarray(0, at));
    await expect(Wal.open(dir)).rejects.toThrow(new RegExp(`corrupt record at ${segs[2]!.name} offset 0: crc mismatch`));
  });

  it('the chained crc detects a segment from another log and swapped segments', async () => {
    const a = await temps.make();
    const b = await temps.make();
    const opts = { segmentSizeBytes: 1024, io: noSyncIo };
    // Same shape, different payloads: segment names line up, contents differ.
    for (const [dir, tag] of [
      [a, 'a'],
      [b, 'b'],
    ] as const) {
      const wal = await Wal.create(dir, META, opts);
      for (let i = 1; i <= 40; i++) await wal.save(hs(1, i - 1), [entry(i, 1, `${tag}-${String(i).padStart(4, '0')}`)]);
      await wal.close();
    }
    const segsA = await listSegments(a);
    const segsB = await listSegments(b);
    expect(segsA.map((s) => s.name)).toEqual(segsB.map((s) => s.name));
    expect(segsA.length).toBeGreaterThan(3);
    const name1 = segsA[1]!.name;
    const name2 = segsA[2]!.name;
    const orig1 = await bytesOf(join(a, name1));
    const orig2 = await bytesOf(join(a, name2));

    await copyFile(join(b, name1), join(a, name1));
    await expect(Wal.open(a)).rejects.toThrow(new RegExp(`corrupt record at ${name1} offset 0: crc mismatch.*another log`));

    // Swap the contents of two segments (names kept).
    await writeFile(join(a, name1), orig2);
    await writeFile(join(a, name2), orig1);
    await expect(Wal.open(a)).rejects.toThrow(new RegExp(`corrupt record at ${name1} offset 0: crc mismatch`));

    await writeFile(join(a, name1), orig1);
    await writeFile(join(a, name2), orig2);
    const r = await Wal.open(a, opts);
    expect(indexes(r.entries)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    await r.wal.close();
  });

  it('the chained crc detects two records swapped inside a segment', async () => {
    const dir = await temps.make();
    await writeLog(dir, 6);
    const path = join(dir, SEG0);
    const full = await bytesOf(path);
    const offs = recordOffsets(full);
    // Records: crc, metadata, snapshot, then (entry i, hard state) per save. Swap entries 2 and 3 (same size).
    const e2 = offs[5]!;
    const e3 = offs[7]!;
    const len = offs[6]! - e2;
    expect(offs[8]! - e3).toBe(len);
    const swapped = full.slice();
    swapped.set(full.subarray(e3, e3 + len), e2);
    swapped.set(full.subarray(e2, e2 + len), e3);
    await writeFile(path, swapped);
    await expect(Wal.open(dir)).rejects.toThrow(`wal: corrupt record at ${SEG0} offset ${e2}: crc mismatch`);
  });

  it('a missing middle segment is refused', async () => {
    const dir = await temps.make();
    await writeLog(dir, 40, { segmentSizeBytes: 1024 });
    const segs = await listSegments(dir);
    await rm(join(dir, segs[1]!.name));
    await expect(Wal.open(dir)).rejects.toThrow(/sequence jumps from 0 to 2/);
  });

  it('damage in the head of the last segment is refused (segment heads are written atomically)', async () => {
    const dir = await temps.make();
    await writeLog(dir, 3);
    const path = join(dir, SEG0);
    const full = await bytesOf(path);
    const bad = full.slice();
    bad[20]! ^= 1; // inside the crc record
    await writeFile(path, bad);
    await expect(Wal.open(dir)).rejects.toBeInstanceOf(WalCorruptError);
    await writeFile(path, new Uint8Array(0));
    await expect(Wal.open(dir)).rejects.toThrow(/segment is empty/);
  });
});

describe('Wal: segments', () => {
  it('cuts segments at the configured size, names them by sequence and first index, and reads across them', async () => {
    const dir = await temps.make();
    const logger = new CaptureLogger();
    const wal = await Wal.create(dir, META, { segmentSizeBytes: 1024, logger, io: noSyncIo });
    for (let i = 1; i <= 100; i++) await wal.save(hs(1, i - 1), [entry(i)]);
    await wal.close();
    const segs = await listSegments(dir);
    expect(segs.length).toBeGreaterThan(5);
    segs.forEach((s, i) => expect(s.seq).toBe(i));
    expect(segs[0]!.index).toBe(0);
    for (const s of segs.slice(0, -1)) expect((await stat(join(dir, s.name))).size).toBeLessThan(1024 + 200);
    const cuts = logger.lines.filter((l) => /cut a new segment/.test(l.msg));
    expect(cuts.length).toBe(segs.length - 1);
    // Each says how long the writes behind it waited.
    for (const c of cuts) expect(c.obj).toMatchObject({ segment: expect.any(String), ms: expect.any(Number) });

    const r = await Wal.open(dir, { segmentSizeBytes: 1024 });
    expect(indexes(r.entries)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(r.hardState.commit).toBe(99);
    expect(r.metadata).toEqual(META);
    // Each segment's name is the first index it holds; each opens with crc, metadata, hard state.
    for (const s of segs.slice(1)) {
      const recs = recordsOf(await bytesOf(join(dir, s.name)));
      expect(recs.slice(0, 3).map((r) => r.type)).toEqual([RecordType.crc, RecordType.metadata, RecordType.hardState]);
      const first = recs.find((r) => r.type === RecordType.entry);
      // The last segment was cut right after entry 100 and holds no entry yet.
      if (s !== segs[segs.length - 1]) expect(first?.type === RecordType.entry && first.entry.index).toBe(s.index);
      else expect(first).toBeUndefined();
    }
    await r.wal.close();
  });

  it('purges segments released by a snapshot; the rest still opens from that snapshot with the hard state', async () => {
    const dir = await temps.make();
    const opts = { segmentSizeBytes: 1024, io: noSyncIo };
    const wal = await Wal.create(dir, META, opts);
    for (let i = 1; i <= 100; i++) await wal.save(hs(2, i - 1), [entry(i, 2)]);
    expect(await wal.purge()).toEqual([]);
    // A marker in the segment still being written releases nothing (a torn tail could take it).
    await wal.saveSnapshot({ index: 55, term: 2 });
    wal.releaseLockTo(55);
    expect(await wal.purge()).toEqual([]);
    await wal.saveSnapshot({ index: 60, term: 2 }, { seal: true });
    const before = await listSegments(dir);
    wal.releaseLockTo(60);
    const removed = await wal.purge();
    expect(removed.length).toBeGreaterThan(0);
    const after = await listSegments(dir);
    expect(after.length).toBe(before.length - removed.length);
    // The oldest kept segment is the last one starting at or below 60; everything removed starts before it.
    expect(after[0]!.index).toBeLessThanOrEqual(60);
    expect(after[1]!.index).toBeGreaterThan(60);
    expect(removed).toEqual(before.slice(0, removed.length).map((s) => s.name));
    expect(wal.segmentNames()).toEqual(after.map((s) => s.name));
    await wal.save(hs(2, 100), [entry(101, 2)]);
    await wal.close();

    const r = await Wal.open(dir, { ...opts, fromSnapshot: { index: 60, term: 2 } });
    expect(indexes(r.entries)).toEqual(Array.from({ length: 41 }, (_, i) => i + 61));
    expect(r.hardState).toEqual(hs(2, 100, 1));
    await r.wal.close();
    await expect(Wal.open(dir)).rejects.toThrow(/older than every retained segment/);
    // The first retained segment starts mid-chain: readSnapshots and open accept that.
    expect(await Wal.readSnapshots(dir)).toEqual([
      { index: 55, term: 2 },
      { index: 60, term: 2 },
    ]);
  });

  it('reads segments whose names go down after an uncommitted suffix was overwritten across a cut', async () => {
    const dir = await temps.make();
    const opts = { segmentSizeBytes: 1024, io: noSyncIo };
    const wal = await Wal.create(dir, META, opts);
    for (let i = 1; i <= 40; i++) await wal.save(hs(1, 10), [entry(i)]);
    // A new leader (term 2) overwrites 11.. with its own entries, across several cuts.
    for (let i = 11; i <= 50; i++) await wal.save(hs(2, 10), [entry(i, 2)]);
    await wal.close();
    const segs = await listSegments(dir);
    expect(segs.some((s, i) => i > 0 && s.index < segs[i - 1]!.index)).toBe(true);
    const r = await Wal.open(dir, opts);
    expect(r.entries.map((e) => [e.index, e.term])).toEqual(
      Array.from({ length: 50 }, (_, i) => [i + 1, i < 10 ? 1 : 2]),
    );
    await r.wal.close();
  });

  it('never purges the segment being written', async () => {
    const dir = await temps.make();
    const wal = await Wal.create(dir, META, { segmentSizeBytes: 1024 });
    await wal.save(hs(1, 3), entries(1, 3));
    wal.releaseLockTo(1000);
    expect(await wal.purge()).toEqual([]);
    await wal.close();
  });

  it('preallocates segments, trims them when cut, and ignores the unwritten zeros on open', async () => {
    const dir = await temps.make();
    const opts = { segmentSizeBytes: 4096, preallocate: true, io: noSyncIo };
    const wal = await Wal.create(dir, META, opts);
    expect((await stat(join(dir, SEG0))).size).toBe(4096);
    for (let i = 1; i <= 100; i++) await wal.save(hs(1, i - 1), [entry(i)]);
    await wal.close();
    const segs = await listSegments(dir);
    expect(segs.length).toBeGreaterThan(1);
    for (const s of segs.slice(0, -1)) {
      const size = (await stat(join(dir, s.name))).size;
      expect(size).toBeLessThan(4096 + 200);
      expect(size).toBeGreaterThanOrEqual(4096);
    }
    expect((await stat(join(dir, segs[segs.length - 1]!.name))).size).toBe(4096);
    const logger = new CaptureLogger();
    const r = await Wal.open(dir, { ...opts, logger });
    expect(r.entries.length).toBe(100);
    expect(r.repaired).toBeUndefined();
    expect(logger.lines.filter((l) => l.level === 'warn')).toEqual([]);
    expect((await stat(join(dir, segs[segs.length - 1]!.name))).size).toBe(4096);
    await r.wal.save(undefined, [entry(101)]);
    await r.wal.close();
    const again = await Wal.open(dir, opts);
    expect(again.entries.length).toBe(101);
    await again.wal.close();
  });

  it('removes a half-written segment (.tmp) left by a crash during a cut', async () => {
    const dir = await temps.make();
    await writeLog(dir, 3);
    await writeFile(join(dir, `${segmentName(1, 4)}.tmp`), new Uint8Array(100).fill(7));
    const r = await Wal.open(dir);
    expect(indexes(r.entries)).toEqual([1, 2, 3]);
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    await r.wal.close();
  });
});

describe('Wal: group commit and durability', () => {
  it('sequential saves each fsync once', async () => {
    const dir = await temps.make();
    const io = new CountingIo();
    const wal = await Wal.create(dir, META, { io });
    const base = io.fileSyncs;
    for (let i = 1; i <= 10; i++) await wal.save(hs(1, i - 1), [entry(i)]);
    expect(io.fileSyncs - base).toBe(10);
    await wal.close();
  });

  it('a save with sync: false (commit index only) waits for the next synced save and shares its write and fsync', async () => {
    const dir = await temps.make();
    const io = new CountingIo();
    const wal = await Wal.create(dir, META, { io });
    await wal.save(hs(1, 0), [entry(1)]);
    const syncs = io.fileSyncs;
    const batches = wal.batchCount;
    let lazyDone = false;
    const lazy = wal.save(hs(1, 1), [], { sync: false }).then(() => (lazyDone = true));
    await new Promise((r) => setImmediate(r));
    expect(lazyDone).toBe(false);
    // Nothing written yet: the log still ends with entry 1's hard state (commit 0).
    const before = recordsOf(await bytesOf(join(dir, SEG0)));
    const end = before[before.length - 1];
    expect(end?.type === RecordType.hardState ? end.hardState.commit : undefined).toBe(0);
    await wal.save(undefined, [entry(2)]);
    await lazy;
    expect(wal.batchCount - batches).toBe(1);
    expect(io.fileSyncs - syncs).toBe(1);
    // In order: the commit index lands in front of entry 2.
    const onDisk = recordsOf(await bytesOf(join(dir, SEG0)));
    const tail = onDisk.slice(-2);
    expect(tail[0]?.type === RecordType.hardState ? tail[0].hardState.commit : undefined).toBe(1);
    expect(tail[1]?.type === RecordType.entry ? tail[1].entry.index : undefined).toBe(2);
    await wal.close();
    const r = await Wal.open(dir);
    expect(indexes(r.entries)).toEqual([1, 2]);
    expect(r.hardState.commit).toBe(1);
    await r.wal.close();
  });

  it('a save with sync: false and no synced save after it is written on its own after a short wait, without an fsync', async () => {
    const dir = await temps.make();
    const io = new CountingIo();
    const wal = await Wal.create(dir, META, { io });
    await wal.save(hs(1, 0), [entry(1)]);
    const syncs = io.fileSyncs;
    await wal.save(hs(1, 1), [], { sync: false });
    expect(io.fileSyncs - syncs).toBe(0);
    // Written all the same: a process crash (the page cache survives) keeps it.
    const onDisk = recordsOf(await bytesOf(join(dir, SEG0)));
    const last = onDisk[onDisk.length - 1];
    expect(last?.type === RecordType.hardState ? last.hardState.commit : undefined).toBe(1);
    await wal.close();
  });

  it('close() writes a waiting sync: false save', async () => {
    const dir = await temps.make();
    const wal = await Wal.create(dir, META, { io: new CountingIo() });
    await wal.save(hs(1, 0), [entry(1)]);
    const lazy = wal.save(hs(1, 1), [], { sync: false });
    await wal.close();
    await lazy;
    const r = await Wal.open(dir);
    expect(r.hardState.commit).toBe(1);
    await r.wal.close();
  });

  it('N concurrent saves share far fewer than N fsyncs, and all land in order', async () => {
    const dir = await temps.make();
    const io = new CountingIo();
    io.delayMs = 5;
    const wal = await Wal.create(dir, META, { io });
    const base = io.fileSyncs;
    const N = 200;
    const saves: Promise<void>[] = [];
    for (let i = 1; i <= N; i++) {
      saves.push(wal.save(hs(1, i - 1), [entry(i)]));
      // Trickle some in while fsyncs are in flight.
      if (i % 50 === 0) await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.all(saves);
    const syncs = io.fileSyncs - base;
    expect(syncs).toBeGreaterThanOrEqual(1);
    expect(syncs).toBeLessThanOrEqual(10);
    expect(wal.syncCount).toBe(syncs);
    await wal.close();
    const r = await Wal.open(dir);
    expect(indexes(r.entries)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(r.hardState.commit).toBe(N - 1);
    await r.wal.close();
  });

  it('saves issued while an fsync is in flight wait for, and share, the next fsync', async () => {
    const dir = await temps.make();
    const io = new CountingIo();
    const wal = await Wal.create(dir, META, { io });
    const base = io.fileSyncs;
    const gate = deferred();
    io.gate = gate.promise;
    let firstDone = false;
    const first = wal.save(hs(1, 0), [entry(1)]).then(() => (firstDone = true));
    while (io.fileSyncs === base) await new Promise((r) => setTimeout(r, 1));
    // The first fsync is now in flight (blocked on the gate).
    const resolved: number[] = [];
    const rest = Array.from({ length: 50 }, (_, k) => wal.save(hs(1, k + 1), [entry(k + 2)]).then(() => resolved.push(k)));
    await new Promise((r) => setTimeout(r, 20));
    expect(firstDone).toBe(false);
    expect(resolved).toEqual([]);
    io.gate = undefined;
    gate.resolve();
    await first;
    await Promise.all(rest);
    expect(io.fileSyncs - base).toBe(2);
    expect(resolved.length).toBe(50);
    await wal.close();
  });

  it('save does not resolve before its fsync completes', async () => {
    const dir = await temps.make();
    const io = new CountingIo();
    const wal = await Wal.create(dir, META, { io });
    const gate = deferred();
    io.gate = gate.promise;
    let done = false;
    const p = wal.save(hs(1, 0), [entry(1)]).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(done).toBe(false);
    gate.resolve();
    await p;
    expect(done).toBe(true);
    io.gate = undefined;
    await wal.close();
  });

  it('a save asking for an inline fsync is fsynced on the calling thread before it resolves', async () => {
    const dir = await temps.make();
    const io = new CountingIo();
    const wal = await Wal.create(dir, META, { io });
    const base = io.fileSyncs;
    for (let i = 1; i <= 5; i++) await wal.save(hs(1, i - 1), [entry(i)], { inline: true });
    expect(io.fileSyncs - base).toBe(5);
    expect(io.inlineSyncs).toBe(5);
    // Held in flight, a thread-pool fsync would keep the save pending; an inline one cannot be held.
    const gate = deferred();
    io.gate = gate.promise;
    await wal.save(hs(1, 5), [entry(6)], { inline: true });
    expect(io.inlineSyncs).toBe(6);
    gate.resolve();
    io.gate = undefined;
    await wal.close();
    const r = await Wal.open(dir);
    expect(indexes(r.entries)).toEqual([1, 2, 3, 4, 5, 6]);
    await r.wal.close();
  });

  it('a batch with a synced save that did not ask for inline fsyncs through the thread pool', async () => {
    const dir = await temps.make();
    const io = new CountingIo();
    const wal = await Wal.create(dir, META, { io });
    const base = io.fileSyncs;
    await Promise.all([wal.save(hs(1, 0), [entry(1)], { inline: true }), wal.save(hs(1, 0), [entry(2)])]);
    expect(io.fileSyncs - base).toBe(1);
    expect(io.inlineSyncs).toBe(0);
    // A sync: false item does not need an fsync, so it does not stop its batch's inline one.
    await Promise.all([wal.save(hs(1, 2), [], { sync: false }), wal.save(undefined, [entry(3)], { inline: true })]);
    expect(io.fileSyncs - base).toBe(2);
    expect(io.inlineSyncs).toBe(1);
    await wal.close();
  });

  it('an io without syncFileNow serves inline requests through syncFile', async () => {
    const dir = await temps.make();
    let syncs = 0;
    const wal = await Wal.create(dir, META, { io: { syncFile: async () => void syncs++, syncDir: async () => {} } });
    const base = syncs;
    await wal.save(hs(1, 0), [entry(1)], { inline: true });
    expect(syncs - base).toBe(1);
    await wal.close();
  });

  it('a failed inline fsync fails the batch and every later save', async () => {
    const dir = await temps.make();
    const io = new CountingIo();
    const wal = await Wal.create(dir, META, { io });
    await wal.save(hs(1, 0), [entry(1)], { inline: true });
    io.failNext = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    await expect(wal.save(hs(1, 1), [entry(2)], { inline: true })).rejects.toBeInstanceOf(WalFailedError);
    await expect(wal.save(undefined, [entry(3)], { inline: true })).rejects.toThrow(/EIO/);
    await wal.close();
    const r = await Wal.open(dir);
    expect(r.entries[0]?.index).toBe(1);
    await r.wal.close();
  });

  it('a failed fsync fails the batch and every later save (the log state is unknown)', async () => {
    const dir = await temps.make();
    const io = new CountingIo();
    const wal = await Wal.create(dir, META, { io });
    await wal.save(hs(1, 0), [entry(1)]);
    io.failNext = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    const a = wal.save(hs(1, 1), [entry(2)]);
    const b = wal.save(hs(1, 1), [entry(3)]);
    await expect(a).rejects.toBeInstanceOf(WalFailedError);
    await expect(b).rejects.toBeInstanceOf(WalFailedError);
    await expect(wal.save(undefined, [entry(4)])).rejects.toThrow(/EIO/);
    await wal.close();
    // A restart recovers whatever made it to disk, at least the acknowledged entry 1.
    const r = await Wal.open(dir);
    expect(r.entries[0]?.index).toBe(1);
    await r.wal.close();
  });
});

describe('Wal: directory lock', () => {
  it('refuses a second open while held, with the owning pid; allows it after close', async () => {
    const dir = await temps.make();
    const wal = await Wal.create(dir, META);
    expect((await readFile(join(dir, LOCK_FILE), 'utf8')).trim()).toBe(String(process.pid));
    const err = await Wal.open(dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WalLockedError);
    expect((err as Error).message).toContain(`locked by process ${process.pid}`);
    await wal.close();
    expect((await readdir(dir)).includes(LOCK_FILE)).toBe(false);
    const r = await Wal.open(dir);
    await r.wal.close();
  });

  it('refuses a lock held by another live process', async () => {
    const dir = await temps.make();
    await (await Wal.create(dir, META)).close();
    await writeFile(join(dir, LOCK_FILE), `${process.ppid}\n`);
    await expect(Wal.open(dir)).rejects.toThrow(`locked by process ${process.ppid}`);
  });

  it('takes over a stale lock from a dead process or an earlier incarnation with our pid', async () => {
    const dir = await temps.make();
    await (await Wal.create(dir, META)).close();
    const child = spawnSync(process.execPath, ['-e', '0']);
    expect(child.pid).toBeGreaterThan(0);
    await writeFile(join(dir, LOCK_FILE), `${child.pid}\n`);
    const r = await Wal.open(dir);
    expect((await readFile(join(dir, LOCK_FILE), 'utf8')).trim()).toBe(String(process.pid));
    await r.wal.close();
    await writeFile(join(dir, LOCK_FILE), `${process.pid}\n`);
    const again = await Wal.open(dir);
    await again.wal.close();
  });
});
