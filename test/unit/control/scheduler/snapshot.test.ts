import { describe, expect, it } from 'vitest';
import { InterPodAffinity, SelectorSpread, type Plugin } from '../../../../control/scheduler/plugins/index.js';
import { podNonZeroRequests, podRequests } from '../../../../control/scheduler/resources.js';
import { Snapshot, resolvePriority } from '../../../../control/scheduler/snapshot.js';
import type { SchedPod } from '../../../../control/scheduler/types.js';
import { ctxFor, node, on, pod } from './fixtures.js';

/** mulberry32: a small seeded generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomPod(r: () => number, name: string, nodeName?: string): SchedPod {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const term = () => ({ labelSelector: { matchLabels: { app: pick(['a', 'b', 'c']) } }, topologyKey: pick(['kubernetes.io/hostname', 'zone']) });
  const affinity: Record<string, unknown> = {};
  if (r() < 0.3) affinity.podAntiAffinity = { requiredDuringSchedulingIgnoredDuringExecution: [term()] };
  if (r() < 0.2) affinity.podAffinity = { requiredDuringSchedulingIgnoredDuringExecution: [term()] };
  if (r() < 0.3) affinity.podAntiAffinity = { ...((affinity.podAntiAffinity as object) ?? {}), preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1 + Math.floor(r() * 10), podAffinityTerm: term() }] };
  if (r() < 0.3) affinity.podAffinity = { ...((affinity.podAffinity as object) ?? {}), preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1 + Math.floor(r() * 10), podAffinityTerm: term() }] };
  return pod(name, { labels: { app: pick(['a', 'b', 'c']) }, ns: pick(['default', 'default', 'other']), owner: pick(['rs1', 'rs2', undefined]), affinity, ...(nodeName ? { nodeName } : {}) });
}

function evaluate(plugin: Plugin, p: SchedPod, s: Snapshot): unknown {
  const ctx = ctxFor(p, s);
  plugin.preFilter?.(ctx);
  const nodes = s.nodeList();
  const filters = plugin.filter ? nodes.map((n) => plugin.filter!(ctx, n)) : [];
  ctx.state.set('feasibleNodes', nodes);
  plugin.preScore?.(ctx, nodes);
  const scores = nodes.map((n) => plugin.score!(ctx, n));
  plugin.normalizeScores?.(ctx, scores);
  return { filters, scores };
}

function unindexed(s: Snapshot): Snapshot {
  const view = Object.create(s) as Snapshot;
  Object.defineProperty(view, 'indexed', { value: false });
  return view;
}

describe('snapshot indexes', () => {
  it('affinity and spreading decide the same from the indexes as from walking every pod', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const r = rng(seed);
      const nodes = Array.from({ length: 6 }, (_, i) => node(`n${i}`, { labels: { zone: `z${i % 2}` } }));
      const s = Snapshot.from({ nodes });
      const placed: SchedPod[] = [];
      for (let i = 0; i < 40; i++) {
        const p = randomPod(r, `e${i}`, `n${Math.floor(r() * 6)}`);
        placed.push(p);
        s.setPod(p);
      }
      // Remove and move some, so the indexes are decremented too.
      for (const p of placed.slice(0, 10)) s.removePod(`${p.metadata.namespace}/${p.metadata.name}`);
      for (const p of placed.slice(10, 15)) s.setPod({ ...p, spec: { ...p.spec, nodeName: 'n0' } });
      s.removeNode('n5');
      for (let i = 0; i < 10; i++) {
        const incoming = randomPod(r, `in${i}`);
        for (const plugin of [InterPodAffinity, SelectorSpread]) {
          expect(evaluate(plugin, incoming, s), `seed ${seed} pod ${i} ${plugin.name}`).toEqual(evaluate(plugin, incoming, unindexed(s)));
        }
      }
    }
  });

  it('tracks requests as pods come, move and go', () => {
    const s = Snapshot.from({ nodes: [node('n1'), node('n2')] });
    s.setPod(on('n1', 'a', { cpu: '1', memory: '1Gi' }));
    s.setPod(on('n1', 'b', { cpu: '500m' }));
    expect(s.nodes.get('n1')!.requested).toEqual({ cpu: 1500, memory: 1024 ** 3 });
    s.setPod(on('n2', 'a', { cpu: '1', memory: '1Gi' }));
    expect(s.nodes.get('n1')!.requested).toEqual({ cpu: 500, memory: 0 });
    expect(s.nodes.get('n2')!.requested).toEqual({ cpu: 1000, memory: 1024 ** 3 });
    s.removePod('default/b');
    expect(s.nodes.get('n1')!.pods.size).toBe(0);
  });

  it('keeps pods of an unknown node until the node appears', () => {
    const s = new Snapshot();
    s.setPod(on('later', 'a', { cpu: '1' }));
    s.setNode(node('later'));
    expect(s.nodes.get('later')!.requested.cpu).toBe(1000);
  });
});

describe('resources', () => {
  it('sidecars add up, init containers take their peak', () => {
    const p = pod('p', { cpu: '1' });
    p.spec!.initContainers = [
      { name: 'side', restartPolicy: 'Always', resources: { requests: { cpu: '500m' } } },
      { name: 'init', resources: { requests: { cpu: '2', memory: '1Gi' } } },
    ];
    // Running: 1 + 0.5; the init container runs beside the sidecar: 0.5 + 2 = 2.5.
    expect(podRequests(p)).toEqual({ cpu: 2500, memory: 1024 ** 3 });
  });

  it('non-zero requests default cpu and memory for scoring', () => {
    expect(podNonZeroRequests(pod('p'))).toEqual({ cpu: 100, memory: 200 * 1024 * 1024 });
    expect(podNonZeroRequests(pod('p', { cpu: '2' }))).toEqual({ cpu: 2000, memory: 200 * 1024 * 1024 });
  });

  it('priority: spec.priority, then the class, then the global default', () => {
    const lookup = { classes: new Map([['high', { metadata: { name: 'high' }, value: 1000 }]]), globalDefault: { metadata: { name: 'd' }, value: 7, globalDefault: true } };
    expect(resolvePriority(pod('p', { priority: 3, priorityClassName: 'high' }), lookup)).toBe(3);
    expect(resolvePriority(pod('p', { priorityClassName: 'high' }), lookup)).toBe(1000);
    expect(resolvePriority(pod('p'), lookup)).toBe(7);
    expect(resolvePriority(pod('p'))).toBe(0);
  });
});
