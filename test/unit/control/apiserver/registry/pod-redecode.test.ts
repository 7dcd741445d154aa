// A new pod is decoded once; after mutating admission changed it, only what changed is decoded again. The result must
// be exactly the full second decode's, for every pod the shared kubernetes/examples hold and the plugins' changes.
import { describe, expect, it, vi } from 'vitest';
import { Pod } from '../../../../../control/api/index.js';
import { jsonEqual } from '../../../../../control/api/core/common.js';
import { defaultTolerationSeconds } from '../../../../../control/apiserver/admission/default-toleration-seconds.js';
import { applyLimitRangeDefaults } from '../../../../../control/apiserver/admission/limit-ranger.js';
import { mountServiceAccountToken } from '../../../../../control/apiserver/admission/service-account.js';
import { podStrategy } from '../../../../../control/apiserver/registry/pod.js';
import type { Decoded } from '../../../../../control/apiserver/registry/strategy.js';
import type { KubeObject } from '../../../../../control/apiserver/storage/object-storage.js';
import { corpusPods } from './corpus.js';
import { ctx, def } from './fixture.js';

const pods = def('pods');
const strategy = podStrategy(pods);
const decodeCreate = (obj: KubeObject): Decoded => {
  if (!strategy.decodeCreate) throw new Error('pods decode on create');
  return strategy.decodeCreate(obj, ctx('default', false));
};

const limitRange = { spec: { limits: [{ type: 'Container', default: { cpu: '500m', memory: '256Mi' }, defaultRequest: { cpu: '100m' } }] } };

/**
 * What the mutating plugins do to a new pod here: service account and token volume, tolerations, limit range defaults.
 * Copy-on-write, as plugins change a spec (see Admission.mutate).
 */
async function mutate(pod: KubeObject): Promise<void> {
  const spec = { ...(pod.spec as { serviceAccountName?: string; serviceAccount?: string }) };
  spec.serviceAccountName ||= 'default';
  spec.serviceAccount = spec.serviceAccountName;
  mountServiceAccountToken(spec as Parameters<typeof mountServiceAccountToken>[0], () => 'abcde');
  pod.spec = spec;
  await defaultTolerationSeconds().mutate?.('create', pods, pod, undefined, ctx('default'));
  applyLimitRangeDefaults(limitRange, pod);
}

/** The pod after mutation, decoded both ways: again in part (redecode) and whole (decodeCreate with decodedBefore). */
async function bothWays(body: KubeObject, change: (pod: KubeObject) => Promise<void> | void = mutate): Promise<{ part: Decoded; whole: Decoded }> {
  const first = decodeCreate(structuredClone(body));
  if (!first.ok) throw new Error(`does not decode: ${JSON.stringify(first.errors)}`);
  const pod = { ...first.obj, metadata: { ...first.obj.metadata } } as KubeObject;
  await change(pod);
  expect(first.redecode).toBeDefined();
  // The part decode never decodes the whole pod again (unless a change does not decode: then the errors are the
  // full decode's).
  const wholeDecodes = vi.spyOn(Pod, 'safeParse');
  const part = first.redecode?.(pod) as Decoded;
  const partWasWhole = wholeDecodes.mock.calls.length > 0;
  wholeDecodes.mockRestore();
  if (part.ok) expect(partWasWhole).toBe(false);
  const whole = strategy.decodeCreate?.(pod, { strict: false, decodedBefore: true }) as Decoded;
  return { part, whole };
}

function expectSame(part: Decoded, whole: Decoded): void {
  expect(part.ok).toBe(whole.ok);
  if (!part.ok || !whole.ok) {
    expect(part).toEqual(whole);
    return;
  }
  expect(part.obj).toEqual(whole.obj);
  // Members in the order the full decode puts them (what clients are served).
  expect(JSON.stringify(part.obj)).toBe(JSON.stringify(whole.obj));
  expect(part.validate()).toEqual(whole.validate());
}

describe('a new pod decoded again after mutating admission', () => {
  const corpus = corpusPods().filter(({ pod }) => decodeCreate(structuredClone(pod)).ok);

  it('finds pods in the corpus', () => {
    expect(corpus.length).toBeGreaterThan(100);
  });

  it('gives the full decode\'s result for every pod of the corpus', async () => {
    for (const { where, pod } of corpus) {
      const { part, whole } = await bothWays(pod);
      try {
        expectSame(part, whole);
      } catch (err) {
        throw new Error(`${where}: ${(err as Error).message}`);
      }
    }
  });

  it('defaults what the plugins added: the token volume, the mounts, tolerations, requests from the limits set', async () => {
    const { part } = await bothWays({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } as KubeObject);
    if (!part.ok) throw new Error('refused');
    const spec = part.obj.spec as { volumes: Array<{ name: string; projected?: { defaultMode?: number } }>; containers: Array<{ volumeMounts: Array<{ name: string }>; resources: unknown }>; tolerations: unknown[] };
    expect(spec.volumes.map((v) => [v.name, v.projected?.defaultMode])).toEqual([['kube-api-access-abcde', 420]]);
    expect(spec.containers[0]?.volumeMounts.map((m) => m.name)).toEqual(['kube-api-access-abcde']);
    expect(spec.containers[0]?.resources).toEqual({ limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '256Mi' } });
    expect(spec.tolerations).toHaveLength(2);
    expect(part.obj.metadata.annotations?.['kubernetes.io/limit-ranger']).toContain('cpu request');
    expect(part.validate()).toEqual([]);
  });

  it('validates the whole pod again: a mount the plugins added that names no volume is refused as the full decode refuses it', async () => {
    const dangling = (pod: KubeObject): void => {
      const spec = pod.spec as { containers: Array<{ volumeMounts?: unknown[] }> };
      pod.spec = { ...spec, containers: spec.containers.map((c, i) => (i === 0 ? { ...c, volumeMounts: [{ name: 'nowhere', mountPath: '/x' }] } : c)) };
    };
    const { part, whole } = await bothWays({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } as KubeObject, dangling);
    expectSame(part, whole);
    if (!part.ok) throw new Error('refused before validation');
    expect(part.validate().map((e) => e.field)).toEqual(['spec.containers[0].volumeMounts[0].name']);
  });

  it('reports a change that does not decode as the full decode does', async () => {
    const bad = (pod: KubeObject): void => {
      pod.spec = { ...(pod.spec as Record<string, unknown>), terminationGracePeriodSeconds: 'soon' };
    };
    const { part, whole } = await bothWays({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } as KubeObject, bad);
    expect(part.ok).toBe(false);
    expectSame(part, whole);
  });

  it('derives a container\'s pull policy again for a new image, and takes removed and reordered parts as the full decode does', async () => {
    const body = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: { containers: [{ name: 'a', image: 'busybox' }, { name: 'b', image: 'busybox:1.36', ports: [{ containerPort: 80 }] }], tolerations: [{ key: 'k', operator: 'Exists' }] },
    } as KubeObject;
    const retag = (pod: KubeObject): void => {
      const { tolerations: _, ...spec } = pod.spec as { containers: Array<{ image: string }>; tolerations?: unknown };
      // A new image, its pull policy left to default again.
      const containers = spec.containers.map((c, i) => (i === 0 ? { ...c, image: 'busybox:1.36', imagePullPolicy: undefined } : c));
      pod.spec = { ...spec, containers: containers.reverse() };
    };
    const { part, whole } = await bothWays(body, retag);
    expectSame(part, whole);
    if (!part.ok) throw new Error('refused');
    const spec = part.obj.spec as { containers: Array<{ name: string; imagePullPolicy: string }>; tolerations?: unknown };
    expect(spec.containers.map((c) => [c.name, c.imagePullPolicy])).toEqual([
      ['b', 'IfNotPresent'],
      ['a', 'IfNotPresent'],
    ]);
    expect(spec.tolerations).toBeUndefined();
  });
});

describe('jsonEqual', () => {
  it('compares JSON values member by member, an undefined member as an absent one', () => {
    expect(jsonEqual({ a: [1, { b: 'x' }], c: undefined }, { a: [1, { b: 'x' }] })).toBe(true);
    expect(jsonEqual({ a: [1, { b: 'x' }] }, { a: [1, { b: 'y' }] })).toBe(false);
    expect(jsonEqual({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(jsonEqual([], {})).toBe(false);
    expect(jsonEqual(null, {})).toBe(false);
  });
});
