import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../../../lib/log.js';
import { aggregatedDiscovery, negotiateAggregatedDiscovery } from '../../../../../control/apiserver/discovery/aggregated.js';
import { ensureSystemNamespaces } from '../../../../../control/apiserver/bootstrap.js';
import { ApiError } from '../../../../../control/apiserver/http/status.js';
import { findResource, type ResourceDef } from '../../../../../control/apiserver/resources.js';
import type { RequestContext } from '../../../../../control/apiserver/rest.js';
import { ApiServer } from '../../../../../control/apiserver/server.js';
import { MemoryStore } from '../../../../../control/store/index.js';

const R = (group: string, version: string, resource: string): ResourceDef => findResource(group, version, resource) as ResourceDef;
const pods = R('', 'v1', 'pods');
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function refusal(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected the request to be refused');
}

describe('REST semantics', () => {
  let store: MemoryStore;
  let server: ApiServer;
  const ctx = (extra: Partial<RequestContext> = {}): RequestContext => ({ namespace: 'default', strict: false, dryRun: false, now: new Date('2026-06-01T12:00:00Z'), warnings: [], ...extra });
  const pod = (name: string, spec: Json = {}): Json => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'skiff/web:1.0' }], ...spec } });
  const get = async (def: ResourceDef, name: string): Promise<Json> => (await server.rest.get(def, ctx(), name)) as Json;

  beforeEach(async () => {
    store = new MemoryStore();
    server = new ApiServer({ store, logger: silentLogger() });
    await ensureSystemNamespaces(server.rest);
  });
  afterEach(async () => {
    await server.close();
    await store.close();
  });

  describe('fieldValidation', () => {
    it('Strict: unknown fields are a 400 strict decoding error, ahead of validation errors', async () => {
      // Reported in the order the body has them.
      const body = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 's' }, spec: { foo: 1, containers: [{ name: 'c', image: '', bar: 2 }] } };
      const err = await refusal(server.rest.create(pods, ctx({ strict: true }), body));
      expect(err.code).toBe(400);
      expect(err.reason).toBe('BadRequest');
      expect(err.message).toBe('Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.foo", unknown field "spec.containers[0].bar"');
      const deploy = await refusal(server.rest.create(R('apps', 'v1', 'deployments'), ctx({ strict: true }), { metadata: { name: 'd' }, spec: { replicaz: 1 } }));
      expect(deploy.message).toBe('Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.replicaz"');
    });

    it('Warn over HTTP: Warning headers as upstream sends them, escaped to ASCII whatever the field names hold', async () => {
      const port = await server.listen(0);
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/namespaces/default/pods?fieldValidation=Warn`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(pod('odd', { 'colour\u0001ü': 1 })),
      });
      expect(res.status).toBe(201);
      expect(res.headers.get('warning')).toBe('299 - "unknown field \\"spec.colour\\u0001\\u00fc\\""');
    });

    it('Warn: the object is created and the unknown fields come back as warnings', async () => {
      const c = ctx();
      await server.rest.create(pods, c, pod('w', { foo: 1 }));
      expect(c.warnings).toEqual(['unknown field "spec.foo"']);
    });
  });

  describe('pod updates', () => {
    beforeEach(async () => {
      await server.rest.create(pods, ctx(), pod('web', { tolerations: [{ key: 'a', operator: 'Exists' }], activeDeadlineSeconds: 300 }));
    });
    const update = async (change: (p: Json) => void): Promise<Json> => {
      const body = structuredClone(await get(pods, 'web'));
      change(body);
      return (await server.rest.update(pods, ctx(), 'web', body)) as Json;
    };

    it('allow images, a shorter activeDeadlineSeconds and added tolerations', async () => {
      const updated = await update((p) => {
        p.spec.containers[0].image = 'skiff/web:2.0';
        p.spec.activeDeadlineSeconds = 100;
        p.spec.tolerations.push({ key: 'b', operator: 'Exists', effect: 'NoSchedule' });
      });
      expect(updated.spec.containers[0].image).toBe('skiff/web:2.0');
      expect(updated.spec.tolerations).toHaveLength(2);
    });

    it('refuse anything else with upstream message', async () => {
      const err = await refusal(update((p) => (p.spec.hostname = 'other')));
      expect(err.code).toBe(422);
      expect(err.message).toMatch(
        /^Pod "web" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers\[\*\].image`,`spec.initContainers\[\*\].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` \(only additions to existing tolerations\),`spec.terminationGracePeriodSeconds` \(allow it to be set to 1 if it was previously negative\)\n {2}core.PodSpec\{\n/,
      );
      expect(err.message).toContain('+ \tHostname: "other",');
      expect((await refusal(update((p) => p.spec.containers.push({ name: 'd', image: 'x' })))).message).toBe('Pod "web" is invalid: spec.containers: Forbidden: pod updates may not add or remove containers');
      expect((await refusal(update((p) => (p.spec.activeDeadlineSeconds = 400)))).message).toBe('Pod "web" is invalid: spec.activeDeadlineSeconds: Invalid value: 400: must be less than or equal to previous value');
      expect((await refusal(update((p) => (p.spec.tolerations = [{ key: 'z', operator: 'Exists' }])))).message).toBe('Pod "web" is invalid: spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds');
    });

    it('leave status writes alone', async () => {
      const current = await get(pods, 'web');
      const written = (await server.rest.update(pods, ctx(), 'web', { ...current, status: { ...current.status, phase: 'Running' } }, 'status')) as Json;
      expect(written.status.phase).toBe('Running');
    });
  });

  describe('graceful deletion of a pod already terminating', () => {
    beforeEach(async () => {
      await server.rest.create(pods, ctx(), pod('gd', { nodeName: 'n1' }));
    });

    it('is answered with the object and no write unless the grace period gets shorter', async () => {
      const first = await server.rest.delete(pods, ctx(), 'gd', {});
      expect(first.finished).toBe(false);
      expect(first.obj.metadata.deletionGracePeriodSeconds).toBe(30);
      expect(first.obj.metadata.deletionTimestamp).toBe('2026-06-01T12:00:30Z');
      const later = { ...ctx(), now: new Date('2026-06-01T12:00:10Z') };
      const again = await server.rest.delete(pods, later, 'gd', { gracePeriodSeconds: 60, propagationPolicy: 'Orphan' });
      expect(again.finished).toBe(false);
      expect(again.obj.metadata.resourceVersion).toBe(first.obj.metadata.resourceVersion);
      expect(again.obj.metadata.finalizers).toBeUndefined();
      const noGrace = await server.rest.delete(pods, later, 'gd', {});
      expect(noGrace.obj.metadata.resourceVersion).toBe(first.obj.metadata.resourceVersion);
      const shorter = await server.rest.delete(pods, later, 'gd', { gracePeriodSeconds: 10 });
      expect(shorter.obj.metadata.deletionGracePeriodSeconds).toBe(10);
      // Measured from when the deletion was first asked for, not from now.
      expect(shorter.obj.metadata.deletionTimestamp).toBe('2026-06-01T12:00:10Z');
      const now = await server.rest.delete(pods, later, 'gd', { gracePeriodSeconds: 0 });
      expect(now.finished).toBe(true);
      await expect(get(pods, 'gd')).rejects.toMatchObject({ code: 404 });
    });
  });

  describe('autoscaling/v1 HorizontalPodAutoscalers', () => {
    const v1 = R('autoscaling', 'v1', 'horizontalpodautoscalers');
    const v2 = R('autoscaling', 'v2', 'horizontalpodautoscalers');
    const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' };

    it('are stored as v2 and read back through either version', async () => {
      await server.rest.create(v1, ctx(), { metadata: { name: 'web' }, spec: { scaleTargetRef: ref, minReplicas: 2, maxReplicas: 5, targetCPUUtilizationPercentage: 70 } });
      const asV2 = await get(v2, 'web');
      expect(asV2.apiVersion).toBe('autoscaling/v2');
      expect(asV2.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }]);
      const stored = await server.storage.store.range({ key: '/registry/horizontalpodautoscalers/default/web' });
      expect(JSON.parse(Buffer.from(stored.kvs[0]!.value).toString()).apiVersion).toBe('autoscaling/v2');
      const current = await get(v2, 'web');
      await server.rest.update(v2, ctx(), 'web', { ...current, status: { currentReplicas: 2, desiredReplicas: 3, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 90 } } }] } }, 'status');
      const asV1 = await get(v1, 'web');
      expect(asV1.apiVersion).toBe('autoscaling/v1');
      expect(asV1.spec).toEqual({ scaleTargetRef: ref, minReplicas: 2, maxReplicas: 5, targetCPUUtilizationPercentage: 70 });
      expect(asV1.status).toMatchObject({ currentReplicas: 2, desiredReplicas: 3, currentCPUUtilizationPercentage: 90 });
      const listed = await server.rest.list(v1, ctx(), { labels: [], fields: [] }, {});
      expect((listed.items[0] as Json).spec.targetCPUUtilizationPercentage).toBe(70);
    });

    it('keep v2 content a v1 update does not mention', async () => {
      await server.rest.create(v2, ctx(), {
        metadata: { name: 'mem' },
        spec: { scaleTargetRef: ref, maxReplicas: 4, metrics: [{ type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } }] },
      });
      const old = await get(v1, 'mem');
      await server.rest.update(v1, ctx(), 'mem', { ...old, spec: { ...old.spec, maxReplicas: 6 } });
      const after = await get(v2, 'mem');
      expect(after.spec.maxReplicas).toBe(6);
      expect(after.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } }]);
    });
  });
});

describe('aggregated discovery', () => {
  it('serves the first aggregated version the client asks for, and the legacy documents otherwise', () => {
    const v132 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
    expect(negotiateAggregatedDiscovery(v132)).toBe('v2');
    expect(negotiateAggregatedDiscovery('application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json')).toBe('v2beta1');
    expect(negotiateAggregatedDiscovery('application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList,application/json')).toBeUndefined();
    expect(negotiateAggregatedDiscovery('application/json, */*')).toBeUndefined();
    expect(negotiateAggregatedDiscovery('')).toBeUndefined();
  });

  it('describes every group, version, resource and subresource', () => {
    const core = aggregatedDiscovery('/api', 'v2') as Json;
    expect(core.kind).toBe('APIGroupDiscoveryList');
    expect(core.apiVersion).toBe('apidiscovery.k8s.io/v2');
    expect(core.items).toHaveLength(1);
    expect(core.items[0].metadata).toEqual({ creationTimestamp: null });
    const podsEntry = core.items[0].versions[0].resources.find((r: Json) => r.resource === 'pods');
    expect(podsEntry).toMatchObject({ responseKind: { group: '', version: 'v1', kind: 'Pod' }, scope: 'Namespaced', singularResource: 'pod', shortNames: ['po'], categories: ['all'] });
    expect(podsEntry.subresources).toContainEqual({ subresource: 'eviction', responseKind: { group: 'policy', version: 'v1', kind: 'Eviction' }, verbs: ['create'] });
    const groups = aggregatedDiscovery('/apis', 'v2beta1') as Json;
    const apps = groups.items.find((g: Json) => g.metadata.name === 'apps');
    const deployments = apps.versions[0].resources.find((r: Json) => r.resource === 'deployments');
    expect(deployments.subresources).toContainEqual({ subresource: 'scale', responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' }, verbs: ['get', 'patch', 'update'] });
    expect(groups.items.find((g: Json) => g.metadata.name === 'autoscaling').versions.map((v: Json) => v.version)).toEqual(['v2', 'v1']);
  });
});
