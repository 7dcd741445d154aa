// Skiff's protobuf request decoding against the real kubectl: kubectl sends its typed writes as
// application/vnd.kubernetes.protobuf to a capture server, and the decoded objects must equal what the same command
// builds with --dry-run=client -o json. A second check walks fully populated objects through kubectl's own decoder
// (see zero-oracle.ts) and keeps ZERO_FIELDS honest. Skipped where kubectl is not installed.
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../lib/log.js';
import { decodeKubeProtobuf, isKubeProtobuf } from '../../../control/apiserver/protobuf/index.js';
import { ApiServer } from '../../../control/apiserver/server.js';
import { MemoryStore } from '../../../control/store/index.js';
import { ZERO_FIELDS } from '../../../control/apiserver/protobuf/zero-fields.js';
import { CaptureServer, HAVE_KUBECTL, HAVE_KUBECTL_133, KUBECTL_133, type Captured, type Reply } from '../../unit/control/apiserver/protobuf/kubectl-harness.js';
import { renderZeroTable, runOracle, zeroTable } from '../../unit/control/apiserver/protobuf/zero-oracle.js';

const DEPLOYMENT = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'd1', namespace: 'default', uid: '00000000-0000-0000-0000-000000000001' },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'd1' } },
    template: { metadata: { labels: { app: 'd1' } }, spec: { containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80 }] }] } },
  },
};
const SERVICE_ACCOUNT = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sa1', namespace: 'default', uid: '00000000-0000-0000-0000-000000000002' } };
const CRONJOB = {
  apiVersion: 'batch/v1',
  kind: 'CronJob',
  metadata: { name: 'cj1', namespace: 'default', uid: '00000000-0000-0000-0000-000000000003' },
  spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox' }] } } } } },
};
const CSR = {
  apiVersion: 'certificates.k8s.io/v1',
  kind: 'CertificateSigningRequest',
  metadata: { name: 'csr1', uid: '00000000-0000-0000-0000-000000000004', resourceVersion: '5' },
  spec: { request: 'eA==', signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'] },
};
const NODE = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', uid: '00000000-0000-0000-0000-000000000005' }, spec: {} };
const PODS = {
  apiVersion: 'v1',
  kind: 'PodList',
  metadata: { resourceVersion: '7' },
  items: [
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p1', namespace: 'default', uid: '00000000-0000-0000-0000-000000000006', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u', controller: true }] },
      spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }] },
    },
  ],
};
const GETS: Record<string, unknown> = {
  '/apis/certificates.k8s.io/v1/certificatesigningrequests/csr1': CSR,
  '/api/v1/nodes/n1': NODE,
  '/api/v1/pods': PODS,
  '/apis/apps/v1/namespaces/default/deployments/d1': DEPLOYMENT,
  '/api/v1/namespaces/default/serviceaccounts/sa1': SERVICE_ACCOUNT,
  '/apis/batch/v1/namespaces/default/cronjobs/cj1': CRONJOB,
};

/** kubectl commands whose write goes out as protobuf, and whose --dry-run=client -o json shows the same object. */
const CREATES: string[][] = [
  ['create', 'namespace', 'ns1'],
  ['create', 'configmap', 'cm1', '--from-literal=a=b', '--from-literal=empty='],
  ['create', 'configmap', 'cm2', '--from-literal=x=y', '--append-hash'],
  ['create', 'secret', 'generic', 's1', '--from-literal=a=b', '--from-literal=bin=\u00ff', '--type=Opaque'],
  ['create', 'secret', 'docker-registry', 'dr1', '--docker-server=r.example.com', '--docker-username=u', '--docker-password=p'],
  ['create', 'deployment', 'd1', '--image=nginx', '--replicas=2', '--port=80'],
  ['create', 'deployment', 'd0', '--image=busybox', '--replicas=0', '--', 'sleep', '3600'],
  ['create', 'deployment', 'd2', '--image=nginx', '--image=busybox'],
  ['create', 'service', 'clusterip', 'svc1', '--tcp=80:8080', '--tcp=443'],
  ['create', 'service', 'clusterip', 'headless', '--clusterip=None'],
  ['create', 'service', 'nodeport', 'np1', '--tcp=80:8080', '--node-port=30080'],
  ['create', 'service', 'loadbalancer', 'lb1', '--tcp=80:8080'],
  ['create', 'service', 'externalname', 'en1', '--external-name=x.example.com'],
  ['create', 'serviceaccount', 'sa1'],
  ['create', 'job', 'j1', '--image=busybox', '--', 'echo', 'hi'],
  ['create', 'job', 'j2', '--from=cronjob/cj1'],
  ['create', 'cronjob', 'cj1', '--image=busybox', '--schedule=*/5 * * * *', '--restart=OnFailure', '--', 'date'],
  ['create', 'role', 'r1', '--verb=get', '--verb=list', '--resource=pods', '--resource=deployments.apps', '--resource-name=a'],
  ['create', 'rolebinding', 'rb1', '--role=r1', '--user=alice', '--group=devs', '--serviceaccount=default:sa1'],
  ['create', 'rolebinding', 'rb2', '--clusterrole=view', '--user=bob'],
  ['create', 'clusterrole', 'cr1', '--verb=get', '--resource=nodes', '--non-resource-url=/healthz'],
  ['create', 'clusterrole', 'cr2', '--aggregation-rule=rbac.example.com/aggregate=true'],
  ['create', 'clusterrolebinding', 'crb1', '--clusterrole=cr1', '--group=devs'],
  ['create', 'priorityclass', 'pc1', '--value=1000', '--description=high'],
  ['create', 'priorityclass', 'pc0', '--value=0', '--global-default', '--preemption-policy=Never'],
  ['create', 'poddisruptionbudget', 'pdb1', '--selector=app=x', '--min-available=1'],
  ['create', 'poddisruptionbudget', 'pdb2', '--selector=app=y', '--max-unavailable=50%'],
  ['create', 'poddisruptionbudget', 'pdb0', '--selector=app=z', '--min-available=0'],
  ['create', 'quota', 'q1', '--hard=pods=10,cpu=1500m,memory=1Gi'],
  ['create', 'quota', 'q2', '--hard=pods=2', '--scopes=BestEffort'],
  ['create', 'ingress', 'ing1', '--rule=foo.com/bar=svc1:80', '--rule=foo.com/*=svc2:http,tls=cert', '--class=nginx', '--annotation=a=b'],
  ['autoscale', 'deployment', 'd1', '--min=2', '--max=5', '--cpu-percent=80'],
];

const server = new CaptureServer();

/** The object without null members, creationTimestamp excepted (Skiff keeps that null as kubectl sends it). */
function dropTemplateTimestamps(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropTemplateTimestamps);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (!(k === 'creationTimestamp' && x === null)) out[k] = dropTemplateTimestamps(x);
    return out;
  }
  return v;
}

function dropNulls(v: unknown, key = ''): unknown {
  if (Array.isArray(v)) return v.map((x) => dropNulls(x));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== null || k === 'creationTimestamp') out[k] = dropNulls(x, k);
    return out;
  }
  void key;
  return v;
}

/** Answers GETs of the fixture objects and writes with the decoded object, as a real server would echo it. */
function echo(req: Captured): Reply | undefined {
  const got = GETS[req.path];
  if (req.method === 'GET' && got) return { status: 200, body: got as Record<string, unknown> };
  // drain: the pod is gone as soon as it is evicted; cordon's patch answers with the node.
  if (req.method === 'GET' && req.path === '/api/v1/namespaces/default/pods/p1') return undefined;
  if (req.method === 'PATCH') return { status: 200, body: { ...NODE, spec: { unschedulable: true } } };
  if (req.method === 'POST' || req.method === 'PUT') {
    if (isKubeProtobuf(req.contentType)) {
      const obj = decodeKubeProtobuf(req.body).object;
      if (req.path.endsWith('/token')) obj['status'] = { token: 'tok', expirationTimestamp: '2030-01-01T00:00:00Z' };
      if (req.path.endsWith('accessreviews')) obj['status'] = { allowed: true };
      return { status: 201, body: obj };
    }
    return { status: 201, body: req.body.toString('utf8') };
  }
  return undefined;
}

beforeAll(async () => {
  if (HAVE_KUBECTL) await server.start();
});
afterAll(async () => {
  await server.stop();
});

/** Runs a command, returns the one protobuf write it sent. */
async function captureWrite(args: string[], bin?: string): Promise<Captured> {
  server.respond = echo;
  server.takeWrites();
  const run = await server.kubectl(args, bin);
  const writes = server.takeWrites();
  expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(0);
  expect(writes.length, `${args.join(' ')} wrote ${writes.length} times`).toBe(1);
  const write = writes[0] as Captured;
  expect(write.contentType).toBe('application/vnd.kubernetes.protobuf');
  return write;
}

describe('protobuf bodies from the real kubectl', () => {
  const cases: Array<readonly [string, string[], string | undefined]> = CREATES.map((args) => [args.join(' '), args, undefined] as const);
  if (HAVE_KUBECTL_133) cases.push(['kubectl 1.33: autoscale (autoscaling/v2)', ['autoscale', 'deployment', 'd1', '--min=2', '--max=5', '--cpu-percent=80'], KUBECTL_133]);
  it.each(cases)('%s', async (_name, args, bin) => {
    const write = await captureWrite(args, bin);
    const decoded = decodeKubeProtobuf(write.body);
    server.respond = echo;
    const dash = args.indexOf('--');
    const dryArgs = dash < 0 ? [...args, '--dry-run=client', '-o', 'json'] : [...args.slice(0, dash), '--dry-run=client', '-o', 'json', ...args.slice(dash)];
    const dry = await server.kubectl(dryArgs, bin);
    expect(dry.code, dry.stderr).toBe(0);
    const expected = JSON.parse(dry.stdout) as Record<string, unknown>;
    // Go prints an absent list or map without omitempty as null; Skiff leaves it out.
    expect(decoded.object).toEqual(dropNulls(expected));
    expect(decoded.apiVersion).toBe(expected['apiVersion']);
    expect(decoded.kind).toBe(expected['kind']);
  });

  it('kubectl create token', async () => {
    const write = await captureWrite(['create', 'token', 'sa1', '--duration=1h', '--audience=a', '--audience=b', '--bound-object-kind=Pod', '--bound-object-name=p1', '--bound-object-uid=u-1']);
    expect(write.path).toBe('/api/v1/namespaces/default/serviceaccounts/sa1/token');
    expect(decodeKubeProtobuf(write.body).object).toEqual({
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      metadata: { creationTimestamp: null },
      spec: { audiences: ['a', 'b'], expirationSeconds: 3600, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p1', uid: 'u-1' } },
      status: { expirationTimestamp: null },
    });
  });

  it('kubectl auth can-i', async () => {
    const write = await captureWrite(['auth', 'can-i', 'create', 'deployments.apps', '--subresource=scale', '-n', 'kube-system']);
    expect(write.path).toBe('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews');
    expect(decodeKubeProtobuf(write.body).object).toEqual({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      metadata: { creationTimestamp: null },
      spec: { resourceAttributes: { namespace: 'kube-system', verb: 'create', group: 'apps', resource: 'deployments', subresource: 'scale' } },
      status: { allowed: false },
    });
  });

  it('kubectl auth can-i --list', async () => {
    const write = await captureWrite(['auth', 'can-i', '--list', '-n', 'ns1']);
    expect(write.path).toBe('/apis/authorization.k8s.io/v1/selfsubjectrulesreviews');
    expect(decodeKubeProtobuf(write.body).object).toEqual({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectRulesReview',
      metadata: { creationTimestamp: null },
      spec: { namespace: 'ns1' },
      status: { incomplete: false },
    });
  });

  it('kubectl certificate approve', async () => {
    const write = await captureWrite(['certificate', 'approve', 'csr1']);
    expect(write.method).toBe('PUT');
    expect(write.path).toBe('/apis/certificates.k8s.io/v1/certificatesigningrequests/csr1/approval');
    const obj = decodeKubeProtobuf(write.body).object as { metadata: Record<string, unknown>; spec: unknown; status: { conditions: Array<Record<string, unknown>> } };
    expect(obj.metadata).toEqual({ name: 'csr1', uid: CSR.metadata.uid, resourceVersion: '5', creationTimestamp: null });
    expect(obj.spec).toEqual(CSR.spec);
    expect(obj.status.conditions).toHaveLength(1);
    const cond = obj.status.conditions[0] as Record<string, unknown>;
    expect(cond).toMatchObject({ type: 'Approved', status: 'True', reason: 'KubectlApprove', message: 'This CSR was approved by kubectl certificate approve.' });
    expect(String(cond['lastUpdateTime'])).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(cond['lastTransitionTime']).toBeNull();
  });

  it('kubectl debug node: a Pod', async () => {
    const write = await captureWrite(['debug', 'node/n1', '--image=busybox', '--profile=general']);
    expect(write.path).toBe('/api/v1/namespaces/default/pods');
    const obj = decodeKubeProtobuf(write.body).object as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
    expect(obj.metadata['name']).toMatch(/^node-debugger-n1-/);
    expect(obj.spec).toMatchObject({
      nodeName: 'n1',
      hostNetwork: true,
      hostPID: true,
      hostIPC: true,
      restartPolicy: 'Never',
      containers: [{ name: 'debugger', image: 'busybox', volumeMounts: [{ name: 'host-root', mountPath: '/host' }] }],
      volumes: [{ name: 'host-root', hostPath: { path: '/' } }],
      tolerations: [{ operator: 'Exists' }],
    });
  });

  it('kubectl drain sends its Eviction as JSON', async () => {
    server.respond = echo;
    server.takeWrites();
    const run = await server.kubectl(['drain', 'n1', '--grace-period=7', '--timeout=20s', '--ignore-daemonsets']);
    expect(run.code, run.stderr).toBe(0);
    const evictions = server.takeWrites().filter((w) => w.path.endsWith('/eviction'));
    expect(evictions).toHaveLength(1);
    const ev = evictions[0] as Captured;
    expect(ev.path).toBe('/api/v1/namespaces/default/pods/p1/eviction');
    expect(ev.contentType).toBe('application/json');
    expect(JSON.parse(ev.body.toString('utf8'))).toMatchObject({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'p1', namespace: 'default' }, deleteOptions: { gracePeriodSeconds: 7 } });
  });

  it('kubectl drain --disable-eviction: a DELETE whose DeleteOptions body is protobuf', async () => {
    server.respond = echo;
    server.takeWrites();
    const run = await server.kubectl(['drain', 'n1', '--grace-period=0', '--timeout=20s', '--ignore-daemonsets', '--disable-eviction']);
    expect(run.code, run.stderr).toBe(0);
    const deletes = server.takeWrites().filter((w) => w.method === 'DELETE');
    expect(deletes).toHaveLength(1);
    const del = deletes[0] as Captured;
    expect(del.path).toBe('/api/v1/namespaces/default/pods/p1');
    expect(del.contentType).toBe('application/vnd.kubernetes.protobuf');
    const decoded = decodeKubeProtobuf(del.body);
    expect(decoded.object).toEqual({ apiVersion: decoded.apiVersion, kind: 'DeleteOptions', gracePeriodSeconds: 0 });
  });

  it('converts every field as kubectl prints it, and ZERO_FIELDS matches its omitempty rules', async () => {
    const result = await runOracle(server);
    const table = zeroTable(result);
    if (process.env['UPDATE_ZERO_FIELDS']) writeFileSync(new URL('../../../control/apiserver/protobuf/zero-fields.ts', import.meta.url), renderZeroTable(table));
    // Fields newer than the kubectl doing the decoding: it drops them, as a 1.32 server would.
    const newer = /\.(lifecycle\.stopSignal|status\.terminatingReplicas): kubectl does not show it$/;
    expect(result.problems.filter((p) => !newer.test(p))).toEqual([]);
    expect(table).toEqual(ZERO_FIELDS);
  });
});

/**
 * End to end against Skiff's own API server: kubectl's protobuf creates land and read back. Skipped (with a note) until
 * server.ts routes application/vnd.kubernetes.protobuf bodies through decodeKubeProtobuf.
 */
describe('kubectl protobuf writes against the Skiff API server', () => {
  let api: ApiServer | undefined;
  let kube: CaptureServer | undefined;
  beforeAll(async () => {
    api = new ApiServer({ store: new MemoryStore(), logger: silentLogger() });
    const port = await api.listen(0);
    kube = new CaptureServer();
    await kube.start();
    kube.kubeconfig = kube.kubeconfig.replace(/kubeconfig$/, 'skiff-kubeconfig');
    writeFileSync(
      kube.kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters: [{name: s, cluster: {server: "http://127.0.0.1:${port}"}}]\nusers: [{name: s, user: {token: t}}]\ncontexts: [{name: s, context: {cluster: s, user: s, namespace: default}}]\ncurrent-context: s\n`,
    );
  });
  afterAll(async () => {
    await kube?.stop();
    await api?.close();
  });

  const E2E: Array<[string[], string]> = [
    [['create', 'namespace', 'pb-ns'], 'namespace/pb-ns'],
    [['create', 'configmap', 'pb-cm', '--from-literal=a=b'], 'configmap/pb-cm'],
    [['create', 'secret', 'generic', 'pb-s', '--from-literal=a=b'], 'secret/pb-s'],
    [['create', 'deployment', 'pb-d', '--image=busybox', '--replicas=0', '--port=80'], 'deployment/pb-d'],
    [['create', 'service', 'clusterip', 'pb-svc', '--tcp=80:8080'], 'service/pb-svc'],
    [['create', 'serviceaccount', 'pb-sa'], 'serviceaccount/pb-sa'],
    [['create', 'role', 'pb-r', '--verb=get', '--resource=pods'], 'role/pb-r'],
    [['create', 'rolebinding', 'pb-rb', '--role=pb-r', '--user=alice'], 'rolebinding/pb-rb'],
    [['create', 'priorityclass', 'pb-pc', '--value=0'], 'priorityclass/pb-pc'],
    [['create', 'poddisruptionbudget', 'pb-pdb', '--selector=app=x', '--min-available=0'], 'poddisruptionbudget/pb-pdb'],
    [['create', 'quota', 'pb-q', '--hard=pods=3'], 'resourcequota/pb-q'],
    [['create', 'job', 'pb-j', '--image=busybox', '--', 'true'], 'job/pb-j'],
  ];

  for (const [args, ref] of E2E) it(args.join(' '), async () => {
    const k = kube as CaptureServer;
    const run = await k.kubectl(args);
    expect(run.code, run.stderr).toBe(0);
    const dash = args.indexOf('--');
    const dryArgs = dash < 0 ? [...args, '--dry-run=client', '-o', 'json'] : [...args.slice(0, dash), '--dry-run=client', '-o', 'json', ...args.slice(dash)];
    const dry = dropNulls(JSON.parse((await k.kubectl(dryArgs)).stdout)) as Record<string, unknown>;
    const got = await k.kubectl(['get', ref, '-o', 'json']);
    expect(got.code, got.stderr).toBe(0);
    const stored = JSON.parse(got.stdout) as Record<string, unknown>;
    const { metadata: dryMeta, status: _status, ...dryRest } = dry as { metadata: Record<string, unknown>; status?: unknown };
    const { creationTimestamp: _ts, ...meta } = dryMeta;
    // The server omits the template's `creationTimestamp: null` that kubectl writes (a Go zero-value artefact).
    expect(stored).toMatchObject(dropTemplateTimestamps({ ...dryRest, metadata: meta }) as Record<string, unknown>);
  });
});
