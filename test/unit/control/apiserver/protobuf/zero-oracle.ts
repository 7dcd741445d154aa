// Learns Go's encoding/json rules for scalar zero values from the real kubectl: the capture server answers a kubectl
// command with a protobuf object whose every field is set (scalars to their zero value), kubectl decodes it into its
// Go types and prints it as JSON, and whichever zero scalars survive are pointer or non-omitempty fields. The same walk
// checks that Skiff's protobuf→JSON conversion names and nests every field as kubectl does.
import protobuf from 'protobufjs';
import { Converter } from '../../../../../control/apiserver/protobuf/convert.js';
import { encodeKubeProtobuf, KUBE_PROTOBUF } from '../../../../../control/apiserver/protobuf/index.js';
import { lookupKind } from '../../../../../control/apiserver/protobuf/registry.js';
import { HAVE_KUBECTL_133, KUBECTL, KUBECTL_133, type CaptureServer, type Captured, type Reply } from './kubectl-harness.js';

const META = '.k8s.io.apimachinery.pkg.apis.meta.v1';

/**
 * Every field set, messages filled recursively (a type already on the path is left out): scalars to their zero value,
 * or with `one` to a non-zero value, so that every field shows in kubectl's JSON.
 */
export function fillZero(type: protobuf.Type, stack: string[] = [], one = false): Record<string, unknown> {
  switch (type.fullName) {
    case `${META}.Time`:
      return { seconds: 1_700_000_000, nanos: 0 };
    case `${META}.MicroTime`:
      return { seconds: 1_700_000_000, nanos: 123_456_000 };
    case `${META}.Duration`:
      return { duration: 90_500_000_000 };
    case '.k8s.io.apimachinery.pkg.util.intstr.IntOrString':
      return { type: 1, strVal: '50%' };
    case '.k8s.io.apimachinery.pkg.api.resource.Quantity':
      return { string: '1' };
    case `${META}.FieldsV1`:
      return { Raw: Buffer.from('{"f:a":{}}') };
    case '.k8s.io.apimachinery.pkg.runtime.RawExtension':
      return { raw: Buffer.from('{"a":1}') };
  }
  const out: Record<string, unknown> = {};
  const inner = [...stack, type.fullName];
  for (const field of type.fieldsArray) {
    field.resolve();
    const rt = field.resolvedType;
    let value: unknown;
    if (rt instanceof protobuf.Type) {
      if (stack.includes(rt.fullName) || rt.fullName === type.fullName) continue;
      value = fillZero(rt, inner, one);
    } else {
      value = one ? scalarOne(field.type) : scalarZero(field.type);
    }
    if (field.map) out[field.name] = { k: value };
    else if (field.repeated) out[field.name] = [value];
    else out[field.name] = value;
  }
  return out;
}

function scalarZero(type: string): unknown {
  switch (type) {
    case 'string':
      return '';
    case 'bool':
      return false;
    case 'bytes':
      return Buffer.alloc(0);
    default:
      return 0;
  }
}

function scalarOne(type: string): unknown {
  switch (type) {
    case 'string':
      return 'x';
    case 'bool':
      return true;
    case 'bytes':
      return Buffer.from('x');
    default:
      return 1;
  }
}

export interface OracleCase {
  /** What to answer and what kubectl is asked. */
  apiVersion: string;
  kind: string;
  args: string[];
  /** The object kubectl receives is a list of this kind (for commands that list). */
  list?: boolean;
  /** Fields kubectl needs non-empty to print at all. */
  tweak?: (obj: Record<string, unknown>) => void;
  /** Objects kubectl GETs before writing. */
  gets?: Record<string, Record<string, unknown>>;
  /** Another kubectl binary than the default one. */
  kubectl?: string;
}

const D1 = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'd1', namespace: 'default' },
  spec: { selector: { matchLabels: { app: 'd1' } }, template: { metadata: { labels: { app: 'd1' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
};

export const ORACLE_CASES: OracleCase[] = [
  { apiVersion: 'v1', kind: 'Namespace', args: ['create', 'namespace', 'ns1'] },
  { apiVersion: 'v1', kind: 'ConfigMap', args: ['create', 'configmap', 'cm1', '--from-literal=a=b'] },
  { apiVersion: 'v1', kind: 'Secret', args: ['create', 'secret', 'generic', 's1', '--from-literal=a=b'] },
  { apiVersion: 'apps/v1', kind: 'Deployment', args: ['create', 'deployment', 'd1', '--image=nginx'] },
  { apiVersion: 'v1', kind: 'Service', args: ['create', 'service', 'clusterip', 'svc1', '--tcp=80:8080'] },
  { apiVersion: 'v1', kind: 'ServiceAccount', args: ['create', 'serviceaccount', 'sa1'] },
  { apiVersion: 'batch/v1', kind: 'Job', args: ['create', 'job', 'j1', '--image=busybox'] },
  { apiVersion: 'batch/v1', kind: 'CronJob', args: ['create', 'cronjob', 'cj1', '--image=busybox', '--schedule=* * * * *'] },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', args: ['create', 'role', 'r1', '--verb=get', '--resource=pods'] },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', args: ['create', 'rolebinding', 'rb1', '--role=r1', '--user=alice'] },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', args: ['create', 'clusterrole', 'cr1', '--verb=get', '--resource=nodes'] },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', args: ['create', 'clusterrolebinding', 'crb1', '--clusterrole=cr1', '--group=devs'] },
  { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', args: ['create', 'priorityclass', 'pc1', '--value=10'] },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', args: ['create', 'poddisruptionbudget', 'pdb1', '--selector=app=x', '--min-available=1'] },
  { apiVersion: 'v1', kind: 'ResourceQuota', args: ['create', 'quota', 'q1', '--hard=pods=10'] },
  { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', args: ['create', 'ingress', 'ing1', '--rule=foo.com/bar=svc1:80'] },
  {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    args: ['create', 'token', 'sa1'],
    tweak: (o) => {
      (o['status'] as Record<string, unknown>)['token'] = 'x';
    },
    gets: { '/api/v1/namespaces/default/serviceaccounts/sa1': { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sa1', namespace: 'default' } } },
  },
  { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', args: ['auth', 'whoami'] },
  {
    apiVersion: 'autoscaling/v1',
    kind: 'HorizontalPodAutoscaler',
    args: ['autoscale', 'deployment', 'd1', '--max=3'],
    gets: { '/apis/apps/v1/namespaces/default/deployments/d1': D1 },
  },
  { apiVersion: 'v1', kind: 'Event', args: ['events'], list: true },
  ...(HAVE_KUBECTL_133
    ? [{ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', args: ['autoscale', 'deployment', 'd1', '--max=3'], gets: { '/apis/apps/v1/namespaces/default/deployments/d1': D1 }, kubectl: KUBECTL_133 }]
    : []),
];

const MARK = Symbol('zero');
type Marker = { [MARK]: string };
const isMarker = (v: unknown): v is Marker => typeof v === 'object' && v !== null && MARK in v;

export interface OracleResult {
  /** message type (no leading dot) → field → whether kubectl kept the zero. */
  kept: Map<string, Map<string, boolean>>;
  problems: string[];
}

function walk(ours: unknown, theirs: unknown, path: string, result: OracleResult): void {
  if (Array.isArray(ours)) {
    if (!Array.isArray(theirs)) {
      result.problems.push(`${path}: kubectl has ${JSON.stringify(theirs)}, we have a list`);
      return;
    }
    ours.forEach((v, i) => walk(v, theirs[i], `${path}[${i}]`, result));
    if (theirs.length !== ours.length) result.problems.push(`${path}: kubectl has ${theirs.length} items, we have ${ours.length}`);
    return;
  }
  if (ours !== null && typeof ours === 'object') {
    if (theirs === null || typeof theirs !== 'object' || Array.isArray(theirs)) {
      result.problems.push(`${path}: kubectl has ${JSON.stringify(theirs)}, we have an object`);
      return;
    }
    const t = theirs as Record<string, unknown>;
    for (const [k, v] of Object.entries(ours)) {
      if (isMarker(v)) {
        const [typeName, field] = v[MARK].split('#') as [string, string];
        let fields = result.kept.get(typeName);
        if (!fields) result.kept.set(typeName, (fields = new Map()));
        const kept = k in t;
        if (fields.has(field) && fields.get(field) !== kept) result.problems.push(`${typeName}.${field}: kubectl keeps its zero in one place and not another`);
        fields.set(field, kept);
        continue;
      }
      if (!(k in t)) {
        result.problems.push(`${path}.${k}: kubectl does not show it`);
        continue;
      }
      walk(v, t[k], `${path}.${k}`, result);
    }
    for (const k of Object.keys(t)) if (!(k in ours)) result.problems.push(`${path}.${k}: kubectl shows it, we do not`);
    return;
  }
  if (ours !== theirs) result.problems.push(`${path}: kubectl has ${JSON.stringify(theirs)}, we have ${JSON.stringify(ours)}`);
}

/** Runs every oracle case through kubectl and walks its JSON against our conversion. */
export async function runOracle(server: CaptureServer, cases: OracleCase[] = ORACLE_CASES): Promise<OracleResult> {
  const result: OracleResult = { kept: new Map(), problems: [] };
  for (const c of cases) for (const one of [false, true]) {
    const type = lookupKind(c.apiVersion, c.kind);
    if (!type) throw new Error(`no schema for ${c.kind}`);
    const obj = fillZero(type, [], one);
    c.tweak?.(obj);
    let payload: Buffer;
    let ourJson: unknown;
    const converter = new Converter({ keepZeros: true, markZero: (t, f) => ({ [MARK]: `${t}#${f}` }) });
    const decoded = type.decode(type.encode(type.fromObject(obj)).finish()) as unknown as Record<string, unknown>;
    const converted = { apiVersion: c.apiVersion, kind: c.kind, ...(converter.message(type, decoded) as Record<string, unknown>) };
    if (c.list) {
      const listKind = `${c.kind}List`;
      payload = encodeKubeProtobuf(c.apiVersion, listKind, { metadata: {}, items: [obj] });
      ourJson = { apiVersion: c.apiVersion, kind: listKind, metadata: {}, items: [converted] };
    } else {
      payload = encodeKubeProtobuf(c.apiVersion, c.kind, obj);
      ourJson = converted;
    }
    server.respond = (req: Captured): Reply | undefined => {
      const got = c.gets?.[req.path];
      if (got && req.method === 'GET') return { status: 200, body: got };
      if (req.method === 'POST' || (c.list && req.method === 'GET')) return { status: req.method === 'POST' ? 201 : 200, contentType: KUBE_PROTOBUF, body: payload };
      return undefined;
    };
    const run = await server.kubectl([...c.args, '-o', 'json', '--show-managed-fields'], c.kubectl ?? KUBECTL);
    server.takeWrites();
    if (run.code !== 0) {
      result.problems.push(`${c.args.join(' ')}: kubectl failed: ${run.stderr.trim()}`);
      continue;
    }
    let theirs: unknown;
    try {
      theirs = JSON.parse(run.stdout) as unknown;
    } catch {
      result.problems.push(`${c.args.join(' ')}: kubectl printed no JSON: ${run.stdout.slice(0, 200)}`);
      continue;
    }
    walk(ourJson, theirs, `${c.kind}${one ? '(non-zero)' : ''}`, result);
  }
  return result;
}

/** The ZERO_FIELDS table a run implies: every type seen, with the fields whose zero kubectl kept. */
export function zeroTable(result: OracleResult): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const name of [...result.kept.keys()].sort()) {
    out[name] = [...(result.kept.get(name) ?? new Map<string, boolean>()).entries()].filter(([, k]) => k).map(([f]) => f).sort();
  }
  return out;
}

export function renderZeroTable(table: Record<string, string[]>): string {
  const lines = Object.entries(table).map(([t, fs]) => `  '${t}': [${fs.map((f) => `'${f}'`).join(', ')}],`);
  return [
    '// Generated by test/integration/apiserver/protobuf.test.ts (UPDATE_ZERO_FIELDS=1) from what kubectl prints; do not edit.',
    '//',
    '// Go encodes every non-pointer scalar in protobuf, zero or not, but its JSON drops the zeros of `omitempty` fields.',
    '// For each message type kubectl could show us: the scalar fields whose zero value its JSON keeps (pointers and',
    '// fields without omitempty). Zeros of the other scalar fields of these types are dropped when decoding.',
    'export const ZERO_FIELDS: Record<string, readonly string[]> = {',
    ...lines,
    '};',
    '',
  ].join('\n');
}
