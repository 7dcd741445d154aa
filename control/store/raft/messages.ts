/**
 * Wire and persistence types of the Raft core. Everything here is plain data so a transport or a WAL can
 * serialise it without knowing about the state machine.
 */

export type NodeId = number;

/** Node id 0 is reserved to mean "nobody" (no leader, no vote), as in etcd. */
export const NONE: NodeId = 0;

export type EntryType = 'normal' | 'confChange';

export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

export interface HardState {
  term: number;
  vote: NodeId;
  commit: number;
}

export const EMPTY_HARD_STATE: HardState = Object.freeze({ term: 0, vote: NONE, commit: 0 });

export function isEmptyHardState(hs: HardState): boolean {
  return hs.term === 0 && hs.vote === NONE && hs.commit === 0;
}

export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/** Membership as recorded in snapshots. Only voters: Skiff changes membership one voter at a time. */
export interface ConfState {
  voters: NodeId[];
}

export interface SnapshotMetadata {
  index: number;
  term: number;
  confState: ConfState;
}

export interface Snapshot {
  metadata: SnapshotMetadata;
  data: Uint8Array;
}

export function emptySnapshot(): Snapshot {
  return { metadata: { index: 0, term: 0, confState: { voters: [] } }, data: new Uint8Array(0) };
}

export function isEmptySnapshot(s: Snapshot | undefined): boolean {
  return s === undefined || s.metadata.index === 0;
}

export interface ConfChange {
  type: 'addNode' | 'removeNode';
  nodeId: NodeId;
  /** Opaque to Raft: what the application records with the change (etcd: the member's attributes). */
  context?: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeConfChange(cc: ConfChange): Uint8Array {
  return encoder.encode(JSON.stringify(cc));
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  const parsed: unknown = JSON.parse(decoder.decode(data));
  if (
    typeof parsed === 'object' &&
    parsed !== null &&
    'type' in parsed &&
    'nodeId' in parsed &&
    (parsed.type === 'addNode' || parsed.type === 'removeNode') &&
    typeof parsed.nodeId === 'number'
  ) {
    const context = (parsed as { context?: unknown }).context;
    return { type: parsed.type, nodeId: parsed.nodeId, ...(typeof context === 'string' ? { context } : {}) };
  }
  throw new Error('raft: malformed conf change entry');
}

/** Fields every message carries. `term` 0 marks a local message (never sent over the wire, except forwarded
 * MsgProp/MsgReadIndex which deliberately carry no term so the leader treats them like local requests). */
interface Base {
  from: NodeId;
  to: NodeId;
  term: number;
}

/** Local: election timeout fired (or the application asked to campaign). */
export interface MsgHup extends Base {
  type: 'MsgHup';
  /** Set when campaigning because the leader handed over via MsgTimeoutNow: skips pre-vote and leases. */
  transfer?: boolean;
}
/** Local: heartbeat timeout fired on the leader. */
export interface MsgBeat extends Base {
  type: 'MsgBeat';
}
/** Local: leader checks whether it still hears from a quorum. */
export interface MsgCheckQuorum extends Base {
  type: 'MsgCheckQuorum';
}
export interface MsgProp extends Base {
  type: 'MsgProp';
  entries: Entry[];
}
export interface MsgApp extends Base {
  type: 'MsgApp';
  /** Index and term of the entry immediately preceding `entries`. */
  index: number;
  logTerm: number;
  entries: Entry[];
  commit: number;
}
export interface MsgAppResp extends Base {
  type: 'MsgAppResp';
  /** On success the follower's last index; on rejection the rejected MsgApp's `index`. */
  index: number;
  reject: boolean;
  /** On rejection: the largest index the follower might match, and its term there, for fast back-tracking. */
  rejectHint: number;
  logTerm: number;
}
export interface MsgVote extends Base {
  type: 'MsgVote';
  index: number;
  logTerm: number;
  /** Campaign triggered by leader transfer: voters must ignore their leader lease. */
  transfer: boolean;
}
export interface MsgVoteResp extends Base {
  type: 'MsgVoteResp';
  reject: boolean;
}
export interface MsgPreVote extends Base {
  type: 'MsgPreVote';
  index: number;
  logTerm: number;
  transfer: boolean;
}
export interface MsgPreVoteResp extends Base {
  type: 'MsgPreVoteResp';
  reject: boolean;
}
export interface MsgHeartbeat extends Base {
  type: 'MsgHeartbeat';
  commit: number;
  /** ReadIndex context being confirmed by this heartbeat round, if any. */
  context?: string;
}
export interface MsgHeartbeatResp extends Base {
  type: 'MsgHeartbeatResp';
  context?: string;
}
export interface MsgSnap extends Base {
  type: 'MsgSnap';
  snapshot: Snapshot;
}
/** Local: the transport reports whether a MsgSnap reached the follower. */
export interface MsgSnapStatus extends Base {
  type: 'MsgSnapStatus';
  reject: boolean;
}
/** Local: the transport reports that a peer could not be reached. */
export interface MsgUnreachable extends Base {
  type: 'MsgUnreachable';
}
/** Asks the leader to hand leadership to `from` (the transferee). */
export interface MsgTransferLeader extends Base {
  type: 'MsgTransferLeader';
}
/** Leader tells the transferee to campaign immediately. */
export interface MsgTimeoutNow extends Base {
  type: 'MsgTimeoutNow';
}
export interface MsgReadIndex extends Base {
  type: 'MsgReadIndex';
  context: string;
}
export interface MsgReadIndexResp extends Base {
  type: 'MsgReadIndexResp';
  index: number;
  context: string;
}

export type Message =
  | MsgHup
  | MsgBeat
  | MsgCheckQuorum
  | MsgProp
  | MsgApp
  | MsgAppResp
  | MsgVote
  | MsgVoteResp
  | MsgPreVote
  | MsgPreVoteResp
  | MsgHeartbeat
  | MsgHeartbeatResp
  | MsgSnap
  | MsgSnapStatus
  | MsgUnreachable
  | MsgTransferLeader
  | MsgTimeoutNow
  | MsgReadIndex
  | MsgReadIndexResp;

export type MessageType = Message['type'];

const LOCAL: ReadonlySet<MessageType> = new Set<MessageType>([
  'MsgHup',
  'MsgBeat',
  'MsgCheckQuorum',
  'MsgSnapStatus',
  'MsgUnreachable',
]);

const RESPONSE: ReadonlySet<MessageType> = new Set<MessageType>([
  'MsgAppResp',
  'MsgVoteResp',
  'MsgPreVoteResp',
  'MsgHeartbeatResp',
  'MsgUnreachable',
  'MsgSnapStatus',
]);

/** Messages generated inside a node that must never arrive from the network. */
export function isLocalMessage(t: MessageType): boolean {
  return LOCAL.has(t);
}

export function isResponseMessage(t: MessageType): boolean {
  return RESPONSE.has(t);
}

export interface ReadState {
  /** Commit index at the time the read was requested; safe to serve once applied >= index. */
  index: number;
  context: string;
}

export type StateType = 'follower' | 'candidate' | 'preCandidate' | 'leader';

export interface SoftState {
  lead: NodeId;
  state: StateType;
}
