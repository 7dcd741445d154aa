// Decoding a value again after a few of its parts changed: the parts that did not change keep their earlier decode.
import type { z } from 'zod';
import { jsonEqual } from './core/common.js';
import { isPlainObject } from './decode.js';

/** The members of zod's definitions this walk reads (zod v4's `_zod.def`). */
interface SchemaDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  checks?: unknown[];
  element?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
}

const defOf = (schema: z.ZodType): SchemaDef => (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;

export interface Redecoding {
  /**
   * Schemas whose output is their input object transformed (zod's pipe into a transform), with the members the
   * transform reads: while none of those changed, the transform's earlier output holds for them and the changed
   * members are decoded alone (e.g. a container's pull policy, derived from its image).
   */
  derived: ReadonlyMap<z.ZodType, readonly string[]>;
}

type Outcome = { value: unknown } | undefined;

function whole(schema: z.ZodType, now: unknown): Outcome {
  const r = schema.safeParse(now);
  return r.success ? { value: r.data } : undefined;
}

function objectMembers(shape: Record<string, z.ZodType>, before: Record<string, unknown>, decoded: Record<string, unknown>, now: Record<string, unknown>, opts: Redecoding, reorder = false): Outcome {
  const out: Record<string, unknown> = { ...decoded };
  const visit = (k: string): boolean => {
    if (jsonEqual(before[k], now[k])) return true;
    const member = Object.hasOwn(shape, k) ? shape[k] : undefined;
    // A member the schema does not know: decoding drops it, as it would have.
    if (!member) return true;
    const r = redecodeChanged(member, before[k], decoded[k], now[k], opts);
    if (!r) return false;
    if (r.value === undefined) delete out[k];
    else {
      if (!Object.hasOwn(out, k)) added = true;
      out[k] = r.value;
    }
    return true;
  };
  let added = false;
  for (const k of Object.keys(before)) if (!visit(k)) return undefined;
  for (const k of Object.keys(now)) if (!Object.hasOwn(before, k) && !visit(k)) return undefined;
  if (!added && !reorder) return { value: out };
  // A member the decode did not hold before goes where decoding puts it: members in the schema's order.
  const ordered: Record<string, unknown> = {};
  for (const k of Object.keys(shape)) if (Object.hasOwn(out, k)) ordered[k] = out[k];
  return { value: ordered };
}

/**
 * `schema`'s decode of `now`, given `decoded`, its decode of `before`: where `now` equals `before` the earlier decode
 * is taken as it is, and only what differs is decoded. Object members are independent in a plain object schema (no
 * catch-all, no object-level checks), so are list items; anything else that changed is decoded whole. Undefined when
 * something does not decode: decode the whole value for its errors.
 */
export function redecodeChanged(schema: z.ZodType, before: unknown, decoded: unknown, now: unknown, opts: Redecoding): Outcome {
  if (jsonEqual(before, now)) return { value: decoded };
  if (before === undefined || now === undefined || decoded === undefined) return whole(schema, now);
  const def = defOf(schema);
  switch (def.type) {
    case 'default':
    case 'prefault':
    case 'optional':
      // Present before and now: what wraps the type only acts on an absent value.
      return def.innerType ? redecodeChanged(def.innerType, before, decoded, now, opts) : whole(schema, now);
    case 'object':
      if (!def.shape || def.catchall || (def.checks?.length ?? 0) > 0) return whole(schema, now);
      if (!isPlainObject(before) || !isPlainObject(decoded) || !isPlainObject(now)) return whole(schema, now);
      return objectMembers(def.shape, before, decoded, now, opts);
    case 'array': {
      if (!def.element || (def.checks?.length ?? 0) > 0 || !Array.isArray(before) || !Array.isArray(decoded) || !Array.isArray(now)) return whole(schema, now);
      const out: unknown[] = [];
      for (let i = 0; i < now.length; i++) {
        const r = i < before.length ? redecodeChanged(def.element, before[i], decoded[i], now[i], opts) : whole(def.element, now[i]);
        if (!r) return undefined;
        out.push(r.value);
      }
      return { value: out };
    }
    case 'pipe': {
      const reads = opts.derived.get(schema);
      if (!reads || !def.in || !isPlainObject(before) || !isPlainObject(now)) return whole(schema, now);
      for (const k of reads) if (!jsonEqual(before[k], now[k])) return whole(schema, now);
      const inner = defOf(def.in);
      if (inner.type !== 'object' || !inner.shape || inner.catchall || (inner.checks?.length ?? 0) > 0 || !isPlainObject(decoded)) return whole(schema, now);
      // The transform placed what it derived after the members it was given; decoding a value that holds it (as
      // `now` does) keeps the schema's order, so the result is put in that order.
      return objectMembers(inner.shape, before, decoded, now, opts, true);
    }
    default:
      return whole(schema, now);
  }
}
