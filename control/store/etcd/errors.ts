import { ClientClosedError } from 'etcd3';
import { StoreError } from '../errors.js';

/**
 * etcd's gRPC errors that have a Store counterpart, recognised by their description. etcd's own Go client
 * (clientv3/rpctypes) maps them the same way: by the status message, which is stable across etcd releases; the
 * status code alone is ambiguous (InvalidArgument covers empty key, too many ops and duplicate key; OutOfRange
 * covers both compacted and future revision; NotFound covers lease-not-found and key-not-found).
 */
export type EtcdErrorKind =
  | 'empty-key'
  | 'compacted'
  | 'future-revision'
  | 'lease-not-found'
  | 'lease-exists'
  | 'lease-ttl-too-large'
  | 'too-many-ops'
  | 'duplicate-key'
  | 'request-too-large'
  | 'closed';

const BY_MESSAGE: ReadonlyArray<readonly [string, EtcdErrorKind]> = [
  ['etcdserver: key is not provided', 'empty-key'],
  ['mvcc: required revision has been compacted', 'compacted'],
  ['mvcc: required revision is a future revision', 'future-revision'],
  ['etcdserver: requested lease not found', 'lease-not-found'],
  ['etcdserver: lease already exists', 'lease-exists'],
  ['etcdserver: too large lease TTL', 'lease-ttl-too-large'],
  ['etcdserver: too many operations in txn request', 'too-many-ops'],
  ['etcdserver: duplicate key given in txn request', 'duplicate-key'],
  ['etcdserver: request is too large', 'request-too-large'],
];

export function classifyEtcdError(error: unknown): EtcdErrorKind | undefined {
  if (error instanceof StoreError) return undefined;
  if (error instanceof ClientClosedError) return 'closed';
  const message = error instanceof Error ? error.message : typeof error === 'string' ? error : '';
  const rawDetails = (error as { details?: unknown } | null | undefined)?.details;
  const details = typeof rawDetails === 'string' ? rawDetails : '';
  for (const [text, kind] of BY_MESSAGE) {
    if (message.includes(text) || details.includes(text)) return kind;
  }
  return undefined;
}

/** Transport-level failures worth retrying for idempotent requests (the request may not have reached etcd). */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const name = error.constructor.name;
  if (name === 'BrokenCircuitError' || name === 'GRPCUnavailableError') return true;
  const code = (error as { code?: unknown }).code;
  return code === 14; // UNAVAILABLE, when the error is grpc-js's own
}
