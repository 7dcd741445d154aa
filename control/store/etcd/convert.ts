import type * as RPC from 'etcd3';
import { CompareResult as EtcdCompareResult, CompareTarget as EtcdCompareTarget } from 'etcd3';
import { ErrInvalidRequest } from '../errors.js';
import { intervalContains, toInterval, type KeyInterval } from '../keys.js';
import type { Compare, KeyRange, KeyValue, LeaseId, Op, RangeRequest, TxnRequest } from '../store.js';

/**
 * Conversions between the Store's shapes (UTF-8 strings, JS numbers) and etcd's v3 protobuf messages as the etcd3
 * client hands them over (Buffers; int64 as decimal strings; enums as their names).
 */

export function enc(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}

export function dec(b: Buffer | Uint8Array | null | undefined): string {
  if (b === null || b === undefined) return '';
  return Buffer.isBuffer(b) ? b.toString('utf8') : Buffer.from(b).toString('utf8');
}

/** An int64 that must fit a JS number exactly (revisions, counts, versions, TTLs). */
export function int(s: string | number | null | undefined, what: string): number {
  if (s === null || s === undefined || s === '') return 0;
  const n = typeof s === 'number' ? s : Number(s);
  if (!Number.isSafeInteger(n)) throw new ErrInvalidRequest(`etcd answered a ${what} that is not a safe integer: ${s}`);
  return n;
}

/**
 * A lease id as etcd reports it. Store lease ids are JS numbers; etcd's are int64. Skiff grants its leases with ids
 * it picks among the safe integers, so an id beyond 2^53 - 1 can only come from a lease another etcd client made.
 */
export function leaseFromEtcd(s: string | number | null | undefined): LeaseId {
  if (s === null || s === undefined || s === '' || s === '0' || s === 0) return 0;
  const text = String(s);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0 || String(n) !== text) {
    throw new ErrInvalidRequest(
      `etcd lease id ${text} is not a positive safe integer (at most ${Number.MAX_SAFE_INTEGER}): ` +
        'the Skiff store only handles leases it granted itself',
    );
  }
  return n;
}

export function leaseToEtcd(id: LeaseId | undefined, what = 'lease id'): string {
  if (id === undefined || id === 0) return '0';
  if (!Number.isSafeInteger(id) || id < 0) {
    throw new ErrInvalidRequest(`${what} must be a positive safe integer, got ${id}`);
  }
  return String(id);
}

function nonNegativeInt(n: number | undefined, what: string): number {
  if (n === undefined) return 0;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new ErrInvalidRequest(`${what} must be a non-negative integer, got ${n}`);
  }
  return n;
}

/** etcd's prefix end on bytes: the prefix with its last byte below 0xff incremented, or '\0' (no end). */
export function prefixEndBytes(prefix: Buffer): Buffer {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const byte = prefix[i]!;
    if (byte < 0xff) {
      const end = Buffer.from(prefix.subarray(0, i + 1));
      end[i] = byte + 1;
      return end;
    }
  }
  return Buffer.from([0]);
}

export interface EtcdKeyRange {
  key: Buffer;
  range_end?: Buffer;
}

/** A Store key range as etcd's key/range_end. Validates as the other backends do (ErrEmptyKey...). */
export function keyRange(range: KeyRange): EtcdKeyRange {
  const interval = toInterval(range);
  if (range.prefix === true) {
    if (range.key === '') return { key: Buffer.from([0]), range_end: Buffer.from([0]) };
    const key = enc(range.key);
    // The prefix's end on UTF-8 bytes (the Store's prefixEnd works on UTF-16 code units; for non-ASCII keys the
    // byte form is the one that means "every key starting with the prefix" to etcd).
    return { key, range_end: prefixEndBytes(key) };
  }
  const key = enc(interval.start);
  return interval.end === undefined ? { key } : { key, range_end: enc(interval.end) };
}

export function kvFromEtcd(kv: RPC.IKeyValue): KeyValue {
  return {
    key: dec(kv.key),
    value: dec(kv.value),
    createRevision: int(kv.create_revision, 'create revision'),
    modRevision: int(kv.mod_revision, 'mod revision'),
    version: int(kv.version, 'version'),
    lease: leaseFromEtcd(kv.lease),
  };
}

export function rangeRequest(request: RangeRequest): RPC.IRangeRequest {
  return {
    ...keyRange(request),
    limit: nonNegativeInt(request.limit, 'limit'),
    revision: nonNegativeInt(request.revision, 'revision'),
    keys_only: request.keysOnly === true,
    count_only: request.countOnly === true,
    serializable: request.serializable === true,
  };
}

const COMPARE_RESULT = {
  '=': EtcdCompareResult.Equal,
  '!=': EtcdCompareResult.NotEqual,
  '<': EtcdCompareResult.Less,
  '>': EtcdCompareResult.Greater,
} as const;

export function compareToEtcd(c: Compare): RPC.ICompare {
  const result = COMPARE_RESULT[c.result];
  if (result === undefined) throw new ErrInvalidRequest(`unknown compare result ${JSON.stringify(c.result)}`);
  const base = { ...keyRange(c), result };
  const operand = (what: string): number => {
    if (typeof c.value !== 'number' || !Number.isSafeInteger(c.value)) {
      throw new ErrInvalidRequest(`compare ${what}: operand must be an integer, got ${JSON.stringify(c.value)}`);
    }
    return c.value;
  };
  switch (c.target) {
    case 'value':
      if (typeof c.value !== 'string') throw new ErrInvalidRequest('compare value: operand must be a string');
      return { ...base, target: EtcdCompareTarget.Value, value: enc(c.value) };
    case 'version':
      return { ...base, target: EtcdCompareTarget.Version, version: operand('version') };
    case 'createRevision':
      return { ...base, target: EtcdCompareTarget.Create, create_revision: operand('createRevision') };
    case 'modRevision':
      return { ...base, target: EtcdCompareTarget.Mod, mod_revision: operand('modRevision') };
    case 'lease': {
      const n = operand('lease');
      // Any negative or unsafe operand compares like etcd would against an int64; keep it exact.
      return { ...base, target: EtcdCompareTarget.Lease, lease: String(n) };
    }
    default:
      throw new ErrInvalidRequest(`unknown compare target ${JSON.stringify((c as { target: unknown }).target)}`);
  }
}

export function opToEtcd(op: Op): RPC.IRequestOp {
  switch (op.type) {
    case 'range':
      return { request_range: rangeRequest(op) };
    case 'put':
      if (typeof op.key !== 'string' || typeof op.value !== 'string') {
        throw new ErrInvalidRequest('put: key and value must be strings');
      }
      return {
        request_put: {
          key: enc(op.key),
          value: enc(op.value),
          lease: leaseToEtcd(op.lease),
          prev_kv: op.prevKv === true,
        },
      };
    case 'delete':
      return { request_delete_range: { ...keyRange(op), prev_kv: op.prevKv === true } };
    case 'txn':
      return { request_txn: txnToEtcd(op) };
    default:
      throw new ErrInvalidRequest(`unknown txn op ${JSON.stringify((op as { type: unknown }).type)}`);
  }
}

export function txnToEtcd(request: TxnRequest): RPC.ITxnRequest {
  return {
    compare: request.compare.map(compareToEtcd),
    success: request.success.map(opToEtcd),
    failure: request.failure.map(opToEtcd),
  };
}

/** The revision a txn's range ops read at, the oldest non-zero one (to explain ErrCompacted / ErrFutureRev). */
export function txnReadRevision(request: TxnRequest, pick: (a: number, b: number) => number): number | undefined {
  let found: number | undefined;
  for (const op of [...request.success, ...request.failure]) {
    const rev = op.type === 'range' ? op.revision : op.type === 'txn' ? txnReadRevision(op, pick) : undefined;
    if (rev !== undefined && rev > 0) found = found === undefined ? rev : pick(found, rev);
  }
  return found;
}

/** Every lease id a txn's puts use (in either branch, nested txns too). */
export function txnLeases(request: TxnRequest, into = new Set<LeaseId>()): Set<LeaseId> {
  for (const op of [...request.success, ...request.failure]) {
    if (op.type === 'put' && op.lease !== undefined && op.lease !== 0) into.add(op.lease);
    if (op.type === 'txn') txnLeases(op, into);
  }
  return into;
}

/**
 * The key behind etcd's "duplicate key given in txn request", which does not name it: a put of a key another put
 * of the same branch writes, or that a delete of the branch covers (nested txns' branches count with their parent's).
 */
export function duplicateKeyOf(request: TxnRequest): string | undefined {
  const walk = (ops: readonly Op[], puts: Set<string>, deletes: KeyInterval[]): string | undefined => {
    for (const op of ops) {
      if (op.type === 'put') {
        if (puts.has(op.key) || deletes.some((d) => intervalContains(d, op.key))) return op.key;
        puts.add(op.key);
      } else if (op.type === 'delete') {
        let interval: KeyInterval;
        try {
          interval = toInterval(op);
        } catch {
          continue;
        }
        for (const key of puts) if (intervalContains(interval, key)) return key;
        deletes.push(interval);
      } else if (op.type === 'txn') {
        for (const branch of [op.success, op.failure]) {
          const found = walk(branch, new Set(puts), [...deletes]);
          if (found !== undefined) return found;
        }
        for (const branch of [op.success, op.failure]) {
          for (const inner of branch) if (inner.type === 'put') puts.add(inner.key);
        }
      }
    }
    return undefined;
  };
  return walk(request.success, new Set(), []) ?? walk(request.failure, new Set(), []);
}
