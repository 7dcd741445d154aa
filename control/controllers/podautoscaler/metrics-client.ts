import { parseQuantity } from '../../api/quantity.js';
import type { KubeClient, KubeObject } from '../../client/index.js';
import type { PodMetric } from './replica-calculator.js';

/** Where the HPA reads pod usage: the resource metrics API (metrics.k8s.io), as upstream's REST metrics client. */
export interface ResourceMetricsClient {
  /** Per pod matching the selector: the usage of `resource` (all containers summed, or one container), milli-units. */
  podMetrics(namespace: string, selector: string, resource: string, container?: string): Promise<Map<string, PodMetric>>;
}

const POD_METRICS = { group: 'metrics.k8s.io', version: 'v1beta1', resource: 'pods' };

interface PodMetricsObject extends KubeObject {
  timestamp?: string;
  window?: string;
  containers?: Array<{ name: string; usage?: Record<string, string> }>;
}

const windowMs = (w: string | undefined): number => {
  const m = /^(\d+(?:\.\d+)?)s$/.exec(w ?? '');
  return m ? Math.round(Number(m[1]) * 1000) : 0;
};

export class ApiResourceMetricsClient implements ResourceMetricsClient {
  constructor(private readonly client: KubeClient) {}

  async podMetrics(namespace: string, selector: string, resource: string, container?: string): Promise<Map<string, PodMetric>> {
    const list = await this.client.list<PodMetricsObject>(POD_METRICS, { namespace, ...(selector ? { labelSelector: selector } : {}) });
    const out = new Map<string, PodMetric>();
    for (const item of list.items) {
      const containers = (item.containers ?? []).filter((c) => !container || c.name === container);
      // A pod with a container whose usage is unknown has no usable sample (upstream drops it too).
      if (containers.length === 0 || containers.some((c) => c.usage?.[resource] === undefined)) continue;
      const valueMilli = containers.reduce((sum, c) => sum + Math.round(parseQuantity(c.usage?.[resource] as string) * 1000), 0);
      out.set(item.metadata.name ?? '', { valueMilli, timestampMs: Date.parse(item.timestamp ?? '') || 0, windowMs: windowMs(item.window) });
    }
    return out;
  }
}
