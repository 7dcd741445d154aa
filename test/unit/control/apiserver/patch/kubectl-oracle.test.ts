// Differential test against upstream's own code: `kubectl patch --local` applies strategic merge / JSON / merge
// patches client-side with the same apimachinery and evanphx/json-patch code kube-apiserver runs. Random objects and
// random patches (directives included) must give the same result, or fail alike.
// Skipped without kubectl; PATCH_ORACLE_CASES=n raises the number of cases per patch type (default 10; 900 strategic cases were checked while writing it).
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  jsonPatch,
  K8S_PATCH_SCHEMA,
  lookupPatchMeta,
  mergePatch,
  schemaForKind,
  PatchError,
  strategicMergePatch,
  type JsonObject,
  type JsonValue,
} from '../../../../../control/apiserver/patch/index.js';

const KUBECTL = '/usr/bin/kubectl';
const HAVE_KUBECTL = existsSync(KUBECTL);
const CASES = Number(process.env['PATCH_ORACLE_CASES'] ?? 10);

const dir = HAVE_KUBECTL ? mkdtempSync(join(tmpdir(), 'skiff-patch-oracle-')) : '';
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** kubectl's result, or its error text. */
function kubectl(obj: JsonObject, type: 'strategic' | 'json' | 'merge', patch: JsonValue): { out?: JsonObject; err?: string } {
  const file = join(dir, 'obj.json');
  writeFileSync(file, JSON.stringify(obj));
  try {
    const out = execFileSync(KUBECTL, ['patch', '-f', file, '--local', '-o', 'json', '--type', type, '-p', JSON.stringify(patch)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, KUBECONFIG: '/dev/null' },
    });
    return { out: JSON.parse(out) as JsonObject };
  } catch (e) {
    return { err: String((e as { stderr?: string }).stderr ?? e) };
  }
}

let seq = 0;
/** kubectl, asynchronously (several may run at once). */
function kubectlAsync(obj: JsonObject, type: 'strategic', patch: JsonValue): Promise<{ out?: JsonObject; err?: string }> {
  const file = join(dir, `obj-${seq++}.json`);
  writeFileSync(file, JSON.stringify(obj));
  return new Promise((resolve) => {
    execFile(
      KUBECTL,
      ['patch', '-f', file, '--local', '-o', 'json', '--type', type, '-p', JSON.stringify(patch)],
      { encoding: 'utf8', env: { ...process.env, KUBECONFIG: '/dev/null' } },
      (err, stdout, stderr) => resolve(err ? { err: String(stderr || err) } : { out: JSON.parse(stdout) as JsonObject }),
    );
  });
}

function ours(fn: () => JsonValue): { out?: JsonValue; err?: PatchError } {
  try {
    return { out: fn() };
  } catch (e) {
    if (e instanceof PatchError) return { err: e };
    throw e;
  }
}

/** Leftover directive members that upstream's typed decode drops (kubectl --local prints them raw). */
function stripDirectives(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (v !== null && typeof v === 'object') {
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/') || k.startsWith('$deleteFromPrimitiveList/')) continue;
      out[k] = stripDirectives(x);
    }
    return out;
  }
  return v;
}

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  constructor(readonly r: () => number) {}
  chance = (p: number): boolean => this.r() < p;
  pick = <T,>(xs: readonly T[]): T => xs[Math.floor(this.r() * xs.length)]!;
  some = <T,>(xs: readonly T[], p = 0.5): T[] => this.shuffle(xs.filter(() => this.chance(p)));
  shuffle = <T,>(xs: readonly T[]): T[] => {
    const a = xs.slice();
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.r() * (i + 1));
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  };
}

const NAMES = ['a', 'b', 'c', 'd', 'e'];
const ENV = ['A', 'B', 'C', 'D'];

function container(g: Gen, name: string): JsonObject {
  const c: JsonObject = { name, image: g.pick(['nginx', 'redis', 'busybox']) };
  if (g.chance(0.6)) c['env'] = g.some(ENV, 0.6).map((n) => ({ name: n, value: g.pick(['1', '2', '3']) }));
  if (g.chance(0.4)) c['ports'] = g.some([80, 443, 8080], 0.5).map((p) => ({ containerPort: p, protocol: 'TCP' }));
  if (g.chance(0.3)) c['args'] = g.some(['x', 'y', 'z'], 0.7);
  if (g.chance(0.3)) c['resources'] = { limits: { cpu: g.pick(['1', '2']) } };
  return c;
}

function deployment(g: Gen): JsonObject {
  const d: JsonObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: Object.fromEntries(g.some(['app', 'tier', 'env'], 0.7).map((k) => [k, g.pick(['x', 'y'])])) },
    spec: {
      replicas: g.pick([1, 2, 3]),
      selector: { matchLabels: { app: 'web' } },
      strategy: g.chance(0.5) ? { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%' } } : { type: 'Recreate' },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: g.some(NAMES, 0.5).map((n) => container(g, n)),
          ...(g.chance(0.5) ? { tolerations: [{ key: g.pick(['k1', 'k2']), operator: 'Exists' }] } : {}),
          ...(g.chance(0.5) ? { volumes: g.some(['v1', 'v2'], 0.7).map((n) => ({ name: n, emptyDir: {} })) } : {}),
        },
      },
    },
  };
  if (g.chance(0.5)) (d['metadata'] as JsonObject)['finalizers'] = g.some(['f1', 'f2', 'f3'], 0.6);
  if (g.chance(0.3)) (d['metadata'] as JsonObject)['ownerReferences'] = g.some(['u1', 'u2'], 0.7).map((uid) => ({ uid, name: uid, kind: 'X', apiVersion: 'v1' }));
  return d;
}

/** A strategic patch for a live Deployment: mostly well-formed, sometimes not. */
function smpPatch(g: Gen, live: JsonObject): JsonObject {
  const liveNames = (((live['spec'] as any).template.spec.containers ?? []) as JsonObject[]).map((c) => c['name'] as string);
  const patch: any = {};
  if (g.chance(0.4)) patch.metadata = { labels: Object.fromEntries(g.some(['app', 'tier', 'env', 'new'], 0.5).map((k) => [k, g.chance(0.4) ? null : 'p'])) };
  if (g.chance(0.3)) {
    patch.metadata ??= {};
    // adding and deleting the same scalar in one patch is order-dependent upstream (Go map iteration): not generated
    if (g.chance(0.5)) patch.metadata.finalizers = g.some(['f1', 'f3', 'f4'], 0.5);
    if (g.chance(0.5)) patch.metadata['$deleteFromPrimitiveList/finalizers'] = g.some(['f1', 'f2', 'f5'], 0.5).filter((f) => !(patch.metadata.finalizers ?? []).includes(f));
    if (g.chance(0.3)) patch.metadata['$setElementOrder/finalizers'] = g.some(['f1', 'f2', 'f3', 'f4'], 0.7);
  }
  if (g.chance(0.2)) patch.metadata = { ...(patch.metadata ?? {}), ownerReferences: [{ uid: g.pick(['u1', 'u3']), controller: true }] };
  const spec: any = {};
  if (g.chance(0.3)) spec.replicas = g.chance(0.2) ? null : g.pick([4, 5]);
  if (g.chance(0.3)) spec.strategy = g.chance(0.5) ? { $retainKeys: ['type'], type: 'Recreate' } : { type: 'Recreate' };
  const podSpec: any = {};
  if (g.chance(0.8)) {
    const els: JsonObject[] = [];
    for (const n of g.some(NAMES, 0.4)) {
      if (g.chance(0.25)) {
        els.push({ name: n, $patch: 'delete' });
        continue;
      }
      const c: any = { name: n };
      if (g.chance(0.5)) c.image = g.pick(['nginx:2', 'redis:2']);
      if (g.chance(0.4)) {
        c.env = g.some(ENV, 0.5).map((e) => (g.chance(0.2) ? { name: e, $patch: 'delete' } : { name: e, value: g.chance(0.1) ? null : 'p' }));
        if (g.chance(0.4)) c['$setElementOrder/env'] = g.shuffle(ENV).filter((e) => c.env.some((x: any) => x.name === e) || g.chance(0.5)).map((e) => ({ name: e }));
      }
      if (g.chance(0.2)) c.ports = [{ containerPort: g.pick([80, 9090]), name: 'p' }];
      if (g.chance(0.15)) c.resources = null;
      els.push(c);
    }
    if (g.chance(0.05)) els.push({ $patch: 'replace' } as JsonObject);
    podSpec.containers = els;
    if (g.chance(0.6)) {
      // kubectl sends the full desired order: the non-deleted patch elements in patch order, live ones mixed in
      const keep = els.filter((e) => e['$patch'] === undefined).map((e) => e['name'] as string);
      const extra = g.some(liveNames.filter((n) => !keep.includes(n)), 0.6);
      const order: string[] = [];
      const pool = g.shuffle([...extra]);
      for (const k of keep) {
        while (pool.length > 0 && g.chance(0.4)) order.push(pool.pop()!);
        order.push(k);
      }
      order.push(...pool);
      if (g.chance(0.1)) order.reverse(); // sometimes inconsistent with the patch list: an error
      podSpec['$setElementOrder/containers'] = order.map((name) => ({ name }));
    }
  } else if (g.chance(0.5)) {
    podSpec['$setElementOrder/containers'] = g.shuffle(liveNames).map((name) => ({ name }));
  }
  if (g.chance(0.2)) podSpec.tolerations = [{ key: 'k3', operator: 'Exists' }];
  if (g.chance(0.2)) podSpec.volumes = [{ name: g.pick(['v1', 'v3']), ...(g.chance(0.5) ? { $retainKeys: ['name', 'configMap'], configMap: { name: 'c' } } : { hostPath: { path: '/x' } }) }];
  if (g.chance(0.05)) podSpec.containers = [{ image: 'no-name' }];
  if (Object.keys(podSpec).length > 0) spec.template = { spec: podSpec };
  if (Object.keys(spec).length > 0) patch.spec = spec;
  return patch as JsonObject;
}

function jsonOps(g: Gen, live: JsonObject): JsonValue[] {
  const paths = ['/metadata/labels/app', '/metadata/labels/new', '/spec/replicas', '/spec/template/spec/containers/0/image', '/spec/template/spec/containers/-', '/spec/template/spec/containers/1', '/spec/template/spec/containers/5', '/metadata/finalizers/0', '/metadata/labels', '/spec/strategy/rollingUpdate', '/nope/x', '/spec/template/spec/containers/0/env/-', '/metadata/annotations~1x'];
  const ops: JsonValue[] = [];
  const n = 1 + Math.floor(g.r() * 3);
  for (let i = 0; i < n; i++) {
    const op = g.pick(['add', 'remove', 'replace', 'move', 'copy', 'test']);
    const path = g.pick(paths);
    const value = g.pick<JsonValue>(['v', 3, { name: 'z', image: 'i' }, null, ['a']]);
    if (op === 'move' || op === 'copy') ops.push({ op, from: g.pick(paths), path });
    else if (op === 'remove') ops.push({ op, path });
    else if (op === 'test') ops.push({ op, path, value: g.chance(0.5) ? value : (live['spec'] as any)?.replicas ?? null });
    else ops.push({ op, path, value });
  }
  return ops;
}

describe.skipIf(!HAVE_KUBECTL)('same results as kubectl patch --local', () => {
  it(`strategic merge patch (${CASES} random cases)`, () => {
    const g = new Gen(rng(101));
    let compared = 0;
    let failures = 0;
    let sameMessage = 0;
    for (let i = 0; i < CASES; i++) {
      const live = deployment(g);
      const patch = smpPatch(g, live);
      const want = kubectl(live, 'strategic', patch);
      const got = ours(() => strategicMergePatch(live, patch, 'Deployment'));
      const ctx = JSON.stringify({ live, patch, want: want.err ?? 'ok', got: got.err?.message ?? 'ok' });
      if (want.err !== undefined) {
        // A patch with two faults fails on whichever Go's map iteration meets first: compare texts as a rate.
        expect(got.err, ctx).toBeDefined();
        failures++;
        if (want.err.includes(got.err!.detail.split('\n')[0]!)) sameMessage++;
      } else {
        expect(got.err, ctx).toBeUndefined();
        expect(got.out, ctx).toEqual(stripDirectives(want.out!));
        compared++;
      }
    }
    expect(compared).toBeGreaterThanOrEqual(CASES / 2);
    if (process.env["PATCH_ORACLE_CASES"]) console.log({ cases: CASES, compared, failures, sameMessage });
    expect(sameMessage).toBeGreaterThanOrEqual(failures * 0.7);
  }, 120_000);

  it(`JSON patch (${CASES} random cases)`, () => {
    const g = new Gen(rng(202));
    for (let i = 0; i < CASES; i++) {
      const live = deployment(g);
      const ops = jsonOps(g, live);
      const want = kubectl(live, 'json', ops);
      const got = ours(() => jsonPatch(live, ops));
      const ctx = JSON.stringify({ live, ops, want: want.err ?? 'ok', got: got.err?.detail ?? 'ok' });
      if (want.err !== undefined) {
        expect(got.err, ctx).toBeDefined();
        // kubectl rewrites "doc is missing key" errors client-side; compare the rest verbatim
        if (!want.err.includes('Object to be patched is missing field')) expect(want.err, ctx).toContain(got.err!.detail);
      } else {
        expect(got.err, ctx).toBeUndefined();
        expect(got.out, ctx).toEqual(want.out);
      }
    }
  }, 120_000);

  it(`merge patch (${Math.ceil(CASES / 4)} random cases)`, () => {
    const g = new Gen(rng(303));
    for (let i = 0; i < CASES / 4; i++) {
      const live = deployment(g);
      const patch = smpPatch(g, live);
      const want = kubectl(live, 'merge', patch);
      expect(mergePatch(live, patch), JSON.stringify({ live, patch })).toEqual(want.out);
    }
  }, 120_000);
});

/** Sets `value` at a dotted path ("spec.containers.0.env") in a fresh object, creating maps/one-element lists. */
function withPath(path: string, value: JsonValue): JsonObject {
  const parts = path.split('.');
  const root: JsonObject = {};
  let cur: any = root;
  parts.forEach((p, i) => {
    const last = i === parts.length - 1;
    const nextIsIndex = !last && /^\d+$/.test(parts[i + 1]!);
    if (/^\d+$/.test(p)) return;
    if (last) cur[p] = value;
    else if (nextIsIndex) {
      cur[p] = [{ name: 'x', type: 'x', uid: 'x', port: 1, containerPort: 1, mountPath: 'x', devicePath: 'x', ip: 'x', topologyKey: 'x' }];
      cur = cur[p][0];
    } else cur = cur[p] ??= {};
  });
  return root;
}

/** What our table says for the list at `path` under `root`: 'merge:<key>', 'merge' (scalars) or 'replace'. */
function tableSays(root: string, path: string): string {
  let type: string | undefined = root;
  let meta: { type?: string; strategy?: string; mergeKey?: string } = {};
  for (const p of path.split('.')) {
    if (/^\d+$/.test(p)) continue;
    meta = lookupPatchMeta(K8S_PATCH_SCHEMA, type, p);
    type = meta.type;
  }
  const merge = (meta.strategy ?? '').split(',').includes('merge');
  return merge ? (meta.mergeKey ? `merge:${meta.mergeKey}` : 'merge') : 'replace';
}

/** What kubectl's compiled-in struct tags say, found by patching a probe element into the list. */
async function kubectlSays(apiVersion: string, kind: string, path: string, scalar: boolean): Promise<string> {
  const live = { apiVersion, kind, metadata: { name: 'probe' }, ...withPath(path, scalar ? ['a'] : [{ zzz: '0' }]) } as JsonObject;
  if (path.startsWith('metadata.')) Object.assign(live['metadata'] as JsonObject, (withPath(path, scalar ? ['a'] : [{ zzz: '0' }]) as any).metadata);
  const res = await kubectlAsync(live, 'strategic', withPath(path, scalar ? ['b'] : [{ zzz: '1' }]));
  if (res.err !== undefined) {
    const m = /does not contain declared merge key: (\w+)/.exec(res.err);
    return m ? `merge:${m[1]}` : `error: ${res.err}`;
  }
  let v: any = res.out;
  for (const p of path.split('.')) v = /^\d+$/.test(p) ? v?.[Number(p)] : v?.[p];
  return scalar ? (Array.isArray(v) && v.includes('a') ? 'merge' : 'replace') : 'replace';
}

// [apiVersion, kind, path of a list, scalar list?]
const LIST_FIELDS: Array<[string, string, string, boolean]> = [
  ['v1', 'Pod', 'metadata.ownerReferences', false],
  ['v1', 'Pod', 'metadata.finalizers', true],
  ['v1', 'Pod', 'metadata.managedFields', false],
  ['v1', 'Pod', 'spec.containers', false],
  ['v1', 'Pod', 'spec.initContainers', false],
  ['v1', 'Pod', 'spec.ephemeralContainers', false],
  ['v1', 'Pod', 'spec.volumes', false],
  ['v1', 'Pod', 'spec.imagePullSecrets', false],
  ['v1', 'Pod', 'spec.hostAliases', false],
  ['v1', 'Pod', 'spec.topologySpreadConstraints', false],
  ['v1', 'Pod', 'spec.schedulingGates', false],
  ['v1', 'Pod', 'spec.resourceClaims', false],
  ['v1', 'Pod', 'spec.tolerations', false],
  ['v1', 'Pod', 'spec.readinessGates', false],
  ['v1', 'Pod', 'spec.containers.0.ports', false],
  ['v1', 'Pod', 'spec.containers.0.env', false],
  ['v1', 'Pod', 'spec.containers.0.envFrom', false],
  ['v1', 'Pod', 'spec.containers.0.volumeMounts', false],
  ['v1', 'Pod', 'spec.containers.0.volumeDevices', false],
  ['v1', 'Pod', 'spec.containers.0.args', true],
  ['v1', 'Pod', 'spec.initContainers.0.env', false],
  ['v1', 'Pod', 'spec.ephemeralContainers.0.volumeMounts', false],
  ['v1', 'Pod', 'status.conditions', false],
  ['v1', 'Pod', 'status.podIPs', false],
  ['v1', 'Pod', 'status.hostIPs', false],
  ['v1', 'Pod', 'status.containerStatuses', false],
  ['v1', 'Pod', 'status.resourceClaimStatuses', false],
  ['v1', 'PodTemplate', 'template.spec.containers.0.env', false],
  ['v1', 'Service', 'spec.ports', false],
  ['v1', 'Service', 'spec.externalIPs', true],
  ['v1', 'Service', 'status.conditions', false],
  ['v1', 'Service', 'status.loadBalancer.ingress', false],
  ['v1', 'Node', 'spec.taints', false],
  ['v1', 'Node', 'spec.podCIDRs', true],
  ['v1', 'Node', 'status.addresses', false],
  ['v1', 'Node', 'status.conditions', false],
  ['v1', 'Node', 'status.images', false],
  ['v1', 'Endpoints', 'subsets', false],
  ['v1', 'Namespace', 'status.conditions', false],
  ['v1', 'PersistentVolumeClaim', 'status.conditions', false],
  ['v1', 'PersistentVolumeClaim', 'spec.accessModes', true],
  ['v1', 'ServiceAccount', 'secrets', false],
  ['v1', 'ServiceAccount', 'imagePullSecrets', false],
  ['v1', 'ReplicationController', 'spec.template.spec.containers', false],
  ['v1', 'ReplicationController', 'status.conditions', false],
  ['v1', 'LimitRange', 'spec.limits', false],
  ['apps/v1', 'Deployment', 'spec.template.spec.containers.0.volumeMounts', false],
  ['apps/v1', 'Deployment', 'spec.template.metadata.finalizers', true],
  ['apps/v1', 'Deployment', 'status.conditions', false],
  ['apps/v1', 'ReplicaSet', 'spec.template.spec.volumes', false],
  ['apps/v1', 'ReplicaSet', 'status.conditions', false],
  ['apps/v1', 'StatefulSet', 'spec.template.spec.containers', false],
  ['apps/v1', 'StatefulSet', 'spec.volumeClaimTemplates', false],
  ['apps/v1', 'StatefulSet', 'status.conditions', false],
  ['apps/v1', 'DaemonSet', 'spec.template.spec.initContainers', false],
  ['apps/v1', 'DaemonSet', 'status.conditions', false],
  ['batch/v1', 'Job', 'spec.template.spec.containers', false],
  ['batch/v1', 'Job', 'status.conditions', false],
  ['batch/v1', 'CronJob', 'spec.jobTemplate.spec.template.spec.containers.0.env', false],
  ['batch/v1', 'CronJob', 'status.active', false],
  ['autoscaling/v2', 'HorizontalPodAutoscaler', 'spec.metrics', false],
  ['autoscaling/v2', 'HorizontalPodAutoscaler', 'status.conditions', false],
  ['policy/v1', 'PodDisruptionBudget', 'status.conditions', false],
  ['certificates.k8s.io/v1', 'CertificateSigningRequest', 'status.conditions', false],
  ['discovery.k8s.io/v1', 'EndpointSlice', 'endpoints', false],
  ['discovery.k8s.io/v1', 'EndpointSlice', 'ports', false],
  ['rbac.authorization.k8s.io/v1', 'Role', 'rules', false],
  ['rbac.authorization.k8s.io/v1', 'RoleBinding', 'subjects', false],
  ['rbac.authorization.k8s.io/v1', 'ClusterRole', 'rules', false],
];

describe.skipIf(!HAVE_KUBECTL)('patch schema agrees with the struct tags compiled into kubectl', () => {
  it(`for ${LIST_FIELDS.length} list fields of the served kinds`, async () => {
    const rows: string[][] = [];
    for (let i = 0; i < LIST_FIELDS.length; i += 6) {
      const batch = LIST_FIELDS.slice(i, i + 6);
      rows.push(
        ...(await Promise.all(
          batch.map(async ([apiVersion, kind, path, scalar]) => {
            const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
            const root = schemaForKind(group!, version!, kind)!;
            return [`${kind} ${path}`, tableSays(root, path), await kubectlSays(apiVersion, kind, path, scalar)];
          }),
        )),
      );
    }
    expect(rows.filter(([, ours, theirs]) => ours !== theirs)).toEqual([]);
    expect(new Set(rows.map((r) => r[2]))).toEqual(new Set(['merge:name', 'merge:uid', 'merge', 'replace', 'merge:containerPort', 'merge:mountPath', 'merge:devicePath', 'merge:ip', 'merge:topologyKey', 'merge:type', 'merge:port']));
  }, 120_000);
});

describe.skipIf(!HAVE_KUBECTL)('ordering corner cases agree with kubectl', () => {
  // An empty $setElementOrder leaves Go's sort.SliceStable with an inconsistent comparator: the outcome is whatever
  // its blocked insertion sort + SymMerge produce, past 20 elements too.
  it.each([
    [[], 45],
    [['x003', 'f2'], 21],
    [['x030', 'x001', 'a', 'x050', 'b', 'x007'], 100],
  ] as Array<[string[], number]>)('live %j plus %i new finalizers under an empty $setElementOrder', (live, n) => {
    const obj = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', ...(live.length ? { finalizers: live } : {}) } } as JsonObject;
    const patch = { metadata: { '$setElementOrder/finalizers': [], finalizers: Array.from({ length: n }, (_, i) => `x${String(i).padStart(3, '0')}`) } };
    expect((strategicMergePatch(obj, patch, 'Pod') as any).metadata.finalizers).toEqual((kubectl(obj, 'strategic', patch).out as any).metadata.finalizers);
  });
});
