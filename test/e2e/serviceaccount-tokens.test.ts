import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../integration/agent/harness.js';
import { ControlPlane } from './control-harness.js';

/** A kubeconfig that presents only a bearer token, against the harness's cluster. */
function tokenKubeconfig(cp: ControlPlane, token: string, name: string): string {
  const server = cp.k(['config', 'view', '--raw', '--minify', '-o', 'jsonpath={.clusters[0].cluster.server}']);
  const caFile = cp.k(['config', 'view', '--raw', '--minify', '-o', 'jsonpath={.clusters[0].cluster.certificate-authority}']);
  return cp.writeFile(name, `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: ${server}\n    certificate-authority: ${caFile}\nusers:\n- name: u\n  user:\n    token: ${token}\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n`);
}

describe('service account tokens (TokenRequest API and authentication) and kube-root-ca.crt', () => {
  const cp = new ControlPlane();

  beforeAll(async () => {
    await cp.start();
    await eventually(() => cp.kubectl(['get', 'serviceaccount', 'default']).code === 0, 'the default service account', 30_000);
  }, 120_000);

  afterAll(async () => {
    await cp.stop();
  });

  it('issues a token with kubectl create token that authenticates as the service account', () => {
    const token = cp.k(['create', 'token', 'default', '--duration', '15m']).trim();
    const [, payload] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload as string, 'base64url').toString()) as { sub: string; iss: string; aud: string[]; exp: number; iat: number };
    expect(claims.sub).toBe('system:serviceaccount:default:default');
    expect(claims.iss).toBe('https://kubernetes.default.svc.cluster.local');
    expect(claims.exp - claims.iat).toBe(900);
    const kc = tokenKubeconfig(cp, token, 'sa.kubeconfig');
    const denied = cp.kubectl(['get', 'pods'], { env: { KUBECONFIG: kc } });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('User "system:serviceaccount:default:default" cannot list resource "pods"');
    cp.k(['create', 'rolebinding', 'sa-view', '--clusterrole=view', '--serviceaccount=default:default']);
    expect(cp.kubectl(['get', 'pods'], { env: { KUBECONFIG: kc } }).code).toBe(0);
  });

  it('refuses tokens shorter than 10 minutes, for missing accounts, and tampered tokens', () => {
    const short = cp.kubectl(['create', 'token', 'default', '--duration', '5m']);
    expect(short.code).not.toBe(0);
    expect(short.stderr).toMatch(/may not specify a duration less than 10 minutes/);
    const missing = cp.kubectl(['create', 'token', 'nobody']);
    expect(missing.stderr).toMatch(/serviceaccounts "nobody" not found/);
    const token = cp.k(['create', 'token', 'default']).trim();
    const [h, p, s] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as { sub: string };
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'system:serviceaccount:kube-system:default' })).toString('base64url')}.${s}`;
    const r = cp.kubectl(['get', 'pods'], { env: { KUBECONFIG: tokenKubeconfig(cp, forged, 'forged.kubeconfig') } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Unauthorized|must be logged in/);
  });

  it('invalidates a pod-bound token when the pod goes away, and when the account is recreated', async () => {
    cp.k(['run', 'holder', '--image=skiff/busybox', '--restart=Never']);
    const token = cp.k(['create', 'token', 'default', '--bound-object-kind', 'Pod', '--bound-object-name', 'holder']).trim();
    const claims = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as { 'kubernetes.io': { pod: { name: string } } };
    expect(claims['kubernetes.io'].pod.name).toBe('holder');
    const kc = tokenKubeconfig(cp, token, 'bound.kubeconfig');
    expect(cp.kubectl(['get', 'pods'], { env: { KUBECONFIG: kc } }).code).toBe(0);
    cp.k(['delete', 'pod', 'holder', '--grace-period=0', '--force']);
    await eventually(() => cp.kubectl(['get', 'pods'], { env: { KUBECONFIG: kc } }).code !== 0, 'the bound token to stop working', 30_000);
    const unbound = cp.k(['create', 'token', 'default']).trim();
    const kc2 = tokenKubeconfig(cp, unbound, 'unbound.kubeconfig');
    expect(cp.kubectl(['get', 'pods'], { env: { KUBECONFIG: kc2 } }).code).toBe(0);
    cp.k(['delete', 'serviceaccount', 'default']);
    await eventually(() => cp.kubectl(['get', 'serviceaccount', 'default']).code === 0, 'the default account recreated', 30_000);
    expect(cp.kubectl(['get', 'pods'], { env: { KUBECONFIG: kc2 } }).code).not.toBe(0);
  });

  it('publishes the cluster CA as kube-root-ca.crt in every namespace', async () => {
    cp.k(['create', 'namespace', 'fresh']);
    const ca = await eventually(() => {
      const r = cp.kubectl(['get', 'configmap', 'kube-root-ca.crt', '-n', 'fresh', '-o', 'jsonpath={.data.ca\\.crt}']);
      return r.code === 0 && r.stdout.includes('BEGIN CERTIFICATE') ? r.stdout : undefined;
    }, 'kube-root-ca.crt in the new namespace', 30_000);
    const caFile = cp.k(['config', 'view', '--raw', '--minify', '-o', 'jsonpath={.clusters[0].cluster.certificate-authority}']);
    const { readFileSync } = await import('node:fs');
    expect(ca.trim()).toBe(readFileSync(caFile, 'utf8').trim());
    cp.k(['delete', 'configmap', 'kube-root-ca.crt', '-n', 'fresh']);
    await eventually(() => cp.kubectl(['get', 'configmap', 'kube-root-ca.crt', '-n', 'fresh']).code === 0, 'kube-root-ca.crt put back', 30_000);
  });
});
