// The strategy shared by the kinds modelled in control/api (apps, batch, autoscaling, policy, coordination,
// discovery, scheduling, rbac, certificates): upstream's defaults and validation on create and update (with the
// kind's update rules against the stored object), omitempty compaction, a reset status on create, and generation
// bumped only when the defaulted object really changed.
import { isDeepStrictEqual } from 'node:util';
import { compactSpec, type FieldError } from '../../api/index.js';
import { decodeStored, parseKind, parseKindUpdate, type KindDef, type ParseResult } from '../../api/apps/common.js';
import type { ResourceDef } from '../resources.js';
import type { KubeObject } from '../storage/object-storage.js';
import type { Prepared, PrepareContext, Strategy } from './strategy.js';

export interface TypedStrategyOptions<T> {
  /** Metadata changes do not count, everything but status does (upstream's generation rule). Default true. */
  generation?: boolean;
  fields?: Strategy['fields'];
  /** Replaces the create-time decoding (e.g. Jobs generate their selector). */
  parseCreate?(input: unknown, opts: { strict: boolean }): ParseResult<T>;
  /** Adjusts the incoming object on a main-resource update before decoding (e.g. fields reset from the stored one). */
  beforeUpdate?(obj: KubeObject, old: KubeObject): KubeObject;
}

export const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

function withoutMetaAndStatus(o: Record<string, unknown>): Record<string, unknown> {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
  return JSON.parse(JSON.stringify(rest)) as Record<string, unknown>;
}

/**
 * Drops what upstream's omitempty would not serialize, everywhere but metadata and opaque payloads (a
 * ControllerRevision's data is a raw patch whose empty lists mean something).
 */
export function compactObject(obj: Record<string, unknown>): KubeObject {
  const { metadata, data, ...rest } = obj;
  return { ...compactSpec(rest), ...(data !== undefined ? { data } : {}), metadata } as KubeObject;
}

function done<T>(r: ParseResult<T>): Prepared {
  if (!r.ok) return { ok: false, errors: r.errors };
  return { ok: true, obj: compactObject(r.object as Record<string, unknown>), warnings: r.warnings };
}

export function typedStrategy<T>(def: ResourceDef, kind: KindDef, opts: TypedStrategyOptions<T> = {}): Strategy {
  const hasStatus = def.subresources.includes('status');
  const typed = (o: KubeObject): KubeObject => ({ ...o, apiVersion: kind.apiVersion, kind: kind.kind });
  const generation = opts.generation ?? true;
  return {
    prepareCreate(obj: KubeObject, ctx: PrepareContext): Prepared {
      // A new object starts with an empty status, whatever the client sent (upstream's PrepareForCreate).
      const input = typed(hasStatus ? { ...obj, status: {} } : obj);
      const r = opts.parseCreate ? opts.parseCreate(input, { strict: ctx.strict }) : (parseKind(kind, input, { strict: ctx.strict }) as ParseResult<T>);
      return done(r);
    },
    prepareUpdate(obj: KubeObject, old: KubeObject, ctx: PrepareContext): Prepared {
      const input = typed(opts.beforeUpdate ? opts.beforeUpdate(obj, old) : obj);
      const stored = decodeStored(kind, old);
      const r = stored === undefined ? parseKind(kind, input, { strict: ctx.strict }) : parseKindUpdate(kind, input, stored, { strict: ctx.strict });
      const prepared = done(r);
      if (prepared.ok && generation && stored !== undefined) {
        const before = compactObject(stored as Record<string, unknown>);
        const gen = old.metadata.generation ?? 1;
        const changed = !isDeepStrictEqual(withoutMetaAndStatus(prepared.obj), withoutMetaAndStatus(before));
        prepared.obj.metadata = { ...prepared.obj.metadata, generation: changed ? gen + 1 : gen };
      }
      return prepared;
    },
    statusSubresource: hasStatus,
    generation,
    ...(opts.fields ? { fields: opts.fields } : {}),
  };
}

export type { FieldError };
