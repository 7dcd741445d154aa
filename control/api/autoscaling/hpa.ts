// autoscaling/v2 HorizontalPodAutoscaler (the stored version) with SetDefaults_HorizontalPodAutoscaler and upstream's
// validation (pkg/apis/autoscaling/validation), plus autoscaling/v1 and the v1<->v2 conversions upstream uses to serve
// v1 from v2 objects: v2 content v1 cannot express travels in the autoscaling.alpha.kubernetes.io/* annotations.
import { z } from 'zod';
import { child, forbidden, index, invalid, notSupported, required, type FieldError } from '../errors.js';
import { validateObjectMeta } from '../meta.js';
import { isDNS1123Label } from '../names.js';
import { parseQuantity, quantityError } from '../quantity.js';
import {
  Condition,
  int,
  isValidPathSegmentName,
  type KindDef,
  LabelSelector,
  loose,
  NamespacedMeta,
  nonnegative,
  parseKind,
  type ParseOptions,
  type ParseResult,
  Quantity,
} from '../apps/common.js';

export const METRIC_SPECS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/metrics';
export const METRIC_STATUSES_ANNOTATION = 'autoscaling.alpha.kubernetes.io/current-metrics';
export const HPA_CONDITIONS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/conditions';
export const BEHAVIOR_SPECS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/behavior';
const ROUND_TRIP_ANNOTATIONS = [METRIC_SPECS_ANNOTATION, METRIC_STATUSES_ANNOTATION, HPA_CONDITIONS_ANNOTATION, BEHAVIOR_SPECS_ANNOTATION];

export const DEFAULT_CPU_UTILIZATION = 80;
export const MAX_PERIOD_SECONDS = 1800;
export const MAX_STABILIZATION_WINDOW_SECONDS = 3600;

// ---------------- v2 schema ----------------

export const CrossVersionObjectReference = z.object({
  kind: z.string().default(''),
  name: z.string().default(''),
  apiVersion: z.string().optional(),
});
export type CrossVersionObjectReference = z.output<typeof CrossVersionObjectReference>;

const MetricIdentifier = z.object({ name: z.string().default(''), selector: LabelSelector.optional() });
export const MetricTarget = z.object({
  type: z.string().default(''),
  value: Quantity.optional(),
  averageValue: Quantity.optional(),
  averageUtilization: int().optional(),
});
export type MetricTarget = z.output<typeof MetricTarget>;

export const MetricSpec = z.object({
  type: z.string().default(''),
  object: z.object({ describedObject: CrossVersionObjectReference.prefault({}), metric: MetricIdentifier.prefault({}), target: MetricTarget.prefault({}) }).optional(),
  pods: z.object({ metric: MetricIdentifier.prefault({}), target: MetricTarget.prefault({}) }).optional(),
  resource: z.object({ name: z.string().default(''), target: MetricTarget.prefault({}) }).optional(),
  containerResource: z.object({ name: z.string().default(''), container: z.string().default(''), target: MetricTarget.prefault({}) }).optional(),
  external: z.object({ metric: MetricIdentifier.prefault({}), target: MetricTarget.prefault({}) }).optional(),
});
export type MetricSpec = z.output<typeof MetricSpec>;

export const HPAScalingPolicy = z.object({ type: z.string().default(''), value: int().default(0), periodSeconds: int().default(0) });
export type HPAScalingPolicy = z.output<typeof HPAScalingPolicy>;
export const HPAScalingRules = z.object({
  stabilizationWindowSeconds: int().optional(),
  selectPolicy: z.string().optional(),
  policies: z.array(HPAScalingPolicy).optional(),
  tolerance: Quantity.optional(),
});
export type HPAScalingRules = z.output<typeof HPAScalingRules>;
export const HorizontalPodAutoscalerBehavior = z.object({ scaleUp: HPAScalingRules.optional(), scaleDown: HPAScalingRules.optional() });
export type HorizontalPodAutoscalerBehavior = z.output<typeof HorizontalPodAutoscalerBehavior>;

const defaultScaleUp = (): HPAScalingRules => ({
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [
    { type: 'Pods', value: 4, periodSeconds: 15 },
    { type: 'Percent', value: 100, periodSeconds: 15 },
  ],
});
const defaultScaleDown = (): HPAScalingRules => ({ selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] });

// copyHPAScalingRules: every member the user set wins over the default rules.
function fillRules(from: HPAScalingRules | undefined, to: HPAScalingRules): HPAScalingRules {
  if (!from) return to;
  return {
    ...to,
    ...(from.selectPolicy !== undefined ? { selectPolicy: from.selectPolicy } : {}),
    ...(from.stabilizationWindowSeconds !== undefined ? { stabilizationWindowSeconds: from.stabilizationWindowSeconds } : {}),
    ...(from.policies !== undefined ? { policies: from.policies } : {}),
    ...(from.tolerance !== undefined ? { tolerance: from.tolerance } : {}),
  };
}

export const HorizontalPodAutoscalerSpec = z
  .object({
    scaleTargetRef: CrossVersionObjectReference.prefault({}),
    minReplicas: int().default(1),
    maxReplicas: int().default(0),
    metrics: z.array(MetricSpec).optional(),
    behavior: HorizontalPodAutoscalerBehavior.optional(),
  })
  .transform((s) => ({
    ...s,
    metrics:
      s.metrics && s.metrics.length > 0
        ? s.metrics
        : [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION } } }],
    behavior: s.behavior ? { scaleUp: fillRules(s.behavior.scaleUp, defaultScaleUp()), scaleDown: fillRules(s.behavior.scaleDown, defaultScaleDown()) } : undefined,
  }));
export type HorizontalPodAutoscalerSpec = z.output<typeof HorizontalPodAutoscalerSpec>;

export const HorizontalPodAutoscalerStatus = z.object({
  observedGeneration: int().optional(),
  lastScaleTime: z.string().optional(),
  currentReplicas: int().optional(),
  desiredReplicas: int().default(0),
  currentMetrics: z.array(loose()).optional(),
  conditions: z.array(Condition).optional(),
});
export type HorizontalPodAutoscalerStatus = z.output<typeof HorizontalPodAutoscalerStatus>;

export const HorizontalPodAutoscaler = z.object({
  apiVersion: z.literal('autoscaling/v2'),
  kind: z.literal('HorizontalPodAutoscaler'),
  metadata: NamespacedMeta.prefault({}),
  spec: HorizontalPodAutoscalerSpec.prefault({}),
  status: HorizontalPodAutoscalerStatus.optional(),
});
export type HorizontalPodAutoscaler = z.output<typeof HorizontalPodAutoscaler>;

// ---------------- v2 validation ----------------

export function validateCrossVersionObjectReference(ref: CrossVersionObjectReference, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of ['kind', 'name'] as const) {
    if (ref[f] === '') errs.push(required(child(path, f)));
    else errs.push(...isValidPathSegmentName(ref[f]).map((m) => invalid(child(path, f), ref[f], m)));
  }
  return errs;
}

const isPositive = (q: string | undefined): boolean => q !== undefined && quantityError(q) === undefined && parseQuantity(q) > 0;

function validateMetricTarget(t: MetricTarget, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (t.type === '') errs.push(required(child(path, 'type'), 'must specify a metric target type'));
  if (!['Utilization', 'Value', 'AverageValue'].includes(t.type))
    errs.push(invalid(child(path, 'type'), t.type, 'must be either Utilization, Value, or AverageValue'));
  if (t.value !== undefined && !isPositive(t.value)) errs.push(invalid(child(path, 'value'), t.value, 'must be positive'));
  if (t.averageValue !== undefined && !isPositive(t.averageValue)) errs.push(invalid(child(path, 'averageValue'), t.averageValue, 'must be positive'));
  if (t.averageUtilization !== undefined && t.averageUtilization < 1)
    errs.push(invalid(child(path, 'averageUtilization'), t.averageUtilization, 'must be greater than 0'));
  return errs;
}

function validateMetricIdentifier(id: { name: string }, path: string): FieldError[] {
  if (id.name === '') return [required(child(path, 'name'), 'must specify a metric name')];
  return isValidPathSegmentName(id.name).map((m) => invalid(child(path, 'name'), id.name, m));
}

function validateUtilizationOrValue(t: MetricTarget, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (t.averageUtilization === undefined && t.averageValue === undefined)
    errs.push(required(child(path, 'target', 'averageUtilization'), 'must set either a target raw value or a target utilization'));
  if (t.averageUtilization !== undefined && t.averageValue !== undefined)
    errs.push(forbidden(child(path, 'target', 'averageValue'), 'may not set both a target raw value and a target utilization'));
  return errs;
}

const METRIC_SOURCE_TYPES = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'];

function validateMetricSpec(m: MetricSpec, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (m.type === '') errs.push(required(child(path, 'type'), 'must specify a metric source type'));
  if (!METRIC_SOURCE_TYPES.includes(m.type)) errs.push(notSupported(child(path, 'type'), m.type, METRIC_SOURCE_TYPES));
  const present: string[] = [];
  if (m.object) {
    present.push('object');
    const p = child(path, 'object');
    errs.push(...validateCrossVersionObjectReference(m.object.describedObject, child(p, 'describedObject')));
    errs.push(...validateMetricIdentifier(m.object.metric, child(p, 'metric')));
    errs.push(...validateMetricTarget(m.object.target, child(p, 'target')));
    if (m.object.target.value === undefined && m.object.target.averageValue === undefined)
      errs.push(required(child(p, 'target', 'averageValue'), 'must set either a target value or averageValue'));
  }
  if (m.external) {
    present.push('external');
    if (present.length === 1) {
      const p = child(path, 'external');
      errs.push(...validateMetricIdentifier(m.external.metric, child(p, 'metric')));
      errs.push(...validateMetricTarget(m.external.target, child(p, 'target')));
      const t = m.external.target;
      if (t.value === undefined && t.averageValue === undefined)
        errs.push(required(child(p, 'target', 'averageValue'), 'must set either a target value for metric or a per-pod target'));
      if (t.value !== undefined && t.averageValue !== undefined)
        errs.push(forbidden(child(p, 'target', 'value'), 'may not set both a target value for metric and a per-pod target'));
    }
  }
  if (m.pods) {
    present.push('pods');
    if (present.length === 1) {
      const p = child(path, 'pods');
      errs.push(...validateMetricIdentifier(m.pods.metric, child(p, 'metric')));
      errs.push(...validateMetricTarget(m.pods.target, child(p, 'target')));
      if (m.pods.target.averageValue === undefined) errs.push(required(child(p, 'target', 'averageValue'), 'must specify a positive target averageValue'));
    }
  }
  if (m.resource) {
    present.push('resource');
    if (present.length === 1) {
      const p = child(path, 'resource');
      if (m.resource.name === '') errs.push(required(child(p, 'name'), 'must specify a resource name'));
      errs.push(...validateMetricTarget(m.resource.target, child(p, 'target')));
      errs.push(...validateUtilizationOrValue(m.resource.target, p));
    }
  }
  if (m.containerResource) {
    present.push('containerResource');
    if (present.length === 1) {
      const p = child(path, 'containerResource');
      const cr = m.containerResource;
      if (cr.name === '') errs.push(required(child(p, 'name'), 'must specify a resource name'));
      if (cr.container === '') errs.push(required(child(p, 'container'), 'must specify a container'));
      else errs.push(...isDNS1123Label(cr.container).map((msg) => invalid(child(p, 'container'), cr.container, msg)));
      errs.push(...validateMetricTarget(cr.target, child(p, 'target')));
      errs.push(...validateUtilizationOrValue(cr.target, p));
    }
  }
  const expected = m.type === 'ContainerResource' ? 'containerResource' : m.type.toLowerCase();
  if (!present.includes(expected)) errs.push(required(child(path, expected), 'must populate information for the given metric source'));
  if (present.length !== 1)
    for (const t of present.filter((t) => t !== expected).sort()) errs.push(forbidden(child(path, t), 'must populate the given metric source only'));
  return errs;
}

const SELECT_POLICIES = ['Disabled', 'Max', 'Min'];
const POLICY_TYPES = ['Percent', 'Pods'];

function validateScalingRules(r: HPAScalingRules | undefined, path: string): FieldError[] {
  if (!r) return [];
  const errs: FieldError[] = [];
  const sw = r.stabilizationWindowSeconds;
  if (sw !== undefined && sw < 0) errs.push(invalid(child(path, 'stabilizationWindowSeconds'), sw, 'must be greater than or equal to zero'));
  if (sw !== undefined && sw > MAX_STABILIZATION_WINDOW_SECONDS)
    errs.push(invalid(child(path, 'stabilizationWindowSeconds'), sw, `must be less than or equal to ${MAX_STABILIZATION_WINDOW_SECONDS}`));
  if (r.selectPolicy !== undefined && !SELECT_POLICIES.includes(r.selectPolicy))
    errs.push(notSupported(child(path, 'selectPolicy'), r.selectPolicy, SELECT_POLICIES));
  const pp = child(path, 'policies');
  const policies = r.policies ?? [];
  if (policies.length === 0) errs.push(required(pp, 'must specify at least one Policy'));
  policies.forEach((p, i) => {
    const ip = index(pp, i);
    if (!POLICY_TYPES.includes(p.type)) errs.push(notSupported(child(ip, 'type'), p.type, POLICY_TYPES));
    if (p.value <= 0) errs.push(invalid(child(ip, 'value'), p.value, 'must be greater than zero'));
    if (p.periodSeconds <= 0) errs.push(invalid(child(ip, 'periodSeconds'), p.periodSeconds, 'must be greater than zero'));
    if (p.periodSeconds > MAX_PERIOD_SECONDS)
      errs.push(invalid(child(ip, 'periodSeconds'), p.periodSeconds, `must be less than or equal to ${MAX_PERIOD_SECONDS}`));
  });
  if (r.tolerance !== undefined) {
    const qe = quantityError(r.tolerance);
    if (qe !== undefined) errs.push(invalid(child(path, 'tolerance'), r.tolerance, qe));
    else if (parseQuantity(r.tolerance) < 0) errs.push(invalid(child(path, 'tolerance'), r.tolerance, 'must be greater than or equal to zero'));
  }
  return errs;
}

export function validateHorizontalPodAutoscalerSpec(spec: HorizontalPodAutoscalerSpec, path = 'spec'): FieldError[] {
  const errs: FieldError[] = [];
  if (spec.minReplicas < 1) errs.push(invalid(child(path, 'minReplicas'), spec.minReplicas, 'must be greater than or equal to 1'));
  if (spec.maxReplicas < 1) errs.push(invalid(child(path, 'maxReplicas'), spec.maxReplicas, 'must be greater than 0'));
  if (spec.maxReplicas < spec.minReplicas) errs.push(invalid(child(path, 'maxReplicas'), spec.maxReplicas, 'must be greater than or equal to `minReplicas`'));
  errs.push(...validateCrossVersionObjectReference(spec.scaleTargetRef, child(path, 'scaleTargetRef')));
  spec.metrics.forEach((m, i) => errs.push(...validateMetricSpec(m, index(child(path, 'metrics'), i))));
  if (spec.behavior) {
    errs.push(...validateScalingRules(spec.behavior.scaleUp, child(path, 'behavior', 'scaleUp')));
    errs.push(...validateScalingRules(spec.behavior.scaleDown, child(path, 'behavior', 'scaleDown')));
  }
  return errs;
}

export function validateHorizontalPodAutoscaler(hpa: HorizontalPodAutoscaler): FieldError[] {
  return [...validateObjectMeta(hpa.metadata, { namespaced: true }), ...validateHorizontalPodAutoscalerSpec(hpa.spec)];
}

export function validateHorizontalPodAutoscalerUpdate(hpa: HorizontalPodAutoscaler, _old: HorizontalPodAutoscaler): FieldError[] {
  const errs = validateHorizontalPodAutoscaler(hpa);
  if (hpa.status) {
    errs.push(...nonnegative(hpa.status.currentReplicas, 'status.currentReplicas'));
    // Upstream's path has this typo.
    errs.push(...nonnegative(hpa.status.desiredReplicas, 'status.desiredReplicasa'));
  }
  return errs;
}

export const horizontalPodAutoscalerKind: KindDef<typeof HorizontalPodAutoscaler> = {
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  schema: HorizontalPodAutoscaler,
  namespaced: true,
  validate: validateHorizontalPodAutoscaler,
  validateUpdate: validateHorizontalPodAutoscalerUpdate,
};

export const parseHorizontalPodAutoscaler = (input: unknown, opts?: ParseOptions): ParseResult<HorizontalPodAutoscaler> =>
  parseKind(horizontalPodAutoscalerKind, input, opts);

// ---------------- v1 ----------------

export const HorizontalPodAutoscalerV1 = z.object({
  apiVersion: z.literal('autoscaling/v1'),
  kind: z.literal('HorizontalPodAutoscaler'),
  metadata: NamespacedMeta.prefault({}),
  spec: z
    .object({
      scaleTargetRef: CrossVersionObjectReference.prefault({}),
      minReplicas: int().default(1),
      maxReplicas: int().default(0),
      targetCPUUtilizationPercentage: int().optional(),
    })
    .prefault({}),
  status: z
    .object({
      observedGeneration: int().optional(),
      lastScaleTime: z.string().optional(),
      currentReplicas: int().default(0),
      desiredReplicas: int().default(0),
      currentCPUUtilizationPercentage: int().optional(),
    })
    .optional(),
});
export type HorizontalPodAutoscalerV1 = z.output<typeof HorizontalPodAutoscalerV1>;

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const obj = (v: unknown): Json => (isObj(v) ? v : {});
/** Drops undefined members, like Go's omitempty on nil pointers. */
const clean = (o: Json): Json => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

const isCpuUtilization = (m: Json): boolean => {
  const r = obj(m.resource);
  return m.type === 'Resource' && isObj(m.resource) && r.name === 'cpu' && obj(r.target).averageUtilization !== undefined;
};

// v2 MetricSpec -> the v1 (v2beta1-shaped) MetricSpec kept in the metrics annotation.
function metricSpecToV1(m: Json): Json {
  const target = (x: Json) => obj(x.target);
  const metric = (x: Json) => obj(x.metric);
  const out: Json = { type: m.type };
  if (isObj(m.object)) {
    const o = m.object;
    out.object = clean({ target: o.describedObject, metricName: metric(o).name, targetValue: target(o).value, selector: metric(o).selector, averageValue: target(o).averageValue });
  }
  if (isObj(m.pods)) out.pods = clean({ metricName: metric(m.pods).name, targetAverageValue: target(m.pods).averageValue, selector: metric(m.pods).selector });
  if (isObj(m.resource))
    out.resource = clean({ name: m.resource.name, targetAverageUtilization: target(m.resource).averageUtilization, targetAverageValue: target(m.resource).averageValue });
  if (isObj(m.containerResource)) {
    const c = m.containerResource;
    out.containerResource = clean({ name: c.name, container: c.container, targetAverageUtilization: target(c).averageUtilization, targetAverageValue: target(c).averageValue });
  }
  if (isObj(m.external))
    out.external = clean({ metricName: metric(m.external).name, metricSelector: metric(m.external).selector, targetValue: target(m.external).value, targetAverageValue: target(m.external).averageValue });
  return out;
}

function metricSpecFromV1(m: Json): Json {
  const out: Json = { type: m.type };
  if (isObj(m.object)) {
    const o = m.object;
    out.object = {
      describedObject: o.target,
      metric: clean({ name: o.metricName, selector: o.selector }),
      target: clean({ type: o.averageValue !== undefined ? 'AverageValue' : 'Value', value: o.targetValue, averageValue: o.averageValue }),
    };
  }
  if (isObj(m.pods))
    out.pods = { metric: clean({ name: m.pods.metricName, selector: m.pods.selector }), target: clean({ type: 'AverageValue', averageValue: m.pods.targetAverageValue }) };
  const resTarget = (r: Json): Json =>
    clean({
      type: r.targetAverageUtilization !== undefined ? 'Utilization' : 'AverageValue',
      averageUtilization: r.targetAverageUtilization,
      averageValue: r.targetAverageValue,
    });
  if (isObj(m.resource)) out.resource = { name: m.resource.name, target: resTarget(m.resource) };
  if (isObj(m.containerResource))
    out.containerResource = { name: m.containerResource.name, container: m.containerResource.container, target: resTarget(m.containerResource) };
  if (isObj(m.external)) {
    const e = m.external;
    out.external = {
      metric: clean({ name: e.metricName, selector: e.metricSelector }),
      target: clean({ type: e.targetValue !== undefined ? 'Value' : 'AverageValue', value: e.targetValue, averageValue: e.targetAverageValue }),
    };
  }
  return out;
}

function metricStatusToV1(m: Json): Json {
  const cur = (x: Json) => obj(x.current);
  const metric = (x: Json) => obj(x.metric);
  const out: Json = { type: m.type };
  if (isObj(m.object)) {
    const o = m.object;
    out.object = clean({ target: o.describedObject, metricName: metric(o).name, currentValue: cur(o).value, selector: metric(o).selector, averageValue: cur(o).averageValue });
  }
  if (isObj(m.pods)) out.pods = clean({ metricName: metric(m.pods).name, currentAverageValue: cur(m.pods).averageValue, selector: metric(m.pods).selector });
  if (isObj(m.resource))
    out.resource = clean({ name: m.resource.name, currentAverageUtilization: cur(m.resource).averageUtilization, currentAverageValue: cur(m.resource).averageValue });
  if (isObj(m.containerResource)) {
    const c = m.containerResource;
    out.containerResource = clean({ name: c.name, container: c.container, currentAverageUtilization: cur(c).averageUtilization, currentAverageValue: cur(c).averageValue });
  }
  if (isObj(m.external))
    out.external = clean({ metricName: metric(m.external).name, metricSelector: metric(m.external).selector, currentValue: cur(m.external).value, currentAverageValue: cur(m.external).averageValue });
  return out;
}

function metricStatusFromV1(m: Json): Json {
  const out: Json = { type: m.type };
  if (isObj(m.object)) {
    const o = m.object;
    out.object = { describedObject: o.target, metric: clean({ name: o.metricName, selector: o.selector }), current: clean({ value: o.currentValue, averageValue: o.averageValue }) };
  }
  if (isObj(m.pods)) out.pods = { metric: clean({ name: m.pods.metricName, selector: m.pods.selector }), current: clean({ averageValue: m.pods.currentAverageValue }) };
  const resCur = (r: Json): Json => clean({ averageUtilization: r.currentAverageUtilization, averageValue: r.currentAverageValue });
  if (isObj(m.resource)) out.resource = { name: m.resource.name, current: resCur(m.resource) };
  if (isObj(m.containerResource))
    out.containerResource = { name: m.containerResource.name, container: m.containerResource.container, current: resCur(m.containerResource) };
  if (isObj(m.external))
    out.external = { metric: clean({ name: m.external.metricName, selector: m.external.metricSelector }), current: clean({ value: m.external.currentValue, averageValue: m.external.currentAverageValue }) };
  return out;
}

function withoutRoundTripAnnotations(annotations: unknown): Record<string, string> | undefined {
  if (!isObj(annotations)) return undefined;
  const out = Object.fromEntries(Object.entries(annotations).filter(([k]) => !ROUND_TRIP_ANNOTATIONS.includes(k))) as Record<string, string>;
  return Object.keys(out).length > 0 ? out : undefined;
}

function parseJsonArray(text: unknown): Json[] | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v.filter(isObj) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * autoscaling/v2 -> autoscaling/v1 (Convert_autoscaling_HorizontalPodAutoscaler_To_v1_HorizontalPodAutoscaler): the
 * CPU utilization metric becomes targetCPUUtilizationPercentage; other metrics, current metrics, conditions and
 * behavior are kept as JSON in annotations so that a v1 client's update does not lose them.
 */
export function hpaV2ToV1(v2: unknown): Json {
  const src = obj(v2);
  const meta = { ...obj(src.metadata) };
  const spec = obj(src.spec);
  const status = isObj(src.status) ? src.status : undefined;
  const annotations: Record<string, string> = { ...(withoutRoundTripAnnotations(meta.annotations) ?? {}) };
  const metrics = Array.isArray(spec.metrics) ? spec.metrics.filter(isObj) : [];
  const cpu = metrics.find(isCpuUtilization);
  const others = metrics.filter((m) => !isCpuUtilization(m)).map(metricSpecToV1);
  if (others.length > 0) annotations[METRIC_SPECS_ANNOTATION] = JSON.stringify(others);
  const currentMetrics = Array.isArray(status?.currentMetrics) ? status.currentMetrics.filter(isObj) : [];
  if (currentMetrics.length > 0) annotations[METRIC_STATUSES_ANNOTATION] = JSON.stringify(currentMetrics.map(metricStatusToV1));
  if (isObj(spec.behavior)) annotations[BEHAVIOR_SPECS_ANNOTATION] = JSON.stringify(spec.behavior);
  const conditions = Array.isArray(status?.conditions) ? status.conditions : [];
  if (conditions.length > 0) annotations[HPA_CONDITIONS_ANNOTATION] = JSON.stringify(conditions);
  if (Object.keys(annotations).length > 0) meta.annotations = annotations;
  else delete meta.annotations;

  const out: Json = {
    apiVersion: 'autoscaling/v1',
    kind: 'HorizontalPodAutoscaler',
    metadata: meta,
    spec: clean({
      scaleTargetRef: spec.scaleTargetRef,
      minReplicas: spec.minReplicas,
      maxReplicas: spec.maxReplicas,
      targetCPUUtilizationPercentage: cpu ? obj(obj(cpu.resource).target).averageUtilization : undefined,
    }),
  };
  if (status) {
    const cpuNow = currentMetrics.find((m) => m.type === 'Resource' && obj(m.resource).name === 'cpu');
    out.status = clean({
      observedGeneration: status.observedGeneration,
      lastScaleTime: status.lastScaleTime,
      currentReplicas: status.currentReplicas ?? 0,
      desiredReplicas: status.desiredReplicas ?? 0,
      currentCPUUtilizationPercentage: cpuNow ? obj(obj(cpuNow.resource).current).averageUtilization : undefined,
    });
  }
  return out;
}

/**
 * autoscaling/v1 -> autoscaling/v2 (Convert_v1_HorizontalPodAutoscaler_To_autoscaling_HorizontalPodAutoscaler): the
 * annotations written by hpaV2ToV1 are read back and dropped. The result is not defaulted: parse it as v2.
 */
export function hpaV1ToV2(v1: unknown): Json {
  const src = obj(v1);
  const meta = { ...obj(src.metadata) };
  const spec = obj(src.spec);
  const status = isObj(src.status) ? src.status : undefined;
  const ann = obj(meta.annotations);

  let metrics: Json[] | undefined;
  if (spec.targetCPUUtilizationPercentage !== undefined && spec.targetCPUUtilizationPercentage !== null)
    metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage } } }];
  const others = parseJsonArray(ann[METRIC_SPECS_ANNOTATION]);
  if (others) metrics = [...others.map(metricSpecFromV1), ...(metrics ?? [])];

  let behavior: Json | undefined;
  if (typeof ann[BEHAVIOR_SPECS_ANNOTATION] === 'string') {
    try {
      const b: unknown = JSON.parse(ann[BEHAVIOR_SPECS_ANNOTATION] as string);
      if (isObj(b) && Object.keys(b).length > 0) behavior = b;
    } catch {
      // A corrupt annotation is ignored, as upstream does.
    }
  }

  const annotations = withoutRoundTripAnnotations(meta.annotations);
  if (annotations) meta.annotations = annotations;
  else delete meta.annotations;

  const out: Json = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: meta,
    spec: clean({ scaleTargetRef: spec.scaleTargetRef, minReplicas: spec.minReplicas, maxReplicas: spec.maxReplicas, metrics, behavior }),
  };
  if (status) {
    let currentMetrics: Json[] | undefined;
    if (status.currentCPUUtilizationPercentage !== undefined && status.currentCPUUtilizationPercentage !== null)
      currentMetrics = [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: status.currentCPUUtilizationPercentage } } }];
    const fromAnn = parseJsonArray(ann[METRIC_STATUSES_ANNOTATION]);
    // The annotation holds every current metric (the CPU one too), so it replaces the converted field.
    if (fromAnn) currentMetrics = fromAnn.map(metricStatusFromV1);
    const conditions = parseJsonArray(ann[HPA_CONDITIONS_ANNOTATION]);
    out.status = clean({
      observedGeneration: status.observedGeneration,
      lastScaleTime: status.lastScaleTime,
      currentReplicas: status.currentReplicas,
      desiredReplicas: status.desiredReplicas ?? 0,
      currentMetrics,
      conditions,
    });
  }
  return out;
}

// A v1 object is defaulted by converting it to v2 (whose defaults apply) and back, as upstream stores v2 and serves v1
// by conversion; a v1 object that says nothing about CPU thus reads back with the 80% default.
const HorizontalPodAutoscalerV1Defaulted = HorizontalPodAutoscalerV1.transform((v1) => {
  const v2 = HorizontalPodAutoscaler.safeParse(hpaV1ToV2(v1));
  if (!v2.success) return v1;
  const back = HorizontalPodAutoscalerV1.safeParse(hpaV2ToV1(v2.data));
  return back.success ? back.data : v1;
});

function asV2(v1: HorizontalPodAutoscalerV1): HorizontalPodAutoscaler | undefined {
  const r = HorizontalPodAutoscaler.safeParse(hpaV1ToV2(v1));
  return r.success ? r.data : undefined;
}

/**
 * autoscaling/v1 as a kind of its own: decoded as v1, defaulted and validated as v2 (error paths name v2 fields, as
 * upstream's do since it validates the internal, v2-shaped object).
 */
export const horizontalPodAutoscalerV1Kind: KindDef<typeof HorizontalPodAutoscalerV1> = {
  apiVersion: 'autoscaling/v1',
  kind: 'HorizontalPodAutoscaler',
  schema: HorizontalPodAutoscalerV1Defaulted as unknown as typeof HorizontalPodAutoscalerV1,
  namespaced: true,
  validate: (v1) => {
    const v2 = asV2(v1);
    return v2 ? validateHorizontalPodAutoscaler(v2) : [];
  },
  validateUpdate: (v1, old) => {
    const v2 = asV2(v1);
    const before = asV2(old);
    return v2 && before ? validateHorizontalPodAutoscalerUpdate(v2, before) : [];
  },
};

export const parseHorizontalPodAutoscalerV1 = (input: unknown, opts?: ParseOptions): ParseResult<HorizontalPodAutoscalerV1> =>
  parseKind(horizontalPodAutoscalerV1Kind, input, opts);
