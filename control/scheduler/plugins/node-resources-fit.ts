import { MAX_NODE_SCORE, OK, unschedulable } from '../types.js';
import type { NodeInfo, PodInfo } from '../snapshot.js';
import type { Plugin } from './plugin.js';

export const ERR_REASON_TOO_MANY_PODS = 'Too many pods';
export const insufficient = (resource: string): string => `Insufficient ${resource}`;

const BASIC = ['cpu', 'memory', 'ephemeral-storage'];
/** The resources a pod asks for, in upstream's order of checking: cpu, memory, ephemeral-storage, then the rest. */
const requestOrder = new WeakMap<PodInfo, string[]>();

function requested(pod: PodInfo): string[] {
  let order = requestOrder.get(pod);
  if (!order) {
    const req = pod.requests;
    order = [...BASIC, ...Object.keys(req).filter((k) => !BASIC.includes(k)).sort()].filter((k) => (req[k] ?? 0) > 0);
    requestOrder.set(pod, order);
  }
  return order;
}

/** fitsRequest: the pod count, then each requested resource against what is left of the node's allocatable. */
export function fitsRequest(pod: PodInfo, node: NodeInfo): string[] {
  const reasons: string[] = [];
  if (node.pods.size + 1 > node.allowedPods) reasons.push(ERR_REASON_TOO_MANY_PODS);
  for (const r of requested(pod)) {
    if ((pod.requests[r] as number) > (node.allocatable[r] ?? 0) - (node.requested[r] ?? 0)) reasons.push(insufficient(r));
  }
  return reasons;
}

/** The scoring view of cpu and memory: non-zero requests (defaults for unset ones) of the node plus the pod. */
export function requestedForScore(pod: PodInfo, node: NodeInfo): Array<{ allocatable: number; requested: number }> {
  return [
    { allocatable: node.allocatable.cpu ?? 0, requested: node.nonZeroRequested.cpu + pod.nonZero.cpu },
    { allocatable: node.allocatable.memory ?? 0, requested: node.nonZeroRequested.memory + pod.nonZero.memory },
  ];
}

/** LeastAllocated: the share of cpu and memory left free after placing the pod, weighted equally. */
export function leastAllocatedScore(resources: Array<{ allocatable: number; requested: number }>): number {
  let total = 0;
  let weights = 0;
  for (const { allocatable, requested } of resources) {
    weights += 1;
    if (allocatable === 0 || requested > allocatable) continue;
    total += Math.trunc(((allocatable - requested) * MAX_NODE_SCORE) / allocatable);
  }
  return weights === 0 ? 0 : Math.trunc(total / weights);
}

/** NodeResourcesFit: requests against allocatable and the pod limit; scores with the LeastAllocated strategy. */
export const NodeResourcesFit: Plugin = {
  name: 'NodeResourcesFit',
  filter: (ctx, node) => {
    const reasons = fitsRequest(ctx.pod, node);
    return reasons.length === 0 ? OK : unschedulable(reasons);
  },
  score: (ctx, node) => leastAllocatedScore(requestedForScore(ctx.pod, node)),
};
