import { isNotFound, type Informer } from '../client/index.js';
import { Controller, type ControllerContext, type SyncResult } from './controller.js';
import {
  allZonesFullyDisrupted,
  checkNodeHealth,
  DEFAULT_NODE_MONITOR_PERIOD_MS,
  desiredTaints,
  disruptionTargetCondition,
  markPodNotReady,
  NODE_LEASE_NAMESPACE,
  podEviction,
  type Lease,
  type NodeHealth,
  zoneOf,
} from './nodelifecycle.js';
import { clone, errorMessage, jsonEqual, keyOf, R, type Node, type Obj, type Pod } from './objects.js';

const NODE = { apiVersion: 'v1', kind: 'Node' };
const POD = { apiVersion: 'v1', kind: 'Pod' };
const readyOf = (n: Node | undefined): string | undefined => n?.status?.conditions?.find((c) => c.type === 'Ready')?.status;
const hasNoExecute = (n: Node | undefined): boolean => (n?.spec?.taints ?? []).some((t) => t.effect === 'NoExecute');

/**
 * upstream's node lifecycle controller with its taint eviction controller: every --node-monitor-period it checks each
 * node's Lease and heartbeat; a node silent for --node-monitor-grace-period gets its conditions set to Unknown, the
 * unreachable (or not-ready) NoSchedule and NoExecute taints, and its pods marked not ready; pods on a node with
 * NoExecute taints they do not tolerate (or tolerate only for tolerationSeconds) are deleted, with an event.
 * Keys are "node/<name>" and "pod/<namespace>/<name>".
 */
export class NodeLifecycleController extends Controller {
  private readonly nodes: Informer<Node>;
  private readonly pods: Informer<Pod>;
  private readonly leases: Informer<Lease & Obj>;
  private readonly health = new Map<string, NodeHealth>();
  /** Every zone fully disrupted: evictions stop (upstream's master disruption mode). */
  private disrupted = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(ctx: ControllerContext) {
    super('nodelifecycle', ctx);
    this.nodes = this.watch<Node>(R.nodes);
    this.pods = this.watch<Pod>(R.pods);
    this.leases = this.watch<Lease & Obj>(R.leases);
    this.nodes.addHandlers({
      onAdd: (n) => this.queue.add(`node/${n.metadata.name}`),
      onUpdate: (old, n) => {
        this.queue.add(`node/${n.metadata.name}`);
        if (!jsonEqual(old.spec?.taints, n.spec?.taints) && (hasNoExecute(old) || hasNoExecute(n))) this.podsOn(n.metadata.name ?? '');
      },
      onDelete: (n) => {
        this.health.delete(n.metadata.name ?? '');
      },
    });
    const podChanged = (p: Pod): void => {
      const nodeName = p.spec?.nodeName;
      if (!nodeName || p.metadata.deletionTimestamp) return;
      const node = this.nodes.get(nodeName);
      if (hasNoExecute(node)) this.queue.add(`pod/${keyOf(p)}`);
      // A pod that turns up Ready on a node that is not is marked like the others.
      if (node && readyOf(node) !== undefined && readyOf(node) !== 'True') this.queue.add(`node/${nodeName}`);
    };
    this.pods.addHandlers({ onAdd: podChanged, onUpdate: (_o, p) => podChanged(p) });
    this.leases.addHandlers({
      onAdd: (l) => {
        if (l.metadata.namespace === NODE_LEASE_NAMESPACE) this.queue.add(`node/${l.metadata.name}`);
      },
      onUpdate: (_o, l) => {
        if (l.metadata.namespace === NODE_LEASE_NAMESPACE) this.queue.add(`node/${l.metadata.name}`);
      },
    });
  }

  private get settings() {
    return this.ctx.config ?? {};
  }

  private podsOn(nodeName: string): void {
    for (const p of this.pods.list()) if (p.spec?.nodeName === nodeName && !p.metadata.deletionTimestamp) this.queue.add(`pod/${keyOf(p)}`);
  }

  override async start(): Promise<void> {
    await super.start();
    // Time passing is what turns a node Unknown: every node is looked at each monitor period.
    this.timer ??= setInterval(() => {
      for (const n of this.nodes.list()) this.queue.add(`node/${n.metadata.name}`);
    }, this.settings.nodeMonitorPeriodMs ?? DEFAULT_NODE_MONITOR_PERIOD_MS);
  }

  override async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await super.stop();
  }

  protected async sync(key: string): Promise<SyncResult> {
    if (key.startsWith('node/')) return this.syncNode(key.slice('node/'.length));
    if (key.startsWith('pod/')) return this.syncPod(key.slice('pod/'.length));
  }

  private async syncNode(name: string): Promise<SyncResult> {
    const cached = this.nodes.get(name);
    if (!cached) {
      this.health.delete(name);
      return;
    }
    let node = clone(cached);
    const now = this.now();
    const lease = this.leases.get(`${NODE_LEASE_NAMESPACE}/${name}`);
    const result = checkNodeHealth(this.health.get(name), node, lease, now, {
      ...(this.settings.nodeMonitorGracePeriodMs !== undefined ? { gracePeriodMs: this.settings.nodeMonitorGracePeriodMs } : {}),
      ...(this.settings.nodeStartupGracePeriodMs !== undefined ? { startupGracePeriodMs: this.settings.nodeStartupGracePeriodMs } : {}),
    });
    this.health.set(name, result.health);
    if (result.conditions) {
      node = await this.client.update<Node>(R.nodes, { ...node, status: { ...(node.status ?? {}), conditions: result.conditions } }, 'status');
      this.logger.info({ node: name }, 'node stopped posting status; conditions set to Unknown');
      if (result.previousReady === 'True') this.events.event(node, NODE, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
    }
    const disrupted = this.updateDisruption(name, result.ready, now);
    const taints = desiredTaints(node, result.ready, now, { noExecute: !disrupted });
    if (!jsonEqual(taints, node.spec?.taints ?? [])) {
      node = await this.client.patch<Node>(R.nodes, undefined, name, { metadata: { uid: node.metadata.uid }, spec: { taints } });
    }
    if (readyOf(node) !== undefined && readyOf(node) !== 'True') await this.markPodsNotReady(name, now);
  }

  /**
   * Whether every zone is fully disrupted, judged from each node's Ready status (this node's just computed). Entering
   * the mode wakes every node so their NoExecute taints come off; leaving it gives every node a fresh grace period.
   */
  private updateDisruption(name: string, ready: string, now: Date): boolean {
    const nodes = this.nodes.list().map((n) => ({ zone: zoneOf(n), ready: n.metadata.name === name ? ready : n.status?.conditions?.find((c) => c.type === 'Ready')?.status }));
    const all = allZonesFullyDisrupted(nodes);
    if (all !== this.disrupted) {
      this.disrupted = all;
      if (all) this.logger.warn('Controller detected that all Nodes are not-Ready. Entering master disruption mode');
      else {
        this.logger.info('Controller detected that some Nodes are Ready. Exiting master disruption mode');
        for (const h of this.health.values()) h.probeTimestamp = now.getTime();
      }
      for (const n of this.nodes.list()) if (n.metadata.name !== name) this.queue.add(`node/${n.metadata.name}`);
    }
    return all;
  }

  private async markPodsNotReady(nodeName: string, now: Date): Promise<void> {
    let failure: unknown;
    for (const pod of this.pods.list()) {
      if (pod.spec?.nodeName !== nodeName || pod.metadata.deletionTimestamp) continue;
      const status = markPodNotReady(pod, now);
      if (!status) continue;
      try {
        await this.client.update(R.pods, { ...clone(pod), status }, 'status');
        this.events.event(pod, POD, 'Warning', 'NodeNotReady', 'Node is not ready');
      } catch (err) {
        if (isNotFound(err)) continue;
        this.logger.debug({ pod: keyOf(pod), err: errorMessage(err) }, 'marking pod not ready failed');
        failure ??= err;
      }
    }
    if (failure !== undefined) throw failure;
  }

  private async syncPod(key: string): Promise<SyncResult> {
    const pod = this.pods.get(key);
    if (!pod?.spec?.nodeName || pod.metadata.deletionTimestamp) return;
    const node = this.nodes.get(pod.spec.nodeName);
    const now = this.now();
    const decision = podEviction(pod, node?.spec?.taints ?? [], now);
    if (decision.action === 'none') return;
    if (decision.action === 'wait') return { requeueAfterMs: decision.atMs - now.getTime() };
    const ns = pod.metadata.namespace;
    const name = pod.metadata.name ?? '';
    // The pod says why it goes (best effort: the deletion matters more).
    const conditions = [...(pod.status?.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget'), disruptionTargetCondition(now)];
    try {
      await this.client.update(R.pods, { ...clone(pod), status: { ...(pod.status ?? {}), conditions } }, 'status');
    } catch (err) {
      if (isNotFound(err)) return;
    }
    this.events.event(pod, POD, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${ns}/${name}`);
    try {
      await this.client.delete(R.pods, ns, name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
