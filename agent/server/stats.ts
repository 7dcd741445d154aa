import { readFile } from 'node:fs/promises';
import type { ContainerUsage } from '../runtime/streaming.js';
import { rfc3339 } from '../../control/api/time.js';

/**
 * Resource usage as the kubelet reports it: /stats/summary (stats/v1alpha1 Summary: the node and every pod with
 * their containers' cpu and memory) and /metrics/resource (Prometheus text with upstream's stable metric names).
 * The shapes are pure functions of a snapshot; the snapshot comes from /proc and Docker's stats.
 */

export interface NodeUsage {
  cpuNanoSeconds: number;
  nanoCores?: number;
  memoryUsageBytes: number;
  workingSetBytes: number;
  availableBytes: number;
}

export interface PodUsageInput {
  name: string;
  namespace: string;
  uid: string;
  startTime: Date;
  containers: Array<{ name: string; startTime: Date; usage: ContainerUsage }>;
}

export interface UsageSnapshot {
  nodeName: string;
  nodeStartTime: Date;
  time: Date;
  node: NodeUsage;
  pods: PodUsageInput[];
  /** A container whose usage could not be read (resource_scrape_error). */
  scrapeError?: boolean;
}

function cpuStats(time: string, u: { cpuNanoSeconds: number; nanoCores?: number }): Record<string, unknown> {
  return { time, ...(u.nanoCores !== undefined ? { usageNanoCores: u.nanoCores } : {}), usageCoreNanoSeconds: u.cpuNanoSeconds };
}

function memoryStats(time: string, u: { memoryUsageBytes: number; workingSetBytes: number; rssBytes?: number; availableBytes?: number }): Record<string, unknown> {
  return {
    time,
    ...(u.availableBytes !== undefined ? { availableBytes: u.availableBytes } : {}),
    usageBytes: u.memoryUsageBytes,
    workingSetBytes: u.workingSetBytes,
    ...(u.rssBytes !== undefined ? { rssBytes: u.rssBytes } : {}),
  };
}

function podTotals(p: PodUsageInput): ContainerUsage {
  const cs = p.containers.map((c) => c.usage);
  const nano = cs.every((c) => c.nanoCores !== undefined) ? cs.reduce((n, c) => n + (c.nanoCores ?? 0), 0) : undefined;
  return {
    cpuNanoSeconds: cs.reduce((n, c) => n + c.cpuNanoSeconds, 0),
    ...(nano !== undefined ? { nanoCores: nano } : {}),
    memoryUsageBytes: cs.reduce((n, c) => n + c.memoryUsageBytes, 0),
    workingSetBytes: cs.reduce((n, c) => n + c.workingSetBytes, 0),
  };
}

/** The stats/v1alpha1 Summary: {node: {nodeName, startTime, cpu, memory}, pods: [{podRef, startTime, containers, cpu, memory}]}. */
export function summary(s: UsageSnapshot): Record<string, unknown> {
  const time = rfc3339(s.time);
  return {
    node: {
      nodeName: s.nodeName,
      startTime: rfc3339(s.nodeStartTime),
      cpu: cpuStats(time, s.node),
      memory: memoryStats(time, s.node),
    },
    pods: s.pods.map((p) => {
      const total = podTotals(p);
      return {
        podRef: { name: p.name, namespace: p.namespace, uid: p.uid },
        startTime: rfc3339(p.startTime),
        containers: p.containers.map((c) => ({ name: c.name, startTime: rfc3339(c.startTime), cpu: cpuStats(time, c.usage), memory: memoryStats(time, c.usage) })),
        cpu: cpuStats(time, total),
        memory: memoryStats(time, total),
      };
    }),
  };
}

const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const num = (n: number): string => (Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(15))));

/** /metrics/resource in the Prometheus text format, each sample stamped with the snapshot time, as upstream. */
export function resourceMetrics(s: UsageSnapshot): string {
  const ts = s.time.getTime();
  const out: string[] = [];
  const family = (name: string, type: string, help: string, samples: Array<[Record<string, string>, number]>): void => {
    out.push(`# HELP ${name} [STABLE] ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      const l = Object.entries(labels)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}="${esc(v)}"`)
        .join(',');
      out.push(`${name}${l ? `{${l}}` : ''} ${num(value)} ${ts}`);
    }
  };
  const containers = s.pods.flatMap((p) => p.containers.map((c) => ({ labels: { container: c.name, namespace: p.namespace, pod: p.name }, c })));
  family('container_cpu_usage_seconds_total', 'counter', 'Cumulative cpu time consumed by the container in core-seconds', containers.map(({ labels, c }) => [labels, c.usage.cpuNanoSeconds / 1e9]));
  family('container_memory_working_set_bytes', 'gauge', 'Current working set of the container in bytes', containers.map(({ labels, c }) => [labels, c.usage.workingSetBytes]));
  family('container_start_time_seconds', 'gauge', 'Start time of the container since unix epoch in seconds', containers.map(({ labels, c }) => [labels, c.startTime.getTime() / 1000]));
  family('node_cpu_usage_seconds_total', 'counter', 'Cumulative cpu time consumed by the node in core-seconds', [[{}, s.node.cpuNanoSeconds / 1e9]]);
  family('node_memory_working_set_bytes', 'gauge', 'Current working set of the node in bytes', [[{}, s.node.workingSetBytes]]);
  const pods = s.pods.map((p) => ({ labels: { namespace: p.namespace, pod: p.name }, total: podTotals(p) }));
  family('pod_cpu_usage_seconds_total', 'counter', 'Cumulative cpu time consumed by the pod in core-seconds', pods.map(({ labels, total }) => [labels, total.cpuNanoSeconds / 1e9]));
  family('pod_memory_working_set_bytes', 'gauge', 'Current working set of the pod in bytes', pods.map(({ labels, total }) => [labels, total.workingSetBytes]));
  // The error gauge carries no timestamp upstream.
  out.push('# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, 0 otherwise', '# TYPE resource_scrape_error gauge', `resource_scrape_error ${s.scrapeError ? 1 : 0}`);
  return `${out.join('\n')}\n`;
}

/** Node CPU time (non-idle jiffies of /proc/stat) and memory (/proc/meminfo: working set is total minus available). */
export function parseProcUsage(stat: string, meminfo: string, userHz = 100): Omit<NodeUsage, 'nanoCores'> {
  const cpu = /^cpu\s+(.*)$/m.exec(stat)?.[1]?.trim().split(/\s+/).map(Number) ?? [];
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = cpu;
  const jiffies = user + nice + system + irq + softirq + steal;
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(meminfo)?.[1] ?? 0) * 1024;
  const total = kb('MemTotal');
  const available = kb('MemAvailable');
  return { cpuNanoSeconds: Math.round((jiffies * 1e9) / userHz), memoryUsageBytes: total - kb('MemFree'), workingSetBytes: total - available, availableBytes: available };
}

/** Reads the node's usage; nano cores come from the CPU time spent since the previous reading. */
export class NodeUsageReader {
  private last: { at: number; cpu: number } | undefined;

  async read(now = Date.now()): Promise<NodeUsage> {
    const [stat, meminfo] = await Promise.all([readFile('/proc/stat', 'utf8'), readFile('/proc/meminfo', 'utf8')]);
    const u: NodeUsage = parseProcUsage(stat, meminfo);
    if (this.last && now > this.last.at && u.cpuNanoSeconds >= this.last.cpu) {
      u.nanoCores = Math.round(((u.cpuNanoSeconds - this.last.cpu) / ((now - this.last.at) * 1e6)) * 1e9);
    }
    this.last = { at: now, cpu: u.cpuNanoSeconds };
    return u;
  }
}
