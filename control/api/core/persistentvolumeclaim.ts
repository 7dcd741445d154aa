// core/v1 PersistentVolumeClaim: volumeMode defaults to Filesystem, status.phase to Pending;
// ValidatePersistentVolumeClaim (access modes, storage request, class name) and the update rules.
import { z } from 'zod';
import { forbidden, invalid, notSupported, required, type FieldError } from '../errors.js';
import { nameIsDNSSubdomain, ObjectMeta, validateLabels, validateObjectMeta } from '../meta.js';
import { ResourceList } from '../pod.js';
import { compareQuantities, parseQuantity } from '../quantity.js';
import { dns1123Subdomain } from '../validation-util.js';
import { canonicalQuantity, jsonEqual, NOT_POSITIVE, validateResourceQuantityValue } from './common.js';

const loose = () => z.looseObject({});

export const LabelSelectorSchema = z.object({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z.array(z.object({ key: z.string().default(''), operator: z.string().default(''), values: z.array(z.string()).optional() })).optional(),
});

export const PersistentVolumeClaimSpec = z.object({
  accessModes: z.array(z.string()).optional(),
  selector: LabelSelectorSchema.optional(),
  resources: z.object({ limits: ResourceList.optional(), requests: ResourceList.optional() }).optional(),
  volumeName: z.string().optional(),
  storageClassName: z.string().optional(),
  volumeMode: z.string().optional().transform((v) => v ?? 'Filesystem'),
  dataSource: loose().optional(),
  dataSourceRef: loose().optional(),
  volumeAttributesClassName: z.string().optional(),
});
export type PersistentVolumeClaimSpec = z.output<typeof PersistentVolumeClaimSpec>;

export const PersistentVolumeClaimStatus = z.object({
  phase: z.string().optional().transform((v) => v || 'Pending'),
  accessModes: z.array(z.string()).optional(),
  capacity: ResourceList.optional(),
  conditions: z.array(loose()).optional(),
  allocatedResources: ResourceList.optional(),
  allocatedResourceStatuses: z.record(z.string(), z.string()).optional(),
  currentVolumeAttributesClassName: z.string().optional(),
  modifyVolumeStatus: loose().optional(),
});
export type PersistentVolumeClaimStatus = z.output<typeof PersistentVolumeClaimStatus>;

export const PersistentVolumeClaim = z.object({
  apiVersion: z.literal('v1'),
  kind: z.literal('PersistentVolumeClaim'),
  metadata: ObjectMeta.prefault({}),
  spec: PersistentVolumeClaimSpec.prefault({}),
  // SetDefaults_PersistentVolumeClaim: a claim without status is Pending.
  status: PersistentVolumeClaimStatus.prefault({}),
});
export type PersistentVolumeClaim = z.output<typeof PersistentVolumeClaim>;

const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
const VOLUME_MODES = ['Block', 'Filesystem'];
const SELECTOR_OPS = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

function validateLabelSelector(sel: z.output<typeof LabelSelectorSchema>, path: string): FieldError[] {
  const errs = validateLabels(sel.matchLabels, `${path}.matchLabels`);
  (sel.matchExpressions ?? []).forEach((e, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    const values = e.values ?? [];
    if (e.operator === 'In' || e.operator === 'NotIn') {
      if (values.length === 0) errs.push(required(`${p}.values`, 'must be specified when `operator` is \'In\' or \'NotIn\''));
    } else if (e.operator === 'Exists' || e.operator === 'DoesNotExist') {
      if (values.length > 0) errs.push(forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
    } else errs.push(notSupported(`${p}.operator`, e.operator, SELECTOR_OPS));
  });
  return errs;
}

export function validatePersistentVolumeClaimSpec(spec: PersistentVolumeClaimSpec, path = 'spec'): FieldError[] {
  const errs: FieldError[] = [];
  const modes = spec.accessModes ?? [];
  if (modes.length === 0) errs.push(required(`${path}.accessModes`, 'at least 1 access mode is required'));
  if (spec.selector) errs.push(...validateLabelSelector(spec.selector, `${path}.selector`));
  let rwop = false;
  for (const m of modes) {
    if (!ACCESS_MODES.includes(m)) errs.push(notSupported(`${path}.accessModes`, m, ACCESS_MODES));
    if (m === 'ReadWriteOncePod') rwop = true;
  }
  if (rwop && modes.length > 1) errs.push(forbidden(`${path}.accessModes`, 'may not use ReadWriteOncePod with other access modes'));
  // Upstream's path: spec.resources[storage].
  const sp = `${path}.resources[storage]`;
  const storage = spec.resources?.requests?.storage;
  if (storage === undefined) errs.push(required(sp));
  else {
    const bad = validateResourceQuantityValue('storage', storage, sp);
    errs.push(...bad);
    if (bad.length === 0 && parseQuantity(storage) <= 0) errs.push(invalid(sp, canonicalQuantity(storage), NOT_POSITIVE));
  }
  if (spec.storageClassName) errs.push(...nameIsDNSSubdomain(spec.storageClassName, false).map((m) => invalid(`${path}.storageClassName`, spec.storageClassName, m)));
  if (spec.volumeMode !== undefined && !VOLUME_MODES.includes(spec.volumeMode)) errs.push(notSupported(`${path}.volumeMode`, spec.volumeMode, VOLUME_MODES));
  if (spec.volumeAttributesClassName !== undefined && spec.volumeAttributesClassName !== '')
    errs.push(...dns1123Subdomain(spec.volumeAttributesClassName, `${path}.volumeAttributesClassName`));
  return errs;
}

export function validatePersistentVolumeClaim(pvc: PersistentVolumeClaim): FieldError[] {
  return [...validateObjectMeta(pvc.metadata, { namespaced: true }), ...validatePersistentVolumeClaimSpec(pvc.spec)];
}

/**
 * ValidatePersistentVolumeClaimUpdate: the spec is fixed once created, except that volumeName may be set once and
 * a bound claim may change resources.requests (growing it) and volumeAttributesClassName. Upstream appends a diff
 * of the two specs to the Forbidden message; that diff is left out here.
 */
export function validatePersistentVolumeClaimUpdate(pvc: PersistentVolumeClaim, old: PersistentVolumeClaim): FieldError[] {
  const errs = validatePersistentVolumeClaim(pvc);
  const bound = pvc.status.phase === 'Bound';
  const strip = (s: PersistentVolumeClaimSpec, other: PersistentVolumeClaimSpec, isOld: boolean) => {
    const c: Record<string, unknown> = { ...s };
    if (isOld && !old.spec.volumeName) c.volumeName = other.volumeName;
    if (bound) {
      const requests = { ...(s.resources?.requests ?? {}) };
      delete requests.storage;
      c.resources = { ...(s.resources ?? {}), requests };
      delete c.volumeAttributesClassName;
    }
    return c;
  };
  if (!jsonEqual(strip(pvc.spec, old.spec, false), strip(old.spec, pvc.spec, true)))
    errs.push(forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims'));
  const newSize = pvc.spec.resources?.requests?.storage;
  const oldSize = old.spec.resources?.requests?.storage;
  const statusSize = old.status.capacity?.storage ?? '0';
  try {
    if (newSize !== undefined && oldSize !== undefined && compareQuantities(newSize, oldSize) < 0 && compareQuantities(newSize, statusSize) <= 0)
      errs.push(forbidden('spec.resources.requests.storage', 'field can not be less than status.capacity'));
  } catch {
    // Malformed quantities were reported above.
  }
  return errs;
}
