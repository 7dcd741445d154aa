// core/v1 ReplicationController: replicas default 1, selector and labels default to the template's labels
// (SetDefaults_ReplicationController), ValidateReplicationController with the pod template validated by the
// Pod rules (validatePodSpec) and the RC-only template restrictions.
import { type AppArmorSpec, validateAppArmorAnnotationsAndFieldsMatch, validateAppArmorPodAnnotations } from '../apparmor.js';
import { z } from 'zod';
import { forbidden, invalid, notSupported, required, type FieldError } from '../errors.js';
import { ObjectMeta, validateAnnotations, validateLabels, validateObjectMeta } from '../meta.js';
import { PodSpec } from '../pod.js';
import { validatePodSpec, type PodValidationOptions } from '../pod-validation.js';
import { nonnegative } from '../validation-util.js';
import { templateUpdateOptions } from '../sysctl-validation.js';

const int = () => z.number().int();

/** Template metadata: an ObjectMeta whose name is optional (templates are not named). */
export const TemplateObjectMeta = ObjectMeta.extend({ name: z.string().optional() });

/**
 * A pod template's spec: the Pod spec with SetDefaults_PodSpec's defaults but not SetDefaults_Pod's, so
 * enableServiceLinks is left unset as in upstream's templates.
 */
export const TemplatePodSpec = PodSpec.extend({ enableServiceLinks: z.boolean().optional() });

export const PodTemplateSpecSchema = z.object({
  metadata: TemplateObjectMeta.prefault({}),
  spec: TemplatePodSpec.prefault({}),
});
export type PodTemplateSpecValue = z.output<typeof PodTemplateSpecSchema>;

export const ReplicationControllerSpec = z.object({
  replicas: int().optional().transform((v) => v ?? 1),
  minReadySeconds: int().optional(),
  selector: z.record(z.string(), z.string()).optional(),
  template: PodTemplateSpecSchema.optional(),
});
export type ReplicationControllerSpec = z.output<typeof ReplicationControllerSpec>;

export const ReplicationControllerStatus = z.object({
  replicas: int().default(0),
  fullyLabeledReplicas: int().optional(),
  readyReplicas: int().optional(),
  availableReplicas: int().optional(),
  observedGeneration: int().optional(),
  conditions: z.array(z.looseObject({})).optional(),
});
export type ReplicationControllerStatus = z.output<typeof ReplicationControllerStatus>;

const RCObject = z.object({
  apiVersion: z.literal('v1'),
  kind: z.literal('ReplicationController'),
  metadata: ObjectMeta.prefault({}),
  spec: ReplicationControllerSpec.prefault({}),
  // Always serialised upstream: status: {replicas: 0}.
  status: ReplicationControllerStatus.prefault({}),
});

export const ReplicationController = RCObject.transform((rc) => {
  const labels = rc.spec.template?.metadata.labels;
  if (labels === undefined) return rc;
  const empty = (m: Record<string, string> | undefined) => m === undefined || Object.keys(m).length === 0;
  return {
    ...rc,
    metadata: empty(rc.metadata.labels) ? { ...rc.metadata, labels: { ...labels } } : rc.metadata,
    spec: empty(rc.spec.selector) ? { ...rc.spec, selector: { ...labels } } : rc.spec,
  };
});
export type ReplicationController = z.output<typeof ReplicationController>;

function selectorMatches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

/** ValidatePodTemplateSpec: template labels and annotations, the Pod spec rules, no ephemeral containers. */
export function validatePodTemplateSpecAt(t: PodTemplateSpecValue, path: string, podOpts: PodValidationOptions = {}): FieldError[] {
  const errs = validateLabels(t.metadata.labels, `${path}.labels`);
  errs.push(...validateAnnotations(t.metadata.annotations, `${path}.annotations`));
  errs.push(...validateAppArmorPodAnnotations(t.metadata.annotations, t.spec as AppArmorSpec, `${path}.annotations`));
  errs.push(...validatePodSpec(t.spec as Parameters<typeof validatePodSpec>[0], `${path}.spec`, podOpts));
  errs.push(...validateAppArmorAnnotationsAndFieldsMatch(t.metadata.annotations, t.spec as AppArmorSpec, `${path}.spec`));
  if ((t.spec.ephemeralContainers ?? []).length > 0) errs.push(forbidden(`${path}.spec.ephemeralContainers`, 'ephemeral containers not allowed in pod template'));
  return errs;
}

export function validateReplicationControllerSpec(spec: ReplicationControllerSpec, path = 'spec', podOpts: PodValidationOptions = {}): FieldError[] {
  const errs = nonnegative(spec.minReadySeconds ?? 0, `${path}.minReadySeconds`);
  const selector = spec.selector ?? {};
  if (Object.keys(selector).length === 0) errs.push(required(`${path}.selector`));
  errs.push(...nonnegative(spec.replicas, `${path}.replicas`));
  const tp = `${path}.template`;
  const t = spec.template;
  if (!t) {
    errs.push(required(tp));
    return errs;
  }
  if (Object.keys(selector).length > 0 && !selectorMatches(selector, t.metadata.labels))
    errs.push(invalid(`${tp}.metadata.labels`, t.metadata.labels ?? {}, '`selector` does not match template `labels`'));
  errs.push(...validatePodTemplateSpecAt(t, tp, podOpts));
  if (t.spec.restartPolicy !== 'Always') errs.push(notSupported(`${tp}.spec.restartPolicy`, t.spec.restartPolicy, ['Always']));
  if (t.spec.activeDeadlineSeconds !== undefined)
    errs.push(forbidden(`${tp}.spec.activeDeadlineSeconds`, 'activeDeadlineSeconds in ReplicationController is not Supported'));
  return errs;
}

export function validateReplicationController(rc: ReplicationController): FieldError[] {
  return [...validateObjectMeta(rc.metadata, { namespaced: true }), ...validateReplicationControllerSpec(rc.spec)];
}

export function validateReplicationControllerUpdate(rc: ReplicationController, old: ReplicationController): FieldError[] {
  const podOpts = old.spec.template ? templateUpdateOptions(old.spec.template) : {};
  return [...validateObjectMeta(rc.metadata, { namespaced: true }), ...validateReplicationControllerSpec(rc.spec, 'spec', podOpts)];
}

/** ValidateReplicationControllerStatus. */
export function validateReplicationControllerStatus(s: ReplicationControllerStatus, path = 'status'): FieldError[] {
  const errs = nonnegative(s.replicas, `${path}.replicas`);
  const fully = s.fullyLabeledReplicas ?? 0;
  const ready = s.readyReplicas ?? 0;
  const available = s.availableReplicas ?? 0;
  errs.push(...nonnegative(fully, `${path}.fullyLabeledReplicas`));
  errs.push(...nonnegative(ready, `${path}.readyReplicas`));
  errs.push(...nonnegative(available, `${path}.availableReplicas`));
  errs.push(...nonnegative(s.observedGeneration ?? 0, `${path}.observedGeneration`));
  const msg = 'cannot be greater than status.replicas';
  if (fully > s.replicas) errs.push(invalid(`${path}.fullyLabeledReplicas`, fully, msg));
  if (ready > s.replicas) errs.push(invalid(`${path}.readyReplicas`, ready, msg));
  if (available > s.replicas) errs.push(invalid(`${path}.availableReplicas`, available, msg));
  if (available > ready) errs.push(invalid(`${path}.availableReplicas`, available, 'cannot be greater than readyReplicas'));
  return errs;
}
