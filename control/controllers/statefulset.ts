/**
 * The StatefulSet decisions, on plain data (upstream's pkg/controller/statefulset: stateful_set_control.go and
 * stateful_set_utils.go): pods named <set>-<ordinal> with a stable identity, created in order and each Running and
 * Ready before the next (OrderedReady) or all at once (Parallel), removed from the highest ordinal down, updated from
 * the highest ordinal down to the partition, and the status `kubectl rollout status sts` reads.
 */
import { CONTROLLER_REVISION_HASH } from './revisions.js';
import { clone, isPodAvailable, isPodReady, type LabelSelector, type Obj, type OwnerReference, type Pod, type PodTemplate } from './objects.js';

/** Labels upstream puts on every pod of a set (apps.StatefulSetPodNameLabel, apps.PodIndexLabel). */
export const STATEFULSET_POD_NAME = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX = 'apps.kubernetes.io/pod-index';

export interface VolumeClaimTemplate {
  metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
}

export interface StatefulSet extends Obj {
  spec: {
    replicas?: number;
    selector?: LabelSelector;
    template?: PodTemplate;
    serviceName?: string;
    podManagementPolicy?: string;
    updateStrategy?: { type?: string; rollingUpdate?: { partition?: number; maxUnavailable?: number | string } };
    revisionHistoryLimit?: number;
    minReadySeconds?: number;
    volumeClaimTemplates?: VolumeClaimTemplate[];
    ordinals?: { start?: number };
    persistentVolumeClaimRetentionPolicy?: { whenDeleted?: string; whenScaled?: string };
  };
  status?: StatefulSetStatus;
}

export interface StatefulSetStatus {
  observedGeneration?: number;
  replicas: number;
  readyReplicas?: number;
  currentReplicas?: number;
  updatedReplicas?: number;
  currentRevision?: string;
  updateRevision?: string;
  collisionCount?: number;
  availableReplicas: number;
  conditions?: Array<Record<string, unknown>>;
}

const ORDINAL = /^(.*)-(\d+)$/;

/** The ordinal in a pod's name, if the pod is named <set>-<ordinal> (upstream's getParentNameAndOrdinal). */
export function ordinalOf(set: string, pod: Pod): number | undefined {
  const m = ORDINAL.exec(pod.metadata.name ?? '');
  if (!m || m[1] !== set) return undefined;
  const n = Number(m[2]);
  return Number.isSafeInteger(n) ? n : undefined;
}

export const podName = (set: string, ordinal: number): string => `${set}-${ordinal}`;
/** A claim's name: <template>-<set>-<ordinal>, as upstream's getPersistentVolumeClaimName. */
export const claimName = (template: string, set: string, ordinal: number): string => `${template}-${set}-${ordinal}`;

export const podRevision = (pod: Pod): string | undefined => pod.metadata.labels?.[CONTROLLER_REVISION_HASH];
const isFailed = (p: Pod): boolean => p.status?.phase === 'Failed';
const isSucceeded = (p: Pod): boolean => p.status?.phase === 'Succeeded';
const isTerminating = (p: Pod): boolean => !!p.metadata.deletionTimestamp;
const isRunningAndReady = (p: Pod): boolean => p.status?.phase === 'Running' && isPodReady(p);

/** The pod of ordinal `ordinal` at a revision's template, with upstream's identity (name, labels, hostname, subdomain, claims). */
export function newStatefulSetPod(set: StatefulSet, template: PodTemplate, revisionName: string, ordinal: number): Pod {
  const name = podName(set.metadata.name ?? '', ordinal);
  const t = clone(template);
  const spec = (t.spec ?? {}) as Record<string, unknown> & { volumes?: Array<{ name: string; [k: string]: unknown }> };
  spec.hostname = name;
  if (set.spec.serviceName) spec.subdomain = set.spec.serviceName;
  else delete spec.subdomain;
  const claims = set.spec.volumeClaimTemplates ?? [];
  if (claims.length) {
    const names = new Set(claims.map((c) => c.metadata?.name ?? ''));
    // A claim template replaces a template volume of the same name (updateStorage).
    spec.volumes = [
      ...(spec.volumes ?? []).filter((v) => !names.has(v.name)),
      ...claims.map((c) => ({ name: c.metadata?.name ?? '', persistentVolumeClaim: { claimName: claimName(c.metadata?.name ?? '', set.metadata.name ?? '', ordinal) } })),
    ];
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...(t.metadata?.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
      name,
      namespace: set.metadata.namespace,
      labels: { ...(t.metadata?.labels ?? {}), [STATEFULSET_POD_NAME]: name, [POD_INDEX]: String(ordinal), [CONTROLLER_REVISION_HASH]: revisionName },
    },
    spec: spec as Pod['spec'],
  };
}

/** The PersistentVolumeClaims a pod of the set needs (upstream's getPersistentVolumeClaims): the selector's labels, the template's claim. */
export function claimsFor(set: StatefulSet, ordinal: number): Obj[] {
  return (set.spec.volumeClaimTemplates ?? []).map((c) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: claimName(c.metadata?.name ?? '', set.metadata.name ?? '', ordinal),
      namespace: set.metadata.namespace,
      labels: { ...(c.metadata?.labels ?? {}), ...(set.spec.selector?.matchLabels ?? {}) },
      ...(c.metadata?.annotations ? { annotations: { ...c.metadata.annotations } } : {}),
    },
    spec: clone(c.spec ?? {}),
  }));
}

export type StatefulSetAction =
  | { type: 'create'; ordinal: number; revision: 'current' | 'update' }
  | { type: 'delete'; pod: string; reason: 'failed' | 'condemned' | 'update' };

export interface StatefulSetInput {
  set: StatefulSet;
  /** Pods the set owns. */
  pods: readonly Pod[];
  currentRevision: string;
  updateRevision: string;
  now: Date;
}

export interface StatefulSetPlan {
  actions: StatefulSetAction[];
  status: StatefulSetStatus;
}

/**
 * One sync of a StatefulSet, as upstream's updateStatefulSet: failed pods are deleted and recreated; missing pods are
 * created (OrderedReady: one at a time, waiting for each to be Running and Ready); pods beyond the replica count are
 * deleted from the highest ordinal (OrderedReady: one at a time, only while the rest are healthy); then, with
 * RollingUpdate, the highest-ordinal pod at an old revision (not below the partition) is deleted, one at a time, to
 * come back at the update revision.
 */
export function planStatefulSet(input: StatefulSetInput): StatefulSetPlan {
  const { set, currentRevision, updateRevision, now } = input;
  const name = set.metadata.name ?? '';
  const replicas = set.spec.replicas ?? 1;
  const start = set.spec.ordinals?.start ?? 0;
  const monotonic = (set.spec.podManagementPolicy ?? 'OrderedReady') !== 'Parallel';
  const rolling = (set.spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
  const partition = set.spec.updateStrategy?.rollingUpdate?.partition ?? 0;
  const minReady = set.spec.minReadySeconds ?? 0;

  const slots: Array<Pod | undefined> = Array.from({ length: replicas }, () => undefined);
  const condemned: Pod[] = [];
  for (const p of input.pods) {
    const ord = ordinalOf(name, p);
    if (ord === undefined) continue;
    if (ord >= start && ord < start + replicas) slots[ord - start] = p;
    else condemned.push(p);
  }
  condemned.sort((a, b) => (ordinalOf(name, b) ?? 0) - (ordinalOf(name, a) ?? 0));

  const status = statefulSetStatus(set, input.pods, currentRevision, updateRevision, now);
  const actions: StatefulSetAction[] = [];
  const done = (): StatefulSetPlan => ({ actions, status });
  // Which revision a missing pod comes back at: below the partition it keeps the current one (newVersionedStatefulSetPod).
  const revisionFor = (i: number): 'current' | 'update' => (rolling && i < partition ? 'current' : 'update');

  // The first pod (in ordinal order) that is not healthy holds up ordered progress.
  const unhealthy = [...slots.filter((p): p is Pod => !!p), ...[...condemned].reverse()].find((p) => !isRunningAndReady(p) || isTerminating(p));

  for (let i = 0; i < replicas; i++) {
    const pod = slots[i];
    if (pod && (isFailed(pod) || isSucceeded(pod)) && !isTerminating(pod)) {
      actions.push({ type: 'delete', pod: pod.metadata.name ?? '', reason: 'failed' });
      if (monotonic) return done();
      continue;
    }
    if (!pod) {
      actions.push({ type: 'create', ordinal: start + i, revision: revisionFor(i) });
      if (monotonic) return done();
      continue;
    }
    if (isTerminating(pod)) {
      if (monotonic) return done();
      continue;
    }
    if (!isRunningAndReady(pod) && monotonic) return done();
  }

  for (const pod of condemned) {
    if (isTerminating(pod)) {
      if (monotonic) return done();
      continue;
    }
    if (monotonic && !isRunningAndReady(pod) && pod !== unhealthy) return done();
    actions.push({ type: 'delete', pod: pod.metadata.name ?? '', reason: 'condemned' });
    if (monotonic) return done();
  }

  if (!rolling) return done();
  for (let i = replicas - 1; i >= Math.min(partition, replicas); i--) {
    const pod = slots[i];
    if (!pod) return done();
    if (podRevision(pod) !== updateRevision && !isTerminating(pod)) {
      actions.push({ type: 'delete', pod: pod.metadata.name ?? '', reason: 'update' });
      return done();
    }
    if (!isRunningAndReady(pod) || isTerminating(pod) || !isPodAvailable(pod, minReady, now)) return done();
  }
  return done();
}

/** The status as upstream's computeReplicaStatus and completeRollingUpdate have it. */
export function statefulSetStatus(set: StatefulSet, pods: readonly Pod[], currentRevision: string, updateRevision: string, now: Date): StatefulSetStatus {
  const name = set.metadata.name ?? '';
  let replicas = 0;
  let ready = 0;
  let available = 0;
  let current = 0;
  let updated = 0;
  for (const p of pods) {
    if (ordinalOf(name, p) === undefined) continue;
    replicas++;
    if (isRunningAndReady(p) && !isTerminating(p)) {
      ready++;
      if (isPodAvailable(p, set.spec.minReadySeconds ?? 0, now)) available++;
    }
    if (isTerminating(p)) continue;
    if (podRevision(p) === currentRevision) current++;
    if (podRevision(p) === updateRevision) updated++;
  }
  const status: StatefulSetStatus = {
    ...(set.metadata.generation !== undefined ? { observedGeneration: set.metadata.generation } : {}),
    replicas,
    readyReplicas: ready,
    currentReplicas: current,
    updatedReplicas: updated,
    currentRevision,
    updateRevision,
    availableReplicas: available,
    ...(set.status?.collisionCount !== undefined ? { collisionCount: set.status.collisionCount } : {}),
    ...(set.status?.conditions ? { conditions: set.status.conditions } : {}),
  };
  // A finished rolling update makes the update revision the current one (completeRollingUpdate).
  const want = set.spec.replicas ?? 1;
  if ((set.spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate' && updated === want && ready === want && replicas === want) {
    status.currentReplicas = updated;
    status.currentRevision = updateRevision;
  }
  return status;
}

/** Whether a pod's ordinal is within the set's replicas (a pod outside is being scaled down). */
export function inOrdinalRange(set: StatefulSet, pod: Pod): boolean {
  const ord = ordinalOf(set.metadata.name ?? '', pod);
  const start = set.spec.ordinals?.start ?? 0;
  return ord !== undefined && ord >= start && ord < start + (set.spec.replicas ?? 1);
}

/**
 * The owner references a pod's claim should carry under persistentVolumeClaimRetentionPolicy (upstream's
 * updateClaimOwnerRefForSetAndPod): whenDeleted Delete makes the set own the claim, whenScaled Delete makes a pod being
 * scaled down own it (so the garbage collector removes it with the pod). References to the set or pod by name with
 * another uid are stale and go; a claim some other controller owns is left to it.
 */
export function claimOwnerRefs(refs: readonly OwnerReference[] | undefined, set: StatefulSet, pod: Pod): OwnerReference[] {
  const ours = (r: OwnerReference): boolean => (r.kind === 'StatefulSet' && r.name === set.metadata.name) || (r.kind === 'Pod' && r.name === pod.metadata.name) || r.uid === set.metadata.uid || r.uid === pod.metadata.uid;
  const others = (refs ?? []).filter((r) => !ours(r));
  if (others.some((r) => r.controller)) return others;
  const policy = set.spec.persistentVolumeClaimRetentionPolicy ?? {};
  const scaledDown = !inOrdinalRange(set, pod);
  const setRef: OwnerReference = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: set.metadata.name ?? '', uid: set.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
  const podRef: OwnerReference = { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
  const whenDeleted = policy.whenDeleted ?? 'Retain';
  const whenScaled = policy.whenScaled ?? 'Retain';
  if (whenScaled === 'Delete' && scaledDown) return [...others, podRef];
  if (whenDeleted === 'Delete' && (whenScaled !== 'Delete' || !scaledDown)) return [...others, setRef];
  return others;
}
