import { cpuMillis, memoryBytes } from './quantity.js';

interface QosContainer {
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
}

/**
 * The pod's QoS class as upstream's ComputePodQOS decides, which the API server stores in status.qosClass when a pod is
 * created: only positive cpu and memory quantities of the containers and init containers count; Guaranteed when every
 * container limits both and the summed requests equal the summed limits, BestEffort when nothing is set.
 */
export function podQOSClass(spec: { containers?: QosContainer[]; initContainers?: QosContainer[] }): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const amount = (r: string, q: string | number): number => (r === 'cpu' ? cpuMillis(q) : memoryBytes(q));
  const requests = new Map<string, number>();
  const limits = new Map<string, number>();
  let guaranteed = true;
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
    const found = new Set<string>();
    for (const r of ['cpu', 'memory']) {
      const req = c.resources?.requests?.[r];
      const lim = c.resources?.limits?.[r];
      if (req !== undefined && amount(r, req) > 0) requests.set(r, (requests.get(r) ?? 0) + amount(r, req));
      if (lim !== undefined && amount(r, lim) > 0) {
        found.add(r);
        limits.set(r, (limits.get(r) ?? 0) + amount(r, lim));
      }
    }
    if (found.size < 2) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  for (const [r, v] of requests) if (limits.get(r) !== v) guaranteed = false;
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}
