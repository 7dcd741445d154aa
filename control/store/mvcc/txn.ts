import { ErrDuplicateKey, ErrEmptyKey, ErrInvalidRequest, ErrLeaseNotFound, ErrTooManyOps } from '../errors.js';
import { intervalsOverlap, toInterval, type KeyInterval } from '../keys.js';
import type {
  Compare,
  DeleteRequest,
  DeleteResponse,
  KeyValue,
  Op,
  OpResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  ResponseHeader,
  TxnRequest,
  TxnResponse,
} from '../store.js';
import type { MvccKv } from './kv-state.js';
import type { Lessor } from './lessor.js';

/** Filled in with the final revision once the write commits; every response of the request shares it. */
export type PendingHeader = { revision: number } & ResponseHeader;

export interface WriteContext {
  readonly kv: MvccKv;
  readonly lessor: Lessor;
  readonly header: PendingHeader;
}

/** Which branch each txn takes: decided up front from the pre-txn state, nested txns included (as etcd does). */
export interface TxnPlan {
  readonly succeeded: boolean;
  /** Plans of the txn ops in the taken branch, in order. */
  readonly nested: readonly TxnPlan[];
}

const ZERO_KV: KeyValue = { key: '', value: '', createRevision: 0, modRevision: 0, version: 0, lease: 0 };

function compareValues<T extends string | number>(actual: T, expected: T, result: Compare['result']): boolean {
  switch (result) {
    case '=':
      return actual === expected;
    case '!=':
      return actual !== expected;
    case '<':
      return actual < expected;
    case '>':
      return actual > expected;
  }
}

function compareKv(kv: KeyValue, c: Compare): boolean {
  switch (c.target) {
    case 'value':
      return compareValues(kv.value, c.value, c.result);
    case 'version':
      return compareValues(kv.version, c.value, c.result);
    case 'createRevision':
      return compareValues(kv.createRevision, c.value, c.result);
    case 'modRevision':
      return compareValues(kv.modRevision, c.value, c.result);
    case 'lease':
      return compareValues(kv.lease, c.value, c.result);
  }
}

function evaluateCompare(kv: MvccKv, c: Compare): boolean {
  const { kvs } = kv.range(c);
  if (kvs.length === 0) {
    // A missing value cannot be told from an empty one, so etcd fails every value comparison on a missing key.
    return c.target !== 'value' && compareKv(ZERO_KV, c);
  }
  return kvs.every((item) => compareKv(item, c));
}

export function planTxn(kv: MvccKv, request: TxnRequest): TxnPlan {
  const succeeded = request.compare.every((c) => evaluateCompare(kv, c));
  const branch = succeeded ? request.success : request.failure;
  const nested: TxnPlan[] = [];
  for (const op of branch) if (op.type === 'txn') nested.push(planTxn(kv, op));
  return { succeeded, nested };
}

export function checkOpCounts(request: TxnRequest, maxOps: number): void {
  if (request.compare.length > maxOps || request.success.length > maxOps || request.failure.length > maxOps) {
    throw new ErrTooManyOps(maxOps);
  }
  for (const op of [...request.success, ...request.failure]) if (op.type === 'txn') checkOpCounts(op, maxOps);
}

interface Writes {
  readonly puts: Set<string>;
  readonly deletes: KeyInterval[];
}

function coveredBy(deletes: readonly KeyInterval[], key: string): boolean {
  return deletes.some((iv) => intervalsOverlap(iv, { start: key, end: undefined }));
}

/**
 * etcd's checkIntervals: within one branch, no key may be put twice or put inside a range the branch deletes,
 * counting nested txns' branches (a key both nested branches put is fine: only one of them runs).
 */
function branchWrites(ops: readonly Op[]): Writes {
  const deletes: KeyInterval[] = [];
  for (const op of ops) if (op.type === 'delete') deletes.push(toInterval(op));
  const puts = new Set<string>();
  const add = (key: string): void => {
    if (puts.has(key) || coveredBy(deletes, key)) throw new ErrDuplicateKey(key);
    puts.add(key);
  };
  for (const op of ops) {
    if (op.type !== 'txn') continue;
    const then = branchWrites(op.success);
    const otherwise = branchWrites(op.failure);
    for (const key of then.puts) add(key);
    for (const key of otherwise.puts) {
      if (!then.puts.has(key)) add(key);
      else if (coveredBy(deletes, key)) throw new ErrDuplicateKey(key);
    }
    deletes.push(...then.deletes, ...otherwise.deletes);
  }
  for (const op of ops) if (op.type === 'put') add(op.key);
  return { puts, deletes };
}

export function checkDuplicates(request: TxnRequest): void {
  branchWrites(request.success);
  branchWrites(request.failure);
}

/** Rejects, before anything is written, every op on the taken path that would fail halfway through. */
export function validateOps(kv: MvccKv, lessor: Lessor, ops: readonly Op[], nested: readonly TxnPlan[]): void {
  let t = 0;
  for (const op of ops) {
    switch (op.type) {
      case 'range':
        toInterval(op);
        kv.checkRevision(op.revision);
        break;
      case 'put':
        validatePut(lessor, op);
        break;
      case 'delete':
        toInterval(op);
        break;
      case 'txn': {
        const plan = nested[t++]!;
        validateOps(kv, lessor, plan.succeeded ? op.success : op.failure, plan.nested);
        break;
      }
    }
  }
}

export function validatePut(lessor: Lessor, request: PutRequest): void {
  if (typeof request.key !== 'string' || typeof request.value !== 'string') {
    throw new ErrInvalidRequest('put: key and value must be strings');
  }
  if (request.key === '') throw new ErrEmptyKey();
  const lease = request.lease ?? 0;
  if (lease !== 0 && !lessor.has(lease)) throw new ErrLeaseNotFound(lease);
}

export function doRange(ctx: WriteContext, request: RangeRequest): RangeResponse {
  return { header: ctx.header, ...ctx.kv.range(request) };
}

export function doPut(ctx: WriteContext, request: PutRequest): PutResponse {
  const lease = request.lease ?? 0;
  const prev = ctx.kv.put(request.key, request.value, lease);
  if (prev !== undefined && prev.lease !== 0 && prev.lease !== lease) ctx.lessor.detach(prev.lease, request.key);
  if (lease !== 0) ctx.lessor.attach(lease, request.key);
  return request.prevKv === true && prev !== undefined ? { header: ctx.header, prevKv: prev } : { header: ctx.header };
}

export function doDelete(ctx: WriteContext, request: DeleteRequest): DeleteResponse {
  const prevs = ctx.kv.deleteRange(toInterval(request));
  for (const prev of prevs) if (prev.lease !== 0) ctx.lessor.detach(prev.lease, prev.key);
  return { header: ctx.header, deleted: prevs.length, prevKvs: request.prevKv === true ? prevs : [] };
}

export function doTxn(ctx: WriteContext, request: TxnRequest, plan: TxnPlan): TxnResponse {
  const ops = plan.succeeded ? request.success : request.failure;
  let t = 0;
  const responses = ops.map((op): OpResponse => {
    switch (op.type) {
      case 'range':
        return { type: 'range', ...doRange(ctx, op) };
      case 'put':
        return { type: 'put', ...doPut(ctx, op) };
      case 'delete':
        return { type: 'delete', ...doDelete(ctx, op) };
      case 'txn':
        return { type: 'txn', ...doTxn(ctx, op, plan.nested[t++]!) };
    }
  });
  return { header: ctx.header, succeeded: plan.succeeded, responses };
}
