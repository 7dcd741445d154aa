// scheduling.k8s.io/v1 PriorityClass with SetDefaults_PriorityClass and upstream's ValidatePriorityClass.
import { z } from 'zod';
import { forbidden, notSupported, required, type FieldError } from '../errors.js';
import { ObjectMeta, validateObjectMeta } from '../meta.js';
import { int, type KindDef, parseKind, type ParseOptions, type ParseResult, validateImmutableField } from '../apps/common.js';

export const HIGHEST_USER_DEFINABLE_PRIORITY = 1000000000;
export const SYSTEM_CRITICAL_PRIORITY = 2 * HIGHEST_USER_DEFINABLE_PRIORITY;
export const SYSTEM_PRIORITY_CLASS_PREFIX = 'system-';
/** The classes the API server creates itself; only these may use the system- prefix. */
export const SYSTEM_PRIORITY_CLASSES = [
  { name: 'system-node-critical', value: SYSTEM_CRITICAL_PRIORITY + 1000, globalDefault: false, description: 'Used for system critical pods that must not be moved from their current node.' },
  { name: 'system-cluster-critical', value: SYSTEM_CRITICAL_PRIORITY, globalDefault: false, description: 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.' },
] as const;

export const PriorityClass = z.object({
  apiVersion: z.literal('scheduling.k8s.io/v1'),
  kind: z.literal('PriorityClass'),
  metadata: ObjectMeta.prefault({}),
  value: int().default(0),
  globalDefault: z.boolean().optional(),
  description: z.string().optional(),
  preemptionPolicy: z.string().default('PreemptLowerPriority'),
});
export type PriorityClass = z.output<typeof PriorityClass>;

function knownSystemClassError(name: string, value: number, globalDefault: boolean): string | undefined {
  const spc = SYSTEM_PRIORITY_CLASSES.find((c) => c.name === name);
  if (!spc) return `${name} is not a known system priority class`;
  if (spc.value !== value) return `value of ${spc.name} PriorityClass must be ${spc.value}`;
  if (spc.globalDefault !== globalDefault) return `globalDefault of ${spc.name} PriorityClass must be ${spc.globalDefault}`;
  return undefined;
}

export function validatePriorityClass(pc: PriorityClass): FieldError[] {
  const errs = validateObjectMeta(pc.metadata, { namespaced: false });
  if (pc.metadata.name.startsWith(SYSTEM_PRIORITY_CLASS_PREFIX)) {
    const err = knownSystemClassError(pc.metadata.name, pc.value, pc.globalDefault ?? false);
    if (err)
      errs.push(forbidden('metadata.name', `priority class names with '${SYSTEM_PRIORITY_CLASS_PREFIX}' prefix are reserved for system use only. error: ${err}`));
  } else if (pc.value > HIGHEST_USER_DEFINABLE_PRIORITY) {
    errs.push(forbidden('value', `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`));
  }
  if (pc.preemptionPolicy === '') errs.push(required('preemptionPolicy'));
  else if (pc.preemptionPolicy !== 'PreemptLowerPriority' && pc.preemptionPolicy !== 'Never')
    errs.push(notSupported('preemptionPolicy', pc.preemptionPolicy, ['PreemptLowerPriority', 'Never']));
  return errs;
}

export function validatePriorityClassUpdate(pc: PriorityClass, old: PriorityClass): FieldError[] {
  const errs = validateObjectMeta(pc.metadata, { namespaced: false });
  if (pc.value !== old.value) errs.push(forbidden('value', 'may not be changed in an update.'));
  errs.push(...validateImmutableField(pc.preemptionPolicy, old.preemptionPolicy, 'preemptionPolicy'));
  return errs;
}

export const priorityClassKind: KindDef<typeof PriorityClass> = {
  apiVersion: 'scheduling.k8s.io/v1',
  kind: 'PriorityClass',
  schema: PriorityClass,
  namespaced: false,
  validate: validatePriorityClass,
  validateUpdate: validatePriorityClassUpdate,
};

export const parsePriorityClass = (input: unknown, opts?: ParseOptions): ParseResult<PriorityClass> => parseKind(priorityClassKind, input, opts);
