import { describe, expect, it } from 'vitest';
import { generateNameSuffix, NAME_SUFFIX_ALPHABET } from '../../../../control/apiserver/name-suffix.js';

describe('generateNameSuffix', () => {
  it('makes five characters of the alphabet, every one of them in use', () => {
    const seen = new Set<string>();
    const suffixes = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const s = generateNameSuffix();
      expect(s).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      suffixes.add(s);
      for (const c of s) seen.add(c);
    }
    expect([...seen].sort().join('')).toBe([...NAME_SUFFIX_ALPHABET].sort().join(''));
    // 27^5 = 14 million names: 2,000 draws repeat one only rarely.
    expect(suffixes.size).toBeGreaterThan(1990);
  });
});
