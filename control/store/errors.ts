/**
 * Typed store errors. Messages follow etcd's wording so operators who know etcd recognise them, and so the etcd
 * backend can map etcd's gRPC errors onto these classes one to one. A missing key is not an error (etcd returns an
 * empty range), so there is deliberately no KeyNotFound.
 */
export abstract class StoreError extends Error {
  abstract readonly code: string;
  override get name(): string {
    return this.constructor.name;
  }
}

/** The requested revision is older than the last compaction (etcd ErrCompacted). */
export class ErrCompacted extends StoreError {
  readonly code = 'compacted';
  constructor(readonly compactRevision: number) {
    super(`mvcc: required revision has been compacted (compact revision ${compactRevision})`);
  }
}

/** The requested revision is newer than the store's current revision (etcd ErrFutureRev). */
export class ErrFutureRev extends StoreError {
  readonly code = 'future-revision';
  constructor(
    readonly requested: number,
    readonly current: number,
  ) {
    super(`mvcc: required revision ${requested} is a future revision (current ${current})`);
  }
}

export class ErrLeaseNotFound extends StoreError {
  readonly code = 'lease-not-found';
  constructor(readonly leaseId: number) {
    super(`etcdserver: requested lease not found (${leaseId})`);
  }
}

export class ErrLeaseExists extends StoreError {
  readonly code = 'lease-exists';
  constructor(readonly leaseId: number) {
    super(`etcdserver: lease already exists (${leaseId})`);
  }
}

export class ErrLeaseTtlTooLarge extends StoreError {
  readonly code = 'lease-ttl-too-large';
  constructor(readonly ttl: number) {
    super(`etcdserver: too large lease TTL (${ttl})`);
  }
}

export class ErrTooManyOps extends StoreError {
  readonly code = 'too-many-ops';
  constructor(readonly limit: number) {
    super(`etcdserver: too many operations in txn request (limit ${limit})`);
  }
}

/** A txn writes the same key twice, or puts a key that one of its deletes also covers. */
export class ErrDuplicateKey extends StoreError {
  readonly code = 'duplicate-key';
  constructor(readonly key: string) {
    super(`etcdserver: duplicate key given in txn request (${JSON.stringify(key)})`);
  }
}

export class ErrEmptyKey extends StoreError {
  readonly code = 'empty-key';
  constructor() {
    super('etcdserver: key is not provided');
  }
}

/** A request that no backend could serve as written (bad lease id, negative limit...). */
export class ErrInvalidRequest extends StoreError {
  readonly code = 'invalid-request';
}

export class ErrStoreClosed extends StoreError {
  readonly code = 'closed';
  constructor() {
    super('store: closed');
  }
}
