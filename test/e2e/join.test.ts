import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, eventually } from '../integration/agent/harness.js';
import { ControlPlane, SKIFF } from './control-harness.js';

function skiff(args: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [SKIFF, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('joining a node with a bootstrap token (TLS bootstrap, as kubeadm join)', () => {
  const cp = new ControlPlane();
  let agent: AgentProcess | undefined;
  let joinArgs: string[] = [];
  let token = '';

  beforeAll(async () => {
    await cp.start();
  }, 120_000);

  afterAll(async () => {
    await agent?.cleanup();
    await cp.stop();
  });

  it('creates a token and prints the join command with the pinned CA hash', () => {
    const r = skiff(['token', 'create', '--print-join-command', '--description', 'e2e', '--kubeconfig', cp.kubeconfig]);
    expect(r.code, r.stderr).toBe(0);
    const m = /^skiff join (127\.0\.0\.1:\d+) --token ([a-z0-9]{6}\.[a-z0-9]{16}) --discovery-token-ca-cert-hash (sha256:[0-9a-f]{64})\n$/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    token = m![2] as string;
    joinArgs = ['join', m![1] as string, '--token', token, '--discovery-token-ca-cert-hash', m![3] as string];
    const id = token.split('.')[0];
    expect(cp.k(['get', 'secret', `bootstrap-token-${id}`, '-n', 'kube-system', '-o', 'jsonpath={.type}'])).toBe('bootstrap.kubernetes.io/token');
    const expiration = Buffer.from(cp.k(['get', 'secret', `bootstrap-token-${id}`, '-n', 'kube-system', '-o', 'jsonpath={.data.expiration}']), 'base64').toString();
    expect(Date.parse(expiration) - Date.now()).toBeGreaterThan(23 * 3600_000);
  });

  it('lets the token do nothing but ask for a node certificate', () => {
    const tokenKubeconfig = (t: string): string => {
      const server = cp.k(['config', 'view', '--raw', '--minify', '-o', 'jsonpath={.clusters[0].cluster.server}']);
      const ca = cp.k(['config', 'view', '--raw', '--minify', '-o', 'jsonpath={.clusters[0].cluster.certificate-authority-data}']);
      const caFile = cp.k(['config', 'view', '--raw', '--minify', '-o', 'jsonpath={.clusters[0].cluster.certificate-authority}']);
      const caLine = ca ? `certificate-authority-data: ${ca}` : `certificate-authority: ${caFile}`;
      return cp.writeFile(`token-${t.slice(-4)}.kubeconfig`, `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: ${server}\n    ${caLine}\nusers:\n- name: u\n  user:\n    token: ${t}\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n`);
    };
    const kc = tokenKubeconfig(token);
    const can = (verb: string, resource: string): string => cp.kubectl(['auth', 'can-i', verb, resource], { env: { KUBECONFIG: kc } }).stdout.trim();
    expect(can('create', 'certificatesigningrequests')).toBe('yes');
    expect(can('create', 'certificatesigningrequests/nodeclient')).toBe('yes');
    expect(can('get', 'pods')).toBe('no');
    expect(can('get', 'secrets')).toBe('no');
    const denied = cp.kubectl(['get', 'csr'], { env: { KUBECONFIG: tokenKubeconfig(`${token.split('.')[0]}.0000000000000000`) } });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/Unauthorized|must be logged in/);
  });

  it('refuses a CA hash that does not match, and malformed tokens, before sending anything', () => {
    const wrongPin = skiff([...joinArgs.slice(0, 4), '--discovery-token-ca-cert-hash', `sha256:${'0'.repeat(64)}`, '--root-dir', join(cp.dir, 'never')]);
    expect(wrongPin.code).toBe(1);
    expect(wrongPin.stderr).toMatch(/no CA presented by 127\.0\.0\.1:\d+ matches --discovery-token-ca-cert-hash/);
    const badToken = skiff(['join', joinArgs[1] as string, '--token', 'nope', '--discovery-token-ca-cert-hash', joinArgs[5] as string]);
    expect(badToken.code).toBe(2);
    expect(badToken.stderr).toMatch(/--token: expected the form/);
  });

  it('joins: the agent gets its own certificate through an auto-approved CSR and runs pods under it', async () => {
    agent = new AgentProcess({ command: joinArgs });
    await agent.start();
    const nodeName = agent.nodeName;
    await eventually(() => cp.k(['get', 'node', nodeName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']) === 'True', 'the joined node Ready', 60_000);
    const csrs = JSON.parse(cp.k(['get', 'csr', '-o', 'json'])) as { items: Array<{ spec: { username: string; signerName: string }; status: { conditions?: Array<{ type: string; reason?: string }>; certificate?: string } }> };
    const mine = csrs.items.find((c) => c.spec.username === `system:bootstrap:${token.split('.')[0]}`);
    expect(mine?.spec.signerName).toBe('kubernetes.io/kube-apiserver-client-kubelet');
    expect(mine?.status.conditions).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'Approved', reason: 'AutoApproved' })]));
    expect(cp.k(['get', 'csr'])).toMatch(/node-csr-\S+\s+\S+\s+kubernetes\.io\/kube-apiserver-client-kubelet\s+system:bootstrap:[a-z0-9]{6}\s+<none>\s+Approved,Issued/);
    // The node's identity is its own, not the admin's.
    const cert = new X509Certificate(readFileSync(join(agent.rootDir, 'pki', 'kubelet-client.crt')));
    expect(cert.subject).toMatch(/CN=system:node:/);
    expect(cert.subject).toContain(`CN=system:node:${nodeName}`);
    expect(cert.subject).toContain('O=system:nodes');
    cp.k(['run', 'on-joined', '--image=skiff/web:1.0', `--overrides=${JSON.stringify({ spec: { nodeName } })}`]);
    await eventually(() => cp.k(['get', 'pod', 'on-joined', '-o', 'jsonpath={.status.phase}']) === 'Running', 'a pod running on the joined node', 90_000);
    // NodeRestriction: the node may not touch another node.
    const nodeKubeconfig = join(agent.rootDir, 'kubelet.kubeconfig');
    cp.k(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'someone-else' } }) });
    const label = cp.kubectl(['label', 'node', 'someone-else', 'stolen=yes'], { env: { KUBECONFIG: nodeKubeconfig } });
    expect(label.code).not.toBe(0);
    expect(label.stderr).toMatch(/forbidden/i);
  });
});
