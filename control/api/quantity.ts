// Kubernetes resource.Quantity: "<number><suffix>" with binary (Ki..Ei), decimal SI (n..E) or
// exponent (e3, E-2) suffixes. Values are kept as exact rationals internally because CPU is
// rounded up to millicores upstream, and float error ("0.1" * 1000 = 100.00000000000001) would
// otherwise round 100m up to 101m.

export const QUANTITY_FORMAT_ERROR =
  "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
export const QUANTITY_SUFFIX_ERROR = "unable to parse quantity's suffix";

// Upstream stores quantities as int64 scaled values, so anything this far out is nonsense; the cap
// keeps exact bigint arithmetic from being made to allocate without bound by a hostile manifest.
const MAX_EXPONENT = 1000;
export const QUANTITY_RANGE_ERROR = 'quantity is out of range';

export class QuantityError extends Error {
  override name = 'QuantityError';
}

/** value = sign * digits * 10^exp10 * 2^exp2, exactly. */
interface Exact {
  negative: boolean;
  digits: bigint;
  exp10: number;
  exp2: number;
}

const FORMAT = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;
const NUMBER = /^([+-]?)(?:(\d+)(?:\.(\d*))?|\.(\d+))$/;
const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

/**
 * What parseExact made of recent strings (an Exact, or the QuantityError message): every pod written brings the
 * same few quantities ("100m", "128Mi") to validation, scheduling and quota, several times each. Bounded, and
 * emptied when full. Nothing changes an Exact once made.
 */
const parsed = new Map<string, Readonly<Exact> | string>();
const PARSED_MAX = 512;

function parseExact(input: string | number): Exact {
  if (typeof input !== 'string') return parseExactUncached(input);
  const known = parsed.get(input);
  if (typeof known === 'string') throw new QuantityError(known);
  if (known) return known;
  let result: Exact | string;
  try {
    result = Object.freeze(parseExactUncached(input));
  } catch (e) {
    if (!(e instanceof QuantityError)) throw e;
    result = e.message;
  }
  // Only short strings: a hostile manifest's megabyte quantity is not worth keeping.
  if (input.length <= 64) {
    if (parsed.size >= PARSED_MAX) parsed.clear();
    parsed.set(input, result);
  }
  if (typeof result === 'string') throw new QuantityError(result);
  return result;
}

function parseExactUncached(input: string | number): Exact {
  const s = typeof input === 'number' ? numberText(input) : input.trim();
  const m = FORMAT.exec(s);
  if (!m) throw new QuantityError(QUANTITY_FORMAT_ERROR);
  const num = NUMBER.exec(m[1] ?? '');
  if (!num) throw new QuantityError(QUANTITY_FORMAT_ERROR);
  const whole = num[2] ?? '';
  const frac = num[3] ?? num[4] ?? '';
  const suffix = m[2] ?? '';
  let exp10 = -frac.length;
  let exp2 = 0;
  if (suffix in BINARY) exp2 = BINARY[suffix] ?? 0;
  else if (suffix in DECIMAL) exp10 += DECIMAL[suffix] ?? 0;
  else if (/^[eE][-+]?\d+$/.test(suffix)) exp10 += Number.parseInt(suffix.slice(1), 10);
  else throw new QuantityError(QUANTITY_SUFFIX_ERROR);
  if (Math.abs(exp10) > MAX_EXPONENT) throw new QuantityError(QUANTITY_RANGE_ERROR);
  return { negative: num[1] === '-', digits: BigInt(`${whole}${frac}` || '0'), exp10, exp2 };
}

// JS prints 1e21 and up (and tiny numbers) in exponent form, which the grammar above accepts too.
function numberText(n: number): string {
  if (!Number.isFinite(n)) throw new QuantityError(QUANTITY_FORMAT_ERROR);
  return String(n).replace('e+', 'e');
}

/** Numerator/denominator of value * 10^shift, as bigints with a positive denominator. */
function ratio(q: Exact, shift = 0): [bigint, bigint] {
  const e = q.exp10 + shift;
  let num = q.digits * 2n ** BigInt(q.exp2);
  let den = 1n;
  if (e >= 0) num *= 10n ** BigInt(e);
  else den = 10n ** BigInt(-e);
  return [q.negative ? -num : num, den];
}

function ceilDiv(num: bigint, den: bigint): bigint {
  const q = num / den;
  return num % den !== 0n && num > 0n ? q + 1n : q;
}

/** The numeric value of a quantity: parseQuantity('500m') === 0.5, parseQuantity('1Ki') === 1024. Throws QuantityError. */
export function parseQuantity(s: string | number): number {
  const q = parseExact(s);
  const v = Number(`${q.digits}e${q.exp10}`) * 2 ** q.exp2;
  return q.negative ? -v : v;
}

/** The reason a quantity is malformed, in upstream's words, or undefined when it parses. */
export function quantityError(s: unknown): string | undefined {
  if (typeof s !== 'string' && typeof s !== 'number') return QUANTITY_FORMAT_ERROR;
  try {
    parseExact(s);
    return undefined;
  } catch (e) {
    return e instanceof QuantityError ? e.message : QUANTITY_FORMAT_ERROR;
  }
}

/** CPU in millicores, rounded up like upstream's milli-scale RoundUp (so "0.0001" is 1m). */
export function cpuMillis(q: string | number): number {
  const [num, den] = ratio(parseExact(q), 3);
  return Number(ceilDiv(num, den));
}

/** Memory (or any byte quantity) in whole bytes, rounded up like Quantity.Value(). */
export function memoryBytes(q: string | number): number {
  const [num, den] = ratio(parseExact(q));
  return Number(ceilDiv(num, den));
}

/** Exact comparison: negative when a < b, 0 when equal, positive when a > b. */
export function compareQuantities(a: string | number, b: string | number): number {
  const [an, ad] = ratio(parseExact(a));
  const [bn, bd] = ratio(parseExact(b));
  const diff = an * bd - bn * ad;
  return diff < 0n ? -1 : diff > 0n ? 1 : 0;
}

export function isNegativeQuantity(q: string | number): boolean {
  const x = parseExact(q);
  return x.negative && x.digits !== 0n;
}

/** Which of upstream's three formats a quantity's suffix selects: arithmetic results are printed in it. */
export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

export function quantityFormat(q: string | number): QuantityFormat {
  const suffix = FORMAT.exec(typeof q === 'number' ? numberText(q) : q.trim())?.[2] ?? '';
  if (suffix in BINARY) return 'BinarySI';
  if (/^[eE]/.test(suffix)) return 'DecimalExponent';
  return 'DecimalSI';
}

/** The value in nano units (10^-9), rounded up as upstream rounds anything finer than its nano scale. Throws QuantityError. */
export function quantityNanos(q: string | number): bigint {
  const [num, den] = ratio(parseExact(q), 9);
  return ceilDiv(num, den);
}
