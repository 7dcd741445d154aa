/** The scheduling plugins and the default profile: filters in upstream's order, scores with upstream's weights. */
import { NodeResourcesBalancedAllocation } from './balanced-allocation.js';
import { InterPodAffinity } from './inter-pod-affinity.js';
import { NodeAffinity } from './node-affinity.js';
import { NodeName } from './node-name.js';
import { NodePorts } from './node-ports.js';
import { NodeResourcesFit } from './node-resources-fit.js';
import { NodeUnschedulable } from './node-unschedulable.js';
import type { Plugin } from './plugin.js';
import { PodTopologySpread } from './pod-topology-spread.js';
import { SelectorSpread } from './selector-spread.js';
import { TaintToleration } from './taint-toleration.js';

export * from './balanced-allocation.js';
export * from './inter-pod-affinity.js';
export * from './node-affinity.js';
export * from './node-name.js';
export * from './node-ports.js';
export * from './node-resources-fit.js';
export * from './node-unschedulable.js';
export * from './plugin.js';
export * from './pod-topology-spread.js';
export * from './selector-spread.js';
export * from './taint-toleration.js';

export interface WeightedPlugin {
  plugin: Plugin;
  weight: number;
}

export const DEFAULT_FILTERS: Plugin[] = [NodeUnschedulable, NodeName, TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit, PodTopologySpread, InterPodAffinity];

/**
 * Upstream's default score weights. SelectorSpread stands in for the system-default topology spreading of a
 * controller's pods (upstream's PodTopologySpread defaults), so it carries that plugin's weight.
 */
export const DEFAULT_SCORERS: WeightedPlugin[] = [
  { plugin: TaintToleration, weight: 3 },
  { plugin: NodeAffinity, weight: 2 },
  { plugin: NodeResourcesFit, weight: 1 },
  { plugin: PodTopologySpread, weight: 2 },
  { plugin: SelectorSpread, weight: 2 },
  { plugin: InterPodAffinity, weight: 2 },
  { plugin: NodeResourcesBalancedAllocation, weight: 1 },
];
