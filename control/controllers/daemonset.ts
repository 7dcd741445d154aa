/**
 * The DaemonSet decisions, on plain data (upstream's pkg/controller/daemon: daemon_controller.go, update.go and
 * util/daemonset_util.go): which nodes should run a daemon pod, what to create and delete on each, how a rolling
 * update replaces old pods (maxUnavailable or maxSurge), and the status `kubectl rollout status ds` reads.
 */
import { makeNodeInfo, podMatchesNodeSelectorAndAffinity, tolerates, type SchedNode } from '../scheduler/index.js';
import { scaledValue } from './deployment.js';
import { CONTROLLER_REVISION_HASH } from './revisions.js';
import { clone, isPodAvailable, isPodReady, type LabelSelector, type Node, type Obj, type Pod, type PodTemplate, type Taint, type Toleration } from './objects.js';

/** Label carrying the DaemonSet's template generation, as upstream's extensions.DaemonSetTemplateGenerationKey. */
export const POD_TEMPLATE_GENERATION = 'pod-template-generation';
/** Annotation the API server keeps the template generation in (upstream's deprecated.daemonset.template.generation). */
export const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';

export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_DISK_PRESSURE = 'node.kubernetes.io/disk-pressure';
export const TAINT_MEMORY_PRESSURE = 'node.kubernetes.io/memory-pressure';
export const TAINT_PID_PRESSURE = 'node.kubernetes.io/pid-pressure';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
export const TAINT_NETWORK_UNAVAILABLE = 'node.kubernetes.io/network-unavailable';

export interface DaemonSet extends Obj {
  spec: {
    selector?: LabelSelector;
    template?: PodTemplate;
    updateStrategy?: { type?: string; rollingUpdate?: { maxUnavailable?: number | string; maxSurge?: number | string } };
    minReadySeconds?: number;
    revisionHistoryLimit?: number;
  };
  status?: DaemonSetStatus;
}

export interface DaemonSetStatus {
  currentNumberScheduled: number;
  numberMisscheduled: number;
  desiredNumberScheduled: number;
  numberReady: number;
  observedGeneration?: number;
  updatedNumberScheduled?: number;
  numberAvailable?: number;
  numberUnavailable?: number;
  collisionCount?: number;
  conditions?: Array<Record<string, unknown>>;
}

/**
 * The tolerations every daemon pod gets (upstream's AddOrUpdateDaemonPodTolerations): it stays on a node that is not
 * ready or unreachable, and is placed despite resource pressure or cordoning; with hostNetwork, despite an
 * unconfigured network too.
 */
export function daemonTolerations(hostNetwork: boolean): Toleration[] {
  const t: Toleration[] = [
    { key: TAINT_NOT_READY, operator: 'Exists', effect: 'NoExecute' },
    { key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute' },
    { key: TAINT_DISK_PRESSURE, operator: 'Exists', effect: 'NoSchedule' },
    { key: TAINT_MEMORY_PRESSURE, operator: 'Exists', effect: 'NoSchedule' },
    { key: TAINT_PID_PRESSURE, operator: 'Exists', effect: 'NoSchedule' },
    { key: TAINT_UNSCHEDULABLE, operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (hostNetwork) t.push({ key: TAINT_NETWORK_UNAVAILABLE, operator: 'Exists', effect: 'NoSchedule' });
  return t;
}

/** Adds the tolerations the pod lacks (one with the same key, operator, value and effect counts as present). */
export function withTolerations(existing: readonly Toleration[] | undefined, add: readonly Toleration[]): Toleration[] {
  const out = [...(existing ?? [])];
  for (const t of add) {
    const same = out.findIndex((x) => x.key === t.key && (x.operator ?? 'Equal') === t.operator && (x.value ?? '') === (t.value ?? '') && x.effect === t.effect);
    if (same >= 0) out[same] = t;
    else out.push(t);
  }
  return out;
}

/**
 * Pins a pod to one node through the scheduler (upstream's ReplaceDaemonSetPodNodeNameNodeAffinity): the required
 * node affinity becomes a single term matching the field metadata.name; preferred terms and other affinities stay.
 */
export function pinToNode(affinity: Record<string, unknown> | undefined, nodeName: string): Record<string, unknown> {
  const a = clone(affinity ?? {}) as Record<string, unknown> & { nodeAffinity?: Record<string, unknown> };
  const na = a.nodeAffinity ?? {};
  na.requiredDuringSchedulingIgnoredDuringExecution = { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }] };
  a.nodeAffinity = na;
  return a;
}

/** The node a daemon pod is for: its nodeName once bound, else the node its matchFields affinity names (GetTargetNodeName). */
export function targetNodeName(pod: Pod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const terms = (pod.spec?.affinity as { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: Array<{ matchFields?: Array<{ key: string; operator: string; values?: string[] }> }> } } } | undefined)
    ?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  for (const term of terms ?? []) for (const f of term.matchFields ?? []) if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
  return undefined;
}

/** The daemon pod as the controller would create it for `nodeName` (without owner and name, which the caller adds). */
export function daemonPodTemplate(ds: DaemonSet, hash: string, generation: number | undefined, nodeName: string): PodTemplate {
  const t = clone(ds.spec.template ?? {});
  const spec = (t.spec ?? {}) as Record<string, unknown> & { tolerations?: Toleration[]; affinity?: Record<string, unknown>; hostNetwork?: boolean };
  spec.tolerations = withTolerations(spec.tolerations, daemonTolerations(spec.hostNetwork === true));
  spec.affinity = pinToNode(spec.affinity, nodeName);
  t.spec = spec as PodTemplate['spec'];
  t.metadata = {
    ...(t.metadata ?? {}),
    labels: { ...(t.metadata?.labels ?? {}), [CONTROLLER_REVISION_HASH]: hash, ...(generation !== undefined ? { [POD_TEMPLATE_GENERATION]: String(generation) } : {}) },
  };
  return t;
}

function untolerated(taints: readonly Taint[], tolerations: readonly Toleration[], effect: (e: string) => boolean): Taint | undefined {
  return taints.find((taint) => effect(taint.effect) && !tolerations.some((t) => tolerates(t, taint)));
}

/**
 * upstream's NodeShouldRunDaemonPod: shouldRun says a daemon pod should be placed here now; shouldContinueRunning
 * that one already here may stay (it tolerates every NoExecute taint, even if a NoSchedule taint keeps new ones out).
 */
export function nodeShouldRunDaemonPod(node: Node, ds: DaemonSet): { shouldRun: boolean; shouldContinueRunning: boolean } {
  const spec = (ds.spec.template?.spec ?? {}) as { nodeName?: string; nodeSelector?: Record<string, string>; affinity?: unknown; tolerations?: Toleration[]; hostNetwork?: boolean };
  const name = node.metadata.name ?? '';
  if (spec.nodeName && spec.nodeName !== name) return { shouldRun: false, shouldContinueRunning: false };
  if (!podMatchesNodeSelectorAndAffinity(spec, makeNodeInfo(node as SchedNode))) return { shouldRun: false, shouldContinueRunning: false };
  const tolerations = withTolerations(spec.tolerations, daemonTolerations(spec.hostNetwork === true));
  const taints = node.spec?.taints ?? [];
  if (untolerated(taints, tolerations, (e) => e === 'NoSchedule' || e === 'NoExecute')) {
    return { shouldRun: false, shouldContinueRunning: !untolerated(taints, tolerations, (e) => e === 'NoExecute') };
  }
  return { shouldRun: true, shouldContinueRunning: true };
}

/** upstream's IsPodUpdated: the pod carries the update revision's hash (or the current template generation). */
export function isPodUpdated(pod: Pod, hash: string, generation: number | undefined): boolean {
  const labels = pod.metadata.labels ?? {};
  return (hash !== '' && labels[CONTROLLER_REVISION_HASH] === hash) || (generation !== undefined && labels[POD_TEMPLATE_GENERATION] === String(generation));
}

const createdAt = (p: Pod): number => Date.parse(p.metadata.creationTimestamp ?? '') || 0;
const byAge = (a: Pod, b: Pod): number => createdAt(a) - createdAt(b) || ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1);

export interface DaemonSetInput {
  ds: DaemonSet;
  nodes: readonly Node[];
  /** Pods the DaemonSet owns (terminating ones included: they are waited for, never counted). */
  pods: readonly Pod[];
  /** The update revision's hash. */
  hash: string;
  templateGeneration?: number;
  now: Date;
}

export interface DaemonSetPlan {
  /** Nodes to create a daemon pod on. */
  create: string[];
  /** Names of pods to delete. */
  delete: string[];
  /** Failed pods among `delete` (reported with a FailedDaemonPod event). */
  failed: Array<{ pod: string; node: string }>;
  status: DaemonSetStatus;
}

/** Active daemon pods per target node; pods being deleted are left out, as upstream's getNodesToDaemonPods does. */
export function podsByNode(pods: readonly Pod[]): Map<string, Pod[]> {
  const m = new Map<string, Pod[]>();
  for (const p of pods) {
    if (p.metadata.deletionTimestamp) continue;
    const n = targetNodeName(p);
    if (!n) continue;
    const list = m.get(n) ?? [];
    list.push(p);
    m.set(n, list);
  }
  for (const list of m.values()) list.sort(byAge);
  return m;
}

/** The rolling update's fence posts: maxSurge and maxUnavailable of the desired number, both rounded up (at least one of them is non-zero). */
export function surgeAndUnavailable(ds: DaemonSet, desired: number): { maxSurge: number; maxUnavailable: number } {
  const ru = ds.spec.updateStrategy?.rollingUpdate ?? {};
  const maxSurge = scaledValue(ru.maxSurge, desired, true, '0');
  let maxUnavailable = scaledValue(ru.maxUnavailable, desired, true, '1');
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable };
}

/**
 * One sync of a DaemonSet: upstream's manage (a pod on every node that should run one, none elsewhere, one per node,
 * failed ones replaced) followed, for RollingUpdate, by rollingUpdate (old pods deleted within maxUnavailable, or new
 * ones surged beside them within maxSurge), and updateDaemonSetStatus.
 */
export function planDaemonSet(input: DaemonSetInput): DaemonSetPlan {
  const { ds, nodes, hash, now } = input;
  const minReady = ds.spec.minReadySeconds ?? 0;
  const available = (p: Pod): boolean => isPodAvailable(p, minReady, now);
  const updated = (p: Pod): boolean => isPodUpdated(p, hash, input.templateGeneration);
  const byNode = podsByNode(input.pods);
  const rolling = (ds.spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
  const create: string[] = [];
  const del = new Set<string>();
  const failed: DaemonSetPlan['failed'] = [];
  const runNodes: string[] = [];
  const decisions = new Map<string, { shouldRun: boolean; shouldContinueRunning: boolean }>();
  for (const node of nodes) decisions.set(node.metadata.name ?? '', nodeShouldRunDaemonPod(node, ds));
  const desired = [...decisions.values()].filter((d) => d.shouldRun).length;
  const { maxSurge, maxUnavailable } = surgeAndUnavailable(ds, desired);
  const surging = rolling && maxSurge > 0;

  // ---- manage ----
  for (const [name, d] of decisions) {
    const pods = byNode.get(name) ?? [];
    if (d.shouldRun && pods.length === 0) {
      create.push(name);
      continue;
    }
    if (!d.shouldContinueRunning) {
      for (const p of pods) del.add(p.metadata.name ?? '');
      continue;
    }
    const running: Pod[] = [];
    for (const p of pods) {
      if (p.status?.phase === 'Failed') {
        del.add(p.metadata.name ?? '');
        failed.push({ pod: p.metadata.name ?? '', node: name });
      } else running.push(p);
    }
    if (running.length === 0 && d.shouldRun) {
      // Every pod here failed: a replacement comes with the deletion.
      create.push(name);
      continue;
    }
    if (surging) {
      // The oldest old pod and the oldest new one may share the node while the new one becomes available (the
      // rolling update retires the old one then); anything more goes.
      const keep = new Set([running.find((p) => !updated(p)), running.find(updated)].filter((p): p is Pod => !!p));
      for (const p of running) if (!keep.has(p)) del.add(p.metadata.name ?? '');
    } else {
      for (const p of running.slice(1)) del.add(p.metadata.name ?? '');
    }
  }
  // Pods on nodes that no longer exist are the pod GC's business, as upstream.

  // ---- rolling update ----
  if (rolling) {
    if (!surging) {
      let numUnavailable = 0;
      const candidates: Pod[] = [];
      for (const [name, d] of decisions) {
        if (!d.shouldRun && !d.shouldContinueRunning) continue;
        const pods = (byNode.get(name) ?? []).filter((p) => !del.has(p.metadata.name ?? ''));
        const fresh = pods.filter(updated);
        const old = pods.filter((p) => !updated(p));
        if (fresh.length > 1 || old.length > 1) continue;
        const [newPod] = fresh;
        const [oldPod] = old;
        if (!oldPod) {
          if (!newPod || !available(newPod)) numUnavailable++;
          continue;
        }
        if (newPod) {
          numUnavailable++;
          continue;
        }
        if (!available(oldPod)) {
          // Already unavailable: replacing it costs nothing more.
          del.add(oldPod.metadata.name ?? '');
          continue;
        }
        candidates.push(oldPod);
      }
      candidates.sort(byAge);
      for (const p of candidates.slice(0, Math.max(0, maxUnavailable - numUnavailable))) del.add(p.metadata.name ?? '');
    } else {
      let numSurge = 0;
      const surgeCandidates: string[] = [];
      for (const [name, d] of decisions) {
        if (!d.shouldRun) continue;
        const pods = (byNode.get(name) ?? []).filter((p) => !del.has(p.metadata.name ?? ''));
        const fresh = pods.filter(updated);
        const old = pods.filter((p) => !updated(p));
        const [oldPod] = old;
        const [newPod] = fresh;
        if (!oldPod) continue;
        if (!newPod) {
          if (!available(oldPod)) create.push(name); // an unavailable old pod is replaced at once
          else surgeCandidates.push(name);
          continue;
        }
        if (available(newPod)) del.add(oldPod.metadata.name ?? '');
        else numSurge++;
      }
      for (const n of surgeCandidates.slice(0, Math.max(0, maxSurge - numSurge))) create.push(n);
    }
  }

  // ---- status ----
  let current = 0;
  let misscheduled = 0;
  let ready = 0;
  let avail = 0;
  let upd = 0;
  for (const [name, d] of decisions) {
    const pods = byNode.get(name) ?? [];
    const scheduled = pods.some((p) => !!p.spec?.nodeName);
    if (d.shouldRun) {
      runNodes.push(name);
      if (!scheduled) continue;
      current++;
      const bound = pods.filter((p) => !!p.spec?.nodeName);
      // With surge, the newest available updated pod speaks for the node; otherwise the oldest.
      const pod = (surging ? bound.filter((p) => updated(p) && available(p))[0] : undefined) ?? bound[0];
      if (!pod) continue;
      if (isPodReady(pod)) ready++;
      if (available(pod)) avail++;
      if (updated(pod)) upd++;
    } else if (scheduled) misscheduled++;
  }
  const status: DaemonSetStatus = {
    currentNumberScheduled: current,
    numberMisscheduled: misscheduled,
    desiredNumberScheduled: desired,
    numberReady: ready,
    updatedNumberScheduled: upd,
    numberAvailable: avail,
    numberUnavailable: Math.max(0, desired - avail),
    ...(ds.metadata.generation !== undefined ? { observedGeneration: ds.metadata.generation } : {}),
    ...(ds.status?.collisionCount !== undefined ? { collisionCount: ds.status.collisionCount } : {}),
    ...(ds.status?.conditions ? { conditions: ds.status.conditions } : {}),
  };
  return { create: [...new Set(create)], delete: [...del], failed, status };
}
