// batch/v1 Job and CronJob: schemas with upstream's SetDefaults_Job / SetDefaults_CronJob, the Job strategy's
// generated selector, and ValidateJob / ValidateCronJob (pkg/apis/batch/validation) with their update rules.
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { child, duplicate, index, invalid, key, notSupported, required, type FieldError } from '../errors.js';
import { ListMeta, ObjectMeta, validateObjectMeta } from '../meta.js';
import { isDNS1123Label, isQualifiedName, validateDomainPrefixedPath } from '../names.js';
import {
  Condition,
  int,
  type KindDef,
  LabelSelector,
  loose,
  NamespacedMeta,
  nonnegative,
  nonnegativeFields,
  parseKind,
  type ParseOptions,
  type ParseResult,
  PodTemplateSpec,
  SELECTOR_MISMATCH,
  selectorMatches,
  TemplateMeta,
  validateImmutableField,
  validateLabelSelector,
  validatePodTemplateSpec,
} from '../apps/common.js';
import { cronScheduleError, isKnownTimeZone } from './cron.js';
import type { PodValidationOptions } from '../pod-validation.js';
import { templateUpdateOptions } from '../sysctl-validation.js';

export const MAX_INT32 = 2147483647;
export const LEGACY_JOB_NAME_LABEL = 'job-name';
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
export const LEGACY_CONTROLLER_UID_LABEL = 'controller-uid';
export const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';

const MAX_PARALLELISM_FOR_INDEXED_JOB = 100000;
const MAX_FAILED_INDEXES_FOR_INDEXED_JOB = 100000;
const MAX_POD_FAILURE_POLICY_RULES = 20;
const MAX_POD_FAILURE_POLICY_ON_EXIT_CODES_VALUES = 255;
const MAX_POD_FAILURE_POLICY_ON_POD_CONDITIONS_PATTERNS = 20;
const MAX_SUCCESS_POLICY_RULES = 20;

// ---------------- schemas ----------------

const PodFailurePolicyRule = z.object({
  action: z.string().default(''),
  onExitCodes: z
    .object({ containerName: z.string().optional(), operator: z.string().default(''), values: z.array(int()).optional() })
    .optional(),
  onPodConditions: z
    .array(z.object({ type: z.string().default(''), status: z.string().optional().transform((s) => s || 'True') }))
    .optional(),
});
const PodFailurePolicy = z.object({ rules: z.array(PodFailurePolicyRule).default([]) });
const SuccessPolicy = z.object({
  rules: z.array(z.object({ succeededIndexes: z.string().optional(), succeededCount: int().optional() })).default([]),
});

/** JobSpec as written (and as it stays inside a CronJob's jobTemplate, which upstream does not default). */
export const JobSpecFields = z.object({
  parallelism: int().optional(),
  completions: int().optional(),
  activeDeadlineSeconds: int().optional(),
  podFailurePolicy: PodFailurePolicy.optional(),
  successPolicy: SuccessPolicy.optional(),
  backoffLimit: int().optional(),
  backoffLimitPerIndex: int().optional(),
  maxFailedIndexes: int().optional(),
  selector: LabelSelector.optional(),
  manualSelector: z.boolean().optional(),
  template: PodTemplateSpec.prefault({}),
  ttlSecondsAfterFinished: int().optional(),
  completionMode: z.string().optional(),
  suspend: z.boolean().optional(),
  podReplacementPolicy: z.string().optional(),
  managedBy: z.string().optional(),
});
export type JobSpecFields = z.output<typeof JobSpecFields>;

/** SetDefaults_Job's spec part. */
export function defaultJobSpec(s: JobSpecFields): JobSpecFields {
  const both = s.completions === undefined && s.parallelism === undefined;
  return {
    ...s,
    completions: both ? 1 : s.completions,
    parallelism: s.parallelism ?? 1,
    backoffLimit: s.backoffLimit ?? (s.backoffLimitPerIndex !== undefined ? MAX_INT32 : 6),
    completionMode: s.completionMode ?? 'NonIndexed',
    suspend: s.suspend ?? false,
    podReplacementPolicy: s.podReplacementPolicy ?? (s.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed'),
    manualSelector: s.manualSelector ?? false,
  };
}

export const JobSpec = JobSpecFields.transform(defaultJobSpec);
export type JobSpec = z.output<typeof JobSpec>;

export const JobStatus = z.object({
  conditions: z.array(Condition).optional(),
  startTime: z.string().optional(),
  completionTime: z.string().optional(),
  active: int().optional(),
  succeeded: int().optional(),
  failed: int().optional(),
  terminating: int().optional(),
  completedIndexes: z.string().optional(),
  failedIndexes: z.string().optional(),
  uncountedTerminatedPods: z.object({ succeeded: z.array(z.string()).optional(), failed: z.array(z.string()).optional() }).optional(),
  ready: int().optional(),
});
export type JobStatus = z.output<typeof JobStatus>;

/** SetDefaults_Job's object part: a Job without labels takes its pod template's. */
function defaultJobLabels<T extends { metadata: ObjectMeta; spec: JobSpecFields }>(job: T): T {
  const tl = job.spec.template.metadata.labels;
  if (tl !== undefined && Object.keys(job.metadata.labels ?? {}).length === 0) return { ...job, metadata: { ...job.metadata, labels: { ...tl } } };
  return job;
}

export const Job = z
  .object({
    apiVersion: z.literal('batch/v1'),
    kind: z.literal('Job'),
    metadata: NamespacedMeta.prefault({}),
    spec: JobSpec.prefault({}),
    status: JobStatus.optional(),
  })
  .transform(defaultJobLabels);
export type Job = z.output<typeof Job>;

export const JobList = z.object({
  apiVersion: z.literal('batch/v1'),
  kind: z.literal('JobList'),
  metadata: ListMeta.prefault({}),
  items: z.array(Job).default([]),
});

/**
 * The Job strategy's PrepareForCreate: unless manualSelector is true, the pod template gets the job-name and
 * controller-uid labels (legacy and batch.kubernetes.io/ forms) and the selector matches the controller uid.
 * Labels the user already set are kept (validation then reports a conflict). Also re-applies the label default.
 */
export function generateJobSelector(job: Job): Job {
  if (job.spec.manualSelector === true) return job;
  const name = job.metadata.name;
  const uid = job.metadata.uid ?? '';
  const labels = { ...(job.spec.template.metadata.labels ?? {}) };
  for (const k of [LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL]) if (!(k in labels)) labels[k] = name;
  for (const k of [LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL]) if (!(k in labels)) labels[k] = uid;
  // Stored maps come back with sorted keys (Go's JSON encoding); keep the generated ones that way too.
  const sortedLabels = Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const selector = job.spec.selector ?? {};
  const matchLabels = { ...(selector.matchLabels ?? {}) };
  if (!(CONTROLLER_UID_LABEL in matchLabels)) matchLabels[CONTROLLER_UID_LABEL] = uid;
  const next: Job = {
    ...job,
    spec: {
      ...job.spec,
      selector: { ...selector, matchLabels },
      template: { ...job.spec.template, metadata: { ...job.spec.template.metadata, labels: sortedLabels } },
    },
  };
  return defaultJobLabels(next);
}

// ---------------- Job validation ----------------

function validateHasLabel(labels: Record<string, string> | undefined, path: string, k: string, expected: string): FieldError[] {
  const actual = labels?.[k];
  if (actual === undefined) return [required(key(child(path, 'labels'), k), expected)];
  if (actual !== expected) return [invalid(key(child(path, 'labels'), k), labels ?? {}, `must be '${expected}'`)];
  return [];
}

function validateGeneratedSelector(job: Job): FieldError[] {
  if (job.spec.manualSelector === true || !job.spec.selector) return [];
  const errs: FieldError[] = [];
  const uid = job.metadata.uid ?? '';
  const name = job.metadata.name;
  if (uid === '') errs.push(required('metadata.uid'));
  const tl = job.spec.template.metadata.labels;
  const tp = 'spec.template.metadata';
  errs.push(...validateHasLabel(tl, tp, LEGACY_CONTROLLER_UID_LABEL, uid));
  errs.push(...validateHasLabel(tl, tp, LEGACY_JOB_NAME_LABEL, name));
  errs.push(...validateHasLabel(tl, tp, CONTROLLER_UID_LABEL, uid));
  errs.push(...validateHasLabel(tl, tp, JOB_NAME_LABEL, name));
  const expected = { [CONTROLLER_UID_LABEL]: uid, [JOB_NAME_LABEL]: name, [LEGACY_CONTROLLER_UID_LABEL]: uid, [LEGACY_JOB_NAME_LABEL]: name };
  if (selectorMatches(job.spec.selector, expected) === false) errs.push(invalid('spec.selector', job.spec.selector, '`selector` not auto-generated'));
  return errs;
}

function validatePodFailurePolicy(spec: JobSpecFields, path: string): FieldError[] {
  const pfp = spec.podFailurePolicy;
  if (!pfp) return [];
  const errs: FieldError[] = [];
  const rulesPath = child(path, 'rules');
  if (pfp.rules.length > MAX_POD_FAILURE_POLICY_RULES)
    errs.push(invalid(rulesPath, pfp.rules.length, `must have at most ${MAX_POD_FAILURE_POLICY_RULES} items`));
  const containerNames = new Set([...spec.template.spec.containers, ...spec.template.spec.initContainers].map((c) => c.name));
  const actions = ['Count', 'FailIndex', 'FailJob', 'Ignore'];
  pfp.rules.forEach((rule, i) => {
    const rp = index(rulesPath, i);
    const ap = child(rp, 'action');
    if (rule.action === '') errs.push(required(ap, `valid values: ${goQuoteList(actions)}`));
    else if (rule.action === 'FailIndex') {
      if (spec.backoffLimitPerIndex === undefined) errs.push(invalid(ap, rule.action, 'requires the backoffLimitPerIndex to be set'));
    } else if (!actions.includes(rule.action)) errs.push(notSupported(ap, rule.action, actions));
    if (rule.onExitCodes) {
      const ep = child(rp, 'onExitCodes');
      const oc = rule.onExitCodes;
      const ops = ['In', 'NotIn'];
      if (oc.operator === '') errs.push(required(child(ep, 'operator'), `valid values: ${goQuoteList(ops)}`));
      else if (!ops.includes(oc.operator)) errs.push(notSupported(child(ep, 'operator'), oc.operator, ops));
      if (oc.containerName !== undefined && !containerNames.has(oc.containerName))
        errs.push(invalid(child(ep, 'containerName'), oc.containerName, 'must be one of the container or initContainer names in the pod template'));
      const vp = child(ep, 'values');
      const values = oc.values ?? [];
      if (values.length === 0) errs.push(invalid(vp, values, 'at least one value is required'));
      else if (values.length > MAX_POD_FAILURE_POLICY_ON_EXIT_CODES_VALUES)
        errs.push(invalid(vp, values.length, `must have at most ${MAX_POD_FAILURE_POLICY_ON_EXIT_CODES_VALUES} items`));
      const seen = new Set<number>();
      let ordered = true;
      values.forEach((v, j) => {
        if (oc.operator === 'In' && v === 0) errs.push(invalid(index(vp, j), v, 'must not be 0 for the In operator'));
        if (seen.has(v)) errs.push(duplicate(index(vp, j), v));
        else seen.add(v);
        if (j > 0 && (values[j - 1] ?? 0) > v) ordered = false;
      });
      if (!ordered) errs.push(invalid(vp, values, 'must be ordered'));
    }
    const conds = rule.onPodConditions ?? [];
    if (conds.length > 0) {
      const cp = child(rp, 'onPodConditions');
      if (conds.length > MAX_POD_FAILURE_POLICY_ON_POD_CONDITIONS_PATTERNS)
        errs.push(invalid(cp, conds.length, `must have at most ${MAX_POD_FAILURE_POLICY_ON_POD_CONDITIONS_PATTERNS} items`));
      conds.forEach((c, j) => {
        const pp = index(cp, j);
        errs.push(...isQualifiedName(c.type).map((m) => invalid(child(pp, 'type'), c.type, m)));
        if (!['False', 'True', 'Unknown'].includes(c.status)) errs.push(notSupported(child(pp, 'status'), c.status, ['False', 'True', 'Unknown']));
      });
    }
    if (rule.onExitCodes && conds.length > 0) errs.push(invalidOmit(rp, 'specifying both OnExitCodes and OnPodConditions is not supported'));
    if (!rule.onExitCodes && conds.length === 0) errs.push(invalidOmit(rp, 'specifying one of OnExitCodes and OnPodConditions is required'));
  });
  return errs;
}

/** field.Invalid with field.OmitValueType: the message has no value part. */
const invalidOmit = (field: string, detail: string): FieldError => ({ type: 'FieldValueInvalid', field, detail });

/** Go's %q of a []string: ["a" "b"]. */
const goQuoteList = (xs: string[]): string => `[${xs.map((x) => JSON.stringify(x)).join(' ')}]`;

function parseIndexInterval(s: string, completions: number): [number, number] {
  const parts = s.split('-');
  if (parts.length > 2) throw new Error(`the fragment "${s}" violates the requirement that an index interval can have at most two parts separated by '-'`);
  const num = (p: string): number => {
    if (!/^\d+$/.test(p)) throw new Error(`cannot convert string to integer for index: "${p}"`);
    const n = Number(p);
    if (n >= completions) throw new Error(`too large index: "${p}"`);
    return n;
  };
  const x = num(parts[0] ?? '');
  const y = parts.length === 2 ? num(parts[1] ?? '') : x;
  if (x > y) throw new Error(`non-increasing order, previous: ${x}, current: ${y}`);
  return [x, y];
}

function validateIndexesFormat(s: string, completions: number): number {
  if (s === '') return 0;
  let last: number | undefined;
  let total = 0;
  for (const interval of s.split(',')) {
    const [x, y] = parseIndexInterval(interval, completions);
    if (last !== undefined && last >= x) throw new Error(`non-increasing order, previous: ${last}, current: ${x}`);
    total += y - x + 1;
    last = y;
  }
  return total;
}

function validateSuccessPolicy(spec: JobSpecFields, path: string): FieldError[] {
  const sp = spec.successPolicy;
  if (!sp) return [];
  if ((spec.completionMode ?? 'NonIndexed') !== 'Indexed') return [invalid(path, sp, 'requires indexed completion mode')];
  const errs: FieldError[] = [];
  const rulesPath = child(path, 'rules');
  if (sp.rules.length === 0) errs.push(required(rulesPath, 'at least one rules must be specified when the successPolicy is specified'));
  if (sp.rules.length > MAX_SUCCESS_POLICY_RULES) errs.push(invalid(rulesPath, sp.rules.length, `must have at most ${MAX_SUCCESS_POLICY_RULES} items`));
  const completions = spec.completions ?? 0;
  sp.rules.forEach((rule, i) => {
    const rp = index(rulesPath, i);
    if (rule.succeededCount === undefined && rule.succeededIndexes === undefined)
      errs.push(required(rp, 'at least one of succeededCount or succeededIndexes must be specified'));
    let total = 0;
    if (rule.succeededIndexes !== undefined) {
      try {
        total = validateIndexesFormat(rule.succeededIndexes, completions);
      } catch (e) {
        errs.push(invalid(child(rp, 'succeededIndexes'), rule.succeededIndexes, `error parsing succeededIndexes: ${(e as Error).message}`));
      }
    }
    if (rule.succeededCount !== undefined) {
      const cp = child(rp, 'succeededCount');
      errs.push(...nonnegative(rule.succeededCount, cp));
      if (rule.succeededCount > completions)
        errs.push(invalid(cp, rule.succeededCount, `must be less than or equal to ${completions} (the number of specified completions)`));
      if (rule.succeededIndexes !== undefined && rule.succeededCount > total)
        errs.push(invalid(cp, rule.succeededCount, `must be less than or equal to ${total} (the number of indexes in the specified succeededIndexes field)`));
    }
  });
  return errs;
}

/** validateJobSpec: everything but the selector (shared with CronJob's jobTemplate). */
function validateJobSpecFields(spec: JobSpecFields, path: string, podOpts: PodValidationOptions = {}): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of ['parallelism', 'completions', 'activeDeadlineSeconds', 'backoffLimit', 'ttlSecondsAfterFinished', 'backoffLimitPerIndex'] as const)
    errs.push(...nonnegative(spec[f], child(path, f)));
  if (spec.maxFailedIndexes !== undefined) {
    errs.push(...nonnegative(spec.maxFailedIndexes, child(path, 'maxFailedIndexes')));
    if (spec.backoffLimitPerIndex === undefined) errs.push(required(child(path, 'backoffLimitPerIndex'), 'when maxFailedIndexes is specified'));
  }
  if (spec.managedBy !== undefined) {
    const mp = child(path, 'managedBy');
    errs.push(...validateDomainPrefixedPath(spec.managedBy, mp));
    if (spec.managedBy.length > 63) errs.push({ type: 'FieldValueTooLong', field: mp, value: '', detail: 'may not be more than 63 bytes' });
  }
  if (spec.completionMode !== undefined) {
    const mode = spec.completionMode;
    if (mode !== 'NonIndexed' && mode !== 'Indexed') errs.push(notSupported(child(path, 'completionMode'), mode, ['NonIndexed', 'Indexed']));
    if (mode === 'Indexed') {
      if (spec.completions === undefined) errs.push(required(child(path, 'completions'), 'when completion mode is Indexed'));
      if (spec.parallelism !== undefined && spec.parallelism > MAX_PARALLELISM_FOR_INDEXED_JOB)
        errs.push(invalid(child(path, 'parallelism'), spec.parallelism, `must be less than or equal to ${MAX_PARALLELISM_FOR_INDEXED_JOB} when completion mode is Indexed`));
      if (spec.completions !== undefined && spec.maxFailedIndexes !== undefined && spec.maxFailedIndexes > spec.completions)
        errs.push(invalid(child(path, 'maxFailedIndexes'), spec.maxFailedIndexes, 'must be less than or equal to completions'));
      if (spec.maxFailedIndexes !== undefined && spec.maxFailedIndexes > MAX_FAILED_INDEXES_FOR_INDEXED_JOB)
        errs.push(invalid(child(path, 'maxFailedIndexes'), spec.maxFailedIndexes, `must be less than or equal to ${MAX_FAILED_INDEXES_FOR_INDEXED_JOB}`));
    }
  }
  if ((spec.completionMode ?? 'NonIndexed') === 'NonIndexed') {
    if (spec.backoffLimitPerIndex !== undefined)
      errs.push(invalid(child(path, 'backoffLimitPerIndex'), spec.backoffLimitPerIndex, 'requires indexed completion mode'));
    if (spec.maxFailedIndexes !== undefined) errs.push(invalid(child(path, 'maxFailedIndexes'), spec.maxFailedIndexes, 'requires indexed completion mode'));
  }
  errs.push(...validatePodFailurePolicy(spec, child(path, 'podFailurePolicy')));
  errs.push(...validateSuccessPolicy(spec, child(path, 'successPolicy')));
  if (spec.podReplacementPolicy !== undefined) {
    const pp = child(path, 'podReplacementPolicy');
    if (spec.podFailurePolicy) {
      if (spec.podReplacementPolicy !== 'Failed') errs.push(notSupported(pp, spec.podReplacementPolicy, ['Failed']));
    } else if (!['Failed', 'TerminatingOrFailed'].includes(spec.podReplacementPolicy))
      errs.push(notSupported(pp, spec.podReplacementPolicy, ['Failed', 'TerminatingOrFailed']));
  }
  errs.push(...validatePodTemplateSpec(spec.template, child(path, 'template'), podOpts));
  const rp = child(path, 'template', 'spec', 'restartPolicy');
  const restart = spec.template.spec.restartPolicy;
  if (restart === 'Always' || restart === '') errs.push(required(rp, 'valid values: "OnFailure", "Never"'));
  else if (restart !== 'OnFailure' && restart !== 'Never') errs.push(notSupported(rp, restart, ['OnFailure', 'Never']));
  else if (spec.podFailurePolicy && restart !== 'Never') errs.push(invalid(rp, restart, 'only "Never" is supported when podFailurePolicy is specified'));
  return errs;
}

export function validateJobSpec(spec: JobSpecFields, path = 'spec', podOpts: PodValidationOptions = {}): FieldError[] {
  const errs = validateJobSpecFields(spec, path, podOpts);
  if (!spec.selector) errs.push(required(child(path, 'selector')));
  else errs.push(...validateLabelSelector(spec.selector, child(path, 'selector')));
  if (selectorMatches(spec.selector, spec.template.metadata.labels) === false)
    errs.push(invalid(child(path, 'template', 'metadata', 'labels'), spec.template.metadata.labels ?? {}, SELECTOR_MISMATCH));
  return errs;
}

export function validateJobStatus(job: Job, path = 'status'): FieldError[] {
  const s = job.status;
  if (!s) return [];
  const errs = nonnegativeFields(s, ['active', 'succeeded', 'failed', 'ready', 'terminating'], path);
  const seen = new Set<string>();
  for (const which of ['succeeded', 'failed'] as const) {
    (s.uncountedTerminatedPods?.[which] ?? []).forEach((uid, i) => {
      const p = index(child(path, 'uncountedTerminatedPods', which), i);
      if (uid === '') errs.push(invalid(p, uid, 'must not be empty'));
      else if (seen.has(uid)) errs.push(duplicate(p, uid));
      else seen.add(uid);
    });
  }
  const isTrue = (t: string) => (s.conditions ?? []).some((c) => c.type === t && c.status === 'True');
  if (isTrue('Complete') && isTrue('Failed')) errs.push(invalidOmit(child(path, 'conditions'), 'cannot set Complete=True and Failed=true conditions'));
  if (s.ready !== undefined && s.ready > (s.active ?? 0)) errs.push(invalid(child(path, 'ready'), s.ready, 'cannot set more ready pods than active'));
  return errs;
}

export function validateJob(job: Job): FieldError[] {
  const errs = validateObjectMeta(job.metadata, { namespaced: true });
  errs.push(...validateGeneratedSelector(job));
  errs.push(...validateJobSpec(job.spec));
  if (job.spec.completionMode === 'Indexed' && job.spec.completions !== undefined && job.spec.completions > 0) {
    const host = `${job.metadata.name}-${job.spec.completions - 1}`;
    if (isDNS1123Label(host).length > 0)
      errs.push(invalid('metadata.name', job.metadata.name, `will not able to create pod with invalid DNS label: ${host}`));
  }
  return errs;
}

/** The parts of a suspended, never-started Job's template that may change (scheduling directives). */
function schedulingMutableTemplate(tpl: PodTemplateSpec, next: PodTemplateSpec): PodTemplateSpec {
  const spec = { ...tpl.spec };
  const nextAff = next.spec.affinity;
  if (nextAff === undefined && spec.affinity !== undefined) {
    const { nodeAffinity: _n, ...rest } = spec.affinity;
    spec.affinity = Object.keys(rest).length === 0 ? undefined : rest;
  } else if (nextAff !== undefined && spec.affinity === undefined) spec.affinity = { nodeAffinity: nextAff.nodeAffinity };
  else if (nextAff !== undefined && spec.affinity !== undefined) spec.affinity = { ...spec.affinity, nodeAffinity: nextAff.nodeAffinity };
  spec.nodeSelector = next.spec.nodeSelector;
  spec.tolerations = next.spec.tolerations;
  spec.schedulingGates = next.spec.schedulingGates;
  return { metadata: { ...tpl.metadata, annotations: next.metadata.annotations, labels: next.metadata.labels }, spec };
}

export function validateJobUpdate(job: Job, old: Job): FieldError[] {
  const errs = validateObjectMeta(job.metadata, { namespaced: true });
  const spec = job.spec;
  const oldSpec = old.spec;
  errs.push(...validateJobSpec(spec, 'spec', templateUpdateOptions(oldSpec.template)));
  // Completions may change only for Indexed jobs (elastic indexed jobs), together with parallelism.
  if (spec.completionMode === 'Indexed') {
    if (!isDeepStrictEqual(spec.completions, oldSpec.completions) && spec.completions !== undefined && spec.completions !== spec.parallelism)
      errs.push(invalid('spec.completions', spec.completions, 'can only be modified in tandem with spec.parallelism'));
  } else errs.push(...validateImmutableField(spec.completions, oldSpec.completions, 'spec.completions'));
  errs.push(...validateImmutableField(spec.selector, oldSpec.selector, 'spec.selector'));
  const mutableScheduling = oldSpec.suspend === true && old.status?.startTime === undefined;
  const oldTemplate = mutableScheduling ? schedulingMutableTemplate(oldSpec.template, spec.template) : oldSpec.template;
  errs.push(...validateImmutableField(spec.template, oldTemplate, 'spec.template'));
  errs.push(...validateImmutableField(spec.completionMode, oldSpec.completionMode, 'spec.completionMode'));
  errs.push(...validateImmutableField(spec.podFailurePolicy, oldSpec.podFailurePolicy, 'spec.podFailurePolicy'));
  errs.push(...validateImmutableField(spec.backoffLimitPerIndex, oldSpec.backoffLimitPerIndex, 'spec.backoffLimitPerIndex'));
  errs.push(...validateImmutableField(spec.managedBy, oldSpec.managedBy, 'spec.managedBy'));
  errs.push(...validateImmutableField(spec.successPolicy, oldSpec.successPolicy, 'spec.successPolicy'));
  errs.push(...validateJobStatus(job));
  return errs;
}

export const jobKind: KindDef<typeof Job> = {
  apiVersion: 'batch/v1',
  kind: 'Job',
  schema: Job,
  namespaced: true,
  validate: validateJob,
  validateUpdate: validateJobUpdate,
};

/**
 * Decodes a Job for creation: defaults, the generated selector (needs metadata.uid, which the API server assigns
 * first), then validation.
 */
export function parseJob(input: unknown, opts?: ParseOptions): ParseResult<Job> {
  return parseKind({ ...jobKind, schema: Job.transform(generateJobSelector) as unknown as typeof Job }, input, opts);
}

// ---------------- CronJob ----------------

export const JobTemplateSpec = z.object({ metadata: TemplateMeta.prefault({}), spec: JobSpecFields.prefault({}) });
export type JobTemplateSpec = z.output<typeof JobTemplateSpec>;

export const CronJobSpec = z.object({
  schedule: z.string().default(''),
  timeZone: z.string().optional(),
  startingDeadlineSeconds: int().optional(),
  concurrencyPolicy: z.string().optional().transform((v) => v || 'Allow'),
  suspend: z.boolean().default(false),
  jobTemplate: JobTemplateSpec.prefault({}),
  successfulJobsHistoryLimit: int().default(3),
  failedJobsHistoryLimit: int().default(1),
});
export type CronJobSpec = z.output<typeof CronJobSpec>;

export const CronJobStatus = z.object({
  active: z.array(loose()).optional(),
  lastScheduleTime: z.string().optional(),
  lastSuccessfulTime: z.string().optional(),
});

export const CronJob = z.object({
  apiVersion: z.literal('batch/v1'),
  kind: z.literal('CronJob'),
  metadata: NamespacedMeta.prefault({}),
  spec: CronJobSpec.prefault({}),
  status: CronJobStatus.optional(),
});
export type CronJob = z.output<typeof CronJob>;

const VALID_TZ_PART = /^[A-Za-z.\-_0-9+]{1,14}$/;

export function validateTimeZone(tz: string | undefined, path: string): FieldError[] {
  if (tz === undefined) return [];
  if (tz === '') return [invalid(path, tz, 'timeZone must be nil or non-empty string')];
  for (const part of tz.split('/'))
    if (part === '.' || part === '..' || part.startsWith('-') || !VALID_TZ_PART.test(part)) return [invalid(path, tz, `unknown time zone ${tz}`)];
  const errs: FieldError[] = [];
  if (tz.toLowerCase() === 'local') errs.push(invalid(path, tz, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones'));
  // Go's LoadLocation knows "Local" (only that spelling); the check above already refused it.
  if (tz !== 'Local' && !isKnownTimeZone(tz)) errs.push(invalid(path, tz, `unknown time zone ${tz}`));
  return errs;
}

function validateJobTemplateSpec(t: JobTemplateSpec, path: string, podOpts: PodValidationOptions = {}): FieldError[] {
  const errs = validateJobSpecFields(t.spec, child(path, 'spec'), podOpts);
  if (t.spec.selector) errs.push(invalid(child(path, 'spec', 'selector'), t.spec.selector, '`selector` will be auto-generated'));
  if (t.spec.manualSelector === true) errs.push(notSupported(child(path, 'spec', 'manualSelector'), true, ['nil', 'false']));
  return errs;
}

export function validateCronJobSpec(spec: CronJobSpec, oldSpec: CronJobSpec | undefined, path = 'spec'): FieldError[] {
  const errs: FieldError[] = [];
  const sp = child(path, 'schedule');
  if (spec.schedule === '') errs.push(required(sp));
  else {
    const allowTZ = oldSpec !== undefined && oldSpec.schedule.includes('TZ');
    const err = cronScheduleError(spec.schedule);
    if (err !== undefined) errs.push(invalid(sp, spec.schedule, err));
    if (allowTZ && spec.schedule.includes('TZ') && spec.timeZone !== undefined)
      errs.push(invalid(sp, spec.schedule, 'cannot use both timeZone field and TZ or CRON_TZ in schedule'));
    else if (!allowTZ && spec.schedule.includes('TZ'))
      errs.push(invalid(sp, spec.schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
  }
  errs.push(...nonnegative(spec.startingDeadlineSeconds, child(path, 'startingDeadlineSeconds')));
  if (oldSpec === undefined || oldSpec.timeZone !== spec.timeZone) errs.push(...validateTimeZone(spec.timeZone, child(path, 'timeZone')));
  const cp = child(path, 'concurrencyPolicy');
  if (spec.concurrencyPolicy === '') errs.push(required(cp));
  else if (!['Allow', 'Forbid', 'Replace'].includes(spec.concurrencyPolicy)) errs.push(notSupported(cp, spec.concurrencyPolicy, ['Allow', 'Forbid', 'Replace']));
  errs.push(...validateJobTemplateSpec(spec.jobTemplate, child(path, 'jobTemplate'), templateUpdateOptions(oldSpec?.jobTemplate.spec.template)));
  errs.push(...nonnegative(spec.successfulJobsHistoryLimit, child(path, 'successfulJobsHistoryLimit')));
  errs.push(...nonnegative(spec.failedJobsHistoryLimit, child(path, 'failedJobsHistoryLimit')));
  return errs;
}

export function validateCronJob(cj: CronJob): FieldError[] {
  const errs = validateObjectMeta(cj.metadata, { namespaced: true });
  errs.push(...validateCronJobSpec(cj.spec, undefined));
  // The controller appends an 11-character suffix to name the Jobs, which are DNS labels.
  if (cj.metadata.name.length > 52) errs.push(invalid('metadata.name', cj.metadata.name, 'must be no more than 52 characters'));
  return errs;
}

export function validateCronJobUpdate(cj: CronJob, old: CronJob): FieldError[] {
  return [...validateObjectMeta(cj.metadata, { namespaced: true }), ...validateCronJobSpec(cj.spec, old.spec)];
}

export const cronJobKind: KindDef<typeof CronJob> = {
  apiVersion: 'batch/v1',
  kind: 'CronJob',
  schema: CronJob,
  namespaced: true,
  validate: validateCronJob,
  validateUpdate: validateCronJobUpdate,
};

export const parseCronJob = (input: unknown, opts?: ParseOptions): ParseResult<CronJob> => parseKind(cronJobKind, input, opts);
