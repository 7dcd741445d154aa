// coordination.k8s.io/v1 Lease validation.
import { describe, expect, it } from 'vitest';
import { parseLease } from '../../../../../control/api/index.js';
import { lines } from '../apps/helpers.js';

const lease = (spec: Record<string, unknown>): any => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'node-1', namespace: 'kube-node-lease' }, spec });

describe('Lease', () => {
  it('accepts a node heartbeat lease', () => {
    expect(lines(parseLease(lease({ holderIdentity: 'node-1', leaseDurationSeconds: 40, renewTime: '2026-01-01T00:00:00.000000Z' })))).toEqual([]);
  });
  it.each([
    [{ leaseDurationSeconds: 0 }, ['spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0']],
    [{ leaseTransitions: -1 }, ['spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0']],
    [{ strategy: 'Newest' }, ['spec.strategy: Unsupported value: "Newest": supported values: "OldestEmulationVersion"']],
    [{ preferredHolder: 'a' }, ['spec.preferredHolder: Forbidden: may only be specified if `strategy` is defined']],
  ])('%j', (spec, want) => {
    expect(lines(parseLease(lease(spec)))).toEqual(want);
  });
});
