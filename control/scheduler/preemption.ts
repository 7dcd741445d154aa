/**
 * Preemption (upstream's DefaultPreemption post-filter), pure: for a pod no node fits, find the nodes where
 * removing lower-priority pods would make it fit, keep as many of those pods as possible (reprieving the most
 * important first, and pods a PodDisruptionBudget protects before the others), and pick the node whose victims
 * hurt least: fewest budget violations, lowest top priority, lowest priority sum, fewest victims.
 */
import { matchesLabels, selectorFromSpec } from '../api/selectors.js';
import { DEFAULT_FILTERS } from './plugins/index.js';
import { newCycle, type Plugin } from './plugins/plugin.js';
import { reasonHistogram, runFilters, runPreFilters, type Diagnosis } from './schedule.js';
import { addPodToNodeInfo, cloneNodeInfo, removePodFromNodeInfo, resolvePreemptionPolicy, type NodeInfo, type PodInfo, type Snapshot } from './snapshot.js';
import type { PdbLike } from './types.js';

export const PREEMPTION_NOT_HELPFUL = 'Preemption is not helpful for scheduling';
export const NO_VICTIMS_FOUND = 'No preemption victims found for incoming pod';

export interface Candidate {
  node: string;
  victims: PodInfo[];
  numPDBViolations: number;
}

export type PreemptionResult = { node: string; victims: PodInfo[]; numPDBViolations: number } | { message: string };

const startTime = (p: PodInfo): number => Date.parse(String(p.pod.status?.startTime ?? p.pod.metadata.creationTimestamp ?? '')) || 0;

/** MoreImportantPod: higher priority first, then the one running longer. */
export function moreImportant(a: PodInfo, b: PodInfo): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  return startTime(a) - startTime(b);
}

/** Splits pods into those whose eviction would break a PodDisruptionBudget and those whose would not. */
export function splitByPDBViolation(pods: PodInfo[], pdbs: Iterable<PdbLike>): { violating: PodInfo[]; nonViolating: PodInfo[] } {
  const budgets = [...pdbs].map((pdb) => {
    let selector: ReturnType<typeof selectorFromSpec>;
    try {
      selector = selectorFromSpec(pdb.spec?.selector ?? null);
    } catch {
      selector = 'nothing';
    }
    return { pdb, selector, allowed: pdb.status?.disruptionsAllowed ?? 0 };
  });
  const violating: PodInfo[] = [];
  const nonViolating: PodInfo[] = [];
  for (const p of pods) {
    let violates = false;
    for (const b of budgets) {
      if ((b.pdb.metadata.namespace ?? 'default') !== p.namespace || b.selector === 'nothing' || !matchesLabels(b.selector, p.labels)) continue;
      // A pod the budget already counts as disrupted costs it nothing more.
      if (b.pdb.status?.disruptedPods?.[p.pod.metadata.name ?? '']) continue;
      b.allowed--;
      if (b.allowed < 0) violates = true;
    }
    (violates ? violating : nonViolating).push(p);
  }
  return { violating, nonViolating };
}

/** The snapshot as seen with one node replaced (preemption's what-if). */
function overlay(snapshot: Snapshot, node: NodeInfo): Snapshot {
  const nodes = snapshot.nodeList().map((n) => (n.name === node.name ? node : n));
  const view = Object.create(snapshot) as Snapshot;
  Object.defineProperty(view, 'nodeList', { value: () => nodes });
  // The indexes describe the real nodes, not this what-if: plugins walk the pods instead.
  Object.defineProperty(view, 'indexed', { value: false });
  return view;
}

function fits(pod: PodInfo, snapshot: Snapshot, node: NodeInfo, filters: Plugin[]): boolean {
  const ctx = newCycle(pod, overlay(snapshot, node));
  const pre = runPreFilters(ctx, filters);
  if (pre && !pre.ok) return false;
  return runFilters(ctx, node, filters).ok;
}

/** selectVictimsOnNode: the fewest lower-priority pods to remove from the node for the pod to fit, or undefined. */
export function selectVictimsOnNode(pod: PodInfo, node: NodeInfo, snapshot: Snapshot, filters: Plugin[] = DEFAULT_FILTERS): Candidate | undefined {
  const sim = cloneNodeInfo(node);
  const potential = [...node.pods.values()].filter((p) => p.priority < pod.priority);
  if (potential.length === 0) return undefined;
  for (const p of potential) removePodFromNodeInfo(sim, p.key);
  if (!fits(pod, snapshot, sim, filters)) return undefined;
  potential.sort(moreImportant);
  const { violating, nonViolating } = splitByPDBViolation(potential, snapshot.pdbs.values());
  const victims: PodInfo[] = [];
  let numPDBViolations = 0;
  const reprieve = (p: PodInfo, isViolating: boolean): void => {
    addPodToNodeInfo(sim, p);
    if (fits(pod, snapshot, sim, filters)) return;
    removePodFromNodeInfo(sim, p.key);
    victims.push(p);
    if (isViolating) numPDBViolations++;
  };
  for (const p of violating) reprieve(p, true);
  for (const p of nonViolating) reprieve(p, false);
  victims.sort(moreImportant);
  return { node: node.name, victims, numPDBViolations };
}

/** pickOneNodeForPreemption's criteria, in order; the first candidate wins what is left of a tie. */
export function pickCandidate(candidates: Candidate[]): Candidate | undefined {
  const OFFSET = 2 ** 31;
  const keys = (c: Candidate): number[] => {
    const top = c.victims[0];
    const highest = top ? top.priority : -Infinity;
    const sum = c.victims.reduce((a, v) => a + v.priority + OFFSET, 0);
    // Among the highest-priority victims, the earliest start: a later one is better, so it is negated.
    const earliest = Math.min(...c.victims.filter((v) => v.priority === highest).map(startTime));
    return [c.numPDBViolations, highest, sum, c.victims.length, -earliest];
  };
  let best: Candidate | undefined;
  let bestKeys: number[] = [];
  for (const c of candidates) {
    const k = keys(c);
    if (!best) {
      best = c;
      bestKeys = k;
      continue;
    }
    for (let i = 0; i < k.length; i++) {
      if ((k[i] as number) < (bestKeys[i] as number)) {
        best = c;
        bestKeys = k;
        break;
      }
      if ((k[i] as number) > (bestKeys[i] as number)) break;
    }
  }
  return best;
}

/**
 * The post-filter: preempt for `pod`, whose filtering failed as `diagnosis` says. Returns the nominated node and
 * its victims, or the "preemption: ..." message upstream appends to the scheduling failure.
 */
export function preempt(pod: PodInfo, snapshot: Snapshot, diagnosis: Diagnosis, filters: Plugin[] = DEFAULT_FILTERS): PreemptionResult {
  if (resolvePreemptionPolicy(pod.pod, snapshot.priority) === 'Never') return { message: 'preemption: not eligible due to preemptionPolicy=Never.' };
  // A pod already waiting on a node where lower-priority pods are terminating waits for them, not for more victims.
  const nominated = pod.pod.status?.nominatedNodeName;
  if (nominated) {
    const ni = snapshot.nodes.get(nominated);
    if (ni && [...ni.pods.values()].some((p) => p.pod.metadata.deletionTimestamp && p.priority < pod.priority))
      return { message: 'preemption: not eligible due to a terminating pod on the nominated node.' };
  }
  const candidates: Candidate[] = [];
  const statuses: Array<{ reasons: string[] }> = [];
  for (const node of snapshot.nodeList()) {
    const status = diagnosis.nodeToStatus.get(node.name);
    if (!status) continue;
    if (status.unresolvable) {
      statuses.push({ reasons: [PREEMPTION_NOT_HELPFUL] });
      continue;
    }
    const c = selectVictimsOnNode(pod, node, snapshot, filters);
    if (c && c.victims.length > 0) candidates.push(c);
    else statuses.push({ reasons: [NO_VICTIMS_FOUND] });
  }
  const best = pickCandidate(candidates);
  if (best) return best;
  const hist = reasonHistogram(statuses);
  return { message: `preemption: 0/${diagnosis.numAllNodes} nodes are available${hist.length ? `: ${hist.join(', ')}` : ''}.` };
}
