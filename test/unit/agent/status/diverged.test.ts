import { describe, expect, it } from 'vitest';
import { statusDiverged } from '../../../../agent/status/diverged.js';
import type { PodStatus } from '../../../../control/api/index.js';

const T0 = '2026-01-01T00:00:00Z';
const T1 = '2026-01-01T00:01:00Z';

/** A running, ready pod as the agent writes it. */
const wanted = (): PodStatus => ({
  phase: 'Running',
  hostIP: '127.0.0.1',
  podIP: '10.244.0.5',
  startTime: T0,
  conditions: [
    { type: 'Initialized', status: 'True', lastTransitionTime: T0 },
    { type: 'Ready', status: 'True', lastTransitionTime: T0 },
    { type: 'ContainersReady', status: 'True', lastTransitionTime: T0 },
  ],
  containerStatuses: [{ name: 'web', ready: true, started: true, restartCount: 1, image: 'skiff/web:1.0', imageID: '', containerID: 'docker://abc', state: { running: { startedAt: T0 } } }],
});

describe('statusDiverged (is the API server’s copy of a pod status still what the agent wrote?)', () => {
  it('is false for the same status, and for differences only in times or fields the agent does not compare', () => {
    expect(statusDiverged(wanted(), wanted())).toBe(false);
    const api = wanted();
    api.conditions = (api.conditions ?? []).map((c) => ({ ...c, lastTransitionTime: T1, lastProbeTime: null }));
    api.qosClass = 'BestEffort';
    // Conditions other components add (a disruption target) are theirs.
    api.conditions.push({ type: 'DisruptionTarget', status: 'True' });
    expect(statusDiverged(wanted(), api)).toBe(false);
  });

  it('is true when the node lifecycle controller marked the pod not ready (MarkPodsNotReady)', () => {
    const api = wanted();
    api.conditions = (api.conditions ?? []).map((c) => (c.type === 'Ready' ? { ...c, status: 'False', lastTransitionTime: T1 } : c));
    expect(statusDiverged(wanted(), api)).toBe(true);
  });

  it('is true when a condition the agent reports is missing, or the phase or pod IP differ', () => {
    expect(statusDiverged(wanted(), { ...wanted(), conditions: [] })).toBe(true);
    expect(statusDiverged(wanted(), { ...wanted(), phase: 'Pending' })).toBe(true);
    expect(statusDiverged(wanted(), { ...wanted(), podIP: '10.244.0.6' })).toBe(true);
    expect(statusDiverged(wanted(), {})).toBe(true);
  });

  it('is true when a container’s readiness, restart count, ID or state differ', () => {
    const change = (f: (s: NonNullable<PodStatus['containerStatuses']>[number]) => void): PodStatus => {
      const api = wanted();
      f((api.containerStatuses ?? [])[0] as NonNullable<PodStatus['containerStatuses']>[number]);
      return api;
    };
    expect(statusDiverged(wanted(), change((c) => (c.ready = false)))).toBe(true);
    expect(statusDiverged(wanted(), change((c) => (c.restartCount = 0)))).toBe(true);
    expect(statusDiverged(wanted(), change((c) => (c.containerID = 'docker://old')))).toBe(true);
    expect(statusDiverged(wanted(), change((c) => (c.state = { waiting: { reason: 'ContainerCreating' } })))).toBe(true);
    expect(statusDiverged(wanted(), { ...wanted(), containerStatuses: [] })).toBe(true);
    // The start time of the running state is a time: not compared.
    expect(statusDiverged(wanted(), change((c) => (c.state = { running: { startedAt: T1 } })))).toBe(false);
  });
});
