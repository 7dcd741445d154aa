/**
 * The binary form of Raft messages between members (the peer stream's frames and MsgSnap POST bodies), in place of
 * JSON with base64: a batch is a u32 count then each message; numbers are float64 (exact for the safe integers Raft
 * uses), byte strings and UTF-8 strings a u32 length then the bytes, booleans a byte. The layout per type follows
 * raft/messages.ts field by field. Decoding checks every length against the buffer and every type code, and
 * throws WireFormatError on anything malformed: a peer's bad bytes never reach the Raft core.
 */
import type { Entry, Message, Snapshot } from '../raft/messages.js';
import { BinaryReader, BinaryWriter } from './binary.js';

export class WireFormatError extends Error {
  constructor(message: string) {
    super(`peer wire format: ${message}`);
    this.name = 'WireFormatError';
  }
}

/** Network message types and their codes (local types never travel). Append only: codes are on the wire. */
export const NETWORK_MESSAGE_TYPES = [
  'MsgProp',
  'MsgApp',
  'MsgAppResp',
  'MsgVote',
  'MsgVoteResp',
  'MsgPreVote',
  'MsgPreVoteResp',
  'MsgHeartbeat',
  'MsgHeartbeatResp',
  'MsgSnap',
  'MsgTransferLeader',
  'MsgTimeoutNow',
  'MsgReadIndex',
  'MsgReadIndexResp',
] as const;
type WireType = (typeof NETWORK_MESSAGE_TYPES)[number];
const CODE = new Map<string, number>(NETWORK_MESSAGE_TYPES.map((t, i) => [t, i]));

function writeEntries(w: BinaryWriter, entries: readonly Entry[]): void {
  w.u32(entries.length);
  for (const e of entries) {
    w.num(e.term);
    w.num(e.index);
    w.u8(e.type === 'confChange' ? 1 : 0);
    w.bytes(e.data);
  }
}

function readEntries(r: BinaryReader): Entry[] {
  const n = r.u32();
  const out: Entry[] = [];
  for (let i = 0; i < n; i++) {
    const term = r.int();
    const index = r.int();
    const t = r.u8();
    if (t > 1) throw new WireFormatError(`unknown entry type ${t}`);
    out.push({ term, index, type: t === 1 ? 'confChange' : 'normal', data: r.bytes() });
  }
  return out;
}

function writeSnapshot(w: BinaryWriter, s: Snapshot): void {
  w.num(s.metadata.index);
  w.num(s.metadata.term);
  w.u32(s.metadata.confState.voters.length);
  for (const v of s.metadata.confState.voters) w.num(v);
  w.bytes(s.data);
}

function readSnapshot(r: BinaryReader): Snapshot {
  const index = r.int();
  const term = r.int();
  const n = r.u32();
  const voters: number[] = [];
  for (let i = 0; i < n; i++) voters.push(r.int());
  return { metadata: { index, term, confState: { voters } }, data: r.bytes() };
}

function writeMessage(w: BinaryWriter, m: Message): void {
  const code = CODE.get(m.type);
  if (code === undefined) throw new WireFormatError(`${m.type} is a local message`);
  w.u8(code);
  w.num(m.from);
  w.num(m.to);
  w.num(m.term);
  switch (m.type) {
    case 'MsgProp':
      writeEntries(w, m.entries);
      return;
    case 'MsgApp':
      w.num(m.index);
      w.num(m.logTerm);
      w.num(m.commit);
      writeEntries(w, m.entries);
      return;
    case 'MsgAppResp':
      w.num(m.index);
      w.bool(m.reject);
      w.num(m.rejectHint);
      w.num(m.logTerm);
      return;
    case 'MsgVote':
    case 'MsgPreVote':
      w.num(m.index);
      w.num(m.logTerm);
      w.bool(m.transfer);
      return;
    case 'MsgVoteResp':
    case 'MsgPreVoteResp':
      w.bool(m.reject);
      return;
    case 'MsgHeartbeat':
      w.num(m.commit);
      w.optStr(m.context);
      return;
    case 'MsgHeartbeatResp':
      w.optStr(m.context);
      return;
    case 'MsgSnap':
      writeSnapshot(w, m.snapshot);
      return;
    case 'MsgReadIndex':
      w.str(m.context);
      return;
    case 'MsgReadIndexResp':
      w.num(m.index);
      w.str(m.context);
      return;
    default:
      return;
  }
}

function readMessage(r: BinaryReader): Message {
  const code = r.u8();
  const type: WireType | undefined = NETWORK_MESSAGE_TYPES[code];
  if (type === undefined) throw new WireFormatError(`unknown message type code ${code}`);
  const from = r.int();
  const to = r.int();
  const term = r.int();
  const base = { from, to, term };
  switch (type) {
    case 'MsgProp':
      return { type, ...base, entries: readEntries(r) };
    case 'MsgApp': {
      const index = r.int();
      const logTerm = r.int();
      const commit = r.int();
      return { type, ...base, index, logTerm, commit, entries: readEntries(r) };
    }
    case 'MsgAppResp': {
      const index = r.int();
      const reject = r.bool();
      const rejectHint = r.int();
      const logTerm = r.int();
      return { type, ...base, index, reject, rejectHint, logTerm };
    }
    case 'MsgVote':
    case 'MsgPreVote': {
      const index = r.int();
      const logTerm = r.int();
      return { type, ...base, index, logTerm, transfer: r.bool() };
    }
    case 'MsgVoteResp':
    case 'MsgPreVoteResp':
      return { type, ...base, reject: r.bool() };
    case 'MsgHeartbeat': {
      const commit = r.int();
      const context = r.optStr();
      return context === undefined ? { type, ...base, commit } : { type, ...base, commit, context };
    }
    case 'MsgHeartbeatResp': {
      const context = r.optStr();
      return context === undefined ? { type, ...base } : { type, ...base, context };
    }
    case 'MsgSnap':
      return { type, ...base, snapshot: readSnapshot(r) };
    case 'MsgReadIndex':
      return { type, ...base, context: r.str() };
    case 'MsgReadIndexResp': {
      const index = r.int();
      return { type, ...base, index, context: r.str() };
    }
    case 'MsgTransferLeader':
    case 'MsgTimeoutNow':
      return { type, ...base };
  }
}

/** A batch of messages as bytes; `headroom` bytes are left free at the start (a frame header). */
export function encodeMessageBatch(messages: readonly Message[], headroom = 0): Buffer {
  let size = headroom + 4;
  for (const m of messages) {
    size += 64;
    if (m.type === 'MsgApp' || m.type === 'MsgProp') for (const e of m.entries) size += 24 + e.data.length;
    else if (m.type === 'MsgSnap') size += m.snapshot.data.length + 32 + 8 * m.snapshot.metadata.confState.voters.length;
  }
  const w = new BinaryWriter(size);
  w.off = headroom;
  w.u32(messages.length);
  for (const m of messages) writeMessage(w, m);
  return w.buf.subarray(0, w.off);
}

/** Parses a batch; throws WireFormatError on malformed bytes (trailing bytes included). */
export function decodeMessageBatch(buf: Buffer): Message[] {
  const r = new BinaryReader(buf, (m) => new WireFormatError(m));
  const n = r.u32();
  const out: Message[] = [];
  for (let i = 0; i < n; i++) out.push(readMessage(r));
  if (!r.done()) throw new WireFormatError('trailing bytes after the last message');
  return out;
}

/**
 * Reassembles length-prefixed frames (u32 big-endian length, then that many bytes) from a byte stream's chunks.
 * Throws WireFormatError when a frame announces more than `maxFrameBytes`.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxFrameBytes: number) {}

  /** Feeds a chunk; returns the frames it completed, in order. */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.buffered < 4) break;
      const head = this.peekHeader();
      if (head > this.maxFrameBytes) throw new WireFormatError(`frame of ${head} bytes exceeds the limit of ${this.maxFrameBytes}`);
      if (this.buffered < 4 + head) break;
      const all = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.buffered);
      frames.push(all.subarray(4, 4 + head));
      const rest = all.subarray(4 + head);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
    }
    return frames;
  }

  private peekHeader(): number {
    const first = this.chunks[0] as Buffer;
    if (first.length >= 4) return first.readUInt32BE(0);
    const head = Buffer.concat(this.chunks, this.buffered).subarray(0, 4);
    return head.readUInt32BE(0);
  }
}

/** A batch as one frame: u32 length, then the batch. */
export function encodeFrame(messages: readonly Message[]): Buffer {
  const buf = encodeMessageBatch(messages, 4);
  buf.writeUInt32BE(buf.length - 4, 0);
  return buf;
}
