/**
 * Snapshot files, in the style of etcd's snap package. One file per snapshot, named `<term>-<index>.snap` (16 hex
 * digits each), holding the raft Snapshot (index, term, membership) and its data (the MVCC store's snapshot bytes)
 * under a CRC-32C:
 *
 *   0   8  magic "SKFSNAP1"
 *   8   4  body length, low 32 bits (u32 LE)
 *   12  4  body length, high bits
 *   16  4  crc32c(body)
 *   20  4  reserved, 0
 *   24     body: index u64, term u64, voter count u32, voters u64..., data
 *
 * Files are written atomically (tmp + fsync + rename + directory fsync). Loading walks files newest first, uses only
 * snapshots the WAL also recorded (so the log can be replayed from them), and renames unreadable ones to `.broken`.
 */
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Snapshot } from '../raft/messages.js';
import { crc32c, crc32cInSlices } from './crc32c.js';
import { SnapshotCorruptError } from './errors.js';
import { defaultIo, nullLogger, writeFully, type SyncIo, type WalLogger } from './io.js';
import { removeInSteps, writeInSyncedSlices } from './paced-io.js';
import type { WalSnapshot } from './record.js';

const MAGIC = new TextEncoder().encode('SKFSNAP1');
const HEADER = 24;
const TWO_32 = 0x1_0000_0000;
const SNAP_RE = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;

export function snapshotName(term: number, index: number): string {
  return `${term.toString(16).padStart(16, '0')}-${index.toString(16).padStart(16, '0')}.snap`;
}

export function parseSnapshotName(name: string): WalSnapshot | undefined {
  const m = SNAP_RE.exec(name);
  if (!m) return undefined;
  const term = Number.parseInt(m[1]!, 16);
  const index = Number.parseInt(m[2]!, 16);
  if (!Number.isSafeInteger(term) || !Number.isSafeInteger(index)) return undefined;
  return { index, term };
}

function putU64(dv: DataView, off: number, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`snap: ${v} is not a non-negative safe integer`);
  dv.setUint32(off, v % TWO_32, true);
  dv.setUint32(off + 4, Math.floor(v / TWO_32), true);
}

function getU64(dv: DataView, off: number): number {
  const hi = dv.getUint32(off + 4, true);
  if (hi > 0x1f_ffff) throw new RangeError('value out of range');
  return hi * TWO_32 + dv.getUint32(off, true);
}

/** The header and the body's fixed part (index, term, voters) of a snapshot file: what comes before its data. */
function encodeSnapshotHead(snap: Snapshot): Uint8Array {
  const voters = snap.metadata.confState.voters;
  const bodyLen = 20 + 8 * voters.length + snap.data.length;
  const head = new Uint8Array(HEADER + 20 + 8 * voters.length);
  const dv = new DataView(head.buffer);
  head.set(MAGIC, 0);
  putU64(dv, 8, bodyLen);
  let off = HEADER;
  putU64(dv, off, snap.metadata.index);
  putU64(dv, off + 8, snap.metadata.term);
  dv.setUint32(off + 16, voters.length, true);
  off += 20;
  for (const v of voters) {
    putU64(dv, off, v);
    off += 8;
  }
  return head;
}

/** The checksum of the body's fixed part, which the data's checksum continues. */
const headCrc = (head: Uint8Array): number => crc32c(0, head, HEADER, head.length);

/** Sets the head's CRC field to the body's checksum. */
function sealHead(head: Uint8Array, bodyCrc: number): void {
  new DataView(head.buffer, head.byteOffset, head.byteLength).setUint32(16, bodyCrc, true);
}

export function encodeSnapshotFile(snap: Snapshot): Uint8Array {
  const head = encodeSnapshotHead(snap);
  sealHead(head, crc32c(headCrc(head), snap.data));
  const out = new Uint8Array(head.length + snap.data.length);
  out.set(head, 0);
  out.set(snap.data, head.length);
  return out;
}

/** Parses and verifies a snapshot file's bytes; throws SnapshotCorruptError naming `file`. */
export function decodeSnapshotFile(buf: Uint8Array, file = '<buffer>'): Snapshot {
  const fail = (reason: string): never => {
    throw new SnapshotCorruptError(file, reason);
  };
  if (buf.length < HEADER) fail(`${buf.length} bytes is shorter than the header`);
  for (let i = 0; i < MAGIC.length; i++) if (buf[i] !== MAGIC[i]) fail('bad magic (not a Skiff snapshot file)');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let bodyLen = 0;
  try {
    bodyLen = getU64(dv, 8);
  } catch {
    fail('bad body length');
  }
  if (HEADER + bodyLen !== buf.length) fail(`file has ${buf.length - HEADER} body bytes, header says ${bodyLen} (truncated?)`);
  if (dv.getUint32(20, true) !== 0) fail('reserved header field is not zero');
  if (crc32c(0, buf, HEADER, buf.length) !== dv.getUint32(16, true)) fail('crc mismatch');
  if (bodyLen < 20) fail('body too short');
  try {
    const index = getU64(dv, HEADER);
    const term = getU64(dv, HEADER + 8);
    const n = dv.getUint32(HEADER + 16, true);
    if (20 + 8 * n > bodyLen) fail('voter list overruns the body');
    const voters: number[] = [];
    let off = HEADER + 20;
    for (let i = 0; i < n; i++, off += 8) voters.push(getU64(dv, off));
    return { metadata: { index, term, confState: { voters } }, data: buf.slice(off) };
  } catch (err) {
    if (err instanceof SnapshotCorruptError) throw err;
    return fail(err instanceof Error ? err.message : String(err));
  }
}

export interface SnapshotterOptions {
  io?: SyncIo;
  logger?: WalLogger;
}

export class Snapshotter {
  private readonly io: SyncIo;
  private readonly logger: WalLogger;

  constructor(
    readonly dir: string,
    options: SnapshotterOptions = {},
  ) {
    this.io = options.io ?? defaultIo;
    this.logger = options.logger ?? nullLogger;
  }

  /** Creates the directory if needed and removes temporary files left by a crash during save(). */
  static async open(dir: string, options?: SnapshotterOptions): Promise<Snapshotter> {
    await mkdir(dir, { recursive: true });
    for (const name of await readdir(dir)) {
      if (name.endsWith('.snap.tmp')) await rm(join(dir, name), { force: true });
    }
    return new Snapshotter(dir, options);
  }

  /**
   * Writes the snapshot atomically; returns its file name. An empty snapshot (index 0) is not written. `pace` is
   * awaited between slices of the checksum (see dutyCyclePacer).
   */
  async save(snap: Snapshot, pace?: () => Promise<void>): Promise<string | undefined> {
    if (snap.metadata.index === 0) return undefined;
    const name = snapshotName(snap.metadata.term, snap.metadata.index);
    // The file is the head and the data as they are, never copied into one buffer, and the data is checksummed a
    // megabyte at a time: tens of MB copied or checksummed in one go would stall the process for tens of ms.
    const head = encodeSnapshotHead(snap);
    sealHead(head, await crc32cInSlices(headCrc(head), snap.data, undefined, pace));
    const tmp = join(this.dir, `${name}.tmp`);
    const handle = await open(tmp, 'w');
    try {
      await writeFully(handle, head, 0);
      // In synced slices, not one fsync at the end: see paced-io.ts (the WAL's fsyncs would wait for all of it).
      await writeInSyncedSlices(handle, snap.data, head.length, this.io);
      if (snap.data.length === 0) await this.io.syncFile(handle);
      await handle.close();
      await rename(tmp, join(this.dir, name));
    } catch (err) {
      await handle.close().catch(() => undefined);
      await rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
    await this.io.syncDir(this.dir);
    return name;
  }

  /** Snapshot file names, newest (highest index, then term) first. */
  async names(): Promise<string[]> {
    const named: { name: string; pos: WalSnapshot }[] = [];
    for (const name of await readdir(this.dir)) {
      const pos = parseSnapshotName(name);
      if (pos) named.push({ name, pos });
    }
    named.sort((a, b) => b.pos.index - a.pos.index || b.pos.term - a.pos.term);
    return named.map((n) => n.name);
  }

  /** Reads and verifies one snapshot file. */
  async read(name: string): Promise<Snapshot> {
    const snap = decodeSnapshotFile(new Uint8Array(await readFile(join(this.dir, name))), name);
    const pos = parseSnapshotName(name);
    if (pos && (pos.index !== snap.metadata.index || pos.term !== snap.metadata.term)) {
      throw new SnapshotCorruptError(name, `holds index ${snap.metadata.index} term ${snap.metadata.term}, not what its name says`);
    }
    return snap;
  }

  /** The newest readable snapshot, whether or not a WAL recorded it. */
  load(): Promise<Snapshot | undefined> {
    return this.loadMatching(() => true);
  }

  /**
   * The newest readable snapshot among those the WAL recorded (`walSnapshots`, from Wal.readSnapshots), or
   * undefined if there is none (a new member, or every candidate broken). Unreadable candidates are renamed
   * to `<name>.broken` and skipped.
   */
  loadNewestAvailable(walSnapshots: readonly WalSnapshot[]): Promise<Snapshot | undefined> {
    const want = new Set(walSnapshots.map((s) => `${s.term}/${s.index}`));
    return this.loadMatching((pos) => want.has(`${pos.term}/${pos.index}`));
  }

  private async loadMatching(match: (pos: WalSnapshot) => boolean): Promise<Snapshot | undefined> {
    for (const name of await this.names()) {
      const pos = parseSnapshotName(name)!;
      if (!match(pos)) continue;
      try {
        return await this.read(name);
      } catch (err) {
        if (!(err instanceof SnapshotCorruptError)) throw err;
        this.logger.warn({ dir: this.dir, file: name, reason: err.reason }, 'snap: broken snapshot file; renaming to .broken');
        await rename(join(this.dir, name), join(this.dir, `${name}.broken`));
        await this.io.syncDir(this.dir);
      }
    }
    return undefined;
  }

  /** Removes all but the `retain` newest snapshot files. Returns the removed names. */
  async purge(retain: number): Promise<string[]> {
    const old = (await this.names()).slice(Math.max(1, retain));
    for (const name of old) await removeInSteps(join(this.dir, name), this.io);
    if (old.length > 0) await this.io.syncDir(this.dir);
    return old;
  }
}
