// metav1 ObjectMeta / ListMeta / Status and the ObjectMeta validation shared by every API type.
import { z } from 'zod';
import { child, forbidden, invalid, required, tooLong, type FieldError } from './errors.js';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue } from './names.js';

const StringMap = z.record(z.string(), z.string());

export const OwnerReference = z.object({
  apiVersion: z.string().default(''),
  kind: z.string().default(''),
  name: z.string().default(''),
  uid: z.string().default(''),
  controller: z.boolean().optional(),
  blockOwnerDeletion: z.boolean().optional(),
});
export type OwnerReference = z.output<typeof OwnerReference>;

// managedFields is server bookkeeping that clients echo back; it is carried opaquely.
const ManagedFieldsEntry = z.looseObject({});

export const ObjectMeta = z.object({
  // Go's zero value: an unset name is "", which validation reports as required.
  name: z.string().default(''),
  generateName: z.string().optional(),
  namespace: z.string().optional(),
  selfLink: z.string().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().int().optional(),
  creationTimestamp: z.string().optional(),
  deletionTimestamp: z.string().optional(),
  deletionGracePeriodSeconds: z.number().int().optional(),
  labels: StringMap.optional(),
  annotations: StringMap.optional(),
  ownerReferences: z.array(OwnerReference).optional(),
  finalizers: z.array(z.string()).optional(),
  managedFields: z.array(ManagedFieldsEntry).optional(),
});
export type ObjectMeta = z.output<typeof ObjectMeta>;

export const ListMeta = z.object({
  resourceVersion: z.string().optional(),
  continue: z.string().optional(),
  remainingItemCount: z.number().int().optional(),
  selfLink: z.string().optional(),
});
export type ListMeta = z.output<typeof ListMeta>;

export const StatusCause = z.object({
  reason: z.string().optional(),
  message: z.string().optional(),
  field: z.string().optional(),
});
export type StatusCause = z.output<typeof StatusCause>;

/** metav1.Status, the body of every API error response. */
export const Status = z.object({
  kind: z.literal('Status'),
  apiVersion: z.literal('v1'),
  metadata: ListMeta.optional(),
  status: z.enum(['Success', 'Failure']).optional(),
  message: z.string().optional(),
  reason: z.string().optional(),
  details: z
    .object({
      name: z.string().optional(),
      group: z.string().optional(),
      kind: z.string().optional(),
      uid: z.string().optional(),
      causes: z.array(StatusCause).optional(),
      retryAfterSeconds: z.number().int().optional(),
    })
    .optional(),
  code: z.number().int().optional(),
});
export type Status = z.output<typeof Status>;

// ---- validation ----

export interface ObjectMetaValidationOptions {
  namespaced: boolean;
  /** Name rule for the kind; upstream's default (and Pod's) is a DNS-1123 subdomain. `prefix` is true for generateName. */
  nameFn?: (name: string, prefix: boolean) => string[];
}

/** Upstream's NameIsDNSSubdomain: generateName may end in '-' because a random suffix follows. */
export function nameIsDNSSubdomain(name: string, prefix: boolean): string[] {
  return isDNS1123Subdomain(prefix ? name.replace(/-$/, '') : name);
}

export function nameIsDNSLabel(name: string, prefix: boolean): string[] {
  return isDNS1123Label(prefix ? name.replace(/-$/, '') : name);
}

const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

export function validateLabels(labels: Record<string, string> | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    // Upstream reports both key and value problems at the map's own path, not per key.
    for (const msg of isQualifiedName(k)) errs.push(invalid(path, k, msg));
    for (const msg of isValidLabelValue(v)) errs.push(invalid(path, v, msg));
  }
  return errs;
}

export function validateAnnotations(annotations: Record<string, string> | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of Object.entries(annotations ?? {})) {
    // Annotation keys are qualified names compared case-insensitively.
    for (const msg of isQualifiedName(k.toLowerCase())) errs.push(invalid(path, k, msg));
    size += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) errs.push(tooLong(path, TOTAL_ANNOTATION_SIZE_LIMIT));
  return errs;
}

function validateOwnerReferences(refs: OwnerReference[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let firstController = '';
  for (const ref of refs ?? []) {
    const version = ref.apiVersion.includes('/') ? ref.apiVersion.slice(ref.apiVersion.indexOf('/') + 1) : ref.apiVersion;
    if (version === '') errs.push(invalid(child(path, 'apiVersion'), ref.apiVersion, 'version must not be empty'));
    if (ref.kind === '') errs.push(invalid(child(path, 'kind'), ref.kind, 'must not be empty'));
    if (ref.name === '') errs.push(invalid(child(path, 'name'), ref.name, 'must not be empty'));
    if (ref.uid === '') errs.push(invalid(child(path, 'uid'), ref.uid, 'must not be empty'));
    if (ref.apiVersion === 'v1' && ref.kind === 'Event')
      errs.push(invalid(path, ref, '/v1, Kind=Event is disallowed from being an owner'));
    if (ref.controller === true) {
      const current = `${ref.kind}/${ref.name}`;
      if (firstController !== '')
        errs.push(
          invalid(
            path,
            refs,
            `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${current}`,
          ),
        );
      else firstController = current;
    }
  }
  return errs;
}

function validateFinalizers(finalizers: string[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const list = finalizers ?? [];
  for (const f of list) for (const msg of isQualifiedName(f)) errs.push(invalid(path, f, msg));
  if (list.includes('orphan') && list.includes('foregroundDeletion'))
    errs.push(invalid(path, list, 'finalizer orphan and foregroundDeletion cannot be both set'));
  return errs;
}

/** Upstream's ValidateObjectMeta for create: name, namespace, generation, labels, annotations, owners, finalizers. */
export function validateObjectMeta(
  meta: ObjectMeta,
  opts: ObjectMetaValidationOptions,
  fieldPath = 'metadata',
): FieldError[] {
  const nameFn = opts.nameFn ?? nameIsDNSSubdomain;
  const errs: FieldError[] = [];
  if (meta.generateName)
    for (const msg of nameFn(meta.generateName, true)) errs.push(invalid(child(fieldPath, 'generateName'), meta.generateName, msg));
  if (!meta.name) errs.push(required(child(fieldPath, 'name'), 'name or generateName is required'));
  else for (const msg of nameFn(meta.name, false)) errs.push(invalid(child(fieldPath, 'name'), meta.name, msg));

  if (opts.namespaced) {
    if (!meta.namespace) errs.push(required(child(fieldPath, 'namespace')));
    else for (const msg of isDNS1123Label(meta.namespace)) errs.push(invalid(child(fieldPath, 'namespace'), meta.namespace, msg));
  } else if (meta.namespace) {
    errs.push(forbidden(child(fieldPath, 'namespace'), 'not allowed on this type'));
  }
  if (meta.generation !== undefined && meta.generation < 0)
    errs.push(invalid(child(fieldPath, 'generation'), meta.generation, 'must be greater than or equal to 0'));
  errs.push(...validateLabels(meta.labels, child(fieldPath, 'labels')));
  errs.push(...validateAnnotations(meta.annotations, child(fieldPath, 'annotations')));
  errs.push(...validateOwnerReferences(meta.ownerReferences, child(fieldPath, 'ownerReferences')));
  errs.push(...validateFinalizers(meta.finalizers, child(fieldPath, 'finalizers')));
  return errs;
}
