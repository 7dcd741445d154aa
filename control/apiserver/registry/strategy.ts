import type { FieldError } from '../../api/index.js';
import { validateObjectMeta } from '../../api/index.js';
import type { ResourceDef } from '../resources.js';
import type { KubeObject } from '../storage/object-storage.js';

/**
 * How one kind is defaulted, validated and stored: upstream's RESTCreateStrategy / RESTUpdateStrategy. The generic
 * REST handlers do everything kind-independent (names, uid, timestamps, preconditions) and call these for the rest.
 */
export type Prepared = { ok: true; obj: KubeObject; warnings: string[] } | { ok: false; errors: FieldError[] };

export interface PrepareContext {
  /** fieldValidation=Strict: unknown fields are errors rather than warnings. */
  strict: boolean;
}

export interface Strategy {
  prepareCreate(obj: KubeObject, ctx: PrepareContext): Prepared;
  prepareUpdate(obj: KubeObject, old: KubeObject, ctx: PrepareContext): Prepared;
  /** Values for ?fieldSelector= beyond metadata.name and metadata.namespace. */
  fields?(obj: KubeObject): Record<string, string>;
  /** The kind has a status subresource: the main resource keeps the stored status, /status keeps everything else. */
  statusSubresource: boolean;
  /** Changes to anything but metadata and status bump metadata.generation. */
  generation: boolean;
}

/** Kinds without a schema of their own yet: metadata validated as upstream, the rest stored as given. */
export function genericStrategy(def: ResourceDef, opts: { status?: boolean; generation?: boolean; fields?: Strategy['fields'] } = {}): Strategy {
  const validate = (obj: KubeObject): Prepared => {
    const errors = validateObjectMeta({ name: obj.metadata.name ?? '', ...obj.metadata } as Parameters<typeof validateObjectMeta>[0], { namespaced: def.namespaced });
    return errors.length ? { ok: false, errors } : { ok: true, obj, warnings: [] };
  };
  return {
    prepareCreate: validate,
    prepareUpdate: validate,
    statusSubresource: opts.status ?? def.subresources.includes('status'),
    generation: opts.generation ?? false,
    ...(opts.fields ? { fields: opts.fields } : {}),
  };
}
