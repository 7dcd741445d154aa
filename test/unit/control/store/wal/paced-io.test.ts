import { open, readFile, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SyncIo } from '../../../../../control/store/wal/io.js';
import { Snapshotter, snapshotName } from '../../../../../control/store/wal/snapshotter.js';
import { SYNCED_SLICE_BYTES, removeInSteps, writeInSyncedSlices } from '../../../../../control/store/wal/paced-io.js';
import { tempDirs } from './helpers.js';

const temps = tempDirs();
afterEach(() => temps.cleanup());

/** An io that records the size of the file each time it is fsync'd: what each commit would carry. */
class SizeRecordingIo implements SyncIo {
  readonly sizes: number[] = [];
  async syncFile(handle: FileHandle): Promise<void> {
    this.sizes.push((await handle.stat()).size);
    await handle.datasync();
  }
  async syncDir(): Promise<void> {}
}

function pattern(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + 7) & 0xff;
  return out;
}

describe('writeInSyncedSlices', () => {
  it('fsyncs after each slice, never with more than a slice unsynced, and writes every byte', async () => {
    const dir = await temps.make();
    const file = join(dir, 'f');
    const io = new SizeRecordingIo();
    const data = pattern(10 * 1000 + 3);
    const h = await open(file, 'w');
    await h.write(new Uint8Array([1, 2, 3, 4]), 0, 4, 0);
    await writeInSyncedSlices(h, data, 4, io, 1000);
    await h.close();
    expect(io.sizes).toEqual([1004, 2004, 3004, 4004, 5004, 6004, 7004, 8004, 9004, 10004, 10007]);
    const back = await readFile(file);
    expect([...back.subarray(0, 4)]).toEqual([1, 2, 3, 4]);
    expect(Buffer.compare(back.subarray(4), Buffer.from(data))).toBe(0);
  });

  it('does not sync an empty write and refuses a slice of no bytes', async () => {
    const dir = await temps.make();
    const io = new SizeRecordingIo();
    const h = await open(join(dir, 'f'), 'w');
    try {
      await writeInSyncedSlices(h, new Uint8Array(0), 0, io);
      expect(io.sizes).toEqual([]);
      await expect(writeInSyncedSlices(h, pattern(5), 0, io, 0)).rejects.toThrow(RangeError);
    } finally {
      await h.close();
    }
  });
});

describe('removeInSteps', () => {
  it('shrinks the file a step at a time, fsyncing each step, then removes it', async () => {
    const dir = await temps.make();
    const file = join(dir, 'segment');
    await writeFile(file, pattern(4500));
    const io = new SizeRecordingIo();
    await removeInSteps(file, io, 1000);
    expect(io.sizes).toEqual([3500, 2500, 1500, 500]);
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('removes a file within one step at once, and a missing file is no error', async () => {
    const dir = await temps.make();
    const file = join(dir, 'small');
    await writeFile(file, pattern(1000));
    const io = new SizeRecordingIo();
    await removeInSteps(file, io, 1000);
    await removeInSteps(join(dir, 'never-there'), io, 1000);
    expect(io.sizes).toEqual([]);
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('Snapshotter writes in synced slices', () => {
  it('a snapshot of several slices is fsync\'d slice by slice and reads back whole', async () => {
    const dir = await temps.make();
    const io = new SizeRecordingIo();
    const s = await Snapshotter.open(dir, { io });
    const data = pattern(3 * SYNCED_SLICE_BYTES + 17);
    const snap = { metadata: { index: 7, term: 2, confState: { voters: [1] } }, data };
    expect(await s.save(snap)).toBe(snapshotName(2, 7));
    expect(io.sizes).toHaveLength(4);
    const head = io.sizes[3]! - data.length;
    expect(io.sizes).toEqual([1, 2, 3].map((k) => head + k * SYNCED_SLICE_BYTES).concat(head + data.length));
    const back = await s.load();
    expect(back?.metadata).toEqual(snap.metadata);
    expect(Buffer.compare(Buffer.from(back!.data), Buffer.from(data))).toBe(0);
  });
});
