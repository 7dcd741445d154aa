// apps/v1 StatefulSet, DaemonSet and ControllerRevision: schemas with upstream's SetDefaults_* and validation.
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { child, forbidden, invalid, notSupported, required, type FieldError } from '../errors.js';
import { nameIsDNSLabel, ObjectMeta, validateObjectMeta } from '../meta.js';
import {
  Condition,
  int,
  IntOrString,
  intOrPercentValue,
  isNotMoreThan100Percent,
  type KindDef,
  LabelSelector,
  loose,
  NamespacedMeta,
  nonnegative,
  nonnegativeFields,
  normalize,
  parseKind,
  type ParseOptions,
  type ParseResult,
  PodTemplateSpec,
  SELECTOR_MISMATCH,
  selectorIsEmpty,
  selectorMatches,
  validateImmutableField,
  validateLabelSelector,
  validatePodTemplateSpec,
  validatePositiveIntOrPercent,
} from './common.js';
import { validateWorkloadSelector } from './deployment.js';
import { validateAnnotations, validateLabels } from '../meta.js';
import type { PodValidationOptions } from '../pod-validation.js';
import { templateUpdateOptions } from '../sysctl-validation.js';

// ---------------- StatefulSet ----------------

const RollingUpdateStatefulSetStrategy = z.object({ partition: int().default(0), maxUnavailable: IntOrString.optional() });

export const StatefulSetUpdateStrategy = z
  .object({ type: z.string().optional(), rollingUpdate: RollingUpdateStatefulSetStrategy.optional() })
  .transform((s) => {
    // SetDefaults_StatefulSet: an unset type is RollingUpdate with partition 0.
    if (!s.type) return { ...s, type: 'RollingUpdate', rollingUpdate: s.rollingUpdate ?? { partition: 0 } };
    return s;
  });

const PVCRetentionPolicy = z.object({ whenDeleted: z.string().optional(), whenScaled: z.string().optional() }).transform((p) => ({
  whenDeleted: p.whenDeleted || 'Retain',
  whenScaled: p.whenScaled || 'Retain',
}));

/**
 * A volume claim template: a PersistentVolumeClaim whose spec the core API group owns. Skiff types what it needs to
 * default (volumeMode, status phase) and carries the rest as given.
 */
export const PersistentVolumeClaimTemplate = z
  .object({
    apiVersion: z.string().optional(),
    kind: z.string().optional(),
    metadata: ObjectMeta.prefault({}),
    spec: z.looseObject({ volumeMode: z.string().optional() }).prefault({}),
    status: z.looseObject({ phase: z.string().optional() }).optional(),
  })
  .transform((c) => ({
    apiVersion: c.apiVersion || 'v1',
    kind: c.kind || 'PersistentVolumeClaim',
    metadata: c.metadata,
    spec: { ...c.spec, volumeMode: c.spec.volumeMode || 'Filesystem' },
    status: { ...(c.status ?? {}), phase: c.status?.phase || 'Pending' },
  }));

export const StatefulSetSpec = z.object({
  replicas: int().default(1),
  selector: LabelSelector.optional(),
  template: PodTemplateSpec.prefault({}),
  volumeClaimTemplates: z.array(PersistentVolumeClaimTemplate).optional(),
  serviceName: z.string().optional(),
  podManagementPolicy: z.string().optional().transform((v) => v || 'OrderedReady'),
  updateStrategy: StatefulSetUpdateStrategy.prefault({}),
  revisionHistoryLimit: int().default(10),
  minReadySeconds: int().optional(),
  persistentVolumeClaimRetentionPolicy: PVCRetentionPolicy.prefault({}),
  ordinals: z.object({ start: int().default(0) }).optional(),
});
export type StatefulSetSpec = z.output<typeof StatefulSetSpec>;

export const StatefulSetStatus = z.object({
  observedGeneration: int().optional(),
  replicas: int().default(0),
  readyReplicas: int().optional(),
  currentReplicas: int().optional(),
  updatedReplicas: int().optional(),
  currentRevision: z.string().optional(),
  updateRevision: z.string().optional(),
  collisionCount: int().optional(),
  conditions: z.array(Condition).optional(),
  availableReplicas: int().default(0),
});
export type StatefulSetStatus = z.output<typeof StatefulSetStatus>;

export const StatefulSet = z.object({
  apiVersion: z.literal('apps/v1'),
  kind: z.literal('StatefulSet'),
  metadata: NamespacedMeta.prefault({}),
  spec: StatefulSetSpec.prefault({}),
  status: StatefulSetStatus.optional(),
});
export type StatefulSet = z.output<typeof StatefulSet>;

function validatePVCRetentionPolicyType(v: string, path: string): FieldError[] {
  return v === 'Retain' || v === 'Delete' ? [] : [notSupported(path, v, ['Retain', 'Delete'])];
}

export function validateStatefulSetSpec(spec: StatefulSetSpec, path = 'spec'): FieldError[] {
  const errs: FieldError[] = [];
  const pmp = child(path, 'podManagementPolicy');
  if (spec.podManagementPolicy === '') errs.push(required(pmp));
  else if (spec.podManagementPolicy !== 'OrderedReady' && spec.podManagementPolicy !== 'Parallel')
    errs.push(invalid(pmp, spec.podManagementPolicy, "must be 'OrderedReady' or 'Parallel'"));

  const us = spec.updateStrategy;
  const usp = child(path, 'updateStrategy');
  switch (us.type) {
    case 'OnDelete':
      if (us.rollingUpdate) errs.push(invalid(child(usp, 'rollingUpdate'), us.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'"));
      break;
    case 'RollingUpdate':
      if (us.rollingUpdate) {
        const rp = child(usp, 'rollingUpdate');
        errs.push(...nonnegative(us.rollingUpdate.partition, child(rp, 'partition')));
        const mu = us.rollingUpdate.maxUnavailable;
        if (mu !== undefined) {
          errs.push(...validatePositiveIntOrPercent(mu, child(rp, 'maxUnavailable')));
          if (intOrPercentValue(mu) === 0) errs.push(invalid(child(rp, 'maxUnavailable'), mu, 'cannot be 0'));
          errs.push(...isNotMoreThan100Percent(mu, child(rp, 'maxUnavailable')));
        }
      }
      break;
    default:
      errs.push(invalid(usp, us, "must be 'RollingUpdate' or 'OnDelete'"));
  }

  const pvc = spec.persistentVolumeClaimRetentionPolicy;
  const pvcp = child(path, 'persistentVolumeClaimRetentionPolicy');
  errs.push(...validatePVCRetentionPolicyType(pvc.whenDeleted, child(pvcp, 'whenDeleted')));
  errs.push(...validatePVCRetentionPolicyType(pvc.whenScaled, child(pvcp, 'whenScaled')));
  errs.push(...nonnegative(spec.replicas, child(path, 'replicas')));
  errs.push(...nonnegative(spec.minReadySeconds, child(path, 'minReadySeconds')));
  if (spec.ordinals) errs.push(...nonnegative(spec.ordinals.start, child(path, 'ordinals.start')));
  errs.push(...validateWorkloadSelector(spec.selector, 'statefulset', path));

  // ValidatePodTemplateSpecForStatefulSet: upstream checks labels/annotations here, not the pod spec.
  const t = spec.template;
  const tp = child(path, 'template');
  const matches = selectorMatches(spec.selector, t.metadata.labels);
  if (matches === undefined) errs.push(invalid(child(path, 'selector'), spec.selector ?? null, ''));
  else {
    if (!(spec.selector && selectorIsEmpty(spec.selector)) && !matches)
      errs.push(invalid(child(tp, 'metadata', 'labels'), t.metadata.labels ?? {}, SELECTOR_MISMATCH));
    errs.push(...validateLabels(t.metadata.labels, child(tp, 'labels')));
    errs.push(...validateAnnotations(t.metadata.annotations, child(tp, 'annotations')));
  }
  if (t.spec.restartPolicy !== 'Always') errs.push(notSupported(child(tp, 'spec', 'restartPolicy'), t.spec.restartPolicy, ['Always']));
  if (t.spec.activeDeadlineSeconds !== undefined)
    errs.push(forbidden(child(tp, 'spec', 'activeDeadlineSeconds'), 'activeDeadlineSeconds in StatefulSet is not Supported'));
  return errs;
}

export function validateStatefulSetStatus(s: StatefulSetStatus | undefined, path = 'status'): FieldError[] {
  if (!s) return [];
  const errs = nonnegativeFields(s, ['replicas', 'readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas', 'observedGeneration', 'collisionCount'], path);
  for (const f of ['readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas'] as const)
    if ((s[f] ?? 0) > s.replicas) errs.push(invalid(child(path, f), s[f] ?? 0, 'cannot be greater than status.replicas'));
  if ((s.availableReplicas ?? 0) > (s.readyReplicas ?? 0))
    errs.push(invalid(child(path, 'availableReplicas'), s.availableReplicas ?? 0, 'cannot be greater than status.readyReplicas'));
  return errs;
}

export function validateStatefulSet(s: StatefulSet): FieldError[] {
  return [...validateObjectMeta(s.metadata, { namespaced: true, nameFn: nameIsDNSLabel }), ...validateStatefulSetSpec(s.spec)];
}

const STS_MUTABLE = ['replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'] as const;

export function validateStatefulSetUpdate(s: StatefulSet, old: StatefulSet): FieldError[] {
  // The name is not revalidated on update: older servers accepted DNS subdomains.
  const errs = [...validateObjectMeta(s.metadata, { namespaced: true, nameFn: () => [] }), ...validateStatefulSetSpec(s.spec)];
  const strip = (spec: StatefulSetSpec): Record<string, unknown> => {
    const copy: Record<string, unknown> = { ...spec };
    for (const k of STS_MUTABLE) delete copy[k];
    return normalize(copy) as Record<string, unknown>;
  };
  if (!isDeepStrictEqual(strip(s.spec), strip(old.spec)))
    errs.push(
      forbidden(
        'spec',
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
      ),
    );
  errs.push(...validateStatefulSetStatus(s.status));
  return errs;
}

export const statefulSetKind: KindDef<typeof StatefulSet> = {
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  schema: StatefulSet,
  namespaced: true,
  validate: validateStatefulSet,
  validateUpdate: validateStatefulSetUpdate,
};

export const parseStatefulSet = (input: unknown, opts?: ParseOptions): ParseResult<StatefulSet> => parseKind(statefulSetKind, input, opts);

// ---------------- DaemonSet ----------------

export const DaemonSetUpdateStrategy = z
  .object({
    type: z.string().optional(),
    rollingUpdate: z.object({ maxUnavailable: IntOrString.optional(), maxSurge: IntOrString.optional() }).optional(),
  })
  .transform((s) => {
    const type = s.type || 'RollingUpdate';
    if (type !== 'RollingUpdate') return { ...s, type };
    const ru = s.rollingUpdate ?? {};
    return { ...s, type, rollingUpdate: { ...ru, maxUnavailable: ru.maxUnavailable ?? 1, maxSurge: ru.maxSurge ?? 0 } };
  });
export type DaemonSetUpdateStrategy = z.output<typeof DaemonSetUpdateStrategy>;

export const DaemonSetSpec = z.object({
  selector: LabelSelector.optional(),
  template: PodTemplateSpec.prefault({}),
  updateStrategy: DaemonSetUpdateStrategy.prefault({}),
  minReadySeconds: int().optional(),
  revisionHistoryLimit: int().default(10),
});
export type DaemonSetSpec = z.output<typeof DaemonSetSpec>;

export const DaemonSetStatus = z.object({
  currentNumberScheduled: int().default(0),
  numberMisscheduled: int().default(0),
  desiredNumberScheduled: int().default(0),
  numberReady: int().default(0),
  observedGeneration: int().optional(),
  updatedNumberScheduled: int().optional(),
  numberAvailable: int().optional(),
  numberUnavailable: int().optional(),
  collisionCount: int().optional(),
  conditions: z.array(Condition).optional(),
});
export type DaemonSetStatus = z.output<typeof DaemonSetStatus>;

export const DaemonSet = z.object({
  apiVersion: z.literal('apps/v1'),
  kind: z.literal('DaemonSet'),
  metadata: NamespacedMeta.prefault({}),
  spec: DaemonSetSpec.prefault({}),
  status: DaemonSetStatus.optional(),
});
export type DaemonSet = z.output<typeof DaemonSet>;

function validateDaemonSetUpdateStrategy(s: DaemonSetUpdateStrategy, path: string): FieldError[] {
  switch (s.type) {
    case 'OnDelete':
      return [];
    case 'RollingUpdate': {
      const ru = s.rollingUpdate;
      if (!ru) return [required(child(path, 'rollingUpdate'))];
      const rp = child(path, 'rollingUpdate');
      const errs = validatePositiveIntOrPercent(ru.maxUnavailable, child(rp, 'maxUnavailable'));
      errs.push(...validatePositiveIntOrPercent(ru.maxSurge, child(rp, 'maxSurge')));
      errs.push(...isNotMoreThan100Percent(ru.maxUnavailable, child(rp, 'maxUnavailable')));
      errs.push(...isNotMoreThan100Percent(ru.maxSurge, child(rp, 'maxSurge')));
      const hasUnavailable = intOrPercentValue(ru.maxUnavailable) !== 0;
      const hasSurge = intOrPercentValue(ru.maxSurge) !== 0;
      if (hasUnavailable && hasSurge) errs.push(invalid(child(rp, 'maxSurge'), ru.maxSurge, 'may not be set when maxUnavailable is non-zero'));
      else if (!hasUnavailable && !hasSurge) errs.push(required(child(rp, 'maxUnavailable'), 'cannot be 0 when maxSurge is 0'));
      return errs;
    }
    default:
      return [notSupported(path, s, ['RollingUpdate', 'OnDelete'])];
  }
}

export function validateDaemonSetSpec(spec: DaemonSetSpec, path = 'spec', podOpts: PodValidationOptions = {}): FieldError[] {
  const errs = validateLabelSelector(spec.selector, child(path, 'selector'));
  const t = spec.template;
  const matches = selectorMatches(spec.selector, t.metadata.labels);
  if (matches === false) errs.push(invalid(child(path, 'template', 'metadata', 'labels'), t.metadata.labels ?? {}, SELECTOR_MISMATCH));
  if (spec.selector && selectorIsEmpty(spec.selector)) errs.push(invalid(child(path, 'selector'), spec.selector, 'empty selector is invalid for daemonset'));
  errs.push(...validatePodTemplateSpec(t, child(path, 'template'), podOpts));
  if (t.spec.restartPolicy !== 'Always') errs.push(notSupported(child(path, 'template', 'spec', 'restartPolicy'), t.spec.restartPolicy, ['Always']));
  if (t.spec.activeDeadlineSeconds !== undefined)
    errs.push(invalid(child(path, 'template', 'spec', 'activeDeadlineSeconds'), t.spec.activeDeadlineSeconds, 'activeDeadlineSeconds in DaemonSet is not Supported'));
  errs.push(...nonnegative(spec.minReadySeconds, child(path, 'minReadySeconds')));
  errs.push(...validateDaemonSetUpdateStrategy(spec.updateStrategy, child(path, 'updateStrategy')));
  errs.push(...nonnegative(spec.revisionHistoryLimit, child(path, 'revisionHistoryLimit')));
  return errs;
}

export function validateDaemonSetStatus(s: DaemonSetStatus | undefined, path = 'status'): FieldError[] {
  if (!s) return [];
  return nonnegativeFields(
    s,
    ['numberMisscheduled', 'currentNumberScheduled', 'desiredNumberScheduled', 'numberReady', 'observedGeneration', 'updatedNumberScheduled', 'numberAvailable', 'numberUnavailable', 'collisionCount'],
    path,
  );
}

export function validateDaemonSet(ds: DaemonSet): FieldError[] {
  return [...validateObjectMeta(ds.metadata, { namespaced: true }), ...validateDaemonSetSpec(ds.spec)];
}

export function validateDaemonSetUpdate(ds: DaemonSet, old: DaemonSet): FieldError[] {
  const errs = [...validateObjectMeta(ds.metadata, { namespaced: true }), ...validateDaemonSetSpec(ds.spec, 'spec', templateUpdateOptions(old.spec.template))];
  errs.push(...validateImmutableField(ds.spec.selector, old.spec.selector, 'spec.selector'));
  errs.push(...validateDaemonSetStatus(ds.status));
  return errs;
}

export const daemonSetKind: KindDef<typeof DaemonSet> = {
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  schema: DaemonSet,
  namespaced: true,
  validate: validateDaemonSet,
  validateUpdate: validateDaemonSetUpdate,
};

export const parseDaemonSet = (input: unknown, opts?: ParseOptions): ParseResult<DaemonSet> => parseKind(daemonSetKind, input, opts);

// ---------------- ControllerRevision ----------------

export const ControllerRevision = z.object({
  apiVersion: z.literal('apps/v1'),
  kind: z.literal('ControllerRevision'),
  metadata: NamespacedMeta.prefault({}),
  // runtime.RawExtension: any JSON object (usually a patch of the owner's template).
  data: loose().optional(),
  revision: int().default(0),
});
export type ControllerRevision = z.output<typeof ControllerRevision>;

export function validateControllerRevision(cr: ControllerRevision): FieldError[] {
  const errs = validateObjectMeta(cr.metadata, { namespaced: true });
  if (cr.data === undefined) errs.push(required('data', 'data is mandatory'));
  errs.push(...nonnegative(cr.revision, 'revision'));
  return errs;
}

export function validateControllerRevisionUpdate(cr: ControllerRevision, old: ControllerRevision): FieldError[] {
  return [...validateControllerRevision(cr), ...validateImmutableField(cr.data, old.data, 'data')];
}

export const controllerRevisionKind: KindDef<typeof ControllerRevision> = {
  apiVersion: 'apps/v1',
  kind: 'ControllerRevision',
  schema: ControllerRevision,
  namespaced: true,
  validate: validateControllerRevision,
  validateUpdate: validateControllerRevisionUpdate,
};

export const parseControllerRevision = (input: unknown, opts?: ParseOptions): ParseResult<ControllerRevision> =>
  parseKind(controllerRevisionKind, input, opts);
