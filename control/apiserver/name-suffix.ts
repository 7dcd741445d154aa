import { SAFE_ALPHABET } from '../api/safe-encoding.js';

/** The characters upstream's generated name suffixes are made of (utilrand): no vowels, no 0/1/3, so no words. */
export const NAME_SUFFIX_ALPHABET = SAFE_ALPHABET;

/**
 * Five characters of NAME_SUFFIX_ALPHABET, as upstream's SimpleNameGenerator appends to generateName and its
 * ServiceAccount admission to the token volume's name. Not from the CSPRNG: like upstream's (math/rand) they need to
 * be unlikely to collide, not unguessable, and crypto's randomInt, five calls for every pod, was 0.6-1% of the main
 * thread under a burst of creates.
 */
export function generateNameSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += NAME_SUFFIX_ALPHABET[Math.floor(Math.random() * NAME_SUFFIX_ALPHABET.length)];
  return s;
}
