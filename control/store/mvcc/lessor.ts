import { ErrInvalidRequest, ErrLeaseExists, ErrLeaseNotFound, ErrLeaseTtlTooLarge } from '../errors.js';
import type { LeaseId } from '../store.js';

/** etcd's MaxLeaseTTL: 9,000,000,000 seconds. */
export const MAX_LEASE_TTL = 9_000_000_000;

export interface LeaseRecord {
  readonly id: LeaseId;
  readonly ttl: number;
}

interface Lease extends LeaseRecord {
  readonly keys: Set<string>;
}

/**
 * Leases, split the way etcd's lessor splits them. Replicated state (which leases exist, their TTLs, attached
 * keys, the id counter) changes only through grant/revoke/attach/detach, driven by applied commands. Expiry
 * deadlines are local soft state from the caller's clock: only the node that owns expiry (the Raft leader, or a
 * standalone store) acts on them, by applying revoke commands, and they are reset to a full TTL on restore.
 */
export class Lessor {
  private leases = new Map<LeaseId, Lease>();
  private deadlines = new Map<LeaseId, number>();
  private lastId = 0;

  constructor(private readonly minTtl: number) {}

  /** An id no lease has had yet; deterministic so replicas agree. */
  nextId(): LeaseId {
    return this.lastId + 1;
  }

  /** Answers the TTL actually granted. */
  grant(id: LeaseId, ttl: number, now: number): number {
    if (!Number.isSafeInteger(id) || id <= 0) {
      throw new ErrInvalidRequest(`lease id must be a positive safe integer, got ${id}`);
    }
    if (this.leases.has(id)) throw new ErrLeaseExists(id);
    if (!Number.isFinite(ttl) || ttl > MAX_LEASE_TTL) throw new ErrLeaseTtlTooLarge(ttl);
    const granted = Math.max(this.minTtl, Math.ceil(ttl));
    this.leases.set(id, { id, ttl: granted, keys: new Set() });
    this.deadlines.set(id, now + granted * 1000);
    this.lastId = Math.max(this.lastId, id);
    return granted;
  }

  has(id: LeaseId): boolean {
    return this.leases.has(id);
  }

  /** Removes the lease; answers its keys, sorted so every replica deletes them in the same order (as etcd does). */
  revoke(id: LeaseId): string[] {
    const lease = this.require(id);
    this.leases.delete(id);
    this.deadlines.delete(id);
    return [...lease.keys].sort();
  }

  attach(id: LeaseId, key: string): void {
    this.require(id).keys.add(key);
  }

  detach(id: LeaseId, key: string): void {
    this.leases.get(id)?.keys.delete(key);
  }

  /** Renews to a full TTL; a lease past its deadline is as good as gone (it is waiting to be revoked). */
  renew(id: LeaseId, now: number): number {
    const lease = this.require(id);
    if ((this.deadlines.get(id) ?? Infinity) <= now) throw new ErrLeaseNotFound(id);
    this.deadlines.set(id, now + lease.ttl * 1000);
    return lease.ttl;
  }

  /** Ids whose deadline has passed, soonest first. */
  expired(now: number): LeaseId[] {
    const due: Array<[LeaseId, number]> = [];
    for (const [id, deadline] of this.deadlines) if (deadline <= now) due.push([id, deadline]);
    return due.sort((a, b) => a[1] - b[1] || a[0] - b[0]).map(([id]) => id);
  }

  /** Gives every lease a full TTL from `now`: what a new leader does (etcd's Promote), and what restore does. */
  refresh(now: number): void {
    for (const lease of this.leases.values()) this.deadlines.set(lease.id, now + lease.ttl * 1000);
  }

  timeToLive(id: LeaseId, now: number): { remainingMs: number; ttl: number; keys: string[] } | undefined {
    const lease = this.leases.get(id);
    if (lease === undefined) return undefined;
    const remainingMs = Math.max(0, (this.deadlines.get(id) ?? now) - now);
    return { remainingMs, ttl: lease.ttl, keys: [...lease.keys].sort() };
  }

  ids(): LeaseId[] {
    return [...this.leases.keys()].sort((a, b) => a - b);
  }

  private require(id: LeaseId): Lease {
    const lease = this.leases.get(id);
    if (lease === undefined) throw new ErrLeaseNotFound(id);
    return lease;
  }

  /** Replicated part only; attached keys are rebuilt from the kvs' lease fields. */
  records(): { leases: LeaseRecord[]; lastId: number } {
    return { leases: this.ids().map((id) => ({ id, ttl: this.leases.get(id)!.ttl })), lastId: this.lastId };
  }

  static fromRecords(minTtl: number, leases: readonly LeaseRecord[], lastId: number, now: number): Lessor {
    const lessor = new Lessor(minTtl);
    for (const { id, ttl } of leases) lessor.leases.set(id, { id, ttl, keys: new Set() });
    lessor.lastId = lastId;
    lessor.refresh(now);
    return lessor;
  }
}
