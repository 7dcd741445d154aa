import { describe, expect, it } from 'vitest';
import { normalizeDesiredReplicas, ScaleHistory, type Behavior } from '../../../../control/controllers/podautoscaler/normalize.js';
import { rawResourceReplicas, ReplicaCalcError, resourceReplicas, type PodMetric } from '../../../../control/controllers/podautoscaler/replica-calculator.js';
import type { Pod } from '../../../../control/controllers/objects.js';

const NOW = Date.parse('2026-11-30T12:00:00Z');
const iso = (ms: number): string => new Date(ms).toISOString();

/** A running, ready pod started long ago, requesting `cpu` (millicores). */
function pod(name: string, o: { cpu?: number; phase?: string; ready?: 'True' | 'False'; startedAgoMs?: number; readySinceAgoMs?: number; deleting?: boolean } = {}): Pod {
  const started = NOW - (o.startedAgoMs ?? 3_600_000);
  return {
    metadata: { name, namespace: 'default', ...(o.deleting ? { deletionTimestamp: iso(NOW) } : {}) },
    spec: { containers: [{ name: 'app', resources: { requests: { cpu: `${o.cpu ?? 100}m` } } }] },
    status: {
      phase: o.phase ?? 'Running',
      startTime: iso(started),
      conditions: [{ type: 'Ready', status: o.ready ?? 'True', lastTransitionTime: iso(NOW - (o.readySinceAgoMs ?? 3_500_000)) }],
    },
  } as Pod;
}

const metrics = (entries: Record<string, number>, atMs = NOW - 5000): Map<string, PodMetric> =>
  new Map(Object.entries(entries).map(([k, v]) => [k, { valueMilli: v * 1000, timestampMs: atMs, windowMs: 15_000 }]));

describe('HPA replica calculation (resource utilization)', () => {
  const calc = (pods: Pod[], usage: Record<string, number>, current = pods.length, target = 50) =>
    resourceReplicas({ currentReplicas: current, targetUtilization: target, resource: 'cpu', pods, metrics: metrics(usage), nowMs: NOW });

  it.each([
    // [usage per pod (millicores of a 100m request), target %, expected replicas] — desired = ceil(current * current% / target%)
    [[100, 100], 50, 4],
    [[25, 25], 50, 1],
    [[50, 50, 50], 50, 3],
    [[54, 54], 50, 2], // within the 10% tolerance: unchanged
    [[56, 56], 50, 3], // just outside it
    [[90, 10, 20], 50, 3],
    [[200, 200, 200, 200], 80, 10],
  ])('usage %j against a target of %i percent gives %i replicas', (usage, target, expected) => {
    const pods = usage.map((_u, i) => pod(`p${i}`));
    const r = calc(pods, Object.fromEntries(usage.map((u, i) => [`p${i}`, u / 1000])), pods.length, target);
    expect(r.replicas).toBe(expected);
  });

  it('reports the utilization and raw average it computed', () => {
    const r = calc([pod('a'), pod('b')], { a: 0.08, b: 0.04 });
    expect(r.utilization).toBe(60);
    expect(r.rawAverageMilli).toBe(60);
  });

  it('ignores deleted and failed pods, and treats pending pods as unready', () => {
    const pods = [pod('a'), pod('b'), pod('gone', { deleting: true }), pod('dead', { phase: 'Failed' }), pod('new', { phase: 'Pending' })];
    // Scaling down with an unready pod: unready pods only matter when scaling up.
    expect(calc(pods, { a: 0.025, b: 0.025, gone: 1, dead: 1 }, 5).replicas).toBe(1);
  });

  it('counts unready pods as idle when scaling up, and keeps the count when that flips the decision', () => {
    const pods = [pod('a'), pod('b', { phase: 'Pending' })];
    // a alone is at 150% of a 50% target (3x); with b at 0 the average is 75% (1.5x), still above: ceil(1.5 * 2) = 3
    expect(calc(pods, { a: 0.15 }, 2).replicas).toBe(3);
    // a at 60%: alone 1.2x, with b at 0: 0.6x — the direction flips, so nothing changes
    expect(calc(pods, { a: 0.06 }, 2).replicas).toBe(2);
  });

  it('assumes missing pods use their whole request when scaling down, nothing when scaling up', () => {
    const pods = [pod('a'), pod('b'), pod('c')];
    // Scaling down: c at 100% pulls the average to (10+10+100)/3 = 40% vs 50%: within... 0.8, outside tolerance: ceil(0.8*3)=3 == current
    expect(calc(pods, { a: 0.01, b: 0.01 }, 3).replicas).toBe(3);
    // Scaling up: c at 0: (100+100+0)/3 = 66% -> 1.33 x 3 = 4
    expect(calc(pods, { a: 0.1, b: 0.1 }, 3).replicas).toBe(4);
  });

  it('leaves out a starting pod whose sample predates a full window of readiness (cpu only)', () => {
    const fresh = pod('fresh', { startedAgoMs: 60_000, readySinceAgoMs: 10_000 });
    // fresh's sample is older than its ready transition + window: unready, so only "a" counts
    expect(calc([pod('a'), fresh], { a: 0.025, fresh: 1 }, 2).replicas).toBe(1);
  });

  it('fails clearly without pods, without samples, or without requests', () => {
    expect(() => calc([], {})).toThrow(/no pods returned by selector/);
    expect(() => calc([pod('a')], {})).toThrow(/did not receive metrics for targeted pods/);
    const noRequest = { ...pod('a'), spec: { containers: [{ name: 'app' }] } } as Pod;
    expect(() => calc([noRequest], { a: 0.1 })).toThrow(ReplicaCalcError);
    expect(() => calc([noRequest], { a: 0.1 })).toThrow(/missing request for cpu in container app of Pod a/);
  });

  it('scales on an average value target', () => {
    const pods = [pod('a'), pod('b')];
    const r = rawResourceReplicas({ currentReplicas: 2, targetAverageMilli: 100, resource: 'cpu', pods, metrics: metrics({ a: 0.3, b: 0.1 }), nowMs: NOW });
    expect(r.rawAverageMilli).toBe(200);
    expect(r.replicas).toBe(4);
  });
});

describe('HPA normalization without behavior (upstream defaults)', () => {
  const base = { minReplicas: 1, maxReplicas: 10, behavior: undefined, downscaleStabilizationMs: 300_000 };

  it('limits a scale-up to double (at least 4) and says so', () => {
    const h = new ScaleHistory();
    h.initialize(2, NOW);
    const r = normalizeDesiredReplicas(h, { ...base, currentReplicas: 2, desiredReplicas: 9, nowMs: NOW });
    expect(r.replicas).toBe(4);
    expect(r.conditions).toContainEqual({ type: 'ScalingLimited', status: 'True', reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' });
  });

  it('caps at maxReplicas and floors at minReplicas', () => {
    const h = new ScaleHistory();
    expect(normalizeDesiredReplicas(h, { ...base, currentReplicas: 8, desiredReplicas: 30, nowMs: NOW })).toMatchObject({ replicas: 10, conditions: expect.arrayContaining([expect.objectContaining({ reason: 'TooManyReplicas' })]) });
    const h2 = new ScaleHistory();
    expect(normalizeDesiredReplicas(h2, { ...base, minReplicas: 2, currentReplicas: 3, desiredReplicas: 1, nowMs: NOW }).replicas).toBe(2);
  });

  it('holds a scale-down for the stabilization window, then follows', () => {
    const h = new ScaleHistory();
    h.initialize(6, NOW);
    const held = normalizeDesiredReplicas(h, { ...base, currentReplicas: 6, desiredReplicas: 2, nowMs: NOW + 60_000 });
    expect(held.replicas).toBe(6);
    expect(held.conditions[0]).toMatchObject({ reason: 'ScaleDownStabilized' });
    const later = normalizeDesiredReplicas(h, { ...base, currentReplicas: 6, desiredReplicas: 2, nowMs: NOW + 400_000 });
    expect(later.replicas).toBe(2);
    expect(later.conditions[0]).toMatchObject({ reason: 'ReadyForNewScale' });
    expect(later.conditions[1]).toMatchObject({ status: 'False', reason: 'DesiredWithinRange' });
  });
});

describe('HPA normalization with behavior', () => {
  const behavior: Behavior = {
    scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] },
    scaleDown: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }] },
  };
  const base = { minReplicas: 1, maxReplicas: 100, behavior, downscaleStabilizationMs: 300_000 };

  it('allows the larger of the up policies per period, counting what was added in the period', () => {
    const h = new ScaleHistory();
    h.initialize(10, NOW);
    const first = normalizeDesiredReplicas(h, { ...base, currentReplicas: 10, desiredReplicas: 50, nowMs: NOW });
    expect(first.replicas).toBe(20); // 100% of 10 beats 4 pods
    h.recordScale(behavior, 10, 20, NOW);
    // Within the same 15 s period the budget is used up: the period started at 10.
    expect(normalizeDesiredReplicas(h, { ...base, currentReplicas: 20, desiredReplicas: 50, nowMs: NOW + 5000 }).replicas).toBe(20);
    expect(normalizeDesiredReplicas(h, { ...base, currentReplicas: 20, desiredReplicas: 50, nowMs: NOW + 20_000 }).replicas).toBe(40);
  });

  it('limits scale-down by percent per period and honours Disabled', () => {
    const h = new ScaleHistory();
    h.initialize(10, NOW);
    const r = normalizeDesiredReplicas(h, { ...base, currentReplicas: 10, desiredReplicas: 1, nowMs: NOW });
    expect(r.replicas).toBe(5);
    expect(r.conditions[1]).toMatchObject({ reason: 'ScaleDownLimit' });
    const off = new ScaleHistory();
    expect(normalizeDesiredReplicas(off, { ...base, behavior: { ...behavior, scaleDown: { selectPolicy: 'Disabled', policies: [] } }, currentReplicas: 10, desiredReplicas: 1, nowMs: NOW + 1 }).replicas).toBe(10);
  });

  it('stabilizes a scale-up with an up window: the lowest recent recommendation wins', () => {
    const h = new ScaleHistory();
    const slow: Behavior = { ...behavior, scaleUp: { ...behavior.scaleUp, stabilizationWindowSeconds: 60 } };
    h.initialize(3, NOW);
    const r = normalizeDesiredReplicas(h, { ...base, behavior: slow, currentReplicas: 3, desiredReplicas: 8, nowMs: NOW + 10_000 });
    expect(r.replicas).toBe(3);
    expect(r.conditions[0]).toMatchObject({ reason: 'ScaleUpStabilized' });
  });
});
