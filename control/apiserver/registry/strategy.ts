import type { FieldError } from '../../api/index.js';
import { ObjectMeta, validateObjectMeta, type ObjectMetaValidationOptions } from '../../api/index.js';
import { dropNulls } from '../../api/decode.js';
import { invalid } from '../../api/errors.js';
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
  /**
   * The object is what an earlier prepareCreate returned, with mutating admission's additions: it has no unknown
   * fields to look for (the REST layer prepares it again only to default and validate what admission added).
   */
  decodedBefore?: boolean;
  /** The update came through this subresource (one whose rules differ from the object's own update). */
  subresource?: 'ephemeralcontainers';
}

/**
 * A create body decoded (schema defaults, PrepareForCreate, unknown fields found) but not yet validated: `obj` is what
 * mutating admission sees and what is stored; `validate` runs upstream's create validation on the decoded form.
 */
export type Decoded =
  | {
      ok: true;
      obj: KubeObject;
      warnings: string[];
      validate(): FieldError[];
      /**
       * Decodes `obj` again once mutating admission has changed it (what the plugins added defaulted like the rest),
       * as decodeCreate with decodedBefore would, reusing this decode for what they left alone.
       */
      redecode?(mutated: KubeObject): Decoded;
    }
  | { ok: false; errors: FieldError[] };

export interface Strategy {
  prepareCreate(obj: KubeObject, ctx: PrepareContext): Prepared;
  /**
   * Upstream's create order, for kinds that mutating admission changes on every create (pods): decode, then mutating
   * admission, then validation, once. Without it, prepareCreate decodes and validates before admission and again
   * after admission changed the object.
   */
  decodeCreate?(obj: KubeObject, ctx: PrepareContext): Decoded;
  prepareUpdate(obj: KubeObject, old: KubeObject, ctx: PrepareContext): Prepared;
  /** Values for ?fieldSelector= beyond metadata.name and metadata.namespace. */
  fields?(obj: KubeObject): Record<string, string>;
  /** The kind has a status subresource: the main resource keeps the stored status, /status keeps everything else. */
  statusSubresource: boolean;
  /** Changes to anything but metadata and status bump metadata.generation. */
  generation: boolean;
}

/**
 * Validates the metadata of a kind without a schema: first its shape, as decoding into ObjectMeta would (labels as a
 * list, a number for a name: field errors, never a crash in the validators), with nulls dropped as for typed kinds;
 * then upstream's ObjectMeta rules.
 */
export function checkObjectMeta(obj: KubeObject, opts: ObjectMetaValidationOptions): FieldError[] {
  const meta = dropNulls(obj.metadata) as KubeObject['metadata'];
  const parsed = ObjectMeta.safeParse(meta);
  if (!parsed.success) {
    return parsed.error.issues.map((i) => {
      let value: unknown = meta;
      for (const seg of i.path) value = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[seg] : undefined;
      return invalid(['metadata', ...i.path.map(String)].join('.'), value ?? null, i.message);
    });
  }
  obj.metadata = meta;
  // The rules run on the decoded form (defaults in place: an owner reference without apiVersion has "").
  return validateObjectMeta(parsed.data, opts);
}

/** Kinds without a schema of their own yet: metadata validated as upstream, the rest stored as given. */
export function genericStrategy(def: ResourceDef, opts: { status?: boolean; generation?: boolean; fields?: Strategy['fields'] } = {}): Strategy {
  const validate = (obj: KubeObject): Prepared => {
    const errors = checkObjectMeta(obj, { namespaced: def.namespaced });
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
