import { rpcErrors } from './errors.js';
import type { Compare, KeyRange, KeyValue, LeaseId, Op, OpResponse, RangeRequest } from '../store.js';

/**
 * Conversions between etcd's wire messages (as @grpc/proto-loader decodes them: keepCase, 64-bit integers as
 * decimal strings, bytes as Buffers, enums as numbers) and the Store's types (keys and values as strings).
 *
 * etcd keys and values are bytes; Skiff's are strings, UTF-8 on the wire. Bytes that are not valid UTF-8 cannot be
 * stored faithfully, so they are refused with INVALID_ARGUMENT rather than mangled. The one exception is a
 * range_end: clients compute "every key with this prefix" by incrementing the prefix's last byte, which can leave
 * invalid UTF-8 (a prefix ending in U+00BF gives ...C2 C0); such a range_end is recognised and served as a prefix.
 */

/** 64-bit integers arrive as decimal strings (LOADER_OPTIONS.longs = String); older clients may send numbers. */
export type Int64 = string | number;

export interface PbKeyValue {
  key: Buffer;
  create_revision: Int64;
  mod_revision: Int64;
  version: Int64;
  value: Buffer;
  lease: Int64;
}

export interface PbRangeRequest {
  key: Buffer;
  range_end: Buffer;
  limit: Int64;
  revision: Int64;
  sort_order: number;
  sort_target: number;
  serializable: boolean;
  keys_only: boolean;
  count_only: boolean;
  min_mod_revision: Int64;
  max_mod_revision: Int64;
  min_create_revision: Int64;
  max_create_revision: Int64;
}

export interface PbPutRequest {
  key: Buffer;
  value: Buffer;
  lease: Int64;
  prev_kv: boolean;
  ignore_value: boolean;
  ignore_lease: boolean;
}

export interface PbDeleteRangeRequest {
  key: Buffer;
  range_end: Buffer;
  prev_kv: boolean;
}

export interface PbRequestOp {
  request?: 'request_range' | 'request_put' | 'request_delete_range' | 'request_txn';
  request_range?: PbRangeRequest | null;
  request_put?: PbPutRequest | null;
  request_delete_range?: PbDeleteRangeRequest | null;
  request_txn?: PbTxnRequest | null;
}

export interface PbCompare {
  result: number;
  target: number;
  key: Buffer;
  target_union?: 'version' | 'create_revision' | 'mod_revision' | 'value' | 'lease';
  version?: Int64;
  create_revision?: Int64;
  mod_revision?: Int64;
  value?: Buffer;
  lease?: Int64;
  range_end: Buffer;
}

export interface PbTxnRequest {
  compare: PbCompare[];
  success: PbRequestOp[];
  failure: PbRequestOp[];
}

export interface PbHeader {
  cluster_id: string;
  member_id: string;
  revision: number;
  raft_term: string;
}

export const SortOrder = { NONE: 0, ASCEND: 1, DESCEND: 2 } as const;
export const SortTarget = { KEY: 0, VERSION: 1, CREATE: 2, MOD: 3, VALUE: 4 } as const;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeUtf8(bytes: Uint8Array | undefined, what: string): string {
  if (bytes === undefined || bytes.length === 0) return '';
  try {
    return utf8.decode(bytes);
  } catch {
    throw rpcErrors.invalid(`${what} is not valid UTF-8 (Skiff stores keys and values as UTF-8 text)`);
  }
}

export function decodeKey(bytes: Uint8Array | undefined): string {
  return decodeUtf8(bytes, 'key');
}

export function decodeValue(bytes: Uint8Array | undefined): string {
  return decodeUtf8(bytes, 'value');
}

export function encode(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

/** clientv3's GetPrefixRangeEnd: drop trailing 0xff bytes, then increment the last byte; "\0" if nothing is left. */
export function bytePrefixEnd(key: Uint8Array): Buffer {
  const end = Buffer.from(key);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

/** etcd's key + range_end pair as a Store KeyRange (see the module comment for invalid UTF-8 range ends). */
export function toKeyRange(keyBytes: Uint8Array | undefined, rangeEndBytes: Uint8Array | undefined): KeyRange {
  const key = decodeKey(keyBytes);
  if (rangeEndBytes === undefined || rangeEndBytes.length === 0) return { key };
  try {
    return { key, rangeEnd: utf8.decode(rangeEndBytes) };
  } catch {
    if (keyBytes !== undefined && keyBytes.length > 0 && bytePrefixEnd(keyBytes).equals(rangeEndBytes)) {
      return { key, prefix: true };
    }
    throw rpcErrors.invalid('range_end is not valid UTF-8 and is not the end of a key prefix');
  }
}

/** A 64-bit integer field as a JS number (revisions, limits, TTLs: far below 2^53 in practice). */
export function int(value: Int64 | undefined | null): number {
  if (value === undefined || value === null || value === '') return 0;
  return typeof value === 'number' ? value : Number(value);
}

/**
 * A lease id from the wire. Skiff's ids are positive safe integers, so a larger id cannot name a Skiff lease:
 * `undefined` lets the caller answer as etcd does for an unknown lease.
 */
export function leaseIdOf(value: Int64 | undefined | null): LeaseId | undefined {
  const raw = value === undefined || value === null || value === '' ? '0' : String(value);
  const big = BigInt(raw);
  if (big < 0n || big > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return Number(big);
}

export function toPbKv(kv: KeyValue): PbKeyValue {
  return {
    key: encode(kv.key),
    create_revision: kv.createRevision,
    mod_revision: kv.modRevision,
    version: kv.version,
    value: encode(kv.value),
    lease: kv.lease,
  };
}

/** Sorting, limits and revision filters the Store does not do itself, applied to its key-ordered answer. */
export interface RangePost {
  readonly sortOrder: number;
  readonly sortTarget: number;
  readonly limit: number;
  readonly minMod: number;
  readonly maxMod: number;
  readonly minCreate: number;
  readonly maxCreate: number;
  /** Values are dropped after sorting (sorting by value must see them). */
  readonly keysOnly: boolean;
}

export interface ConvertedRange {
  readonly request: RangeRequest;
  /** Undefined when the Store's own answer (ascending by key, limited) is already etcd's. */
  readonly post: RangePost | undefined;
}

export function toRangeRequest(pb: PbRangeRequest): ConvertedRange {
  const range = toKeyRange(pb.key, pb.range_end);
  const limit = Math.max(0, int(pb.limit));
  let sortOrder = pb.sort_order ?? SortOrder.NONE;
  const sortTarget = pb.sort_target ?? SortTarget.KEY;
  // As etcd: a sort target other than the key, without an order, means ascending.
  if (sortTarget !== SortTarget.KEY && sortOrder === SortOrder.NONE) sortOrder = SortOrder.ASCEND;
  const post: RangePost = {
    sortOrder,
    sortTarget,
    limit,
    minMod: int(pb.min_mod_revision),
    maxMod: int(pb.max_mod_revision),
    minCreate: int(pb.min_create_revision),
    maxCreate: int(pb.max_create_revision),
    keysOnly: pb.keys_only === true,
  };
  const keyOrder = sortOrder === SortOrder.NONE || (sortOrder === SortOrder.ASCEND && sortTarget === SortTarget.KEY);
  const filtered = post.minMod > 0 || post.maxMod > 0 || post.minCreate > 0 || post.maxCreate > 0;
  const needsPost = !pb.count_only && (!keyOrder || filtered);
  const base = {
    ...range,
    revision: int(pb.revision),
    countOnly: pb.count_only === true,
    keysOnly: pb.keys_only === true,
  } as RangeRequest;
  if (!needsPost) return { request: { ...base, limit }, post: undefined };
  return { request: { ...base, keysOnly: false }, post };
}

function sortKey(kv: KeyValue, target: number): string | number {
  switch (target) {
    case SortTarget.VERSION:
      return kv.version;
    case SortTarget.CREATE:
      return kv.createRevision;
    case SortTarget.MOD:
      return kv.modRevision;
    case SortTarget.VALUE:
      return kv.value;
    default:
      return kv.key;
  }
}

/** Applies filters, sort and limit; answers the kvs and whether the limit cut them. */
export function applyPost(kvs: readonly KeyValue[], post: RangePost): { kvs: KeyValue[]; more: boolean } {
  let out = kvs.filter(
    (kv) =>
      (post.minMod <= 0 || kv.modRevision >= post.minMod) &&
      (post.maxMod <= 0 || kv.modRevision <= post.maxMod) &&
      (post.minCreate <= 0 || kv.createRevision >= post.minCreate) &&
      (post.maxCreate <= 0 || kv.createRevision <= post.maxCreate),
  );
  if (post.sortOrder !== SortOrder.NONE) {
    const dir = post.sortOrder === SortOrder.DESCEND ? -1 : 1;
    // Stable: equal sort keys stay in key order, as in etcd.
    out = out
      .map((kv, i) => ({ kv, i, k: sortKey(kv, post.sortTarget) }))
      .sort((a, b) => (a.k < b.k ? -dir : a.k > b.k ? dir : a.i - b.i))
      .map((x) => x.kv);
  }
  const more = post.limit > 0 && out.length > post.limit;
  if (more) out = out.slice(0, post.limit);
  if (post.keysOnly) out = out.map((kv) => ({ ...kv, value: '' }));
  return { kvs: out, more };
}

const COMPARE_RESULTS = ['=', '>', '<', '!='] as const;

export function toCompare(pb: PbCompare): Compare {
  const range = toKeyRange(pb.key, pb.range_end);
  const result = COMPARE_RESULTS[pb.result ?? 0];
  if (result === undefined) throw rpcErrors.invalid(`unknown compare result ${pb.result}`);
  switch (pb.target ?? 0) {
    case 0:
      return { ...range, result, target: 'version', value: int(pb.version) };
    case 1:
      return { ...range, result, target: 'createRevision', value: int(pb.create_revision) };
    case 2:
      return { ...range, result, target: 'modRevision', value: int(pb.mod_revision) };
    case 3:
      return { ...range, result, target: 'value', value: decodeValue(pb.value) };
    case 4: {
      const lease = leaseIdOf(pb.lease);
      // A lease id no Skiff lease can have: compare against an id no key carries either.
      return { ...range, result, target: 'lease', value: lease ?? -1 };
    }
    default:
      throw rpcErrors.invalid(`unknown compare target ${pb.target}`);
  }
}

/** Per op of a txn branch: how to post-process its response (ranges only). */
export type OpPost = { readonly range?: RangePost; readonly txn?: TxnPost };
export interface TxnPost {
  readonly success: readonly OpPost[];
  readonly failure: readonly OpPost[];
}

export function toPutOp(pb: PbPutRequest): Op & { type: 'put' } {
  if (pb.ignore_value || pb.ignore_lease) {
    throw rpcErrors.invalid('ignore_value and ignore_lease are not supported inside a txn by Skiff');
  }
  const lease = leaseIdOf(pb.lease);
  if (lease === undefined) throw rpcErrors.leaseNotFound();
  return { type: 'put', key: decodeKey(pb.key), value: decodeValue(pb.value), lease, prevKv: pb.prev_kv === true };
}

function toOp(pb: PbRequestOp): { op: Op; post: OpPost } {
  switch (pb.request) {
    case 'request_range': {
      const { request, post } = toRangeRequest(pb.request_range!);
      return { op: { type: 'range', ...request } as Op, post: post === undefined ? {} : { range: post } };
    }
    case 'request_put':
      return { op: toPutOp(pb.request_put!), post: {} };
    case 'request_delete_range': {
      const d = pb.request_delete_range!;
      return { op: { type: 'delete', ...toKeyRange(d.key, d.range_end), prevKv: d.prev_kv === true } as Op, post: {} };
    }
    case 'request_txn': {
      const { request, post } = toTxnRequest(pb.request_txn!);
      return { op: { type: 'txn', ...request }, post: { txn: post } };
    }
    default:
      throw rpcErrors.invalid('txn op with no request');
  }
}

export function toTxnRequest(pb: PbTxnRequest): {
  request: { compare: Compare[]; success: Op[]; failure: Op[] };
  post: TxnPost;
} {
  const success = (pb.success ?? []).map(toOp);
  const failure = (pb.failure ?? []).map(toOp);
  return {
    request: {
      compare: (pb.compare ?? []).map(toCompare),
      success: success.map((x) => x.op),
      failure: failure.map((x) => x.op),
    },
    post: { success: success.map((x) => x.post), failure: failure.map((x) => x.post) },
  };
}

export type { OpResponse };
