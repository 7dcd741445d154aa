// Mutating plugins change a pod's spec copy-on-write (see Admission.mutate): the second decode after admission finds
// what changed by comparing with the spec it was given, kept by reference. A plugin that wrote into that spec would
// have its change go undecoded; here every spec a plugin is given is frozen, so such a write throws.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../../../lib/log.js';
import { defaultTolerationSeconds } from '../../../../../control/apiserver/admission/default-toleration-seconds.js';
import { limitRangerAdmission } from '../../../../../control/apiserver/admission/limit-ranger.js';
import { chainAdmission, namespaceLifecycle } from '../../../../../control/apiserver/admission/namespace-lifecycle.js';
import { priorityAdmission } from '../../../../../control/apiserver/admission/priority.js';
import { resourceQuotaAdmission } from '../../../../../control/apiserver/admission/resource-quota.js';
import { serviceAccountAdmission } from '../../../../../control/apiserver/admission/service-account.js';
import { ensureSystemNamespaces } from '../../../../../control/apiserver/bootstrap.js';
import { ensureSystemPriorityClasses } from '../../../../../control/apiserver/bootstrap-priority.js';
import { findResource, type ResourceDef } from '../../../../../control/apiserver/resources.js';
import type { Admission, RequestContext } from '../../../../../control/apiserver/rest.js';
import { ApiServer } from '../../../../../control/apiserver/server.js';
import { ObjectStorage, type KubeObject } from '../../../../../control/apiserver/storage/object-storage.js';
import { MemoryStore } from '../../../../../control/store/index.js';

const R = (group: string, version: string, resource: string): ResourceDef => findResource(group, version, resource) as ResourceDef;
const pods = R('', 'v1', 'pods');
const serviceaccounts = R('', 'v1', 'serviceaccounts');
const limitranges = R('', 'v1', 'limitranges');
const priorityclasses = R('scheduling.k8s.io', 'v1', 'priorityclasses');

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

/**
 * Every pod-changing plugin of the control plane's chain (control/main.ts), each handed the pod as the ones before it
 * left it, with that pod's spec frozen first.
 */
function frozenSpecChain(plugins: Admission[]): Admission {
  return chainAdmission(
    plugins.map((p) => ({
      ...p,
      mutate: p.mutate ? (op, def, obj, old, ctx) => {
        deepFreeze(obj.spec);
        return p.mutate?.(op, def, obj, old, ctx) ?? Promise.resolve(false);
      } : undefined,
    })),
  );
}

describe('mutating admission changes a pod spec copy-on-write', () => {
  let store: MemoryStore;
  let storage: ObjectStorage;
  let server: ApiServer;
  const ctx = (): RequestContext => ({ namespace: 'default', strict: false, dryRun: false, now: new Date(), warnings: [] });

  beforeEach(async () => {
    store = new MemoryStore();
    storage = new ObjectStorage(store);
    const plugins = [
      namespaceLifecycle(storage),
      limitRangerAdmission(storage),
      serviceAccountAdmission(storage, { nameSuffix: () => 'q9z4w' }),
      priorityAdmission(storage),
      defaultTolerationSeconds(),
      resourceQuotaAdmission(storage),
    ];
    server = new ApiServer({ store, logger: silentLogger(), admission: frozenSpecChain(plugins) });
    await ensureSystemNamespaces(server.rest);
    await ensureSystemPriorityClasses(server.rest);
    await server.rest.create(serviceaccounts, ctx(), { metadata: { name: 'default' }, imagePullSecrets: [{ name: 'registry' }] });
    await server.rest.create(limitranges, ctx(), { metadata: { name: 'defaults' }, spec: { limits: [{ type: 'Container', default: { cpu: '500m', memory: '256Mi' }, defaultRequest: { cpu: '100m' } }] } });
    await server.rest.create(priorityclasses, { ...ctx(), namespace: undefined }, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'high' }, value: 1000, preemptionPolicy: 'Never' });
  });
  afterEach(async () => {
    await server.close();
    await store.close();
  });

  it('creates a pod every plugin changes, none of them writing into the spec it was given', async () => {
    const created = (await server.rest.create(pods, ctx(), {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web' },
      spec: {
        priorityClassName: 'high',
        initContainers: [{ name: 'init', image: 'busybox', resources: { limits: { memory: '64Mi' } } }],
        containers: [{ name: 'app', image: 'busybox', volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
        volumes: [{ name: 'data', emptyDir: {} }],
      },
    })) as KubeObject & { spec: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
    const spec = created.spec;
    // ServiceAccount: the account, its pull secrets, the token volume mounted in every container.
    expect(spec.serviceAccountName).toBe('default');
    expect(spec.imagePullSecrets).toEqual([{ name: 'registry' }]);
    expect(spec.volumes.map((v: { name: string }) => v.name)).toEqual(['data', 'kube-api-access-q9z4w']);
    expect(spec.volumes[1].projected.defaultMode).toBe(420);
    for (const c of [...spec.initContainers, ...spec.containers]) expect(c.volumeMounts.at(-1)).toEqual({ name: 'kube-api-access-q9z4w', readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' });
    // LimitRanger: what each container lacked, with the requests defaulted from the limits as decoding does.
    expect(spec.containers[0].resources).toEqual({ limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '256Mi' } });
    expect(spec.initContainers[0].resources).toEqual({ limits: { cpu: '500m', memory: '64Mi' }, requests: { cpu: '100m', memory: '64Mi' } });
    // Priority and DefaultTolerationSeconds.
    expect([spec.priority, spec.preemptionPolicy]).toEqual([1000, 'Never']);
    expect(spec.tolerations.map((t: { key: string; tolerationSeconds: number }) => [t.key, t.tolerationSeconds])).toEqual([
      ['node.kubernetes.io/not-ready', 300],
      ['node.kubernetes.io/unreachable', 300],
    ]);
  });
});
