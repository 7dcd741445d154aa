import type { z } from 'zod';
import { compactObject, decodeKind, type FieldError } from '../../api/index.js';
import { jsonEqual } from '../../api/core/common.js';
import { apiVersionOf, type ResourceDef } from '../resources.js';
import type { KubeObject } from '../storage/object-storage.js';
import type { Prepared, PrepareContext, Strategy } from './strategy.js';

/** What a typed core/v1 kind supplies: its schema, upstream's validation, and the registry's preparation steps. */
export interface KindHandlers<S extends z.ZodType> {
  schema: S;
  validateCreate(obj: z.output<S>): FieldError[];
  validateUpdate(obj: z.output<S>, old: z.output<S>): FieldError[];
  /** PrepareForCreate: e.g. a fresh status for kinds whose status the server owns. */
  prepareCreate?(obj: z.output<S>): z.output<S>;
  /** PrepareForUpdate and the kind's REST-level update fix-ups. */
  prepareUpdate?(obj: z.output<S>, old: z.output<S>): z.output<S>;
  /** Extra omitempty compaction beyond dropping undefined members and empty lists. */
  compact?(obj: z.output<S>): z.output<S>;
}

export interface TypedStrategyOptions {
  statusSubresource: boolean;
  generation?: boolean;
  fields?: Strategy['fields'];
}

/**
 * A Strategy for a kind with a schema: the body is decoded (apiVersion/kind from the URL's resource), defaulted,
 * prepared, validated, and stored compacted. The stored old object is decoded the same way for update rules;
 * one that no longer decodes is judged by the create rules alone.
 */
export function typedStrategy<S extends z.ZodType>(def: ResourceDef, h: KindHandlers<S>, opts: TypedStrategyOptions): Strategy {
  const type = { apiVersion: apiVersionOf(def), kind: def.kind };
  const finish = (obj: z.output<S>, warnings: string[]): Prepared => {
    const out = compactObject(h.compact ? h.compact(obj) : obj) as unknown as KubeObject;
    return { ok: true, obj: out, warnings };
  };
  return {
    prepareCreate: (obj: KubeObject, ctx: PrepareContext): Prepared => {
      const decoded = decodeKind(h.schema, { ...obj, ...type }, type, { strict: ctx.strict, ...(ctx.decodedBefore ? { decodedBefore: true } : {}) });
      if (!decoded.ok) return decoded;
      const prepared = h.prepareCreate ? h.prepareCreate(decoded.obj) : decoded.obj;
      const errors = h.validateCreate(prepared);
      return errors.length > 0 ? { ok: false, errors } : finish(prepared, decoded.warnings);
    },
    prepareUpdate: (obj: KubeObject, old: KubeObject, ctx: PrepareContext): Prepared => {
      const decoded = decodeKind(h.schema, { ...obj, ...type }, type, { strict: ctx.strict });
      if (!decoded.ok) return decoded;
      const previous = decodeKind(h.schema, { ...old, ...type }, type);
      if (!previous.ok) {
        const errors = h.validateCreate(decoded.obj);
        return errors.length > 0 ? { ok: false, errors } : finish(decoded.obj, decoded.warnings);
      }
      const prepared = h.prepareUpdate ? h.prepareUpdate(decoded.obj, previous.obj) : decoded.obj;
      const errors = h.validateUpdate(prepared, previous.obj);
      if (errors.length > 0) return { ok: false, errors };
      const result = finish(prepared, decoded.warnings);
      if (opts.generation && result.ok) {
        // The REST layer compares the body as sent; a body that omits defaulted fields is no spec change.
        const gen = old.metadata.generation ?? 1;
        const before = finish(previous.obj, []);
        result.obj.metadata.generation = before.ok && jsonEqual(specOf(result.obj), specOf(before.obj)) ? gen : gen + 1;
      }
      return result;
    },
    statusSubresource: opts.statusSubresource,
    generation: opts.generation ?? false,
    ...(opts.fields ? { fields: opts.fields } : {}),
  };
}

function specOf(o: KubeObject): Record<string, unknown> {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
  return rest;
}

export const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));
export const rec = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
