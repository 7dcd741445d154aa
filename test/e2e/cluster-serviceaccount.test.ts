import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signClientCert } from '../../control/apiserver/pki.js';
import { AgentProcess, eventually } from '../integration/agent/harness.js';
import { ControlPlane } from './control-harness.js';

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * The service account token volume end to end: the ServiceAccount admission plugin adds kube-api-access-<suffix>,
 * the agent (authenticated as its node, so the Node authorizer decides what it may read and which tokens it may
 * request) projects a pod-bound token, the cluster CA and the namespace into it, and keeps projected ConfigMaps
 * current.
 */
describe('projected service account tokens on a real agent', () => {
  const cp = new ControlPlane();
  let agent: AgentProcess;
  const pki = (): string => join(cp.dir, 'data', 'pki');
  const server = (): string => cp.k(['config', 'view', '--raw', '--minify', '-o', 'jsonpath={.clusters[0].cluster.server}']);
  const kubeconfig = (name: string, user: string): string =>
    cp.writeFile(name, `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: ${server()}\n    certificate-authority: ${join(pki(), 'ca.crt')}\nusers:\n- name: u\n  user:\n${user}contexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n`);
  const running = (pod: string): Promise<boolean> =>
    eventually(() => cp.kubectl(['get', 'pod', pod, '-o', 'jsonpath={.status.phase}']).stdout === 'Running', `pod ${pod} Running`, 90_000);

  beforeAll(async () => {
    await cp.start();
    await eventually(() => cp.kubectl(['get', 'serviceaccount', 'default']).code === 0, 'the default service account', 30_000);
    // The agent holds a node's credentials, not the admin's: system:node:<name> in system:nodes (written once the
    // node's name is known, before the agent starts).
    agent = new AgentProcess({ args: ['--kubeconfig', join(cp.dir, 'node.kubeconfig'), '--address', '0.0.0.0', '--client-ca-file', join(pki(), 'ca.crt')] });
    const ca = { cert: readFileSync(join(pki(), 'ca.crt'), 'utf8'), key: readFileSync(join(pki(), 'ca.key'), 'utf8') };
    const node = signClientCert(ca, `system:node:${agent.nodeName}`, ['system:nodes']);
    kubeconfig('node.kubeconfig', `    client-certificate-data: ${Buffer.from(node.cert).toString('base64')}\n    client-key-data: ${Buffer.from(node.key).toString('base64')}\n`);
    await agent.start();
    await eventually(() => cp.kubectl(['get', 'node', agent.nodeName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']).stdout === 'True', 'node Ready');
  }, 120_000);

  afterAll(async () => {
    await agent?.cleanup();
    await cp.stop();
  });

  it('mounts token, ca.crt and namespace; the token authenticates as the pod\'s service account, bound to the pod', async () => {
    cp.k(['run', 'sa-pod', '--image=skiff/busybox:1.0', '--', 'sleep', '3600']);
    await running('sa-pod');
    const volumes = JSON.parse(cp.k(['get', 'pod', 'sa-pod', '-o', 'jsonpath={.spec.volumes}'])) as Array<{ name: string }>;
    expect(volumes.map((v) => v.name)).toEqual([expect.stringMatching(/^kube-api-access-[a-z0-9]{5}$/)]);
    expect(cp.k(['exec', 'sa-pod', '--', 'ls', SA_DIR]).split('\n').filter(Boolean).sort()).toEqual(['ca.crt', 'namespace', 'token']);
    expect(cp.k(['exec', 'sa-pod', '--', 'cat', `${SA_DIR}/namespace`])).toBe('default');
    expect(cp.k(['exec', 'sa-pod', '--', 'cat', `${SA_DIR}/ca.crt`]).trim()).toBe(readFileSync(join(pki(), 'ca.crt'), 'utf8').trim());
    const token = cp.k(['exec', 'sa-pod', '--', 'cat', `${SA_DIR}/token`]);
    const claims = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as { sub: string; exp: number; iat: number; 'kubernetes.io': { pod: { name: string; uid: string }; node?: { name: string } } };
    expect(claims.sub).toBe('system:serviceaccount:default:default');
    expect(claims.exp - claims.iat).toBe(3607);
    expect(claims['kubernetes.io'].pod).toEqual({ name: 'sa-pod', uid: cp.k(['get', 'pod', 'sa-pod', '-o', 'jsonpath={.metadata.uid}']) });
    expect(claims['kubernetes.io'].node?.name).toBe(agent.nodeName);
    // From the host: the token is the service account's identity (denied until a role is bound, then allowed).
    const kc = kubeconfig('sa.kubeconfig', `    token: ${token}\n`);
    const denied = cp.kubectl(['get', 'pods'], { env: { KUBECONFIG: kc } });
    expect(denied.stderr).toContain('User "system:serviceaccount:default:default" cannot list resource "pods"');
    cp.k(['create', 'rolebinding', 'sa-view', '--clusterrole=view', '--serviceaccount=default:default']);
    await eventually(() => cp.kubectl(['get', 'pods'], { env: { KUBECONFIG: kc } }).stdout.includes('sa-pod'), 'the token to list pods with the view role');
  });

  it('updates a projected ConfigMap in place when the ConfigMap changes', async () => {
    cp.k(['create', 'configmap', 'app-config', '--from-literal=greeting=hello']);
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'projected', labels: { app: 'projected' } },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'app', image: 'skiff/busybox:1.0', command: ['sleep', '3600'], resources: { limits: { cpu: '250m' } }, volumeMounts: [{ name: 'all', mountPath: '/etc/all' }, { name: 'info', mountPath: '/etc/info' }] }],
        volumes: [
          {
            name: 'info',
            downwardAPI: {
              items: [
                { path: 'cpu_limit', resourceFieldRef: { containerName: 'app', resource: 'limits.cpu', divisor: '1m' } },
                { path: 'mem_limit', resourceFieldRef: { containerName: 'app', resource: 'limits.memory', divisor: '1Ki' } },
              ],
            },
          },
          {
            name: 'all',
            projected: {
              sources: [
                { configMap: { name: 'app-config', items: [{ key: 'greeting', path: 'config/greeting', mode: 0o600 }] } },
                { downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
                { serviceAccountToken: { audience: 'vault', expirationSeconds: 600, path: 'vault-token' } },
              ],
            },
          },
        ],
      },
    };
    cp.k(['apply', '-f', '-'], { input: JSON.stringify(pod) });
    await running('projected');
    expect(cp.k(['exec', 'projected', '--', 'cat', '/etc/all/config/greeting'])).toBe('hello');
    expect(cp.k(['exec', 'projected', '--', 'stat', '-L', '-c', '%a', '/etc/all/config/greeting']).trim()).toBe('600');
    expect(cp.k(['exec', 'projected', '--', 'cat', '/etc/all/labels'])).toBe('app="projected"');
    // A plain downwardAPI volume: the container's limit, and the node's allocatable where it sets none.
    expect(cp.k(['exec', 'projected', '--', 'cat', '/etc/info/cpu_limit'])).toBe('250');
    const allocatable = cp.k(['get', 'node', agent.nodeName, '-o', 'jsonpath={.status.allocatable.memory}']);
    expect(`${cp.k(['exec', 'projected', '--', 'cat', '/etc/info/mem_limit'])}Ki`).toBe(allocatable);
    const vault = cp.k(['exec', 'projected', '--', 'cat', '/etc/all/vault-token']);
    const claims = JSON.parse(Buffer.from(vault.split('.')[1] as string, 'base64url').toString()) as { aud: string[]; exp: number; iat: number };
    expect(claims.aud).toEqual(['vault']);
    expect(claims.exp - claims.iat).toBe(600);
    cp.k(['patch', 'configmap', 'app-config', '-p', '{"data":{"greeting":"bye"}}']);
    await eventually(() => cp.kubectl(['exec', 'projected', '--', 'cat', '/etc/all/config/greeting']).stdout === 'bye', 'the projected file to follow the ConfigMap', 60_000);
    cp.k(['label', 'pod', 'projected', 'tier=web']);
    await eventually(() => cp.kubectl(['exec', 'projected', '--', 'cat', '/etc/all/labels']).stdout === 'app="projected"\ntier="web"', 'the labels file to follow the pod', 60_000);
  });

  it('leaves the token volume out with automountServiceAccountToken: false', async () => {
    cp.k(['run', 'no-token', '--image=skiff/busybox:1.0', '--overrides={"spec":{"automountServiceAccountToken":false}}', '--', 'sleep', '3600']);
    await running('no-token');
    expect(cp.k(['get', 'pod', 'no-token', '-o', 'jsonpath={.spec.volumes}'])).toBe('');
    expect(cp.k(['exec', 'no-token', '--', 'echo', 'reachable'])).toBe('reachable\n');
    const ls = cp.kubectl(['exec', 'no-token', '--', 'ls', SA_DIR]);
    expect(ls.code).not.toBe(0);
    expect(ls.stderr + ls.stdout).toMatch(/No such file or directory/);
  });
});
