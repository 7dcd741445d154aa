// @kubernetes/client-node, the official JavaScript client, as a second real client beside kubectl: typed CoreV1 and
// AppsV1 calls (list, create, read, replace, merge / strategic / JSON patches, delete, the scale subresource) and an
// Informer (ListWatch) that sees adds, updates and deletes. The server is wired as `skiff control` wires it (HTTPS,
// client certificates, Node,RBAC authorization, admission) and the client loads the admin kubeconfig it would write.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ADD,
  ApiException,
  AppsV1Api,
  CoreV1Api,
  DELETE,
  KubeConfig,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  UPDATE,
  type V1ConfigMap,
  type V1Deployment,
  type V1Pod,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainAdmission, namespaceLifecycle } from '../../../control/apiserver/admission/namespace-lifecycle.js';
import { ServiceAllocator } from '../../../control/apiserver/admission/service-allocation.js';
import { certificateAuthenticator } from '../../../control/apiserver/authn.js';
import { createStorageAuthorizer, ensureBootstrapPolicy, nodeRestrictionAdmission, rbacEscalationAdmission, storageLister } from '../../../control/apiserver/authz/index.js';
import { ensureSystemNamespaces } from '../../../control/apiserver/bootstrap.js';
import { ensureClusterPki, kubeconfigYaml } from '../../../control/apiserver/pki.js';
import { ApiServer } from '../../../control/apiserver/server.js';
import { ObjectStorage } from '../../../control/apiserver/storage/object-storage.js';
import { MemoryStore } from '../../../control/store/index.js';
import { silentLogger } from '../../../lib/log.js';

const NS = 'client-node';

/** Polls until check returns something truthy. */
async function eventually<T>(check: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The HTTP status and Status body of a failed call. */
async function failure(p: Promise<unknown>): Promise<{ code: number; status: { kind?: string; reason?: string; code?: number; message?: string } }> {
  try {
    await p;
  } catch (err) {
    if (!(err instanceof ApiException)) throw err;
    const body = err.body as unknown;
    const status = typeof body === 'string' ? (JSON.parse(body) as Record<string, unknown>) : (body as Record<string, unknown>);
    return { code: err.code, status };
  }
  throw new Error('the call succeeded');
}

const pod = (name: string, labels: Record<string, string> = { app: 'web' }): V1Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels },
  spec: {
    containers: [
      { name: 'web', image: 'nginx:1.26', ports: [{ containerPort: 80 }] },
      { name: 'side', image: 'busybox:1.36', command: ['sleep', '3600'] },
    ],
  },
});

const deployment = (name: string): V1Deployment => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image: 'nginx:1.26' }, { name: 'side', image: 'busybox:1.36' }] } },
  },
});

describe('@kubernetes/client-node against the Skiff API server', () => {
  let dir: string;
  let store: MemoryStore;
  let server: ApiServer;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let apps: AppsV1Api;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-client-node-'));
    const pki = await ensureClusterPki(join(dir, 'pki'), { serverNames: ['localhost', '127.0.0.1'], serverUrl: 'https://127.0.0.1:0' });
    store = new MemoryStore();
    const storage = new ObjectStorage(store);
    const authorizer = createStorageAuthorizer(storage);
    const allocator = new ServiceAllocator('10.96.0.0/12', '30000-32767');
    server = new ApiServer({
      store,
      logger: silentLogger(),
      tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert },
      authenticate: certificateAuthenticator(),
      authorizer,
      admission: chainAdmission([
        namespaceLifecycle(storage),
        nodeRestrictionAdmission(),
        rbacEscalationAdmission({ lister: storageLister(storage), authorize: (a) => authorizer.authorize(a) }),
        allocator.admission(),
      ]),
    });
    await ensureSystemNamespaces(server.rest);
    await ensureBootstrapPolicy(server.storage);
    const port = await server.listen(0, '127.0.0.1');
    // The admin kubeconfig `skiff control` writes, pointed at this port.
    const kubeconfig = join(dir, 'admin.kubeconfig');
    writeFileSync(kubeconfig, kubeconfigYaml({ server: `https://127.0.0.1:${port}`, caPath: pki.paths.caCert, certPath: pki.paths.adminCert, keyPath: pki.paths.adminKey }));
    kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    await core.createNamespace({ body: { metadata: { name: NS, labels: { purpose: 'client-node' } } } });
  });

  afterAll(async () => {
    await server?.close();
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('lists namespaces, with a label selector, and reads one', async () => {
    const all = await core.listNamespace();
    expect(all.items.map((n) => n.metadata?.name)).toEqual(expect.arrayContaining(['default', 'kube-system', NS]));
    expect(Number(all.metadata?.resourceVersion)).toBeGreaterThan(0);
    const selected = await core.listNamespace({ labelSelector: 'purpose=client-node' });
    expect(selected.items.map((n) => n.metadata?.name)).toEqual([NS]);
    const ns = await core.readNamespace({ name: NS });
    expect(ns.status?.phase).toBe('Active');
    expect(ns.spec?.finalizers).toEqual(['kubernetes']);
  });

  it('creates, reads, lists, patches (merge, strategic, JSON), replaces and deletes a pod', async () => {
    const created = await core.createNamespacedPod({ namespace: NS, body: pod('p1') });
    expect(created.metadata?.uid).toBeTruthy();
    expect(created.metadata?.namespace).toBe(NS);
    // Defaults the server applied come back typed.
    expect(created.spec?.restartPolicy).toBe('Always');
    expect(created.spec?.containers[0]?.imagePullPolicy).toBe('IfNotPresent');
    await core.createNamespacedPod({ namespace: NS, body: pod('p2', { app: 'db' }) });

    const dup = await failure(core.createNamespacedPod({ namespace: NS, body: pod('p1') }));
    expect(dup.code).toBe(409);
    expect(dup.status.reason).toBe('AlreadyExists');

    const web = await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=web' });
    expect(web.items.map((p) => p.metadata?.name)).toEqual(['p1']);
    const byName = await core.listPodForAllNamespaces({ fieldSelector: `metadata.name=p2` });
    expect(byName.items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`)).toEqual([`${NS}/p2`]);
    const page = await core.listNamespacedPod({ namespace: NS, limit: 1 });
    expect(page.items).toHaveLength(1);
    expect(page.metadata?._continue).toBeTruthy();
    const rest = await core.listNamespacedPod({ namespace: NS, limit: 1, _continue: page.metadata?._continue });
    expect(rest.items.map((p) => p.metadata?.name)).toEqual(['p2']);

    // Merge patch: labels merge, null removes.
    const merged = await core.patchNamespacedPod({ name: 'p1', namespace: NS, body: { metadata: { labels: { tier: 'front', app: null } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    expect(merged.metadata?.labels).toEqual({ tier: 'front' });

    // Strategic merge patch: the container list merges by name, so "side" survives an image change of "web".
    const strategic = await core.patchNamespacedPod(
      { name: 'p1', namespace: NS, body: { spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(strategic.spec?.containers.map((c) => `${c.name}=${c.image}`)).toEqual(['web=nginx:1.27', 'side=busybox:1.36']);

    const jsonPatched = await core.patchNamespacedPod(
      { name: 'p1', namespace: NS, body: [{ op: 'add', path: '/metadata/annotations', value: { note: 'json-patch' } }, { op: 'test', path: '/spec/containers/1/name', value: 'side' }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    expect(jsonPatched.metadata?.annotations).toEqual({ note: 'json-patch' });

    // Replace with the read resourceVersion; a stale one conflicts.
    const current = await core.readNamespacedPod({ name: 'p1', namespace: NS });
    const stale = structuredClone(current);
    current.metadata = { ...current.metadata, labels: { ...current.metadata?.labels, replaced: 'yes' } };
    const replaced = await core.replaceNamespacedPod({ name: 'p1', namespace: NS, body: current });
    expect(replaced.metadata?.labels?.replaced).toBe('yes');
    expect(Number(replaced.metadata?.resourceVersion)).toBeGreaterThan(Number(stale.metadata?.resourceVersion));
    const conflict = await failure(core.replaceNamespacedPod({ name: 'p1', namespace: NS, body: stale }));
    expect(conflict.code).toBe(409);
    expect(conflict.status.reason).toBe('Conflict');

    // An unscheduled pod goes at once.
    const deleted = await core.deleteNamespacedPod({ name: 'p1', namespace: NS });
    expect(deleted.metadata?.name).toBe('p1');
    const gone = await failure(core.readNamespacedPod({ name: 'p1', namespace: NS }));
    expect(gone.code).toBe(404);
    expect(gone.status).toMatchObject({ kind: 'Status', reason: 'NotFound', code: 404 });
    await core.deleteCollectionNamespacedPod({ namespace: NS, labelSelector: 'app=db' });
    expect((await core.listNamespacedPod({ namespace: NS })).items).toEqual([]);
  });

  it('creates a deployment, patches it (strategic and merge), scales it through /scale, and deletes it', async () => {
    const created = await apps.createNamespacedDeployment({ namespace: NS, body: deployment('d1') });
    expect(created.metadata?.generation).toBe(1);
    expect(created.spec?.strategy?.type).toBe('RollingUpdate');

    const strategic = await apps.patchNamespacedDeployment(
      { name: 'd1', namespace: NS, body: { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(strategic.spec?.template.spec?.containers.map((c) => `${c.name}=${c.image}`)).toEqual(['web=nginx:1.27', 'side=busybox:1.36']);
    expect(strategic.metadata?.generation).toBe(2);

    const merged = await apps.patchNamespacedDeployment({ name: 'd1', namespace: NS, body: { spec: { replicas: 3 }, metadata: { labels: { team: 'a' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    expect(merged.spec?.replicas).toBe(3);
    expect(merged.metadata?.labels).toEqual({ team: 'a' });
    // The strategic body as a merge patch replaces the list whole: "side" is gone.
    const replacedList = await apps.patchNamespacedDeployment(
      { name: 'd1', namespace: NS, body: { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.28' }] } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(replacedList.spec?.template.spec?.containers.map((c) => `${c.name}=${c.image}`)).toEqual(['web=nginx:1.28']);
    expect(replacedList.metadata?.generation).toBe((merged.metadata?.generation ?? 0) + 1);

    const scale = await apps.readNamespacedDeploymentScale({ name: 'd1', namespace: NS });
    expect(scale.spec?.replicas).toBe(3);
    const scaled = await apps.replaceNamespacedDeploymentScale({ name: 'd1', namespace: NS, body: { ...scale, spec: { replicas: 5 } } });
    expect(scaled.spec?.replicas).toBe(5);
    const patchedScale = await apps.patchNamespacedDeploymentScale({ name: 'd1', namespace: NS, body: { spec: { replicas: 2 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    expect(patchedScale.spec?.replicas).toBe(2);
    expect((await apps.readNamespacedDeployment({ name: 'd1', namespace: NS })).spec?.replicas).toBe(2);

    const list = await apps.listDeploymentForAllNamespaces();
    expect(list.items.map((d) => d.metadata?.name)).toContain('d1');
    // A typo in the body is a 4xx Status, which client-node surfaces as an ApiException.
    const bad = await failure(apps.createNamespacedDeployment({ namespace: NS, body: { ...deployment('BAD_NAME') } }));
    expect(bad.code).toBe(422);
    expect(bad.status.reason).toBe('Invalid');

    await apps.deleteNamespacedDeployment({ name: 'd1', namespace: NS });
    expect((await failure(apps.readNamespacedDeployment({ name: 'd1', namespace: NS }))).code).toBe(404);
  });

  it('creates a service (cluster IP allocated) and a config map, and finds them with field selectors', async () => {
    const svc = await core.createNamespacedService({ namespace: NS, body: { metadata: { name: 's1' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } } });
    expect(svc.spec?.clusterIP).toMatch(/^10\.(9[6-9]|10[0-9]|11[01])\./);
    expect(svc.spec?.ports?.[0]?.protocol).toBe('TCP');
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'c1' }, data: { a: 'b' } } });
    const cms = await core.listNamespacedConfigMap({ namespace: NS, fieldSelector: 'metadata.name=c1' });
    expect(cms.items.map((c) => c.data)).toEqual([{ a: 'b' }]);
    await core.deleteNamespacedService({ name: 's1', namespace: NS });
    await core.deleteNamespacedConfigMap({ name: 'c1', namespace: NS });
  });

  it('runs an Informer (ListWatch) that sees objects added, updated and deleted, and keeps its cache in step', async () => {
    const ns = `${NS}-informer`;
    await core.createNamespace({ body: { metadata: { name: ns } } });
    // One object before the informer starts: it arrives through the initial list.
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'before' }, data: { v: '0' } } });
    const informer = makeInformer<V1ConfigMap>(kc, `/api/v1/namespaces/${ns}/configmaps`, () => core.listNamespacedConfigMap({ namespace: ns }));
    const events: string[] = [];
    const errors: unknown[] = [];
    informer.on(ADD, (o) => events.push(`add ${o.metadata?.name} ${o.data?.v}`));
    informer.on(UPDATE, (o) => events.push(`update ${o.metadata?.name} ${o.data?.v}`));
    informer.on(DELETE, (o) => events.push(`delete ${o.metadata?.name}`));
    informer.on('error', (err) => errors.push(err));
    await informer.start();
    try {
      await eventually(() => events.includes('add before 0'), 'the listed object as an add');

      await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'c1' }, data: { v: '1' } } });
      await eventually(() => events.includes('add c1 1'), 'add c1');
      await core.patchNamespacedConfigMap({ name: 'c1', namespace: ns, body: { data: { v: '2' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      await eventually(() => events.includes('update c1 2'), 'update c1');
      const c1 = await core.readNamespacedConfigMap({ name: 'c1', namespace: ns });
      await core.replaceNamespacedConfigMap({ name: 'c1', namespace: ns, body: { ...c1, data: { v: '3' } } });
      await eventually(() => events.includes('update c1 3'), 'update c1 by replace');
      expect(informer.get('c1', ns)?.data).toEqual({ v: '3' });
      expect(informer.list(ns).map((c) => c.metadata?.name).sort()).toEqual(['before', 'c1']);

      await core.deleteNamespacedConfigMap({ name: 'c1', namespace: ns });
      await eventually(() => events.includes('delete c1'), 'delete c1');
      expect(informer.get('c1', ns)).toBeUndefined();
      // Another namespace's objects are not this informer's business.
      await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'elsewhere' }, data: { v: 'x' } } });
      await core.deleteNamespacedConfigMap({ name: 'before', namespace: ns });
      await eventually(() => events.includes('delete before'), 'delete before');
      expect(events).toEqual(['add before 0', 'add c1 1', 'update c1 2', 'update c1 3', 'delete c1', 'delete before']);
      expect(errors).toEqual([]);
      expect(informer.list(ns)).toEqual([]);
    } finally {
      await informer.stop();
    }
  });

  it('runs a label-selected pod informer across all namespaces', async () => {
    const informer = makeInformer<V1Pod>(kc, '/api/v1/pods', () => core.listPodForAllNamespaces({ labelSelector: 'watched=yes' }), 'watched=yes');
    const events: string[] = [];
    informer.on(ADD, (o) => events.push(`add ${o.metadata?.namespace}/${o.metadata?.name}`));
    informer.on(UPDATE, (o) => events.push(`update ${o.metadata?.name} ${o.metadata?.labels?.step ?? ''}`));
    informer.on(DELETE, (o) => events.push(`delete ${o.metadata?.name}`));
    await informer.start();
    try {
      await core.createNamespacedPod({ namespace: NS, body: pod('ignored', { watched: 'no' }) });
      await core.createNamespacedPod({ namespace: NS, body: pod('w1', { watched: 'yes' }) });
      await eventually(() => events.includes(`add ${NS}/w1`), 'add w1');
      await core.patchNamespacedPod({ name: 'w1', namespace: NS, body: { metadata: { labels: { step: 'two' } } } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
      await eventually(() => events.includes('update w1 two'), 'update w1');
      // Leaving the selection is a delete for this informer.
      await core.patchNamespacedPod({ name: 'w1', namespace: NS, body: { metadata: { labels: { watched: 'no' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      await eventually(() => events.includes('delete w1'), 'w1 leaving the selection');
      expect(events).toEqual([`add ${NS}/w1`, 'update w1 two', 'delete w1']);
    } finally {
      await informer.stop();
    }
  });
});
