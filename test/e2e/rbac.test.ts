import { execFile } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRbacServer, type RbacTestServer } from './rbac-server.js';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** The real kubectl, asynchronously: the API server runs in this process. */
function kubectl(kubeconfig: string, args: string[], input?: string): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile('kubectl', args, { env: { ...process.env, KUBECONFIG: kubeconfig }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

function https(srv: RbacTestServer, creds: { cert: string; key: string; ca: string }, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      { host: '127.0.0.1', port: srv.port, method, path, cert: creds.cert, key: creds.key, ca: creds.ca, headers: { Accept: 'application/json', ...(text ? { 'Content-Type': 'application/json' } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body: raw ? (JSON.parse(raw) as Record<string, unknown>) : {} });
        });
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

function roleBinding(name: string, namespace: string, kind: 'Role' | 'ClusterRole', role: string): Record<string, unknown> {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name, namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind, name: role },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'jane' }],
  };
}

describe('RBAC and the Node authorizer with the real kubectl', () => {
  let srv: RbacTestServer;
  let admin: (args: string[], input?: string) => Promise<Result>;
  let jane: (args: string[], input?: string) => Promise<Result>;
  const ok = async (p: Promise<Result>): Promise<string> => {
    const r = await p;
    if (r.code !== 0) throw new Error(`kubectl failed (${r.code}): ${r.stderr}${r.stdout}`);
    return r.stdout;
  };

  beforeAll(async () => {
    srv = await startRbacServer();
    const adminConfig = srv.adminKubeconfig;
    const janeConfig = srv.kubeconfigFor('jane', []);
    admin = (args, input) => kubectl(adminConfig, args, input);
    jane = (args, input) => kubectl(janeConfig, args, input);
    // kubectl's create subcommands send protobuf bodies.
    await ok(admin(['create', 'namespace', 'jane-ns']));
    await ok(admin(['create', 'role', 'pod-reader', '--verb=get,list,watch', '--resource=pods', '-n', 'jane-ns']));
    await ok(admin(['create', 'rolebinding', 'jane-reads-pods', '--role=pod-reader', '--user=jane', '-n', 'jane-ns']));
  });
  afterAll(async () => {
    await srv?.stop();
  });

  it('creates the default cluster roles and bindings', async () => {
    const roles = (await ok(admin(['get', 'clusterroles', '-o', 'name']))).trim().split('\n');
    for (const r of ['cluster-admin', 'admin', 'edit', 'view', 'system:basic-user', 'system:discovery', 'system:public-info-viewer', 'system:node', 'system:kube-scheduler', 'system:kube-controller-manager', 'system:node-proxier']) {
      expect(roles).toContain(`clusterrole.rbac.authorization.k8s.io/${r}`);
    }
    const binding = JSON.parse(await ok(admin(['get', 'clusterrolebinding', 'cluster-admin', '-o', 'json']))) as { subjects: unknown[]; metadata: { labels: Record<string, string>; annotations: Record<string, string> } };
    expect(binding.subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:masters' }]);
    expect(binding.metadata.labels['kubernetes.io/bootstrapping']).toBe('rbac-defaults');
    expect(binding.metadata.annotations['rbac.authorization.kubernetes.io/autoupdate']).toBe('true');
  });

  it('lets jane list pods in her namespace', async () => {
    const r = await jane(['get', 'pods', '-n', 'jane-ns']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/No resources found in jane-ns namespace/);
  });

  it('refuses jane elsewhere with upstream 403 messages', async () => {
    const list = await jane(['get', 'pods', '-n', 'default']);
    expect(list.code).not.toBe(0);
    expect(list.stderr.trim()).toBe('Error from server (Forbidden): pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "default"');
    const nodes = await jane(['get', 'nodes']);
    expect(nodes.stderr.trim()).toBe('Error from server (Forbidden): nodes is forbidden: User "jane" cannot list resource "nodes" in API group "" at the cluster scope');
    const create = await jane(['run', 'web', '--image=skiff/web:1.0', '-n', 'jane-ns']);
    expect(create.stderr).toMatch(/pods is forbidden: User "jane" cannot create resource "pods" in API group "" in the namespace "jane-ns"/);
    const named = await jane(['get', 'deployment', 'web', '-n', 'jane-ns']);
    expect(named.stderr.trim()).toBe('Error from server (Forbidden): deployments.apps "web" is forbidden: User "jane" cannot get resource "deployments" in API group "apps" in the namespace "jane-ns"');
  });

  it('answers with the 403 Status body upstream sends', async () => {
    const r = await https(srv, srv.credentials('jane', []), 'GET', '/api/v1/namespaces/default/pods/web/log');
    expect(r.status).toBe(403);
    expect(r.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods "web" is forbidden: User "jane" cannot get resource "pods/log" in API group "" in the namespace "default"',
      reason: 'Forbidden',
      details: { name: 'web', kind: 'pods' },
      code: 403,
    });
    const path = await https(srv, srv.credentials('jane', []), 'GET', '/metrics');
    expect(path.status).toBe(403);
    expect(path.body).toMatchObject({ message: 'forbidden: User "jane" cannot get path "/metrics"', reason: 'Forbidden', details: {}, code: 403 });
  });

  it('answers kubectl auth whoami (SelfSubjectReview) for the admin, with --as, and for jane herself', async () => {
    // A client certificate's user carries the certificate's SHA-256 as its credential id, as upstream's since 1.32.
    const credentialId = (pem: string): string => `X509SHA256=${createHash('sha256').update(new X509Certificate(pem).raw).digest('hex')}`;
    const whoami = (user: string, groups: string, cert: string): string => {
      const rows = [['ATTRIBUTE', 'VALUE'], ['Username', user], ['Groups', groups], ['Extra: authentication.kubernetes.io/credential-id', `[${credentialId(cert)}]`]];
      const width = Math.max(...rows.map(([k]) => (k as string).length)) + 3;
      return rows.map(([k, v]) => `${(k as string).padEnd(width)}${v}\n`).join('');
    };
    expect(await ok(admin(['auth', 'whoami']))).toBe(whoami('kubernetes-admin', '[system:masters system:authenticated]', readFileSync(srv.pki.paths.adminCert, 'utf8')));
    const as = JSON.parse(await ok(admin(['auth', 'whoami', '--as', 'jane', '--as-group', 'devs', '-o', 'json']))) as Record<string, unknown>;
    expect(as).toMatchObject({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', status: { userInfo: { username: 'jane', groups: ['devs', 'system:authenticated'] } } });
    // Impersonated: the requester's credential is not the impersonated user's.
    expect((as.status as { userInfo: Record<string, unknown> }).userInfo.extra).toBeUndefined();
    expect(await ok(jane(['auth', 'whoami']))).toBe(whoami('jane', '[system:authenticated]', srv.credentials('jane', []).cert));
  });

  it('answers kubectl auth can-i for the admin, with --as, and for jane herself', async () => {
    expect(await admin(['auth', 'can-i', 'list', 'pods', '--as', 'jane', '-n', 'jane-ns'])).toMatchObject({ code: 0, stdout: 'yes\n' });
    expect(await admin(['auth', 'can-i', 'list', 'pods', '--as', 'jane', '-n', 'default'])).toMatchObject({ code: 1, stdout: 'no\n' });
    expect(await admin(['auth', 'can-i', '*', '*'])).toMatchObject({ code: 0, stdout: 'yes\n' });
    expect(await jane(['auth', 'can-i', 'list', 'pods', '-n', 'jane-ns'])).toMatchObject({ code: 0, stdout: 'yes\n' });
    expect(await jane(['auth', 'can-i', 'delete', 'pods', '-n', 'jane-ns'])).toMatchObject({ code: 1, stdout: 'no\n' });
    expect(await jane(['auth', 'can-i', 'get', 'pods', '--subresource=log', '-n', 'jane-ns'])).toMatchObject({ code: 1, stdout: 'no\n' });
    expect(await jane(['auth', 'can-i', 'watch', 'pods', '-n', 'jane-ns'])).toMatchObject({ code: 0, stdout: 'yes\n' });
    expect(await jane(['auth', 'can-i', 'get', 'pods/web', '-n', 'jane-ns'])).toMatchObject({ code: 0, stdout: 'yes\n' });
    expect(await jane(['auth', 'can-i', 'list', 'nodes'])).toMatchObject({ code: 1, stdout: 'no\n' });
  });

  it('lists jane\'s rules with kubectl auth can-i --list', async () => {
    const out = await ok(jane(['auth', 'can-i', '--list', '-n', 'jane-ns']));
    const lines = out.trim().split('\n').map((l) => l.trim().split(/\s{2,}/));
    expect(lines[0]).toEqual(['Resources', 'Non-Resource URLs', 'Resource Names', 'Verbs']);
    expect(lines).toContainEqual(['pods', '[]', '[]', '[get list watch]']);
    expect(lines).toContainEqual(['selfsubjectaccessreviews.authorization.k8s.io', '[]', '[]', '[create]']);
    // Non-resource rows have an empty first column.
    expect(lines).toContainEqual(['[/api/*]', '[]', '[get]']);
  });

  it('refuses impersonation to users without the impersonate verb', async () => {
    const r = await jane(['get', 'pods', '-n', 'jane-ns', '--as', 'bob']);
    expect(r.stderr.trim()).toBe('Error from server (Forbidden): users "bob" is forbidden: User "jane" cannot impersonate resource "users" in API group "" at the cluster scope');
  });

  it('grants the aggregated view and edit roles through a RoleBinding', async () => {
    await ok(admin(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } })));
    await ok(admin(['create', '-f', '-'], JSON.stringify(roleBinding('jane-view', 'team', 'ClusterRole', 'view'))));
    expect(await jane(['auth', 'can-i', 'list', 'deployments.apps', '-n', 'team'])).toMatchObject({ stdout: 'yes\n' });
    expect(await jane(['auth', 'can-i', 'create', 'deployments.apps', '-n', 'team'])).toMatchObject({ stdout: 'no\n' });
    expect(await jane(['auth', 'can-i', 'get', 'secrets', '-n', 'team'])).toMatchObject({ stdout: 'no\n' });
    await ok(admin(['create', '-f', '-'], JSON.stringify(roleBinding('jane-edit', 'team', 'ClusterRole', 'edit'))));
    expect(await jane(['auth', 'can-i', 'create', 'deployments.apps', '-n', 'team'])).toMatchObject({ stdout: 'yes\n' });
    expect(await jane(['auth', 'can-i', 'create', 'rolebindings.rbac.authorization.k8s.io', '-n', 'team'])).toMatchObject({ stdout: 'no\n' });
    await ok(jane(['create', '-n', 'team', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { a: 'b' } })));
    expect((await ok(jane(['get', 'configmap', 'settings', '-n', 'team', '-o', 'jsonpath={.data.a}'])))).toBe('b');
  });

  it('keeps a namespace admin from granting more than they hold', async () => {
    await ok(admin(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'owned' } })));
    await ok(admin(['create', '-f', '-'], JSON.stringify(roleBinding('jane-admin', 'owned', 'ClusterRole', 'admin'))));
    const bindEdit = { ...roleBinding('bob-edit', 'owned', 'ClusterRole', 'edit'), subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'bob' }] };
    await ok(jane(['create', '-f', '-'], JSON.stringify(bindEdit)));
    const bindAll = { ...roleBinding('bob-all', 'owned', 'ClusterRole', 'cluster-admin'), subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'bob' }] };
    const refused = await jane(['create', '-f', '-'], JSON.stringify(bindAll));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(
      'rolebindings.rbac.authorization.k8s.io "bob-all" is forbidden: user "jane" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:["*"], Resources:["*"], Verbs:["*"]}\n{NonResourceURLs:["*"], Verbs:["*"]}',
    );
    const wideRole = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'nodes-too', namespace: 'owned' }, rules: [{ apiGroups: [''], resources: ['pods', 'nodes'], verbs: ['get'] }] };
    const role = await jane(['create', '-f', '-'], JSON.stringify(wideRole));
    expect(role.stderr).toContain('roles.rbac.authorization.k8s.io "nodes-too" is forbidden: user "jane" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["nodes"], Verbs:["get"]}');
  });

  it('confines a node identity to its own Node, Lease and pods', async () => {
    const n1 = srv.credentials('system:node:n1', ['system:nodes']);
    const node = (name: string) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name } });
    expect((await https(srv, n1, 'POST', '/api/v1/nodes', node('n1'))).status).toBe(201);
    const other = await https(srv, n1, 'POST', '/api/v1/nodes', node('n2'));
    expect(other.status).toBe(403);
    expect(other.body.message).toBe('nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"');
    await ok(admin(['create', '-f', '-'], JSON.stringify(node('n2'))));
    expect((await https(srv, n1, 'GET', '/api/v1/nodes/n1')).status).toBe(200);
    const read = await https(srv, n1, 'GET', '/api/v1/nodes/n2');
    expect(read.status).toBe(403);
    expect(read.body.message).toBe('nodes "n2" is forbidden: User "system:node:n1" cannot get resource "nodes" in API group "" at the cluster scope: node \'n1\' cannot read \'n2\', only its own Node object');
    const write = await https(srv, n1, 'PUT', '/api/v1/nodes/n2/status', { ...node('n2') });
    expect(write.status).toBe(403);
    expect(write.body.message).toMatch(/^nodes "n2" is forbidden: User "system:node:n1" cannot update resource "nodes\/status" in API group "" at the cluster scope: node "n1" is not allowed to modify node "n2"$/);

    const lease = (name: string) => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'kube-node-lease' }, spec: { holderIdentity: name } });
    expect((await https(srv, n1, 'POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', lease('n1'))).status).toBe(201);
    expect((await https(srv, n1, 'POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', lease('n2'))).status).toBe(403);
    expect((await https(srv, n1, 'GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1')).status).toBe(200);

    const pod = (name: string, nodeName: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName, containers: [{ name: 'c', image: 'skiff/web:1.0' }] } });
    await ok(admin(['create', '-n', 'default', '-f', '-'], JSON.stringify(pod('on-n1', 'n1'))));
    await ok(admin(['create', '-n', 'default', '-f', '-'], JSON.stringify(pod('on-n2', 'n2'))));
    expect((await https(srv, n1, 'GET', '/api/v1/namespaces/default/pods/on-n1')).status).toBe(200);
    expect((await https(srv, n1, 'GET', '/api/v1/namespaces/default/pods/on-n2')).status).toBe(403);
    expect((await https(srv, n1, 'GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dn1')).status).toBe(200);
    const all = await https(srv, n1, 'GET', '/api/v1/pods');
    expect(all.body.message).toBe('pods is forbidden: User "system:node:n1" cannot list resource "pods" in API group "" at the cluster scope: can only list/watch pods with spec.nodeName field selector');
    const mine = (await https(srv, n1, 'GET', '/api/v1/namespaces/default/pods/on-n1')).body;
    expect((await https(srv, n1, 'PUT', '/api/v1/namespaces/default/pods/on-n1/status', { ...mine, status: { phase: 'Running' } })).status).toBe(200);
    const theirs = (await https(srv, srv.credentials('kubernetes-admin', ['system:masters']), 'GET', '/api/v1/namespaces/default/pods/on-n2')).body;
    const refused = await https(srv, n1, 'PUT', '/api/v1/namespaces/default/pods/on-n2/status', { ...theirs, status: { phase: 'Running' } });
    expect(refused.status).toBe(403);
    expect(refused.body.message).toBe('pods "on-n2" is forbidden: User "system:node:n1" cannot update resource "pods/status" in API group "" in the namespace "default": node "n1" can only update pod status for pods with spec.nodeName set to itself');
    expect((await https(srv, n1, 'DELETE', '/api/v1/namespaces/default/pods/on-n2')).status).toBe(403);
    const notMirror = await https(srv, n1, 'POST', '/api/v1/namespaces/default/pods', pod('static', 'n1'));
    expect(notMirror.status).toBe(403);
    expect(notMirror.body.message).toBe('pods "static" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, node "n1" can only create mirror pods');
    const mirror = { ...pod('static', 'n1'), metadata: { name: 'static', annotations: { 'kubernetes.io/config.mirror': 'hash' } } };
    expect((await https(srv, n1, 'POST', '/api/v1/namespaces/default/pods', mirror)).status).toBe(201);
    expect([200, 202]).toContain((await https(srv, n1, 'DELETE', '/api/v1/namespaces/default/pods/static')).status);
  });
});
