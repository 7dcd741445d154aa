// apps/v1 Deployment and ReplicaSet: schemas with SetDefaults_Deployment / SetDefaults_ReplicaSet, and upstream's
// ValidateDeployment / ValidateReplicaSet (pkg/apis/apps/validation) with the strategy's selector immutability.
import { z } from 'zod';
import { child, forbidden, invalid, notSupported, required, type FieldError } from '../errors.js';
import { ListMeta, validateObjectMeta } from '../meta.js';
import {
  Condition,
  int,
  IntOrString,
  intOrPercentValue,
  isNotMoreThan100Percent,
  type KindDef,
  LabelSelector,
  NamespacedMeta,
  nonnegative,
  nonnegativeFields,
  parseKind,
  parseKindUpdate,
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
import type { PodValidationOptions } from '../pod-validation.js';
import { templateUpdateOptions } from '../sysctl-validation.js';

// ---------------- shared by the replica-set style controllers ----------------

/** The selector block of ValidateDeploymentSpec / ValidateReplicaSetSpec / ValidateStatefulSetSpec. */
export function validateWorkloadSelector(sel: LabelSelector | undefined, what: string, path: string): FieldError[] {
  const p = child(path, 'selector');
  if (!sel) return [required(p)];
  const errs = validateLabelSelector(sel, p);
  if (selectorIsEmpty(sel)) errs.push(invalid(p, sel, `empty selector is invalid for ${what}`));
  return errs;
}

/** ValidatePodTemplateSpecForReplicaSet: labels match the selector, a valid pod template that restarts Always. */
export function validateTemplateForReplicaSet(t: PodTemplateSpec, sel: LabelSelector | undefined, kind: string, path: string, podOpts: PodValidationOptions = {}): FieldError[] {
  const errs: FieldError[] = [];
  const matches = selectorMatches(sel, t.metadata.labels);
  if (matches === undefined) return [invalid(child(path.replace(/\.template$/, ''), 'selector'), sel ?? null, 'invalid label selector')];
  // An empty (but present) selector is reported as such, not as a mismatch.
  if (!(sel && selectorIsEmpty(sel)) && !matches) errs.push(invalid(child(path, 'metadata', 'labels'), t.metadata.labels ?? {}, SELECTOR_MISMATCH));
  errs.push(...validatePodTemplateSpec(t, path, podOpts));
  if (t.spec.restartPolicy !== 'Always') errs.push(notSupported(child(path, 'spec', 'restartPolicy'), t.spec.restartPolicy, ['Always']));
  if (t.spec.activeDeadlineSeconds !== undefined)
    errs.push(forbidden(child(path, 'spec', 'activeDeadlineSeconds'), `activeDeadlineSeconds in ${kind} is not Supported`));
  return errs;
}

const REPLICA_COUNTS_MSG = 'cannot be greater than status.replicas';

// ---------------- Deployment ----------------

export const RollingUpdateDeployment = z.object({ maxUnavailable: IntOrString.optional(), maxSurge: IntOrString.optional() });

export const DeploymentStrategy = z
  .object({ type: z.string().optional(), rollingUpdate: RollingUpdateDeployment.optional() })
  .transform((s) => {
    const type = s.type || 'RollingUpdate';
    if (type !== 'RollingUpdate') return { ...s, type };
    const ru = s.rollingUpdate ?? {};
    return { ...s, type, rollingUpdate: { ...ru, maxUnavailable: ru.maxUnavailable ?? '25%', maxSurge: ru.maxSurge ?? '25%' } };
  });
export type DeploymentStrategy = z.output<typeof DeploymentStrategy>;

export const DeploymentSpec = z.object({
  replicas: int().default(1),
  selector: LabelSelector.optional(),
  template: PodTemplateSpec.prefault({}),
  strategy: DeploymentStrategy.prefault({}),
  minReadySeconds: int().optional(),
  revisionHistoryLimit: int().default(10),
  paused: z.boolean().optional(),
  progressDeadlineSeconds: int().default(600),
});
export type DeploymentSpec = z.output<typeof DeploymentSpec>;

export const DeploymentStatus = z.object({
  observedGeneration: int().optional(),
  replicas: int().optional(),
  updatedReplicas: int().optional(),
  readyReplicas: int().optional(),
  availableReplicas: int().optional(),
  unavailableReplicas: int().optional(),
  terminatingReplicas: int().optional(),
  conditions: z.array(Condition).optional(),
  collisionCount: int().optional(),
});
export type DeploymentStatus = z.output<typeof DeploymentStatus>;

export const Deployment = z.object({
  apiVersion: z.literal('apps/v1'),
  kind: z.literal('Deployment'),
  metadata: NamespacedMeta.prefault({}),
  spec: DeploymentSpec.prefault({}),
  status: DeploymentStatus.optional(),
});
export type Deployment = z.output<typeof Deployment>;

export const DeploymentList = z.object({
  apiVersion: z.literal('apps/v1'),
  kind: z.literal('DeploymentList'),
  metadata: ListMeta.prefault({}),
  items: z.array(Deployment).default([]),
});

function validateRollingUpdateDeployment(ru: { maxUnavailable?: IntOrString; maxSurge?: IntOrString }, path: string): FieldError[] {
  const errs = validatePositiveIntOrPercent(ru.maxUnavailable, child(path, 'maxUnavailable'));
  errs.push(...validatePositiveIntOrPercent(ru.maxSurge, child(path, 'maxSurge')));
  if (intOrPercentValue(ru.maxUnavailable) === 0 && intOrPercentValue(ru.maxSurge) === 0)
    errs.push(invalid(child(path, 'maxUnavailable'), ru.maxUnavailable ?? 0, 'may not be 0 when `maxSurge` is 0'));
  errs.push(...isNotMoreThan100Percent(ru.maxUnavailable, child(path, 'maxUnavailable')));
  return errs;
}

function validateDeploymentStrategy(s: DeploymentStrategy, path: string): FieldError[] {
  switch (s.type) {
    case 'Recreate':
      return s.rollingUpdate ? [forbidden(child(path, 'rollingUpdate'), "may not be specified when strategy `type` is 'Recreate'")] : [];
    case 'RollingUpdate':
      return s.rollingUpdate
        ? validateRollingUpdateDeployment(s.rollingUpdate, child(path, 'rollingUpdate'))
        : [required(child(path, 'rollingUpdate'), 'this should be defaulted and never be nil')];
    default:
      return [notSupported(path, s, ['Recreate', 'RollingUpdate'])];
  }
}

export function validateDeploymentSpec(spec: DeploymentSpec, path = 'spec', podOpts: PodValidationOptions = {}): FieldError[] {
  const errs = nonnegative(spec.replicas, child(path, 'replicas'));
  errs.push(...validateWorkloadSelector(spec.selector, 'deployment', path));
  errs.push(...validateTemplateForReplicaSet(spec.template, spec.selector, 'ReplicaSet', child(path, 'template'), podOpts));
  errs.push(...validateDeploymentStrategy(spec.strategy, child(path, 'strategy')));
  errs.push(...nonnegative(spec.minReadySeconds, child(path, 'minReadySeconds')));
  errs.push(...nonnegative(spec.revisionHistoryLimit, child(path, 'revisionHistoryLimit')));
  errs.push(...nonnegative(spec.progressDeadlineSeconds, child(path, 'progressDeadlineSeconds')));
  if (spec.progressDeadlineSeconds <= (spec.minReadySeconds ?? 0))
    errs.push(invalid(child(path, 'progressDeadlineSeconds'), spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
  return errs;
}

export function validateDeploymentStatus(s: DeploymentStatus | undefined, path = 'status'): FieldError[] {
  if (!s) return [];
  const errs = nonnegativeFields(s, ['observedGeneration', 'replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas', 'collisionCount'], path);
  const replicas = s.replicas ?? 0;
  for (const f of ['updatedReplicas', 'readyReplicas', 'availableReplicas'] as const)
    if ((s[f] ?? 0) > replicas) errs.push(invalid(child(path, f), s[f] ?? 0, REPLICA_COUNTS_MSG));
  if ((s.availableReplicas ?? 0) > (s.readyReplicas ?? 0)) errs.push(invalid(child(path, 'availableReplicas'), s.availableReplicas ?? 0, 'cannot be greater than readyReplicas'));
  return errs;
}

export function validateDeployment(d: Deployment): FieldError[] {
  return [...validateObjectMeta(d.metadata, { namespaced: true }), ...validateDeploymentSpec(d.spec)];
}

export function validateDeploymentUpdate(d: Deployment, old: Deployment): FieldError[] {
  const errs = [...validateObjectMeta(d.metadata, { namespaced: true }), ...validateDeploymentSpec(d.spec, 'spec', templateUpdateOptions(old.spec.template))];
  errs.push(...validateImmutableField(d.spec.selector, old.spec.selector, 'spec.selector'));
  errs.push(...validateDeploymentStatus(d.status));
  return errs;
}

export const deploymentKind: KindDef<typeof Deployment> = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  schema: Deployment,
  namespaced: true,
  validate: validateDeployment,
  validateUpdate: validateDeploymentUpdate,
};

export const parseDeployment = (input: unknown, opts?: ParseOptions): ParseResult<Deployment> => parseKind(deploymentKind, input, opts);
export const parseDeploymentUpdate = (input: unknown, old: Deployment, opts?: ParseOptions): ParseResult<Deployment> =>
  parseKindUpdate(deploymentKind, input, old, opts);

// ---------------- ReplicaSet ----------------

export const ReplicaSetSpec = z.object({
  replicas: int().default(1),
  minReadySeconds: int().optional(),
  selector: LabelSelector.optional(),
  template: PodTemplateSpec.prefault({}),
});
export type ReplicaSetSpec = z.output<typeof ReplicaSetSpec>;

export const ReplicaSetStatus = z.object({
  replicas: int().default(0),
  fullyLabeledReplicas: int().optional(),
  readyReplicas: int().optional(),
  availableReplicas: int().optional(),
  terminatingReplicas: int().optional(),
  observedGeneration: int().optional(),
  conditions: z.array(Condition).optional(),
});
export type ReplicaSetStatus = z.output<typeof ReplicaSetStatus>;

export const ReplicaSet = z.object({
  apiVersion: z.literal('apps/v1'),
  kind: z.literal('ReplicaSet'),
  metadata: NamespacedMeta.prefault({}),
  spec: ReplicaSetSpec.prefault({}),
  status: ReplicaSetStatus.optional(),
});
export type ReplicaSet = z.output<typeof ReplicaSet>;

export function validateReplicaSetSpec(spec: ReplicaSetSpec, path = 'spec', podOpts: PodValidationOptions = {}): FieldError[] {
  const errs = nonnegative(spec.replicas, child(path, 'replicas'));
  errs.push(...nonnegative(spec.minReadySeconds, child(path, 'minReadySeconds')));
  // Upstream's message really says "deployment" for ReplicaSets too.
  errs.push(...validateWorkloadSelector(spec.selector, 'deployment', path));
  errs.push(...validateTemplateForReplicaSet(spec.template, spec.selector, 'ReplicaSet', child(path, 'template'), podOpts));
  return errs;
}

export function validateReplicaSetStatus(s: ReplicaSetStatus | undefined, path = 'status'): FieldError[] {
  if (!s) return [];
  const errs = nonnegativeFields(s, ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'observedGeneration'], path);
  for (const f of ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas'] as const)
    if ((s[f] ?? 0) > s.replicas) errs.push(invalid(child(path, f), s[f] ?? 0, REPLICA_COUNTS_MSG));
  if ((s.availableReplicas ?? 0) > (s.readyReplicas ?? 0)) errs.push(invalid(child(path, 'availableReplicas'), s.availableReplicas ?? 0, 'cannot be greater than readyReplicas'));
  return errs;
}

export function validateReplicaSet(rs: ReplicaSet): FieldError[] {
  return [...validateObjectMeta(rs.metadata, { namespaced: true }), ...validateReplicaSetSpec(rs.spec)];
}

export function validateReplicaSetUpdate(rs: ReplicaSet, old: ReplicaSet): FieldError[] {
  const errs = [...validateObjectMeta(rs.metadata, { namespaced: true }), ...validateReplicaSetSpec(rs.spec, 'spec', templateUpdateOptions(old.spec.template))];
  errs.push(...validateImmutableField(rs.spec.selector, old.spec.selector, 'spec.selector'));
  errs.push(...validateReplicaSetStatus(rs.status));
  return errs;
}

export const replicaSetKind: KindDef<typeof ReplicaSet> = {
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  schema: ReplicaSet,
  namespaced: true,
  validate: validateReplicaSet,
  validateUpdate: validateReplicaSetUpdate,
};

export const parseReplicaSet = (input: unknown, opts?: ParseOptions): ParseResult<ReplicaSet> => parseKind(replicaSetKind, input, opts);
