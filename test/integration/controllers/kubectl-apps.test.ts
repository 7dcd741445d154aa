import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Node } from '../../../control/controllers/objects.js';
import { eventually, R, startCluster, type Cluster } from './harness.js';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** The real kubectl against the harness's API server (plain HTTP on 127.0.0.1, no authentication). */
function kubectlFor(server: string) {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-kubectl-apps-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: t\n  cluster:\n    server: ${server}\ncontexts:\n- name: t\n  context:\n    cluster: t\n    user: t\nusers:\n- name: t\n  user: {}\ncurrent-context: t\n`,
  );
  // Asynchronous, so the in-process API server keeps answering while kubectl waits on it.
  const run = (args: string[], input?: string): Promise<Result> =>
    new Promise((resolve) => {
      const child = spawn('kubectl', args, { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: dir } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      if (input !== undefined) child.stdin.end(input);
      else child.stdin.end();
    });
  const ok = async (args: string[], input?: string): Promise<string> => {
    const r = await run(args, input);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  return { run, ok, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const header = (out: string): string[] => (out.split('\n')[0] ?? '').trim().split(/\s{2,}/);

const DS = `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {containers: [{name: agent, image: "agent:1"}]}
`;
const STS = `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  replicas: 2
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, image: "db:1"}]}
`;
const WEB = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "web:1"}]}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web}
spec:
  minAvailable: 2
  selector: {matchLabels: {app: web}}
`;

describe('kubectl with the workload controllers', () => {
  let cluster: Cluster | undefined;
  let kubectl: ReturnType<typeof kubectlFor> | undefined;
  afterEach(async () => {
    kubectl?.cleanup();
    await cluster?.stop();
    cluster = undefined;
  });

  it('rollout status, get columns and scale for daemon sets, stateful sets and budgets; drain honours the budget', async () => {
    cluster = await startCluster(['daemonset', 'statefulset', 'disruption', 'deployment', 'replicaset'], { nodes: ['n1', 'n2'] });
    const c = cluster;
    const server = c.client.conn.server;
    kubectl = kubectlFor(server);
    const k = kubectl;

    await k.ok(['apply', '-f', '-'], DS);
    expect(await k.ok(['rollout', 'status', 'ds/agent', '--timeout=60s'])).toContain('daemon set "agent" successfully rolled out');
    const ds = await k.ok(['get', 'ds']);
    expect(header(ds)).toEqual(['NAME', 'DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'NODE SELECTOR', 'AGE']);
    expect(ds.split('\n')[1]).toMatch(/^agent\s+2\s+2\s+2\s+2\s+2\s+<none>\s+\S+$/);
    await k.ok(['set', 'image', 'ds/agent', 'agent=agent:2']);
    const rolled = await k.ok(['rollout', 'status', 'ds/agent', '--timeout=60s']);
    expect(rolled).toContain('daemon set "agent" successfully rolled out');
    expect(await k.ok(['rollout', 'history', 'ds/agent'])).toMatch(/REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
    // Undo applies revision 1's template again, which becomes revision 3.
    expect(await k.ok(['rollout', 'undo', 'ds/agent'])).toContain('daemonset.apps/agent rolled back');
    expect(await k.ok(['rollout', 'status', 'ds/agent', '--timeout=60s'])).toContain('successfully rolled out');
    // (Replaced pods may take a moment to be gone.)
    await eventually(async () => (await k.ok(['get', 'pods', '-l', 'app=agent', '-o', 'jsonpath={.items[*].spec.containers[0].image}'])).trim() === 'agent:1 agent:1', 'pods back at agent:1');
    expect(await k.ok(['rollout', 'history', 'ds/agent'])).toMatch(/REVISION\s+CHANGE-CAUSE\n2\s+<none>\n3\s+<none>/);

    await k.ok(['apply', '-f', '-'], STS);
    // RollingUpdate is defaulted with partition 0, so kubectl reports a partitioned roll out, as against upstream.
    expect(await k.ok(['rollout', 'status', 'sts/db', '--timeout=60s'])).toContain('partitioned roll out complete: 2 new pods have been updated...');
    expect(header(await k.ok(['get', 'sts']))).toEqual(['NAME', 'READY', 'AGE']);
    expect((await k.ok(['get', 'sts'])).split('\n')[1]).toMatch(/^db\s+2\/2\s+\S+$/);
    await k.ok(['scale', 'sts/db', '--replicas=3']);
    expect(await k.ok(['rollout', 'status', 'sts/db', '--timeout=60s'])).toContain('partitioned roll out complete: 3 new pods have been updated...');
    expect((await k.ok(['get', 'pods', '-l', 'app=db', '-o', 'name'])).trim().split('\n').sort()).toEqual(['pod/db-0', 'pod/db-1', 'pod/db-2']);

    await k.ok(['apply', '-f', '-'], WEB);
    await eventually(async () => (await k.ok(['get', 'pdb', 'web', '-o', 'jsonpath={.status.currentHealthy}'])) === '2', 'budget sees two healthy pods');
    const pdb = await k.ok(['get', 'pdb']);
    expect(header(pdb)).toEqual(['NAME', 'MIN AVAILABLE', 'MAX UNAVAILABLE', 'ALLOWED DISRUPTIONS', 'AGE']);
    expect(pdb.split('\n')[1]).toMatch(/^web\s+2\s+N\/A\s+0\s+\S+$/);

    // The fake kubelet runs every pod without a daemon-set pin on n1: draining n1 must evict web's pods, which the
    // budget forbids.
    const blocked = await k.run(['drain', 'n1', '--ignore-daemonsets', '--timeout=3s', '--pod-selector=app=web']);
    expect(blocked.code).not.toBe(0);
    expect(blocked.stdout + blocked.stderr).toContain("Cannot evict pod as it would violate the pod's disruption budget.");
    expect((await c.client.get<Node>(R.nodes, undefined, 'n1')).spec?.unschedulable).toBe(true);
    await k.ok(['patch', 'pdb', 'web', '--type=json', '-p', '[{"op":"remove","path":"/spec/minAvailable"},{"op":"add","path":"/spec/maxUnavailable","value":1}]']);
    await eventually(async () => (await k.ok(['get', 'pdb', 'web', '-o', 'jsonpath={.status.disruptionsAllowed}'])) === '1', 'budget allows one');
    const drained = await k.run(['drain', 'n1', '--ignore-daemonsets', '--timeout=60s', '--pod-selector=app=web']);
    expect(drained.stdout + drained.stderr).toContain('evicted');
    expect(drained.code).toBe(0);
    expect(drained.stdout).toContain('node/n1 drained');
  });
});
