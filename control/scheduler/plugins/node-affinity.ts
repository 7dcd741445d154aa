import { MAX_NODE_SCORE, OK, unschedulable, type NodeAffinitySpec, type NodeSelectorRequirement, type NodeSelectorTerm } from '../types.js';
import type { NodeInfo } from '../snapshot.js';
import { defaultNormalizeScore, type Plugin } from './plugin.js';

export const ERR_REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector";

const INT = /^-?\d+$/;

/** One node selector requirement against the node's labels (matchExpressions) or fields (matchFields). */
export function requirementMatches(r: NodeSelectorRequirement, values: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(values, r.key);
  const v = values[r.key];
  const vals = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return has && vals.includes(v as string);
    case 'NotIn':
      return !has || !vals.includes(v as string);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      // Gt/Lt take exactly one integer value and compare it with an integer label.
      if (!has || vals.length !== 1 || !INT.test(v as string) || !INT.test(vals[0] as string)) return false;
      const label = Number.parseInt(v as string, 10);
      const bound = Number.parseInt(vals[0] as string, 10);
      return r.operator === 'Gt' ? label > bound : label < bound;
    }
    default:
      return false;
  }
}

/** A term matches when all of its requirements do; a term with none matches nothing. */
export function termMatchesNode(term: NodeSelectorTerm, node: NodeInfo): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  if (!exprs.every((r) => requirementMatches(r, node.labels))) return false;
  // Only metadata.name is a supported field, with In or NotIn and one value.
  return fields.every((r) => r.key === 'metadata.name' && (r.operator === 'In' || r.operator === 'NotIn') && requirementMatches(r, { 'metadata.name': node.name }));
}

const affinityOf = (spec: { affinity?: unknown } | undefined): NodeAffinitySpec | undefined =>
  (spec?.affinity as { nodeAffinity?: NodeAffinitySpec } | undefined)?.nodeAffinity;

/** nodeSelector (every label equal) and the required node affinity (any term). */
export function podMatchesNodeSelectorAndAffinity(spec: { nodeSelector?: Record<string, string>; affinity?: unknown } | undefined, node: NodeInfo): boolean {
  for (const [k, v] of Object.entries(spec?.nodeSelector ?? {})) if (node.labels[k] !== v) return false;
  const required = affinityOf(spec)?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required) return (required.nodeSelectorTerms ?? []).some((t) => termMatchesNode(t, node));
  return true;
}

/** NodeAffinity: nodeSelector and the required node affinity filter; preferred terms add their weights to the score. */
export const NodeAffinity: Plugin = {
  name: 'NodeAffinity',
  filter: (ctx, node) => (podMatchesNodeSelectorAndAffinity(ctx.pod.pod.spec, node) ? OK : unschedulable(ERR_REASON_NODE_AFFINITY, true)),
  score: (ctx, node) => {
    let total = 0;
    for (const p of affinityOf(ctx.pod.pod.spec)?.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
      if (p.weight !== 0 && termMatchesNode(p.preference, node)) total += p.weight;
    }
    return total;
  },
  normalizeScores: (_ctx, scores) => defaultNormalizeScore(MAX_NODE_SCORE, false, scores),
};
