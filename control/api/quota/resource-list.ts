// Arithmetic on ResourceLists (name -> quantity) as upstream's quota helpers do it (k8s.io/apiserver/pkg/quota/v1):
// exact values, and sums printed in the format of the quantity they started from, so 512Mi + 512Mi is "1Gi" and
// 1 + 500m is "1500m", as upstream's Quantity.Add prints them.
import { canonicalQuantity } from '../core/common.js';
import { quantityFormat, quantityNanos, type QuantityFormat } from '../quantity.js';

export type ResourceList = Record<string, string>;

const NANO = 1_000_000_000n;

/** An exact quantity: its value in nano units and the format it prints in. */
interface Amount {
  nanos: bigint;
  format: QuantityFormat;
}

function amount(q: string | number): Amount {
  return { nanos: quantityNanos(q), format: quantityFormat(q) };
}

/** Quantity.String() of an exact amount. */
export function formatAmount(nanos: bigint, format: QuantityFormat): string {
  if (nanos === 0n) return '0';
  if (format === 'BinarySI' && nanos % NANO === 0n) {
    const whole = nanos / NANO;
    const magnitude = whole < 0n ? -whole : whole;
    if (magnitude >= 1024n) {
      const suffixes = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
      let n = whole;
      let i = 0;
      while (n % 1024n === 0n && i < suffixes.length - 1) {
        n /= 1024n;
        i++;
      }
      return `${n}${suffixes[i]}`;
    }
  }
  if (format === 'DecimalExponent') return canonicalQuantity(`${nanos}e-9`);
  return canonicalQuantity(`${nanos}n`);
}

/** Quantity.Add: the receiver's format, or the other's when the receiver is zero. */
function sum(a: string, b: string, sign: 1n | -1n): string {
  const x = amount(a);
  const y = amount(b);
  const format = x.nanos === 0n ? y.format : x.format;
  return formatAmount(x.nanos + sign * y.nanos, format);
}

/** quota.Add: every resource of either list, summed where both have it. */
export function add(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = k in out ? sum(out[k] as string, v, 1n) : v;
  return out;
}

/** quota.Subtract: a's resources less b's (resources only in b come out negative). */
export function subtract(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = k in out ? sum(out[k] as string, v, -1n) : formatAmount(-quantityNanos(v), quantityFormat(v));
  return out;
}

/** quota.SubtractWithNonNegativeResult: as subtract, floored at zero. */
export function subtractNonNegative(a: ResourceList, b: ResourceList): ResourceList {
  const out = subtract(a, b);
  for (const [k, v] of Object.entries(out)) if (quantityNanos(v) < 0n) out[k] = '0';
  return out;
}

/** quota.Mask: only the named resources. */
export function mask(list: ResourceList, names: Iterable<string>): ResourceList {
  const out: ResourceList = {};
  for (const n of names) if (n in list) out[n] = list[n] as string;
  return out;
}

/** quota.LessThanOrEqual: whether every resource of a that b also has is within b, and the names that are not. */
export function lessThanOrEqual(a: ResourceList, b: ResourceList): { allowed: boolean; exceeded: string[] } {
  const exceeded: string[] = [];
  for (const [k, v] of Object.entries(a)) {
    const limit = b[k];
    if (limit !== undefined && quantityNanos(v) > quantityNanos(limit)) exceeded.push(k);
  }
  return { allowed: exceeded.length === 0, exceeded };
}

export const isZero = (list: ResourceList): boolean => Object.values(list).every((v) => quantityNanos(v) === 0n);

export function removeZeros(list: ResourceList): ResourceList {
  return Object.fromEntries(Object.entries(list).filter(([, v]) => quantityNanos(v) !== 0n));
}

/** The resources with a negative quantity. */
export const negatives = (list: ResourceList): string[] => Object.keys(list).filter((k) => quantityNanos(list[k] as string) < 0n);

/** quota.Equals: the same resources with equal values. */
export function equals(a: ResourceList, b: ResourceList): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => b[k] !== undefined && quantityNanos(a[k] as string) === quantityNanos(b[k] as string));
}

/** `name=quantity` pairs sorted by name and joined with commas, as upstream's prettyPrint. */
export function prettyPrint(list: ResourceList): string {
  return Object.keys(list)
    .sort()
    .map((k) => `${k}=${canonicalQuantity(list[k] as string)}`)
    .join(',');
}

/** The largest of each resource across the lists (quota.Max). */
export function max(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = { ...a };
  for (const [k, v] of Object.entries(b)) if (!(k in out) || quantityNanos(v) > quantityNanos(out[k] as string)) out[k] = v;
  return out;
}
