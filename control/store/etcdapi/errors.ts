import * as grpc from '@grpc/grpc-js';
import {
  ErrCompacted,
  ErrDuplicateKey,
  ErrEmptyKey,
  ErrFutureRev,
  ErrInvalidRequest,
  ErrLeaseExists,
  ErrLeaseNotFound,
  ErrLeaseTtlTooLarge,
  ErrStoreClosed,
  ErrTooManyOps,
  StoreError,
} from '../errors.js';

/**
 * A gRPC status error as grpc-js sends it. The codes and messages are etcd's own (its rpctypes), because clients
 * recognise errors by them: clientv3 turns the message back into a typed error, and etcd3 for Node matches on it.
 */
export class EtcdGrpcError extends Error implements Partial<grpc.StatusObject> {
  readonly details: string;
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
    this.details = message;
  }
}

const OUT_OF_RANGE = grpc.status.OUT_OF_RANGE;

export const rpcErrors = {
  emptyKey: () => new EtcdGrpcError(grpc.status.INVALID_ARGUMENT, 'etcdserver: key is not provided'),
  keyNotFound: () => new EtcdGrpcError(grpc.status.INVALID_ARGUMENT, 'etcdserver: key not found'),
  valueProvided: () => new EtcdGrpcError(grpc.status.INVALID_ARGUMENT, 'etcdserver: value is provided'),
  leaseProvided: () => new EtcdGrpcError(grpc.status.INVALID_ARGUMENT, 'etcdserver: lease is provided'),
  tooManyOps: () => new EtcdGrpcError(grpc.status.INVALID_ARGUMENT, 'etcdserver: too many operations in txn request'),
  duplicateKey: () => new EtcdGrpcError(grpc.status.INVALID_ARGUMENT, 'etcdserver: duplicate key given in txn request'),
  compacted: () => new EtcdGrpcError(OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted'),
  futureRev: () => new EtcdGrpcError(OUT_OF_RANGE, 'etcdserver: mvcc: required revision is a future revision'),
  leaseNotFound: () => new EtcdGrpcError(grpc.status.NOT_FOUND, 'etcdserver: requested lease not found'),
  leaseExists: () => new EtcdGrpcError(grpc.status.FAILED_PRECONDITION, 'etcdserver: lease already exists'),
  leaseTtlTooLarge: () => new EtcdGrpcError(OUT_OF_RANGE, 'etcdserver: too large lease TTL'),
  stopped: () => new EtcdGrpcError(grpc.status.UNAVAILABLE, 'etcdserver: server stopped'),
  noLeader: () => new EtcdGrpcError(grpc.status.UNAVAILABLE, 'etcdserver: no leader'),
  timeout: () => new EtcdGrpcError(grpc.status.UNAVAILABLE, 'etcdserver: request timed out'),
  /** Requests etcd would accept but Skiff cannot represent (non-UTF-8 keys, ids beyond 2^53...). */
  invalid: (message: string) => new EtcdGrpcError(grpc.status.INVALID_ARGUMENT, `etcdserver: ${message}`),
} as const;

/**
 * Store errors raised by other backends (the Raft store) are recognised by their `code`, so this module need not
 * import them: these are the codes that mean "this member cannot serve right now".
 */
const UNAVAILABLE_CODES: Record<string, () => EtcdGrpcError> = {
  'no-leader': rpcErrors.noLeader,
  'not-leader': rpcErrors.noLeader,
  timeout: rpcErrors.timeout,
  'request-timeout': rpcErrors.timeout,
  stopped: rpcErrors.stopped,
};

/** Membership errors (member/errors.ts ErrMembership, ErrConfChangePending), by code: etcd's rpctypes. */
const MEMBERSHIP_CODES: Record<string, () => EtcdGrpcError> = {
  'member-exists': () => new EtcdGrpcError(grpc.status.FAILED_PRECONDITION, 'etcdserver: member ID already exist'),
  'peer-url-exists': () => new EtcdGrpcError(grpc.status.FAILED_PRECONDITION, 'etcdserver: Peer URLs already exists'),
  // etcd 3.4 answers this one with code UNKNOWN (its error is not in 3.4's gRPC error table), text as rpctypes'.
  'member-not-enough-started': () =>
    new EtcdGrpcError(grpc.status.UNKNOWN, 'etcdserver: re-configuration failed due to not enough started members'),
  'member-bad-urls': () => new EtcdGrpcError(grpc.status.INVALID_ARGUMENT, 'etcdserver: given member URLs are invalid'),
  'member-not-found': () => new EtcdGrpcError(grpc.status.NOT_FOUND, 'etcdserver: member not found'),
  'member-learner': () => new EtcdGrpcError(grpc.status.INVALID_ARGUMENT, 'etcdserver: learner members are not supported by Skiff'),
  'conf-change-pending': () => new EtcdGrpcError(grpc.status.UNAVAILABLE, 'etcdserver: unhealthy cluster'),
};

/** Maps any error thrown while serving a request to the status etcd would answer. */
export function toGrpcError(error: unknown): EtcdGrpcError {
  if (error instanceof EtcdGrpcError) return error;
  if (error instanceof ErrCompacted) return rpcErrors.compacted();
  if (error instanceof ErrFutureRev) return rpcErrors.futureRev();
  if (error instanceof ErrLeaseNotFound) return rpcErrors.leaseNotFound();
  if (error instanceof ErrLeaseExists) return rpcErrors.leaseExists();
  if (error instanceof ErrLeaseTtlTooLarge) return rpcErrors.leaseTtlTooLarge();
  if (error instanceof ErrTooManyOps) return rpcErrors.tooManyOps();
  if (error instanceof ErrDuplicateKey) return rpcErrors.duplicateKey();
  if (error instanceof ErrEmptyKey) return rpcErrors.emptyKey();
  if (error instanceof ErrStoreClosed) return rpcErrors.stopped();
  if (error instanceof ErrInvalidRequest) {
    const message = error.message.startsWith('etcdserver: ') ? error.message : `etcdserver: ${error.message}`;
    return new EtcdGrpcError(grpc.status.INVALID_ARGUMENT, message);
  }
  if (error instanceof StoreError) {
    const unavailable = UNAVAILABLE_CODES[error.code] ?? MEMBERSHIP_CODES[error.code];
    if (unavailable !== undefined) return unavailable();
    return new EtcdGrpcError(grpc.status.UNKNOWN, error.message);
  }
  return new EtcdGrpcError(grpc.status.UNKNOWN, error instanceof Error ? error.message : String(error));
}
