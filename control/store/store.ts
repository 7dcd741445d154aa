import type { StoreError } from './errors.js';

/**
 * The key-value store Skiff's API server is written against, modelled on etcd v3 (KV, Watch and Lease services).
 * Three backends implement it: the in-memory MVCC store (mvcc/), the Raft-replicated store built on it, and etcd.
 *
 * Keys and values are strings. Keys are paths such as '/registry/pods/default/web'; values are the objects'
 * serialized form (JSON text). Strings rather than Uint8Array keep commands, snapshots and the Raft log plain
 * JSON; the etcd backend converts with UTF-8. Keys compare by UTF-16 code unit, which equals etcd's byte order for
 * ASCII keys (all Kubernetes registry keys are ASCII).
 *
 * Revisions: one store-wide counter, strictly increasing, starting at 1 on an empty store. Every write request
 * that changes something (put, a delete that removes at least one key, a txn with at least one change, a lease
 * revoke or expiry that removes keys) takes exactly one new revision, however many keys it touches. Requests that
 * change nothing do not advance it.
 */

/**
 * A lease id; 0 means "no lease". Ids are positive safe integers: etcd's are int64, so the etcd backend must choose
 * the ids it grants itself rather than take etcd's.
 */
export type LeaseId = number;

export const NO_LEASE: LeaseId = 0;

export interface KeyValue {
  readonly key: string;
  /** '' in DELETE events and keysOnly ranges. */
  readonly value: string;
  /** Revision of the put that created this key's current generation (0 in DELETE events). */
  readonly createRevision: number;
  /** Revision of the last modification (the deletion's revision in DELETE events). */
  readonly modRevision: number;
  /** 1 at creation, +1 per put; reset by a delete (0 in DELETE events). */
  readonly version: number;
  readonly lease: LeaseId;
}

export interface ResponseHeader {
  /** The store's revision when the request was served (after it, for writes). */
  readonly revision: number;
}

/**
 * A key or a key range. `rangeEnd` is exclusive; rangeEnd '\0' means "every key >= key", and key '\0' with
 * rangeEnd '\0' means every key (etcd's conventions). `prefix: true` means every key starting with `key`.
 */
export type KeyRange =
  | { readonly key: string; readonly rangeEnd?: string; readonly prefix?: false }
  | { readonly key: string; readonly prefix: true; readonly rangeEnd?: undefined };

export type RangeRequest = KeyRange & {
  /** Read the store as of this revision; 0 or absent means the current revision. */
  readonly revision?: number;
  /** At most this many kvs (0 or absent: no limit). `count` still counts every match. */
  readonly limit?: number;
  readonly countOnly?: boolean;
  readonly keysOnly?: boolean;
  /**
   * Answer from this member's local state, without confirming first that it has applied everything committed
   * (etcd's serializable range): cheaper, possibly stale. For a read that a compare-and-swap will check anyway.
   */
  readonly serializable?: boolean;
};

export interface RangeResponse {
  readonly header: ResponseHeader;
  /** Sorted by key. */
  readonly kvs: KeyValue[];
  /** True when `limit` cut the result short. */
  readonly more: boolean;
  /** Number of keys in the range at the requested revision, regardless of limit. */
  readonly count: number;
}

export interface PutOptions {
  readonly lease?: LeaseId;
  readonly prevKv?: boolean;
}

export interface PutRequest extends PutOptions {
  readonly key: string;
  readonly value: string;
}

export interface PutResponse {
  readonly header: ResponseHeader;
  /** The key's value before the put, when requested and the key existed. */
  readonly prevKv?: KeyValue;
}

export interface DeleteOptions {
  readonly prevKv?: boolean;
}

export type DeleteRequest = KeyRange & DeleteOptions;

export interface DeleteResponse {
  readonly header: ResponseHeader;
  readonly deleted: number;
  /** The deleted kvs, sorted by key, when requested. */
  readonly prevKvs: KeyValue[];
}

export type CompareTarget = 'value' | 'version' | 'createRevision' | 'modRevision' | 'lease';
export type CompareResult = '=' | '!=' | '<' | '>';

/**
 * A txn guard. Over a range, every key in it must satisfy it. A missing key compares as version 0,
 * createRevision 0, modRevision 0 and lease 0, and fails every 'value' comparison (etcd's rule).
 */
export type Compare = KeyRange & { readonly result: CompareResult } & (
    | { readonly target: 'value'; readonly value: string }
    | { readonly target: 'version' | 'createRevision' | 'modRevision' | 'lease'; readonly value: number }
  );

export type Op =
  | ({ readonly type: 'range' } & RangeRequest)
  | ({ readonly type: 'put' } & PutRequest)
  | ({ readonly type: 'delete' } & DeleteRequest)
  | ({ readonly type: 'txn' } & TxnRequest);

export type OpResponse =
  | ({ readonly type: 'range' } & RangeResponse)
  | ({ readonly type: 'put' } & PutResponse)
  | ({ readonly type: 'delete' } & DeleteResponse)
  | ({ readonly type: 'txn' } & TxnResponse);

/**
 * Compares are all evaluated first, against the state before the txn (nested txns' compares too, as etcd does);
 * then the chosen branch's ops run in order, in one revision, each seeing the writes before it. A txn may not
 * write a key twice in one branch (ErrDuplicateKey) nor have more than the store's op limit per list (ErrTooManyOps).
 */
export interface TxnRequest {
  readonly compare: readonly Compare[];
  readonly success: readonly Op[];
  readonly failure: readonly Op[];
}

export interface TxnResponse {
  readonly header: ResponseHeader;
  readonly succeeded: boolean;
  /** One per op of the branch that ran, in order. */
  readonly responses: OpResponse[];
}

export type WatchRequest = KeyRange & {
  /**
   * First revision to report. Absent or 0: only changes after the current revision. Older revisions replay
   * history first; older than the compaction revision ends the watch with ErrCompacted.
   */
  readonly startRevision?: number;
  readonly prevKv?: boolean;
  /** Ask for periodic progress messages while the watch is idle. */
  readonly progressNotify?: boolean;
  readonly noPut?: boolean;
  readonly noDelete?: boolean;
};

export interface WatchEvent {
  readonly type: 'PUT' | 'DELETE';
  readonly kv: KeyValue;
  /** The key's value before this event, when the watch asked for it and the key existed. */
  readonly prevKv?: KeyValue;
}

/**
 * What a watch listener receives. Every change in the watched range is delivered exactly once, in revision order,
 * one 'events' message per revision (holding all of that revision's events in the range, in the order they were
 * made). 'progress' promises that every change up to `revision` has been delivered. 'error' ends the watch.
 */
export type WatchMessage =
  | { readonly type: 'events'; readonly revision: number; readonly events: readonly WatchEvent[] }
  | { readonly type: 'progress'; readonly revision: number }
  | { readonly type: 'error'; readonly error: StoreError };

export type WatchListener = (message: WatchMessage) => void;

export interface Watch {
  readonly id: number;
  /** Stop the watch; no message is delivered after the returned promise resolves. */
  cancel(): Promise<void>;
  /** Ask for a 'progress' message once every change so far has been delivered (etcd's RequestProgress). */
  requestProgress(): void;
}

export interface LeaseGrantResponse {
  readonly header: ResponseHeader;
  readonly id: LeaseId;
  /** The granted TTL in seconds (raised to the store's minimum TTL). */
  readonly ttl: number;
}

export interface LeaseRevokeResponse {
  readonly header: ResponseHeader;
}

export interface LeaseTimeToLiveResponse {
  readonly id: LeaseId;
  /** Remaining seconds (rounded down), or -1 when the lease does not exist (etcd answers so rather than failing). */
  readonly ttl: number;
  readonly grantedTtl: number;
  /** Attached keys, sorted; only when asked for. */
  readonly keys?: string[];
}

export interface CompactResponse {
  readonly header: ResponseHeader;
}

export interface Store {
  range(request: RangeRequest): Promise<RangeResponse>;
  put(key: string, value: string, options?: PutOptions): Promise<PutResponse>;
  /** Deleting nothing is not an error: it answers deleted 0 and takes no revision. */
  delete(key: string | KeyRange, options?: DeleteOptions): Promise<DeleteResponse>;
  txn(request: TxnRequest): Promise<TxnResponse>;
  watch(request: WatchRequest, listener: WatchListener): Promise<Watch>;

  /** `id` absent or 0: the store picks one. Fails with ErrLeaseExists / ErrLeaseTtlTooLarge. */
  leaseGrant(ttlSeconds: number, id?: LeaseId): Promise<LeaseGrantResponse>;
  /** Renews the lease to its full TTL and answers that TTL; ErrLeaseNotFound when it is gone or already expired. */
  leaseKeepAlive(id: LeaseId): Promise<number>;
  /** Deletes the lease and, in one revision, every key attached to it. ErrLeaseNotFound when unknown. */
  leaseRevoke(id: LeaseId): Promise<LeaseRevokeResponse>;
  leaseTimeToLive(id: LeaseId, options?: { keys?: boolean }): Promise<LeaseTimeToLiveResponse>;
  /** Ids of all live leases, ascending. */
  leases(): Promise<LeaseId[]>;

  /**
   * Discards history before `revision`: afterwards reads and watches below it fail with ErrCompacted. ErrCompacted
   * when `revision` is not above the last compaction; ErrFutureRev when above the current revision.
   */
  compact(revision: number): Promise<CompactResponse>;
  /** Ends every watch (with an ErrStoreClosed message) and refuses further requests. */
  close(): Promise<void>;
}
