import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Snapshot } from '../../../../../control/store/raft/messages.js';
import { SnapshotCorruptError } from '../../../../../control/store/wal/errors.js';
import {
  Snapshotter,
  decodeSnapshotFile,
  encodeSnapshotFile,
  snapshotName,
} from '../../../../../control/store/wal/snapshotter.js';
import { CaptureLogger, CountingIo, tempDirs } from './helpers.js';

const temps = tempDirs();
afterEach(() => temps.cleanup());

const enc = new TextEncoder();

function snap(index: number, term: number, voters = [1, 2, 3], text = `state@${index}`): Snapshot {
  return { metadata: { index, term, confState: { voters } }, data: enc.encode(JSON.stringify({ format: 'x', text })) };
}

describe('snapshot file format', () => {
  it('round-trips index, term, membership and data', () => {
    for (const s of [snap(1, 1), snap(2 ** 40, 7, []), snap(99, 3, [5], ''), { ...snap(5, 2), data: new Uint8Array(0) }]) {
      expect(decodeSnapshotFile(encodeSnapshotFile(s))).toEqual(s);
    }
  });

  it('detects any flipped byte and any truncation', () => {
    const bytes = encodeSnapshotFile(snap(10, 2));
    for (let i = 0; i < bytes.length; i++) {
      const bad = bytes.slice();
      bad[i]! ^= 0x20;
      expect(() => decodeSnapshotFile(bad, 'f.snap'), `byte ${i}`).toThrow(SnapshotCorruptError);
    }
    for (let n = 0; n < bytes.length; n++) {
      expect(() => decodeSnapshotFile(bytes.subarray(0, n))).toThrow(SnapshotCorruptError);
    }
  });

  it('names files <term>-<index>.snap in 16 hex digits', () => {
    expect(snapshotName(3, 255)).toBe('0000000000000003-00000000000000ff.snap');
  });
});

describe('Snapshotter', () => {
  it('saves atomically and loads the newest; syncs file and directory', async () => {
    const dir = await temps.make();
    const io = new CountingIo();
    const s = await Snapshotter.open(dir, { io });
    expect(await s.load()).toBeUndefined();
    expect(await s.save(snap(0, 0))).toBeUndefined(); // empty snapshots are not written
    expect(await s.save(snap(10, 2))).toBe(snapshotName(2, 10));
    expect(io.fileSyncs).toBe(1);
    expect(io.dirSyncs).toBe(1);
    await s.save(snap(20, 3));
    expect(await s.load()).toEqual(snap(20, 3));
    expect(await readdir(dir)).toEqual([snapshotName(2, 10), snapshotName(3, 20)].sort());
  });

  it('writes a snapshot of several MB (head and data apart, checksummed in slices) as the file format says', async () => {
    const dir = await temps.make();
    const s = await Snapshotter.open(dir);
    const data = new Uint8Array(3 * 1024 * 1024 + 123);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i >>> 11)) & 0xff;
    const big: Snapshot = { metadata: { index: 77, term: 4, confState: { voters: [1, 2] } }, data };
    const name = await s.save(big);
    const bytes = new Uint8Array(await readFile(join(dir, name as string)));
    expect(Buffer.compare(Buffer.from(bytes), Buffer.from(encodeSnapshotFile(big)))).toBe(0);
    expect(decodeSnapshotFile(bytes)).toEqual(big);
  });

  it('a save that fails before the rename leaves no snapshot file behind', async () => {
    const dir = await temps.make();
    const io = new CountingIo();
    const s = await Snapshotter.open(dir, { io });
    await s.save(snap(10, 2));
    io.failNext = new Error('EIO');
    await expect(s.save(snap(20, 2))).rejects.toThrow('EIO');
    expect(await readdir(dir)).toEqual([snapshotName(2, 10)]);
    expect(await s.load()).toEqual(snap(10, 2));
  });

  it('a temp file left by a crash mid-save is ignored and cleaned up on open', async () => {
    const dir = await temps.make();
    const s = await Snapshotter.open(dir);
    await s.save(snap(10, 2));
    const full = encodeSnapshotFile(snap(20, 2));
    await writeFile(join(dir, `${snapshotName(2, 20)}.tmp`), full.subarray(0, full.length / 2));
    expect(await s.load()).toEqual(snap(10, 2));
    await Snapshotter.open(dir);
    expect(await readdir(dir)).toEqual([snapshotName(2, 10)]);
  });

  it('loadNewestAvailable picks the newest valid snapshot the WAL recorded, renaming broken ones', async () => {
    const dir = await temps.make();
    const logger = new CaptureLogger();
    const s = await Snapshotter.open(dir, { logger });
    for (const [i, t] of [
      [10, 1],
      [20, 2],
      [30, 2],
      [40, 3],
    ] as const) {
      await s.save(snap(i, t));
    }
    const walSnaps = [
      { index: 0, term: 0 },
      { index: 10, term: 1 },
      { index: 20, term: 2 },
      { index: 30, term: 2 },
    ]; // 40 was written to disk but never made it into the WAL
    expect(await s.loadNewestAvailable(walSnaps)).toEqual(snap(30, 2));
    // Same index, different term in the WAL: not a match.
    expect(await s.loadNewestAvailable([{ index: 30, term: 1 }])).toBeUndefined();

    // Break 30 (bit flip) and 20 (truncated): fall back to 10.
    const p30 = join(dir, snapshotName(2, 30));
    const b30 = new Uint8Array(await readFile(p30));
    b30[b30.length - 3]! ^= 1;
    await writeFile(p30, b30);
    const p20 = join(dir, snapshotName(2, 20));
    await writeFile(p20, (await readFile(p20)).subarray(0, 30));
    expect(await s.loadNewestAvailable(walSnaps)).toEqual(snap(10, 1));
    const names = await readdir(dir);
    expect(names).toContain(`${snapshotName(2, 30)}.broken`);
    expect(names).toContain(`${snapshotName(2, 20)}.broken`);
    expect(names).not.toContain(snapshotName(2, 30));
    expect(logger.lines.filter((l) => l.level === 'warn').length).toBe(2);
    // Broken files are no longer candidates.
    expect(await s.names()).toEqual([snapshotName(3, 40), snapshotName(1, 10)]);
  });

  it('a file whose contents disagree with its name is broken', async () => {
    const dir = await temps.make();
    const s = await Snapshotter.open(dir);
    await writeFile(join(dir, snapshotName(2, 50)), encodeSnapshotFile(snap(49, 2)));
    expect(await s.loadNewestAvailable([{ index: 50, term: 2 }])).toBeUndefined();
    expect(await readdir(dir)).toEqual([`${snapshotName(2, 50)}.broken`]);
  });

  it('purge keeps the newest N', async () => {
    const dir = await temps.make();
    const s = await Snapshotter.open(dir);
    for (let i = 1; i <= 5; i++) await s.save(snap(i * 10, 1));
    expect(await s.purge(2)).toEqual([snapshotName(1, 30), snapshotName(1, 20), snapshotName(1, 10)]);
    expect(await s.names()).toEqual([snapshotName(1, 50), snapshotName(1, 40)]);
  });
});
