import { parseQuantity } from '../../api/quantity.js';
import { matchesLabels, parseLabelSelector } from '../../api/selectors.js';
import type { Informer, KubeObject, ResourceRef } from '../../client/index.js';
import { Controller, type ControllerContext, type SyncResult } from '../controller.js';
import { errorMessage, jsonEqual, R, rfc3339, splitKey, type Condition, type Obj, type Pod } from '../objects.js';
import { ApiResourceMetricsClient, type ResourceMetricsClient } from './metrics-client.js';
import { normalizeDesiredReplicas, ScaleHistory, type Behavior, type ConditionUpdate } from './normalize.js';
import { DEFAULT_CALC_CONFIG, rawResourceReplicas, resourceReplicas, type CalcConfig, type ReplicaProposal } from './replica-calculator.js';

const HPAS: ResourceRef = { group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers' };

/** The kinds whose scale subresource the HPA can drive, by apiVersion group and kind. */
const SCALABLE: Record<string, ResourceRef> = {
  'apps/Deployment': { group: 'apps', version: 'v1', resource: 'deployments' },
  'apps/ReplicaSet': { group: 'apps', version: 'v1', resource: 'replicasets' },
  'apps/StatefulSet': { group: 'apps', version: 'v1', resource: 'statefulsets' },
  '/ReplicationController': { group: '', version: 'v1', resource: 'replicationcontrollers' },
};

interface MetricTarget {
  type: 'Utilization' | 'AverageValue' | 'Value';
  averageUtilization?: number;
  averageValue?: string | number;
  value?: string | number;
}

interface MetricSpec {
  type: string;
  resource?: { name: string; target: MetricTarget };
  containerResource?: { name: string; container: string; target: MetricTarget };
  pods?: { metric: { name: string } };
  object?: { metric: { name: string } };
  external?: { metric: { name: string } };
}

interface Hpa extends Obj {
  spec: {
    scaleTargetRef: { apiVersion?: string; kind: string; name: string };
    minReplicas?: number;
    maxReplicas: number;
    metrics?: MetricSpec[];
    behavior?: Behavior;
  };
  status?: {
    observedGeneration?: number;
    lastScaleTime?: string;
    currentReplicas?: number;
    desiredReplicas?: number;
    currentMetrics?: unknown[];
    conditions?: Condition[];
  };
}

interface Scale extends KubeObject {
  spec?: { replicas?: number };
  status?: { replicas?: number; selector?: string };
}

export interface HorizontalOptions {
  /** --horizontal-pod-autoscaler-sync-period (15 s). */
  syncPeriodMs?: number;
  /** --horizontal-pod-autoscaler-downscale-stabilization (5 min). */
  downscaleStabilizationMs?: number;
  calc?: CalcConfig;
  metrics?: ResourceMetricsClient;
}

class MetricError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** Upstream's milli-quantity rendering: whole units without a suffix, "m" otherwise. */
const milliQuantity = (milli: number): string => (milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`);

/**
 * Upstream's horizontal pod autoscaler controller: every sync period, for each HPA, reads the target's scale, the
 * pods' resource usage from the metrics API, computes the replica count that meets the targets, stabilizes and
 * limits it, writes the scale, and reports what it did in the HPA's status, conditions and events.
 */
export class HorizontalPodAutoscalerController extends Controller {
  private readonly hpas: Informer<Hpa>;
  private readonly pods: Informer<Pod>;
  private readonly metricsClient: ResourceMetricsClient;
  private readonly history = new Map<string, ScaleHistory>();
  private readonly syncPeriodMs: number;
  private readonly downscaleStabilizationMs: number;
  private readonly calc: CalcConfig;

  constructor(ctx: ControllerContext, opts: HorizontalOptions = {}) {
    super('horizontal-pod-autoscaler', ctx);
    this.syncPeriodMs = opts.syncPeriodMs ?? 15_000;
    this.downscaleStabilizationMs = opts.downscaleStabilizationMs ?? 5 * 60_000;
    this.calc = opts.calc ?? DEFAULT_CALC_CONFIG;
    this.metricsClient = opts.metrics ?? new ApiResourceMetricsClient(ctx.client);
    this.hpas = this.watch<Hpa>(HPAS);
    this.pods = this.watch<Pod>(R.pods);
    // Every HPA is processed once per sync period, changes or not: a change waits for the next turn (upstream's HPA
    // queue does the same), so the controller's own status writes never trigger extra rounds.
    const enqueue = (h: Hpa): void => this.queue.addAfter(`${h.metadata.namespace}/${h.metadata.name}`, this.syncPeriodMs);
    this.hpas.addHandlers({ onAdd: enqueue, onUpdate: (_o, h) => enqueue(h), onDelete: (h) => this.history.delete(`${h.metadata.namespace}/${h.metadata.name}`) });
  }

  protected async sync(key: string): Promise<SyncResult> {
    const cached = this.hpas.get(key);
    if (!cached) {
      this.history.delete(key);
      return;
    }
    const hpa = structuredClone(cached);
    const original = structuredClone(hpa.status ?? {});
    try {
      await this.reconcile(key, hpa, original);
    } catch (err) {
      // Reported through the HPA's conditions and events already; retried at the next period, never sooner, as
      // upstream's fixed-interval HPA queue does (faster retries would only repeat the same events).
      this.logger.debug({ hpa: key, err: errorMessage(err) }, 'autoscaler sync failed');
    }
    // Level-triggered on a timer too: usage changes without any object changing.
    return { requeueAfterMs: this.syncPeriodMs };
  }

  private async reconcile(key: string, hpa: Hpa, original: NonNullable<Hpa['status']>): Promise<void> {
    const { namespace } = splitKey(key);
    const ns = namespace ?? 'default';
    const nowMs = this.now().getTime();
    const target = hpa.spec.scaleTargetRef;
    const group = (target.apiVersion ?? '').includes('/') ? (target.apiVersion as string).split('/')[0] : '';
    const ref = SCALABLE[`${group}/${target.kind}`];
    let scale: Scale;
    try {
      if (!ref) throw new Error(`no matches for kind "${target.kind}" in group "${group}"`);
      scale = await this.client.get<Scale>(ref, ns, target.name, 'scale');
    } catch (err) {
      this.events.event(hpa, HPA_REF, 'Warning', 'FailedGetScale', errorMessage(err));
      this.setCondition(hpa, 'AbleToScale', 'False', 'FailedGetScale', `the HPA controller was unable to get the target's current scale: ${errorMessage(err)}`);
      await this.writeStatus(hpa, original);
      return;
    }
    this.setCondition(hpa, 'AbleToScale', 'True', 'SucceededGetScale', "the HPA controller was able to get the target's current scale");
    const currentReplicas = scale.spec?.replicas ?? 0;
    let history = this.history.get(key);
    if (!history) {
      history = new ScaleHistory();
      this.history.set(key, history);
    }
    history.initialize(currentReplicas, nowMs);
    const minReplicas = hpa.spec.minReplicas ?? 1;
    const maxReplicas = hpa.spec.maxReplicas;
    let desiredReplicas = 0;
    let rescaleReason = '';
    let rescale = true;
    let metricStatuses: unknown[] | undefined = hpa.status?.currentMetrics;
    if (currentReplicas === 0 && minReplicas !== 0) {
      rescale = false;
      this.setCondition(hpa, 'ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero');
    } else if (currentReplicas > maxReplicas) {
      rescaleReason = 'Current number of replicas above Spec.MaxReplicas';
      desiredReplicas = maxReplicas;
    } else if (currentReplicas < minReplicas) {
      rescaleReason = 'Current number of replicas below Spec.MinReplicas';
      desiredReplicas = minReplicas;
    } else {
      let computed: { replicas: number; metricName: string; statuses: unknown[] };
      try {
        computed = await this.computeReplicasForMetrics(hpa, scale, ns, currentReplicas, nowMs);
      } catch (err) {
        this.setStatus(hpa, currentReplicas, hpa.status?.desiredReplicas ?? 0, hpa.status?.currentMetrics, false);
        await this.writeStatus(hpa, original);
        this.events.event(hpa, HPA_REF, 'Warning', 'FailedComputeMetricsReplicas', errorMessage(err));
        throw err;
      }
      metricStatuses = computed.statuses;
      desiredReplicas = computed.replicas;
      if (desiredReplicas > currentReplicas) rescaleReason = `${computed.metricName} above target`;
      if (desiredReplicas < currentReplicas) rescaleReason = 'All metrics below target';
      const normalized = normalizeDesiredReplicas(history, {
        currentReplicas,
        desiredReplicas,
        minReplicas,
        maxReplicas,
        behavior: hpa.spec.behavior,
        nowMs,
        downscaleStabilizationMs: this.downscaleStabilizationMs,
      });
      for (const c of normalized.conditions) this.setCondition(hpa, c.type, c.status, c.reason, c.message);
      desiredReplicas = normalized.replicas;
      rescale = desiredReplicas !== currentReplicas;
    }
    if (rescale && ref) {
      try {
        await this.client.update<Scale>(ref, { ...scale, spec: { ...scale.spec, replicas: desiredReplicas } }, 'scale');
      } catch (err) {
        this.events.event(hpa, HPA_REF, 'Warning', 'FailedRescale', `New size: ${desiredReplicas}; reason: ${rescaleReason}; error: ${errorMessage(err)}`);
        this.setCondition(hpa, 'AbleToScale', 'False', 'FailedUpdateScale', `the HPA controller was unable to update the target scale: ${errorMessage(err)}`);
        this.setStatus(hpa, currentReplicas, hpa.status?.desiredReplicas ?? 0, hpa.status?.currentMetrics, false);
        await this.writeStatus(hpa, original);
        throw err;
      }
      this.setCondition(hpa, 'AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${desiredReplicas}`);
      this.events.event(hpa, HPA_REF, 'Normal', 'SuccessfulRescale', `New size: ${desiredReplicas}; reason: ${rescaleReason}`);
      history.recordScale(hpa.spec.behavior, currentReplicas, desiredReplicas, nowMs);
      this.logger.info({ hpa: key, from: currentReplicas, to: desiredReplicas, reason: rescaleReason }, 'successful rescale');
    } else {
      desiredReplicas = currentReplicas;
    }
    this.setStatus(hpa, currentReplicas, desiredReplicas, metricStatuses, rescale);
    await this.writeStatus(hpa, original);
  }

  /** The largest proposal over the HPA's metrics; an error when none could be computed, or some failed and it would scale down. */
  private async computeReplicasForMetrics(hpa: Hpa, scale: Scale, namespace: string, currentReplicas: number, nowMs: number): Promise<{ replicas: number; metricName: string; statuses: unknown[] }> {
    const selectorText = scale.status?.selector;
    if (!selectorText) {
      const msg = 'selector is required';
      this.events.event(hpa, HPA_REF, 'Warning', 'SelectorRequired', msg);
      this.setCondition(hpa, 'ScalingActive', 'False', 'InvalidSelector', 'the HPA target\'s scale is missing a selector');
      throw new Error(msg);
    }
    let selector;
    try {
      selector = parseLabelSelector(selectorText);
    } catch (err) {
      this.events.event(hpa, HPA_REF, 'Warning', 'InvalidSelector', errorMessage(err));
      this.setCondition(hpa, 'ScalingActive', 'False', 'InvalidSelector', `the HPA target's scale has an invalid selector: ${errorMessage(err)}`);
      throw err;
    }
    const pods = this.pods.list().filter((p) => p.metadata.namespace === namespace && matchesLabels(selector, p.metadata.labels));
    const specs = hpa.spec.metrics ?? [];
    let best: { replicas: number; metricName: string } | undefined;
    const statuses: unknown[] = [];
    let invalid = 0;
    let firstError: MetricError | undefined;
    for (const spec of specs) {
      try {
        const r = await this.computeMetric(spec, namespace, selectorText, pods, currentReplicas, nowMs);
        statuses.push(r.status);
        if (!best || r.proposal.replicas > best.replicas) best = { replicas: r.proposal.replicas, metricName: r.metricName };
      } catch (err) {
        const e = err instanceof MetricError ? err : new MetricError('FailedGetResourceMetric', errorMessage(err));
        this.events.event(hpa, HPA_REF, 'Warning', e.reason, e.message);
        statuses.push({ type: '' });
        invalid++;
        firstError ??= e;
      }
    }
    if (!best || invalid === specs.length || (invalid > 0 && best.replicas < currentReplicas)) {
      const e = firstError ?? new MetricError('FailedGetResourceMetric', 'no metrics to compute from');
      this.setCondition(hpa, 'ScalingActive', 'False', e.reason, `the HPA was unable to compute the replica count: ${e.message}`);
      throw new Error(`invalid metrics (${invalid} invalid out of ${specs.length}), first error is: ${e.message}`);
    }
    this.setCondition(hpa, 'ScalingActive', 'True', 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${best.metricName}`);
    return { replicas: best.replicas, metricName: best.metricName, statuses };
  }

  private async computeMetric(spec: MetricSpec, namespace: string, selector: string, pods: Pod[], currentReplicas: number, nowMs: number): Promise<{ proposal: ReplicaProposal; metricName: string; status: unknown }> {
    if (spec.type === 'Resource' || spec.type === 'ContainerResource') {
      const source = spec.type === 'Resource' ? spec.resource : spec.containerResource;
      const reason = spec.type === 'Resource' ? 'FailedGetResourceMetric' : 'FailedGetContainerResourceMetric';
      if (!source) throw new MetricError(reason, `invalid metric source: missing ${spec.type === 'Resource' ? 'resource' : 'containerResource'}`);
      const container = spec.type === 'ContainerResource' ? spec.containerResource?.container : undefined;
      const name = source.name;
      let metrics;
      try {
        metrics = await this.metricsClient.podMetrics(namespace, selector, name, container);
      } catch (err) {
        throw new MetricError(reason, `unable to get metrics for resource ${name}: unable to fetch metrics from resource metrics API: ${errorMessage(err)}`);
      }
      if (metrics.size === 0) throw new MetricError(reason, `unable to get metrics for resource ${name}: no metrics returned from resource metrics API`);
      const base = { currentReplicas, resource: name, pods, metrics, nowMs, config: this.calc };
      const kindName = container ? `${name} container resource` : `${name} resource`;
      try {
        if (source.target.averageValue !== undefined && source.target.type === 'AverageValue') {
          const proposal = rawResourceReplicas({ ...base, targetAverageMilli: Math.round(parseQuantity(source.target.averageValue) * 1000) });
          const status = { current: { averageValue: milliQuantity(proposal.rawAverageMilli) }, name, ...(container ? { container } : {}) };
          return { proposal, metricName: kindName, status: spec.type === 'Resource' ? { type: 'Resource', resource: status } : { type: 'ContainerResource', containerResource: status } };
        }
        if (source.target.averageUtilization === undefined) throw new Error('invalid resource metric source: neither a utilization target nor a value target was set');
        const proposal = resourceReplicas({ ...base, targetUtilization: source.target.averageUtilization, ...(container ? { container } : {}) });
        const status = { current: { averageUtilization: proposal.utilization, averageValue: milliQuantity(proposal.rawAverageMilli) }, name, ...(container ? { container } : {}) };
        return {
          proposal,
          metricName: `${kindName} utilization (percentage of request)`,
          status: spec.type === 'Resource' ? { type: 'Resource', resource: status } : { type: 'ContainerResource', containerResource: status },
        };
      } catch (err) {
        throw new MetricError(reason, `failed to get ${name} utilization: ${errorMessage(err)}`);
      }
    }
    // Skiff serves no custom or external metrics API, as a cluster without such an adapter.
    const custom: Record<string, [string, string | undefined]> = {
      Pods: ['FailedGetPodsMetric', spec.pods?.metric.name],
      Object: ['FailedGetObjectMetric', spec.object?.metric.name],
      External: ['FailedGetExternalMetric', spec.external?.metric.name],
    };
    const entry = custom[spec.type];
    if (entry) {
      const api = spec.type === 'External' ? 'external metrics API' : 'custom metrics API';
      throw new MetricError(entry[0], `unable to get metric ${entry[1] ?? ''}: unable to fetch metrics from ${api}: the server could not find the requested resource`);
    }
    throw new MetricError('InvalidMetricSourceType', `unknown metric source type "${spec.type}"`);
  }

  private setCondition(hpa: Hpa, type: ConditionUpdate['type'] | 'ScalingActive', status: 'True' | 'False', reason: string, message: string): void {
    hpa.status ??= {};
    const conditions = (hpa.status.conditions ??= []);
    let c = conditions.find((x) => x.type === type);
    if (!c) {
      c = { type, status };
      conditions.push(c);
      c.lastTransitionTime = rfc3339(this.now());
    } else if (c.status !== status) c.lastTransitionTime = rfc3339(this.now());
    c.status = status;
    c.reason = reason;
    c.message = message;
  }

  private setStatus(hpa: Hpa, currentReplicas: number, desiredReplicas: number, metrics: unknown[] | undefined, rescaled: boolean): void {
    const prev = hpa.status ?? {};
    hpa.status = {
      ...(hpa.metadata.generation !== undefined ? { observedGeneration: hpa.metadata.generation } : {}),
      ...(rescaled ? { lastScaleTime: rfc3339(this.now()) } : prev.lastScaleTime ? { lastScaleTime: prev.lastScaleTime } : {}),
      currentReplicas,
      desiredReplicas,
      ...(metrics && metrics.length ? { currentMetrics: metrics } : {}),
      ...(prev.conditions ? { conditions: prev.conditions } : {}),
    };
  }

  private async writeStatus(hpa: Hpa, original: NonNullable<Hpa['status']>): Promise<void> {
    if (jsonEqual(original, hpa.status ?? {})) return;
    try {
      await this.client.update(HPAS, hpa, 'status');
    } catch (err) {
      this.events.event(hpa, HPA_REF, 'Warning', 'FailedUpdateStatus', errorMessage(err));
      throw err;
    }
  }
}

const HPA_REF = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' };
