/**
 * The WAL's on-disk record format. Pure functions over bytes: no I/O here.
 *
 * Every record is one frame, 8-byte aligned so a frame header never straddles a 512-byte sector:
 *
 *   offset  size  field
 *   0       4     data length (u32 LE), excluding header and padding
 *   4       1     record type (RecordType)
 *   5       1     padding length (0..7) appended after the data
 *   6       1     format version (1)
 *   7       1     reserved, 0
 *   8       4     chained CRC-32C: crc32c(previous record's CRC, bytes[0..8) ++ data)
 *   12      4     header check: crc32c(0, bytes[0..12)), so a damaged header is recognised as such
 *   16      n     data
 *   16+n    pad   zero padding up to a multiple of 8
 *
 * The chained CRC is etcd's design: each record's checksum continues the previous record's, across segment files.
 * A record copied from another log, or records put in a different order, break the chain. Each segment opens with
 * a `crc` record whose data is the chain value the previous segment ended with, so a segment file from another
 * log (or a missing/swapped one) is caught at its first record.
 *
 * A header of 16 zero bytes never occurs in a valid log (type 0 is unused and the header check of zeros is not 0):
 * it marks the end of the written part of a preallocated segment.
 */
import type { Entry, EntryType, HardState } from '../raft/messages.js';
import { crc32c } from './crc32c.js';

export const HEADER_SIZE = 16;
export const FRAME_ALIGN = 8;
export const FORMAT_VERSION = 1;
/** Upper bound on one record's data, so a damaged length field cannot make the reader allocate gigabytes. */
export const MAX_RECORD_DATA = 512 * 1024 * 1024;

export const RecordType = {
  metadata: 1,
  entry: 2,
  hardState: 3,
  crc: 4,
  snapshot: 5,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

const TYPE_NAMES: Record<number, string> = { 1: 'metadata', 2: 'entry', 3: 'hardState', 4: 'crc', 5: 'snapshot' };

export function isRecordType(t: number): t is RecordType {
  return t >= 1 && t <= 5;
}

export function recordTypeName(t: number): string {
  return TYPE_NAMES[t] ?? `unknown(${t})`;
}

/** The raft position a snapshot covers, as recorded in the WAL (the snapshot's data lives in a .snap file). */
export interface WalSnapshot {
  index: number;
  term: number;
}

export type WalRecord =
  | { type: typeof RecordType.metadata; metadata: Uint8Array }
  | { type: typeof RecordType.entry; entry: Entry }
  | { type: typeof RecordType.hardState; hardState: HardState }
  | { type: typeof RecordType.crc; seed: number }
  | { type: typeof RecordType.snapshot; snapshot: WalSnapshot };

// ---- payload encodings ------------------------------------------------------------------------------------------

const TWO_32 = 0x1_0000_0000;

function putU64(dv: DataView, off: number, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`wal: ${v} is not a non-negative safe integer`);
  dv.setUint32(off, v % TWO_32, true);
  dv.setUint32(off + 4, Math.floor(v / TWO_32), true);
}

function getU64(dv: DataView, off: number): number | undefined {
  const lo = dv.getUint32(off, true);
  const hi = dv.getUint32(off + 4, true);
  if (hi > 0x1f_ffff) return undefined; // beyond Number.MAX_SAFE_INTEGER
  return hi * TWO_32 + lo;
}

const ENTRY_TYPES: readonly EntryType[] = ['normal', 'confChange'];

function payloadSize(rec: WalRecord): number {
  switch (rec.type) {
    case RecordType.metadata:
      return rec.metadata.length;
    case RecordType.entry:
      return 17 + rec.entry.data.length;
    case RecordType.hardState:
      return 24;
    case RecordType.crc:
      return 4;
    case RecordType.snapshot:
      return 16;
  }
}

function writePayload(rec: WalRecord, out: Uint8Array, off: number): void {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  switch (rec.type) {
    case RecordType.metadata:
      out.set(rec.metadata, off);
      return;
    case RecordType.entry: {
      const e = rec.entry;
      putU64(dv, off, e.term);
      putU64(dv, off + 8, e.index);
      const t = ENTRY_TYPES.indexOf(e.type);
      if (t < 0) throw new RangeError(`wal: unknown entry type ${String(e.type)}`);
      out[off + 16] = t;
      out.set(e.data, off + 17);
      return;
    }
    case RecordType.hardState:
      putU64(dv, off, rec.hardState.term);
      putU64(dv, off + 8, rec.hardState.vote);
      putU64(dv, off + 16, rec.hardState.commit);
      return;
    case RecordType.crc:
      dv.setUint32(off, rec.seed >>> 0, true);
      return;
    case RecordType.snapshot:
      putU64(dv, off, rec.snapshot.index);
      putU64(dv, off + 8, rec.snapshot.term);
      return;
  }
}

/** Parses a payload whose checksum already matched. Returns a reason string when it is malformed. */
function readPayload(type: RecordType, data: Uint8Array): WalRecord | string {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const need = (n: number): string | undefined =>
    data.length === n ? undefined : `${recordTypeName(type)} record has ${data.length} bytes of data, want ${n}`;
  switch (type) {
    case RecordType.metadata:
      return { type, metadata: data.slice() };
    case RecordType.entry: {
      if (data.length < 17) return `entry record has ${data.length} bytes of data, want at least 17`;
      const term = getU64(dv, 0);
      const index = getU64(dv, 8);
      const t = ENTRY_TYPES[data[16]!];
      if (term === undefined || index === undefined) return 'entry term or index out of range';
      if (t === undefined) return `unknown entry type ${data[16]}`;
      return { type, entry: { term, index, type: t, data: data.slice(17) } };
    }
    case RecordType.hardState: {
      const bad = need(24);
      if (bad) return bad;
      const term = getU64(dv, 0);
      const vote = getU64(dv, 8);
      const commit = getU64(dv, 16);
      if (term === undefined || vote === undefined || commit === undefined) return 'hard state out of range';
      return { type, hardState: { term, vote, commit } };
    }
    case RecordType.crc: {
      const bad = need(4);
      if (bad) return bad;
      return { type, seed: dv.getUint32(0, true) };
    }
    case RecordType.snapshot: {
      const bad = need(16);
      if (bad) return bad;
      const index = getU64(dv, 0);
      const term = getU64(dv, 8);
      if (index === undefined || term === undefined) return 'snapshot marker out of range';
      return { type, snapshot: { index, term } };
    }
  }
}

// ---- frames -----------------------------------------------------------------------------------------------------

/** Total frame size for `dataLen` bytes of data. */
export function frameSize(dataLen: number): number {
  return HEADER_SIZE + dataLen + padFor(dataLen);
}

function padFor(dataLen: number): number {
  return (FRAME_ALIGN - ((HEADER_SIZE + dataLen) % FRAME_ALIGN)) % FRAME_ALIGN;
}

/**
 * Encodes one record chained onto `prevCrc` (the previous record's CRC, 0 for the very first record of a log).
 * A `crc` record is chained onto its own seed, which the caller sets to `prevCrc`. Returns the frame and the new
 * chain value.
 */
export function encodeRecord(rec: WalRecord, prevCrc: number): { bytes: Uint8Array; crc: number } {
  const n = payloadSize(rec);
  if (n > MAX_RECORD_DATA) throw new RangeError(`wal: record of ${n} bytes exceeds the ${MAX_RECORD_DATA} limit`);
  const pad = padFor(n);
  const out = new Uint8Array(HEADER_SIZE + n + pad);
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  dv.setUint32(0, n, true);
  out[4] = rec.type;
  out[5] = pad;
  out[6] = FORMAT_VERSION;
  out[7] = 0;
  writePayload(rec, out, HEADER_SIZE);
  const seed = rec.type === RecordType.crc ? rec.seed >>> 0 : prevCrc;
  const crc = crc32c(crc32c(seed, out, 0, 8), out, HEADER_SIZE, HEADER_SIZE + n);
  dv.setUint32(8, crc, true);
  dv.setUint32(12, crc32c(0, out, 0, 12), true);
  return { bytes: out, crc };
}

/** Encodes several records in a row into one buffer. */
export function encodeRecords(recs: readonly WalRecord[], prevCrc: number): { bytes: Uint8Array; crc: number } {
  const parts: Uint8Array[] = [];
  let crc = prevCrc;
  let total = 0;
  for (const r of recs) {
    const enc = encodeRecord(r.type === RecordType.crc ? { type: RecordType.crc, seed: crc } : r, crc);
    parts.push(enc.bytes);
    total += enc.bytes.length;
    crc = enc.crc;
  }
  const bytes = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    bytes.set(p, off);
    off += p.length;
  }
  return { bytes, crc };
}

export interface FrameHeader {
  dataLen: number;
  type: RecordType;
  pad: number;
  crc: number;
  /** Offset just past this frame (header + data + padding). May lie beyond the buffer for a torn frame. */
  end: number;
}

/**
 * Parses and checks the frame header at `off`. Returns undefined when fewer than HEADER_SIZE bytes remain or the
 * header is not a well-formed one (header check, version, type, padding, length bound).
 */
export function readHeader(buf: Uint8Array, off: number): FrameHeader | undefined {
  if (off < 0 || off + HEADER_SIZE > buf.length) return undefined;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (dv.getUint32(off + 12, true) !== crc32c(0, buf, off, off + 12)) return undefined;
  const dataLen = dv.getUint32(off, true);
  const type = buf[off + 4]!;
  const pad = buf[off + 5]!;
  if (buf[off + 6] !== FORMAT_VERSION || buf[off + 7] !== 0) return undefined;
  if (!isRecordType(type) || dataLen > MAX_RECORD_DATA || pad !== padFor(dataLen)) return undefined;
  return { dataLen, type, pad, crc: dv.getUint32(off + 8, true), end: off + HEADER_SIZE + dataLen + pad };
}

export type DecodeResult =
  /** A valid record; `crc` is the new chain value, `next` the offset of the following frame. */
  | { kind: 'ok'; record: WalRecord; crc: number; next: number }
  /** Clean end of the buffer. */
  | { kind: 'eof' }
  /** A zero header: the unwritten (preallocated or zero-filled) part of a segment starts here. */
  | { kind: 'zero' }
  /** The frame cannot be read. `frameEnd` is set when the header was well-formed (so the frame's extent is known). */
  | { kind: 'bad'; reason: string; frameEnd?: number };

function allZero(buf: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (buf[i] !== 0) return false;
  return true;
}

/**
 * Decodes the frame at `off`, checking its CRC against the chain value `prevCrc`. For a `crc` record the CRC is
 * checked against the seed the record carries; whether that seed continues the chain is the caller's business
 * (the first segment read after a purge legitimately starts mid-chain).
 */
export function decodeRecord(buf: Uint8Array, off: number, prevCrc: number): DecodeResult {
  if (off === buf.length) return { kind: 'eof' };
  const headEnd = Math.min(buf.length, off + HEADER_SIZE);
  if (allZero(buf, off, headEnd)) return { kind: 'zero' };
  if (buf.length - off < HEADER_SIZE) return { kind: 'bad', reason: `torn header (${buf.length - off} bytes)` };
  const h = readHeader(buf, off);
  if (h === undefined) return { kind: 'bad', reason: 'malformed record header' };
  if (h.end > buf.length) {
    return {
      kind: 'bad',
      reason: `torn record: ${recordTypeName(h.type)} frame of ${h.end - off} bytes but only ${buf.length - off} remain`,
      frameEnd: h.end,
    };
  }
  const dataStart = off + HEADER_SIZE;
  const dataEnd = dataStart + h.dataLen;
  const data = buf.subarray(dataStart, dataEnd);
  let seed = prevCrc;
  if (h.type === RecordType.crc && h.dataLen === 4) {
    seed = new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true);
  }
  const crc = crc32c(crc32c(seed, buf, off, off + 8), data);
  if (crc !== h.crc) {
    return { kind: 'bad', reason: `crc mismatch (${recordTypeName(h.type)} record)`, frameEnd: h.end };
  }
  if (!allZero(buf, dataEnd, h.end)) return { kind: 'bad', reason: 'non-zero padding', frameEnd: h.end };
  const rec = readPayload(h.type, data);
  if (typeof rec === 'string') return { kind: 'bad', reason: rec, frameEnd: h.end };
  return { kind: 'ok', record: rec, crc, next: h.end };
}

/**
 * Offset of the first well-formed frame header at an aligned offset in [from, buf.length), or -1. Used after a
 * damaged record to decide whether it is the torn tail (nothing recognisable follows) or damage in the middle.
 */
export function findNextHeader(buf: Uint8Array, from: number, base = 0): number {
  let off = from + ((FRAME_ALIGN - ((from - base) % FRAME_ALIGN)) % FRAME_ALIGN);
  for (; off + HEADER_SIZE <= buf.length; off += FRAME_ALIGN) {
    if (readHeader(buf, off) !== undefined) return off;
  }
  return -1;
}
