// The autoscaling strategies: v2 defaults stored, v1 objects defaulted and validated through v2.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseSelection, Rest, selects } from '../../../../../control/apiserver/rest.js';
import type { MemoryStore } from '../../../../../control/store/index.js';
import { ctx, def, freshRest, rejection } from './fixture.js';

let store: MemoryStore;
let rest: Rest;
beforeEach(() => {
  ({ store, rest } = freshRest());
});
afterEach(async () => {
  await store.close();
});

const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' };

describe('HorizontalPodAutoscaler strategy', () => {
  it('stores v2 defaults', async () => {
    const hpas = def('horizontalpodautoscalers', 'autoscaling', 'v2');
    const created = await rest.create(hpas, ctx('default'), { metadata: { name: 'web' }, spec: { scaleTargetRef: ref, maxReplicas: 3 } });
    expect(created.apiVersion).toBe('autoscaling/v2');
    expect(created.spec).toEqual({
      scaleTargetRef: ref,
      minReplicas: 1,
      maxReplicas: 3,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }],
    });
    expect(created.status).toEqual({ desiredReplicas: 0 });
  });

  it('serves v1 with v1 fields, defaulted and validated through v2', async () => {
    const v1 = def('horizontalpodautoscalers', 'autoscaling', 'v1');
    const created = await rest.create(v1, ctx('default'), { metadata: { name: 'web' }, spec: { scaleTargetRef: ref, maxReplicas: 3 } });
    expect(created.apiVersion).toBe('autoscaling/v1');
    expect(created.spec).toEqual({ scaleTargetRef: ref, minReplicas: 1, maxReplicas: 3, targetCPUUtilizationPercentage: 80 });
    const updated = await rest.update(v1, ctx('default'), 'web', { metadata: { name: 'web' }, spec: { scaleTargetRef: ref, maxReplicas: 6 } });
    expect(updated.spec).toEqual({ scaleTargetRef: ref, minReplicas: 1, maxReplicas: 6, targetCPUUtilizationPercentage: 80 });
    expect(updated.metadata.generation).toBe(2);
    expect(await rejection(rest.update(v1, ctx('default'), 'web', { metadata: { name: 'web' }, spec: { scaleTargetRef: ref, maxReplicas: 0 } }))).toBe(
      'HorizontalPodAutoscaler.autoscaling "web" is invalid: [spec.maxReplicas: Invalid value: 0: must be greater than 0, spec.maxReplicas: Invalid value: 0: must be greater than or equal to `minReplicas`]',
    );
  });
});
