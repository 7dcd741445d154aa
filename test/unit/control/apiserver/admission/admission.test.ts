import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../../../lib/log.js';
import { limitRangerAdmission } from '../../../../../control/apiserver/admission/limit-ranger.js';
import { chainAdmission, namespaceLifecycle } from '../../../../../control/apiserver/admission/namespace-lifecycle.js';
import { priorityAdmission } from '../../../../../control/apiserver/admission/priority.js';
import { resourceQuotaAdmission } from '../../../../../control/apiserver/admission/resource-quota.js';
import { serviceAccountAdmission } from '../../../../../control/apiserver/admission/service-account.js';
import { ensureSystemNamespaces } from '../../../../../control/apiserver/bootstrap.js';
import { ensureSystemPriorityClasses } from '../../../../../control/apiserver/bootstrap-priority.js';
import { ApiError } from '../../../../../control/apiserver/http/status.js';
import { findResource, type ResourceDef } from '../../../../../control/apiserver/resources.js';
import type { RequestContext } from '../../../../../control/apiserver/rest.js';
import { ApiServer } from '../../../../../control/apiserver/server.js';
import { ObjectStorage, type KubeObject } from '../../../../../control/apiserver/storage/object-storage.js';
import { MemoryStore } from '../../../../../control/store/index.js';

const R = (group: string, version: string, resource: string): ResourceDef => findResource(group, version, resource) as ResourceDef;
const pods = R('', 'v1', 'pods');
const serviceaccounts = R('', 'v1', 'serviceaccounts');
const namespaces = R('', 'v1', 'namespaces');
const limitranges = R('', 'v1', 'limitranges');
const quotas = R('', 'v1', 'resourcequotas');
const priorityclasses = R('scheduling.k8s.io', 'v1', 'priorityclasses');

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

describe('admission chain (NamespaceLifecycle, LimitRanger, ServiceAccount, Priority, ResourceQuota)', () => {
  let store: MemoryStore;
  let server: ApiServer;
  let lookups = 0;
  const ctx = (namespace = 'default', extra: Partial<RequestContext> = {}): RequestContext => ({ namespace, strict: false, dryRun: false, now: new Date(), warnings: [], ...extra });
  const pod = (name: string, spec: Json = {}, meta: Json = {}): Json => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, ...meta }, spec: { containers: [{ name: 'c', image: 'skiff/web:1.0' }], ...spec } });
  const create = (def: ResourceDef, body: Json, namespace = 'default'): Promise<Json> => server.rest.create(def, ctx(def.namespaced ? namespace : undefined), body) as Promise<Json>;

  beforeEach(async () => {
    store = new MemoryStore();
    const storage = new ObjectStorage(store);
    lookups = 0;
    server = new ApiServer({
      store,
      logger: silentLogger(),
      admission: chainAdmission([
        namespaceLifecycle(storage),
        limitRangerAdmission(storage),
        serviceAccountAdmission(storage, {
          nameSuffix: () => 'x7k2p',
          sleep: async () => {
            lookups++;
          },
        }),
        priorityAdmission(storage),
        resourceQuotaAdmission(storage),
      ]),
    });
    await ensureSystemNamespaces(server.rest);
    await ensureSystemPriorityClasses(server.rest);
    await create(serviceaccounts, { metadata: { name: 'default' } });
  });
  afterEach(async () => {
    await server.close();
    await store.close();
  });

  describe('ServiceAccount', () => {
    it('defaults the service account and mounts the projected token volume in every container', async () => {
      const created = await create(pods, pod('web', { initContainers: [{ name: 'init', image: 'skiff/busybox:1.0' }] }));
      expect(created.spec.serviceAccountName).toBe('default');
      expect(created.spec.serviceAccount).toBe('default');
      expect(created.spec.volumes).toEqual([
        {
          name: 'kube-api-access-x7k2p',
          projected: {
            defaultMode: 420,
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
            ],
          },
        },
      ]);
      const mount = { name: 'kube-api-access-x7k2p', readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' };
      expect(created.spec.containers[0].volumeMounts).toEqual([mount]);
      expect(created.spec.initContainers[0].volumeMounts).toEqual([mount]);
    });

    it('honours automountServiceAccountToken: the pod first, then the service account', async () => {
      await create(serviceaccounts, { metadata: { name: 'quiet' }, automountServiceAccountToken: false });
      expect((await create(pods, pod('a', { automountServiceAccountToken: false }))).spec.volumes).toBeUndefined();
      expect((await create(pods, pod('b', { serviceAccountName: 'quiet' }))).spec.volumes).toBeUndefined();
      expect((await create(pods, pod('c', { serviceAccountName: 'quiet', automountServiceAccountToken: true }))).spec.volumes).toHaveLength(1);
    });

    it('leaves a container that already mounts something at the token path alone', async () => {
      const created = await create(pods, pod('own', { volumes: [{ name: 'mine', emptyDir: {} }], containers: [{ name: 'c', image: 'x', volumeMounts: [{ name: 'mine', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }] }] }));
      expect(created.spec.volumes.map((v: Json) => v.name)).toEqual(['mine']);
    });

    it('copies the service account image pull secrets to a pod that names none', async () => {
      await create(serviceaccounts, { metadata: { name: 'puller' }, imagePullSecrets: [{ name: 'regcred' }] });
      expect((await create(pods, pod('p', { serviceAccountName: 'puller' }))).spec.imagePullSecrets).toEqual([{ name: 'regcred' }]);
      // A pod that names its own keeps them: the account's are not added.
      const own = await create(pods, pod('q', { serviceAccountName: 'puller', imagePullSecrets: [{ name: 'mine' }] }));
      expect(own.spec.imagePullSecrets).toEqual([{ name: 'mine' }]);
    });

    it('refuses a pod whose service account does not exist, after retrying the default one', async () => {
      await create(namespaces, { metadata: { name: 'fresh' } });
      const err = await refusal(create(pods, pod('x'), 'fresh'));
      expect(err.code).toBe(403);
      expect(err.reason).toBe('Forbidden');
      expect(err.message).toBe('pods "x" is forbidden: error looking up service account fresh/default: serviceaccount "default" not found');
      expect(lookups).toBe(9);
      lookups = 0;
      const named = await refusal(create(pods, pod('y', { serviceAccountName: 'builder' })));
      expect(named.message).toBe('pods "y" is forbidden: error looking up service account default/builder: serviceaccount "builder" not found');
      expect(lookups).toBe(0);
    });

    it('names an object created from generateName by its prefix, as upstream admission does', async () => {
      const err = await refusal(create(pods, { ...pod(''), metadata: { generateName: 'web-' }, spec: { serviceAccountName: 'nope', containers: [{ name: 'c', image: 'x' }] } }));
      expect(err.message).toMatch(/^pods "web-" is forbidden: /);
    });

    it('refuses mirror pods that use service accounts', async () => {
      const err = await refusal(create(pods, pod('m', { serviceAccountName: 'default' }, { annotations: { 'kubernetes.io/config.mirror': 'abc' } })));
      expect(err.message).toBe('pods "m" is forbidden: a mirror pod may not reference service accounts');
    });
  });

  describe('NamespaceLifecycle', () => {
    it('answers a missing namespace before any other plugin', async () => {
      const err = await refusal(create(pods, pod('x'), 'nowhere'));
      expect(err.code).toBe(404);
      expect(err.message).toBe('namespaces "nowhere" not found');
    });
  });

  describe('LimitRanger', () => {
    beforeEach(async () => {
      await create(limitranges, {
        metadata: { name: 'limits' },
        spec: { limits: [{ type: 'Container', default: { cpu: '500m', memory: '256Mi' }, defaultRequest: { cpu: '100m' }, max: { cpu: '1' }, min: { cpu: '50m' }, maxLimitRequestRatio: { cpu: '5' } }, { type: 'Pod', max: { memory: '300Mi' } }] },
      });
    });

    it('fills unset requests and limits, notes it, and the QoS class follows', async () => {
      const created = await create(pods, pod('web'));
      expect(created.spec.containers[0].resources).toEqual({ limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '256Mi' } });
      // The LimitRange's own defaulting made its defaultRequest.memory the default limit, as upstream's does.
      expect(created.metadata.annotations['kubernetes.io/limit-ranger']).toBe('LimitRanger plugin set: cpu, memory request for container c; cpu, memory limit for container c');
      expect(created.status.qosClass).toBe('Burstable');
    });

    it('refuses containers and pods outside min, max and the ratio with upstream messages', async () => {
      const tooBig = await refusal(create(pods, pod('big', { containers: [{ name: 'c', image: 'x', resources: { limits: { cpu: '2' } } }] })));
      expect(tooBig.code).toBe(403);
      expect(tooBig.message).toBe('pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2');
      const ratio = await refusal(create(pods, pod('ratio', { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '60m' }, limits: { cpu: '1' } } }] })));
      expect(ratio.message).toBe('pods "ratio" is forbidden: cpu max limit to request ratio per Container is 5, but provided ratio is 16.666667');
      const two = await refusal(create(pods, pod('two', { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '10m' } } }] })));
      expect(two.message).toBe('pods "two" is forbidden: [minimum cpu usage per Container is 50m, but request is 10m, cpu max limit to request ratio per Container is 5, but provided ratio is 50.000000]');
      const podMax = await refusal(create(pods, pod('pm', { containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'x' }] })));
      expect(podMax.message).toBe('pods "pm" is forbidden: maximum memory usage per Pod is 300Mi, but limit is 512Mi');
    });
  });

  describe('Priority', () => {
    it('resolves the class, defaults to 0 without a global default, and refuses unknown classes', async () => {
      expect((await create(pods, pod('plain'))).spec).toMatchObject({ priority: 0, preemptionPolicy: 'PreemptLowerPriority' });
      expect((await create(pods, pod('crit', { priorityClassName: 'system-node-critical' }))).spec.priority).toBe(2000001000);
      const unknown = await refusal(create(pods, pod('u', { priorityClassName: 'gold' })));
      expect(unknown.message).toBe('pods "u" is forbidden: no PriorityClass with name gold was found');
      const mismatch = await refusal(create(pods, pod('m', { priority: 7 })));
      expect(mismatch.message).toBe('pods "m" is forbidden: the integer value of priority (7) must not be provided in pod spec; priority admission controller computed 0 from the given PriorityClass name');
    });

    it('uses the global default class, and allows only one', async () => {
      await create(priorityclasses, { metadata: { name: 'standard' }, value: 1000, globalDefault: true, preemptionPolicy: 'Never' });
      expect((await create(pods, pod('d'))).spec).toMatchObject({ priorityClassName: 'standard', priority: 1000, preemptionPolicy: 'Never' });
      const second = await refusal(create(priorityclasses, { metadata: { name: 'other' }, value: 5, globalDefault: true }));
      expect(second.message).toBe('priorityclasses.scheduling.k8s.io "other" is forbidden: PriorityClass standard is already marked as default. Only one default can exist');
    });

    it('keeps the priority when a replaced pod body omits it', async () => {
      await create(pods, pod('keep', { priorityClassName: 'system-cluster-critical' }));
      const current = (await server.rest.get(pods, ctx(), 'keep')) as Json;
      const body = JSON.parse(JSON.stringify(current));
      delete body.spec.priority;
      body.spec.containers[0].image = 'skiff/web:2.0';
      const updated = (await server.rest.update(pods, ctx(), 'keep', body)) as Json;
      expect(updated.spec.priority).toBe(2000000000);
      expect(updated.spec.containers[0].image).toBe('skiff/web:2.0');
    });
  });

  describe('LimitRanger and ResourceQuota reads', () => {
    it('read ranges and quotas from watch-fed caches, as upstream listers: no store read per pod, and what was just written applies', async () => {
      // The store under the plugins, counting the reads of limit ranges and quotas.
      const base = new MemoryStore();
      const reads: string[] = [];
      const counted = new Proxy(base, {
        get(target, prop) {
          if (prop === 'range') {
            return (req: { key: string }) => {
              if (/limitranges|resourcequotas/.test(req.key)) reads.push(req.key);
              return target.range(req as Parameters<MemoryStore['range']>[0]);
            };
          }
          const v = Reflect.get(target, prop, target) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
      const storage = new ObjectStorage(counted);
      const admission = chainAdmission([limitRangerAdmission(storage), resourceQuotaAdmission(storage)]);
      const admit = async (name: string): Promise<KubeObject> => {
        const request = ctx();
        const obj = { ...(pod(name) as KubeObject), metadata: { name, namespace: 'default' } };
        await admission.mutate?.('create', pods, obj, undefined, request);
        await admission.admit('create', pods, obj, undefined, request);
        return obj;
      };
      try {
        await admit('first');
        expect(reads.length).toBeGreaterThan(0); // the caches' first lists
        reads.length = 0;
        for (let i = 0; i < 5; i++) await admit(`p${i}`);
        expect(reads).toEqual([]);

        await storage.create(limitranges, { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'lr', namespace: 'default' }, spec: { limits: [{ type: 'Container', default: { cpu: '300m' } }] } } as KubeObject);
        expect(((await admit('limited')).spec as Json).containers[0].resources.limits).toEqual({ cpu: '300m' });
        expect(reads).toEqual([]);

        // A quota made a moment ago charges the next pod (charging itself reads the quotas from the store).
        await storage.create(quotas, { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q', namespace: 'default' }, spec: { hard: { pods: '1' } }, status: { hard: { pods: '1' }, used: { pods: '1' } } } as KubeObject);
        const err = await refusal(admit('over'));
        expect(err.message).toBe('pods "over" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1');
      } finally {
        await base.close();
      }
    });
  });

  describe('ResourceQuota', () => {
    const quota = async (hard: Json, used: Json): Promise<void> => {
      await create(quotas, { metadata: { name: 'q' }, spec: { hard } });
      const current = (await server.rest.get(quotas, ctx(), 'q')) as KubeObject;
      await server.rest.replace(quotas, ctx(), current, { ...current, status: { hard, used } }, 'status');
    };

    it('charges new objects to status.used and refuses what would exceed status.hard', async () => {
      await quota({ pods: '2', 'requests.cpu': '1' }, { pods: '0', 'requests.cpu': '0' });
      const withCpu = (name: string, cpu: string): Json => pod(name, { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu } } }] });
      await create(pods, withCpu('a', '600m'));
      expect(((await server.rest.get(quotas, ctx(), 'q')) as Json).status.used).toEqual({ pods: '1', 'requests.cpu': '600m' });
      const over = await refusal(create(pods, withCpu('b', '500m')));
      expect(over.code).toBe(403);
      expect(over.message).toBe('pods "b" is forbidden: exceeded quota: q, requested: requests.cpu=500m, used: requests.cpu=600m, limited: requests.cpu=1');
      const missing = await refusal(create(pods, pod('c')));
      expect(missing.message).toBe('pods "c" is forbidden: failed quota: q: must specify requests.cpu for: c');
    });

    it('refuses while the controller has not computed usage yet', async () => {
      await quota({ 'count/configmaps': '1' }, {});
      const err = await refusal(create(R('', 'v1', 'configmaps'), { metadata: { name: 'cm' } }));
      expect(err.message).toBe('configmaps "cm" is forbidden: status unknown for quota: q, resources: count/configmaps');
    });

    it('lets only as many concurrent creates through as the quota has room for', async () => {
      await quota({ 'count/configmaps': '3', configmaps: '3' }, { 'count/configmaps': '1', configmaps: '1' });
      const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => create(R('', 'v1', 'configmaps'), { metadata: { name: `cm-${i}` } })));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => (r.reason as ApiError).message);
      expect(refused.every((m) => /exceeded quota: q, requested: configmaps=1,count\/configmaps=1, used: configmaps=3,count\/configmaps=3, limited: configmaps=3,count\/configmaps=3$/.test(m))).toBe(true);
      expect(((await server.rest.get(quotas, ctx(), 'q')) as Json).status.used).toEqual({ 'count/configmaps': '3', configmaps: '3' });
    });

    it('does not charge a dry run', async () => {
      await quota({ pods: '5' }, { pods: '0' });
      await server.rest.create(pods, ctx('default', { dryRun: true }), pod('dry'));
      expect(((await server.rest.get(quotas, ctx(), 'q')) as Json).status.used).toEqual({ pods: '0' });
    });
  });
});
