/**
 * The shapes the scheduler reads from pods and nodes. They are structural views of the API objects (what an informer
 * hands over, or a test writes by hand), so the decisions stay plain data in, plain data out.
 */
import type { LabelSelectorSpec } from '../api/selectors.js';

export interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

export interface NodeAffinitySpec {
  requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] } | null;
  preferredDuringSchedulingIgnoredDuringExecution?: Array<{ weight: number; preference: NodeSelectorTerm }>;
}

export interface PodAffinityTerm {
  labelSelector?: LabelSelectorSpec | null;
  namespaces?: string[];
  namespaceSelector?: LabelSelectorSpec | null;
  topologyKey: string;
}

export interface WeightedPodAffinityTerm {
  weight: number;
  podAffinityTerm: PodAffinityTerm;
}

export interface PodAffinitySpec {
  requiredDuringSchedulingIgnoredDuringExecution?: PodAffinityTerm[];
  preferredDuringSchedulingIgnoredDuringExecution?: WeightedPodAffinityTerm[];
}

export interface TolerationSpec {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

export interface TaintSpec {
  key: string;
  value?: string;
  effect: string;
}

export interface ContainerSpec {
  name?: string;
  image?: string;
  restartPolicy?: string;
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
  ports?: Array<{ containerPort?: number; hostPort?: number; protocol?: string; hostIP?: string }>;
}

export interface TopologySpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  whenUnsatisfiable: string;
  labelSelector?: LabelSelectorSpec | null;
}

export interface OwnerRef {
  apiVersion?: string;
  kind?: string;
  name?: string;
  uid?: string;
  controller?: boolean;
}

export interface SchedPod {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    ownerReferences?: OwnerRef[];
  };
  spec?: {
    nodeName?: string;
    nodeSelector?: Record<string, string>;
    affinity?: { nodeAffinity?: NodeAffinitySpec; podAffinity?: PodAffinitySpec; podAntiAffinity?: PodAffinitySpec } | Record<string, unknown>;
    tolerations?: TolerationSpec[];
    containers?: ContainerSpec[];
    initContainers?: ContainerSpec[];
    overhead?: Record<string, string | number>;
    priority?: number;
    priorityClassName?: string;
    preemptionPolicy?: string;
    schedulerName?: string;
    topologySpreadConstraints?: TopologySpreadConstraint[] | Array<Record<string, unknown>>;
    schedulingGates?: Array<{ name?: string }>;
    [k: string]: unknown;
  };
  status?: { phase?: string; nominatedNodeName?: string; startTime?: string; conditions?: Array<Record<string, unknown>>; [k: string]: unknown };
}

export interface SchedNode {
  apiVersion?: string;
  kind?: string;
  metadata: { name?: string; uid?: string; labels?: Record<string, string>; resourceVersion?: string };
  spec?: { unschedulable?: boolean; taints?: TaintSpec[] };
  status?: {
    allocatable?: Record<string, string | number>;
    capacity?: Record<string, string | number>;
    conditions?: Array<{ type?: string; status?: string }>;
    images?: Array<{ names?: string[]; sizeBytes?: number }>;
  };
}

export interface PdbLike {
  metadata: { name?: string; namespace?: string };
  spec?: { selector?: LabelSelectorSpec | null };
  status?: { disruptionsAllowed?: number; disruptedPods?: Record<string, string> };
}

export interface PriorityClassLike {
  metadata: { name?: string };
  value?: number;
  globalDefault?: boolean;
  preemptionPolicy?: string;
}

/** Upstream's framework status codes: unresolvable failures are ones preemption cannot fix. */
export type FilterResult = { ok: true } | { ok: false; reasons: string[]; unresolvable?: boolean };

export const OK: FilterResult = { ok: true };

export function unschedulable(reasons: string | string[], unresolvable = false): FilterResult {
  return { ok: false, reasons: Array.isArray(reasons) ? reasons : [reasons], ...(unresolvable ? { unresolvable: true } : {}) };
}

export const MAX_NODE_SCORE = 100;

export const podKey = (pod: { metadata: { namespace?: string; name?: string } }): string => `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name ?? ''}`;
