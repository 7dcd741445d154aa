/**
 * One scheduling decision, pure: run the filters over every node, score the feasible ones, pick the best (ties at
 * random), or explain why no node fits in upstream's words ("0/3 nodes are available: 1 node(s) were unschedulable,
 * 2 Insufficient cpu.").
 */
import { DEFAULT_FILTERS, DEFAULT_SCORERS, type WeightedPlugin } from './plugins/index.js';
import { newCycle, type CycleContext, type Plugin } from './plugins/plugin.js';
import { addPodToNodeInfo, cloneNodeInfo, makePodInfo, type NodeInfo, type PodInfo, type Snapshot } from './snapshot.js';
import type { FilterResult, SchedPod } from './types.js';

export const NO_NODES_AVAILABLE = 'no nodes available to schedule pods';

export interface ScheduleConfig {
  filters?: Plugin[];
  scorers?: WeightedPlugin[];
  /** Picks among equally scored nodes; Math.random by default (upstream picks at random too). */
  random?: () => number;
}

/** Why each node failed, as upstream's Diagnosis: the status of every node that did not pass. */
export interface Diagnosis {
  numAllNodes: number;
  nodeToStatus: Map<string, Extract<FilterResult, { ok: false }>>;
  preFilterMsg?: string;
}

export type ScheduleResult =
  | { node: string; feasibleNodes: number; score: number }
  | { unschedulable: true; message: string; diagnosis: Diagnosis };

/** "N reason" per distinct reason, sorted as strings, as upstream's FitError does. */
export function reasonHistogram(statuses: Iterable<{ reasons: string[] }>): string[] {
  const counts = new Map<string, number>();
  for (const s of statuses) for (const r of s.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  return [...counts].map(([r, n]) => `${n} ${r}`).sort();
}

/** FitError.Error(): "0/N nodes are available: <histogram>." plus the post-filter (preemption) message. */
export function fitErrorMessage(d: Diagnosis, postFilterMsg?: string): string {
  if (d.numAllNodes === 0) return NO_NODES_AVAILABLE;
  let msg = `0/${d.numAllNodes} nodes are available:`;
  if (d.preFilterMsg) msg += ` ${d.preFilterMsg}.`;
  const hist = reasonHistogram(d.nodeToStatus.values());
  if (hist.length > 0) msg += ` ${hist.join(', ')}.`;
  if (postFilterMsg) msg += ` ${postFilterMsg}`;
  return msg;
}

/** Nominated pods of at least this pod's priority count as already on their node (upstream's addNominatedPods). */
function withNominated(pod: PodInfo, node: NodeInfo, snapshot: Snapshot): NodeInfo {
  if (snapshot.nominated.size === 0) return node;
  let out: NodeInfo | undefined;
  for (const [key, n] of snapshot.nominated) {
    if (n.node !== node.name || key === pod.key || n.info.priority < pod.priority || node.pods.has(key)) continue;
    out ??= cloneNodeInfo(node);
    addPodToNodeInfo(out, n.info);
  }
  return out ?? node;
}

/** Runs the filters on one node, stopping at the first that fails, as upstream's RunFilterPlugins. */
export function runFilters(ctx: CycleContext, node: NodeInfo, filters: Plugin[]): FilterResult {
  for (const f of filters) {
    if (!f.filter) continue;
    const r = f.filter(ctx, node);
    if (!r.ok) return r;
  }
  return { ok: true };
}

export function runPreFilters(ctx: CycleContext, filters: Plugin[]): FilterResult | undefined {
  for (const f of filters) {
    const r = f.preFilter?.(ctx);
    if (r && !r.ok) return r;
  }
  return undefined;
}

/** Weighted scores of the feasible nodes, after each plugin's normalization. */
export function scoreNodes(ctx: CycleContext, nodes: NodeInfo[], scorers: WeightedPlugin[]): number[] {
  const totals = new Array<number>(nodes.length).fill(0);
  ctx.state.set('feasibleNodes', nodes);
  for (const { plugin, weight } of scorers) {
    if (!plugin.score || weight === 0) continue;
    plugin.preScore?.(ctx, nodes);
    const scores = nodes.map((n) => plugin.score?.(ctx, n) ?? 0);
    plugin.normalizeScores?.(ctx, scores);
    for (let i = 0; i < scores.length; i++) totals[i] = (totals[i] as number) + (scores[i] as number) * weight;
  }
  return totals;
}

/** Finds the feasible nodes for a pod, or the diagnosis of why there are none. */
export function findFeasible(ctx: CycleContext, filters: Plugin[]): { feasible: NodeInfo[]; diagnosis: Diagnosis } {
  const nodes = ctx.snapshot.nodeList();
  const diagnosis: Diagnosis = { numAllNodes: nodes.length, nodeToStatus: new Map() };
  const pre = runPreFilters(ctx, filters);
  if (pre && !pre.ok) {
    for (const n of nodes) diagnosis.nodeToStatus.set(n.name, pre);
    diagnosis.preFilterMsg = pre.reasons.join(', ');
    return { feasible: [], diagnosis };
  }
  const feasible: NodeInfo[] = [];
  for (const node of nodes) {
    const r = runFilters(ctx, withNominated(ctx.pod, node, ctx.snapshot), filters);
    if (r.ok) feasible.push(node);
    else diagnosis.nodeToStatus.set(node.name, r);
  }
  return { feasible, diagnosis };
}

/** Schedules one pod against the snapshot: the chosen node, or why none fits. The snapshot is not changed. */
export function schedulePod(pod: SchedPod | PodInfo, snapshot: Snapshot, config: ScheduleConfig = {}): ScheduleResult {
  const info = 'key' in pod && 'requests' in pod ? pod : makePodInfo(pod, snapshot.priority);
  const ctx = newCycle(info, snapshot);
  const { feasible, diagnosis } = findFeasible(ctx, config.filters ?? DEFAULT_FILTERS);
  if (feasible.length === 0) return { unschedulable: true, message: fitErrorMessage(diagnosis), diagnosis };
  if (feasible.length === 1) return { node: (feasible[0] as NodeInfo).name, feasibleNodes: 1, score: 0 };
  const scores = scoreNodes(ctx, feasible, config.scorers ?? DEFAULT_SCORERS);
  const random = config.random ?? Math.random;
  // Reservoir sampling over the top scores, as upstream's selectHost.
  let best = -Infinity;
  let chosen = 0;
  let ties = 0;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i] as number;
    if (s > best) {
      best = s;
      chosen = i;
      ties = 1;
    } else if (s === best) {
      ties++;
      if (random() * ties < 1) chosen = i;
    }
  }
  return { node: (feasible[chosen] as NodeInfo).name, feasibleNodes: feasible.length, score: best };
}
