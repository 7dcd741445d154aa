import { describe, expect, it } from 'vitest';
import { SAFE_ALPHABET, safeEncodeString } from '../../../../control/api/safe-encoding.js';
import { NAME_SUFFIX_ALPHABET } from '../../../../control/apiserver/name-suffix.js';

describe('safeEncodeString (utilrand.SafeEncodeString)', () => {
  it('maps each character by its code into the alphabet, as upstream spells a pod-template-hash', () => {
    // '0'..'9' are codes 48..57: indexes 21..26, then 0..3.
    expect(safeEncodeString('0123456789')).toBe('456789bcdf');
    expect(safeEncodeString('')).toBe('');
  });

  it('is the alphabet generated name suffixes are drawn from', () => {
    expect(NAME_SUFFIX_ALPHABET).toBe(SAFE_ALPHABET);
    expect(SAFE_ALPHABET).toBe('bcdfghjklmnpqrstvwxz2456789');
  });
});
