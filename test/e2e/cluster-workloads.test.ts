import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { nodeIdentity } from '../../cli/identities.js';
import { AgentProcess, eventually } from '../integration/agent/harness.js';
import { ControlPlane } from './control-harness.js';

/**
 * Workloads in cluster mode: kubectl logs through the API server to the node agent, ConfigMaps and Secrets as
 * files and environment, and service variables. One control plane and one agent, as in cluster.test.ts.
 */
describe('workloads on a control plane with an agent in cluster mode', () => {
  const cp = new ControlPlane();
  let agent: AgentProcess;
  const env = (pod: string): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const line of cp.k(['logs', pod]).split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
    }
    return out;
  };
  const running = (pod: string, timeoutMs = 90_000): Promise<boolean> =>
    eventually(() => cp.k(['get', 'pod', pod, '-o', 'jsonpath={.status.phase}']) === 'Running', `pod ${pod} Running`, timeoutMs);
  const apply = (yaml: string): string => cp.k(['apply', '-f', '-'], { input: yaml });

  beforeAll(async () => {
    await cp.start();
    // The API server reaches the agent's node API on the node's InternalIP: listen on every address, not just loopback.
    const nodeKubeconfig = join(cp.dir, 'node.kubeconfig');
    agent = new AgentProcess({ args: ['--kubeconfig', nodeKubeconfig, '--address', '0.0.0.0'] });
    // The agent is the node: system:node:<name> in system:nodes, as a joined or `skiff up` node is.
    await cp.writeKubeconfig(nodeKubeconfig, nodeIdentity(agent.nodeName));
    await agent.start();
    await eventually(() => cp.k(['get', 'node', agent.nodeName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']) === 'True', 'node Ready');
  });
  afterAll(async () => {
    await agent?.cleanup();
    await cp.stop();
  });

  it('reports the port its node API answers on in the Node status', () => {
    expect(cp.k(['get', 'node', agent.nodeName, '-o', 'jsonpath={.status.daemonEndpoints.kubeletEndpoint.Port}'])).toBe(String(agent.securePort));
  });

  it('serves kubectl logs, --tail and logs -f through the API server', async () => {
    cp.k(['run', 'counter', '--image=skiff/busybox:1.0', '--', 'sh', '-c', 'i=0; while true; do echo "line $i"; i=$((i+1)); sleep 0.3; done']);
    await running('counter');
    const first = await eventually(() => {
      const out = cp.k(['logs', 'counter']);
      return out.split('\n').filter(Boolean).length >= 3 ? out : undefined;
    }, 'a few log lines');
    expect(first.startsWith('line 0\nline 1\nline 2\n')).toBe(true);
    const tail = cp.k(['logs', 'counter', '--tail=2']).split('\n').filter(Boolean);
    expect(tail).toHaveLength(2);
    expect(tail[0]).toMatch(/^line \d+$/);

    // -f keeps the stream open: new lines keep coming until kubectl is killed.
    const follow = spawn('kubectl', ['logs', '-f', 'counter', '--tail=1'], { env: { ...process.env, KUBECONFIG: cp.kubeconfig }, stdio: ['ignore', 'pipe', 'pipe'] });
    let followed = '';
    follow.stdout.on('data', (d: Buffer) => (followed += d.toString()));
    try {
      await eventually(() => followed.split('\n').filter(Boolean).length >= 4, `kubectl logs -f to print lines (got ${JSON.stringify(followed)})`, 30_000);
      const nums = followed.split('\n').filter(Boolean).map((l) => Number(l.split(' ')[1]));
      for (let i = 1; i < nums.length; i++) expect(nums[i]).toBe((nums[i - 1] as number) + 1);
      expect(follow.exitCode).toBeNull();
    } finally {
      const exited = new Promise((r) => follow.once('exit', r));
      process.kill(follow.pid as number, 'SIGKILL');
      await exited;
    }
    cp.k(['delete', 'pod', 'counter', '--wait=false']);
  });

  it('refuses logs without a container name for a pod with several containers, and for a pod on no node', async () => {
    apply(`apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  nodeName: nowhere-node
  containers:
  - name: a
    image: skiff/busybox:1.0
  - name: b
    image: skiff/busybox:1.0
`);
    const noContainer = cp.kubectl(['get', '--raw', '/api/v1/namespaces/default/pods/web/log']);
    expect(noContainer.code).not.toBe(0);
    expect(noContainer.stderr).toMatch(/a container name must be specified for pod web, choose one of: \[a b\]/);
    const invalid = cp.kubectl(['logs', 'web', '-c', 'zzz']);
    expect(invalid.stderr).toMatch(/container zzz is not valid for pod web/);
    cp.k(['delete', 'pod', 'web', '--grace-period=0', '--force']);

    apply(`apiVersion: v1
kind: Pod
metadata:
  name: lonely
spec:
  nodeSelector:
    nothing: matches
  containers:
  - name: a
    image: skiff/busybox:1.0
`);
    const pending = cp.kubectl(['logs', 'lonely']);
    expect(pending.code).not.toBe(0);
    expect(pending.stderr).toMatch(/Error from server \(BadRequest\): pod lonely does not have a host assigned/);
    cp.k(['delete', 'pod', 'lonely', '--wait=false']);
  });

  it('mounts a ConfigMap made with --from-file as files and gives its keys as env; a Secret as env', async () => {
    const f1 = cp.writeFile('game.properties', 'enemies=aliens\nlives=3\n');
    const f2 = cp.writeFile('ui.properties', 'color.good=purple\n');
    cp.k(['create', 'configmap', 'game-config', `--from-file=${f1}`, `--from-file=${f2}`]);
    cp.k(['create', 'secret', 'generic', 's', '--from-literal=k=v', '--from-literal=password=s3cret']);
    apply(`apiVersion: v1
kind: Pod
metadata:
  name: configured
spec:
  containers:
  - name: app
    image: skiff/busybox:1.0
    command: ["sh", "-c", "env; echo ---; cat /etc/game/game.properties /etc/game/ui.properties /etc/some/renamed; ls -a /etc/game; echo secret=$(cat /etc/secret/pw) mode=$(stat -L -c %a /etc/secret/pw); sleep 3600"]
    env:
    - name: GAME
      valueFrom: {configMapKeyRef: {name: game-config, key: game.properties}}
    - name: SECRET_K
      valueFrom: {secretKeyRef: {name: s, key: k}}
    - name: MAYBE
      valueFrom: {configMapKeyRef: {name: no-such-config, key: x, optional: true}}
    envFrom:
    - secretRef: {name: s}
      prefix: S_
    volumeMounts:
    - {name: game, mountPath: /etc/game}
    - {name: some, mountPath: /etc/some}
    - {name: secret, mountPath: /etc/secret}
  volumes:
  - name: secret
    secret: {secretName: s, defaultMode: 0400, items: [{key: password, path: pw}]}
  - name: game
    configMap: {name: game-config}
  - name: some
    configMap:
      name: game-config
      items: [{key: ui.properties, path: renamed}]
`);
    await running('configured');
    const out = await eventually(() => {
      const text = cp.k(['logs', 'configured']);
      return text.includes('..data') ? text : undefined;
    }, 'the pod printed its config');
    const e = env('configured');
    expect(e.SECRET_K).toBe('v');
    expect(e.S_k).toBe('v');
    expect(e.S_password).toBe('s3cret');
    expect(e.MAYBE).toBeUndefined();
    expect(out).toContain('GAME=enemies=aliens\nlives=3\n');
    const files = out.slice(out.indexOf('---\n') + 4);
    expect(files).toContain('enemies=aliens\nlives=3\ncolor.good=purple\ncolor.good=purple\n');
    expect(files).toMatch(/\.\.data\n/);
    expect(files).toContain('secret=s3cret mode=400');
    expect(cp.k(['logs', 'configured', '-c', 'app', '--tail=1'])).toBe('secret=s3cret mode=400\n');

    // An update reaches the mounted files (through the ..data swap) without restarting the container.
    apply(cp.k(['create', 'configmap', 'game-config', `--from-file=${f2}`, '--from-literal=game.properties=lives=9', '--dry-run=client', '-o', 'yaml']));
    const container = await eventually(async () => (await agent.containers(false)).find((c) => c.Labels['io.kubernetes.container.name'] === 'app' && c.Labels['io.kubernetes.pod.name'] === 'configured'), 'the app container');
    await eventually(async () => {
      const exec = await agent.docker.getContainer(container.Id).exec({ Cmd: ['cat', '/etc/game/game.properties'], AttachStdout: true, AttachStderr: true });
      const stream = await exec.start({});
      const chunks: Buffer[] = [];
      for await (const c of stream) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8').includes('lives=9');
    }, 'the mounted file to show the update', 120_000);
    expect(cp.k(['get', 'pod', 'configured', '-o', 'jsonpath={.status.containerStatuses[0].restartCount}'])).toBe('0');
    cp.k(['delete', 'pod', 'configured', '--wait=false']);
  });

  it('keeps a pod in CreateContainerConfigError until its ConfigMap exists, then starts it', async () => {
    apply(`apiVersion: v1
kind: Pod
metadata:
  name: waiter
spec:
  containers:
  - name: app
    image: skiff/busybox:1.0
    command: ["sh", "-c", "echo LATE=$LATE; sleep 3600"]
    env:
    - name: LATE
      valueFrom: {configMapKeyRef: {name: late-config, key: greeting}}
`);
    await eventually(
      () => cp.k(['get', 'pod', 'waiter', '-o', 'jsonpath={.status.containerStatuses[0].state.waiting.reason}']) === 'CreateContainerConfigError',
      'CreateContainerConfigError',
    );
    expect(cp.k(['get', 'pod', 'waiter', '-o', 'jsonpath={.status.containerStatuses[0].state.waiting.message}'])).toBe('configmap "late-config" not found');
    expect(cp.k(['get', 'pods', 'waiter'])).toMatch(/waiter\s+0\/1\s+CreateContainerConfigError/);
    cp.k(['create', 'configmap', 'late-config', '--from-literal=greeting=hello']);
    // Started by the ConfigMap's watch, well before the 10 s retry would matter.
    await running('waiter', 30_000);
    await eventually(() => cp.k(['logs', 'waiter']).includes('LATE=hello'), 'the env from the late ConfigMap');
    cp.k(['delete', 'pod', 'waiter', '--wait=false']);
  });

  it('gives a pod created after kubectl expose the service variables of its namespace', async () => {
    cp.k(['create', 'deployment', 'web', '--image=skiff/web:1.0', '--replicas=0']);
    cp.k(['expose', 'deployment', 'web', '--port=80', '--target-port=80']);
    const ip = cp.k(['get', 'service', 'web', '-o', 'jsonpath={.spec.clusterIP}']);
    expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    cp.k(['run', 'client', '--image=skiff/busybox:1.0', '--', 'sh', '-c', 'env; sleep 3600']);
    await running('client');
    const e = await eventually(() => {
      const vars = env('client');
      return vars.WEB_SERVICE_HOST ? vars : undefined;
    }, 'service variables');
    expect(e).toMatchObject({
      WEB_SERVICE_HOST: ip,
      WEB_SERVICE_PORT: '80',
      WEB_PORT: `tcp://${ip}:80`,
      WEB_PORT_80_TCP: `tcp://${ip}:80`,
      WEB_PORT_80_TCP_PROTO: 'tcp',
      WEB_PORT_80_TCP_PORT: '80',
      WEB_PORT_80_TCP_ADDR: ip,
    });
    cp.k(['delete', 'pod', 'client', '--wait=false']);
  });

  it('did all of it as the node: the API server refused the agent nothing', () => {
    expect(agent.logs()).not.toMatch(/forbidden|\b403\b/i);
  });
});
