import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../integration/agent/harness.js';
import { ControlPlane } from './control-harness.js';

/** The walkthrough's API-level steps with the real kubectl against `skiff control`. */
describe('kubectl against skiff control', () => {
  const cp = new ControlPlane();
  beforeAll(async () => {
    await cp.start();
  });
  afterAll(async () => {
    await cp.stop();
  });

  it('prints client and server versions', () => {
    const out = cp.k(['version']);
    expect(out).toMatch(/^Client Version: v1\.\d+/m);
    expect(out).toMatch(/^Server Version: v1\.32\.\d+/m);
  });

  it('lists every served resource with short names, group, scope and kind', () => {
    const out = cp.k(['api-resources']);
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND$/);
    const row = (name: string) => lines.find((l) => l.startsWith(`${name} `))?.trim().split(/\s+/);
    expect(row('pods')).toEqual(['pods', 'po', 'v1', 'true', 'Pod']);
    expect(row('namespaces')).toEqual(['namespaces', 'ns', 'v1', 'false', 'Namespace']);
    expect(row('deployments')).toEqual(['deployments', 'deploy', 'apps/v1', 'true', 'Deployment']);
    expect(row('leases')).toEqual(['leases', 'coordination.k8s.io/v1', 'true', 'Lease']);
  });

  it('authenticates with the admin client certificate, and refuses anonymous requests with 401', async () => {
    expect(cp.k(['get', 'ns', '-o', 'name']).trim().split('\n')).toEqual(['namespace/default', 'namespace/kube-node-lease', 'namespace/kube-public', 'namespace/kube-system']);
    const anonConfig = cp.writeFile('anon.kubeconfig', `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:${cp.port}', insecure-skip-tls-verify: true}\nusers:\n- name: u\n  user: {token: not-a-known-token}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n`);
    const anon = cp.kubectl(['get', 'pods'], { env: { KUBECONFIG: anonConfig } });
    expect(anon.code).not.toBe(0);
    expect(anon.stderr).toMatch(/Unauthorized|must be logged in/);
  });

  it('issues a user a client certificate through a CSR (usages: [client auth]) that authenticates as its subject', async () => {
    // As upstream's "normal user" task: a key and CSR made with openssl, approved with kubectl certificate approve.
    const key = cp.writeFile('alice.key', '');
    const csrPath = cp.writeFile('alice.csr', '');
    const made = spawnSync('openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-subj', '/CN=alice/O=dev', '-out', csrPath], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const request = readFileSync(csrPath).toString('base64');
    cp.k(['apply', '-f', '-'], { input: `apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\nmetadata: {name: alice}\nspec:\n  request: ${request}\n  signerName: kubernetes.io/kube-apiserver-client\n  expirationSeconds: 86400\n  usages: [client auth]\n` });
    expect(cp.k(['certificate', 'approve', 'alice'])).toMatch(/certificatesigningrequest.certificates.k8s.io\/alice approved/);
    const issued = await eventually(() => cp.k(['get', 'csr', 'alice', '-o', 'jsonpath={.status.certificate}']).trim() || undefined, 'the issued certificate', 60_000);
    const cert = cp.writeFile('alice.crt', Buffer.from(issued, 'base64').toString());
    const ca = join(cp.dir, 'data', 'pki', 'ca.crt');
    const verified = spawnSync('openssl', ['verify', '-CAfile', ca, cert], { encoding: 'utf8' });
    expect(verified.stdout + verified.stderr).toMatch(/: OK/);
    const alice = cp.writeFile(
      'alice.kubeconfig',
      `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:${cp.port}', certificate-authority: ${ca}}\nusers:\n- name: alice\n  user: {client-certificate: ${cert}, client-key: ${key}}\ncontexts:\n- name: x\n  context: {cluster: c, user: alice}\ncurrent-context: x\n`,
    );
    const whoami = JSON.parse(cp.k(['auth', 'whoami', '-o', 'json'], { env: { KUBECONFIG: alice } })) as { status: { userInfo: { username: string; groups: string[] } } };
    expect(whoami.status.userInfo).toMatchObject({ username: 'alice', groups: ['dev', 'system:authenticated'] });
    const denied = cp.kubectl(['get', 'pods'], { env: { KUBECONFIG: alice } });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"/);
  });

  it('creates a namespace from a file, puts objects without -n in default, and keeps names unique per namespace', async () => {
    const file = cp.writeFile('ns.yaml', 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n');
    expect(cp.k(['create', '-f', file])).toMatch(/namespace\/team-a created/);
    // Pods wait for the namespace's default service account (ServiceAccount admission).
    await eventually(() => cp.kubectl(['get', 'serviceaccount', 'default', '-n', 'team-a']).code === 0, 'the default service account of team-a', 90_000);
    cp.k(['run', 'web', '--image=skiff/web:1.0']);
    cp.k(['run', 'web', '--image=skiff/web:1.0', '-n', 'team-a']);
    const dup = cp.kubectl(['run', 'web', '--image=skiff/web:1.0']);
    expect(dup.code).not.toBe(0);
    expect(dup.stderr).toMatch(/pods "web" already exists/);
    expect(cp.k(['get', 'pods', '-o', 'jsonpath={.items[*].metadata.namespace}'])).toBe('default');
    expect(cp.k(['get', 'pod', 'web', '-n', 'team-a', '-o', 'jsonpath={.metadata.namespace}'])).toBe('team-a');
  });

  it('shows a pod as YAML with upstream defaults, uid, resourceVersion and creationTimestamp', () => {
    const yaml = cp.k(['get', 'pod', 'web', '-o', 'yaml']);
    expect(yaml).toMatch(/^apiVersion: v1$/m);
    expect(yaml).toMatch(/^kind: Pod$/m);
    expect(yaml).toMatch(/^ {2}uid: [0-9a-f-]{36}$/m);
    expect(yaml).toMatch(/^ {2}resourceVersion: "\d+"$/m);
    expect(yaml).toMatch(/^ {2}creationTimestamp: "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"$/m);
    expect(yaml).toMatch(/imagePullPolicy: IfNotPresent/);
    expect(yaml).toMatch(/terminationMessagePath: \/dev\/termination-log/);
    expect(yaml).toMatch(/dnsPolicy: ClusterFirst/);
    expect(yaml).toMatch(/restartPolicy: Always/);
    expect(yaml).toMatch(/schedulerName: default-scheduler/);
    expect(yaml).not.toMatch(/: \[\]$/m);
  });

  it('refuses objects in a namespace that does not exist', () => {
    const r = cp.kubectl(['run', 'x', '--image=skiff/web:1.0', '-n', 'nowhere']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/namespaces "nowhere" not found/);
  });

  it('deletes, and answers NotFound afterwards', () => {
    expect(cp.k(['delete', 'pod', 'web', '-n', 'team-a'])).toMatch(/pod "web" deleted/);
    const r = cp.kubectl(['get', 'pod', 'web', '-n', 'team-a']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/pods "web" not found/);
  });

  it('allocates a ClusterIP and a NodePort when a pod is exposed', () => {
    cp.k(['label', 'pod', 'web', 'app=web']);
    cp.k(['expose', 'pod', 'web', '--port', '8080', '--target-port', '80', '--type', 'NodePort']);
    const ip = cp.k(['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}']);
    expect(ip).toMatch(/^10\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+$/);
    const nodePort = Number(cp.k(['get', 'svc', 'web', '-o', 'jsonpath={.spec.ports[0].nodePort}']));
    expect(nodePort).toBeGreaterThanOrEqual(30000);
    expect(nodePort).toBeLessThanOrEqual(32767);
    expect(cp.k(['get', 'svc', 'kubernetes', '-o', 'jsonpath={.spec.clusterIP}'])).toBe('10.96.0.1');
  });

  it('keeps everything across a crash of the control plane (the embedded store persists to its WAL)', async () => {
    cp.k(['create', 'configmap', 'survivor', '--from-literal=k=v']);
    const uid = cp.k(['get', 'configmap', 'survivor', '-o', 'jsonpath={.metadata.uid}']);
    await cp.kill('SIGKILL');
    await cp.start();
    expect(cp.k(['get', 'configmap', 'survivor', '-o', 'jsonpath={.metadata.uid}'])).toBe(uid);
    expect(cp.k(['get', 'ns', 'team-a', '-o', 'name'])).toBe('namespace/team-a\n');
  });
});
