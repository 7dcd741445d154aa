import type {
  Compare,
  CompareResult,
  DeleteOptions,
  KeyRange,
  Op,
  PutOptions,
  RangeRequest,
  TxnRequest,
} from './store.js';

/** Builders for txn ops and compares, so call sites read like etcd's clientv3 (op.put(...), op.version(...)). */

export function range(request: RangeRequest): Op {
  return { ...request, type: 'range' };
}

export function get(key: string): Op {
  return { type: 'range', key };
}

export function put(key: string, value: string, options: PutOptions = {}): Op {
  return { ...options, type: 'put', key, value };
}

export function del(key: string | KeyRange, options: DeleteOptions = {}): Op {
  return typeof key === 'string' ? { ...options, type: 'delete', key } : { ...options, type: 'delete', ...key };
}

export function txn(request: TxnRequest): Op {
  return { type: 'txn', compare: request.compare, success: request.success, failure: request.failure };
}

export function value(key: string, result: CompareResult, expected: string): Compare {
  return { key, target: 'value', result, value: expected };
}

export function version(key: string, result: CompareResult, expected: number): Compare {
  return { key, target: 'version', result, value: expected };
}

export function createRevision(key: string, result: CompareResult, expected: number): Compare {
  return { key, target: 'createRevision', result, value: expected };
}

export function modRevision(key: string, result: CompareResult, expected: number): Compare {
  return { key, target: 'modRevision', result, value: expected };
}

export function lease(key: string, result: CompareResult, expected: number): Compare {
  return { key, target: 'lease', result, value: expected };
}
