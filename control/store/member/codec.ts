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
import { BinaryReader, BinaryWriter } from './binary.js';
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

/**
 * Roughly how many bytes of snapshot one slice of encoding makes before the event loop runs. Measured with 15,000
 * pod-sized entries (28 MB): 2 MB slices held the loop for 10 ms each (30 ms the first), 512 KB slices for under
 * 3 ms, and the whole encoding took no longer (112 against 143 ms).
 */
export const SNAPSHOT_SLICE_BYTES = 512 * 1024;

/**
 * SnapshotData in the binary format, made a slice at a time with the event loop let go in between: with 5,000 pods
 * and their history the store is tens of MB, more than would be fair to hold every request the process serves for.
 * Its size is counted first and the bytes written straight into one buffer of that size, left unfilled until then:
 * its pages are faulted in slice by slice as they are written (a fresh buffer of tens of MB costs about 50 ms of page
 * faults on a VM here, which filling or copying it at once would take in a single stall).
 */
export async function encodeSnapshotDataInSlices(applied: number, mvcc: StoreSnapshot, sliceBytes = SNAPSHOT_SLICE_BYTES, pace: () => Promise<void> = nextTurn): Promise<Uint8Array> {
  const { entries, ...rest } = mvcc;
  const header = encoder.encode(JSON.stringify({ format: SNAPSHOT_DATA_FORMAT, applied, mvcc: rest }));
  let size = MAGIC.length + 4 + header.length + 4;
  let counted = 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as SnapshotEntry;
    const before = size;
    size += 1 + 8 + 8 + 4 + Buffer.byteLength(e[2]);
    if (e.length !== 3) size += 4 + Buffer.byteLength(e[3]) + 24;
    // Counting reads every value too: in slices as well, about eight times as many bytes to a slice as writing.
    counted += size - before;
    if (counted >= sliceBytes * 8 && i < entries.length - 1) {
      counted = 0;
      await pace();
    }
  }
  const w = new BinaryWriter(size);
  w.buf.set(MAGIC, 0);
  w.off = MAGIC.length;
  w.bytes(header);
  w.u32(entries.length);
  let sliceStart = w.off;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as SnapshotEntry;
    w.u8(e.length === 3 ? 0 : 1);
    w.num(e[0]);
    w.num(e[1]);
    w.str(e[2]);
    if (e.length !== 3) {
      w.str(e[3]);
      w.num(e[4]);
      w.num(e[5]);
      w.num(e[6]);
    }
    if (w.off - sliceStart >= sliceBytes && i < entries.length - 1) {
      sliceStart = w.off;
      await pace();
    }
  }
  if (w.off !== size) throw new Error(`member: snapshot encoding wrote ${w.off} bytes of the ${size} counted`);
  return w.buf;
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
  const r = new BinaryReader(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), (m) => new Error(`member: snapshot data: ${m}`));
  r.off = MAGIC.length;
  const header = JSON.parse(decoder.decode(r.bytes())) as { format?: unknown; applied?: unknown; mvcc?: Omit<StoreSnapshot, 'entries'> } | null;
  if (header === null || typeof header !== 'object' || header.format !== SNAPSHOT_DATA_FORMAT || typeof header.applied !== 'number' || typeof header.mvcc !== 'object' || header.mvcc === null) {
    throw new Error(`member: snapshot data header is not in format ${SNAPSHOT_DATA_FORMAT}`);
  }
  const count = r.u32();
  const entries: SnapshotEntry[] = [];
  for (let i = 0; i < count; i++) {
    const kind = r.u8();
    const revision = r.int();
    const sub = r.int();
    const key = r.str();
    if (kind === 0) entries.push([revision, sub, key]);
    else if (kind === 1) entries.push([revision, sub, key, r.str(), r.int(), r.int(), r.int()]);
    else throw new Error(`member: snapshot data: entry ${i} has unknown kind ${kind}`);
  }
  if (!r.done()) throw new Error('member: snapshot data: bytes after the last entry');
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
