import type { ResourceSamples, Sample } from './resource-text.js';

/**
 * From two scrapes of a node to usage, as metrics-server computes it: CPU as the rate of the cumulative counter
 * between the two samples (cores), memory as the latest working set. Pure.
 */

export interface Usage {
  /** Nanocores. */
  cpuNanoCores: number;
  memoryBytes: number;
  timestampMs: number;
  windowMs: number;
}

export interface PodUsage {
  namespace: string;
  name: string;
  containers: Array<{ name: string; usage: Usage }>;
}

export interface NodeUsageReport {
  node?: Usage;
  pods: PodUsage[];
}

function rate(prev: Sample | undefined, cur: Sample | undefined): { nanoCores: number; windowMs: number } | undefined {
  if (!prev || !cur) return undefined;
  const windowMs = cur.timestampMs - prev.timestampMs;
  // A counter that went backwards belongs to a restarted container: no rate until the next pair.
  if (windowMs <= 0 || cur.value < prev.value) return undefined;
  return { nanoCores: Math.round(((cur.value - prev.value) / (windowMs / 1000)) * 1e9), windowMs };
}

export function computeUsage(prev: ResourceSamples | undefined, cur: ResourceSamples): NodeUsageReport {
  const report: NodeUsageReport = { pods: [] };
  const nodeRate = rate(prev?.node.cpuSeconds, cur.node.cpuSeconds);
  if (nodeRate && cur.node.memoryBytes && cur.node.cpuSeconds) {
    report.node = { cpuNanoCores: nodeRate.nanoCores, memoryBytes: cur.node.memoryBytes.value, timestampMs: cur.node.cpuSeconds.timestampMs, windowMs: nodeRate.windowMs };
  }
  for (const [key, containers] of cur.containers) {
    const [namespace, name] = key.split('/') as [string, string];
    const out: PodUsage['containers'] = [];
    let complete = true;
    for (const [container, samples] of containers) {
      const r = rate(prev?.containers.get(key)?.get(container)?.cpuSeconds, samples.cpuSeconds);
      if (!r || !samples.memoryBytes || !samples.cpuSeconds) {
        complete = false;
        break;
      }
      out.push({ name: container, usage: { cpuNanoCores: r.nanoCores, memoryBytes: samples.memoryBytes.value, timestampMs: samples.cpuSeconds.timestampMs, windowMs: r.windowMs } });
    }
    // A pod is reported only when every container has a usable pair (metrics-server drops partial pods too).
    if (complete && out.length) report.pods.push({ namespace, name, containers: out });
  }
  return report;
}
