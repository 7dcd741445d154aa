/**
 * The characters of upstream's k8s.io/apimachinery/pkg/util/rand: no vowels and no 0, 1 or 3, so that what is made of
 * them never spells a word. Generated name suffixes are drawn from it, and SafeEncodeString maps hashes into it.
 */
export const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** utilrand.SafeEncodeString: each character replaced by the SAFE_ALPHABET character its code selects. */
export function safeEncodeString(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += SAFE_ALPHABET[s.charCodeAt(i) % SAFE_ALPHABET.length];
  return out;
}
