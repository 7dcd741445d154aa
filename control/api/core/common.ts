// Shared plumbing for the core/v1 kinds other than Pod: decoding a manifest against a schema (apiVersion/kind
// checks, unknown fields, zod issues as FieldErrors), omitempty compaction, and the validation helpers that
// several kinds use (IPs, CIDRs, resource names and quantities, immutability).
import { isIP } from 'node:net';
import type { z } from 'zod';
import { invalid, notSupported, required, type FieldError } from '../errors.js';
import { isQualifiedName } from '../names.js';
import { isNegativeQuantity, parseQuantity, quantityError } from '../quantity.js';
import { findUnknownFields } from '../unknown-fields.js';

export { decodeKind, dropNulls, isPlainObject, type DecodeOptions, type DecodeResult } from '../decode.js';
import { isPlainObject } from '../decode.js';

/**
 * Drops what Go's `omitempty` would: undefined members and empty lists. Empty objects stay, because upstream
 * serialises nested structs (status.loadBalancer: {}) even when empty; maps that upstream omits are simply not
 * materialised by the schemas.
 */
export function compactObject<T>(value: T): T {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (!isPlainObject(v)) return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined) continue;
      if (Array.isArray(x) && x.length === 0) continue;
      Object.defineProperty(out, k, { value: walk(x), enumerable: true, writable: true, configurable: true });
    }
    return out;
  };
  return walk(value) as T;
}

// ---------------- validation helpers ----------------

export const FIELD_IMMUTABLE = 'field is immutable';
export const IMMUTABLE_WHEN_SET = 'field is immutable when `immutable` is set';
export const NOT_POSITIVE = 'must be greater than zero';
export const NOT_INTEGER = 'must be an integer';
export const INVALID_QUOTA_RESOURCE = 'must be a standard resource for quota';

/**
 * Structural equality of JSON values (object member order ignored, an undefined member as an absent one), as Go's
 * reflect.DeepEqual on decoded data. Builds nothing: it runs on every pod written (update validation, decoding in part).
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  let members = 0;
  for (const k in ao) {
    if (!Object.hasOwn(ao, k) || ao[k] === undefined) continue;
    members++;
    if (!Object.hasOwn(bo, k) || !jsonEqual(ao[k], bo[k])) return false;
  }
  for (const k in bo) if (Object.hasOwn(bo, k) && bo[k] !== undefined) members--;
  return members === 0;
}

/** apimachinery's ValidateImmutableField: an Invalid error carrying the new value. */
export function immutableField(newVal: unknown, oldVal: unknown, path: string): FieldError[] {
  return jsonEqual(newVal, oldVal) ? [] : [invalid(path, newVal ?? null, FIELD_IMMUTABLE)];
}

export const IP_MESSAGE = 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)';
export const CIDR_MESSAGE = 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)';

/** Go's ParseIPSloppy also takes IPv4 octets with leading zeros, which node's isIP refuses. */
export function ipFamilyOf(value: string): 4 | 6 | 0 {
  const v = isIP(value);
  if (v !== 0) return v as 4 | 6;
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(value) && value.split('.').every((o) => Number(o) <= 255)) return 4;
  return 0;
}

export function validateIP(value: string, path: string): FieldError[] {
  return ipFamilyOf(value) === 0 ? [invalid(path, value, IP_MESSAGE)] : [];
}

export function cidrFamilyOf(value: string): 4 | 6 | 0 {
  const slash = value.indexOf('/');
  if (slash < 0) return 0;
  const fam = ipFamilyOf(value.slice(0, slash));
  const bits = value.slice(slash + 1);
  if (fam === 0 || !/^\d{1,3}$/.test(bits)) return 0;
  return Number(bits) <= (fam === 4 ? 32 : 128) ? fam : 0;
}

export function validateCIDR(value: string, path: string): FieldError[] {
  return cidrFamilyOf(value) === 0 ? [invalid(path, value, CIDR_MESSAGE)] : [];
}

/** ValidateNonSpecialIP: endpoints and external IPs may not be unspecified, loopback or link-local. */
export function validateNonSpecialIP(value: string, path: string): FieldError[] {
  const fam = ipFamilyOf(value);
  if (fam === 0) return [invalid(path, value, 'must be a valid IP address')];
  const errs: FieldError[] = [];
  const lower = value.toLowerCase();
  if (fam === 4) {
    const o = value.split('.').map(Number);
    if (o.every((x) => x === 0)) errs.push(invalid(path, value, `may not be unspecified (${value})`));
    if (o[0] === 127) errs.push(invalid(path, value, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
    if (o[0] === 169 && o[1] === 254) errs.push(invalid(path, value, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
    if (o[0] === 224 && o[1] === 0 && o[2] === 0) errs.push(invalid(path, value, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
  } else {
    if (/^(0*:)*:?0*$/.test(lower) || lower === '::') errs.push(invalid(path, value, `may not be unspecified (${value})`));
    if (/^(0*:)*:?0*1$/.test(lower)) errs.push(invalid(path, value, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
    if (/^fe[89ab][0-9a-f]:/.test(lower)) errs.push(invalid(path, value, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
    if (/^ff02:/.test(lower)) errs.push(invalid(path, value, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
  }
  return errs;
}

// ---------------- resource names and quantities ----------------

const STANDARD_CONTAINER_RESOURCES = ['cpu', 'memory', 'ephemeral-storage'];
const STANDARD_RESOURCES = [
  'cpu',
  'memory',
  'ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.ephemeral-storage',
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
  'pods',
  'services',
  'replicationcontrollers',
  'resourcequotas',
  'secrets',
  'configmaps',
  'persistentvolumeclaims',
  'storage',
  'requests.storage',
  'services.nodeports',
  'services.loadbalancers',
];
const STANDARD_QUOTA_RESOURCES = STANDARD_RESOURCES.filter((r) => r !== 'storage');
const INTEGER_RESOURCES = [
  'pods',
  'services',
  'replicationcontrollers',
  'resourcequotas',
  'secrets',
  'configmaps',
  'persistentvolumeclaims',
  'services.nodeports',
  'services.loadbalancers',
];

const isHugePages = (name: string): boolean => name.startsWith('hugepages-');
const isQuotaHugePages = (name: string): boolean => isHugePages(name) || name.startsWith('requests.hugepages-');
const isNativeResource = (name: string): boolean => !name.includes('/') || name.includes('kubernetes.io/');
const isExtendedResource = (name: string): boolean => {
  if (isNativeResource(name) || name.startsWith('requests.')) return false;
  return isQualifiedName(`requests.${name}`).length === 0;
};

/** Upstream's validateResourceName: a qualified name, and a standard resource when it has no domain prefix. */
export function validateResourceName(name: string, path: string): FieldError[] {
  const msgs = isQualifiedName(name);
  if (msgs.length > 0) return msgs.map((m) => invalid(path, name, m));
  if (!name.includes('/') && !STANDARD_RESOURCES.includes(name) && !isQuotaHugePages(name))
    return [invalid(path, name, 'must be a standard resource type or fully qualified')];
  return [];
}

export function validateContainerResourceName(name: string, path: string): FieldError[] {
  const errs = validateResourceName(name, path);
  if (!name.includes('/')) {
    if (!STANDARD_CONTAINER_RESOURCES.includes(name) && !isHugePages(name))
      return [...errs, invalid(path, name, 'must be a standard resource for containers')];
  } else if (!isNativeResource(name) && !isExtendedResource(name)) {
    return [...errs, invalid(path, name, "doesn't follow extended resource name standard")];
  }
  return errs;
}

export function validateQuotaResourceName(name: string, path: string): FieldError[] {
  const errs = validateResourceName(name, path);
  if (!name.includes('/') && !STANDARD_QUOTA_RESOURCES.includes(name) && !isQuotaHugePages(name))
    return [...errs, invalid(path, name, INVALID_QUOTA_RESOURCE)];
  return errs;
}

/** A quantity that parses; the syntax error otherwise (upstream fails these while decoding). */
export function validateQuantitySyntax(value: unknown, path: string): FieldError[] {
  const bad = quantityError(value);
  return bad ? [invalid(path, value, bad)] : [];
}

/** ValidateResourceQuantityValue: not negative, and whole for integer resources (pods, count/..., extended). */
export function validateResourceQuantityValue(resource: string, value: string, path: string): FieldError[] {
  const syntax = validateQuantitySyntax(value, path);
  if (syntax.length > 0) return syntax;
  const errs: FieldError[] = [];
  // Upstream quotes the canonical form (value.String()).
  const shown = canonicalQuantity(value);
  if (isNegativeQuantity(value)) errs.push(invalid(path, shown, 'must be greater than or equal to 0'));
  if ((INTEGER_RESOURCES.includes(resource) || resource.startsWith('count/') || isExtendedResource(resource)) && !Number.isInteger(parseQuantity(value)))
    errs.push(invalid(path, shown, NOT_INTEGER));
  return errs;
}

// ---------------- canonical quantity text ----------------

const BINARY_EXP: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_EXP: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const DECIMAL_SUFFIX: Record<number, string> = { [-9]: 'n', [-6]: 'u', [-3]: 'm', 0: '', 3: 'k', 6: 'M', 9: 'G', 12: 'T', 15: 'P', 18: 'E' };
const BINARY_SUFFIX = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

/**
 * resource.Quantity's String(): the value in the format its suffix implies (binary, decimal SI or exponent),
 * canonicalised (2000 -> 2k, 0.5 -> 500m, 1.5Gi -> 1536Mi), as upstream quotes quantities in messages. Values finer
 * than nano units round up, as parsing does upstream. Text that does not parse is returned unchanged.
 */
export function canonicalQuantity(q: string | number): string {
  const text = typeof q === 'number' ? String(q).replace('e+', 'e') : q.trim();
  const m = /^([+-]?)(\d*)(?:\.(\d*))?([eE][-+]?\d+|[numkMGTPE]|[KMGTPE]i)?$/.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return String(q);
  const negative = m[1] === '-';
  const frac = m[3] ?? '';
  const suffix = m[4] ?? '';
  let format: 'BinarySI' | 'DecimalSI' | 'DecimalExponent' = 'DecimalSI';
  let exp10 = -frac.length;
  let exp2 = 0;
  if (suffix in BINARY_EXP) {
    format = 'BinarySI';
    exp2 = BINARY_EXP[suffix] ?? 0;
  } else if (suffix in DECIMAL_EXP) exp10 += DECIMAL_EXP[suffix] ?? 0;
  else {
    format = 'DecimalExponent';
    exp10 += Number.parseInt(suffix.slice(1), 10);
  }
  if (Math.abs(exp10) > 1000) return String(q);
  // value = mantissa * 10^scale, exactly.
  let mantissa = BigInt(`${m[2] ?? ''}${frac}` || '0') * 2n ** BigInt(exp2);
  let scale = exp10;
  if (scale < -9) {
    // Round up (away from zero) to nano units.
    const div = 10n ** BigInt(-9 - scale);
    mantissa = mantissa / div + (mantissa % div === 0n ? 0n : 1n);
    scale = -9;
  }
  if (mantissa === 0n) return '0';
  const sign = negative ? '-' : '';
  const isInteger = scale >= 0 || mantissa % 10n ** BigInt(-scale) === 0n;
  if (format === 'BinarySI') {
    const whole = scale >= 0 ? mantissa * 10n ** BigInt(scale) : mantissa / 10n ** BigInt(-scale);
    if (isInteger && whole >= 1024n) {
      let n = whole;
      let i = 0;
      while (n % 1024n === 0n && i < BINARY_SUFFIX.length - 1) {
        n /= 1024n;
        i++;
      }
      return `${sign}${n}${BINARY_SUFFIX[i]}`;
    }
    format = 'DecimalSI';
  }
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    scale++;
  }
  const r = ((scale % 3) + 3) % 3;
  mantissa *= 10n ** BigInt(r);
  scale -= r;
  if (format === 'DecimalSI' && scale in DECIMAL_SUFFIX) return `${sign}${mantissa}${DECIMAL_SUFFIX[scale]}`;
  return `${sign}${mantissa}${scale === 0 ? '' : `e${scale}`}`;
}
