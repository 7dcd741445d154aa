import { MAX_NODE_SCORE, OK, unschedulable } from '../types.js';
import { hasAffinity, termMatches, type CompiledTerm, type NodeInfo, type PodInfo } from '../snapshot.js';
import type { CycleContext, Plugin } from './plugin.js';

export const ERR_REASON_AFFINITY_RULES = "node(s) didn't match pod affinity rules";
export const ERR_REASON_ANTI_AFFINITY_RULES = "node(s) didn't match pod anti-affinity rules";
export const ERR_REASON_EXISTING_ANTI_AFFINITY_RULES = "node(s) didn't satisfy existing pods anti-affinity rules";
/** The weight of an existing pod's required affinity term when scoring (upstream's hardPodAffinityWeight default). */
export const HARD_POD_AFFINITY_WEIGHT = 1;

const pair = (key: string, value: string): string => `${key}\u0000${value}`;

interface FilterState {
  /** Topology domains (key, then value) where an existing pod's required anti-affinity term selects the incoming pod. */
  existingAnti: Map<string, Map<string, number>>;
  /** Per incoming affinity term: topology pairs holding pods that match all of the terms. */
  affinity: Array<Map<string, number>>;
  affinityAny: boolean;
  /** Per incoming anti-affinity term: topology pairs holding pods it selects. */
  anti: Array<Map<string, number>>;
}

const inc = (m: Map<string, number>, k: string, by = 1): void => {
  m.set(k, (m.get(k) ?? 0) + by);
};

function incDomain(m: Map<string, Map<string, number>>, key: string, value: string, by: number): void {
  let byValue = m.get(key);
  if (!byValue) m.set(key, (byValue = new Map()));
  byValue.set(value, (byValue.get(value) ?? 0) + by);
}

/** Nothing counted yet: a map per required (anti-)affinity term of the pod. */
function emptyFilterState(pod: CycleContext['pod']): FilterState {
  return { existingAnti: new Map(), affinity: pod.requiredAffinity.map(() => new Map()), affinityAny: false, anti: pod.requiredAntiAffinity.map(() => new Map()) };
}

/** The same state from the snapshot's indexes: each group of alike pods or alike terms is matched once. */
function computeFilterStateIndexed(ctx: CycleContext): FilterState {
  const { pod, snapshot } = ctx;
  const ns = snapshot.namespaceLabels;
  const state = emptyFilterState(pod);
  const addCounts = (m: Map<string, number>, key: string, nodes: Map<string, number>): boolean => {
    let any = false;
    for (const [name, n] of nodes) {
      const v = snapshot.nodes.get(name)?.labels[key];
      if (v === undefined) continue;
      inc(m, pair(key, v), n);
      any = true;
    }
    return any;
  };
  for (const g of snapshot.termGroups.values()) {
    if (g.kind !== 'requiredAntiAffinity' || !termMatches(g.term, pod, ns)) continue;
    for (const [name, n] of g.nodes) {
      const v = snapshot.nodes.get(name)?.labels[g.term.topologyKey];
      if (v !== undefined) incDomain(state.existingAnti, g.term.topologyKey, v, n);
    }
  }
  if (pod.requiredAffinity.length + pod.requiredAntiAffinity.length === 0) return state;
  for (const g of snapshot.labelGroups.values()) {
    if (pod.requiredAffinity.length > 0 && pod.requiredAffinity.every((t) => termMatches(t, g.rep, ns))) {
      pod.requiredAffinity.forEach((t, i) => {
        if (addCounts(state.affinity[i] as Map<string, number>, t.topologyKey, g.nodes)) state.affinityAny = true;
      });
    }
    pod.requiredAntiAffinity.forEach((t, i) => {
      if (termMatches(t, g.rep, ns)) addCounts(state.anti[i] as Map<string, number>, t.topologyKey, g.nodes);
    });
  }
  return state;
}

function computeFilterState(ctx: CycleContext): FilterState {
  const { pod, snapshot } = ctx;
  if (snapshot.indexed && !snapshot.hasPod(pod.key)) return computeFilterStateIndexed(ctx);
  const ns = snapshot.namespaceLabels;
  const state = emptyFilterState(pod);
  const ownTerms = pod.requiredAffinity.length + pod.requiredAntiAffinity.length > 0;
  for (const node of snapshot.nodeList()) {
    if (!ownTerms && node.podsWithRequiredAntiAffinity === 0) continue;
    for (const existing of node.pods.values()) {
      if (existing.key === pod.key) continue;
      for (const t of existing.requiredAntiAffinity) {
        const v = node.labels[t.topologyKey];
        if (v !== undefined && termMatches(t, pod, ns)) incDomain(state.existingAnti, t.topologyKey, v, 1);
      }
      if (!ownTerms) continue;
      if (pod.requiredAffinity.length > 0 && pod.requiredAffinity.every((t) => termMatches(t, existing, ns))) {
        pod.requiredAffinity.forEach((t, i) => {
          const v = node.labels[t.topologyKey];
          if (v !== undefined) {
            inc(state.affinity[i] as Map<string, number>, pair(t.topologyKey, v));
            state.affinityAny = true;
          }
        });
      }
      pod.requiredAntiAffinity.forEach((t, i) => {
        const v = node.labels[t.topologyKey];
        if (v !== undefined && termMatches(t, existing, ns)) inc(state.anti[i] as Map<string, number>, pair(t.topologyKey, v));
      });
    }
  }
  return state;
}

function satisfiesAffinity(pod: PodInfo, s: FilterState, node: NodeInfo, ctx: CycleContext): boolean {
  if (pod.requiredAffinity.length === 0) return true;
  const ok = pod.requiredAffinity.every((t, i) => {
    const v = node.labels[t.topologyKey];
    return v !== undefined && ((s.affinity[i] as Map<string, number>).get(pair(t.topologyKey, v)) ?? 0) > 0;
  });
  if (ok) return true;
  // The first pod of a group that selects itself may go anywhere its topology keys exist.
  if (!s.affinityAny && pod.requiredAffinity.every((t) => termMatches(t, pod, ctx.snapshot.namespaceLabels))) {
    return pod.requiredAffinity.every((t) => node.labels[t.topologyKey] !== undefined);
  }
  return false;
}

function satisfiesAntiAffinity(pod: PodInfo, s: FilterState, node: NodeInfo): boolean {
  return pod.requiredAntiAffinity.every((t, i) => {
    const v = node.labels[t.topologyKey];
    return v === undefined || ((s.anti[i] as Map<string, number>).get(pair(t.topologyKey, v)) ?? 0) === 0;
  });
}

function satisfiesExistingAntiAffinity(s: FilterState, node: NodeInfo): boolean {
  for (const [key, byValue] of s.existingAnti) {
    const v = node.labels[key];
    if (v !== undefined && (byValue.get(v) ?? 0) > 0) return false;
  }
  return true;
}

/** Per cycle scoring state: a score per topology pair. */
type ScoreState = Map<string, Map<string, number>> | undefined;

function addTerm(scores: Map<string, Map<string, number>>, t: CompiledTerm, node: NodeInfo, weight: number): void {
  const v = node.labels[t.topologyKey];
  if (v === undefined || weight === 0) return;
  let byValue = scores.get(t.topologyKey);
  if (!byValue) scores.set(t.topologyKey, (byValue = new Map()));
  byValue.set(v, (byValue.get(v) ?? 0) + weight);
}

function addGroup(scores: Map<string, Map<string, number>>, ctx: CycleContext, t: CompiledTerm, nodes: Map<string, number>, weight: number): void {
  for (const [name, n] of nodes) {
    const node = ctx.snapshot.nodes.get(name);
    if (node) addTerm(scores, t, node, weight * n);
  }
}

function computeScoreStateIndexed(ctx: CycleContext): ScoreState {
  const { pod, snapshot } = ctx;
  const ns = snapshot.namespaceLabels;
  const scores = new Map<string, Map<string, number>>();
  if (pod.preferredAffinity.length + pod.preferredAntiAffinity.length > 0) {
    for (const g of snapshot.labelGroups.values()) {
      for (const t of pod.preferredAffinity) if (termMatches(t, g.rep, ns)) addGroup(scores, ctx, t, g.nodes, t.weight);
      for (const t of pod.preferredAntiAffinity) if (termMatches(t, g.rep, ns)) addGroup(scores, ctx, t, g.nodes, -t.weight);
    }
  }
  for (const g of snapshot.termGroups.values()) {
    if (g.kind === 'requiredAntiAffinity' || !termMatches(g.term, pod, ns)) continue;
    const weight = g.kind === 'requiredAffinity' ? HARD_POD_AFFINITY_WEIGHT : g.kind === 'preferredAffinity' ? g.term.weight : -g.term.weight;
    addGroup(scores, ctx, g.term, g.nodes, weight);
  }
  return scores.size > 0 ? scores : undefined;
}

function computeScoreState(ctx: CycleContext): ScoreState {
  const { pod, snapshot } = ctx;
  if (snapshot.indexed && !snapshot.hasPod(pod.key)) return computeScoreStateIndexed(ctx);
  const ns = snapshot.namespaceLabels;
  const own = pod.preferredAffinity.length + pod.preferredAntiAffinity.length > 0;
  const scores = new Map<string, Map<string, number>>();
  for (const node of snapshot.nodeList()) {
    if (!own && node.podsWithAffinity === 0) continue;
    for (const existing of node.pods.values()) {
      if (existing.key === pod.key) continue;
      if (own) {
        for (const t of pod.preferredAffinity) if (termMatches(t, existing, ns)) addTerm(scores, t, node, t.weight);
        for (const t of pod.preferredAntiAffinity) if (termMatches(t, existing, ns)) addTerm(scores, t, node, -t.weight);
      }
      if (!hasAffinity(existing)) continue;
      for (const t of existing.requiredAffinity) if (termMatches(t, pod, ns)) addTerm(scores, t, node, HARD_POD_AFFINITY_WEIGHT);
      for (const t of existing.preferredAffinity) if (termMatches(t, pod, ns)) addTerm(scores, t, node, t.weight);
      for (const t of existing.preferredAntiAffinity) if (termMatches(t, pod, ns)) addTerm(scores, t, node, -t.weight);
    }
  }
  return scores.size > 0 ? scores : undefined;
}

/**
 * InterPodAffinity: required pod affinity and anti-affinity of the incoming pod, the required anti-affinity of the
 * pods already placed (symmetry), each by topology domain; the preferred terms (both ways) score.
 */
export const InterPodAffinity: Plugin = {
  name: 'InterPodAffinity',
  preFilter: (ctx) => {
    ctx.state.set('InterPodAffinity', computeFilterState(ctx));
    return undefined;
  },
  filter: (ctx, node) => {
    const s = (ctx.state.get('InterPodAffinity') as FilterState | undefined) ?? computeFilterState(ctx);
    if (!ctx.state.has('InterPodAffinity')) ctx.state.set('InterPodAffinity', s);
    if (!satisfiesAffinity(ctx.pod, s, node, ctx)) return unschedulable(ERR_REASON_AFFINITY_RULES, true);
    if (!satisfiesAntiAffinity(ctx.pod, s, node)) return unschedulable(ERR_REASON_ANTI_AFFINITY_RULES);
    if (!satisfiesExistingAntiAffinity(s, node)) return unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY_RULES);
    return OK;
  },
  preScore: (ctx) => {
    ctx.state.set('InterPodAffinity/score', computeScoreState(ctx));
  },
  score: (ctx, node) => {
    if (!ctx.state.has('InterPodAffinity/score')) ctx.state.set('InterPodAffinity/score', computeScoreState(ctx));
    const scores = ctx.state.get('InterPodAffinity/score') as ScoreState;
    if (!scores) return 0;
    let total = 0;
    for (const [key, byValue] of scores) {
      const v = node.labels[key];
      if (v !== undefined) total += byValue.get(v) ?? 0;
    }
    return total;
  },
  normalizeScores: (ctx, scores) => {
    if (!ctx.state.get('InterPodAffinity/score')) {
      scores.fill(0);
      return;
    }
    let min = Infinity;
    let max = -Infinity;
    for (const s of scores) {
      if (s < min) min = s;
      if (s > max) max = s;
    }
    const diff = max - min;
    for (let i = 0; i < scores.length; i++) scores[i] = diff > 0 ? Math.trunc((MAX_NODE_SCORE * ((scores[i] as number) - min)) / diff) : 0;
  },
};
