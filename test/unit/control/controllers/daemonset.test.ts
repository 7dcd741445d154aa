import { describe, expect, it } from 'vitest';
import { nodeShouldRunDaemonPod, planDaemonSet, surgeAndUnavailable, targetNodeName, withTolerations, type DaemonSet } from '../../../../control/controllers/daemonset.js';
import type { Node, Pod } from '../../../../control/controllers/objects.js';

const NOW = new Date('2026-01-01T00:10:00Z');

function node(name: string, o: { labels?: Record<string, string>; taints?: Array<{ key: string; effect: string; value?: string }> } = {}): Node {
  return { metadata: { name, labels: o.labels ?? {} }, spec: { taints: o.taints ?? [] } };
}

function ds(o: { nodeSelector?: Record<string, string>; tolerations?: unknown[]; strategy?: DaemonSet['spec']['updateStrategy']; minReadySeconds?: number } = {}): DaemonSet {
  return {
    metadata: { name: 'agent', namespace: 'default', uid: 'ds-uid', generation: 2 },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'c', image: 'x' }], ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}), ...(o.tolerations ? { tolerations: o.tolerations } : {}) } },
      updateStrategy: o.strategy ?? { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      ...(o.minReadySeconds ? { minReadySeconds: o.minReadySeconds } : {}),
    },
  };
}

let seq = 0;
function pod(nodeName: string, o: { hash?: string; ready?: boolean; phase?: string; created?: number; deleting?: boolean; bound?: boolean } = {}): Pod {
  const name = `agent-${seq++}`;
  return {
    metadata: {
      name,
      namespace: 'default',
      labels: { app: 'agent', 'controller-revision-hash': o.hash ?? 'new' },
      creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, o.created ?? 0)).toISOString(),
      ...(o.deleting ? { deletionTimestamp: NOW.toISOString() } : {}),
    },
    spec: { ...(o.bound === false ? {} : { nodeName }), affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }] } } } },
    status: { phase: o.phase ?? 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }] },
  };
}

describe('nodeShouldRunDaemonPod', () => {
  const cases: Array<{ name: string; node: Node; ds: DaemonSet; want: [boolean, boolean] }> = [
    { name: 'plain node', node: node('a'), ds: ds(), want: [true, true] },
    { name: 'nodeSelector matches', node: node('a', { labels: { role: 'edge' } }), ds: ds({ nodeSelector: { role: 'edge' } }), want: [true, true] },
    { name: 'nodeSelector does not match', node: node('a'), ds: ds({ nodeSelector: { role: 'edge' } }), want: [false, false] },
    { name: 'untolerated NoSchedule: no new pod, the old one stays', node: node('a', { taints: [{ key: 'x', effect: 'NoSchedule' }] }), ds: ds(), want: [false, true] },
    { name: 'untolerated NoExecute: nothing', node: node('a', { taints: [{ key: 'x', effect: 'NoExecute' }] }), ds: ds(), want: [false, false] },
    { name: 'tolerated NoExecute', node: node('a', { taints: [{ key: 'x', effect: 'NoExecute' }] }), ds: ds({ tolerations: [{ key: 'x', operator: 'Exists' }] }), want: [true, true] },
    { name: 'unreachable NoExecute is tolerated by default', node: node('a', { taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }] }), ds: ds(), want: [true, true] },
    { name: 'unreachable NoSchedule is not', node: node('a', { taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }] }), ds: ds(), want: [false, true] },
    { name: 'memory pressure is tolerated', node: node('a', { taints: [{ key: 'node.kubernetes.io/memory-pressure', effect: 'NoSchedule' }] }), ds: ds(), want: [true, true] },
    { name: 'cordoned node is tolerated', node: node('a', { taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }] }), ds: ds(), want: [true, true] },
    { name: 'network-unavailable only with hostNetwork', node: node('a', { taints: [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }] }), ds: ds(), want: [false, true] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = nodeShouldRunDaemonPod(c.node, c.ds);
      expect([r.shouldRun, r.shouldContinueRunning]).toEqual(c.want);
    });
  }

  it('withTolerations does not duplicate an existing toleration', () => {
    const t = withTolerations([{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' }], [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' }]);
    expect(t).toHaveLength(1);
  });

  it('targetNodeName reads nodeName, else the matchFields affinity', () => {
    const p = pod('b', { bound: false });
    expect(targetNodeName(p)).toBe('b');
    expect(targetNodeName({ ...p, spec: { nodeName: 'c' } })).toBe('c');
  });
});

describe('planDaemonSet', () => {
  const plan = (d: DaemonSet, nodes: Node[], pods: Pod[]) => planDaemonSet({ ds: d, nodes, pods, hash: 'new', now: NOW });

  it('creates on nodes without a pod, deletes misscheduled and duplicate pods, replaces failed ones', () => {
    const nodes = [node('a'), node('b'), node('c', { taints: [{ key: 'x', effect: 'NoExecute' }] }), node('d')];
    const dup1 = pod('b', { created: 1 });
    const dup2 = pod('b', { created: 2 });
    const mis = pod('c');
    const failed = pod('d', { phase: 'Failed' });
    const r = plan(ds(), nodes, [dup1, dup2, mis, failed]);
    expect(r.create.sort()).toEqual(['a', 'd']);
    expect(r.delete.sort()).toEqual([dup2.metadata.name, failed.metadata.name, mis.metadata.name].sort());
    expect(r.failed).toEqual([{ pod: failed.metadata.name, node: 'd' }]);
    expect(r.status).toMatchObject({ desiredNumberScheduled: 3, currentNumberScheduled: 2, numberMisscheduled: 1, observedGeneration: 2 });
  });

  it('pods being deleted are waited for, not counted', () => {
    const r = plan(ds(), [node('a')], [pod('a', { deleting: true })]);
    expect(r.create).toEqual(['a']);
    expect(r.status.currentNumberScheduled).toBe(0);
  });

  it('status counts ready, available and updated pods; unbound pods are not yet scheduled', () => {
    const r = planDaemonSet({ ds: ds({ minReadySeconds: 3600 }), nodes: [node('a'), node('b'), node('c')], pods: [pod('a', { hash: 'old' }), pod('b', { ready: false }), pod('c', { bound: false })], hash: 'new', now: NOW });
    expect(r.status).toMatchObject({ desiredNumberScheduled: 3, currentNumberScheduled: 2, numberReady: 1, numberAvailable: 0, updatedNumberScheduled: 1, numberUnavailable: 3 });
  });

  const table: Array<{ name: string; strategy: DaemonSet['spec']['updateStrategy']; pods: () => Pod[]; nodes: string[]; create: string[]; deleteOld: number }> = [
    { name: 'maxUnavailable 1 deletes one old available pod', strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } }, nodes: ['a', 'b', 'c'], pods: () => ['a', 'b', 'c'].map((n) => pod(n, { hash: 'old' })), create: [], deleteOld: 1 },
    { name: 'maxUnavailable 2 deletes two', strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 2, maxSurge: 0 } }, nodes: ['a', 'b', 'c'], pods: () => ['a', 'b', 'c'].map((n) => pod(n, { hash: 'old' })), create: [], deleteOld: 2 },
    { name: 'an unavailable new pod uses up the budget', strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } }, nodes: ['a', 'b'], pods: () => [pod('a', { ready: false }), pod('b', { hash: 'old' })], create: [], deleteOld: 0 },
    { name: 'unavailable old pods go at once', strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } }, nodes: ['a', 'b'], pods: () => [pod('a', { hash: 'old', ready: false }), pod('b', { hash: 'old', ready: false })], create: [], deleteOld: 2 },
    { name: 'maxUnavailable 50% of 4 is 2', strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '50%', maxSurge: 0 } }, nodes: ['a', 'b', 'c', 'd'], pods: () => ['a', 'b', 'c', 'd'].map((n) => pod(n, { hash: 'old' })), create: [], deleteOld: 2 },
    { name: 'maxSurge 1 creates one new pod beside an old one', strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } }, nodes: ['a', 'b'], pods: () => [pod('a', { hash: 'old' }), pod('b', { hash: 'old' })], create: ['a'], deleteOld: 0 },
    { name: 'surge: an available new pod retires the old one', strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } }, nodes: ['a'], pods: () => [pod('a', { hash: 'old', created: 0 }), pod('a', { created: 1 })], create: [], deleteOld: 1 },
    { name: 'surge: an unready new pod holds the surge', strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } }, nodes: ['a', 'b'], pods: () => [pod('a', { hash: 'old', created: 0 }), pod('a', { created: 1, ready: false }), pod('b', { hash: 'old' })], create: [], deleteOld: 0 },
    { name: 'OnDelete leaves old pods alone', strategy: { type: 'OnDelete' }, nodes: ['a', 'b'], pods: () => [pod('a', { hash: 'old' }), pod('b', { hash: 'old' })], create: [], deleteOld: 0 },
  ];
  for (const c of table) {
    it(`rolling update: ${c.name}`, () => {
      const pods = c.pods();
      const r = plan(ds({ strategy: c.strategy }), c.nodes.map((n) => node(n)), pods);
      expect(r.create.sort()).toEqual(c.create);
      const oldNames = new Set(pods.filter((p) => p.metadata.labels?.['controller-revision-hash'] === 'old').map((p) => p.metadata.name));
      expect(r.delete.filter((n) => oldNames.has(n))).toHaveLength(c.deleteOld);
      expect(r.delete.filter((n) => !oldNames.has(n))).toEqual([]);
    });
  }

  it('surge: a new pod created in the same second as the old one (and sorting first) does not push the old one out', () => {
    const oldPod = pod('a', { hash: 'old', created: 0 });
    const newPod = pod('a', { created: 0, ready: false });
    oldPod.metadata.name = 'agent-zzz';
    newPod.metadata.name = 'agent-aaa';
    const r = plan(ds({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } }), [node('a'), node('b')], [oldPod, newPod, pod('b', { hash: 'old' })]);
    expect(r).toMatchObject({ create: [], delete: [] });
  });

  it('surgeAndUnavailable rounds percentages up and never lets both be zero', () => {
    expect(surgeAndUnavailable(ds({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '10%', maxSurge: 0 } } }), 15)).toEqual({ maxSurge: 0, maxUnavailable: 2 });
    expect(surgeAndUnavailable(ds({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } } }), 3)).toEqual({ maxSurge: 0, maxUnavailable: 1 });
  });
});
