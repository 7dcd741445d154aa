/**
 * resource.Quantity's canonical string form (k8s.io/apimachinery/pkg/api/resource, CanonicalizeBytes), which is
 * what upstream's printers show for capacities, quota usage and metric values: "1024Mi" prints as "1Gi", "1.5" as
 * "1500m", "2000" as "2k", "0.5Gi" as "512Mi". Exact arithmetic on BigInt; values upstream would keep in its
 * arbitrary-precision fallback (beyond int64) may differ. Returns undefined for text that is not a quantity.
 */

const BINARY: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const DECIMAL_SUFFIX = new Map(Object.entries(DECIMAL).map(([s, e]) => [e, s]));
const BINARY_SUFFIX = new Map(Object.entries(BINARY).map(([s, e]) => [e, s]));

const QUANTITY_RE = /^([+-]?)(\d+\.?\d*|\.\d+)([eE][+-]?\d+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/;

function pow10(n: number): bigint {
  return 10n ** BigInt(n);
}

export function canonicalQuantity(input: string | number): string | undefined {
  const text = typeof input === 'number' ? numberText(input) : input.trim();
  if (text === undefined) return undefined;
  const m = QUANTITY_RE.exec(text);
  if (!m) return undefined;
  const negative = m[1] === '-';
  const numText = m[2] as string;
  const suffix = m[3] ?? '';

  const [intPart = '', fracPart = ''] = numText.split('.');
  let value = BigInt((intPart + fracPart).replace(/^0+(?=\d)/, '') || '0');
  let scale = -fracPart.length;
  let format: 'BinarySI' | 'DecimalSI' | 'DecimalExponent';
  if (suffix in BINARY) {
    format = 'BinarySI';
    value *= 1n << BigInt(10 * (BINARY[suffix] as number));
  } else if (/^[eE][+-]?\d+$/.test(suffix)) {
    format = 'DecimalExponent';
    scale += Number(suffix.slice(1));
  } else {
    format = 'DecimalSI';
    scale += DECIMAL[suffix] as number;
  }
  if (negative) value = -value;

  // Anything finer than a nano is rounded up (away from zero) to the nearest nano.
  if (scale < -9) {
    const factor = pow10(-9 - scale);
    let q = value / factor;
    if (value % factor !== 0n) q += value < 0n ? -1n : 1n;
    value = q;
    scale = -9;
  }

  if (value === 0n) return '0';

  if (format === 'BinarySI') {
    // Small or fractional binary quantities print in decimal, so nothing is rounded.
    const integral = scale >= 0 ? value * pow10(scale) : value % pow10(-scale) === 0n ? value / pow10(-scale) : undefined;
    if (integral === undefined || (integral > -1024n && integral < 1024n)) {
      format = 'DecimalSI';
    } else {
      let amount = integral < 0n ? -integral : integral;
      let times = 0;
      while (amount >= 1024n && amount % 1024n === 0n) {
        amount /= 1024n;
        times++;
      }
      const sfx = BINARY_SUFFIX.get(times);
      if (sfx === undefined) return undefined;
      return `${integral < 0n ? '-' : ''}${amount}${sfx}`;
    }
  }

  // Decimal: strip trailing zeros into the exponent, then lower it to a multiple of three.
  let amount = value < 0n ? -value : value;
  let exponent = scale;
  while (amount >= 10n && amount % 10n === 0n) {
    amount /= 10n;
    exponent++;
  }
  const rem = exponent % 3;
  if (rem === 1 || rem === -2) {
    amount *= 10n;
    exponent -= 1;
  } else if (rem === 2 || rem === -1) {
    amount *= 100n;
    exponent -= 2;
  }
  const sign = value < 0n ? '-' : '';
  if (format === 'DecimalExponent') return `${sign}${amount}${exponent === 0 ? '' : `e${exponent}`}`;
  const sfx = DECIMAL_SUFFIX.get(exponent);
  if (sfx === undefined) return `${sign}${amount}e${exponent}`;
  return `${sign}${amount}${sfx}`;
}

function numberText(n: number): string | undefined {
  if (!Number.isFinite(n)) return undefined;
  // JSON numbers decode as decimal quantities; avoid JS exponent notation for the parser.
  const s = String(n);
  if (!/e/i.test(s)) return s;
  const [mant = '', exp = '0'] = s.split(/e/i);
  return `${mant}e${exp.replace('+', '')}`;
}
