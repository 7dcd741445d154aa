import { describe, expect, it } from 'vitest';
import { countHealthy, expectedPodCount, failSafeStatus, pdbStatus, pendingDisruptions, type PodDisruptionBudget, type ScaleOf } from '../../../../control/controllers/disruption.js';
import type { Pod } from '../../../../control/controllers/objects.js';

const NOW = new Date('2026-01-01T00:10:00Z');

function pod(name: string, o: { ready?: boolean; owner?: string; deleting?: boolean } = {}): Pod {
  return {
    metadata: {
      name,
      namespace: 'default',
      labels: { app: 'web' },
      ...(o.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: o.owner, uid: o.owner, controller: true }] } : {}),
      ...(o.deleting ? { deletionTimestamp: NOW.toISOString() } : {}),
    },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
  };
}
const budget = (spec: PodDisruptionBudget['spec'], status?: PodDisruptionBudget['status']): PodDisruptionBudget => ({ metadata: { name: 'web', namespace: 'default', generation: 2 }, spec: { selector: { matchLabels: { app: 'web' } }, ...spec }, ...(status ? { status } : {}) });
const scales: Record<string, number> = { rs1: 4, rs2: 2 };
const scaleOf: ScaleOf = (p) => {
  const uid = p.metadata.ownerReferences?.[0]?.uid ?? '';
  return scales[uid] !== undefined ? { uid, scale: scales[uid] } : undefined;
};

describe('expectedPodCount', () => {
  const pods = [pod('a', { owner: 'rs1' }), pod('b', { owner: 'rs1' }), pod('c', { owner: 'rs2' })];
  const table: Array<{ name: string; spec: PodDisruptionBudget['spec']; want: { expectedCount: number; desiredHealthy: number } }> = [
    { name: 'minAvailable int: the pods themselves', spec: { minAvailable: 2 }, want: { expectedCount: 3, desiredHealthy: 2 } },
    { name: 'minAvailable percent: the controllers scale, rounded up', spec: { minAvailable: '50%' }, want: { expectedCount: 6, desiredHealthy: 3 } },
    { name: 'maxUnavailable int', spec: { maxUnavailable: 1 }, want: { expectedCount: 6, desiredHealthy: 5 } },
    { name: 'maxUnavailable percent rounds the unavailable up', spec: { maxUnavailable: '25%' }, want: { expectedCount: 6, desiredHealthy: 4 } },
    { name: 'maxUnavailable beyond the scale: zero desired', spec: { maxUnavailable: 10 }, want: { expectedCount: 6, desiredHealthy: 0 } },
    { name: 'neither: nothing', spec: {}, want: { expectedCount: 0, desiredHealthy: 0 } },
  ];
  for (const c of table) it(c.name, () => expect(expectedPodCount(budget(c.spec), pods, scaleOf)).toMatchObject(c.want));

  it('a pod whose controller cannot be found fails the percentage computation; unmanaged pods are reported', () => {
    expect(() => expectedPodCount(budget({ maxUnavailable: 1 }), [pod('x', { owner: 'gone' })], scaleOf)).toThrow('found no controllers for pod "x"');
    expect(expectedPodCount(budget({ maxUnavailable: 1 }), [pod('y')], scaleOf).unmanaged).toEqual(['y']);
    expect(expectedPodCount(budget({ minAvailable: 1 }), [pod('x', { owner: 'gone' })], scaleOf)).toMatchObject({ expectedCount: 1, desiredHealthy: 1 });
  });
});

describe('budget status', () => {
  it('counts ready pods that are not going, and allows the difference', () => {
    const pods = [pod('a'), pod('b'), pod('c', { ready: false }), pod('d', { deleting: true }), pod('e')];
    const pending = pendingDisruptions(budget({ minAvailable: 1 }, { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, disruptedPods: { e: '2026-01-01T00:09:00Z', d: '2026-01-01T00:09:00Z' } }), pods, NOW);
    expect(pending.pending).toEqual({ e: '2026-01-01T00:09:00Z' });
    expect(pending.recheckAt).toBe(Date.parse('2026-01-01T00:11:00Z'));
    expect(countHealthy(pods, pending.pending)).toBe(2);
    const s = pdbStatus(budget({ minAvailable: 1 }), { expectedCount: 5, desiredHealthy: 1, unmanaged: [] }, 2, pending.pending, NOW);
    expect(s).toMatchObject({ currentHealthy: 2, desiredHealthy: 1, expectedPods: 5, disruptionsAllowed: 1, observedGeneration: 2, disruptedPods: { e: '2026-01-01T00:09:00Z' } });
    expect(s.conditions?.[0]).toMatchObject({ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods' });
  });

  it('forgets evictions whose pods were not deleted within two minutes', () => {
    const p = pendingDisruptions(budget({ minAvailable: 1 }, { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, disruptedPods: { a: '2026-01-01T00:07:59Z' } }), [pod('a')], NOW);
    expect(p.pending).toEqual({});
    expect(p.expired).toEqual(['a']);
  });

  it('no expected pods or too few healthy: nothing allowed, InsufficientPods', () => {
    expect(pdbStatus(budget({ minAvailable: 0 }), { expectedCount: 0, desiredHealthy: 0, unmanaged: [] }, 3, {}, NOW).disruptionsAllowed).toBe(0);
    const s = pdbStatus(budget({ minAvailable: 3 }), { expectedCount: 3, desiredHealthy: 3, unmanaged: [] }, 2, {}, NOW);
    expect(s.disruptionsAllowed).toBe(0);
    expect(s.conditions?.[0]).toMatchObject({ status: 'False', reason: 'InsufficientPods' });
  });

  it('fail safe: zero allowed and SyncFailed with the error', () => {
    const s = failSafeStatus(budget({ maxUnavailable: 1 }, { disruptionsAllowed: 3, currentHealthy: 4, desiredHealthy: 1, expectedPods: 4 }), 'found no controllers for pod "x"', NOW);
    expect(s.disruptionsAllowed).toBe(0);
    expect(s.conditions?.[0]).toMatchObject({ type: 'DisruptionAllowed', status: 'False', reason: 'SyncFailed', message: 'found no controllers for pod "x"' });
  });
});
