import { parseQuantity } from '../../api/quantity.js';
import { podCondition, type Pod } from '../objects.js';

/**
 * The HPA's replica arithmetic for resource metrics (upstream's ReplicaCalculator), pure: pods, their metrics and the
 * clock in, a replica count out. Values are in milli-units (millicores for cpu, milli-bytes for memory), as upstream
 * computes with MilliValue().
 */

/** One pod's usage of a resource, summed over its containers, as the resource metrics API reports it. */
export interface PodMetric {
  valueMilli: number;
  timestampMs: number;
  windowMs: number;
}

export type PodMetrics = ReadonlyMap<string, PodMetric>;

export class ReplicaCalcError extends Error {}

/** Upstream's --horizontal-pod-autoscaler-* defaults. */
export interface CalcConfig {
  tolerance: number;
  cpuInitializationPeriodMs: number;
  initialReadinessDelayMs: number;
}

export const DEFAULT_CALC_CONFIG: CalcConfig = { tolerance: 0.1, cpuInitializationPeriodMs: 5 * 60_000, initialReadinessDelayMs: 30_000 };

export interface ReplicaProposal {
  replicas: number;
  /** Percentage of request (for utilization targets). */
  utilization: number;
  /** Average raw value per pod, milli-units. */
  rawAverageMilli: number;
  timestampMs: number;
}

const ms = (t: string | undefined): number | undefined => (t ? Date.parse(t) : undefined);

interface Groups {
  readyCount: number;
  unready: Set<string>;
  missing: Set<string>;
  ignored: Set<string>;
}

/** Which pods count: deleted and failed ones never, pending ones and (for cpu) those still starting as unready. */
function groupPods(pods: readonly Pod[], metrics: PodMetrics, resource: string, nowMs: number, config: CalcConfig): Groups {
  const g: Groups = { readyCount: 0, unready: new Set(), missing: new Set(), ignored: new Set() };
  for (const pod of pods) {
    const name = pod.metadata.name ?? '';
    if (pod.metadata.deletionTimestamp || pod.status?.phase === 'Failed') {
      g.ignored.add(name);
      continue;
    }
    if (pod.status?.phase === 'Pending') {
      g.unready.add(name);
      continue;
    }
    const metric = metrics.get(name);
    if (!metric) {
      g.missing.add(name);
      continue;
    }
    if (resource === 'cpu') {
      const ready = podCondition(pod, 'Ready');
      const startMs = ms(pod.status?.startTime as string | undefined);
      let unready: boolean;
      if (!ready || startMs === undefined) unready = true;
      else {
        const transitionMs = ms(ready.lastTransitionTime) ?? 0;
        if (startMs + config.cpuInitializationPeriodMs > nowMs) {
          // Still starting: a sample counts only once the pod is ready and a whole window was measured since.
          unready = ready.status === 'False' || metric.timestampMs < transitionMs + metric.windowMs;
        } else {
          // Past start-up: only a pod that has never been ready is left out.
          unready = ready.status === 'False' && startMs + config.initialReadinessDelayMs > transitionMs;
        }
      }
      if (unready) {
        g.unready.add(name);
        continue;
      }
    }
    g.readyCount++;
  }
  return g;
}

/** Each pod's request for the resource (all containers, or one), in milli-units; a container without one is an error. */
export function podRequests(pods: readonly Pod[], resource: string, container?: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const pod of pods) {
    let sum = 0;
    for (const c of (pod.spec?.containers ?? []) as Array<{ name: string; resources?: { requests?: Record<string, string | number> } }>) {
      if (container && c.name !== container) continue;
      const q = c.resources?.requests?.[resource];
      if (q === undefined) throw new ReplicaCalcError(`missing request for ${resource} in container ${c.name} of Pod ${pod.metadata.name}`);
      sum += Math.round(parseQuantity(q) * 1000);
    }
    out.set(pod.metadata.name ?? '', sum);
  }
  return out;
}

/** Utilization over the pods that have both a sample and a request: the ratio to the target, the percentage, the raw average. */
export function utilizationRatio(metrics: PodMetrics, requests: ReadonlyMap<string, number>, targetUtilization: number): { ratio: number; utilization: number; rawAverageMilli: number } {
  let metricsTotal = 0;
  let requestsTotal = 0;
  let count = 0;
  for (const [name, m] of metrics) {
    const req = requests.get(name);
    if (req === undefined) continue; // a pod that went away between the two lists
    metricsTotal += m.valueMilli;
    requestsTotal += req;
    count++;
  }
  if (requestsTotal === 0) throw new ReplicaCalcError('no metrics returned matched known pods');
  const utilization = Math.trunc((metricsTotal * 100) / requestsTotal);
  return { ratio: utilization / targetUtilization, utilization, rawAverageMilli: Math.trunc(metricsTotal / count) };
}

interface Ratio {
  ratio: number;
  utilization: number;
  rawAverageMilli: number;
}

interface CalcInput {
  currentReplicas: number;
  resource: string;
  pods: readonly Pod[];
  metrics: PodMetrics;
  nowMs: number;
  config?: CalcConfig;
}

/**
 * The part both target kinds share: leave out what cannot be trusted, compute the ratio to the target, and when pods
 * could not be measured, assume the worst for them (missing pods at the target's full value when scaling down and at
 * zero when scaling up; unready pods at zero when scaling up) and keep the current count if that flips the decision.
 */
function calculate(input: CalcInput, ratioOf: (metrics: PodMetrics) => Ratio, fullValueOf: (pod: string) => number): ReplicaProposal {
  const config = input.config ?? DEFAULT_CALC_CONFIG;
  const { pods, currentReplicas } = input;
  if (pods.length === 0) throw new ReplicaCalcError('no pods returned by selector while calculating replica count');
  const g = groupPods(pods, input.metrics, input.resource, input.nowMs, config);
  const names = new Set(pods.map((p) => p.metadata.name ?? ''));
  const metrics = new Map([...input.metrics].filter(([name]) => names.has(name) && !g.ignored.has(name) && !g.unready.has(name)));
  if (metrics.size === 0) throw new ReplicaCalcError('did not receive metrics for targeted pods (pods might be unready)');
  const first = ratioOf(metrics);
  const timestampMs = Math.max(...[...metrics.values()].map((m) => m.timestampMs));
  const keep: ReplicaProposal = { replicas: currentReplicas, utilization: first.utilization, rawAverageMilli: first.rawAverageMilli, timestampMs };
  const scaleUpWithUnready = g.unready.size > 0 && first.ratio > 1.0;
  if (!scaleUpWithUnready && g.missing.size === 0) {
    if (Math.abs(1.0 - first.ratio) <= config.tolerance) return keep;
    return { ...keep, replicas: Math.ceil(first.ratio * g.readyCount) };
  }
  for (const name of g.missing) metrics.set(name, { valueMilli: first.ratio < 1.0 ? fullValueOf(name) : 0, timestampMs, windowMs: 0 });
  if (scaleUpWithUnready) for (const name of g.unready) metrics.set(name, { valueMilli: 0, timestampMs, windowMs: 0 });
  const second = ratioOf(metrics);
  if (Math.abs(1.0 - second.ratio) <= config.tolerance || (first.ratio < 1.0 && second.ratio > 1.0) || (first.ratio > 1.0 && second.ratio < 1.0)) return keep;
  const replicas = Math.ceil(second.ratio * metrics.size);
  if ((second.ratio < 1.0 && replicas > currentReplicas) || (second.ratio > 1.0 && replicas < currentReplicas)) return keep;
  return { ...keep, replicas };
}

/** Upstream's GetResourceReplicas (a Utilization target): the count that brings average utilization of requests to the target. */
export function resourceReplicas(input: CalcInput & { targetUtilization: number; container?: string }): ReplicaProposal {
  if (input.pods.length === 0) throw new ReplicaCalcError('no pods returned by selector while calculating replica count');
  const requests = podRequests(input.pods, input.resource, input.container);
  return calculate(input, (m) => utilizationRatio(m, requests, input.targetUtilization), (name) => requests.get(name) ?? 0);
}

/** Upstream's GetRawResourceReplicas (an AverageValue target): the count that brings the average per pod to the target. */
export function rawResourceReplicas(input: CalcInput & { targetAverageMilli: number }): ReplicaProposal {
  const target = input.targetAverageMilli;
  return calculate(
    input,
    (metrics) => {
      let total = 0;
      for (const m of metrics.values()) total += m.valueMilli;
      const average = Math.trunc(total / metrics.size);
      return { ratio: average / target, utilization: 0, rawAverageMilli: average };
    },
    () => target,
  );
}
