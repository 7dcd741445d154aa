import { MAX_NODE_SCORE } from '../types.js';
import type { NodeInfo, PodInfo } from '../snapshot.js';
import type { Plugin } from './plugin.js';

/**
 * BalancedAllocation: favours nodes whose cpu and memory would be used in the same proportion, scoring
 * (1 - standard deviation of the requested fractions) * 100, from actual requests (not the scoring defaults).
 */
export function balancedScore(pod: PodInfo, node: NodeInfo): number {
  const fractions: number[] = [];
  for (const r of ['cpu', 'memory']) {
    const alloc = node.allocatable[r] ?? 0;
    if (alloc === 0) continue;
    const f = ((node.requested[r] ?? 0) + (pod.requests[r] ?? 0)) / alloc;
    fractions.push(Math.min(f, 1));
  }
  let std = 0;
  if (fractions.length === 2) std = Math.abs((fractions[0] as number) - (fractions[1] as number)) / 2;
  else if (fractions.length > 2) {
    const mean = fractions.reduce((a, b) => a + b, 0) / fractions.length;
    std = Math.sqrt(fractions.reduce((a, f) => a + (f - mean) ** 2, 0) / fractions.length);
  }
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
}

export const NodeResourcesBalancedAllocation: Plugin = {
  name: 'NodeResourcesBalancedAllocation',
  score: (ctx, node) => balancedScore(ctx.pod, node),
};
