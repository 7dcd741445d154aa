/**
 * The scheduler's view of the cluster: every node with the pods on it and what they request, the priority classes,
 * the disruption budgets and the namespaces' labels. Built from plain objects (tests, the bench) or kept up to date
 * from informer events by the scheduler, which also "assumes" a pod onto its node before the binding completes.
 */
import { matchesLabels, selectorFromSpec, type LabelSelectorSpec, type Requirement } from '../api/selectors.js';
import { nodeAllocatable, podNonZeroRequests, podRequests, type Resources } from './resources.js';
import {
  podKey,
  type NodeAffinitySpec,
  type PdbLike,
  type PodAffinitySpec,
  type PodAffinityTerm,
  type PriorityClassLike,
  type SchedNode,
  type SchedPod,
} from './types.js';

export const DEFAULT_PRIORITY = 0;

/** A pod affinity term compiled once: selector requirements, the namespaces it looks at, its topology key. */
export interface CompiledTerm {
  selector: Requirement[] | 'nothing';
  namespaces: Set<string>;
  /** Set when a namespaceSelector is given; {} selects every namespace. */
  namespaceSelector?: Requirement[] | 'nothing';
  topologyKey: string;
  weight: number;
  /** Equal for terms that select the same pods in the same domains (the snapshot's index key). */
  sig: string;
}

export interface PodInfo {
  pod: SchedPod;
  key: string;
  namespace: string;
  labels: Record<string, string>;
  requests: Resources;
  nonZero: { cpu: number; memory: number };
  priority: number;
  requiredAffinity: CompiledTerm[];
  requiredAntiAffinity: CompiledTerm[];
  preferredAffinity: CompiledTerm[];
  preferredAntiAffinity: CompiledTerm[];
  hostPorts: string[];
  controllerUid?: string;
  /** Namespace and labels as one string: pods alike here are matched by a term alike. */
  labelsSig: string;
  /** Placed by this scheduler, binding not yet confirmed. */
  assumed?: boolean;
}

export interface NodeInfo {
  name: string;
  node: SchedNode;
  labels: Record<string, string>;
  allocatable: Resources;
  allowedPods: number;
  pods: Map<string, PodInfo>;
  requested: Resources;
  nonZeroRequested: { cpu: number; memory: number };
  usedPorts: Map<string, number>;
  /** Pods with any (anti-)affinity, for the inter-pod affinity plugin. */
  podsWithAffinity: number;
  podsWithRequiredAntiAffinity: number;
}

function compileTerm(term: PodAffinityTerm, ownNamespace: string, weight: number): CompiledTerm {
  let selector: Requirement[] | 'nothing';
  try {
    selector = selectorFromSpec(term.labelSelector ?? null);
  } catch {
    selector = 'nothing';
  }
  const namespaces = new Set(term.namespaces ?? []);
  let namespaceSelector: Requirement[] | 'nothing' | undefined;
  if (term.namespaceSelector) {
    try {
      namespaceSelector = selectorFromSpec(term.namespaceSelector);
    } catch {
      namespaceSelector = 'nothing';
    }
  }
  // No namespaces and no namespaceSelector: the pod's own namespace.
  if (namespaces.size === 0 && namespaceSelector === undefined) namespaces.add(ownNamespace);
  const topologyKey = term.topologyKey ?? '';
  const sig = JSON.stringify([selector, [...namespaces].sort(), namespaceSelector ?? null, topologyKey]);
  return { selector, namespaces, ...(namespaceSelector !== undefined ? { namespaceSelector } : {}), topologyKey, weight, sig };
}

/** Does the term select this pod (namespace and labels)? */
export function termMatches(term: CompiledTerm, pod: PodInfo, namespaceLabels: Map<string, Record<string, string>>): boolean {
  if (term.selector === 'nothing') return false;
  if (!term.namespaces.has(pod.namespace)) {
    if (term.namespaceSelector === undefined || term.namespaceSelector === 'nothing') return false;
    if (term.namespaceSelector.length > 0 && !matchesLabels(term.namespaceSelector, namespaceLabels.get(pod.namespace))) return false;
  }
  return matchesLabels(term.selector, pod.labels);
}

export interface PriorityLookup {
  classes: Map<string, PriorityClassLike>;
  globalDefault?: PriorityClassLike;
}

/** spec.priority when admission set it; otherwise what the pod's PriorityClass (or the global default) says. */
export function resolvePriority(pod: SchedPod, lookup?: PriorityLookup): number {
  if (typeof pod.spec?.priority === 'number') return pod.spec.priority;
  const name = pod.spec?.priorityClassName;
  if (name && lookup) {
    const pc = lookup.classes.get(name);
    if (pc) return pc.value ?? 0;
    if (name === 'system-node-critical') return 2_000_001_000;
    if (name === 'system-cluster-critical') return 2_000_000_000;
  }
  if (!name && lookup?.globalDefault) return lookup.globalDefault.value ?? 0;
  return DEFAULT_PRIORITY;
}

export function resolvePreemptionPolicy(pod: SchedPod, lookup?: PriorityLookup): string {
  if (pod.spec?.preemptionPolicy) return pod.spec.preemptionPolicy;
  const name = pod.spec?.priorityClassName;
  const pc = name ? lookup?.classes.get(name) : lookup?.globalDefault;
  return pc?.preemptionPolicy ?? 'PreemptLowerPriority';
}

export function makePodInfo(pod: SchedPod, lookup?: PriorityLookup): PodInfo {
  const namespace = pod.metadata.namespace ?? 'default';
  const aff = (pod.spec?.affinity ?? {}) as { podAffinity?: PodAffinitySpec; podAntiAffinity?: PodAffinitySpec };
  const req = (a: PodAffinitySpec | undefined): CompiledTerm[] => (a?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => compileTerm(t, namespace, 1));
  const pref = (a: PodAffinitySpec | undefined): CompiledTerm[] =>
    (a?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((w) => compileTerm(w.podAffinityTerm, namespace, w.weight ?? 0));
  const hostPorts: string[] = [];
  for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])])
    for (const p of c.ports ?? []) if (p.hostPort) hostPorts.push(`${p.protocol ?? 'TCP'}/${p.hostIP ?? '0.0.0.0'}/${p.hostPort}`);
  const controller = (pod.metadata.ownerReferences ?? []).find((o) => o.controller);
  return {
    pod,
    key: podKey(pod),
    namespace,
    labels: pod.metadata.labels ?? {},
    requests: podRequests(pod),
    nonZero: podNonZeroRequests(pod),
    priority: resolvePriority(pod, lookup),
    requiredAffinity: req(aff.podAffinity),
    requiredAntiAffinity: req(aff.podAntiAffinity),
    preferredAffinity: pref(aff.podAffinity),
    preferredAntiAffinity: pref(aff.podAntiAffinity),
    hostPorts,
    labelsSig: JSON.stringify([namespace, Object.entries(pod.metadata.labels ?? {}).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))]),
    ...(controller?.uid ? { controllerUid: controller.uid } : {}),
  };
}

export const hasAffinity = (p: PodInfo): boolean =>
  p.requiredAffinity.length + p.requiredAntiAffinity.length + p.preferredAffinity.length + p.preferredAntiAffinity.length > 0;

export function makeNodeInfo(node: SchedNode): NodeInfo {
  const alloc = nodeAllocatable(node);
  return {
    name: node.metadata.name ?? '',
    node,
    labels: node.metadata.labels ?? {},
    allocatable: alloc.resources,
    allowedPods: alloc.pods,
    pods: new Map(),
    requested: {},
    nonZeroRequested: { cpu: 0, memory: 0 },
    usedPorts: new Map(),
    podsWithAffinity: 0,
    podsWithRequiredAntiAffinity: 0,
  };
}

function account(ni: NodeInfo, p: PodInfo, sign: 1 | -1): void {
  for (const [k, v] of Object.entries(p.requests)) ni.requested[k] = (ni.requested[k] ?? 0) + sign * v;
  ni.nonZeroRequested.cpu += sign * p.nonZero.cpu;
  ni.nonZeroRequested.memory += sign * p.nonZero.memory;
  for (const port of p.hostPorts) {
    const n = (ni.usedPorts.get(port) ?? 0) + sign;
    if (n <= 0) ni.usedPorts.delete(port);
    else ni.usedPorts.set(port, n);
  }
  if (hasAffinity(p)) ni.podsWithAffinity += sign;
  if (p.requiredAntiAffinity.length > 0) ni.podsWithRequiredAntiAffinity += sign;
}

export function addPodToNodeInfo(ni: NodeInfo, p: PodInfo): void {
  const old = ni.pods.get(p.key);
  if (old) account(ni, old, -1);
  ni.pods.set(p.key, p);
  account(ni, p, 1);
}

export function removePodFromNodeInfo(ni: NodeInfo, key: string): void {
  const old = ni.pods.get(key);
  if (!old) return;
  account(ni, old, -1);
  ni.pods.delete(key);
}

/** A copy of the node info that can be changed without touching the snapshot (preemption's what-ifs). */
export function cloneNodeInfo(ni: NodeInfo): NodeInfo {
  return {
    ...ni,
    pods: new Map(ni.pods),
    requested: { ...ni.requested },
    nonZeroRequested: { ...ni.nonZeroRequested },
    usedPorts: new Map(ni.usedPorts),
  };
}

/** Pods with the same namespace and labels, and how many of them sit on each node. */
export interface LabelGroup {
  rep: PodInfo;
  nodes: Map<string, number>;
}

export type TermKind = 'requiredAffinity' | 'requiredAntiAffinity' | 'preferredAffinity' | 'preferredAntiAffinity';

/** Placed pods' affinity terms that are alike, and how many pods on each node carry one. */
export interface TermGroup {
  term: CompiledTerm;
  kind: TermKind;
  nodes: Map<string, number>;
}

const TERM_KINDS: TermKind[] = ['requiredAffinity', 'requiredAntiAffinity', 'preferredAffinity', 'preferredAntiAffinity'];

function bump<K>(m: Map<K, Map<string, number>>, key: K, node: string, by: number): void {
  let nodes = m.get(key);
  if (!nodes) {
    if (by < 0) return;
    nodes = new Map();
    m.set(key, nodes);
  }
  const n = (nodes.get(node) ?? 0) + by;
  if (n <= 0) nodes.delete(node);
  else nodes.set(node, n);
}

export interface SnapshotInput {
  nodes: SchedNode[];
  pods?: SchedPod[];
  pdbs?: PdbLike[];
  priorityClasses?: PriorityClassLike[];
  namespaces?: Array<{ metadata: { name?: string; labels?: Record<string, string> } }>;
}

export class Snapshot {
  readonly nodes = new Map<string, NodeInfo>();
  /** Pods whose node is not (yet) known: kept so they appear once their node does. */
  private readonly podNode = new Map<string, string>();
  private readonly orphans = new Map<string, PodInfo>();
  readonly pdbs = new Map<string, PdbLike>();
  readonly namespaceLabels = new Map<string, Record<string, string>>();
  readonly priority: PriorityLookup = { classes: new Map() };
  /** Pods waiting for preemption victims to leave, by key: their nominated node. */
  readonly nominated = new Map<string, { node: string; info: PodInfo }>();
  /**
   * Indexes over the placed pods, so affinity and spreading look at groups of alike pods instead of every pod:
   * by namespace + labels, by affinity term, and by controller.
   */
  readonly indexed: boolean = true;
  readonly labelGroups = new Map<string, LabelGroup>();
  readonly termGroups = new Map<string, TermGroup>();
  readonly controllerGroups = new Map<string, Map<string, number>>();
  /** Bumped on every change: lets callers cache per-generation work. */
  generation = 0;
  private nodeListCache: NodeInfo[] | undefined;

  static from(input: SnapshotInput): Snapshot {
    const s = new Snapshot();
    for (const pc of input.priorityClasses ?? []) s.setPriorityClass(pc);
    for (const ns of input.namespaces ?? []) s.setNamespace(ns);
    for (const pdb of input.pdbs ?? []) s.setPdb(pdb);
    for (const n of input.nodes) s.setNode(n);
    for (const p of input.pods ?? []) if (p.spec?.nodeName) s.setPod(p);
    return s;
  }

  nodeList(): NodeInfo[] {
    this.nodeListCache ??= [...this.nodes.values()];
    return this.nodeListCache;
  }

  private index(p: PodInfo, node: string, by: 1 | -1): void {
    let g = this.labelGroups.get(p.labelsSig);
    if (!g && by > 0) this.labelGroups.set(p.labelsSig, (g = { rep: p, nodes: new Map() }));
    if (g) {
      const n = (g.nodes.get(node) ?? 0) + by;
      if (n <= 0) g.nodes.delete(node);
      else g.nodes.set(node, n);
      if (g.nodes.size === 0) this.labelGroups.delete(p.labelsSig);
    }
    for (const kind of TERM_KINDS) {
      for (const t of p[kind]) {
        const key = `${kind}\u0000${t.weight}\u0000${t.sig}`;
        let tg = this.termGroups.get(key);
        if (!tg && by > 0) this.termGroups.set(key, (tg = { term: t, kind, nodes: new Map() }));
        if (!tg) continue;
        const n = (tg.nodes.get(node) ?? 0) + by;
        if (n <= 0) tg.nodes.delete(node);
        else tg.nodes.set(node, n);
        if (tg.nodes.size === 0) this.termGroups.delete(key);
      }
    }
    if (p.controllerUid && !p.pod.metadata.deletionTimestamp) {
      const key = `${p.namespace}/${p.controllerUid}`;
      bump(this.controllerGroups, key, node, by);
      if (this.controllerGroups.get(key)?.size === 0) this.controllerGroups.delete(key);
    }
  }

  setNode(node: SchedNode): void {
    const name = node.metadata.name ?? '';
    const old = this.nodes.get(name);
    const ni = makeNodeInfo(node);
    if (old) for (const p of old.pods.values()) addPodToNodeInfo(ni, p);
    for (const [key, p] of this.orphans) {
      if (p.pod.spec?.nodeName === name) {
        addPodToNodeInfo(ni, p);
        this.index(p, name, 1);
        this.orphans.delete(key);
      }
    }
    this.nodes.set(name, ni);
    this.changed(true);
  }

  removeNode(name: string): void {
    const ni = this.nodes.get(name);
    if (!ni) return;
    // Pods of a deleted node are kept aside until they are deleted too (the pod GC does that upstream).
    for (const p of ni.pods.values()) {
      this.orphans.set(p.key, p);
      this.index(p, name, -1);
    }
    this.nodes.delete(name);
    this.changed(true);
  }

  /** Adds or updates a pod that has a node (spec.nodeName), or assumes `pod` onto `nodeName`. */
  setPod(pod: SchedPod, opts: { nodeName?: string; assumed?: boolean } = {}): PodInfo {
    const info = makePodInfo(opts.nodeName ? { ...pod, spec: { ...pod.spec, nodeName: opts.nodeName } } : pod, this.priority);
    if (opts.assumed) info.assumed = true;
    const nodeName = info.pod.spec?.nodeName ?? '';
    this.removePod(info.key);
    this.podNode.set(info.key, nodeName);
    const ni = this.nodes.get(nodeName);
    if (ni) {
      addPodToNodeInfo(ni, info);
      this.index(info, nodeName, 1);
    } else this.orphans.set(info.key, info);
    this.nominated.delete(info.key);
    this.changed();
    return info;
  }

  removePod(key: string): void {
    const nodeName = this.podNode.get(key);
    if (nodeName === undefined) return;
    this.podNode.delete(key);
    this.orphans.delete(key);
    const ni = this.nodes.get(nodeName);
    const old = ni?.pods.get(key);
    if (ni && old) {
      removePodFromNodeInfo(ni, key);
      this.index(old, nodeName, -1);
    }
    this.changed();
  }

  hasPod(key: string): boolean {
    return this.podNode.has(key);
  }

  podInfo(key: string): PodInfo | undefined {
    const node = this.podNode.get(key);
    return node === undefined ? undefined : (this.nodes.get(node)?.pods.get(key) ?? this.orphans.get(key));
  }

  nominate(pod: SchedPod, node: string): void {
    this.nominated.set(podKey(pod), { node, info: makePodInfo(pod, this.priority) });
    this.changed();
  }

  clearNomination(key: string): void {
    if (this.nominated.delete(key)) this.changed();
  }

  setPdb(pdb: PdbLike): void {
    this.pdbs.set(`${pdb.metadata.namespace ?? 'default'}/${pdb.metadata.name ?? ''}`, pdb);
  }

  removePdb(pdb: PdbLike): void {
    this.pdbs.delete(`${pdb.metadata.namespace ?? 'default'}/${pdb.metadata.name ?? ''}`);
  }

  setPriorityClass(pc: PriorityClassLike): void {
    this.priority.classes.set(pc.metadata.name ?? '', pc);
    this.refreshGlobalDefault();
  }

  removePriorityClass(pc: PriorityClassLike): void {
    this.priority.classes.delete(pc.metadata.name ?? '');
    this.refreshGlobalDefault();
  }

  private refreshGlobalDefault(): void {
    let best: PriorityClassLike | undefined;
    for (const pc of this.priority.classes.values()) if (pc.globalDefault && (!best || (pc.value ?? 0) > (best.value ?? 0))) best = pc;
    if (best) this.priority.globalDefault = best;
    else delete this.priority.globalDefault;
  }

  setNamespace(ns: { metadata: { name?: string; labels?: Record<string, string> } }): void {
    this.namespaceLabels.set(ns.metadata.name ?? '', { 'kubernetes.io/metadata.name': ns.metadata.name ?? '', ...(ns.metadata.labels ?? {}) });
  }

  removeNamespace(name: string): void {
    this.namespaceLabels.delete(name);
  }

  private changed(nodes = false): void {
    this.generation++;
    if (nodes) this.nodeListCache = undefined;
  }
}

export type { LabelSelectorSpec, NodeAffinitySpec };
