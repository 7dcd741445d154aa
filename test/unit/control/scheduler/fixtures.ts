import type { QueueClock } from '../../../../control/client/index.js';
import { makePodInfo, Snapshot, type NodeInfo, type PodInfo } from '../../../../control/scheduler/snapshot.js';
import { newCycle, type CycleContext } from '../../../../control/scheduler/plugins/plugin.js';
import type { SchedNode, SchedPod, TaintSpec, TolerationSpec } from '../../../../control/scheduler/types.js';

export interface NodeOpts {
  cpu?: string;
  memory?: string;
  pods?: number;
  labels?: Record<string, string>;
  taints?: TaintSpec[];
  unschedulable?: boolean;
  ready?: 'True' | 'False' | 'Unknown' | 'missing';
  extra?: Record<string, string>;
}

export function node(name: string, o: NodeOpts = {}): SchedNode {
  const ready = o.ready ?? 'True';
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(o.labels ?? {}) } },
    spec: { ...(o.unschedulable ? { unschedulable: true } : {}), ...(o.taints ? { taints: o.taints } : {}) },
    status: {
      allocatable: { cpu: o.cpu ?? '4', memory: o.memory ?? '8Gi', pods: String(o.pods ?? 110), ...(o.extra ?? {}) },
      conditions: ready === 'missing' ? [] : [{ type: 'Ready', status: ready }],
    },
  };
}

export interface PodOpts {
  ns?: string;
  cpu?: string;
  memory?: string;
  extra?: Record<string, string>;
  labels?: Record<string, string>;
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  affinity?: Record<string, unknown>;
  tolerations?: TolerationSpec[];
  priority?: number;
  priorityClassName?: string;
  preemptionPolicy?: string;
  owner?: string;
  hostPort?: number;
  topologySpreadConstraints?: Array<Record<string, unknown>>;
  created?: string;
}

export function pod(name: string, o: PodOpts = {}): SchedPod {
  const requests: Record<string, string> = { ...(o.cpu ? { cpu: o.cpu } : {}), ...(o.memory ? { memory: o.memory } : {}), ...(o.extra ?? {}) };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: o.ns ?? 'default',
      uid: `uid-${name}`,
      labels: o.labels ?? {},
      creationTimestamp: o.created ?? '2026-01-01T00:00:00Z',
      ...(o.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: o.owner, uid: `uid-${o.owner}`, controller: true }] } : {}),
    },
    spec: {
      containers: [{ name: 'c', image: 'x', resources: Object.keys(requests).length ? { requests } : {}, ...(o.hostPort ? { ports: [{ containerPort: 80, hostPort: o.hostPort }] } : {}) }],
      ...(o.nodeName ? { nodeName: o.nodeName } : {}),
      ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
      ...(o.affinity ? { affinity: o.affinity } : {}),
      ...(o.tolerations ? { tolerations: o.tolerations } : {}),
      ...(o.priority !== undefined ? { priority: o.priority } : {}),
      ...(o.priorityClassName ? { priorityClassName: o.priorityClassName } : {}),
      ...(o.preemptionPolicy ? { preemptionPolicy: o.preemptionPolicy } : {}),
      ...(o.topologySpreadConstraints ? { topologySpreadConstraints: o.topologySpreadConstraints } : {}),
    },
    status: { phase: o.nodeName ? 'Running' : 'Pending' },
  };
}

/** A pod placed on a node. */
export const on = (nodeName: string, name: string, o: PodOpts = {}): SchedPod => pod(name, { ...o, nodeName });

export function setup(nodes: SchedNode[], pods: SchedPod[] = []): Snapshot {
  return Snapshot.from({ nodes, pods });
}

export function ctxFor(p: SchedPod, snapshot: Snapshot): CycleContext {
  return newCycle(makePodInfo(p, snapshot.priority), snapshot);
}

export function nodeInfo(snapshot: Snapshot, name: string): NodeInfo {
  const ni = snapshot.nodes.get(name);
  if (!ni) throw new Error(`no node ${name}`);
  return ni;
}

export const info = (p: SchedPod): PodInfo => makePodInfo(p);

export const expr = (key: string, operator: string, values?: string[]) => ({ key, operator, ...(values ? { values } : {}) });

export const requiredNodeAffinity = (...terms: Array<Array<ReturnType<typeof expr>>>) => ({
  nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms.map((t) => ({ matchExpressions: t })) } },
});

/** A controllable clock for the queue. */
export class FakeClock implements QueueClock {
  t = 1_000_000;
  private timers: Array<{ at: number; fn: () => void; cancelled: boolean }> = [];
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): { cancel(): void } {
    const timer = { at: this.t + ms, fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => !x.cancelled && x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.t = due.at;
      due.cancelled = true;
      due.fn();
    }
    this.t = end;
  }
}
