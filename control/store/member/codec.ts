/**
 * Wire and log formats of a member:
 *
 * - Raft log entries (type 'normal') carry `{"id": requestId, "term": proposerTerm, "cmd": Command}` as UTF-8 JSON. The id lets the
 *   member that proposed the entry find the waiting caller when it applies it (every member applies every entry).
 *   An empty entry is the no-op a new leader appends.
 * - Raft snapshots carry the MVCC state in a binary format (see encodeSnapshotDataInSlices); snapshots of earlier
 *   releases, JSON `{"format": "skiff.member/v1", "applied": index, "mvcc": StoreSnapshot}`, are still read.
 * - Messages between members are JSON with every Uint8Array (entry data, snapshot data) as {"$b64": "..."}.
 */
import type { Command } from '../mvcc/commands.js';
import type { SnapshotEntry, StoreSnapshot } from '../mvcc/snapshot.js';
import type { Message } from '../raft/messages.js';
import { NETWORK_MESSAGE_TYPES } from './wire.js';
import { nextTurn } from '../../../lib/event-loop.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface EntryPayload {
  readonly id: string;
  /**
   * The proposer's Raft term when it proposed. Every member skips (does not apply) an entry whose Raft term
   * differs: a proposal only takes effect if the leader of the term it was made in appended it. So once a member
   * applies any entry of a later term, its pending proposals of earlier terms are known to be lost (retryable).
   */
  readonly term?: number;
  readonly cmd: Command;
}

export function encodeEntry(payload: EntryPayload): Uint8Array {
  return encoder.encode(JSON.stringify(payload));
}

/** Undefined for the empty no-op entry. Throws on bytes that are not a payload (a corrupt or foreign log). */
export function decodeEntry(data: Uint8Array): EntryPayload | undefined {
  if (data.length === 0) return undefined;
  const parsed: unknown = JSON.parse(decoder.decode(data));
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    typeof (parsed as { id?: unknown }).id !== 'string' ||
    typeof (parsed as { cmd?: unknown }).cmd !== 'object' ||
    (parsed as { cmd?: unknown }).cmd === null
  ) {
    throw new Error(`member: malformed log entry ${decoder.decode(data).slice(0, 200)}`);
  }
  return parsed as EntryPayload;
}

/** The JSON snapshot format of earlier releases: still read, no longer written. */
export const SNAPSHOT_DATA_FORMAT_JSON = 'skiff.member/v1';
export const SNAPSHOT_DATA_FORMAT = 'skiff.member/v2';

export interface SnapshotData {
  readonly format: typeof SNAPSHOT_DATA_FORMAT | typeof SNAPSHOT_DATA_FORMAT_JSON;
  /** The Raft index the MVCC state reflects (equals the snapshot's metadata.index). */
  readonly applied: number;
  readonly mvcc: StoreSnapshot;
}

/**
 * The binary snapshot: MAGIC, a u32-length-prefixed JSON header ({format, applied, mvcc: everything but entries}),
 * a u32 entry count, then each entry: u8 kind (0 deletion, 1 put), f64 revision, f64 sub, key, and for a put: value,
 * f64 createRevision, f64 version, f64 lease; strings as u32 byte length + UTF-8. Values are the stored objects' JSON:
 * copied as they are, where JSON would escape every quote in them (four times the encoding time).
 */
const MAGIC = encoder.encode('SKSNAP02');

/** Roughly how many bytes of snapshot one slice of encoding makes before the event loop runs (a few ms of work). */
export const SNAPSHOT_SLICE_BYTES = 2 * 1024 * 1024;

/** Bytes copied into the snapshot's buffer between two turns of the event loop. */
const SNAPSHOT_COPY_SLICE_BYTES = 1024 * 1024;

const CHUNK_BYTES = 1024 * 1024;

/** Appends snapshot fields to chunks of a fixed size, a new chunk when the next field might not fit. */
class ChunkWriter {
  readonly parts: Uint8Array[] = [];
  private buf = new Uint8Array(CHUNK_BYTES);
  private view = new DataView(this.buf.buffer);
  private off = 0;
  private written = 0;

  /** Bytes encoded so far. */
  get position(): number {
    return this.written + this.off;
  }

  /** Makes sure `bytes` more fit in the current chunk: a fresh one (of at least that size) when they might not. */
  reserve(bytes: number): void {
    if (this.off + bytes <= this.buf.length) return;
    this.flush();
    this.buf = new Uint8Array(Math.max(CHUNK_BYTES, bytes));
    this.view = new DataView(this.buf.buffer);
  }

  u8(v: number): void {
    this.buf[this.off] = v;
    this.off += 1;
  }

  u32(v: number): void {
    this.view.setUint32(this.off, v);
    this.off += 4;
  }

  f64(v: number): void {
    this.view.setFloat64(this.off, v);
    this.off += 8;
  }

  /** A string; the caller reserved 4 + 3 × its length (UTF-8's worst case for UTF-16 input). */
  str(v: string): void {
    const { written } = encoder.encodeInto(v, this.buf.subarray(this.off + 4));
    this.view.setUint32(this.off, written);
    this.off += 4 + written;
  }

  /** Ends the current chunk: what it holds becomes a part (the final copy frees the rest of its buffer). */
  flush(): void {
    if (this.off === 0) return;
    this.parts.push(this.buf.subarray(0, this.off));
    this.written += this.off;
    this.buf = new Uint8Array(0);
    this.view = new DataView(this.buf.buffer);
    this.off = 0;
  }
}

/**
 * SnapshotData in the binary format, made a slice at a time with the event loop let go in between: with 5,000 pods
 * and their history the store is tens of MB, more than would be fair to hold every request the process serves for.
 * The parts are then copied into one buffer a megabyte at a time: a fresh buffer of tens of MB costs its page faults
 * on first touch (about 50 ms for 15 MB on a VM here), which one Buffer.concat would take in a single stall.
 */
export async function encodeSnapshotDataInSlices(applied: number, mvcc: StoreSnapshot, sliceBytes = SNAPSHOT_SLICE_BYTES): Promise<Uint8Array> {
  const { entries, ...rest } = mvcc;
  const header = encoder.encode(JSON.stringify({ format: SNAPSHOT_DATA_FORMAT, applied, mvcc: rest }));
  const w = new ChunkWriter();
  w.parts.push(MAGIC);
  const lengths = new Uint8Array(4);
  new DataView(lengths.buffer).setUint32(0, header.length);
  w.parts.push(lengths, header);
  w.reserve(4);
  w.u32(entries.length);
  let sliceStart = 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as SnapshotEntry;
    const key = e[2];
    if (e.length === 3) {
      w.reserve(17 + 4 + key.length * 3);
      w.u8(0);
      w.f64(e[0]);
      w.f64(e[1]);
      w.str(key);
    } else {
      w.reserve(17 + 8 + (key.length + e[3].length) * 3 + 24);
      w.u8(1);
      w.f64(e[0]);
      w.f64(e[1]);
      w.str(key);
      w.str(e[3]);
      w.f64(e[4]);
      w.f64(e[5]);
      w.f64(e[6]);
    }
    if (w.position - sliceStart >= sliceBytes && i < entries.length - 1) {
      sliceStart = w.position;
      await nextTurn();
    }
  }
  w.flush();
  let total = 0;
  for (const p of w.parts) total += p.length;
  const out = new Uint8Array(total);
  let offset = 0;
  let sinceTurn = 0;
  for (const p of w.parts) {
    if (sinceTurn >= SNAPSHOT_COPY_SLICE_BYTES) {
      await nextTurn();
      sinceTurn = 0;
    }
    out.set(p, offset);
    offset += p.length;
    sinceTurn += p.length;
  }
  return out;
}

/** Reads the binary format; throws on bytes that end early or run on (a truncated or foreign snapshot). */
class SnapshotReader {
  private off = 0;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(n: number): void {
    if (this.off + n > this.bytes.length) throw new Error('member: snapshot data ends early');
  }

  skip(n: number): void {
    this.need(n);
    this.off += n;
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.off++] as number;
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.off);
    this.off += 4;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.off);
    this.off += 8;
    return v;
  }

  str(): string {
    const n = this.u32();
    this.need(n);
    const v = decoder.decode(this.bytes.subarray(this.off, this.off + n));
    this.off += n;
    return v;
  }

  end(): void {
    if (this.off !== this.bytes.length) throw new Error('member: snapshot data runs on past its entries');
  }
}

function hasMagic(bytes: Uint8Array): boolean {
  if (bytes.length < MAGIC.length) return false;
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) return false;
  return true;
}

/** Snapshot data in either format; the MVCC state's own shape is checked by the store that restores it. */
export function decodeSnapshotData(bytes: Uint8Array): SnapshotData {
  if (!hasMagic(bytes)) {
    const parsed = JSON.parse(decoder.decode(bytes)) as Partial<SnapshotData> | null;
    if (parsed === null || typeof parsed !== 'object' || parsed.format !== SNAPSHOT_DATA_FORMAT_JSON || parsed.mvcc === undefined) {
      throw new Error(`member: snapshot data is in neither format ${SNAPSHOT_DATA_FORMAT} nor ${SNAPSHOT_DATA_FORMAT_JSON}`);
    }
    return parsed as SnapshotData;
  }
  const r = new SnapshotReader(bytes);
  r.skip(MAGIC.length);
  const headerLength = r.u32();
  r.skip(headerLength);
  const headerStart = MAGIC.length + 4;
  const header = JSON.parse(decoder.decode(bytes.subarray(headerStart, headerStart + headerLength))) as {
    format?: unknown;
    applied?: unknown;
    mvcc?: Omit<StoreSnapshot, 'entries'>;
  } | null;
  if (header === null || typeof header !== 'object' || header.format !== SNAPSHOT_DATA_FORMAT || typeof header.applied !== 'number' || typeof header.mvcc !== 'object' || header.mvcc === null) {
    throw new Error(`member: snapshot data header is not in format ${SNAPSHOT_DATA_FORMAT}`);
  }
  const count = r.u32();
  const entries: SnapshotEntry[] = [];
  for (let i = 0; i < count; i++) {
    const kind = r.u8();
    const revision = r.f64();
    const sub = r.f64();
    const key = r.str();
    if (kind === 0) entries.push([revision, sub, key]);
    else if (kind === 1) entries.push([revision, sub, key, r.str(), r.f64(), r.f64(), r.f64()]);
    else throw new Error(`member: snapshot entry ${i} has unknown kind ${kind}`);
  }
  r.end();
  return { format: SNAPSHOT_DATA_FORMAT, applied: header.applied, mvcc: { ...header.mvcc, entries } };
}

function replacer(this: unknown, _key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return { $b64: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const b64 = (value as { $b64?: unknown }).$b64;
    if (typeof b64 === 'string' && Object.keys(value).length === 1) {
      const buf = Buffer.from(b64, 'base64');
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    }
  }
  return value;
}

export function encodeMessages(messages: readonly Message[]): string {
  return JSON.stringify(messages, replacer);
}

/** The types that travel between members (the binary stream and the JSON fallback accept the same ones). */
const MESSAGE_TYPES = new Set<string>(NETWORK_MESSAGE_TYPES);

/** Parses a batch received from a peer; drops anything that is not a well-formed network message. */
export function decodeMessages(text: string): Message[] {
  const parsed: unknown = JSON.parse(text, reviver);
  if (!Array.isArray(parsed)) throw new Error('member: message batch is not an array');
  return parsed.filter(
    (m: unknown): m is Message =>
      typeof m === 'object' &&
      m !== null &&
      MESSAGE_TYPES.has((m as { type?: unknown }).type as string) &&
      Number.isSafeInteger((m as { from?: unknown }).from) &&
      Number.isSafeInteger((m as { to?: unknown }).to) &&
      Number.isSafeInteger((m as { term?: unknown }).term),
  );
}

/** JSON with Uint8Arrays, for RPC bodies. */
export function encodeJson(value: unknown): string {
  return JSON.stringify(value, replacer);
}

export function decodeJson(text: string): unknown {
  return JSON.parse(text, reviver);
}
