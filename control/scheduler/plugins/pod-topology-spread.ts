import { matchesLabels, selectorFromSpec, type Requirement } from '../../api/selectors.js';
import { MAX_NODE_SCORE, OK, unschedulable, type TopologySpreadConstraint } from '../types.js';
import type { NodeInfo, PodInfo } from '../snapshot.js';
import { podMatchesNodeSelectorAndAffinity } from './node-affinity.js';
import type { CycleContext, Plugin } from './plugin.js';

export const ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints";
export const ERR_REASON_NODE_LABEL_NOT_MATCH = `${ERR_REASON_CONSTRAINTS_NOT_MATCH} (missing required label)`;

interface Compiled {
  maxSkew: number;
  topologyKey: string;
  selector: Requirement[] | 'nothing';
  selfMatch: number;
}

interface State {
  constraints: Compiled[];
  /** Matching pods per topology pair, over the nodes the pod could go to. */
  counts: Map<string, number>;
  /** Per constraint: the smallest count of any domain, and how many domains there are. */
  min: number[];
  domains: number[];
}

const pair = (key: string, value: string): string => `${key}\u0000${value}`;

function compile(pod: PodInfo, hard: boolean): Compiled[] {
  const raw = (pod.pod.spec?.topologySpreadConstraints ?? []) as TopologySpreadConstraint[];
  return raw
    .filter((c) => (c.whenUnsatisfiable === 'DoNotSchedule') === hard)
    .map((c) => {
      let selector: Requirement[] | 'nothing';
      try {
        selector = selectorFromSpec(c.labelSelector ?? null);
      } catch {
        selector = 'nothing';
      }
      const selfMatch = selector !== 'nothing' && matchesLabels(selector, pod.labels) ? 1 : 0;
      return { maxSkew: c.maxSkew ?? 1, topologyKey: c.topologyKey ?? '', selector, selfMatch };
    });
}

function countIn(node: NodeInfo, pod: PodInfo, c: Compiled): number {
  if (c.selector === 'nothing') return 0;
  let n = 0;
  for (const p of node.pods.values()) {
    if (p.key === pod.key || p.namespace !== pod.namespace || p.pod.metadata.deletionTimestamp) continue;
    if (matchesLabels(c.selector, p.labels)) n++;
  }
  return n;
}

function computeState(ctx: CycleContext, hard: boolean): State | undefined {
  const constraints = compile(ctx.pod, hard);
  if (constraints.length === 0) return undefined;
  const counts = new Map<string, number>();
  for (const node of ctx.snapshot.nodeList()) {
    // Only nodes the pod's nodeSelector/affinity allow, and that carry every topology key, form domains.
    if (!podMatchesNodeSelectorAndAffinity(ctx.pod.pod.spec, node)) continue;
    if (!constraints.every((c) => node.labels[c.topologyKey] !== undefined)) continue;
    for (const c of constraints) {
      const k = pair(c.topologyKey, node.labels[c.topologyKey] as string);
      counts.set(k, (counts.get(k) ?? 0) + countIn(node, ctx.pod, c));
    }
  }
  const min: number[] = [];
  const domains: number[] = [];
  for (const c of constraints) {
    let m = Infinity;
    let d = 0;
    const prefix = `${c.topologyKey}\u0000`;
    for (const [k, v] of counts) {
      if (!k.startsWith(prefix)) continue;
      d++;
      if (v < m) m = v;
    }
    min.push(m === Infinity ? 0 : m);
    domains.push(d);
  }
  return { constraints, counts, min, domains };
}

/**
 * PodTopologySpread: DoNotSchedule constraints filter (a node's domain may not exceed the least loaded domain by
 * more than maxSkew once the pod is placed); ScheduleAnyway constraints score, fewer matching pods scoring higher.
 */
export const PodTopologySpread: Plugin = {
  name: 'PodTopologySpread',
  preFilter: (ctx) => {
    ctx.state.set('PodTopologySpread', computeState(ctx, true));
    return undefined;
  },
  filter: (ctx, node) => {
    if (!ctx.state.has('PodTopologySpread')) ctx.state.set('PodTopologySpread', computeState(ctx, true));
    const s = ctx.state.get('PodTopologySpread') as State | undefined;
    if (!s) return OK;
    for (const [i, c] of s.constraints.entries()) {
      const v = node.labels[c.topologyKey];
      if (v === undefined) return unschedulable(ERR_REASON_NODE_LABEL_NOT_MATCH, true);
      const skew = (s.counts.get(pair(c.topologyKey, v)) ?? 0) + c.selfMatch - (s.min[i] as number);
      if (skew > c.maxSkew) return unschedulable(ERR_REASON_CONSTRAINTS_NOT_MATCH);
    }
    return OK;
  },
  preScore: (ctx) => {
    ctx.state.set('PodTopologySpread/score', computeState(ctx, false));
  },
  score: (ctx, node) => {
    if (!ctx.state.has('PodTopologySpread/score')) ctx.state.set('PodTopologySpread/score', computeState(ctx, false));
    const s = ctx.state.get('PodTopologySpread/score') as State | undefined;
    if (!s) return 0;
    let score = 0;
    for (const [i, c] of s.constraints.entries()) {
      const v = node.labels[c.topologyKey];
      if (v === undefined) continue;
      // Domains weigh by log(count + 2), so keys with many domains (hostname) matter more, as upstream.
      const weight = Math.log((s.domains[i] as number) + 2);
      score += (s.counts.get(pair(c.topologyKey, v)) ?? 0) * weight + (c.maxSkew - 1);
    }
    return Math.round(score);
  },
  normalizeScores: (ctx, scores) => {
    if (!ctx.state.get('PodTopologySpread/score')) {
      scores.fill(0);
      return;
    }
    let min = Infinity;
    let max = 0;
    for (const s of scores) {
      if (s < min) min = s;
      if (s > max) max = s;
    }
    for (let i = 0; i < scores.length; i++) scores[i] = max === 0 ? MAX_NODE_SCORE : Math.trunc((MAX_NODE_SCORE * (max + min - (scores[i] as number))) / max);
  },
};
