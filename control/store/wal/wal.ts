/**
 * Write-ahead log over segment files, in the style of etcd's wal package.
 *
 * A directory holds segments named `<seq>-<index>.wal` (16 hex digits each): `seq` counts segments from 0 and
 * `index` is the first raft index the segment was opened for (last saved index + 1). Each segment starts with a
 * `crc` record carrying the chain value the previous segment ended with, then the metadata, then (after the first)
 * the current hard state, so any suffix of segments is readable on its own once older ones are purged. New segments
 * are written to a `.tmp` name, fsync'd and renamed into place, so a segment's head is never torn.
 *
 * Durability: `save()` resolves only after the records are written and fdatasync'd (unless told `sync: false`, for
 * a hard state whose commit index alone changed: it waits in the queue for the next synced save, or at most
 * LAZY_WRITE_MS, and is written in order in front of it; durable with the next fsync either way, as etcd's). Group commit:
 * saves issued while an fsync is in flight queue up and share the next write + fsync, so N concurrent saves cost far
 * fewer than N fsyncs. Records are encoded when their batch is written, so the chained CRC and segment cuts follow save order.
 *
 * Snapshots: a snapshot is usable only once the log recorded its marker. A torn tail can take the last segment's
 * last records, so a marker there is not a safe place to recover from: a local snapshot's marker is written with
 * `seal` (the segment is cut right after it, so the marker sits in a sealed segment whose damage is refused, never
 * repaired away), and releaseLockTo() frees only segments that such a sealed snapshot covers. A snapshot received
 * from the leader is recorded together with a hard state whose commit covers it, so the entries that follow it can
 * never be read as a gap after an older snapshot when the tail loses their hard state.
 *
 * Recovery (`Wal.open`): the tail of the LAST segment may be torn by a crash (a partial record, zero-filled or
 * preallocated space, a record whose CRC does not match and after which nothing recognisable follows); it is cut
 * back to the last valid record and logged. Damage anywhere else (an earlier segment, or a bad record followed by a
 * well-formed one, or a segment that does not continue the CRC chain) throws WalCorruptError naming file and
 * offset: acknowledged data is never dropped silently.
 */
import { mkdir, open, readdir, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { EMPTY_HARD_STATE, isEmptyHardState, type Entry, type HardState } from '../raft/messages.js';
import {
  WalClosedError,
  WalCorruptError,
  WalExistsError,
  WalFailedError,
  WalNotFoundError,
  WalSnapshotMismatchError,
  WalSnapshotNotFoundError,
} from './errors.js';
import { defaultIo, nullLogger, writeFully, type SyncIo, type WalLogger } from './io.js';
import { lockDir, type DirLock } from './lock.js';
import { removeInSteps } from './paced-io.js';
import {
  FRAME_ALIGN,
  RecordType,
  decodeRecord,
  encodeRecords,
  findNextHeader,
  recordTypeName,
  type WalRecord,
  type WalSnapshot,
} from './record.js';

export const DEFAULT_SEGMENT_SIZE = 64 * 1024 * 1024;

export interface WalOptions {
  /** A segment is cut once it reaches this many bytes (checked after each save). Default 64 MiB. */
  segmentSizeBytes?: number;
  /** Extend each new segment to segmentSizeBytes up front (a sparse reservation via ftruncate). Default false. */
  preallocate?: boolean;
  /** fsync hooks; tests inject counters, delays and failures. */
  io?: SyncIo;
  logger?: WalLogger;
  /** Told how long each fsync of a segment took, in seconds (etcd's etcd_disk_wal_fsync_duration_seconds). */
  onFsync?: (seconds: number) => void;
  /** Told the bytes of each write to a segment (etcd's etcd_disk_wal_write_bytes_total). */
  onWrite?: (bytes: number) => void;
}

export interface OpenOptions extends WalOptions {
  /** The snapshot the state machine is restored from; entries at or below its index are not returned. */
  fromSnapshot?: WalSnapshot;
}

/** What recovery cut off the tail of the last segment. */
export interface TailRepair {
  file: string;
  offset: number;
  droppedBytes: number;
  reason: string;
}

export interface OpenResult {
  wal: Wal;
  metadata: Uint8Array;
  /** The last hard state recorded (EMPTY_HARD_STATE if none). */
  hardState: HardState;
  /** Entries after the snapshot index, later records having replaced conflicting ones with the same index. */
  entries: Entry[];
  /** Set when a torn tail was truncated. */
  repaired?: TailRepair;
}

export interface Segment {
  seq: number;
  index: number;
  name: string;
}

const SEGMENT_RE = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;

export function segmentName(seq: number, index: number): string {
  return `${seq.toString(16).padStart(16, '0')}-${index.toString(16).padStart(16, '0')}.wal`;
}

export function parseSegmentName(name: string): { seq: number; index: number } | undefined {
  const m = SEGMENT_RE.exec(name);
  if (!m) return undefined;
  const seq = Number.parseInt(m[1]!, 16);
  const index = Number.parseInt(m[2]!, 16);
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(index)) return undefined;
  return { seq, index };
}

/** Segment files in `dir`, ordered by sequence number. */
export async function listSegments(dir: string): Promise<Segment[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const segs: Segment[] = [];
  for (const name of names) {
    const p = parseSegmentName(name);
    if (p) segs.push({ ...p, name });
  }
  return segs.sort((a, b) => a.seq - b.seq);
}

/**
 * Segments must have consecutive sequence numbers. Their indexes usually grow too, but need not: a follower whose
 * uncommitted suffix is overwritten across a cut opens the next segment at a lower index.
 */
function checkSequence(segs: readonly Segment[]): void {
  for (let i = 1; i < segs.length; i++) {
    const prev = segs[i - 1]!;
    const cur = segs[i]!;
    if (cur.seq !== prev.seq + 1) {
      throw new WalCorruptError(cur.name, 0, `segment sequence jumps from ${prev.seq} to ${cur.seq} (a segment file is missing)`);
    }
  }
}

function allZero(buf: Uint8Array, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

interface ScanResult {
  /** Chain value after the last valid record. */
  crc: number;
  /** Offset just past the last valid record of the last segment scanned. */
  end: number;
  /** Damage at the tail of the last segment (torn write or zero fill), not yet repaired. */
  tail?: TailRepair & { zeroFill: boolean };
}

/**
 * Reads `segs` in order, verifying every record and the CRC chain, handing records to `visit`. Damage is fatal
 * except at the tail of the last segment, which is reported in `tail`.
 */
async function scanSegments(
  dir: string,
  segs: readonly Segment[],
  visit: (rec: WalRecord, file: string, offset: number) => void,
): Promise<ScanResult> {
  let chain: number | undefined;
  let crc = 0;
  let end = 0;
  let tail: ScanResult['tail'];
  for (let si = 0; si < segs.length; si++) {
    const seg = segs[si]!;
    const last = si === segs.length - 1;
    const buf = new Uint8Array(await readFile(join(dir, seg.name)));
    let off = 0;
    let records = 0;
    for (;;) {
      const res = decodeRecord(buf, off, crc);
      if (res.kind === 'ok') {
        const rec = res.record;
        if (records === 0) {
          if (rec.type !== RecordType.crc) {
            throw new WalCorruptError(seg.name, off, `segment starts with a ${recordTypeName(rec.type)} record instead of a crc record`);
          }
          if (chain !== undefined && rec.seed !== chain) {
            throw new WalCorruptError(
              seg.name,
              off,
              `crc mismatch: segment continues chain ${hex(rec.seed)} but the previous segment ended at ${hex(chain)} ` +
                '(segment from another log, or segments swapped)',
            );
          }
        } else if (rec.type === RecordType.crc) {
          throw new WalCorruptError(seg.name, off, 'crc record in the middle of a segment');
        }
        visit(rec, seg.name, off);
        records++;
        crc = res.crc;
        off = res.next;
        continue;
      }
      if (res.kind === 'eof') break;
      // Damage or zero fill. A clean zero-filled remainder is the unwritten end of the segment.
      let reason: string;
      let scanFrom: number;
      if (res.kind === 'zero') {
        if (allZero(buf, off)) {
          if (records === 0) throw new WalCorruptError(seg.name, off, 'segment has no records');
          if (last) tail = { file: seg.name, offset: off, droppedBytes: buf.length - off, reason: 'zero-filled tail', zeroFill: true };
          // In an earlier segment, zeros after the last record are harmless: the next segment's crc record proves
          // nothing acknowledged is missing.
          break;
        }
        reason = 'zero-filled record header followed by non-zero bytes';
        scanFrom = off + FRAME_ALIGN;
      } else {
        reason = res.reason;
        scanFrom = res.frameEnd ?? off + FRAME_ALIGN;
      }
      if (!last) throw new WalCorruptError(seg.name, off, reason);
      if (records === 0) throw new WalCorruptError(seg.name, off, `${reason} in the segment header`);
      const next = scanFrom < buf.length ? findNextHeader(buf, scanFrom) : -1;
      if (next >= 0) throw new WalCorruptError(seg.name, off, `${reason}, followed by a valid record at offset ${next}`);
      tail = { file: seg.name, offset: off, droppedBytes: buf.length - off, reason, zeroFill: false };
      break;
    }
    if (records === 0) throw new WalCorruptError(seg.name, 0, 'segment is empty');
    chain = crc;
    end = off;
  }
  return { crc, end, ...(tail ? { tail } : {}) };
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

interface Pending {
  kind: 'save' | 'snapshot';
  /** False: write without waiting for an fsync of its own (a later synced batch covers it). */
  sync: boolean;
  hardState?: HardState;
  entries?: readonly Entry[];
  snapshot?: WalSnapshot;
  /** Cut a new segment right after this item (a sealed snapshot marker). */
  seal?: boolean;
  /** The caller would rather block the thread for this item's fsync than wait on the thread pool (see save). */
  inline?: boolean;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * How long a save with `sync: false` may wait in the queue for a synced one to carry it. Sequential writes then cost
 * one write() each instead of two (the commit index of one put rides with the next put's entries); losing the wait
 * to a crash only makes a restart replay up to an older commit index, which Raft then commits again.
 */
export const LAZY_WRITE_MS = 100;

export class Wal {
  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;
  /** Armed while the queue holds only `sync: false` items (see LAZY_WRITE_MS). */
  private lazyTimer: NodeJS.Timeout | undefined;
  private failed: WalFailedError | undefined;
  private closed = false;
  private releasable = 0;
  /** Index of the newest snapshot whose marker this Wal wrote into a segment it has since sealed. */
  private sealedSnapshot = 0;
  /** fsyncs issued on segment files (data syncs); exposed for metrics and tests. */
  syncCount = 0;
  /** Write batches flushed. */
  batchCount = 0;

  private constructor(
    readonly dir: string,
    private readonly lock: DirLock,
    private readonly opts: Required<WalOptions>,
    private readonly segments: Segment[],
    private handle: FileHandle,
    private offset: number,
    private crc: number,
    private enti: number,
    private state: HardState,
    private readonly metadata: Uint8Array,
  ) {}

  private static resolveOptions(o: WalOptions = {}): Required<WalOptions> {
    const size = o.segmentSizeBytes ?? DEFAULT_SEGMENT_SIZE;
    if (!Number.isSafeInteger(size) || size < 64) throw new RangeError(`wal: segmentSizeBytes ${size} is too small`);
    const ignore = (): void => {};
    return { segmentSizeBytes: size, preallocate: o.preallocate ?? false, io: o.io ?? defaultIo, logger: o.logger ?? nullLogger, onFsync: o.onFsync ?? ignore, onWrite: o.onWrite ?? ignore };
  }

  static async exists(dir: string): Promise<boolean> {
    return (await listSegments(dir)).length > 0;
  }

  /** Creates a new log in `dir` (made if missing; must hold no segments) and returns it open for writing. */
  static async create(dir: string, metadata: Uint8Array, options?: WalOptions): Promise<Wal> {
    const opts = Wal.resolveOptions(options);
    await mkdir(dir, { recursive: true });
    if (await Wal.exists(dir)) throw new WalExistsError(dir);
    const lock = await lockDir(dir);
    try {
      await removeTmp(dir);
      const records: WalRecord[] = [
        { type: RecordType.crc, seed: 0 },
        { type: RecordType.metadata, metadata },
        { type: RecordType.snapshot, snapshot: { index: 0, term: 0 } },
      ];
      const seg: Segment = { seq: 0, index: 0, name: segmentName(0, 0) };
      const { handle, size, crc } = await writeSegment(dir, seg.name, records, 0, opts);
      return new Wal(dir, lock, opts, [seg], handle, size, crc, 0, { ...EMPTY_HARD_STATE }, metadata.slice());
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  /**
   * Opens an existing log for appending, reading everything after `fromSnapshot` (default: index 0, the log's
   * start), which must be recorded in the log. Repairs a torn tail; refuses other damage with WalCorruptError.
   */
  static async open(dir: string, options: OpenOptions = {}): Promise<OpenResult> {
    const opts = Wal.resolveOptions(options);
    const snap = options.fromSnapshot ?? { index: 0, term: 0 };
    const segments = await listSegments(dir);
    if (segments.length === 0) throw new WalNotFoundError(dir);
    const lock = await lockDir(dir);
    try {
      await removeTmp(dir);
      checkSequence(segments);
      // The last segment starting at or below the snapshot. Failing that, a first retained segment starting right
      // after it will do: a segment named for index i was opened once everything before i was written.
      let start = -1;
      for (let i = 0; i < segments.length; i++) if (segments[i]!.index <= snap.index) start = i;
      if (start < 0 && segments[0]!.index === snap.index + 1) start = 0;
      if (start < 0) throw new WalSnapshotNotFoundError(snap.index, snap.term, 'is older than every retained segment');

      let metadata: Uint8Array | undefined;
      let hardState: HardState = { ...EMPTY_HARD_STATE };
      let entries: Entry[] = [];
      let enti = snap.index;
      let matched = false;
      const scan = await scanSegments(dir, segments.slice(start), (rec, file, offset) => {
        switch (rec.type) {
          case RecordType.metadata:
            if (metadata !== undefined && !bytesEqual(metadata, rec.metadata)) {
              throw new WalCorruptError(file, offset, 'metadata differs from the earlier segments');
            }
            metadata = rec.metadata;
            return;
          case RecordType.hardState:
            hardState = rec.hardState;
            return;
          case RecordType.snapshot:
            if (rec.snapshot.index === snap.index) {
              if (rec.snapshot.term !== snap.term) throw new WalSnapshotMismatchError(snap.index, snap.term, rec.snapshot.term);
              matched = true;
            }
            enti = Math.max(enti, rec.snapshot.index);
            return;
          case RecordType.entry: {
            const e = rec.entry;
            if (e.index > snap.index) {
              const pos = e.index - snap.index - 1;
              if (pos > entries.length) {
                throw new WalCorruptError(
                  file,
                  offset,
                  `entry ${e.index} leaves a gap after ${snap.index + entries.length} ` +
                    '(open from a newer snapshot recorded in the log)',
                );
              }
              if (pos < entries.length) entries = entries.slice(0, pos);
              entries.push(e);
            }
            enti = e.index;
            return;
          }
          case RecordType.crc:
            return;
        }
      });
      if (!matched) throw new WalSnapshotNotFoundError(snap.index, snap.term);

      const lastSeg = segments[segments.length - 1]!;
      const handle = await open(join(dir, lastSeg.name), 'r+');
      let repaired: TailRepair | undefined;
      try {
        if (scan.tail) {
          const { zeroFill, ...t } = scan.tail;
          await handle.truncate(t.offset);
          await opts.io.syncFile(handle);
          if (!zeroFill) {
            repaired = t;
            opts.logger.warn({ ...t, dir }, 'wal: truncated torn tail of the last segment back to the last valid record');
          } else if (!opts.preallocate) {
            opts.logger.info({ ...t, dir }, 'wal: truncated zero-filled tail of the last segment');
          }
        }
        if (opts.preallocate && scan.end < opts.segmentSizeBytes) await handle.truncate(opts.segmentSizeBytes);
      } catch (err) {
        await handle.close();
        throw err;
      }
      const wal = new Wal(dir, lock, opts, segments, handle, scan.end, scan.crc, enti, hardState, metadata ?? new Uint8Array(0));
      return { wal, metadata: metadata ?? new Uint8Array(0), hardState, entries, ...(repaired ? { repaired } : {}) };
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  /**
   * The snapshots recorded in the log whose index is covered by the last recorded commit, newest last, for
   * Snapshotter.loadNewestAvailable. Read-only: takes no lock and repairs nothing (a torn tail is just skipped).
   */
  static async readSnapshots(dir: string): Promise<WalSnapshot[]> {
    const segments = await listSegments(dir);
    if (segments.length === 0) throw new WalNotFoundError(dir);
    checkSequence(segments);
    const snaps: WalSnapshot[] = [];
    let commit = 0;
    await scanSegments(dir, segments, (rec) => {
      if (rec.type === RecordType.snapshot) snaps.push(rec.snapshot);
      else if (rec.type === RecordType.hardState) commit = rec.hardState.commit;
    });
    return snaps.filter((s) => s.index <= commit);
  }

  /** Index of the last entry written (or snapshot marker, if later). */
  get lastIndex(): number {
    return this.enti;
  }

  /** Segment file names currently in the directory, oldest first. */
  segmentNames(): string[] {
    return this.segments.map((s) => s.name);
  }

  /**
   * Appends `entries` (which may replace a suffix: the first index must be at most lastIndex + 1) and the hard
   * state (skipped when undefined or empty). Resolves once durable; with `sync: false` (etcd's MustSync false: only
   * the commit index changed, which a restart can recover) once written: with the next synced save, or on its own
   * after LAZY_WRITE_MS, durable with the next synced batch. `inline`: when every synced item of its batch asks for
   * it and the io can (SyncIo.syncFileNow), the batch's fsync blocks the thread instead of going through the thread
   * pool: for a lone write, with nothing else for the thread to do meanwhile, that saves two thread wake-ups.
   */
  save(hardState: HardState | undefined, entries: readonly Entry[], options: { sync?: boolean; inline?: boolean } = {}): Promise<void> {
    return this.enqueue({
      kind: 'save',
      sync: options.sync ?? true,
      ...(hardState ? { hardState } : {}),
      entries,
      ...(options.inline === true ? { inline: true } : {}),
    });
  }

  /**
   * Records that a snapshot at this position exists (save the .snap file first). Resolves once durable. `hardState`
   * is written right after the marker, in the same write (its commit must be at least the snapshot's index: the
   * marker is only usable when a recorded commit covers it). `seal` cuts a new segment after the marker, which
   * makes the snapshot one releaseLockTo() may purge up to.
   */
  saveSnapshot(snapshot: WalSnapshot, options: { hardState?: HardState; seal?: boolean } = {}): Promise<void> {
    const hs = options.hardState;
    if (hs !== undefined && hs.commit < snapshot.index) {
      return Promise.reject(new RangeError(`wal: hard state commit ${hs.commit} does not cover snapshot ${snapshot.index}`));
    }
    return this.enqueue({
      kind: 'snapshot',
      sync: true,
      snapshot: { index: snapshot.index, term: snapshot.term },
      ...(hs !== undefined && !isEmptyHardState(hs) ? { hardState: hs } : {}),
      ...(options.seal === true ? { seal: true } : {}),
    });
  }

  private enqueue(p: Omit<Pending, 'resolve' | 'reject'>): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.closed) return Promise.reject(new WalClosedError());
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ ...p, resolve, reject });
      if (p.sync) this.kick();
      else this.kickLater();
    });
  }

  private kick(): void {
    if (this.lazyTimer !== undefined) {
      clearTimeout(this.lazyTimer);
      this.lazyTimer = undefined;
    }
    if (this.flushing) return;
    this.flushing = this.flushLoop().finally(() => {
      this.flushing = undefined;
      if (this.urgent()) this.kick();
      else if (this.queue.length > 0) this.kickLater();
    });
  }

  /** Flushes `sync: false` items with the next synced save, or after LAZY_WRITE_MS (at once when closing). */
  private kickLater(): void {
    if (this.closed || this.failed) {
      this.kick();
      return;
    }
    if (this.lazyTimer !== undefined || this.flushing) return;
    this.lazyTimer = setTimeout(() => {
      this.lazyTimer = undefined;
      this.kick();
    }, LAZY_WRITE_MS);
    this.lazyTimer.unref();
  }

  private urgent(): boolean {
    for (const p of this.queue) if (p.sync) return true;
    return false;
  }

  private async flushLoop(): Promise<void> {
    // Let every save issued in the current tick join the first batch.
    await Promise.resolve();
    // Only `sync: false` items left: they wait for the next synced save (kickLater), unless a timer or close asked.
    let forced = !this.urgent();
    while (this.queue.length > 0 && (forced || this.urgent())) {
      forced = false;
      const batch = this.queue;
      this.queue = [];
      if (this.failed) {
        for (const p of batch) p.reject(this.failed);
        continue;
      }
      let done: Pending[];
      try {
        done = await this.writeBatch(batch);
      } catch (err) {
        this.failed = new WalFailedError(err);
        this.opts.logger.warn({ err, dir: this.dir }, 'wal: write or fsync failed; refusing further writes');
        for (const p of batch) p.reject(this.failed);
        continue;
      }
      for (const p of done) p.resolve();
    }
  }

  /**
   * Validates a pending item and encodes its records onto the CRC chain, then advances crc/enti/state. Throws
   * (changing nothing) for invalid input. Returns undefined when there is nothing to write.
   */
  private encodeItem(p: Pending): Uint8Array | undefined {
    const recs: WalRecord[] = [];
    let enti = this.enti;
    if (p.kind === 'snapshot') {
      const s = p.snapshot!;
      recs.push({ type: RecordType.snapshot, snapshot: s });
      enti = Math.max(enti, s.index);
      if (p.hardState) recs.push({ type: RecordType.hardState, hardState: { ...p.hardState } });
    } else {
      const ents = p.entries ?? [];
      if (ents.length > 0) {
        const first = ents[0]!.index;
        if (first > this.enti + 1) {
          throw new RangeError(`wal: entry ${first} would leave a gap after the last saved index ${this.enti}`);
        }
        for (let i = 1; i < ents.length; i++) {
          if (ents[i]!.index !== first + i) throw new RangeError(`wal: entries are not contiguous at ${ents[i]!.index}`);
        }
        for (const entry of ents) recs.push({ type: RecordType.entry, entry });
        enti = ents[ents.length - 1]!.index;
      }
      const hs = p.hardState;
      if (hs && !isEmptyHardState(hs)) recs.push({ type: RecordType.hardState, hardState: { ...hs } });
    }
    if (recs.length === 0) return undefined;
    const enc = encodeRecords(recs, this.crc); // throws RangeError on values that are not safe integers
    this.crc = enc.crc;
    this.enti = enti;
    const last = recs[recs.length - 1]!;
    if (last.type === RecordType.hardState) this.state = last.hardState;
    return enc.bytes;
  }

  /** Writes and fsyncs one batch, cutting segments as they fill. Returns the items that were written. */
  private async writeBatch(batch: Pending[]): Promise<Pending[]> {
    const done: Pending[] = [];
    let chunks: Uint8Array[] = [];
    let bytes = 0;
    let dirty = false;
    let mustSync = false;
    // Inline (blocking) fsync only when every item that needs one asked for it.
    let inline = true;
    const writeChunks = async (): Promise<void> => {
      if (bytes === 0) return;
      const buf = chunks.length === 1 ? chunks[0]! : concat(chunks, bytes);
      await writeFully(this.handle, buf, this.offset);
      this.opts.onWrite(bytes);
      this.offset += bytes;
      chunks = [];
      bytes = 0;
      dirty = true;
    };
    for (const p of batch) {
      let enc: Uint8Array | undefined;
      try {
        enc = this.encodeItem(p);
      } catch (err) {
        p.reject(err);
        continue;
      }
      done.push(p);
      if (enc === undefined) continue;
      if (p.sync) {
        mustSync = true;
        if (p.inline !== true) inline = false;
      }
      chunks.push(enc);
      bytes += enc.length;
      if (p.seal === true || this.offset + bytes >= this.opts.segmentSizeBytes) {
        await writeChunks();
        await this.cut();
        dirty = false;
        mustSync = false;
        if (p.seal === true) this.sealedSnapshot = Math.max(this.sealedSnapshot, p.snapshot!.index);
      }
    }
    await writeChunks();
    if (dirty && mustSync) {
      this.syncCount++;
      const io = this.opts.io;
      const started = performance.now();
      if (inline && io.syncFileNow !== undefined) io.syncFileNow(this.handle);
      else await io.syncFile(this.handle);
      this.opts.onFsync((performance.now() - started) / 1000);
    }
    this.batchCount++;
    return done;
  }

  /** Seals the current segment (trim, fsync, close) and starts the next one. */
  private async cut(): Promise<void> {
    const cutStarted = performance.now();
    if (this.opts.preallocate) await this.handle.truncate(this.offset);
    this.syncCount++;
    const started = performance.now();
    await this.opts.io.syncFile(this.handle);
    this.opts.onFsync((performance.now() - started) / 1000);
    await this.handle.close();
    const last = this.segments[this.segments.length - 1]!;
    const seg: Segment = { seq: last.seq + 1, index: this.enti + 1, name: segmentName(last.seq + 1, this.enti + 1) };
    const records: WalRecord[] = [
      { type: RecordType.crc, seed: this.crc },
      { type: RecordType.metadata, metadata: this.metadata },
    ];
    if (!isEmptyHardState(this.state)) records.push({ type: RecordType.hardState, hardState: this.state });
    const { handle, size, crc } = await writeSegment(this.dir, seg.name, records, this.crc, this.opts);
    this.syncCount++;
    this.handle = handle;
    this.offset = size;
    this.crc = crc;
    this.segments.push(seg);
    // How long writes queued behind the cut waited for it (its fsyncs and the new segment's creation).
    this.opts.logger.info({ dir: this.dir, segment: seg.name, ms: Math.round((performance.now() - cutStarted) * 10) / 10 }, 'wal: cut a new segment');
  }

  /**
   * Marks segments that hold nothing past `index` as removable by purge(): all before the last segment that starts
   * at or below `index`. Call once a snapshot at `index` is durable (its .snap file and WAL marker saved). Only a
   * snapshot whose marker was sealed (saveSnapshot with `seal`) releases anything: `index` is capped at the newest
   * such one, so the retained segments always hold a marker no torn tail can take.
   */
  releaseLockTo(index: number): void {
    index = Math.min(index, this.sealedSnapshot);
    let keep = 0;
    for (let i = 0; i < this.segments.length; i++) if (this.segments[i]!.index <= index) keep = i;
    this.releasable = Math.max(this.releasable, Math.min(keep, this.segments.length - 1));
  }

  /** Deletes released segments. Returns the removed file names. */
  async purge(): Promise<string[]> {
    if (this.failed) throw this.failed;
    const n = this.releasable;
    if (n === 0) return [];
    const gone = this.segments.slice(0, n);
    // Step by step: removing a 64 MB segment at once held the next fsync of the live one for ~20 ms (paced-io.ts).
    for (const s of gone) await removeInSteps(join(this.dir, s.name), this.opts.io);
    this.segments.splice(0, n);
    this.releasable = 0;
    await this.opts.io.syncDir(this.dir);
    this.opts.logger.info({ dir: this.dir, removed: gone.map((s) => s.name) }, 'wal: purged segments');
    return gone.map((s) => s.name);
  }

  /** Waits for pending saves, syncs, closes the segment and releases the directory lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.queue.length > 0) this.kick();
    while (this.flushing) await this.flushing.catch(() => undefined);
    try {
      if (!this.failed) await this.opts.io.syncFile(this.handle);
    } finally {
      await this.handle.close().catch(() => undefined);
      await this.lock.release();
    }
  }
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

async function removeTmp(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (name.endsWith('.wal.tmp')) await rm(join(dir, name), { force: true });
  }
}

/**
 * Writes a new segment's head atomically: to `<name>.tmp`, fsync, rename, fsync the directory. Returns the open
 * handle positioned for appends, the bytes written and the chain value after them.
 */
async function writeSegment(
  dir: string,
  name: string,
  records: readonly WalRecord[],
  prevCrc: number,
  opts: Required<WalOptions>,
): Promise<{ handle: FileHandle; size: number; crc: number }> {
  const enc = encodeRecords(records, prevCrc);
  const tmp = join(dir, `${name}.tmp`);
  const handle = await open(tmp, 'w+');
  try {
    if (opts.preallocate && enc.bytes.length < opts.segmentSizeBytes) await handle.truncate(opts.segmentSizeBytes);
    await writeFully(handle, enc.bytes, 0);
    await opts.io.syncFile(handle);
    await rename(tmp, join(dir, name));
    await opts.io.syncDir(dir);
  } catch (err) {
    await handle.close().catch(() => undefined);
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  return { handle, size: enc.bytes.length, crc: enc.crc };
}
