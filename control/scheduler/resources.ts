/**
 * Resource arithmetic: a pod's effective requests (upstream's resource helpers: containers summed, sidecars added,
 * each init container's peak taken, overhead on top) and a node's allocatable, as plain numbers: cpu in millicores,
 * everything else in whole units (bytes for memory and ephemeral-storage).
 */
import { cpuMillis, memoryBytes } from '../api/quantity.js';
import type { ContainerSpec, SchedNode, SchedPod } from './types.js';

export type Resources = Record<string, number>;

/** Upstream's defaults for scoring pods that request nothing (DefaultMilliCPURequest, DefaultMemoryRequest). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

function quantity(name: string, q: string | number): number {
  try {
    return name === 'cpu' ? cpuMillis(q) : memoryBytes(q);
  } catch {
    return 0;
  }
}

export function resourceList(list: Record<string, string | number> | undefined): Resources {
  const out: Resources = {};
  for (const [k, v] of Object.entries(list ?? {})) out[k] = quantity(k, v);
  return out;
}

function add(into: Resources, r: Resources): void {
  for (const [k, v] of Object.entries(r)) into[k] = (into[k] ?? 0) + v;
}

function maxInto(into: Resources, r: Resources): void {
  for (const [k, v] of Object.entries(r)) if (v > (into[k] ?? 0)) into[k] = v;
}

const containerRequests = (c: ContainerSpec): Resources => resourceList(c.resources?.requests);

/** The pod's requests as the scheduler counts them (PodRequests). */
export function podRequests(pod: SchedPod): Resources {
  const spec = pod.spec ?? {};
  const total: Resources = {};
  for (const c of spec.containers ?? []) add(total, containerRequests(c));
  // Sidecars (init containers with restartPolicy Always) run beside the app containers; a regular init container
  // runs alone, next to the sidecars started before it.
  const sidecars: Resources = {};
  const initPeak: Resources = {};
  for (const c of spec.initContainers ?? []) {
    const r = containerRequests(c);
    if (c.restartPolicy === 'Always') {
      add(sidecars, r);
      add(total, r);
    } else {
      const peak = { ...sidecars };
      add(peak, r);
      maxInto(initPeak, peak);
    }
  }
  maxInto(total, initPeak);
  if (spec.overhead) add(total, resourceList(spec.overhead));
  return total;
}

/** The requests used for scoring: cpu and memory a container leaves unset count as upstream's defaults. */
export function podNonZeroRequests(pod: SchedPod): { cpu: number; memory: number } {
  const spec = pod.spec ?? {};
  let cpu = 0;
  let memory = 0;
  const nz = (c: ContainerSpec): { cpu: number; memory: number } => {
    const r = containerRequests(c);
    return { cpu: r.cpu !== undefined ? r.cpu : DEFAULT_MILLI_CPU_REQUEST, memory: r.memory !== undefined ? r.memory : DEFAULT_MEMORY_REQUEST };
  };
  for (const c of spec.containers ?? []) {
    const r = nz(c);
    cpu += r.cpu;
    memory += r.memory;
  }
  let sideCpu = 0;
  let sideMem = 0;
  for (const c of spec.initContainers ?? []) {
    const r = nz(c);
    if (c.restartPolicy === 'Always') {
      sideCpu += r.cpu;
      sideMem += r.memory;
      cpu += r.cpu;
      memory += r.memory;
    } else {
      cpu = Math.max(cpu, sideCpu + r.cpu);
      memory = Math.max(memory, sideMem + r.memory);
    }
  }
  const overhead = resourceList(spec.overhead);
  return { cpu: cpu + (overhead.cpu ?? 0), memory: memory + (overhead.memory ?? 0) };
}

/** The node's allocatable (capacity when allocatable is missing) and its pod limit. */
export function nodeAllocatable(node: SchedNode): { resources: Resources; pods: number } {
  const list = node.status?.allocatable ?? node.status?.capacity ?? {};
  const resources = resourceList(list);
  const pods = resources.pods ?? 0;
  delete resources.pods;
  return { resources, pods };
}
