import { cp, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../../control/store/clock.js';
import { MemoryStore } from '../../../../../control/store/mvcc/memory-store.js';
import type { StoreSnapshot } from '../../../../../control/store/mvcc/snapshot.js';
import type { Command } from '../../../../../control/store/mvcc/commands.js';
import { RawNode, SeededRand, decodeConfChange, type MemoryStorage } from '../../../../../control/store/raft/index.js';
import { Snapshotter } from '../../../../../control/store/wal/snapshotter.js';
import { buildMemoryStorage, openRaftStorage, persistReady, saveLocalSnapshot } from '../../../../../control/store/wal/storage.js';
import type { Wal } from '../../../../../control/store/wal/wal.js';
import { listSegments } from '../../../../../control/store/wal/wal.js';
import { RecordType, decodeRecord } from '../../../../../control/store/wal/record.js';
import { entries, hs, tempDirs } from './helpers.js';

const temps = tempDirs();
afterEach(() => temps.cleanup());

const enc = new TextEncoder();
const dec = new TextDecoder();

/** One Raft member persisting through the WAL, applying to the MVCC store. */
class Member {
  applied = 0;
  node: RawNode;
  constructor(
    readonly wal: Wal,
    readonly snapshotter: Snapshotter,
    readonly storage: MemoryStorage,
    readonly store: MemoryStore,
    applied: number,
  ) {
    this.applied = applied;
    this.node = new RawNode({ id: 1, storage, applied, electionTick: 10, heartbeatTick: 1, rand: new SeededRand(7) });
  }

  async drive(): Promise<void> {
    while (this.node.hasReady()) {
      const rd = this.node.ready();
      await persistReady(this.wal, this.snapshotter, this.storage, rd);
      for (const e of rd.committedEntries) {
        if (e.type === 'confChange') this.node.applyConfChange(decodeConfChange(e.data));
        else if (e.data.length > 0) this.store.apply(JSON.parse(dec.decode(e.data)) as Command);
        this.applied = e.index;
      }
      this.node.advance(rd);
    }
  }

  async put(key: string, value: string): Promise<void> {
    this.node.propose(enc.encode(JSON.stringify({ type: 'put', key, value } satisfies Command)));
    await this.drive();
  }

  async snapshot(): Promise<void> {
    const data = enc.encode(JSON.stringify(this.store.snapshot()));
    const s = this.storage.createSnapshot(this.applied, this.node.status().confState, data);
    await saveLocalSnapshot(this.wal, this.snapshotter, s);
    this.storage.compact(this.applied);
  }
}

async function start(walDir: string, snapDir: string, segmentSizeBytes = 2048): Promise<Member> {
  const snapshotter = await Snapshotter.open(snapDir);
  const rec = await openRaftStorage(walDir, snapshotter, { segmentSizeBytes, metadata: enc.encode('{"node":1}') });
  const store = new MemoryStore({ clock: new ManualClock() });
  if (rec.snapshot) store.restore(JSON.parse(dec.decode(rec.snapshot.data)) as StoreSnapshot);
  const m = new Member(rec.wal, snapshotter, rec.storage, store, rec.snapshot?.metadata.index ?? 0);
  if (rec.created) m.node.bootstrap([1]);
  await m.drive();
  m.node.campaign();
  await m.drive();
  return m;
}

describe('recovering Raft storage and the MVCC store from snapshot + WAL', () => {
  it('a restarted member rebuilds the same log, hard state and store contents', async () => {
    const root = await temps.make();
    const walDir = join(root, 'wal');
    const snapDir = join(root, 'snap');
    const a = await start(walDir, snapDir);
    expect(a.node.status().softState.state).toBe('leader');
    for (let i = 0; i < 30; i++) await a.put(`/k/${i % 7}`, `v${i}`);
    await a.snapshot();
    const snapIndex = a.applied;
    for (let i = 30; i < 60; i++) await a.put(`/k/${i % 9}`, `v${i}`);
    expect(await a.wal.purge()).not.toEqual([]);
    const expectState = a.store.snapshot();
    const expectLast = a.storage.lastIndex();
    const expectHs = a.node.status().hardState;
    await a.wal.close();

    const b = await start(walDir, snapDir);
    expect(b.storage.snapshot().metadata.index).toBe(snapIndex);
    expect(b.storage.firstIndex()).toBe(snapIndex + 1);
    expect(b.storage.lastIndex()).toBeGreaterThanOrEqual(expectLast);
    expect(b.storage.initialState().hardState.commit).toBeGreaterThanOrEqual(expectHs.commit);
    expect(b.storage.entries(snapIndex + 1, expectLast + 1)).toEqual(a.storage.entries(snapIndex + 1, expectLast + 1));
    expect(b.store.snapshot()).toEqual(expectState);
    expect(b.store.read({ key: '/k/3' }).kvs[0]?.value).toBe('v57');

    // And it keeps going.
    await b.put('/after', 'restart');
    await b.wal.close();
    const c = await start(walDir, snapDir);
    expect(c.store.read({ key: '/after' }).kvs[0]?.value).toBe('restart');
    await c.wal.close();
  });

  it('a torn WAL tail loses only the unacknowledged write', async () => {
    const root = await temps.make();
    const walDir = join(root, 'wal');
    const snapDir = join(root, 'snap');
    const a = await start(walDir, snapDir, 1 << 20);
    for (let i = 0; i < 10; i++) await a.put(`/k${i}`, `v${i}`);
    await a.wal.close();
    const segs = await listSegments(walDir);
    const last = join(walDir, segs[segs.length - 1]!.name);
    const bytes = await readFile(last);
    await writeFile(last, bytes.subarray(0, bytes.length - 5));

    const snapshotter = await Snapshotter.open(snapDir);
    const rec = await openRaftStorage(walDir, snapshotter);
    expect(rec.repaired).toBeDefined();
    await rec.wal.close();
    const b = await start(walDir, snapDir, 1 << 20);
    // The last record written was the hard state after the last put; the put's entry itself survives.
    for (let i = 0; i < 10; i++) expect(b.store.read({ key: `/k${i}` }).kvs[0]?.value).toBe(`v${i}`);
    await b.wal.close();
  });

  it('persistReady stores a snapshot received from the leader before the entries that follow it', async () => {
    const root = await temps.make();
    const walDir = join(root, 'wal');
    const snapshotter = await Snapshotter.open(join(root, 'snap'));
    const rec = await openRaftStorage(walDir, snapshotter);
    const data = enc.encode('{"mvcc":"state"}');
    const snapshot = { metadata: { index: 50, term: 3, confState: { voters: [1, 2, 3] } }, data };
    await persistReady(rec.wal, snapshotter, rec.storage, { snapshot, hardState: hs(3, 50), entries: [] });
    await persistReady(rec.wal, snapshotter, rec.storage, { hardState: hs(3, 52), entries: entries(51, 52, 3) });
    expect(rec.storage.firstIndex()).toBe(51);
    await rec.wal.close();

    const again = await openRaftStorage(walDir, snapshotter);
    expect(again.snapshot).toEqual(snapshot);
    expect(again.entries.map((e) => e.index)).toEqual([51, 52]);
    expect(again.storage.snapshot().metadata).toEqual(snapshot.metadata);
    expect(again.storage.initialState()).toEqual({ hardState: hs(3, 52), confState: { voters: [1, 2, 3] } });
    expect(again.storage.lastIndex()).toBe(52);
    await again.wal.close();
  });

  it('a torn tail anywhere in the last segment never takes away the snapshot recovery starts from', async () => {
    // Small segments and frequent snapshots, so purges leave few segments and a snapshot marker is often the last
    // record. After every step the data dir is copied (a crash image: every save so far has resolved) and the last
    // segment is cut back to the start of, and 5 bytes into, each of its last two records after the segment head.
    const root = await temps.make();
    const a = await start(join(root, 'wal'), join(root, 'snap'), 1024);
    const indexOf = new Map<string, number>();
    let images = 0;
    const crashImages = async (): Promise<void> => {
      const segs = await listSegments(join(root, 'wal'));
      const lastName = segs[segs.length - 1]!.name;
      const buf = new Uint8Array(await readFile(join(root, 'wal', lastName)));
      const recs: { off: number; entry?: number; head: boolean }[] = [];
      let off = 0;
      let crc = 0;
      for (;;) {
        const r = decodeRecord(buf, off, crc);
        if (r.kind !== 'ok') break;
        const t = r.record.type;
        recs.push({ off, head: t === RecordType.crc || t === RecordType.metadata || (recs.length === 2 && t === RecordType.hardState), ...(t === RecordType.entry ? { entry: r.record.entry.index } : {}) });
        crc = r.crc;
        off = r.next;
      }
      for (const rec of recs.slice(-2).filter((x) => !x.head)) {
        for (const cutAt of [rec.off, rec.off + 5]) {
          const copy = await temps.make('skiff-crash-');
          await cp(root, copy, { recursive: true });
          await truncate(join(copy, 'wal', lastName), cutAt);
          const where = `${lastName} cut at ${cutAt} of ${buf.length} (${segs.length} segments, snapshot ${a.storage.snapshot().metadata.index})`;
          const b = await start(join(copy, 'wal'), join(copy, 'snap'), 1024).catch((err: unknown) => {
            throw new Error(`${where}: ${(err as Error).message}`);
          });
          // Every put whose entry lies before the cut is there again (a restarted single member commits it).
          const kept = Math.max(0, ...recs.filter((x) => x.off < rec.off && x.entry !== undefined).map((x) => x.entry!));
          for (const [key, index] of indexOf) {
            if (index <= kept) expect(b.store.read({ key }).kvs[0]?.value, `${key} at ${index}; ${where}`).toBe(key);
          }
          await b.wal.close();
          images++;
        }
      }
    };
    for (let i = 0; i < 40; i++) {
      await a.put(`/t/${i}`, `/t/${i}`);
      indexOf.set(`/t/${i}`, a.applied);
      await crashImages();
      if (i % 4 === 3) {
        await a.snapshot();
        await a.wal.purge();
        await a.snapshotter.purge(2);
        await crashImages();
      }
    }
    expect(images).toBeGreaterThan(150);
    await a.wal.close();
  }, 120_000);

  it('a snapshot from the leader stays usable when a torn tail takes the entries and hard state saved with it', async () => {
    const root = await temps.make();
    const walDir = join(root, 'wal');
    const snapshotter = await Snapshotter.open(join(root, 'snap'));
    const rec = await openRaftStorage(walDir, snapshotter);
    await persistReady(rec.wal, snapshotter, rec.storage, { hardState: hs(1, 10), entries: entries(1, 10) });
    const older = rec.storage.createSnapshot(5, { voters: [1, 2, 3] }, enc.encode('{"at":5}'));
    await saveLocalSnapshot(rec.wal, snapshotter, older);
    // One Ready holding the leader's snapshot and the entries appended after it.
    const snapshot = { metadata: { index: 50, term: 3, confState: { voters: [1, 2, 3] } }, data: enc.encode('{"at":50}') };
    await persistReady(rec.wal, snapshotter, rec.storage, { snapshot, hardState: hs(3, 52), entries: entries(51, 52, 3) });
    await rec.wal.close();
    const segs = await listSegments(walDir);
    const last = join(walDir, segs[segs.length - 1]!.name);
    const full = new Uint8Array(await readFile(last));
    const offsets: number[] = [];
    for (let off = 0, crc = 0; ; ) {
      const r = decodeRecord(full, off, crc);
      if (r.kind !== 'ok') break;
      offsets.push(off);
      crc = r.crc;
      off = r.next;
    }
    // Cut back to the final hard state, then to each entry: the snapshot at 50 is what recovery starts from.
    for (const [cut, want] of [
      [offsets[offsets.length - 1]!, [51, 52]],
      [offsets[offsets.length - 2]!, [51]],
      [offsets[offsets.length - 3]!, []],
    ] as const) {
      await writeFile(last, full.subarray(0, cut + 3));
      const again = await openRaftStorage(walDir, snapshotter);
      expect(again.snapshot?.metadata.index, `cut at ${cut}`).toBe(50);
      expect(again.entries.map((e) => e.index)).toEqual(want);
      expect(again.hardState).toEqual(hs(3, 50));
      await again.wal.close();
    }
  });

  it('buildMemoryStorage without a snapshot', () => {
    const st = buildMemoryStorage(undefined, hs(2, 3), entries(1, 4));
    expect(st.firstIndex()).toBe(1);
    expect(st.lastIndex()).toBe(4);
    expect(st.initialState().hardState).toEqual(hs(2, 3));
  });
});
