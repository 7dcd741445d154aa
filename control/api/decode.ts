// Decoding a manifest of one kind against its schema: apiVersion/kind checks, unknown fields, zod issues as
// FieldErrors. Shared by Pod, the core kinds and the other API groups.
import type { z } from 'zod';
import { invalid, notSupported, required, type FieldError } from './errors.js';
import { findUnknownFields } from './unknown-fields.js';

export type DecodeResult<T> = { ok: true; obj: T; warnings: string[] } | { ok: false; errors: FieldError[] };

export interface DecodeOptions {
  /** Reject fields the schema does not know (fieldValidation=Strict) instead of warning. */
  strict?: boolean;
  /**
   * The input is an earlier decode's output with server-side additions (mutating admission), so it holds no field
   * the schema does not know: the search for unknown fields (a walk of the whole object) is skipped.
   */
  decodedBefore?: boolean;
}

export const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * JSON/YAML null decodes to Go's zero value ("not set"); dropping null members gives the same. What holds no null
 * member anywhere is returned as it is (most bodies): the caller must not change the result in place.
 */
export function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const x = dropNulls(v[i]);
      if (x !== v[i]) (out ??= v.slice())[i] = x;
    }
    return out ?? v;
  }
  if (!isPlainObject(v)) return v;
  // Object.keys, not Object.entries: no pair array per member (every request body passes through here).
  const keys = Object.keys(v);
  let out: Record<string, unknown> | undefined;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    const x = v[k];
    const y = x === null || typeof x !== 'object' ? x : dropNulls(x);
    if (out === undefined) {
      if (y === x && x !== null) continue;
      // The first change: copy what came before it, then build the rest.
      out = {};
      for (let j = 0; j < i; j++) define(out, keys[j] as string, v[keys[j] as string]);
    }
    if (y !== null) define(out, k, y);
  }
  return out ?? v;
}

/** defineProperty, not assignment: a "__proto__" key must stay data, never become the object's prototype. */
function define(o: Record<string, unknown>, k: string, value: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value, enumerable: true, writable: true, configurable: true });
  else o[k] = value;
}

/** Same text as upstream's strict decoding error and its fieldValidation=Warn warning. */
export const unknownFieldWarning = (field: string): string => `unknown field "${field}"`;

function pathText(path: readonly PropertyKey[]): string {
  return path.reduce<string>((p, seg) => {
    if (typeof seg === 'number') return `${p}[${seg}]`;
    const name = String(seg);
    return p === '' ? name : `${p}.${name}`;
  }, '');
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur = root;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}

/**
 * Decodes a manifest (already parsed from YAML/JSON): apiVersion and kind must be the expected ones, unknown fields
 * warn or (strict) fail, the schema's defaults apply, and `validate` (upstream's rules) runs on the defaulted object.
 * Every problem found is returned, not just the first.
 */
export function decodeKind<S extends z.ZodType>(
  schema: S,
  input: unknown,
  type: { apiVersion: string; kind: string },
  opts: DecodeOptions = {},
  validate?: (obj: z.output<S>) => FieldError[],
): DecodeResult<z.output<S>> {
  if (!isPlainObject(input)) return { ok: false, errors: [invalid('<root>', input ?? null, 'must be an object')] };
  const raw = dropNulls(input) as Record<string, unknown>;
  const errors: FieldError[] = [];
  if (raw.apiVersion === undefined || raw.apiVersion === '') errors.push(required('apiVersion'));
  else if (raw.apiVersion !== type.apiVersion) errors.push(notSupported('apiVersion', raw.apiVersion, [type.apiVersion]));
  if (raw.kind === undefined || raw.kind === '') errors.push(required('kind'));
  else if (raw.kind !== type.kind) errors.push(notSupported('kind', raw.kind, [type.kind]));
  if (errors.length > 0) return { ok: false, errors };

  const warnings: string[] = [];
  for (const field of opts.decodedBefore ? [] : findUnknownFields(schema, raw)) {
    const text = unknownFieldWarning(field);
    if (opts.strict) errors.push({ type: 'FieldValueInvalid', field, detail: text, unknownField: true });
    else warnings.push(text);
  }
  // Upstream's strict decoding error stops the request before defaulting and validation.
  if (errors.length > 0) return { ok: false, errors };
  const parsed = schema.safeParse(raw);
  if (!parsed.success) return { ok: false, errors: [...errors, ...parsed.error.issues.map((i) => invalid(pathText(i.path), valueAt(raw, i.path), i.message))] };
  if (validate) errors.push(...validate(parsed.data));
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, obj: parsed.data, warnings };
}
