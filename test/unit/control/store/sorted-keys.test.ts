import { describe, expect, it } from 'vitest';
import { SortedKeySet } from '../../../../control/store/mvcc/sorted-keys.js';
import { Rng } from './random.js';

describe('SortedKeySet', () => {
  it('matches a sorted array under random adds and deletes, across chunk splits', () => {
    const rng = new Rng(7);
    const set = new SortedKeySet();
    const model = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const key = `/k/${rng.int(5000).toString(36)}`;
      if (rng.next() < 0.7) {
        expect(set.add(key)).toBe(!model.has(key));
        model.add(key);
      } else {
        expect(set.delete(key)).toBe(model.has(key));
        model.delete(key);
      }
    }
    const sorted = [...model].sort();
    expect(set.size).toBe(sorted.length);
    expect([...set.range('', undefined)]).toEqual(sorted);
    const from = '/k/5';
    const to = '/k/9';
    expect([...set.range(from, to)]).toEqual(sorted.filter((k) => k >= from && k < to));
  });

  it('builds from sorted keys', () => {
    const keys = Array.from({ length: 3000 }, (_, i) => `/x/${String(i).padStart(5, '0')}`);
    const set = SortedKeySet.fromSorted(keys);
    expect(set.size).toBe(3000);
    expect(set.has('/x/01234')).toBe(true);
    expect(set.add('/x/01234a')).toBe(true);
    expect([...set.range('/x/01234', '/x/01236')]).toEqual(['/x/01234', '/x/01234a', '/x/01235']);
  });
});
