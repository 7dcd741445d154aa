import { describe, expect, it } from 'vitest';
import { parseLabelSelector } from '../../../../control/api/selectors.js';
import type { Pod } from '../../../../control/controllers/objects.js';
import { claimPods, rankPodsForDeletion, reconcileReplicaSet, slowStartBatch } from '../../../../control/controllers/replicaset.js';

const NOW = new Date('2026-01-01T00:10:00Z');
const t = (min: number): string => new Date(Date.UTC(2026, 0, 1, 0, min)).toISOString().replace('.000', '');

interface PodOpts {
  node?: string;
  phase?: string;
  ready?: boolean;
  readyAt?: number;
  created?: number;
  restarts?: number;
  cost?: number;
  labels?: Record<string, string>;
  owner?: string;
  deleting?: boolean;
}

function pod(name: string, o: PodOpts = {}): Pod {
  return {
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      labels: o.labels ?? { app: 'web' },
      creationTimestamp: t(o.created ?? 0),
      ...(o.cost !== undefined ? { annotations: { 'controller.kubernetes.io/pod-deletion-cost': String(o.cost) } } : {}),
      ...(o.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: o.owner, controller: true }] } : {}),
      ...(o.deleting ? { deletionTimestamp: t(9) } : {}),
    },
    spec: { ...(o.node !== undefined ? { nodeName: o.node } : { nodeName: 'n1' }) },
    status: {
      phase: o.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: (o.ready ?? true) ? 'True' : 'False', lastTransitionTime: t(o.readyAt ?? 1) }],
      containerStatuses: [{ name: 'c', restartCount: o.restarts ?? 0 }],
    },
  };
}

describe('pod ranking for scale-down', () => {
  const cases: Array<{ what: string; pods: Pod[]; first: string }> = [
    { what: 'unscheduled before scheduled', pods: [pod('scheduled'), pod('unscheduled', { node: '', phase: 'Pending', ready: false })], first: 'unscheduled' },
    { what: 'pending before running', pods: [pod('running'), pod('pending', { phase: 'Pending' })], first: 'pending' },
    { what: 'unknown before running', pods: [pod('running'), pod('unknown', { phase: 'Unknown' })], first: 'unknown' },
    { what: 'not ready before ready', pods: [pod('ready'), pod('notready', { ready: false })], first: 'notready' },
    { what: 'lower deletion cost first', pods: [pod('costly', { cost: 10 }), pod('cheap', { cost: -5 })], first: 'cheap' },
    { what: 'doubled-up node first', pods: [pod('alone', { node: 'n2' }), pod('a', { node: 'n1', created: 1 }), pod('b', { node: 'n1', created: 1 })], first: 'a' },
    { what: 'ready for less time first', pods: [pod('old', { readyAt: 1 }), pod('fresh', { readyAt: 5 })], first: 'fresh' },
    { what: 'more restarts first', pods: [pod('stable'), pod('flappy', { restarts: 7 })], first: 'flappy' },
    { what: 'newer first', pods: [pod('older', { created: 1 }), pod('newer', { created: 3 })], first: 'newer' },
  ];
  for (const c of cases) {
    it(c.what, () => {
      expect(rankPodsForDeletion(c.pods)[0]?.metadata.name).toBe(c.first);
    });
  }

  it('orders a mixed set by every rule in turn', () => {
    const pods = [pod('ready-old', { readyAt: 1 }), pod('pending', { phase: 'Pending', ready: false }), pod('unscheduled', { node: '', phase: 'Pending', ready: false }), pod('notready', { ready: false }), pod('ready-new', { readyAt: 4 })];
    expect(rankPodsForDeletion(pods).map((p) => p.metadata.name)).toEqual(['unscheduled', 'pending', 'notready', 'ready-new', 'ready-old']);
  });
});

describe('reconcileReplicaSet', () => {
  const rs = (replicas: number, minReadySeconds = 0) => ({ replicas, minReadySeconds, templateLabels: { app: 'web' }, generation: 3 });
  const table: Array<{ what: string; replicas: number; pods: Pod[]; create: number; del: string[] }> = [
    { what: 'creates the missing pods', replicas: 3, pods: [pod('a')], create: 2, del: [] },
    { what: 'ignores terminating and finished pods when counting', replicas: 2, pods: [pod('a'), pod('gone', { deleting: true }), pod('done', { phase: 'Succeeded' })], create: 1, del: [] },
    { what: 'deletes the worst candidates first', replicas: 1, pods: [pod('good'), pod('bad', { ready: false }), pod('pending', { phase: 'Pending', ready: false })], create: 0, del: ['pending', 'bad'] },
    { what: 'does nothing at the right count', replicas: 2, pods: [pod('a'), pod('b')], create: 0, del: [] },
    { what: 'scales to zero', replicas: 0, pods: [pod('a'), pod('b')], create: 0, del: ['a', 'b'] },
  ];
  for (const c of table) {
    it(c.what, () => {
      const d = reconcileReplicaSet(rs(c.replicas), c.pods, NOW);
      expect(d.create).toBe(c.create);
      expect([...d.delete].sort()).toEqual([...c.del].sort());
      if (c.del.length) expect(d.delete).toEqual(c.del);
    });
  }

  it('caps creations at the burst size', () => {
    expect(reconcileReplicaSet(rs(1000), [], NOW).create).toBe(500);
  });

  it('reports replicas, labelled, ready and available counts and the observed generation', () => {
    const pods = [pod('a'), pod('b', { ready: false }), pod('c', { labels: { app: 'web', extra: 'x' } }), pod('d', { labels: { other: 'y' } }), pod('fresh', { readyAt: 9 })];
    const d = reconcileReplicaSet(rs(5, 120), pods, NOW);
    expect(d.status).toEqual({ replicas: 5, fullyLabeledReplicas: 4, readyReplicas: 4, availableReplicas: 3, observedGeneration: 3 });
  });
});

describe('claimPods', () => {
  const sel = parseLabelSelector('app=web');
  it('keeps its own, adopts matching orphans, releases what stopped matching, leaves others alone', () => {
    const pods = [pod('mine', { owner: 'me' }), pod('orphan'), pod('strayed', { owner: 'me', labels: { app: 'db' } }), pod('theirs', { owner: 'other' }), pod('orphan-deleting', { deleting: true }), pod('unrelated', { labels: { app: 'db' } })];
    const c = claimPods('me', false, sel, pods);
    expect(c.owned.map((p) => p.metadata.name)).toEqual(['mine']);
    expect(c.adopt.map((p) => p.metadata.name)).toEqual(['orphan']);
    expect(c.release.map((p) => p.metadata.name)).toEqual(['strayed']);
  });
  it('adopts and releases nothing while the owner is being deleted', () => {
    const c = claimPods('me', true, sel, [pod('orphan'), pod('strayed', { owner: 'me', labels: { app: 'db' } })]);
    expect(c.adopt).toEqual([]);
    expect(c.release).toEqual([]);
  });
});

describe('slowStartBatch', () => {
  it('grows batches 1, 2, 4 and stops after a failing batch', async () => {
    let calls = 0;
    const r = await slowStartBatch(10, 1, async () => {
      calls++;
      if (calls === 5) throw new Error('quota');
    });
    // Batches of 1, 2, then 4 (whose second call fails): 7 calls, 6 done.
    expect(calls).toBe(7);
    expect(r.done).toBe(6);
    expect((r.error as Error).message).toBe('quota');
  });
});
