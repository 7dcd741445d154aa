/**
 * The node lifecycle decisions, on plain data (upstream's pkg/controller/nodelifecycle and
 * pkg/controller/tainteviction): when a node whose kubelet stopped renewing its Lease is declared Unknown, which
 * taints a node's conditions call for, which pods on a node must be marked not ready, and when a pod on a node with
 * NoExecute taints is evicted (at once, or after its tolerationSeconds).
 */
import { tolerates } from '../scheduler/index.js';
import { clone, rfc3339, type Condition, type Node, type Pod, type Taint, type Toleration } from './objects.js';
import { TAINT_DISK_PRESSURE, TAINT_MEMORY_PRESSURE, TAINT_NETWORK_UNAVAILABLE, TAINT_NOT_READY, TAINT_PID_PRESSURE, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE } from './daemonset.js';

export const DEFAULT_NODE_MONITOR_GRACE_PERIOD_MS = 50_000;
export const DEFAULT_NODE_STARTUP_GRACE_PERIOD_MS = 60_000;
export const DEFAULT_NODE_MONITOR_PERIOD_MS = 5_000;
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/** The conditions the controller turns Unknown when the kubelet goes quiet (upstream's nodeConditionsToUpdate). */
export const MONITORED_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

export interface NodeHealth {
  /** When the controller last heard from the node (its own clock: a changed heartbeat or lease renewal). */
  probeTimestamp: number;
  readyHeartbeat?: string | null | undefined;
  leaseRenewTime?: string | undefined;
}

export interface Lease {
  metadata: { name?: string; namespace?: string };
  spec?: { renewTime?: string; holderIdentity?: string };
}

export interface HealthResult {
  health: NodeHealth;
  /** The node's conditions as they should now be stored, when they changed. */
  conditions?: Condition[];
  /** The Ready condition's status after this check ('Unknown' when absent). */
  ready: string;
  /** The Ready status as the node last reported it, before this check. */
  previousReady: string;
}

const renewedAfter = (a: string | undefined, b: string | undefined): boolean => (Date.parse(a ?? '') || 0) > (Date.parse(b ?? '') || 0);

/**
 * upstream's tryUpdateNodeHealth: a node is heard from when its Ready heartbeat changes or its Lease is renewed; one
 * not heard from for the grace period (the startup grace period while it never reported) gets every monitored
 * condition set to Unknown.
 */
export function checkNodeHealth(
  prev: NodeHealth | undefined,
  node: Node,
  lease: Lease | undefined,
  now: Date,
  opts: { gracePeriodMs?: number; startupGracePeriodMs?: number } = {},
): HealthResult {
  const conditions = node.status?.conditions ?? [];
  const ready = conditions.find((c) => c.type === 'Ready');
  const created = Date.parse(node.metadata.creationTimestamp ?? '') || now.getTime();
  const grace = ready ? (opts.gracePeriodMs ?? DEFAULT_NODE_MONITOR_GRACE_PERIOD_MS) : (opts.startupGracePeriodMs ?? DEFAULT_NODE_STARTUP_GRACE_PERIOD_MS);
  let health: NodeHealth;
  if (!prev) health = { probeTimestamp: ready ? now.getTime() : created, readyHeartbeat: ready?.lastHeartbeatTime };
  else if (ready && ready.lastHeartbeatTime !== prev.readyHeartbeat) health = { ...prev, probeTimestamp: now.getTime(), readyHeartbeat: ready.lastHeartbeatTime };
  else health = { ...prev };
  const renew = lease?.spec?.renewTime;
  if (renew && (health.leaseRenewTime === undefined || renewedAfter(renew, health.leaseRenewTime))) {
    health.probeTimestamp = now.getTime();
    health.leaseRenewTime = renew;
  }
  const previousReady = ready?.status ?? 'Unknown';
  if (now.getTime() <= health.probeTimestamp + grace) return { health, ready: previousReady, previousReady };

  const ts = rfc3339(now);
  const next = clone(conditions);
  let changed = false;
  for (const type of MONITORED_CONDITIONS) {
    const c = next.find((x) => x.type === type);
    if (!c) {
      next.push({ type, status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.', lastHeartbeatTime: node.metadata.creationTimestamp ?? ts, lastTransitionTime: ts });
      changed = true;
    } else if (c.status !== 'Unknown') {
      c.status = 'Unknown';
      c.reason = 'NodeStatusUnknown';
      c.message = 'Kubelet stopped posting node status.';
      c.lastTransitionTime = ts;
      changed = true;
    }
  }
  return { health, ready: 'Unknown', previousReady, ...(changed ? { conditions: next } : {}) };
}

/** Which NoSchedule taint each condition calls for (upstream's nodeConditionToTaintKeyStatusMap). */
const CONDITION_TAINTS: Array<{ type: string; status: string; key: string }> = [
  { type: 'Ready', status: 'False', key: TAINT_NOT_READY },
  { type: 'Ready', status: 'Unknown', key: TAINT_UNREACHABLE },
  { type: 'MemoryPressure', status: 'True', key: TAINT_MEMORY_PRESSURE },
  { type: 'DiskPressure', status: 'True', key: TAINT_DISK_PRESSURE },
  { type: 'NetworkUnavailable', status: 'True', key: TAINT_NETWORK_UNAVAILABLE },
  { type: 'PIDPressure', status: 'True', key: TAINT_PID_PRESSURE },
];
const MANAGED_NO_SCHEDULE = new Set([...CONDITION_TAINTS.map((t) => t.key), TAINT_UNSCHEDULABLE]);

/**
 * The node's taints once the controller has had its say: the NoSchedule taints its conditions and spec.unschedulable
 * call for (doNoScheduleTaintingPass), and the NoExecute not-ready or unreachable taint of taint-based eviction
 * (processTaintBaseEviction), stamped with the time it was added. Other taints stay as they are.
 */
export function desiredTaints(node: Node, readyStatus: string | undefined, now: Date, opts: { noExecute?: boolean } = {}): Taint[] {
  const conditions = node.status?.conditions ?? [];
  const status = (type: string): string | undefined => (type === 'Ready' ? readyStatus : conditions.find((c) => c.type === type)?.status);
  const current = node.spec?.taints ?? [];
  const wantedNoSchedule = new Set<string>();
  // A node that never reported its Ready condition is not tainted yet (upstream waits for a condition to exist).
  for (const t of CONDITION_TAINTS) if (conditions.some((c) => c.type === t.type) && status(t.type) === t.status) wantedNoSchedule.add(t.key);
  if (node.spec?.unschedulable) wantedNoSchedule.add(TAINT_UNSCHEDULABLE);
  const wantedNoExecute = opts.noExecute === false ? undefined : readyStatus === 'False' && conditions.some((c) => c.type === 'Ready') ? TAINT_NOT_READY : readyStatus === 'Unknown' && conditions.some((c) => c.type === 'Ready') ? TAINT_UNREACHABLE : undefined;

  const out: Taint[] = [];
  for (const t of current) {
    if (t.effect === 'NoSchedule' && MANAGED_NO_SCHEDULE.has(t.key) && !wantedNoSchedule.has(t.key)) continue;
    if (t.effect === 'NoExecute' && (t.key === TAINT_NOT_READY || t.key === TAINT_UNREACHABLE) && t.key !== wantedNoExecute) continue;
    out.push(t);
  }
  for (const key of wantedNoSchedule) if (!out.some((t) => t.key === key && t.effect === 'NoSchedule')) out.push({ key, effect: 'NoSchedule' });
  if (wantedNoExecute && !out.some((t) => t.key === wantedNoExecute && t.effect === 'NoExecute')) out.push({ key: wantedNoExecute, effect: 'NoExecute', timeAdded: rfc3339(now) });
  return out;
}

/** The pod's status with its Ready condition turned False (upstream's MarkPodsNotReady), or undefined if it is not Ready. */
export function markPodNotReady(pod: Pod, now: Date): Pod['status'] | undefined {
  const conditions = pod.status?.conditions ?? [];
  const ready = conditions.find((c) => c.type === 'Ready');
  if (!ready || ready.status === 'False') return undefined;
  return { ...(pod.status ?? {}), conditions: conditions.map((c) => (c.type === 'Ready' ? { ...c, status: 'False', lastTransitionTime: rfc3339(now) } : c)) };
}

export type EvictionDecision = { action: 'none' } | { action: 'evict' } | { action: 'wait'; atMs: number };

/**
 * The taint eviction controller's choice for one pod: NoExecute taints it does not tolerate evict it now; tolerated
 * ones with tolerationSeconds evict it that long after the taint was added (the shortest such time wins); tolerations
 * without tolerationSeconds let it stay.
 */
export function podEviction(pod: Pod, taints: readonly Taint[], now: Date): EvictionDecision {
  const noExecute = taints.filter((t) => t.effect === 'NoExecute');
  if (noExecute.length === 0 || pod.metadata.deletionTimestamp) return { action: 'none' };
  const tolerations = ((pod.spec?.tolerations ?? []) as Toleration[]).filter((t) => !t.effect || t.effect === 'NoExecute');
  let at: number | undefined;
  for (const taint of noExecute) {
    const matching = tolerations.filter((t) => tolerates(t, taint));
    if (matching.length === 0) return { action: 'evict' };
    // A toleration without tolerationSeconds tolerates for ever; otherwise the shortest applies.
    if (matching.some((t) => t.tolerationSeconds === undefined || t.tolerationSeconds === null)) continue;
    const seconds = Math.max(0, Math.min(...matching.map((t) => t.tolerationSeconds as number)));
    const since = Date.parse(taint.timeAdded ?? '') || now.getTime();
    const deadline = since + seconds * 1000;
    if (at === undefined || deadline < at) at = deadline;
  }
  if (at === undefined) return { action: 'none' };
  return at <= now.getTime() ? { action: 'evict' } : { action: 'wait', atMs: at };
}

/** The DisruptionTarget condition the taint eviction controller adds before deleting a pod. */
export function disruptionTargetCondition(now: Date): Condition {
  return { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint', lastTransitionTime: rfc3339(now) };
}

export type ZoneState = 'Normal' | 'PartialDisruption' | 'FullDisruption';

/** Upstream's --unhealthy-zone-threshold default. */
export const UNHEALTHY_ZONE_THRESHOLD = 0.55;

/** utilnode.GetZoneKey: the region and zone labels ("" for nodes that carry neither). */
export function zoneOf(node: Node): string {
  const l = node.metadata.labels ?? {};
  const region = l['topology.kubernetes.io/region'] ?? l['failure-domain.beta.kubernetes.io/region'] ?? '';
  const zone = l['topology.kubernetes.io/zone'] ?? l['failure-domain.beta.kubernetes.io/zone'] ?? '';
  return region === '' && zone === '' ? '' : `${region}:\x00:${zone}`;
}

/**
 * upstream's ComputeZoneState: no Ready node and some not ready is a full disruption; more than two not ready and at
 * least the threshold's share of them is a partial one. Nodes that never reported a Ready condition do not count.
 */
export function computeZoneState(readyStatuses: ReadonlyArray<string | undefined>): ZoneState {
  let ready = 0;
  let notReady = 0;
  for (const s of readyStatuses) {
    if (s === undefined) continue;
    if (s === 'True') ready++;
    else notReady++;
  }
  if (ready === 0 && notReady > 0) return 'FullDisruption';
  if (notReady > 2 && notReady / (notReady + ready) >= UNHEALTHY_ZONE_THRESHOLD) return 'PartialDisruption';
  return 'Normal';
}

/**
 * True when every zone is fully disrupted: the controller then suspects itself (or the network) rather than the
 * nodes and evicts nothing, taking the NoExecute taints off ("master disruption mode").
 */
export function allZonesFullyDisrupted(nodes: ReadonlyArray<{ zone: string; ready: string | undefined }>): boolean {
  const zones = new Map<string, Array<string | undefined>>();
  for (const n of nodes) zones.set(n.zone, [...(zones.get(n.zone) ?? []), n.ready]);
  if (zones.size === 0) return false;
  return [...zones.values()].every((z) => computeZoneState(z) === 'FullDisruption');
}
