/**
 * The decision half of client-go's leader election, with no I/O: given the Lease as last read and when this
 * candidate first saw it in that state, whether to take or renew it, and with what record.
 */

/** What a coordination.k8s.io/v1 Lease's spec holds for leader election. */
export interface LeaderElectionRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions: number;
}

/**
 * The record as this candidate last saw it and when (by its own clock). Expiry is judged against the time of that
 * observation, never against the renewTime written by another machine, so clock skew between candidates does not
 * matter (client-go does the same).
 */
export interface Observation {
  record: LeaderElectionRecord;
  /** A stable rendering of the record, to notice any change. */
  key: string;
  observedAtMs: number;
}

export type Decision =
  | { action: 'create'; record: LeaderElectionRecord; observation: Observation }
  | { action: 'update'; record: LeaderElectionRecord; observation: Observation }
  | { action: 'wait'; holder: string; observation: Observation };

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
export const microTime = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export const recordKey = (r: LeaderElectionRecord): string =>
  JSON.stringify([r.holderIdentity, r.leaseDurationSeconds, r.acquireTime ?? '', r.renewTime ?? '', r.leaseTransitions]);

export interface DecideInput {
  identity: string;
  nowMs: number;
  leaseDurationSeconds: number;
  /** The Lease's current record; undefined when the Lease does not exist. */
  current: LeaderElectionRecord | undefined;
  previous: Observation | undefined;
}

export function decide(input: DecideInput): Decision {
  const { identity, nowMs, leaseDurationSeconds, current } = input;
  const now = microTime(nowMs);
  if (!current) {
    const record: LeaderElectionRecord = { holderIdentity: identity, leaseDurationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 };
    return { action: 'create', record, observation: { record, key: recordKey(record), observedAtMs: nowMs } };
  }
  const key = recordKey(current);
  // The clock starts when the record last changed as seen from here.
  const observation = input.previous && input.previous.key === key ? input.previous : { record: current, key, observedAtMs: nowMs };
  const heldByOther = current.holderIdentity !== '' && current.holderIdentity !== identity;
  if (heldByOther && observation.observedAtMs + current.leaseDurationSeconds * 1000 > nowMs) {
    return { action: 'wait', holder: current.holderIdentity, observation };
  }
  const renewing = current.holderIdentity === identity;
  const record: LeaderElectionRecord = {
    holderIdentity: identity,
    leaseDurationSeconds,
    acquireTime: renewing && current.acquireTime ? current.acquireTime : now,
    renewTime: now,
    leaseTransitions: renewing ? current.leaseTransitions : current.leaseTransitions + 1,
  };
  return { action: 'update', record, observation };
}

/** What a holder writes when it steps down on purpose, so that others need not wait out the lease. */
export function releasedRecord(current: LeaderElectionRecord, nowMs: number): LeaderElectionRecord {
  const now = microTime(nowMs);
  return { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: current.leaseTransitions };
}
