import { describe, expect, it } from 'vitest';
import {
  InterPodAffinity,
  NodeAffinity,
  NodeName,
  NodePorts,
  NodeResourcesBalancedAllocation,
  NodeResourcesFit,
  NodeUnschedulable,
  PodTopologySpread,
  SelectorSpread,
  TaintToleration,
  type Plugin,
} from '../../../../control/scheduler/plugins/index.js';
import type { Snapshot } from '../../../../control/scheduler/snapshot.js';
import type { SchedNode, SchedPod } from '../../../../control/scheduler/types.js';
import { ctxFor, expr, node, on, pod, requiredNodeAffinity, setup } from './fixtures.js';

/** Runs a plugin's filter over every node: 'ok' or the reasons. */
function filterAll(plugin: Plugin, p: SchedPod, snapshot: Snapshot): Record<string, string> {
  const ctx = ctxFor(p, snapshot);
  plugin.preFilter?.(ctx);
  const out: Record<string, string> = {};
  for (const n of snapshot.nodeList()) {
    const r = plugin.filter!(ctx, n);
    out[n.name] = r.ok ? 'ok' : r.reasons.join('; ');
  }
  return out;
}

/** Runs a plugin's scoring over every node, normalized. */
function scoreAll(plugin: Plugin, p: SchedPod, snapshot: Snapshot): Record<string, number> {
  const ctx = ctxFor(p, snapshot);
  const nodes = snapshot.nodeList();
  ctx.state.set('feasibleNodes', nodes);
  plugin.preScore?.(ctx, nodes);
  const scores = nodes.map((n) => plugin.score!(ctx, n));
  plugin.normalizeScores?.(ctx, scores);
  return Object.fromEntries(nodes.map((n, i) => [n.name, scores[i] as number]));
}

interface FilterCase {
  name: string;
  pod: SchedPod;
  nodes: SchedNode[];
  pods?: SchedPod[];
  want: Record<string, string>;
}

function filterTable(plugin: Plugin, cases: FilterCase[]): void {
  for (const c of cases) {
    it(c.name, () => {
      expect(filterAll(plugin, c.pod, setup(c.nodes, c.pods ?? []))).toEqual(c.want);
    });
  }
}

describe('NodeResourcesFit filter', () => {
  filterTable(NodeResourcesFit, [
    { name: 'fits on an empty node', pod: pod('p', { cpu: '1', memory: '1Gi' }), nodes: [node('n1')], want: { n1: 'ok' } },
    {
      name: 'Insufficient cpu counts what is already requested',
      pod: pod('p', { cpu: '1' }),
      nodes: [node('n1', { cpu: '4' })],
      pods: [on('n1', 'a', { cpu: '3500m' })],
      want: { n1: 'Insufficient cpu' },
    },
    { name: 'every short resource is a reason', pod: pod('p', { cpu: '5', memory: '9Gi' }), nodes: [node('n1')], want: { n1: 'Insufficient cpu; Insufficient memory' } },
    { name: 'exactly the rest fits', pod: pod('p', { cpu: '500m' }), nodes: [node('n1', { cpu: '1' })], pods: [on('n1', 'a', { cpu: '500m' })], want: { n1: 'ok' } },
    { name: 'Too many pods', pod: pod('p'), nodes: [node('n1', { pods: 1 })], pods: [on('n1', 'a')], want: { n1: 'Too many pods' } },
    {
      name: 'a pod requesting nothing fits a full node',
      pod: pod('p'),
      nodes: [node('n1', { cpu: '1' })],
      pods: [on('n1', 'a', { cpu: '1' })],
      want: { n1: 'ok' },
    },
    { name: 'extended resources', pod: pod('p', { extra: { 'example.com/gpu': '1' } }), nodes: [node('n1'), node('n2', { extra: { 'example.com/gpu': '2' } })], want: { n1: 'Insufficient example.com/gpu', n2: 'ok' } },
  ]);

  it('counts the larger of the init containers and the app containers, plus overhead', () => {
    const p = pod('p', { cpu: '1' });
    p.spec!.initContainers = [{ name: 'init', resources: { requests: { cpu: '3' } } }];
    p.spec!.overhead = { cpu: '500m' };
    expect(filterAll(NodeResourcesFit, p, setup([node('n1', { cpu: '3' }), node('n2', { cpu: '3500m' })]))).toEqual({ n1: 'Insufficient cpu', n2: 'ok' });
  });
});

describe('NodeResourcesFit score (LeastAllocated) and BalancedAllocation', () => {
  it('scores the share of cpu and memory left free', () => {
    const s = setup([node('n1', { cpu: '4', memory: '8Gi' }), node('n2', { cpu: '4', memory: '8Gi' })], [on('n2', 'a', { cpu: '2', memory: '4Gi' })]);
    // n1: (4000-1000)/4000 = 75, (8-2)/8 = 75; n2: (4000-3000)/4000 = 25, (8-6)/8 = 25.
    expect(scoreAll(NodeResourcesFit, pod('p', { cpu: '1', memory: '2Gi' }), s)).toEqual({ n1: 75, n2: 25 });
  });

  it('counts unset requests as 100m cpu and 200Mi memory when scoring', () => {
    const s = setup([node('n1', { cpu: '1', memory: '1000Mi' })]);
    // cpu (1000-100)/1000 = 90, memory (1000-200)/1000 = 80 => 85.
    expect(scoreAll(NodeResourcesFit, pod('p'), s)).toEqual({ n1: 85 });
  });

  it('balanced allocation is (1 - standard deviation of the fractions) * 100', () => {
    const s = setup([node('n1', { cpu: '4', memory: '8Gi' }), node('n2', { cpu: '4', memory: '8Gi' })]);
    // n1: cpu 1/4 = .25, memory 4/8 = .5: std .125 => 87; a pod using both alike => 100.
    expect(scoreAll(NodeResourcesBalancedAllocation, pod('p', { cpu: '1', memory: '4Gi' }), s)).toEqual({ n1: 87, n2: 87 });
    expect(scoreAll(NodeResourcesBalancedAllocation, pod('p', { cpu: '2', memory: '4Gi' }), s)).toEqual({ n1: 100, n2: 100 });
  });
});

describe('NodeName', () => {
  filterTable(NodeName, [
    { name: 'no nodeName fits anywhere', pod: pod('p'), nodes: [node('n1'), node('n2')], want: { n1: 'ok', n2: 'ok' } },
    { name: 'nodeName fits only there', pod: pod('p', { nodeName: 'n2' }), nodes: [node('n1'), node('n2')], want: { n1: "node(s) didn't match the requested node name", n2: 'ok' } },
  ]);
});

describe('NodeUnschedulable', () => {
  filterTable(NodeUnschedulable, [
    { name: 'a cordoned node takes no pods', pod: pod('p'), nodes: [node('n1', { unschedulable: true }), node('n2')], want: { n1: 'node(s) were unschedulable', n2: 'ok' } },
    {
      name: 'unless the pod tolerates the unschedulable taint',
      pod: pod('p', { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] }),
      nodes: [node('n1', { unschedulable: true })],
      want: { n1: 'ok' },
    },
  ]);
});

describe('NodeAffinity filter', () => {
  const zoned = [node('a', { labels: { zone: 'z1', disk: 'ssd', cores: '8' } }), node('b', { labels: { zone: 'z2', cores: '2' } }), node('c', { labels: {} })];
  const MISS = "node(s) didn't match Pod's node affinity/selector";
  filterTable(NodeAffinity, [
    { name: 'nodeSelector: every label must match', pod: pod('p', { nodeSelector: { zone: 'z1', disk: 'ssd' } }), nodes: zoned, want: { a: 'ok', b: MISS, c: MISS } },
    { name: 'In', pod: pod('p', { affinity: requiredNodeAffinity([expr('zone', 'In', ['z2', 'z3'])]) }), nodes: zoned, want: { a: MISS, b: 'ok', c: MISS } },
    { name: 'NotIn matches nodes without the label', pod: pod('p', { affinity: requiredNodeAffinity([expr('zone', 'NotIn', ['z1'])]) }), nodes: zoned, want: { a: MISS, b: 'ok', c: 'ok' } },
    { name: 'Exists', pod: pod('p', { affinity: requiredNodeAffinity([expr('disk', 'Exists')]) }), nodes: zoned, want: { a: 'ok', b: MISS, c: MISS } },
    { name: 'DoesNotExist', pod: pod('p', { affinity: requiredNodeAffinity([expr('zone', 'DoesNotExist')]) }), nodes: zoned, want: { a: MISS, b: MISS, c: 'ok' } },
    { name: 'Gt compares integers', pod: pod('p', { affinity: requiredNodeAffinity([expr('cores', 'Gt', ['4'])]) }), nodes: zoned, want: { a: 'ok', b: MISS, c: MISS } },
    { name: 'Lt compares integers', pod: pod('p', { affinity: requiredNodeAffinity([expr('cores', 'Lt', ['4'])]) }), nodes: zoned, want: { a: MISS, b: 'ok', c: MISS } },
    { name: 'Gt with a non-integer value matches nothing', pod: pod('p', { affinity: requiredNodeAffinity([expr('cores', 'Gt', ['x'])]) }), nodes: zoned, want: { a: MISS, b: MISS, c: MISS } },
    {
      name: 'expressions of a term are ANDed',
      pod: pod('p', { affinity: requiredNodeAffinity([expr('zone', 'In', ['z1', 'z2']), expr('disk', 'Exists')]) }),
      nodes: zoned,
      want: { a: 'ok', b: MISS, c: MISS },
    },
    {
      name: 'terms are ORed',
      pod: pod('p', { affinity: requiredNodeAffinity([expr('zone', 'In', ['z1'])], [expr('zone', 'DoesNotExist')]) }),
      nodes: zoned,
      want: { a: 'ok', b: MISS, c: 'ok' },
    },
    {
      name: 'an empty term list matches nothing',
      pod: pod('p', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } } }),
      nodes: zoned,
      want: { a: MISS, b: MISS, c: MISS },
    },
    {
      name: 'matchFields on metadata.name',
      pod: pod('p', { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [expr('metadata.name', 'In', ['b'])] }] } } } }),
      nodes: zoned,
      want: { a: MISS, b: 'ok', c: MISS },
    },
    {
      name: 'nodeSelector and affinity must both match',
      pod: pod('p', { nodeSelector: { zone: 'z1' }, affinity: requiredNodeAffinity([expr('zone', 'In', ['z2'])]) }),
      nodes: zoned,
      want: { a: MISS, b: MISS, c: MISS },
    },
  ]);

  it('scores preferred terms by weight, normalized to 100', () => {
    const p = pod('p', {
      affinity: {
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 2, preference: { matchExpressions: [expr('zone', 'In', ['z1'])] } },
            { weight: 8, preference: { matchExpressions: [expr('zone', 'In', ['z2'])] } },
            { weight: 2, preference: { matchExpressions: [expr('cores', 'Exists')] } },
          ],
        },
      },
    });
    // a: 2 + 2 = 4, b: 8 + 2 = 10, c: 0 => 40, 100, 0.
    expect(scoreAll(NodeAffinity, p, setup(zoned))).toEqual({ a: 40, b: 100, c: 0 });
  });
});

describe('TaintToleration', () => {
  const gpu = node('g', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] });
  const plain = node('p');
  filterTable(TaintToleration, [
    { name: 'an untolerated NoSchedule taint repels', pod: pod('x'), nodes: [gpu, plain], want: { g: 'node(s) had untolerated taint {dedicated: gpu}', p: 'ok' } },
    { name: 'Equal toleration with the same value', pod: pod('x', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] }), nodes: [gpu], want: { g: 'ok' } },
    { name: 'operator defaults to Equal', pod: pod('x', { tolerations: [{ key: 'dedicated', value: 'gpu' }] }), nodes: [gpu], want: { g: 'ok' } },
    { name: 'a different value does not tolerate', pod: pod('x', { tolerations: [{ key: 'dedicated', value: 'cpu' }] }), nodes: [gpu], want: { g: 'node(s) had untolerated taint {dedicated: gpu}' } },
    { name: 'Exists with no key tolerates everything', pod: pod('x', { tolerations: [{ operator: 'Exists' }] }), nodes: [gpu], want: { g: 'ok' } },
    {
      name: 'a toleration for another effect does not tolerate',
      pod: pod('x', { tolerations: [{ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }] }),
      nodes: [gpu],
      want: { g: 'node(s) had untolerated taint {dedicated: gpu}' },
    },
    { name: 'NoExecute repels too', pod: pod('x'), nodes: [node('e', { taints: [{ key: 'k', effect: 'NoExecute' }] })], want: { e: 'node(s) had untolerated taint {k: }' } },
    { name: 'PreferNoSchedule does not filter', pod: pod('x'), nodes: [node('s', { taints: [{ key: 'k', value: 'v', effect: 'PreferNoSchedule' }] })], want: { s: 'ok' } },
    {
      name: 'a node that is not Ready has the not-ready taint',
      pod: pod('x'),
      nodes: [node('nr', { ready: 'False' }), node('u', { ready: 'Unknown' })],
      want: { nr: 'node(s) had untolerated taint {node.kubernetes.io/not-ready: }', u: 'node(s) had untolerated taint {node.kubernetes.io/unreachable: }' },
    },
    {
      name: 'a pod tolerating not-ready may go there',
      pod: pod('x', { tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoSchedule' }] }),
      nodes: [node('nr', { ready: 'False' })],
      want: { nr: 'ok' },
    },
  ]);

  it('scores fewer intolerable PreferNoSchedule taints higher', () => {
    const nodes = [
      node('none'),
      node('one', { taints: [{ key: 'a', effect: 'PreferNoSchedule' }] }),
      node('two', { taints: [{ key: 'a', effect: 'PreferNoSchedule' }, { key: 'b', effect: 'PreferNoSchedule' }] }),
    ];
    expect(scoreAll(TaintToleration, pod('x'), setup(nodes))).toEqual({ none: 100, one: 50, two: 0 });
    expect(scoreAll(TaintToleration, pod('x', { tolerations: [{ key: 'a', operator: 'Exists', effect: 'PreferNoSchedule' }] }), setup(nodes))).toEqual({ none: 100, one: 100, two: 0 });
  });
});

describe('NodePorts', () => {
  filterTable(NodePorts, [
    { name: 'a used host port conflicts', pod: pod('p', { hostPort: 8080 }), nodes: [node('n1'), node('n2')], pods: [on('n1', 'a', { hostPort: 8080 })], want: { n1: "node(s) didn't have free ports for the requested pod ports", n2: 'ok' } },
    { name: 'another port is free', pod: pod('p', { hostPort: 8081 }), nodes: [node('n1')], pods: [on('n1', 'a', { hostPort: 8080 })], want: { n1: 'ok' } },
  ]);
});

describe('InterPodAffinity filter', () => {
  const zones = [node('a1', { labels: { zone: 'a' } }), node('a2', { labels: { zone: 'a' } }), node('b1', { labels: { zone: 'b' } }), node('nozone')];
  const term = (labels: Record<string, string>, topologyKey: string, extra: Record<string, unknown> = {}) => ({ labelSelector: { matchLabels: labels }, topologyKey, ...extra });
  const affinity = (t: ReturnType<typeof term>) => ({ podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [t] } });
  const anti = (t: ReturnType<typeof term>) => ({ podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [t] } });
  const AFF = "node(s) didn't match pod affinity rules";
  const ANTI = "node(s) didn't match pod anti-affinity rules";
  const EXISTING = "node(s) didn't satisfy existing pods anti-affinity rules";
  filterTable(InterPodAffinity, [
    {
      name: 'required affinity: same topology domain as a matching pod',
      pod: pod('p', { affinity: affinity(term({ app: 'db' }, 'zone')) }),
      nodes: zones,
      pods: [on('a2', 'db', { labels: { app: 'db' } })],
      want: { a1: 'ok', a2: 'ok', b1: AFF, nozone: AFF },
    },
    {
      name: 'required affinity: hostname topology',
      pod: pod('p', { affinity: affinity(term({ app: 'db' }, 'kubernetes.io/hostname')) }),
      nodes: zones,
      pods: [on('a2', 'db', { labels: { app: 'db' } })],
      want: { a1: AFF, a2: 'ok', b1: AFF, nozone: AFF },
    },
    {
      name: 'required affinity: the first pod of a self-selecting group may go where the key exists',
      pod: pod('p', { labels: { app: 'web' }, affinity: affinity(term({ app: 'web' }, 'zone')) }),
      nodes: zones,
      want: { a1: 'ok', a2: 'ok', b1: 'ok', nozone: AFF },
    },
    {
      name: 'required affinity: pods of other namespaces do not count',
      pod: pod('p', { affinity: affinity(term({ app: 'db' }, 'zone')) }),
      nodes: zones,
      pods: [on('a2', 'db', { ns: 'other', labels: { app: 'db' } })],
      want: { a1: AFF, a2: AFF, b1: AFF, nozone: AFF },
    },
    {
      name: 'required affinity: unless the term names the namespace',
      pod: pod('p', { affinity: affinity(term({ app: 'db' }, 'zone', { namespaces: ['other'] })) }),
      nodes: zones,
      pods: [on('a2', 'db', { ns: 'other', labels: { app: 'db' } })],
      want: { a1: 'ok', a2: 'ok', b1: AFF, nozone: AFF },
    },
    {
      name: 'required anti-affinity: no matching pod in the domain',
      pod: pod('p', { affinity: anti(term({ app: 'web' }, 'zone')) }),
      nodes: zones,
      pods: [on('a1', 'w', { labels: { app: 'web' } })],
      want: { a1: ANTI, a2: ANTI, b1: 'ok', nozone: 'ok' },
    },
    {
      name: 'existing pods anti-affinity is symmetric',
      pod: pod('p', { labels: { app: 'web' } }),
      nodes: zones,
      pods: [on('b1', 'w', { labels: { app: 'other' }, affinity: anti(term({ app: 'web' }, 'kubernetes.io/hostname')) })],
      want: { a1: 'ok', a2: 'ok', b1: EXISTING, nozone: 'ok' },
    },
  ]);

  it('scores preferred affinity and anti-affinity by weight, min-max normalized', () => {
    const p = pod('p', {
      affinity: {
        podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: term({ app: 'db' }, 'zone') }] },
        podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, podAffinityTerm: term({ app: 'web' }, 'kubernetes.io/hostname') }] },
      },
    });
    const s = setup(zones, [on('a1', 'db', { labels: { app: 'db' } }), on('a2', 'web', { labels: { app: 'web' } })]);
    // a1: +10, a2: +10 - 5 = 5, b1: 0, nozone: 0 => (x - 0) / 10 * 100.
    expect(scoreAll(InterPodAffinity, p, s)).toEqual({ a1: 100, a2: 50, b1: 0, nozone: 0 });
  });

  it('scores nothing when no pod has affinity', () => {
    expect(scoreAll(InterPodAffinity, pod('p'), setup(zones, [on('a1', 'x')]))).toEqual({ a1: 0, a2: 0, b1: 0, nozone: 0 });
  });
});

describe('SelectorSpread', () => {
  it('spreads a controller’s pods: fewer siblings score higher', () => {
    const s = setup([node('n1'), node('n2'), node('n3')], [on('n1', 'a', { owner: 'rs' }), on('n1', 'b', { owner: 'rs' }), on('n2', 'c', { owner: 'rs' }), on('n3', 'x', { owner: 'other' })]);
    expect(scoreAll(SelectorSpread, pod('p', { owner: 'rs' }), s)).toEqual({ n1: 0, n2: 50, n3: 100 });
  });

  it('weighs zones two thirds', () => {
    const s = setup([node('a1', { labels: { 'topology.kubernetes.io/zone': 'a' } }), node('a2', { labels: { 'topology.kubernetes.io/zone': 'a' } }), node('b1', { labels: { 'topology.kubernetes.io/zone': 'b' } })], [on('a1', 'x', { owner: 'rs' })]);
    // a1: node 0, zone 0 => 0; a2: node 100, zone 0 => 33; b1: node 100, zone 100 => 100.
    expect(scoreAll(SelectorSpread, pod('p', { owner: 'rs' }), s)).toEqual({ a1: 0, a2: 33, b1: 100 });
  });

  it('leaves pods without a controller alone', () => {
    expect(scoreAll(SelectorSpread, pod('p'), setup([node('n1'), node('n2')], [on('n1', 'a')]))).toEqual({ n1: 0, n2: 0 });
  });
});

describe('PodTopologySpread', () => {
  const zones = [node('a1', { labels: { zone: 'a' } }), node('a2', { labels: { zone: 'a' } }), node('b1', { labels: { zone: 'b' } }), node('nozone')];
  const constraint = (whenUnsatisfiable: string, maxSkew = 1) => [{ maxSkew, topologyKey: 'zone', whenUnsatisfiable, labelSelector: { matchLabels: { app: 'web' } } }];
  filterTable(PodTopologySpread, [
    {
      name: 'DoNotSchedule: skew over maxSkew fails',
      pod: pod('p', { labels: { app: 'web' }, topologySpreadConstraints: constraint('DoNotSchedule') }),
      nodes: zones,
      pods: [on('a1', 'w1', { labels: { app: 'web' } })],
      want: { a1: "node(s) didn't match pod topology spread constraints", a2: "node(s) didn't match pod topology spread constraints", b1: 'ok', nozone: "node(s) didn't match pod topology spread constraints (missing required label)" },
    },
    {
      name: 'DoNotSchedule: maxSkew 2 allows it',
      pod: pod('p', { labels: { app: 'web' }, topologySpreadConstraints: constraint('DoNotSchedule', 2) }),
      nodes: zones.slice(0, 3),
      pods: [on('a1', 'w1', { labels: { app: 'web' } })],
      want: { a1: 'ok', a2: 'ok', b1: 'ok' },
    },
  ]);

  it('ScheduleAnyway scores emptier domains higher', () => {
    const s = setup(zones.slice(0, 3), [on('a1', 'w1', { labels: { app: 'web' } }), on('a2', 'w2', { labels: { app: 'web' } })]);
    const scores = scoreAll(PodTopologySpread, pod('p', { labels: { app: 'web' }, topologySpreadConstraints: constraint('ScheduleAnyway') }), s);
    expect(scores.b1).toBe(100);
    expect(scores.a1).toBeLessThan(scores.b1 as number);
  });
});
