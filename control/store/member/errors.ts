import { StoreError } from '../errors.js';

/**
 * Errors of a Raft store member. Their `code`s are the ones etcdapi/errors.ts maps to etcd's UNAVAILABLE answers
 * ("etcdserver: no leader", "etcdserver: request timed out"), so clients retry them as they retry etcd.
 *
 * `retryable` says whether the request is known NOT to have been applied, so repeating it cannot apply it twice:
 * true for no-leader and not-leader; false for timeout, whose outcome is unknown (the entry may still commit).
 */
export abstract class MemberError extends StoreError {
  abstract readonly retryable: boolean;
}

/** No leader is known (an election is running, or this member is cut off from a quorum). Nothing was proposed. */
export class ErrNoLeader extends MemberError {
  readonly code = 'no-leader';
  readonly retryable = true;
  constructor(detail = 'no leader') {
    super(`etcdserver: no leader (${detail})`);
  }
}

/**
 * The proposal was not committed: the leader that accepted it lost leadership and its entry was replaced, or the
 * request had to be served by a leader and this member is not (lease keep-alive without a reachable leader).
 */
export class ErrNotLeader extends MemberError {
  readonly code = 'not-leader';
  readonly retryable = true;
  constructor(detail = 'leader changed') {
    super(`etcdserver: not leader (${detail})`);
  }
}

/** The request did not complete in time. For a write the outcome is unknown: it may still be applied. */
export class ErrTimeout extends MemberError {
  readonly code = 'timeout';
  readonly retryable = false;
  constructor(detail = 'request timed out') {
    super(`etcdserver: request timed out (${detail})`);
  }
}

/** The member is shutting down (or its WAL failed); maps to etcd's "server stopped". */
export class ErrStopped extends MemberError {
  readonly code = 'stopped';
  readonly retryable = false;
  constructor(detail = 'server stopped') {
    super(`etcdserver: server stopped (${detail})`);
  }
}

/** A configuration change is proposed and not yet applied: one at a time (nothing was proposed). */
export class ErrConfChangePending extends MemberError {
  readonly code = 'conf-change-pending';
  readonly retryable = false;
  constructor() {
    super('etcdserver: unhealthy cluster (a membership change is still pending)');
  }
}

/**
 * Refused membership changes, worded as etcd's (etcdapi/errors.ts maps their codes to etcd's gRPC errors). Nothing
 * was proposed.
 */
export class ErrMembership extends MemberError {
  readonly retryable = false;
  constructor(
    readonly code: 'member-exists' | 'peer-url-exists' | 'member-not-enough-started' | 'member-bad-urls' | 'member-not-found' | 'member-learner',
    detail?: string,
  ) {
    super(`${MEMBERSHIP_MESSAGES[code]}${detail === undefined ? '' : ` (${detail})`}`);
  }
}

export const MEMBERSHIP_MESSAGES = {
  'member-exists': 'etcdserver: member ID already exist',
  'peer-url-exists': 'etcdserver: Peer URLs already exists',
  'member-not-enough-started': 'etcdserver: re-configuration failed due to not enough started members',
  'member-bad-urls': 'etcdserver: given member URLs are invalid',
  'member-not-found': 'etcdserver: member not found',
  'member-learner': 'etcdserver: learner members are not supported by Skiff',
} as const;

export function isRetryable(error: unknown): boolean {
  return error instanceof MemberError && error.retryable;
}
