import { MAX_NODE_SCORE, OK, unschedulable, type TaintSpec, type TolerationSpec } from '../types.js';
import type { NodeInfo } from '../snapshot.js';
import { defaultNormalizeScore, type Plugin } from './plugin.js';

export const TAINT_NODE_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_NODE_UNREACHABLE = 'node.kubernetes.io/unreachable';

/** Toleration.ToleratesTaint: effect (empty tolerates all), key (empty with Exists tolerates all), operator. */
export function tolerates(t: TolerationSpec, taint: TaintSpec): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  const op = t.operator || 'Equal';
  if (op === 'Exists') return true;
  if (op === 'Equal') return (t.value ?? '') === (taint.value ?? '');
  return false;
}

/**
 * The node's taints, plus the ones the node lifecycle controller would have put on a node that is not Ready
 * (not-ready when Ready is False, unreachable when it is Unknown or missing), so a not-ready node repels pods the way
 * it does upstream and says so in the same words.
 */
export function effectiveTaints(node: NodeInfo): TaintSpec[] {
  const taints = node.node.spec?.taints ?? [];
  const ready = (node.node.status?.conditions ?? []).find((c) => c.type === 'Ready');
  if (ready?.status === 'True') return taints;
  const key = ready?.status === 'False' ? TAINT_NODE_NOT_READY : TAINT_NODE_UNREACHABLE;
  if (taints.some((t) => t.key === key && t.effect === 'NoSchedule')) return taints;
  return [...taints, { key, effect: 'NoSchedule' }];
}

export const untoleratedTaintReason = (t: TaintSpec): string => `node(s) had untolerated taint {${t.key}: ${t.value ?? ''}}`;

/** TaintToleration: NoSchedule and NoExecute taints must be tolerated; intolerable PreferNoSchedule taints lower the score. */
export const TaintToleration: Plugin = {
  name: 'TaintToleration',
  filter: (ctx, node) => {
    const tolerations = ctx.pod.pod.spec?.tolerations ?? [];
    for (const taint of effectiveTaints(node)) {
      if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
      if (!tolerations.some((t) => tolerates(t, taint))) return unschedulable(untoleratedTaintReason(taint), true);
    }
    return OK;
  },
  score: (ctx, node) => {
    // Only tolerations that can apply to PreferNoSchedule count here.
    const tolerations = (ctx.pod.pod.spec?.tolerations ?? []).filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
    let n = 0;
    for (const taint of node.node.spec?.taints ?? []) if (taint.effect === 'PreferNoSchedule' && !tolerations.some((t) => tolerates(t, taint))) n++;
    return n;
  },
  normalizeScores: (_ctx, scores) => defaultNormalizeScore(MAX_NODE_SCORE, true, scores),
};
