/**
 * Wire and log formats of a member:
 *
 * - Raft log entries (type 'normal') carry `{"id": requestId, "term": proposerTerm, "cmd": Command}` as UTF-8 JSON. The id lets the
 *   member that proposed the entry find the waiting caller when it applies it (every member applies every entry).
 *   An empty entry is the no-op a new leader appends.
 * - Raft snapshots carry `{"format": "skiff.member/v1", "applied": index, "mvcc": StoreSnapshot}`.
 * - Messages between members are JSON with every Uint8Array (entry data, snapshot data) as {"$b64": "..."}.
 */
import type { Command } from '../mvcc/commands.js';
import type { StoreSnapshot } from '../mvcc/snapshot.js';
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

export const SNAPSHOT_DATA_FORMAT = 'skiff.member/v1';

export interface SnapshotData {
  readonly format: typeof SNAPSHOT_DATA_FORMAT;
  /** The Raft index the MVCC state reflects (equals the snapshot's metadata.index). */
  readonly applied: number;
  readonly mvcc: StoreSnapshot;
}

/** Roughly how much JSON (in UTF-16 code units) one slice of snapshot encoding makes before the event loop runs. */
export const SNAPSHOT_SLICE_CHARS = 256 * 1024;

/** Bytes copied into the snapshot's buffer between two turns of the event loop. */
const SNAPSHOT_COPY_SLICE_BYTES = 1024 * 1024;

/**
 * The JSON of SnapshotData ({format, applied, mvcc}), made a slice at a time with the event loop let go in between:
 * with 5,000 pods and their history the whole store is tens of MB of JSON, a quarter of a second of encoding that
 * would otherwise stall every request the process serves. A slice ends once it holds about `sliceChars` of JSON
 * (a few ms of work), whatever the size of the values. The parts are then copied into one buffer a megabyte at a
 * time: a fresh buffer of tens of MB costs its page faults on first touch (about 50 ms for 15 MB on a VM here),
 * which one Buffer.concat would take in a single stall.
 */
export async function encodeSnapshotDataInSlices(applied: number, mvcc: StoreSnapshot, sliceChars = SNAPSHOT_SLICE_CHARS): Promise<Uint8Array> {
  const parts: Uint8Array[] = [encoder.encode(`{"format":${JSON.stringify(SNAPSHOT_DATA_FORMAT)},"applied":${JSON.stringify(applied)},"mvcc":{`)];
  let first = true;
  for (const [key, value] of Object.entries(mvcc)) {
    if (value === undefined) continue;
    parts.push(encoder.encode(`${first ? '' : ','}${JSON.stringify(key)}:`));
    first = false;
    if (key !== 'entries') {
      parts.push(encoder.encode(JSON.stringify(value)));
      continue;
    }
    parts.push(encoder.encode('['));
    let slice: string[] = [];
    let chars = 0;
    for (let i = 0; i < mvcc.entries.length; i++) {
      const json = JSON.stringify(mvcc.entries[i]);
      slice.push(json);
      chars += json.length;
      if (chars >= sliceChars || i === mvcc.entries.length - 1) {
        const text = slice.join(',');
        parts.push(encoder.encode(i + 1 > slice.length ? `,${text}` : text));
        slice = [];
        chars = 0;
        if (i < mvcc.entries.length - 1) await nextTurn();
      }
    }
    parts.push(encoder.encode(']'));
  }
  parts.push(encoder.encode('}}'));
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let offset = 0;
  let sinceTurn = 0;
  for (const p of parts) {
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

export function decodeSnapshotData(bytes: Uint8Array): SnapshotData {
  const parsed = JSON.parse(decoder.decode(bytes)) as Partial<SnapshotData> | null;
  if (parsed === null || typeof parsed !== 'object' || parsed.format !== SNAPSHOT_DATA_FORMAT || parsed.mvcc === undefined) {
    throw new Error(`member: snapshot data is not in format ${SNAPSHOT_DATA_FORMAT}`);
  }
  return parsed as SnapshotData;
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
