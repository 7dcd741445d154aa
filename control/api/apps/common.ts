// Pieces shared by the non-core API groups (apps, batch, autoscaling, policy, rbac, ...): decoding a manifest into a
// defaulted object, metav1.LabelSelector and its validation, pod templates, IntOrString percentages, immutability and
// conditions. Not re-exported from control/api/index.ts (the names are generic); other groups import this file.
import { validateAppArmorAnnotationsAndFieldsMatch, validateAppArmorPodAnnotations } from '../apparmor.js';
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { child, forbidden, index, invalid, notSupported, required, type FieldError } from '../errors.js';
import { decodeKind, dropNulls } from '../decode.js';
import { ObjectMeta, validateAnnotations, validateLabels } from '../meta.js';
import { isQualifiedName, isValidLabelValue, regexError } from '../names.js';
import { PodSpec } from '../pod.js';
import { validatePodSpec, type PodValidationOptions } from '../pod-validation.js';
import { matchesLabels, selectorFromSpec } from '../selectors.js';

// ---------------- schema helpers ----------------

export const int = () => z.number().int();
export const loose = () => z.looseObject({});
/** Go's zero value means "unset": an empty string gets the default, like upstream's `if x == ""`. */
export const stringOr = (d: string) => z.string().optional().transform((v) => v || d);
export const StringMap = z.record(z.string(), z.string());

/** intstr.IntOrString. */
export const IntOrString = z.union([z.number().int(), z.string()]);
export type IntOrString = z.output<typeof IntOrString>;

/** A resource.Quantity as written; numbers are normalised to their decimal text. */
export const Quantity = z.union([z.string(), z.number()]).transform((v) => (typeof v === 'number' ? String(v).replace('e+', 'e') : v));

/** Metadata of a namespaced object: namespace "" means "default", as for Pods (the API server sets it from the URL). */
export const NamespacedMeta = ObjectMeta.extend({ namespace: stringOr('default') });
/** Metadata inside a template: no name of its own. */
export const TemplateMeta = ObjectMeta.extend({ name: z.string().optional() });

export const LabelSelectorRequirement = z.object({
  key: z.string().default(''),
  operator: z.string().default(''),
  values: z.array(z.string()).optional(),
});
export const LabelSelector = z.object({
  matchLabels: StringMap.optional(),
  matchExpressions: z.array(LabelSelectorRequirement).optional(),
});
export type LabelSelector = z.output<typeof LabelSelector>;

export const PodTemplateSpec = z.object({
  metadata: TemplateMeta.prefault({}),
  spec: PodSpec.prefault({}),
});
export type PodTemplateSpec = z.output<typeof PodTemplateSpec>;

/** metav1.Condition and the condition shapes of workload statuses (a superset; unused members stay unset). */
export const Condition = z.object({
  type: z.string().default(''),
  status: z.string().default(''),
  observedGeneration: int().optional(),
  lastProbeTime: z.string().nullable().optional(),
  lastHeartbeatTime: z.string().nullable().optional(),
  lastUpdateTime: z.string().nullable().optional(),
  lastTransitionTime: z.string().nullable().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
});
export type Condition = z.output<typeof Condition>;

// ---------------- decoding ----------------

export type ParseResult<T> = { ok: true; object: T; warnings: string[] } | { ok: false; errors: FieldError[] };

export interface ParseOptions {
  /** Reject fields the schema does not know (fieldValidation=Strict) instead of warning. */
  strict?: boolean;
}

export { dropNulls };

export interface KindSpec<S extends z.ZodType> {
  apiVersion: string;
  kind: string;
  schema: S;
  validate(obj: z.output<S>): FieldError[];
}

/**
 * Decodes a manifest of one kind (already parsed from YAML/JSON): checks apiVersion/kind, applies upstream's
 * defaults, then validates with upstream's rules. Every problem found is returned, not just the first.
 */
export function parseKind<S extends z.ZodType>(spec: KindSpec<S>, input: unknown, opts: ParseOptions = {}): ParseResult<z.output<S>> {
  const decoded = decodeKind(spec.schema, input, spec, opts, (obj) => spec.validate(obj));
  return decoded.ok ? { ok: true, object: decoded.obj, warnings: decoded.warnings } : decoded;
}

// ---------------- common validation ----------------

export const FIELD_IMMUTABLE = 'field is immutable';

/** apivalidation.ValidateImmutableField: deep equality, undefined and absent alike. */
export function validateImmutableField(newVal: unknown, oldVal: unknown, path: string): FieldError[] {
  return isDeepStrictEqual(normalize(newVal), normalize(oldVal)) ? [] : [invalid(path, newVal ?? null, FIELD_IMMUTABLE)];
}

/** JSON round trip: drops undefined members so `{a: undefined}` equals `{}`. */
export function normalize(v: unknown): unknown {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}

export const NONNEGATIVE = 'must be greater than or equal to 0';
export function nonnegative(value: number | undefined, path: string): FieldError[] {
  return value !== undefined && value < 0 ? [invalid(path, value, NONNEGATIVE)] : [];
}

/** metav1validation.ValidateLabelSelector (strict label values). */
export function validateLabelSelector(sel: LabelSelector | undefined, path: string): FieldError[] {
  if (!sel) return [];
  const errs: FieldError[] = [];
  (sel.matchExpressions ?? []).forEach((r, i) => {
    const p = index(child(path, 'matchExpressions'), i);
    const values = r.values ?? [];
    switch (r.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) errs.push(required(child(p, 'values'), "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) errs.push(forbidden(child(p, 'values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        errs.push(invalid(child(p, 'operator'), r.operator, 'not a valid selector operator'));
    }
    for (const m of isQualifiedName(r.key)) errs.push(invalid(child(p, 'key'), r.key, m));
    values.forEach((v, j) => {
      for (const m of isValidLabelValue(v)) errs.push(invalid(index(child(p, 'values'), j), v, m));
    });
  });
  errs.push(...validateLabels(sel.matchLabels, child(path, 'matchLabels')));
  return errs;
}

export const selectorIsEmpty = (sel: LabelSelector): boolean =>
  Object.keys(sel.matchLabels ?? {}).length + (sel.matchExpressions ?? []).length === 0;

/**
 * labels.Selector.Matches for a structured selector, with LabelSelectorAsSelector's edge cases: a missing selector
 * matches nothing, an empty one everything; an unusable operator is reported as undefined ("invalid label selector").
 */
export function selectorMatches(sel: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean | undefined {
  try {
    const reqs = selectorFromSpec(sel as Parameters<typeof selectorFromSpec>[0]);
    if (reqs === 'nothing') return false;
    return matchesLabels(reqs, labels);
  } catch {
    return undefined;
  }
}

/** ValidatePodTemplateSpec: template labels and annotations, the pod spec, no ephemeral containers. */
export function validatePodTemplateSpec(t: PodTemplateSpec, path: string, podOpts: PodValidationOptions = {}): FieldError[] {
  const errs = validateLabels(t.metadata.labels, child(path, 'labels'));
  errs.push(...validateAnnotations(t.metadata.annotations, child(path, 'annotations')));
  errs.push(...validateAppArmorPodAnnotations(t.metadata.annotations, t.spec, child(path, 'annotations')));
  errs.push(...validatePodSpec(t.spec, child(path, 'spec'), podOpts));
  errs.push(...validateAppArmorAnnotationsAndFieldsMatch(t.metadata.annotations, t.spec, child(path, 'spec')));
  if ((t.spec.ephemeralContainers ?? []).length > 0)
    errs.push(forbidden(child(path, 'spec', 'ephemeralContainers'), 'ephemeral containers not allowed in pod template'));
  return errs;
}

export const SELECTOR_MISMATCH = '`selector` does not match template `labels`';

// ---------------- IntOrString percentages (apps validation helpers) ----------------

const PERCENT_RE = /^[0-9]+%$/;

/** getIntOrPercentValue: the number of an int, or of a percent string ("25%" is 25). */
export function intOrPercentValue(v: IntOrString | undefined): number {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  const n = Number.parseInt(v.replace(/%$/, ''), 10);
  return Number.isNaN(n) ? 0 : n;
}

export function validatePositiveIntOrPercent(v: IntOrString | undefined, path: string): FieldError[] {
  if (v === undefined) return [];
  if (typeof v === 'string') {
    return PERCENT_RE.test(v)
      ? []
      : [invalid(path, v, regexError("a valid percent string must be a numeric string followed by an ending '%'", '[0-9]+%', '1%', '93%'))];
  }
  return nonnegative(v, path);
}

export function isNotMoreThan100Percent(v: IntOrString | undefined, path: string): FieldError[] {
  if (typeof v !== 'string' || !PERCENT_RE.test(v)) return [];
  return intOrPercentValue(v) <= 100 ? [] : [invalid(path, v, 'must not be greater than 100%')];
}

/** apimachinery's IsValidPathSegmentName: names used as URL path segments. */
export function isValidPathSegmentName(name: string): string[] {
  for (const bad of ['.', '..']) if (name === bad) return [`may not be '${bad}'`];
  const errs: string[] = [];
  for (const bad of ['/', '%']) if (name.includes(bad)) errs.push(`may not contain '${bad}'`);
  return errs;
}

export function pathSegmentName(name: string, _prefix: boolean): string[] {
  return isValidPathSegmentName(name);
}

/** Status counters: ValidateNonnegativeField on each named member that is set. */
export function nonnegativeFields(obj: Record<string, unknown> | undefined, names: readonly string[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const n of names) {
    const v = obj?.[n];
    if (typeof v === 'number') errs.push(...nonnegative(v, child(path, n)));
  }
  return errs;
}

// ---------------- kind descriptors ----------------

/** Everything the API server needs about one kind: its schema (with defaults) and upstream's create/update validation. */
export interface KindDef<S extends z.ZodType = z.ZodType> extends KindSpec<S> {
  namespaced: boolean;
  validateUpdate(obj: z.output<S>, old: z.output<S>): FieldError[];
}

/** Decodes and validates a manifest as an update of `old` (a stored, already defaulted object of the kind). */
export function parseKindUpdate<S extends z.ZodType>(def: KindDef<S>, input: unknown, old: z.output<S>, opts: ParseOptions = {}): ParseResult<z.output<S>> {
  return parseKind({ ...def, validate: (o: z.output<S>) => def.validateUpdate(o, old) }, input, opts);
}

/** Decodes an object already stored (defaulted and valid once): defaults only, for comparisons on update. */
export function decodeStored<S extends z.ZodType>(def: KindDef<S>, stored: unknown): z.output<S> | undefined {
  const r = def.schema.safeParse(dropNulls({ ...(stored as object), apiVersion: def.apiVersion, kind: def.kind }));
  return r.success ? r.data : undefined;
}
