// Bad input against the API server: at least 10,000 mutated requests (bodies over 3 MiB, malformed JSON/YAML, wrong
// kind or apiVersion, invalid names, unknown fields, absurd selectors, broken patches, odd paths and headers) must each
// get an answer below 500, a Status body for every 4xx, and no write when the answer is a failure. Slow and half-open
// connections must not hold up anyone else.
//
// Deterministic from a seed: SKIFF_FUZZ_SEED=<n> replays a run (every failure message prints the seed);
// SKIFF_FUZZ_REQUESTS=<n> changes the number of requests (default 10,000).
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import { pino } from 'pino';
import { stringify as yamlStringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainAdmission, namespaceLifecycle } from '../../../control/apiserver/admission/namespace-lifecycle.js';
import { ServiceAllocator } from '../../../control/apiserver/admission/service-allocation.js';
import { ensureSystemNamespaces } from '../../../control/apiserver/bootstrap.js';
import { ApiServer, MAX_BODY_BYTES } from '../../../control/apiserver/server.js';
import { ObjectStorage } from '../../../control/apiserver/storage/object-storage.js';
import { MemoryStore } from '../../../control/store/index.js';

const SEED = process.env.SKIFF_FUZZ_SEED ? Number(process.env.SKIFF_FUZZ_SEED) >>> 0 : (Date.now() ^ (process.pid << 8)) >>> 0;
const REQUESTS = Number(process.env.SKIFF_FUZZ_REQUESTS ?? 10_000);
/** Printed with every failure, so a failing run can be replayed. */
const REPLAY = `seed ${SEED} (replay: SKIFF_FUZZ_SEED=${SEED} npx vitest run test/integration/apiserver/fuzz.test.ts)`;

// ---- a seeded PRNG ---------------------------------------------------------------------------------------------

/** mulberry32: small, fast, and plenty for picking mutations. */
class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }
  /** Picks by weight: [[weight, value], ...]. */
  weighted<T>(xs: ReadonlyArray<readonly [number, T]>): T {
    const total = xs.reduce((s, [w]) => s + w, 0);
    let r = this.next() * total;
    for (const [w, v] of xs) {
      r -= w;
      if (r < 0) return v;
    }
    return (xs[xs.length - 1] as readonly [number, T])[1];
  }
  string(len: number, alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789-._~!@#$%^&*()[]{}<>/\\|"\' =,;:?+\t\n'): string {
    let s = '';
    for (let i = 0; i < len; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }
}

// ---- what gets mutated -----------------------------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

interface Kind {
  name: string;
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
  base: (name: string, ns?: string) => Obj;
  /** Names the fuzz creates and mutates (a small pool, so updates, patches and deletes find objects). */
  names: string[];
  /** Field selectors that kind supports, to mix with ones it does not. */
  fields: string[];
}

const podSpec = (): Obj => ({
  containers: [
    {
      name: 'web',
      image: 'nginx:1.27',
      ports: [{ containerPort: 80, protocol: 'TCP' }],
      env: [{ name: 'A', value: 'b' }],
      resources: { limits: { cpu: '100m', memory: '64Mi' } },
    },
    { name: 'side', image: 'busybox', command: ['sleep', '3600'] },
  ],
  restartPolicy: 'Always',
  terminationGracePeriodSeconds: 5,
});

const KINDS: Kind[] = [
  {
    name: 'pod',
    group: '',
    version: 'v1',
    resource: 'pods',
    kind: 'Pod',
    namespaced: true,
    base: (name, ns) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, ...(ns ? { namespace: ns } : {}), labels: { app: 'fuzz', tier: 'web' }, annotations: { note: 'x' } }, spec: podSpec() }),
    names: Array.from({ length: 12 }, (_, i) => `pod-${i}`),
    fields: ['spec.nodeName', 'status.phase', 'spec.restartPolicy', 'spec.schedulerName', 'status.podIP'],
  },
  {
    name: 'deployment',
    group: 'apps',
    version: 'v1',
    resource: 'deployments',
    kind: 'Deployment',
    namespaced: true,
    base: (name, ns) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, ...(ns ? { namespace: ns } : {}), labels: { app: 'fuzz' } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: name } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
        template: { metadata: { labels: { app: name } }, spec: podSpec() },
      },
    }),
    names: Array.from({ length: 8 }, (_, i) => `deploy-${i}`),
    fields: [],
  },
  {
    name: 'service',
    group: '',
    version: 'v1',
    resource: 'services',
    kind: 'Service',
    namespaced: true,
    base: (name, ns) => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, ...(ns ? { namespace: ns } : {}), labels: { app: 'fuzz' } },
      spec: { selector: { app: 'fuzz' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], type: 'ClusterIP' },
    }),
    names: Array.from({ length: 8 }, (_, i) => `svc-${i}`),
    fields: [],
  },
  {
    name: 'configmap',
    group: '',
    version: 'v1',
    resource: 'configmaps',
    kind: 'ConfigMap',
    namespaced: true,
    base: (name, ns) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...(ns ? { namespace: ns } : {}), labels: { app: 'fuzz' } }, data: { key: 'value', 'app.properties': 'a=b\nc=d' } }),
    names: Array.from({ length: 8 }, (_, i) => `cm-${i}`),
    fields: [],
  },
  {
    name: 'namespace',
    group: '',
    version: 'v1',
    resource: 'namespaces',
    kind: 'Namespace',
    namespaced: false,
    base: (name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { team: 'fuzz' } } }),
    names: Array.from({ length: 6 }, (_, i) => `fuzz-ns-${i}`),
    fields: ['status.phase'],
  },
];

const INVALID_NAMES = ['', 'UPPER', 'has space', 'under_score', '-lead', 'trail-', 'a'.repeat(254), 'a'.repeat(64), 'dot..dot', '.', '..', 'ünïcödé', 'a/b', 'a%2Fb', 'x\u0000y', 'emoji-😀', '*', '${x}', 'name\n'];

function randomScalar(rng: Rng): Json {
  return rng.pick<() => Json>([
    () => '',
    () => rng.string(1 + rng.int(20)),
    () => 'x'.repeat(rng.chance(0.05) ? 300_000 : 300 + rng.int(3000)),
    () => '\u0000\u0001\ud800',
    () => '😀'.repeat(1 + rng.int(20)),
    () => rng.pick([0, -1, 1, 1.5, -0, 2 ** 31, 2 ** 53 + 1, 1e308, -1e308, Number.MAX_SAFE_INTEGER, 65536, 99999999999]),
    () => rng.chance(0.5),
    () => null,
    () => '100m',
    () => '1Gi',
    () => '-5Ki',
    () => 'NaN',
    () => '2026-11-30T00:00:00Z',
    () => '__proto__',
  ])();
}

function randomValue(rng: Rng, depth = 0): Json {
  if (depth > 3 || rng.chance(0.6)) return randomScalar(rng);
  if (rng.chance(0.5)) return Array.from({ length: rng.int(4) }, () => randomValue(rng, depth + 1));
  const o: Obj = {};
  for (let i = rng.int(4); i > 0; i--) o[rng.pick(['a', 'name', 'spec', 'metadata', '$patch', '__proto__', 'constructor', 'items', rng.string(3)])] = randomValue(rng, depth + 1);
  return o;
}

/** Every path (as keys) to a value inside `v`. */
function paths(v: Json, prefix: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      out.push([...prefix, i]);
      paths(x, [...prefix, i], out);
    });
  } else if (v !== null && typeof v === 'object') {
    for (const k of Object.keys(v)) {
      out.push([...prefix, k]);
      paths(v[k] as Json, [...prefix, k], out);
    }
  }
  return out;
}

function getAt(v: Json, path: Array<string | number>): Json | undefined {
  let cur: Json | undefined = v;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, Json>)[k as string];
  }
  return cur;
}

function parentOf(v: Json, path: Array<string | number>): { parent: Obj | Json[]; key: string | number } | undefined {
  if (path.length === 0) return undefined;
  const parent = getAt(v, path.slice(0, -1));
  if (parent === null || typeof parent !== 'object' || parent === undefined) return undefined;
  return { parent, key: path[path.length - 1] as string | number };
}

/** One structural mutation of a JSON object, in place. */
function mutateOnce(rng: Rng, obj: Obj, kind: Kind): void {
  const all = paths(obj);
  const at = all.length > 0 ? rng.pick(all) : [];
  const p = parentOf(obj, at);
  // Metadata already mutated into a non-object stays that way (the metadata mutations below then go nowhere).
  const meta = (obj.metadata !== null && typeof obj.metadata === 'object' && !Array.isArray(obj.metadata) ? obj.metadata : {}) as Obj;
  rng.weighted<() => void>([
    [
      6,
      () => {
        // Delete a field or list element.
        if (!p) return;
        if (Array.isArray(p.parent)) p.parent.splice(p.key as number, 1);
        else delete p.parent[p.key as string];
      },
    ],
    [
      8,
      () => {
        // Replace a value with something of another type (or an absurd one).
        if (!p) return;
        (p.parent as Record<string, Json>)[p.key as string] = randomValue(rng);
      },
    ],
    [
      5,
      () => {
        // An unknown field somewhere.
        const target = getAt(obj, rng.pick([[], ['metadata'], ['spec'], ...all]));
        if (target && typeof target === 'object' && !Array.isArray(target)) target[rng.pick(['bogus', 'unknownField', 'spec', 'Status', rng.string(5)])] = randomValue(rng);
      },
    ],
    [4, () => void (meta.name = rng.pick(INVALID_NAMES))],
    [2, () => void (meta.generateName = rng.pick(['gen-', 'GEN-', '', 'x'.repeat(300), '-']))],
    [1, () => void delete meta.name],
    [
      4,
      () => {
        // Wrong kind or apiVersion.
        if (rng.chance(0.5)) obj.kind = rng.pick(['Pod', 'Deployment', 'Service', 'ConfigMap', 'Namespace', 'Secret', 'pod', '', 'List', 'Status', 'DeleteOptions']);
        else obj.apiVersion = rng.pick(['v1', 'apps/v1', 'apps/v1beta1', 'extensions/v1beta1', 'v2', '', '/', 'apps/', 'batch/v1']);
        if (rng.chance(0.2)) obj.kind = randomScalar(rng);
      },
    ],
    [
      3,
      () => {
        // Labels and annotations that do not validate.
        const key = rng.pick(['app', 'a/b/c', '-x', 'x'.repeat(64), 'example.com/ok', 'UPPER/x', '', 'k8s.io/', 'a b']);
        const val = rng.pick(['', 'v', 'has space', 'x'.repeat(64), '-bad', 'ok.ok', 'ünï']);
        if (rng.chance(0.5)) meta.labels = { ...(meta.labels as Obj | undefined), [key]: rng.chance(0.8) ? val : randomValue(rng) };
        else meta.annotations = rng.chance(0.9) ? { ...(meta.annotations as Obj | undefined), [key]: val } : (randomValue(rng) as Json);
      },
    ],
    [
      2,
      () => {
        // Namespace in the body that disagrees with the URL, or server-owned fields.
        rng.pick<() => void>([
          () => void (meta.namespace = rng.pick(['other', '', 'kube-system', 'BAD NS', 'nope'])),
          () => void (meta.resourceVersion = rng.pick(['1', '0', '-1', 'abc', '99999999999999999999', '1.5', ''])),
          () => void (meta.uid = rng.string(10)),
          () => void (meta.deletionTimestamp = rng.pick(['2026-01-01T00:00:00Z', 'garbage'])),
          () => void (meta.finalizers = rng.pick([['x/y'], ['bad finalizer'], 'str' as unknown as string[], [1] as unknown as string[]])),
          () => void (meta.ownerReferences = [{ apiVersion: 'v1', kind: 'X', name: '', uid: '' }]),
          () => void (meta.creationTimestamp = randomScalar(rng)),
          () => void (meta.generation = randomScalar(rng)),
          () => void (meta.managedFields = [{ manager: 'x', operation: 'Bogus' }]),
        ])();
      },
    ],
    [
      1,
      () => {
        // Lists duplicated or swapped for objects.
        const lists = all.filter((q) => Array.isArray(getAt(obj, q)));
        if (lists.length === 0) return;
        const q = rng.pick(lists);
        const list = getAt(obj, q) as Json[];
        const pp = parentOf(obj, q);
        if (!pp) return;
        (pp.parent as Record<string, Json>)[pp.key as string] = rng.chance(0.5) ? [...list, ...list] : Object.fromEntries(list.map((x, i) => [String(i), x]));
      },
    ],
    [
      1,
      () => {
        // Keys that reach for the prototype.
        const target = getAt(obj, rng.pick([[], ['metadata'], ['spec'], ['metadata', 'labels']]));
        if (target && typeof target === 'object' && !Array.isArray(target)) {
          Object.defineProperty(target, rng.pick(['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString']), { value: randomValue(rng), enumerable: true, configurable: true, writable: true });
        }
      },
    ],
    [
      kind.name === 'service' ? 3 : kind.name === 'pod' || kind.name === 'deployment' ? 2 : 0,
      () => {
        // Kind-specific fields with out-of-range values.
        const spec = (obj.spec !== null && typeof obj.spec === 'object' && !Array.isArray(obj.spec) ? obj.spec : (obj.spec = {})) as Obj;
        rng.pick<() => void>([
          () => void (spec.type = rng.pick(['NodePort', 'LoadBalancer', 'ExternalName', 'Bogus', 'ClusterIP', ''])),
          () => void (spec.clusterIP = rng.pick(['None', '10.96.0.10', '1.2.3.4', '999.1.1.1', '', 'abc', '10.96.0.1'])),
          () => void (spec.ports = [{ port: rng.pick([0, -1, 65536, 80, 'http' as unknown as number]), nodePort: rng.pick([30000, 1, 99999, 32767]), protocol: rng.pick(['TCP', 'UDP', 'SCTP', 'ICMP']) }]),
          () => void (spec.replicas = rng.pick([-1, 0, 1.5, 1e9, '3' as unknown as number, null])),
          () => void (spec.selector = rng.pick<Json>([{}, { matchLabels: {} }, { matchExpressions: [{ key: 'a', operator: 'Bogus', values: [] }] }, 'x'])),
          () => void (spec.containers = rng.pick([[], [{}], [{ name: 'a' }], [{ name: 'a', image: 'x' }, { name: 'a', image: 'y' }], null])),
          () => void (spec.nodeName = rng.pick(['node-1', '', 'BAD NODE'])),
          () => void (spec.template = randomValue(rng)),
        ])();
      },
    ],
  ])();
}

// ---- bodies ----------------------------------------------------------------------------------------------------

interface Body {
  bytes: Buffer;
  contentType: string | undefined;
}

function serialize(rng: Rng, value: Json, preferred: string): Body {
  const yaml = rng.chance(0.12);
  let text: string;
  let contentType: string | undefined = yaml ? rng.pick(['application/yaml', 'application/yaml; charset=utf-8', 'application/x-yaml']) : preferred;
  if (yaml) {
    text = yamlStringify(value);
    if (rng.chance(0.4)) {
      text = rng.pick([
        // YAML that is not one plain JSON-compatible document.
        () => `${text}---\n${text}`,
        () => `a: &a [1, 2]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c]\n`,
        () => `${text}metadata:\n  name: dup\n`,
        () => text.replace(/name: /, 'name: !!binary '),
        () => text.replace(/name: (.*)/, 'name: !!timestamp 2001-12-14'),
        () => `${text}extra: !!set {a, b}\n`,
        () => `${text}extra: !!omap [a: 1]\n`,
        () => `${text}extra: !custom x\n`,
        () => text.replace(/^ {2}/m, '\t'),
        () => `kind: [\n`,
        () => `? [a, b]\n: c\n`,
        () => `metadata: {name: "x", labels: {a: 1, b: true, c: null, d: 1.0}}\n`,
        () => `%YAML 1.1\n---\n${text}`,
        () => `!!str ${text}`,
        () => '',
      ] as Array<() => string>)();
    }
  } else {
    text = JSON.stringify(value);
  }
  let bytes: Buffer = Buffer.from(text, 'utf8');
  if (rng.chance(0.15)) bytes = mutateBytes(rng, bytes);
  if (rng.chance(0.05)) {
    contentType = rng.pick([undefined, '', 'text/plain', 'application/x-www-form-urlencoded', 'APPLICATION/JSON', 'application/json;charset=latin1', 'application/vnd.kubernetes.protobuf', 'application/cbor', 'multipart/form-data; boundary=x', '*/*', 'application/json, application/yaml', ';;;']);
  }
  return { bytes, contentType };
}

function mutateBytes(rng: Rng, b: Buffer): Buffer {
  const cut = b.length > 0 ? rng.int(b.length) : 0;
  return rng.pick<() => Buffer>([
    () => b.subarray(0, cut),
    () => Buffer.concat([b.subarray(0, cut), Buffer.from([rng.int(256)]), b.subarray(cut)]),
    () => {
      const c = Buffer.from(b);
      if (c.length > 0) c[cut] = rng.int(256);
      return c;
    },
    () => Buffer.concat([b, Buffer.from(rng.pick(['}', ']', ',', ' garbage', '\u0000', '{}', '\n---\n']))]),
    () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), b]),
    () => Buffer.concat([b.subarray(0, cut), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), b.subarray(cut)]),
    () => Buffer.from(rng.pick(['', 'null', 'true', '42', '"str"', '[]', '[{}]', '{', '{"a":', '{"metadata":null}', '{"metadata":[]}', '{"metadata":"x"}', '\u0000\u0000', '{"kind":"Pod","apiVersion":"v1","metadata":{"name":"x"}}{}'])),
    () => Buffer.from(`${'['.repeat(200_000)}${']'.repeat(200_000)}`),
    () => Buffer.from(`${'{"a":'.repeat(150)}1${'}'.repeat(150)}`),
    () => Buffer.from(`${'a:\n' + ' '.repeat(2)}`.repeat(1) + `${Array.from({ length: 150 }, (_, i) => `${' '.repeat(i)}a:`).join('\n')}\n`),
  ])();
}

function patchBody(rng: Rng, kind: Kind, current: Obj): Body {
  const type = rng.weighted<string>([
    [4, 'application/merge-patch+json'],
    [4, 'application/strategic-merge-patch+json'],
    [4, 'application/json-patch+json'],
    [1, 'application/apply-patch+yaml'],
    [1, rng.pick(['application/json', 'text/plain', '', 'application/merge-patch+json; charset=utf-8', 'application/strategic-merge-patch+json;charset=UTF-8', 'application/JSON-PATCH+JSON'])],
  ]);
  if (type.toLowerCase().includes('json-patch')) {
    const all = paths(current).map((p) => `/${p.map((k) => String(k).replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`);
    const pointer = (): string =>
      rng.weighted<string>([
        [6, all.length > 0 ? rng.pick(all) : '/metadata'],
        [2, `${all.length > 0 ? rng.pick(all) : ''}/${rng.pick(['-', 'new', '0', '99999999999', '-1', '~2', '~', '', '01'])}`],
        [1, rng.pick(['', '/', 'metadata', '//', '/~', '/metadata/name/x', '/spec/containers/-/name', '/metadata/labels/a~1b', '/__proto__/polluted', '/constructor/prototype/x'])],
        [1, randomScalar(rng) as string],
      ]);
    const op = (): Json => {
      const o: Obj = { op: rng.weighted([[3, 'add'], [3, 'replace'], [2, 'remove'], [1, 'move'], [1, 'copy'], [2, 'test'], [1, rng.pick(['bogus', '', 'ADD', 'Add'])]]), path: pointer() };
      if (rng.chance(0.8)) o.value = rng.chance(0.5) ? (getAt(current, String(o.path).split('/').slice(1)) ?? randomValue(rng)) : randomValue(rng);
      if (rng.chance(0.3)) o.from = pointer();
      if (rng.chance(0.1)) delete o.path;
      return o;
    };
    const ops: Json = rng.weighted<() => Json>([
      [10, () => Array.from({ length: 1 + rng.int(4) }, op)],
      [1, () => Array.from({ length: 10_001 }, () => ({ op: 'test', path: '/metadata/name', value: (current.metadata as Obj | undefined)?.name ?? '' }))],
      [1, () => Array.from({ length: 30 }, () => ({ op: 'copy', from: '/spec', path: '/spec/x' }))],
      [2, () => randomValue(rng)],
    ])();
    return { bytes: rng.chance(0.1) ? mutateBytes(rng, Buffer.from(JSON.stringify(ops))) : Buffer.from(JSON.stringify(ops)), contentType: type };
  }
  // Merge and strategic patches: part of a mutated object, with strategic directives mixed in.
  const mutated = structuredClone(current);
  for (let i = 1 + rng.int(3); i > 0; i--) mutateOnce(rng, mutated, kind);
  let patch: Json = rng.weighted<() => Json>([
    [4, () => ({ metadata: { labels: { fuzz: rng.string(3, 'abc') } } })],
    [4, () => ({ spec: mutated.spec ?? null })],
    [3, () => mutated],
    [2, () => ({ metadata: mutated.metadata ?? null })],
    [1, () => randomValue(rng)],
    [1, () => null],
    [1, () => ({ kind: rng.pick(['Pod', 'Nope', 1]), apiVersion: rng.pick(['v9', 1]) })],
  ])();
  if (rng.chance(0.35) && patch !== null && typeof patch === 'object' && !Array.isArray(patch)) {
    const directive = rng.pick<() => Obj>([
      () => ({ $patch: rng.pick(['delete', 'replace', 'merge', 'bogus', 1]) }),
      () => ({ $retainKeys: rng.pick([['name'], 'x', [1], []]) }),
      () => ({ '$setElementOrder/containers': rng.pick([[{ name: 'web' }, { name: 'side' }], [{ nope: 1 }], 'x', [1]]) }),
      () => ({ '$deleteFromPrimitiveList/finalizers': rng.pick([['a'], 'x']) }),
      () => ({ containers: [{ name: rng.pick(['web', 'new', 1, null]), $patch: rng.pick(['delete', 'replace', 'x']) }] }),
      () => ({ containers: rng.pick([[{ image: 'no-name' }], [{ $patch: 'delete' }], { a: 1 }, [[1]], 'str']) }),
      () => ({ ports: [{ port: 80, $patch: 'delete' }, { $retainKeys: ['port'] }] as Json }),
      () => ({ $patch: 'replace', [rng.string(3)]: randomValue(rng) }),
    ])();
    const target = rng.pick([patch, ((patch as Obj).spec ??= {}) as Json, ((patch as Obj).metadata ??= {}) as Json]);
    if (target !== null && typeof target === 'object' && !Array.isArray(target)) Object.assign(target, directive);
  }
  const body = serialize(rng, patch, type);
  return { bytes: body.bytes, contentType: body.contentType?.includes('yaml') ? type : body.contentType };
}

// ---- requests --------------------------------------------------------------------------------------------------

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Watches stream: read for at most this long, then hang up. */
  watch?: boolean;
  /** What the request is, for failure messages. */
  label: string;
}

/**
 * A DELETE of a whole collection deletes item by item, as upstream's does: an error part way (a 403 for an immortal
 * namespace) ends it with the items before it deleted, so such a request may fail and still have written.
 */
function deletesCollection(r: FuzzRequest): boolean {
  const path = r.path.split('?')[0] ?? '';
  return r.method === 'DELETE' && /^\/(api\/v1|apis\/[^/]+\/[^/]+)(\/namespaces\/[^/]+)?\/[^/]+\/?$/.test(path);
}

function collectionPath(kind: Kind, ns: string | undefined): string {
  const root = kind.group ? `/apis/${kind.group}/${kind.version}` : `/api/${kind.version}`;
  return kind.namespaced && ns !== undefined ? `${root}/namespaces/${encodeURIComponent(ns)}/${kind.resource}` : `${root}/${kind.resource}`;
}

function pickNamespace(rng: Rng): string {
  return rng.weighted([
    [20, 'default'],
    [3, 'fuzz-a'],
    [1, 'missing'],
    [1, rng.pick(['', 'UPPER', 'kube-system', 'a'.repeat(70), '%', '..'])],
  ]);
}

function labelSelector(rng: Rng): string {
  const key = (): string => rng.pick(['app', 'tier', 'fuzz', 'example.com/x', 'a'.repeat(70), 'bad key', '', '-x', 'a/b/c', '😀', rng.string(4)]);
  const val = (): string => rng.pick(['fuzz', 'web', '', 'x'.repeat(64), 'a b', '😀', rng.string(3)]);
  const req = (): string =>
    rng.pick<() => string>([
      () => `${key()}=${val()}`,
      () => `${key()}==${val()}`,
      () => `${key()}!=${val()}`,
      () => `${key()} in (${Array.from({ length: rng.int(4) }, val).join(',')})`,
      () => `${key()} notin (${val()})`,
      () => `!${key()}`,
      () => key(),
      () => `${key()}>${rng.pick(['1', 'x', '-5', '1e400'])}`,
      () => `${key()}<${rng.int(10)}`,
      () => rng.string(1 + rng.int(10)),
    ])();
  // Absurd but deliverable: Node refuses request heads over 16 KiB (431), so most absurd selectors stay under that
  // once percent-encoded, and a few go over it.
  const absurd = (s: string): string => (rng.chance(0.1) ? s : s.slice(0, 3000));
  return rng.weighted<() => string>([
    [10, () => Array.from({ length: 1 + rng.int(3) }, req).join(',')],
    [1, () => absurd(Array.from({ length: 3000 }, req).join(','))],
    [1, () => absurd(`a in (${Array.from({ length: 20_000 }, (_, i) => `v${i}`).join(',')})`)],
    [1, () => absurd(`${'('.repeat(10_000)}a${')'.repeat(10_000)}`)],
    [1, () => absurd(`${'!'.repeat(10_000)}a`)],
    [1, () => ','.repeat(1 + rng.int(1000))],
  ])();
}

function fieldSelector(rng: Rng, kind: Kind): string {
  const field = (): string => rng.pick(['metadata.name', 'metadata.namespace', ...kind.fields, 'spec.bogus', 'status', '', 'metadata.labels', rng.string(5)]);
  const one = (): string => rng.pick<() => string>([() => `${field()}=${rng.pick(['pod-1', '', 'x y', 'Running'])}`, () => `${field()}==x`, () => `${field()}!=x`, () => field(), () => `${field()} in (a)`, () => `${field()}=a=b`, () => `${field()}=\\`, () => rng.string(6)])();
  return rng.weighted<() => string>([
    [8, () => Array.from({ length: 1 + rng.int(3) }, one).join(',')],
    [1, () => Array.from({ length: 3000 }, one).join(',').slice(0, rng.chance(0.1) ? undefined : 3000)],
  ])();
}

function continueToken(rng: Rng, prefix: string): string {
  const raw = rng.pick<() => string>([
    () => JSON.stringify({ v: 'meta.k8s.io/v1', rv: rng.pick([1, 0, -1, 2 ** 53, 1e308, 1.5, 99999]), start: `${prefix}${rng.pick(['', 'default/', 'default/pod-1\u0000', '\uffff'])}` }),
    () => JSON.stringify({ rv: rng.pick(['1', null, {}]), start: prefix }),
    () => JSON.stringify({ rv: 1, start: rng.pick(['/registry/secrets/', '', '/', prefix.slice(0, -2)]) }),
    () => JSON.stringify({ rv: 1, start: 42 }),
    () => 'null',
    () => '[]',
    () => rng.string(20),
  ])();
  return rng.chance(0.8) ? Buffer.from(raw).toString('base64url') : raw;
}

function queryString(rng: Rng, kind: Kind, list: boolean): string {
  const q = new URLSearchParams();
  if (list) {
    if (rng.chance(0.5)) q.set('labelSelector', labelSelector(rng));
    if (rng.chance(0.35)) q.set('fieldSelector', fieldSelector(rng, kind));
    if (rng.chance(0.3)) q.set('limit', rng.pick(['1', '2', '0', '-1', '1.5', 'abc', '1e3', '99999999999999999999', '', ' 1']));
    if (rng.chance(0.2)) q.set('continue', continueToken(rng, kind.group ? `/registry/${kind.group}/${kind.resource}/` : `/registry/${kind.resource}/`));
  }
  if (rng.chance(0.2)) q.set('resourceVersion', rng.pick(['0', '1', '', '-1', 'abc', '99999999999', '99999999999999999999999', '1.0']));
  if (rng.chance(0.05)) q.set('resourceVersionMatch', rng.pick(['NotOlderThan', 'Exact', 'bogus']));
  if (rng.chance(0.05)) q.set('timeoutSeconds', rng.pick(['1', '-1', 'x']));
  if (rng.chance(0.05)) q.set('pretty', 'true');
  if (rng.chance(0.04)) q.append('dryRun', rng.pick(['All', 'all', '', 'x']));
  if (rng.chance(0.04)) q.set('fieldValidation', rng.pick(['Strict', 'Warn', 'Ignore', 'strict', 'bogus']));
  if (rng.chance(0.03)) q.set('includeObject', rng.pick(['Object', 'None', 'x']));
  if (rng.chance(0.02)) q.set(rng.string(4), rng.string(4));
  const s = q.toString();
  // Now and then a raw query string that URLSearchParams would have escaped.
  if (rng.chance(0.03)) return `?${rng.pick(['labelSelector=%ZZ', 'limit=%', '&&&', '=', 'watch', 'a=%00', 'labelSelector=a%2Cb%3D', 'fieldSelector=%E0%A4%A'])}`;
  return s ? `?${s}` : '';
}

function headersFor(rng: Rng, contentType: string | undefined): Record<string, string> {
  const h: Record<string, string> = {};
  if (contentType !== undefined) h['Content-Type'] = contentType;
  h.Accept = rng.weighted([
    [20, 'application/json'],
    [2, 'application/json;as=Table;v=v1;g=meta.k8s.io, application/json'],
    [1, 'application/yaml'],
    [1, 'application/vnd.kubernetes.protobuf'],
    [1, 'text/html'],
    [1, '*/*'],
    [1, ''],
    [1, 'application/json;as=Table;v=v1;g=meta.k8s.io'],
  ]);
  if (rng.chance(0.02)) h['Content-Encoding'] = 'gzip';
  if (rng.chance(0.02)) h['Impersonate-User'] = 'someone';
  if (rng.chance(0.01)) h.Expect = '100-continue';
  return h;
}

/** Sometimes the path itself is what is broken. */
function mutatePath(rng: Rng, path: string): string {
  return rng.pick<() => string>([
    () => `${path}/`,
    () => `${path}//x`,
    () => path.replace('/namespaces/', '/namespaces//'),
    () => `${path}/${rng.pick(['status', 'scale', 'binding', 'log', 'exec', 'eviction', 'finalize', 'proxy', 'ephemeralcontainers', 'x', '..', '%2e%2e', 'a/b/c'])}`,
    () => `${path}/%ZZ`,
    () => `${path}%00`,
    () => path.replace(/\/[^/]+$/, '/%E0%A4%A'),
    () => path.replace('/v1/', rng.pick(['/v2/', '/v1beta1/', '//', '/V1/'])),
    () => path.replace(/\/apis?\//, rng.pick(['/apis/nope/', '/api/', '/apis/', '/'])),
    () => `${path}/${'x'.repeat(10_000)}`,
    () => rng.pick(['/', '/api', '/apis', '/apis/apps', '/api/v1/namespaces/default/pods/x/status/extra/more', '/healthz/x', '/openapi/v3/apis/nope/v1', '/version?x=%ZZ', '*', '/api/v1/namespaces/default/pods/x?watch=true&timeoutSeconds=1']),
  ])();
}

function objectName(rng: Rng, kind: Kind): string {
  return rng.weighted([
    [20, rng.pick(kind.names)],
    [1, rng.pick(INVALID_NAMES)],
    [1, 'does-not-exist'],
  ]);
}

function generate(rng: Rng, i: number, allowWrites = true): FuzzRequest {
  const kind = rng.weighted(KINDS.map((k) => [k.name === 'pod' ? 3 : 2, k] as const));
  const ns = kind.namespaced ? pickNamespace(rng) : undefined;
  const name = objectName(rng, kind);
  const collection = collectionPath(kind, ns);
  const item = `${collection}/${encodeURIComponent(name)}`;
  const verb = rng.weighted<string>([
    [6, 'create'],
    [3, 'update'],
    [6, 'patch'],
    [2, 'delete'],
    [kind.name === 'namespace' ? 0 : 0.3, 'deletecollection'],
    [2, 'get'],
    [5, 'list'],
    [allowWrites ? 1.2 : 0.8, 'watch'],
    [0.12, 'huge'],
    [0.3, 'weird'],
  ]);
  const base = kind.base(name, rng.chance(0.7) ? ns : undefined);
  const mutated = structuredClone(base);
  const mutations = rng.weighted([
    [2, 0],
    [5, 1],
    [3, 2],
    [2, 4],
  ]);
  for (let m = 0; m < mutations; m++) mutateOnce(rng, mutated, kind);
  let req: FuzzRequest;
  switch (verb) {
    case 'create': {
      // A body without a name would be unique each time; let generateName exercise that instead now and then.
      const body = serialize(rng, mutated, 'application/json');
      req = { method: 'POST', path: rng.chance(0.05) ? item : collection, headers: headersFor(rng, body.contentType), body: body.bytes, label: `create ${kind.name} (${mutations} mutations)` };
      break;
    }
    case 'update': {
      const body = serialize(rng, mutated, 'application/json');
      req = { method: 'PUT', path: rng.chance(0.05) ? collection : `${item}${rng.chance(0.15) ? rng.pick(['/status', '/scale', '/finalize', '/ephemeralcontainers']) : ''}`, headers: headersFor(rng, body.contentType), body: body.bytes, label: `update ${kind.name}` };
      break;
    }
    case 'patch': {
      const body = patchBody(rng, kind, base);
      req = { method: 'PATCH', path: `${item}${rng.chance(0.12) ? rng.pick(['/status', '/scale', '/ephemeralcontainers']) : ''}`, headers: headersFor(rng, body.contentType), body: body.bytes, label: `patch ${kind.name} ${body.contentType ?? ''}` };
      break;
    }
    case 'delete': {
      // Never the built-in namespaces: a terminating "default" would turn every later create into a 403.
      const target = kind.name === 'namespace' ? `${collection}/${encodeURIComponent(rng.pick(kind.names))}` : item;
      const opts: Obj = {};
      if (rng.chance(0.4)) opts.gracePeriodSeconds = randomScalar(rng);
      if (rng.chance(0.3)) opts.propagationPolicy = rng.pick(['Orphan', 'Background', 'Foreground', 'bogus', '']);
      if (rng.chance(0.2)) opts.preconditions = rng.pick<Json>([{ uid: 'x' }, { resourceVersion: '1' }, 'x', null, { uid: 5 }]);
      if (rng.chance(0.1)) opts.kind = 'DeleteOptions';
      const body = rng.chance(0.5) ? serialize(rng, rng.chance(0.1) ? randomValue(rng) : opts, 'application/json') : undefined;
      const q = rng.chance(0.2) ? `?${rng.pick(['gracePeriodSeconds=-1', 'gracePeriodSeconds=abc', 'gracePeriodSeconds=0', 'gracePeriodSeconds=1e400', 'propagationPolicy=x', 'dryRun=All', 'dryRun=x'])}` : '';
      req = { method: 'DELETE', path: `${target}${q}`, headers: headersFor(rng, body?.contentType), ...(body ? { body: body.bytes } : {}), label: `delete ${kind.name}` };
      break;
    }
    case 'deletecollection':
      req = { method: 'DELETE', path: `${collection}${queryString(rng, kind, true) || '?labelSelector=nothing-matches'}`, headers: headersFor(rng, undefined), label: `deletecollection ${kind.name}` };
      break;
    case 'get':
      req = { method: rng.chance(0.9) ? 'GET' : 'HEAD', path: `${item}${rng.chance(0.1) ? rng.pick(['/status', '/scale', '/log', '/bogus']) : ''}${queryString(rng, kind, false)}`, headers: headersFor(rng, undefined), label: `get ${kind.name}` };
      break;
    case 'list':
      req = { method: 'GET', path: `${rng.chance(0.2) && kind.namespaced ? collectionPath(kind, undefined) : collection}${queryString(rng, kind, true)}`, headers: headersFor(rng, undefined), label: `list ${kind.name}` };
      break;
    case 'watch': {
      const q = queryString(rng, kind, true);
      const extra = `watch=${rng.pick(['true', '1', 'true', 'false', 'yes'])}&timeoutSeconds=1${rng.chance(0.3) ? '&allowWatchBookmarks=true' : ''}`;
      req = { method: 'GET', path: `${rng.chance(0.15) ? item : collection}${q ? `${q}&${extra}` : `?${extra}`}`, headers: headersFor(rng, undefined), watch: true, label: `watch ${kind.name}` };
      break;
    }
    case 'huge': {
      // Just over the limit: an object with a huge annotation, as JSON or as YAML.
      const big = structuredClone(base);
      ((big.metadata as Obj).annotations as Obj) = { big: 'x'.repeat(MAX_BODY_BYTES + 1 + rng.int(1024)) };
      const yaml = rng.chance(0.3);
      const bytes = Buffer.from(yaml ? yamlStringify(big) : JSON.stringify(big));
      req = { method: rng.pick(['POST', 'PUT', 'PATCH']), path: collection, headers: { 'Content-Type': yaml ? 'application/yaml' : 'application/merge-patch+json', Accept: 'application/json' }, body: bytes, label: `huge body ${kind.name}` };
      if (req.method !== 'POST') req.path = item;
      if (req.method === 'POST') req.headers['Content-Type'] = yaml ? 'application/yaml' : 'application/json';
      break;
    }
    default: {
      // Odd methods and broken paths.
      const body = rng.chance(0.5) ? serialize(rng, mutated, 'application/json') : undefined;
      const method = rng.pick(['OPTIONS', 'TRACE', 'PROPFIND', 'CONNECT', 'POST', 'PUT', 'PATCH', 'DELETE', 'GET', 'GET', 'GET']);
      req = { method: method === 'CONNECT' ? 'GET' : method, path: mutatePath(rng, rng.chance(0.5) ? item : collection), headers: headersFor(rng, body?.contentType), ...(body ? { body: body.bytes } : {}), label: `weird ${method}` };
      if (req.path.includes('watch=true')) req.watch = true;
    }
  }
  if (!allowWrites && req.method !== 'GET' && req.method !== 'HEAD') req.label += ' (checked)';
  req.label = `#${i} ${req.label}`;
  return req;
}

// ---- sending ---------------------------------------------------------------------------------------------------

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** A transport error instead of an answer (reset, timeout). */
  error?: string;
}

function send(port: number, agent: Agent, r: FuzzRequest): Promise<Answer> {
  return new Promise((resolve) => {
    const headers: Record<string, string | number> = { ...r.headers };
    if (r.body) headers['Content-Length'] = r.body.length;
    let settled = false;
    const done = (a: Answer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(a);
    };
    const req = httpRequest({ host: '127.0.0.1', port, method: r.method, path: r.path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', (err) => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), ...(r.watch ? {} : { error: err.message }) }));
      res.on('aborted', () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), ...(r.watch ? {} : { error: 'aborted' }) }));
    });
    // Watches end by their timeoutSeconds=1; give every request a generous bound so a hang is a failure, not a stall.
    const timer = setTimeout(() => {
      if (r.watch) {
        req.destroy();
        return;
      }
      req.destroy(new Error('no answer within 15 s'));
    }, r.watch ? 2500 : 15_000);
    req.on('error', (err) => done({ status: 0, headers: {}, body: Buffer.alloc(0), error: err.message }));
    req.on('close', () => done({ status: 0, headers: {}, body: Buffer.alloc(0), error: r.watch ? undefined : 'closed without an answer' } as Answer));
    if (r.body) req.end(r.body);
    else req.end();
  });
}

interface Failure {
  request: string;
  why: string;
}

function describeRequest(r: FuzzRequest): string {
  const body = r.body ? ` body(${r.body.length} B)=${JSON.stringify(r.body.subarray(0, 300).toString('utf8'))}` : '';
  return `${r.label}: ${r.method} ${r.path.length > 300 ? `${r.path.slice(0, 300)}...(${r.path.length} chars)` : r.path} ${JSON.stringify(r.headers)}${body}`;
}

/** What must hold of every answer: below 500, and a failure comes as a Status with the same code. */
function check(r: FuzzRequest, a: Answer): string | undefined {
  const over = r.body !== undefined && r.body.length > MAX_BODY_BYTES;
  if (a.error !== undefined) {
    // A client still uploading past the limit may see the connection go before it reads the 413.
    if (over && a.status === 0) return undefined;
    return `transport error: ${a.error}`;
  }
  if (a.status >= 500 || a.status < 100) return `answered ${a.status}: ${a.body.subarray(0, 500).toString('utf8')}`;
  // Over the limit: 413, or another 4xx when the request fails before its body is read (a path that does not exist).
  if (over && a.status < 400) return `a body over ${MAX_BODY_BYTES} bytes got ${a.status}`;
  if (r.watch && a.status === 200) {
    // Errors inside a watch stream are Status objects too, and never 5xx.
    for (const line of a.body.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      let ev: { type?: string; object?: { kind?: string; code?: number } };
      try {
        ev = JSON.parse(line) as typeof ev;
      } catch {
        // The client hung up mid-event; only a complete line is an event.
        continue;
      }
      if (ev.type === 'ERROR' && (ev.object?.kind !== 'Status' || (ev.object.code ?? 500) >= 500)) return `watch ERROR event: ${line.slice(0, 500)}`;
    }
    return undefined;
  }
  if (a.status >= 400 && r.method !== 'HEAD') {
    let status: { kind?: string; code?: number; status?: string };
    try {
      status = JSON.parse(a.body.toString('utf8')) as typeof status;
    } catch {
      return `answered ${a.status} without a JSON body: ${a.body.subarray(0, 300).toString('utf8')}`;
    }
    if (status.kind !== 'Status' || status.code !== a.status || status.status !== 'Failure') return `answered ${a.status} with a body that is not a matching Status: ${a.body.subarray(0, 300).toString('utf8')}`;
  }
  return undefined;
}

// ---- the tests -------------------------------------------------------------------------------------------------

describe(`API server fuzz (${REPLAY})`, () => {
  let store: MemoryStore;
  let server: ApiServer;
  let port: number;
  const internalErrors: string[] = [];

  beforeAll(async () => {
    process.stderr.write(`apiserver fuzz: ${REPLAY}\n`);
    store = new MemoryStore();
    // Internal errors the server logs count as failures even when the client never saw them (a reset connection).
    const logger = pino({ level: 'error' }, { write: (line: string) => void internalErrors.push(line) });
    const allocator = new ServiceAllocator('10.96.0.0/12', '30000-32767');
    // Wired as `skiff control` wires it, apart from TLS and authentication: namespace lifecycle and IP allocation.
    server = new ApiServer({ store, logger, admission: chainAdmission([namespaceLifecycle(new ObjectStorage(store)), allocator.admission()]) });
    await ensureSystemNamespaces(server.rest);
    port = await server.listen(0, '127.0.0.1');
    const ok = await send(port, new Agent(), { method: 'POST', path: '/api/v1/namespaces', headers: { 'Content-Type': 'application/json' }, body: Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fuzz-a' } })), label: 'setup' });
    expect(ok.status).toBe(201);
  });

  afterAll(async () => {
    await server?.close();
    await store?.close();
  });

  const revision = async (): Promise<number> => (await store.range({ key: '/', rangeEnd: '\0', countOnly: true })).header.revision;

  it(`answers ${REQUESTS} mutated requests with < 500 and a Status for every failure, and writes nothing on a failure`, async () => {
    const rng = new Rng(SEED);
    let agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const watchAgent = new Agent({ keepAlive: false, maxSockets: 64 });
    const failures: Failure[] = [];
    const counts = { total: 0, byStatus: new Map<number, number>(), checkedWrites: 0, checkedRejected: 0, watches: 0, transportErrors: 0 };
    const started = Date.now();
    const msByKind = new Map<string, number>();
    const record = (r: FuzzRequest, a: Answer, ms: number): void => {
      const what = r.label.split(' ')[1] ?? '?';
      msByKind.set(what, (msByKind.get(what) ?? 0) + ms);
      counts.total++;
      counts.byStatus.set(a.status, (counts.byStatus.get(a.status) ?? 0) + 1);
      if (a.error) counts.transportErrors++;
      if (r.watch) counts.watches++;
      const why = check(r, a);
      if (why && failures.length < 50) failures.push({ request: describeRequest(r), why });
    };

    // Blocks alternate: concurrent requests (interleavings), then one at a time with the store's revision checked
    // around every failed write (no partial write).
    const BLOCK = 500;
    let i = 0;
    let block = 0;
    while (i < REQUESTS) {
      const n = Math.min(BLOCK, REQUESTS - i);
      // Fresh connections for every block: a keep-alive socket left idle past the server's keepAliveTimeout (5 s)
      // can be closed by the server just as the client reuses it, an ECONNRESET that is nobody's bug.
      agent.destroy();
      agent = new Agent({ keepAlive: true, maxSockets: 16 });
      if (block % 3 !== 2) {
        const reqs = Array.from({ length: n }, (_, k) => generate(rng, i + k));
        let next = 0;
        const worker = async (): Promise<void> => {
          while (next < reqs.length) {
            const r = reqs[next++] as FuzzRequest;
            const t0 = Date.now();
            record(r, await send(port, r.watch ? watchAgent : agent, r), Date.now() - t0);
          }
        };
        await Promise.all(Array.from({ length: 12 }, worker));
      } else {
        for (let k = 0; k < n; k++) {
          const r = generate(rng, i + k, false);
          // Watches are left to the concurrent blocks: one at a time they would take a second each.
          if (r.watch) {
            k--;
            continue;
          }
          const write = r.method !== 'GET' && r.method !== 'HEAD';
          const before = write ? await revision() : 0;
          const t0 = Date.now();
          const a = await send(port, agent, r);
          record(r, a, Date.now() - t0);
          if (write) {
            counts.checkedWrites++;
            if (a.status >= 400 || a.status === 0) {
              counts.checkedRejected++;
              const after = await revision();
              if (after !== before && !deletesCollection(r) && failures.length < 50) failures.push({ request: describeRequest(r), why: `answered ${a.status} but the store moved from revision ${before} to ${after}` });
            }
          }
        }
      }
      i += n;
      block++;
    }
    agent.destroy();
    watchAgent.destroy();

    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const statuses = [...counts.byStatus.entries()].sort((a, b) => a[0] - b[0]).map(([s, c]) => `${s}:${c}`).join(' ');
    const slowest = [...msByKind.entries()].sort((a, b) => b[1] - a[1]).map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)}`).join(', ');
    process.stderr.write(`apiserver fuzz: ${counts.total} requests in ${seconds} s (${counts.watches} watches, ${counts.checkedWrites} writes checked for partial writes, ${counts.checkedRejected} of them rejected); statuses ${statuses}; request-seconds by kind: ${slowest}\n`);

    // The server is still there and still sane.
    const health = await send(port, new Agent(), { method: 'GET', path: '/healthz', headers: {}, label: 'healthz' });
    expect(health.status, REPLAY).toBe(200);
    for (const kind of KINDS) {
      const list = await send(port, new Agent(), { method: 'GET', path: collectionPath(kind, undefined), headers: { Accept: 'application/json' }, label: `final list ${kind.name}` });
      expect(list.status, `${REPLAY}: listing ${kind.resource} after the fuzz: ${list.body.subarray(0, 300).toString('utf8')}`).toBe(200);
    }

    expect(counts.total, REPLAY).toBeGreaterThanOrEqual(REQUESTS);
    const report = failures.map((f) => `  ${f.why}\n    ${f.request}`).join('\n');
    expect(failures.length, `${REPLAY}: ${failures.length} bad answers:\n${report}`).toBe(0);
    expect(internalErrors, `${REPLAY}: the server logged internal errors`).toEqual([]);
    // A fuzz that only ever hit 400s would prove little: some mutated requests must still succeed.
    expect(counts.byStatus.get(201) ?? 0, REPLAY).toBeGreaterThan(REQUESTS / 200);
    expect(counts.byStatus.get(200) ?? 0, REPLAY).toBeGreaterThan(REQUESTS / 20);
  });

  // ---- slow and half-open connections ----

  const rawConnect = (): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => resolve(s));
      s.once('error', reject);
    });

  const timedGet = async (path: string): Promise<{ status: number; ms: number }> => {
    const t0 = Date.now();
    const a = await send(port, new Agent(), { method: 'GET', path, headers: { Accept: 'application/json' }, label: 'probe' });
    return { status: a.status, ms: Date.now() - t0 };
  };

  const configMapNames = async (): Promise<string[]> => {
    const cms = await send(port, new Agent(), { method: 'GET', path: '/api/v1/namespaces/default/configmaps', headers: {}, label: 'list' });
    return (JSON.parse(cms.body.toString()) as { items: Array<{ metadata: { name: string } }> }).items.map((c) => c.metadata.name);
  };

  it('keeps answering others while clients stall after their headers, mid-body, or half-close their side', async () => {
    const logged = internalErrors.length;
    const before = await configMapNames();
    const sockets: Socket[] = [];
    const errors: string[] = [];
    const open = async (): Promise<Socket> => {
      const s = await rawConnect();
      s.on('error', (e) => errors.push(e.message));
      s.on('data', () => undefined);
      sockets.push(s);
      return s;
    };
    // 1. Headers not finished, then silence (slowloris).
    for (let k = 0; k < 20; k++) (await open()).write(`GET /api/v1/namespaces/default/pods HTTP/1.1\r\nHost: x\r\nX-Slow: `);
    // 2. Full headers promising a body that never comes.
    for (let k = 0; k < 20; k++) (await open()).write(`POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"apiVersion":"v1",`);
    // 3. Chunked body started and left open.
    for (let k = 0; k < 10; k++) (await open()).write(`PATCH /api/v1/namespaces/default/configmaps/cm-0 HTTP/1.1\r\nHost: x\r\nContent-Type: application/merge-patch+json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"a":`);
    // 4. Connected and silent.
    for (let k = 0; k < 10; k++) await open();
    // 5. Half-open: the request sent, the client's side shut, its answer never read.
    for (let k = 0; k < 10; k++) {
      const s = await open();
      s.pause();
      s.end(`GET /api/v1/namespaces/default/pods HTTP/1.1\r\nHost: x\r\n\r\n`);
    }
    // 6. Half-open mid-body: the client shuts its side before sending the body it announced.
    for (let k = 0; k < 10; k++) (await open()).end(`POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"a"`);
    // 7. A slow body: one byte every 50 ms while the probes run.
    const slow = await open();
    const payload = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"slow-cm"},"data":{"a":"b"}}`;
    slow.write(`POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${payload.length}\r\nConnection: close\r\n\r\n`);
    let slowAnswer = '';
    slow.on('data', (d: Buffer) => (slowAnswer += d.toString()));
    let sent = 0;
    const dribble = setInterval(() => {
      if (sent < payload.length) slow.write(payload[sent++] as string);
    }, 5);

    // Everyone else gets answered promptly meanwhile.
    const probes = await Promise.all(Array.from({ length: 50 }, (_, k) => timedGet(k % 2 ? '/healthz' : '/api/v1/namespaces/default/pods?limit=5')));
    for (const p of probes) {
      expect(p.status, REPLAY).toBe(200);
      expect(p.ms, 'a probe waited behind stalled clients').toBeLessThan(2000);
    }
    const write = await send(port, new Agent(), {
      method: 'POST',
      path: '/api/v1/namespaces/default/configmaps',
      headers: { 'Content-Type': 'application/json' },
      body: Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'while-stalled' } })),
      label: 'write while stalled',
    });
    expect(write.status, write.body.toString()).toBe(201);

    // The slow body completes and is answered like any other request.
    const deadline = Date.now() + 10_000;
    while (!slowAnswer.includes('\r\n\r\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    clearInterval(dribble);
    expect(slowAnswer.split('\r\n')[0]).toMatch(/^HTTP\/1\.1 (201|409) /);

    // Stalled clients go away; the half-finished bodies wrote nothing and the server did not log an internal error.
    for (const s of sockets) s.destroy();
    await new Promise((r) => setTimeout(r, 200));
    const names = await configMapNames();
    expect(names).toContain('while-stalled');
    expect(names.filter((n) => !before.includes(n) && n !== 'while-stalled' && n !== 'slow-cm')).toEqual([]);
    expect((await timedGet('/healthz')).status).toBe(200);
    expect(internalErrors.slice(logged), 'the server logged internal errors').toEqual([]);
  });

  it('answers a request that dribbles its headers a byte at a time, and a client that resets mid-request', async () => {
    const logged = internalErrors.length;
    const s = await rawConnect();
    let answer = '';
    s.on('data', (d: Buffer) => (answer += d.toString()));
    // The server ends its side after the answer (Connection: close); this half-open socket then ends ours.
    const ended = new Promise<void>((r) => s.once('end', () => r()));
    const text = `GET /api/v1/namespaces/default/pods?limit=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;
    for (const ch of text) {
      s.write(ch);
      await new Promise((r) => setTimeout(r, 2));
    }
    await ended;
    s.end();
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');

    for (let k = 0; k < 10; k++) {
      const r = await rawConnect();
      r.on('error', () => undefined);
      r.write(`PUT /api/v1/namespaces/default/configmaps/cm-1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"metadata":`);
      await new Promise((res) => setTimeout(res, 5));
      r.resetAndDestroy();
    }
    await new Promise((r) => setTimeout(r, 200));
    expect((await timedGet('/healthz')).status).toBe(200);
    expect(internalErrors.slice(logged), 'the server logged internal errors').toEqual([]);
  });
});
