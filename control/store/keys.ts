import { ErrEmptyKey, ErrInvalidRequest } from './errors.js';
import type { KeyRange } from './store.js';

/** etcd's "to the end of the keyspace" marker, as a rangeEnd. */
export const UNBOUNDED = '\0';

/** A normalized key range: `end` undefined means the single key `start`; UNBOUNDED means every key >= start. */
export interface KeyInterval {
  readonly start: string;
  readonly end: string | undefined;
}

/**
 * The smallest key greater than every key with this prefix. Works on UTF-16 code units, the order keys sort in;
 * a prefix made only of U+FFFF (or empty) has no upper bound.
 */
export function prefixEnd(prefix: string): string {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const c = prefix.charCodeAt(i);
    if (c < 0xffff) return prefix.slice(0, i) + String.fromCharCode(c + 1);
  }
  return UNBOUNDED;
}

export function toInterval(range: KeyRange): KeyInterval {
  // Ranges also arrive in commands parsed from the Raft log, where the types are only a claim.
  if (typeof range.key !== 'string' || (range.rangeEnd !== undefined && typeof range.rangeEnd !== 'string')) {
    throw new ErrInvalidRequest('key and rangeEnd must be strings');
  }
  if (range.prefix === true) {
    // clientv3 turns an empty prefix into "every key": key '\0', end '\0'.
    return range.key === '' ? { start: UNBOUNDED, end: UNBOUNDED } : { start: range.key, end: prefixEnd(range.key) };
  }
  if (range.key === '') throw new ErrEmptyKey();
  return { start: range.key, end: range.rangeEnd === '' ? undefined : range.rangeEnd };
}

export function intervalContains(iv: KeyInterval, key: string): boolean {
  if (iv.end === undefined) return key === iv.start;
  if (key < iv.start) return false;
  return iv.end === UNBOUNDED || key < iv.end;
}

export function intervalsOverlap(a: KeyInterval, b: KeyInterval): boolean {
  const aEnd = a.end === undefined ? a.start + '\0' : a.end;
  const bEnd = b.end === undefined ? b.start + '\0' : b.end;
  const aBeforeB = aEnd !== UNBOUNDED && aEnd <= b.start;
  const bBeforeA = bEnd !== UNBOUNDED && bEnd <= a.start;
  return !aBeforeB && !bBeforeA;
}

/** Normalizes the `key | {key, prefix}` argument forms of delete(). */
export function asKeyRange(key: string | KeyRange): KeyRange {
  return typeof key === 'string' ? { key } : key;
}
