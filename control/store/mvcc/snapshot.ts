import { ErrInvalidRequest } from '../errors.js';
import type { LeaseId } from '../store.js';
import { tombstoneKv, type Entry } from './key-index.js';
import type { LeaseRecord } from './lessor.js';

export const SNAPSHOT_FORMAT = 'skiff.mvcc/v1';

/** A put: [revision, sub, key, value, createRevision, version, lease]. A deletion: [revision, sub, key]. */
export type SnapshotEntry =
  | readonly [number, number, string]
  | readonly [number, number, string, string, number, number, LeaseId];

/**
 * The whole replicated state as plain JSON: every retained key version in revision order (the history and the
 * key index are both rebuilt from it), the leases, and the counters. Lease deadlines are not in it: they are
 * local to the node that enforces them. Two stores that applied the same commands produce identical snapshots.
 */
export interface StoreSnapshot {
  readonly format: typeof SNAPSHOT_FORMAT;
  readonly revision: number;
  readonly compactRevision: number;
  readonly entries: readonly SnapshotEntry[];
  readonly leases: readonly (readonly [LeaseId, number])[];
  readonly lastLeaseId: LeaseId;
}

export function encodeEntry(e: Entry): SnapshotEntry {
  if (e.tombstone) return [e.main, e.sub, e.kv.key];
  return [e.main, e.sub, e.kv.key, e.kv.value, e.kv.createRevision, e.kv.version, e.kv.lease];
}

export function decodeEntry(s: SnapshotEntry): Entry {
  const [main, sub, key] = s;
  if (s.length === 3) return { main, sub, kv: tombstoneKv(key, main), tombstone: true };
  const [, , , value, createRevision, version, lease] = s;
  const kv = Object.freeze({ key, value, createRevision, modRevision: main, version, lease });
  return { main, sub, kv, tombstone: false };
}

export function decodeLeases(snapshot: StoreSnapshot): LeaseRecord[] {
  return snapshot.leases.map(([id, ttl]) => ({ id, ttl }));
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

/** Checks the shape of untrusted input (a snapshot received over the network or read from disk). */
export function assertSnapshot(value: unknown): asserts value is StoreSnapshot {
  const fail = (why: string): never => {
    throw new ErrInvalidRequest(`snapshot: ${why}`);
  };
  if (typeof value !== 'object' || value === null) return fail('not an object');
  const s = value as Record<string, unknown>;
  if (s.format !== SNAPSHOT_FORMAT) fail(`unknown format ${String(s.format)}`);
  if (!isInt(s.revision) || s.revision < 1) fail('bad revision');
  if (!isInt(s.compactRevision) || s.compactRevision < 0) fail('bad compactRevision');
  if (!isInt(s.lastLeaseId)) fail('bad lastLeaseId');
  if (!Array.isArray(s.entries) || !Array.isArray(s.leases)) return fail('entries and leases must be arrays');
  for (const e of s.entries as unknown[]) {
    const ok =
      Array.isArray(e) &&
      isInt(e[0]) &&
      isInt(e[1]) &&
      typeof e[2] === 'string' &&
      (e.length === 3 || (e.length === 7 && typeof e[3] === 'string' && isInt(e[4]) && isInt(e[5]) && isInt(e[6])));
    if (!ok) fail(`bad entry ${JSON.stringify(e)}`);
  }
  for (const l of s.leases as unknown[]) {
    if (!Array.isArray(l) || l.length !== 2 || !isInt(l[0]) || !isInt(l[1])) fail(`bad lease ${JSON.stringify(l)}`);
  }
}
