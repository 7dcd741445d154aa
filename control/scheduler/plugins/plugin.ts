/**
 * The shape of a scheduling plugin, after upstream's framework: an optional preFilter computing per-cycle state once,
 * a filter per node (pass, or the reasons it fails), an optional preScore, a score per node and a normalization of
 * the scores to 0..100. Every function is pure over the cycle context and the node.
 */
import type { NodeInfo, PodInfo, Snapshot } from '../snapshot.js';
import type { FilterResult } from '../types.js';

export interface CycleContext {
  pod: PodInfo;
  snapshot: Snapshot;
  /** Per-cycle data that plugins compute in preFilter/preScore, keyed by plugin name. */
  state: Map<string, unknown>;
}

export interface Plugin {
  name: string;
  /** Runs once per cycle before the filters; a failure here fails every node with that reason. */
  preFilter?(ctx: CycleContext): FilterResult | undefined;
  filter?(ctx: CycleContext, node: NodeInfo): FilterResult;
  /** Runs once per cycle over the nodes that passed the filters. */
  preScore?(ctx: CycleContext, nodes: NodeInfo[]): void;
  /** A raw score; normalizeScores turns the raw scores of all feasible nodes into 0..100. */
  score?(ctx: CycleContext, node: NodeInfo): number;
  normalizeScores?(ctx: CycleContext, scores: number[]): void;
}

export function newCycle(pod: PodInfo, snapshot: Snapshot): CycleContext {
  return { pod, snapshot, state: new Map() };
}

/** Upstream's helper.DefaultNormalizeScore: scale to 0..max by the highest score, optionally reversed. */
export function defaultNormalizeScore(maxPriority: number, reverse: boolean, scores: number[]): void {
  let max = 0;
  for (const s of scores) if (s > max) max = s;
  if (max === 0) {
    if (reverse) scores.fill(maxPriority);
    return;
  }
  for (let i = 0; i < scores.length; i++) {
    let s = Math.trunc((maxPriority * (scores[i] as number)) / max);
    if (reverse) s = maxPriority - s;
    scores[i] = s;
  }
}
