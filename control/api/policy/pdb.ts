// policy/v1 PodDisruptionBudget with upstream's ValidatePodDisruptionBudget (pkg/apis/policy/validation).
import { z } from 'zod';
import { child, invalid, notSupported, type FieldError } from '../errors.js';
import { validateObjectMeta } from '../meta.js';
import {
  Condition,
  int,
  IntOrString,
  isNotMoreThan100Percent,
  type KindDef,
  LabelSelector,
  NamespacedMeta,
  nonnegativeFields,
  parseKind,
  type ParseOptions,
  type ParseResult,
  StringMap,
  validateLabelSelector,
  validatePositiveIntOrPercent,
} from '../apps/common.js';

export const UNHEALTHY_POD_EVICTION_POLICIES = ['AlwaysAllow', 'IfHealthyBudget'];

export const PodDisruptionBudgetSpec = z.object({
  minAvailable: IntOrString.optional(),
  selector: LabelSelector.optional(),
  maxUnavailable: IntOrString.optional(),
  unhealthyPodEvictionPolicy: z.string().optional(),
});
export type PodDisruptionBudgetSpec = z.output<typeof PodDisruptionBudgetSpec>;

export const PodDisruptionBudgetStatus = z.object({
  observedGeneration: int().optional(),
  disruptedPods: StringMap.optional(),
  disruptionsAllowed: int().default(0),
  currentHealthy: int().default(0),
  desiredHealthy: int().default(0),
  expectedPods: int().default(0),
  conditions: z.array(Condition).optional(),
});
export type PodDisruptionBudgetStatus = z.output<typeof PodDisruptionBudgetStatus>;

export const PodDisruptionBudget = z.object({
  apiVersion: z.literal('policy/v1'),
  kind: z.literal('PodDisruptionBudget'),
  metadata: NamespacedMeta.prefault({}),
  spec: PodDisruptionBudgetSpec.prefault({}),
  status: PodDisruptionBudgetStatus.optional(),
});
export type PodDisruptionBudget = z.output<typeof PodDisruptionBudget>;

export function validatePodDisruptionBudgetSpec(spec: PodDisruptionBudgetSpec, path = 'spec'): FieldError[] {
  const errs: FieldError[] = [];
  if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined)
    errs.push(invalid(path, spec, 'minAvailable and maxUnavailable cannot be both set'));
  for (const f of ['minAvailable', 'maxUnavailable'] as const) {
    if (spec[f] === undefined) continue;
    errs.push(...validatePositiveIntOrPercent(spec[f], child(path, f)));
    errs.push(...isNotMoreThan100Percent(spec[f], child(path, f)));
  }
  errs.push(...validateLabelSelector(spec.selector, child(path, 'selector')));
  if (spec.unhealthyPodEvictionPolicy !== undefined && !UNHEALTHY_POD_EVICTION_POLICIES.includes(spec.unhealthyPodEvictionPolicy))
    errs.push(notSupported(child(path, 'unhealthyPodEvictionPolicy'), spec.unhealthyPodEvictionPolicy, UNHEALTHY_POD_EVICTION_POLICIES));
  return errs;
}

export function validatePodDisruptionBudget(pdb: PodDisruptionBudget): FieldError[] {
  return [...validateObjectMeta(pdb.metadata, { namespaced: true }), ...validatePodDisruptionBudgetSpec(pdb.spec)];
}

export function validatePodDisruptionBudgetUpdate(pdb: PodDisruptionBudget, _old: PodDisruptionBudget): FieldError[] {
  const errs = validatePodDisruptionBudget(pdb);
  errs.push(...nonnegativeFields(pdb.status, ['disruptionsAllowed', 'currentHealthy', 'desiredHealthy', 'expectedPods'], 'status'));
  return errs;
}

export const podDisruptionBudgetKind: KindDef<typeof PodDisruptionBudget> = {
  apiVersion: 'policy/v1',
  kind: 'PodDisruptionBudget',
  schema: PodDisruptionBudget,
  namespaced: true,
  validate: validatePodDisruptionBudget,
  validateUpdate: validatePodDisruptionBudgetUpdate,
};

export const parsePodDisruptionBudget = (input: unknown, opts?: ParseOptions): ParseResult<PodDisruptionBudget> =>
  parseKind(podDisruptionBudgetKind, input, opts);
