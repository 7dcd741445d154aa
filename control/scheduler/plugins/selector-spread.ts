import { MAX_NODE_SCORE } from '../types.js';
import type { NodeInfo } from '../snapshot.js';
import type { CycleContext, Plugin } from './plugin.js';

export const ZONE_LABEL = 'topology.kubernetes.io/zone';
/** SelectorSpread weighs zones twice as much as nodes (zoneWeighting = 2/3). */
const ZONE_WEIGHTING = 2 / 3;

function countSiblings(ctx: CycleContext, node: NodeInfo): number {
  const uid = ctx.pod.controllerUid;
  if (ctx.snapshot.indexed && !ctx.snapshot.hasPod(ctx.pod.key)) {
    if (!ctx.state.has('SelectorSpread')) ctx.state.set('SelectorSpread', ctx.snapshot.controllerGroups.get(`${ctx.pod.namespace}/${uid}`));
    return (ctx.state.get('SelectorSpread') as Map<string, number> | undefined)?.get(node.name) ?? 0;
  }
  let n = 0;
  for (const p of node.pods.values()) {
    if (p.key === ctx.pod.key || p.controllerUid !== uid || p.namespace !== ctx.pod.namespace || p.pod.metadata.deletionTimestamp) continue;
    n++;
  }
  return n;
}

/**
 * SelectorSpread, keyed by controller: pods of the same controller (the ownerReference with controller=true) are
 * spread over nodes and, when nodes carry a zone label, over zones. Fewer siblings on a node score higher.
 */
export const SelectorSpread: Plugin = {
  name: 'SelectorSpread',
  score: (ctx, node) => (ctx.pod.controllerUid ? countSiblings(ctx, node) : 0),
  normalizeScores: (ctx, scores) => {
    if (!ctx.pod.controllerUid) {
      scores.fill(0);
      return;
    }
    const nodes = (ctx.state.get('feasibleNodes') as NodeInfo[] | undefined) ?? [];
    const zoneCounts = new Map<string, number>();
    let maxByNode = 0;
    scores.forEach((s, i) => {
      if (s > maxByNode) maxByNode = s;
      const zone = nodes[i]?.labels[ZONE_LABEL];
      if (zone !== undefined) zoneCounts.set(zone, (zoneCounts.get(zone) ?? 0) + s);
    });
    let maxByZone = 0;
    for (const c of zoneCounts.values()) if (c > maxByZone) maxByZone = c;
    for (let i = 0; i < scores.length; i++) {
      const count = scores[i] as number;
      let f = maxByNode > 0 ? (MAX_NODE_SCORE * (maxByNode - count)) / maxByNode : MAX_NODE_SCORE;
      const zone = nodes[i]?.labels[ZONE_LABEL];
      if (zoneCounts.size > 0 && zone !== undefined) {
        const z = maxByZone > 0 ? (MAX_NODE_SCORE * (maxByZone - (zoneCounts.get(zone) ?? 0))) / maxByZone : MAX_NODE_SCORE;
        f = f * (1 - ZONE_WEIGHTING) + ZONE_WEIGHTING * z;
      }
      scores[i] = Math.trunc(f);
    }
  },
};
