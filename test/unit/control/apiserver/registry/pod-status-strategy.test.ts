import { describe, expect, it } from 'vitest';
import { strategyFor } from '../../../../../control/apiserver/registry/index.js';
import type { Prepared } from '../../../../../control/apiserver/registry/strategy.js';
import type { KubeObject } from '../../../../../control/apiserver/storage/object-storage.js';
import { ctx, def, freshRest, rejection } from './fixture.js';

/**
 * A pods/status write keeps the stored metadata and spec (the REST layer copies them), so the pod strategy decodes
 * only the new status. These tests hold it to the full decode: the same object, built from deep copies of the
 * metadata and spec (which takes the general path), must give the same result, byte for byte, with the same
 * warnings and errors.
 */
const pods = def('pods');
const strategy = strategyFor(pods);

async function storedPod(spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): Promise<KubeObject> {
  const { rest } = freshRest();
  await rest.create(def('namespaces'), ctx(), { metadata: { name: 'ns' } });
  const created = await rest.create(pods, ctx('ns'), {
    metadata: { name: 'p', labels: { b: '2', a: '1' }, annotations: { note: 'x' }, ...meta },
    spec: { containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu: '10m' } } }], tolerations: [{ key: 'k', operator: 'Exists' }], ...spec },
  });
  return (await rest.get(pods, ctx('ns'), created.metadata.name ?? '')) as KubeObject;
}

/** What replace() hands the strategy for a status write: the stored object with the new status. */
const statusWrite = (current: KubeObject, status: unknown): KubeObject => ({ ...current, status, metadata: { ...current.metadata } });

const deepCopy = (o: KubeObject): KubeObject => ({ ...o, metadata: structuredClone(o.metadata), spec: structuredClone(o.spec) });

const text = (p: Prepared): string => JSON.stringify(p);

describe('pod status writes', () => {
  const statuses: Array<[string, unknown]> = [
    ['a condition with nulls', { phase: 'Pending', qosClass: 'Burstable', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: 'no nodes', lastProbeTime: null, lastTransitionTime: '2026-01-01T00:00:00Z' }] }],
    ['no qosClass (backfilled from the stored pod)', { phase: 'Running', podIP: '10.0.0.5' }],
    ['an unknown field', { phase: 'Running', bogus: 1, containerStatuses: [{ name: 'c', ready: true, restartCount: 0, image: 'nginx', imageID: '', extra: 'x' }] }],
    ['a status that does not decode', { phase: 5, conditions: 'nope' }],
    ['no status at all', undefined],
  ];
  for (const [what, status] of statuses) {
    for (const strict of [false, true]) {
      it(`decodes as the full decode does: ${what}${strict ? ' (Strict)' : ''}`, async () => {
        const current = await storedPod();
        const fast = strategy.prepareUpdate(statusWrite(current, status), current, ctx('ns', strict));
        const full = strategy.prepareUpdate(deepCopy(statusWrite(current, status)), current, ctx('ns', strict));
        expect(text(fast)).toBe(text(full));
      });
    }
  }

  it('warns about unknown status fields and keeps the status as sent', async () => {
    const current = await storedPod();
    const status = { phase: 'Running', bogus: 1, conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null }] };
    const prepared = strategy.prepareUpdate(statusWrite(current, status), current, ctx('ns', false));
    expect(prepared.ok).toBe(true);
    if (!prepared.ok) return;
    expect(prepared.warnings).toEqual(['unknown field "status.bogus"']);
    expect(prepared.obj.status).toEqual({ ...status, qosClass: 'Burstable' });
    expect(prepared.obj.spec).toEqual(current.spec);
  });

  it('refuses a status that does not decode, naming the field', async () => {
    const current = await storedPod();
    const prepared = strategy.prepareUpdate(statusWrite(current, { phase: 5 }), current, ctx('ns', false));
    expect(prepared.ok).toBe(false);
    if (prepared.ok) return;
    expect(prepared.errors.map((e) => e.field)).toEqual(['status.phase']);
  });

  describe('onto a stored pod that no longer validates (as upstream ValidatePodStatusUpdate: the status alone)', () => {
    // A stored pod no server of today would accept (written by an older one, say).
    const brokenPod = async (): Promise<KubeObject> => {
      const current = await storedPod();
      return { ...current, spec: { ...(current.spec as Record<string, unknown>), restartPolicy: 'Sometimes' } };
    };

    it('takes a valid status and keeps the stored spec as it is', async () => {
      const broken = await brokenPod();
      const prepared = strategy.prepareUpdate(statusWrite(broken, { phase: 'Running', podIP: '10.0.0.7' }), broken, ctx('ns', false));
      expect(prepared.ok).toBe(true);
      if (!prepared.ok) return;
      expect(prepared.obj.spec).toBe(broken.spec);
      expect(prepared.obj.metadata).toEqual(broken.metadata);
      // The QoS class is backfilled from the stored status, as for any status write.
      expect(prepared.obj.status).toEqual({ phase: 'Running', podIP: '10.0.0.7', qosClass: 'Burstable' });
    });

    it('refuses a status that does not decode, naming the field', async () => {
      const broken = await brokenPod();
      const prepared = strategy.prepareUpdate(statusWrite(broken, { phase: 5 }), broken, ctx('ns', false));
      expect(prepared.ok).toBe(false);
      if (prepared.ok) return;
      expect(prepared.errors.map((e) => e.field)).toEqual(['status.phase']);
    });

    it('warns about unknown status fields, and refuses them under Strict', async () => {
      const broken = await brokenPod();
      const status = { phase: 'Running', bogus: 1 };
      const warned = strategy.prepareUpdate(statusWrite(broken, status), broken, ctx('ns', false));
      expect(warned.ok && warned.warnings).toEqual(['unknown field "status.bogus"']);
      const strict = strategy.prepareUpdate(statusWrite(broken, status), broken, ctx('ns', true));
      expect(strict.ok).toBe(false);
      if (strict.ok) return;
      expect(strict.errors.map((e) => e.field)).toEqual(['status.bogus']);
    });

    it('still refuses an update of the pod itself (a new spec object) by the create rules', async () => {
      const broken = await brokenPod();
      const prepared = strategy.prepareUpdate(deepCopy(statusWrite(broken, { phase: 'Running' })), broken, ctx('ns', false));
      expect(prepared.ok).toBe(false);
      if (prepared.ok) return;
      expect(prepared.errors.map((e) => e.field)).toContain('spec.restartPolicy');
    });
  });

  it('takes the general path when anything but the status changed', async () => {
    const current = await storedPod();
    const relabelled: KubeObject = { ...current, metadata: { ...current.metadata, labels: { a: '1' } }, status: { phase: 'Running' } };
    const prepared = strategy.prepareUpdate(relabelled, current, ctx('ns', false));
    expect(prepared.ok && prepared.obj.metadata.labels).toEqual({ a: '1' });
    const respecced: KubeObject = { ...current, spec: { ...(current.spec as Record<string, unknown>), activeDeadlineSeconds: 5 }, status: { phase: 'Running' } };
    const changed = strategy.prepareUpdate(respecced, current, ctx('ns', false));
    expect(changed.ok && (changed.obj.spec as { activeDeadlineSeconds?: number }).activeDeadlineSeconds).toBe(5);
  });
});

describe('pods/status through the REST layer onto a stored pod that no longer validates', () => {
  it('stores the new status and keeps the stored spec; a write of the pod itself is still refused', async () => {
    const { store, rest } = freshRest();
    await rest.create(def('namespaces'), ctx(), { metadata: { name: 'ns' } });
    await rest.create(pods, ctx('ns'), { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
    // What an older server might have written: a restartPolicy today's validation refuses.
    const key = '/registry/pods/ns/p';
    const stored = JSON.parse((await store.range({ key })).kvs[0]?.value ?? 'null') as { spec: Record<string, unknown> };
    stored.spec.restartPolicy = 'Sometimes';
    await store.put(key, JSON.stringify(stored));

    const updated = await rest.update(pods, ctx('ns'), 'p', { metadata: { name: 'p' }, status: { phase: 'Running', podIP: '10.0.0.9' } }, 'status');
    expect((updated.status as { phase?: string; podIP?: string }).phase).toBe('Running');
    expect((updated.spec as { restartPolicy?: string }).restartPolicy).toBe('Sometimes');
    const read = (await rest.get(pods, ctx('ns'), 'p')) as KubeObject;
    expect((read.status as { podIP?: string }).podIP).toBe('10.0.0.9');

    const message = await rejection(rest.update(pods, ctx('ns'), 'p', { ...read, metadata: { ...read.metadata, labels: { a: '1' } } }));
    expect(message).toContain('spec.restartPolicy');
  });
});
