import protobuf from 'protobufjs';
import { ZERO_FIELDS } from './zero-fields.js';

/**
 * Turns a decoded Kubernetes protobuf message into the JSON form the API uses (what `kubectl get -o json` shows):
 * the well-known wrapper types (Time, MicroTime, Duration, IntOrString, Quantity, FieldsV1, RawExtension) become
 * their JSON scalars, bytes become base64, embedded Go structs are inlined, and scalar zero values are kept or dropped
 * as Go's encoding/json would (see zero-fields.ts).
 */

const META = '.k8s.io.apimachinery.pkg.apis.meta.v1';

/** Fields that hold an embedded Go struct, whose JSON is inlined into the parent object. */
const INLINE: ReadonlyArray<readonly [string, string]> = [
  ['localObjectReference', '.k8s.io.api.core.v1.LocalObjectReference'],
  ['volumeSource', '.k8s.io.api.core.v1.VolumeSource'],
  ['persistentVolumeSource', '.k8s.io.api.core.v1.PersistentVolumeSource'],
  ['ephemeralContainerCommon', '.k8s.io.api.core.v1.EphemeralContainerCommon'],
  ['handler', '.k8s.io.api.core.v1.ProbeHandler'],
  ['ingressRuleValue', '.k8s.io.api.networking.v1.IngressRuleValue'],
];

/** Fields whose proto name is not their JSON name. */
const RENAMES: Record<string, Record<string, string>> = {
  '.k8s.io.api.authentication.v1.BoundObjectReference': { uID: 'uid' },
  '.k8s.io.api.networking.v1.IngressClassParametersReference': { aPIGroup: 'apiGroup' },
};

/**
 * Types kubectl never prints, so the oracle behind ZERO_FIELDS cannot cover them: the same facts, read from upstream's
 * Go types (fields whose zero value JSON keeps).
 */
const MANUAL_ZERO_FIELDS: Record<string, readonly string[]> = {
  'k8s.io.api.authorization.v1.SubjectAccessReviewStatus': ['allowed'],
  'k8s.io.api.authorization.v1.SubjectRulesReviewStatus': ['incomplete'],
  'k8s.io.api.authorization.v1.SubjectAccessReviewSpec': [],
  'k8s.io.api.authorization.v1.SelfSubjectAccessReviewSpec': [],
  'k8s.io.api.authorization.v1.SelfSubjectRulesReviewSpec': [],
  'k8s.io.api.authorization.v1.ResourceAttributes': [],
  'k8s.io.api.authorization.v1.NonResourceAttributes': [],
  'k8s.io.api.authorization.v1.FieldSelectorAttributes': [],
  'k8s.io.api.authorization.v1.LabelSelectorAttributes': [],
  // kubectl has no generator for IngressClasses: controller is omitempty; kind, name and scope have no omitempty,
  // apiGroup, namespace and scope are pointers.
  'k8s.io.api.networking.v1.IngressClassSpec': [],
  'k8s.io.api.networking.v1.IngressClassParametersReference': ['aPIGroup', 'kind', 'name', 'namespace', 'scope'],
  // NetworkPolicy: an ipBlock's cidr has no omitempty; a port's protocol and endPort are pointers.
  'k8s.io.api.networking.v1.IPBlock': ['cidr'],
  'k8s.io.api.networking.v1.NetworkPolicyPort': ['endPort', 'protocol'],
};

export class ConvertError extends Error {}

export interface ConvertOptions {
  /** Keep every scalar as decoded, zero or not (used to learn Go's omitempty rules from kubectl). */
  keepZeros?: boolean;
  /** Called for each zero scalar in keepZeros mode; its return value stands in for the zero. */
  markZero?: (typeName: string, field: string, value: unknown) => unknown;
}

type Msg = Record<string, unknown>;

function has(msg: Msg, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(msg, key) && msg[key] !== undefined && msg[key] !== null;
}

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v);
  if (v && typeof v === 'object' && 'low' in v && 'high' in v) {
    const l = v as { low: number; high: number; unsigned?: boolean };
    return new protobuf.util.LongBits(l.low >>> 0, l.high >>> 0).toNumber(Boolean(l.unsigned));
  }
  return Number(v);
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Go's time.RFC3339 in UTC: "2006-01-02T15:04:05Z". */
export function formatTime(seconds: number, micros?: number): string {
  const d = new Date(seconds * 1000);
  if (Number.isNaN(d.getTime())) throw new ConvertError(`time out of range: ${seconds}s`);
  const base = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  return micros === undefined ? `${base}Z` : `${base}.${pad(micros, 6)}Z`;
}

/** Go's time.Duration.String(): "1h2m3.5s", "1.5ms", "0s". */
export function formatDuration(nanos: bigint): string {
  if (nanos === 0n) return '0s';
  const neg = nanos < 0n;
  let u = neg ? -nanos : nanos;
  const frac = (v: bigint, digits: number): string => {
    const s = v.toString().padStart(digits, '0').replace(/0+$/, '');
    return s ? `.${s}` : '';
  };
  let out: string;
  if (u < 1_000_000_000n) {
    if (u < 1000n) out = `${u}ns`;
    else if (u < 1_000_000n) out = `${u / 1000n}${frac(u % 1000n, 3)}µs`;
    else out = `${u / 1_000_000n}${frac(u % 1_000_000n, 6)}ms`;
  } else {
    const secs = u / 1_000_000_000n;
    const rest = u % 1_000_000_000n;
    u = secs;
    const h = u / 3600n;
    const m = (u % 3600n) / 60n;
    const s = u % 60n;
    out = `${s}${frac(rest, 9)}s`;
    if (h > 0n || m > 0n) out = `${m}m${out}`;
    if (h > 0n) out = `${h}h${out}`;
  }
  return neg ? `-${out}` : out;
}

function bytesOf(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return Buffer.from(v, 'base64');
  return new Uint8Array();
}

function base64(v: unknown): string {
  const b = bytesOf(v);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

/** A RawExtension or FieldsV1 payload: JSON when it parses, an embedded protobuf object when it has the magic. */
function rawJson(v: unknown, nested: (b: Buffer) => unknown): unknown {
  const b = Buffer.from(bytesOf(v));
  if (b.length === 0) return null;
  if (b[0] === 0x6b && b[1] === 0x38 && b[2] === 0x73 && b[3] === 0x00) return nested(b);
  try {
    return JSON.parse(b.toString('utf8')) as unknown;
  } catch {
    throw new ConvertError('embedded object is neither JSON nor Kubernetes protobuf');
  }
}

function isZero(v: unknown): boolean {
  if (v === '' || v === false || v === 0) return true;
  if (v instanceof Uint8Array) return v.length === 0;
  if (v && typeof v === 'object' && 'low' in v && 'high' in v) return toNumber(v) === 0;
  return false;
}

export class Converter {
  constructor(
    private readonly opts: ConvertOptions = {},
    private readonly nested: (b: Buffer) => unknown = () => {
      throw new ConvertError('nested protobuf objects are not supported here');
    },
  ) {}

  /** The JSON value for a message of the given type, well-known wrappers included. */
  message(type: protobuf.Type, msg: Msg): unknown {
    const name = type.fullName;
    switch (name) {
      case `${META}.Time`:
        return has(msg, 'seconds') || has(msg, 'nanos') ? formatTime(toNumber(msg.seconds ?? 0)) : null;
      case `${META}.MicroTime`:
        return has(msg, 'seconds') || has(msg, 'nanos') ? formatTime(toNumber(msg.seconds ?? 0), Math.floor(toNumber(msg.nanos ?? 0) / 1000)) : null;
      case `${META}.Duration`:
        return formatDuration(BigInt(String(toNumber(msg.duration ?? 0))));
      case '.k8s.io.apimachinery.pkg.util.intstr.IntOrString':
        return toNumber(msg.type ?? 0) === 1 ? String(msg.strVal ?? '') : toNumber(msg.intVal ?? 0);
      case '.k8s.io.apimachinery.pkg.api.resource.Quantity':
      case '.k8s.io.apimachinery.pkg.api.resource.QuantityValue':
        return String(msg.string ?? '0');
      case `${META}.FieldsV1`:
        return rawJson(msg.Raw, this.nested);
      case '.k8s.io.apimachinery.pkg.runtime.RawExtension':
        return rawJson(msg.raw, this.nested);
      case `${META}.Verbs`:
      case '.k8s.io.api.authentication.v1.ExtraValue':
      case '.k8s.io.api.authorization.v1.ExtraValue':
        return Array.isArray(msg.items) ? msg.items.map(String) : [];
      default:
        return this.object(type, msg);
    }
  }

  private object(type: protobuf.Type, msg: Msg): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const zeros = ZERO_FIELDS[type.fullName.slice(1)] ?? MANUAL_ZERO_FIELDS[type.fullName.slice(1)];
    const renames = RENAMES[type.fullName];
    for (const field of type.fieldsArray) {
      const key = renames?.[field.name] ?? field.name;
      if (!has(msg, field.name)) continue;
      const value = msg[field.name];
      if (field.map) {
        const entries = Object.entries(value as Record<string, unknown>);
        if (entries.length === 0) continue;
        const obj: Record<string, unknown> = {};
        // defineProperty: a key such as "__proto__" stays an ordinary member, as JSON.parse would make it.
        for (const [k, v] of entries) Object.defineProperty(obj, k, { value: this.single(field, v), enumerable: true, writable: true, configurable: true });
        out[key] = obj;
        continue;
      }
      if (field.repeated) {
        const list = value as unknown[];
        if (!Array.isArray(list) || list.length === 0) continue;
        out[key] = list.map((v) => this.single(field, v));
        continue;
      }
      const rt = field.resolvedType;
      if (rt instanceof protobuf.Type && INLINE.some(([f, t]) => f === field.name && t === rt.fullName)) {
        const inner = this.message(rt, value as Msg);
        if (inner && typeof inner === 'object') Object.assign(out, inner);
        continue;
      }
      if (!(rt instanceof protobuf.Type) && isZero(value)) {
        if (this.opts.keepZeros) {
          const v = this.single(field, value);
          out[key] = this.opts.markZero ? this.opts.markZero(type.fullName.slice(1), field.name, v) : v;
          continue;
        }
        // Known types: Go keeps the zero of pointer and non-omitempty fields only. Types kubectl could not show us:
        // an empty string is as good as absent, a 0 or false may be a pointer's deliberate value, so it stays.
        if (zeros ? !zeros.includes(field.name) : value === '' || (value instanceof Uint8Array && value.length === 0)) continue;
      }
      out[key] = this.single(field, value);
    }
    return out;
  }

  private single(field: protobuf.Field, v: unknown): unknown {
    const rt = field.resolvedType;
    if (rt instanceof protobuf.Type) return this.message(rt, v as Msg);
    if (rt instanceof protobuf.Enum) return v;
    switch (field.type) {
      case 'bytes':
        return base64(v);
      case 'int64':
      case 'uint64':
      case 'sint64':
      case 'fixed64':
      case 'sfixed64':
        return toNumber(v);
      default:
        return v;
    }
  }
}
