import type { KubeObject } from '../client/index.js';
import type { NodeUsageReport, Usage } from './usage.js';
import { rfc3339 } from '../api/time.js';

/**
 * The metrics.k8s.io/v1beta1 objects (NodeMetrics, PodMetrics) as metrics-server serves them, built from the
 * scraped usage and the objects they describe. Pure.
 */

export const METRICS_GROUP_VERSION = 'metrics.k8s.io/v1beta1';

export const METRICS_API_RESOURCES = [
  { name: 'nodes', singularName: '', namespaced: false, kind: 'NodeMetrics', verbs: ['get', 'list'] },
  { name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs: ['get', 'list'] },
];

const windowText = (ms: number): string => `${Math.round(ms / 100) / 10}s`;

/** Memory in the shortest exact binary form, as resource.NewQuantity(BinarySI) prints it (2Gi, 1536Ki, 1000). */
function bytesQuantity(bytes: number): string {
  let b = Math.round(bytes);
  if (b === 0) return '0';
  let i = 0;
  const suffixes = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
  while (i < suffixes.length - 1 && b % 1024 === 0) {
    b /= 1024;
    i++;
  }
  return `${b}${suffixes[i]}`;
}

const usageQuantities = (u: Usage): { cpu: string; memory: string } => ({ cpu: `${Math.max(0, Math.round(u.cpuNanoCores))}n`, memory: bytesQuantity(u.memoryBytes) });

export function nodeMetricsItems(nodes: readonly KubeObject[], reports: ReadonlyMap<string, NodeUsageReport>): KubeObject[] {
  const items: KubeObject[] = [];
  for (const node of nodes) {
    const usage = reports.get(node.metadata.name ?? '')?.node;
    if (!usage) continue;
    items.push({
      kind: 'NodeMetrics',
      apiVersion: METRICS_GROUP_VERSION,
      metadata: { name: node.metadata.name ?? '', creationTimestamp: rfc3339(Date.now()), ...(node.metadata.labels ? { labels: node.metadata.labels } : {}) },
      timestamp: rfc3339(usage.timestampMs),
      window: windowText(usage.windowMs),
      usage: usageQuantities(usage),
    } as KubeObject);
  }
  return items;
}

export function podMetricsItems(pods: readonly KubeObject[], reports: ReadonlyMap<string, NodeUsageReport>): KubeObject[] {
  const byPod = new Map<string, NodeUsageReport['pods'][number]>();
  for (const report of reports.values()) for (const p of report.pods) byPod.set(`${p.namespace}/${p.name}`, p);
  const items: KubeObject[] = [];
  for (const pod of pods) {
    const usage = byPod.get(`${pod.metadata.namespace}/${pod.metadata.name}`);
    if (!usage || usage.containers.length === 0) continue;
    const first = usage.containers[0]!.usage;
    items.push({
      kind: 'PodMetrics',
      apiVersion: METRICS_GROUP_VERSION,
      metadata: { name: pod.metadata.name ?? '', namespace: pod.metadata.namespace ?? '', creationTimestamp: rfc3339(Date.now()), ...(pod.metadata.labels ? { labels: pod.metadata.labels } : {}) },
      timestamp: rfc3339(first.timestampMs),
      window: windowText(first.windowMs),
      containers: usage.containers.map((c) => ({ name: c.name, usage: usageQuantities(c.usage) })),
    } as KubeObject);
  }
  return items;
}
