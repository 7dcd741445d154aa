import type { KindPrinter } from '../table.js';
import { ageCol, ageOf, col, int, nameCol, nameOf, optInt, quantityPtr, rec, recs, spec, status, str, type Obj } from './common.js';

/**
 * HorizontalPodAutoscalers (autoscaling/v2 and v1, one printer), as upstream's printHorizontalPodAutoscaler.
 * A v1 object is read through the same conversion upstream applies (targetCPUUtilizationPercentage becomes a cpu
 * Resource metric), and an HPA with no metrics gets the default 80% cpu target, as v2 defaulting gives it.
 */

const DEFAULT_CPU_UTILIZATION = 80;

function specMetrics(sp: Obj): Obj[] {
  const metrics = recs(sp.metrics);
  if (metrics.length > 0) return metrics;
  const target = optInt(sp.targetCPUUtilizationPercentage) ?? DEFAULT_CPU_UTILIZATION;
  return [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: target } } }];
}

function statusMetrics(sp: Obj, st: Obj): Obj[] {
  const current = recs(st.currentMetrics);
  if (current.length > 0 || recs(sp.metrics).length > 0) return current;
  const cpu = optInt(st.currentCPUUtilizationPercentage);
  if (cpu === undefined) return [];
  return [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: cpu } } }];
}

function present(v: unknown): boolean {
  return v !== undefined && v !== null;
}

export function formatHPAMetrics(specs: Obj[], statuses: Obj[]): string {
  if (specs.length === 0) return '<none>';
  const list: string[] = [];
  const max = 2;
  let count = 0;
  specs.forEach((m, i) => {
    const st = i < statuses.length ? statuses[i] : undefined;
    switch (m.type) {
      case 'External':
      case 'Object': {
        const key = m.type === 'External' ? 'external' : 'object';
        const target = rec(rec(m[key]).target);
        const cur = st && present(st[key]) ? rec(rec(st[key]).current) : undefined;
        if (present(target.averageValue)) {
          const current = cur && present(cur.averageValue) ? quantityPtr(cur.averageValue) : '<unknown>';
          list.push(`${current}/${quantityPtr(target.averageValue)} (avg)`);
        } else {
          const current = cur ? quantityPtr(cur.value) : '<unknown>';
          list.push(`${current}/${quantityPtr(target.value)}`);
        }
        break;
      }
      case 'Pods': {
        const target = rec(rec(m.pods).target);
        const current = st && present(st.pods) ? quantityPtr(rec(rec(st.pods).current).averageValue) : '<unknown>';
        list.push(`${current}/${quantityPtr(target.averageValue)}`);
        break;
      }
      case 'Resource':
      case 'ContainerResource': {
        const key = m.type === 'Resource' ? 'resource' : 'containerResource';
        const src = rec(m[key]);
        const target = rec(src.target);
        const cur = st && present(st[key]) ? rec(rec(st[key]).current) : undefined;
        if (present(target.averageValue)) {
          const current = cur ? quantityPtr(cur.averageValue) : '<unknown>';
          list.push(`${str(src.name)}: ${current}/${quantityPtr(target.averageValue)}`);
        } else {
          const current = cur && present(cur.averageUtilization) ? `${int(cur.averageUtilization)}%` : '<unknown>';
          const tgt = present(target.averageUtilization) ? `${int(target.averageUtilization)}%` : '<auto>';
          list.push(`${str(src.name)}: ${current}/${tgt}`);
        }
        break;
      }
      default:
        list.push('<unknown type>');
    }
    count++;
  });
  let shown = list;
  let more = false;
  if (count > max) {
    shown = list.slice(0, max);
    more = true;
  }
  const ret = shown.join(', ');
  return more ? `${ret} + ${count - max} more...` : ret;
}

export const horizontalPodAutoscalerPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Reference', 'string', 'scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.'),
    col('Targets', 'string', 'metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).  The desired replica count is calculated multiplying the ratio between the target value and the current value by the current number of pods.  Ergo, metrics used must decrease as the pod count is increased, and vice-versa.  See the individual metric source types for more information about how each type of metric must respond.'),
    col('MinPods', 'string', 'minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.  It defaults to 1 pod.  minReplicas is allowed to be 0 if the alpha feature gate HPAScaleToZero is enabled and at least one Object or External metric is configured.  Scaling is active as long as at least one metric value is available.'),
    col('MaxPods', 'string', 'maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up. It cannot be less that minReplicas.'),
    col('Replicas', 'string', 'currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.'),
    ageCol(),
  ],
  cells: (o, now) => {
    const sp = spec(o);
    const st = status(o);
    const ref = rec(sp.scaleTargetRef);
    // minReplicas defaults to 1 when an HPA is written.
    const minPods = String(optInt(sp.minReplicas) ?? 1);
    return [nameOf(o), `${str(ref.kind)}/${str(ref.name)}`, formatHPAMetrics(specMetrics(sp), statusMetrics(sp, st)), minPods, int(sp.maxReplicas), int(st.currentReplicas), ageOf(o, now)];
  },
};
