import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImages } from '../../images/build.js';
import { nodeIdentity } from '../../cli/identities.js';
import { AgentProcess, eventually } from '../integration/agent/harness.js';
import { podCidrFreeEverywhere, PrivateDockerd } from '../integration/agent/private-dockerd.js';
import { ControlPlane } from './control-harness.js';

/**
 * Faults while a Deployment runs: a control plane (`skiff control`, embedded store) and one agent in cluster mode on
 * a dockerd of the test's own, then in turn the agent restarted (SIGTERM and SIGKILL), the control plane killed and
 * started again on the same data dir, and that dockerd restarted. After each, the API and Docker must agree again:
 * as many pods as replicas, one running sandbox and one running app container per pod (the ones the API reports),
 * nothing of any other pod left in Docker, every pod Ready with its IP in the Service's endpoints, the node Ready.
 * Pods that should survive keep their UIDs; containers the fault did not touch keep their IDs and start times.
 */

const LONG = 180_000;
const NS = 'faults';
const REPLICAS = 3;

const MANIFESTS = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${NS}
spec:
  replicas: ${REPLICAS}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: web
        image: skiff/web:1.0
        ports: [{containerPort: 80}]
        readinessProbe:
          httpGet: {path: /healthz, port: 80}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: ${NS}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 80}]
`;

interface ApiPod {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status: {
    phase?: string;
    podIP?: string;
    conditions?: Array<{ type: string; status: string }>;
    containerStatuses?: Array<{ name: string; ready: boolean; restartCount: number; containerID?: string; state?: { running?: { startedAt?: string } } }>;
  };
}

/** What one pod is, as the API and Docker agree on it. */
interface PodView {
  uid: string;
  podIP: string;
  containerID: string;
  restartCount: number;
  startedAt: string;
  sandboxID: string;
}

/** pod name → its view, for the Deployment's pods. */
type Snapshot = Record<string, PodView>;

const short = (id: string | undefined): string => (id ?? '').replace('docker://', '');

describe('faults while a deployment runs (control plane, agent on a private dockerd)', () => {
  const cp = new ControlPlane();
  let dockerd: PrivateDockerd | undefined;
  let agent: AgentProcess | undefined;
  let bridge: string | undefined;

  const a = (): AgentProcess => agent as AgentProcess;
  const d = (): PrivateDockerd => dockerd as PrivateDockerd;
  const json = <T>(args: string[]): T => JSON.parse(cp.k([...args, '-o', 'json'])) as T;

  /**
   * Waits until the API and Docker agree (see the file's comment) and returns the pods; throws at the timeout with
   * the last disagreement found.
   */
  async function converged(what: string, timeoutMs = LONG): Promise<Snapshot> {
    return eventually(
      async () => {
        const pods = json<{ items: ApiPod[] }>(['get', 'pods', '-n', NS]).items;
        if (pods.length !== REPLICAS) throw new Error(`${pods.length} pods in the API: ${pods.map((p) => p.metadata.name).join(', ')}`);
        const snap: Snapshot = {};
        const containers = await d().docker.listContainers({ all: true, filters: { label: [`io.skiff.node=${a().nodeName}`] } });
        for (const p of pods) {
          const { name, uid } = p.metadata;
          if (p.metadata.deletionTimestamp) throw new Error(`pod ${name} is terminating`);
          if (p.spec.nodeName !== a().nodeName) throw new Error(`pod ${name} not bound to the node`);
          const ready = p.status.conditions?.find((c) => c.type === 'Ready')?.status;
          const cs = p.status.containerStatuses?.[0];
          if (p.status.phase !== 'Running' || ready !== 'True' || !p.status.podIP || !cs?.ready || !cs.state?.running?.startedAt) {
            throw new Error(`pod ${name} not Running and Ready: ${JSON.stringify(p.status)}`);
          }
          const mine = containers.filter((c) => c.Labels['io.kubernetes.pod.uid'] === uid && c.State === 'running');
          const sandboxes = mine.filter((c) => c.Labels['io.kubernetes.container.name'] === 'POD');
          const apps = mine.filter((c) => c.Labels['io.kubernetes.container.name'] === 'web');
          if (sandboxes.length !== 1 || apps.length !== 1 || mine.length !== 2) {
            throw new Error(`pod ${name}: running in Docker ${mine.map((c) => c.Names[0]).join(', ')}`);
          }
          const app = apps[0] as Dockerode.ContainerInfo;
          const sandbox = sandboxes[0] as Dockerode.ContainerInfo;
          if (app.Id !== short(cs.containerID)) throw new Error(`pod ${name}: the API reports ${cs.containerID}, Docker runs ${app.Id}`);
          // The restart count the API shows is the one the running instance was created with.
          if (String(cs.restartCount) !== app.Labels['annotation.io.kubernetes.container.restartCount']) throw new Error(`pod ${name}: restartCount ${cs.restartCount} in the API, ${app.Labels['annotation.io.kubernetes.container.restartCount']} in Docker`);
          if (app.Labels['io.kubernetes.sandbox.id'] !== sandbox.Id) throw new Error(`pod ${name}: its app container is not in its running sandbox`);
          snap[name] = { uid, podIP: p.status.podIP, containerID: app.Id, restartCount: cs.restartCount, startedAt: cs.state.running.startedAt, sandboxID: sandbox.Id };
        }
        // Nothing in Docker of any pod the API does not have (dead instances of live pods may stay, as lastState).
        const uids = new Set(pods.map((p) => p.metadata.uid));
        const orphans = containers.filter((c) => !uids.has(c.Labels['io.kubernetes.pod.uid'] ?? ''));
        if (orphans.length > 0) throw new Error(`orphan containers: ${orphans.map((c) => `${c.Names[0]} ${c.State}`).join(', ')}`);

        const node = json<{ spec: { taints?: Array<{ key: string }> }; status: { conditions?: Array<{ type: string; status: string }> } }>(['get', 'node', a().nodeName]);
        if (node.status.conditions?.find((c) => c.type === 'Ready')?.status !== 'True') throw new Error(`node not Ready: ${JSON.stringify(node.status.conditions)}`);
        // The node lifecycle controller's not-ready/unreachable taints are gone again.
        if ((node.spec.taints ?? []).length > 0) throw new Error(`node tainted: ${JSON.stringify(node.spec.taints)}`);

        const ips = pods.map((p) => p.status.podIP).sort();
        const targets = pods.map((p) => p.metadata.uid).sort();
        const ep = json<{ subsets?: Array<{ addresses?: Array<{ ip: string; targetRef?: { uid?: string } }>; notReadyAddresses?: unknown[] }> }>(['get', 'endpoints', 'web', '-n', NS]);
        const addresses = (ep.subsets ?? []).flatMap((s) => s.addresses ?? []);
        const notReady = (ep.subsets ?? []).flatMap((s) => s.notReadyAddresses ?? []);
        if (JSON.stringify(addresses.map((x) => x.ip).sort()) !== JSON.stringify(ips) || notReady.length > 0) throw new Error(`endpoints ${JSON.stringify(ep.subsets)} for pods at ${ips.join(', ')}`);
        if (JSON.stringify(addresses.map((x) => x.targetRef?.uid).sort()) !== JSON.stringify(targets)) throw new Error(`endpoints point at ${JSON.stringify(addresses)}`);
        const slices = json<{ items: Array<{ endpoints?: Array<{ addresses: string[]; conditions?: { ready?: boolean } }> }> }>(['get', 'endpointslices', '-n', NS, '-l', 'kubernetes.io/service-name=web']).items;
        const sliced = slices.flatMap((s) => s.endpoints ?? []);
        if (JSON.stringify(sliced.flatMap((e) => e.addresses).sort()) !== JSON.stringify(ips) || sliced.some((e) => e.conditions?.ready !== true)) {
          throw new Error(`endpoint slices ${JSON.stringify(sliced)} for pods at ${ips.join(', ')}`);
        }

        const dep = json<{ status: { replicas?: number; readyReplicas?: number; availableReplicas?: number; updatedReplicas?: number } }>(['get', 'deployment', 'web', '-n', NS]).status;
        if (dep.replicas !== REPLICAS || dep.readyReplicas !== REPLICAS || dep.availableReplicas !== REPLICAS || dep.updatedReplicas !== REPLICAS) throw new Error(`deployment status ${JSON.stringify(dep)}`);
        return snap;
      },
      what,
      timeoutMs,
      1000,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${await diagnose()}`);
    });
  }

  async function diagnose(): Promise<string> {
    const containers = await d().docker.listContainers({ all: true, filters: { label: [`io.skiff.node=${a().nodeName}`] } }).catch(() => []);
    return [
      `agent log (tail):\n${a().logs().split('\n').slice(-30).join('\n')}`,
      `pods:\n${cp.kubectl(['get', 'pods', '-n', NS, '-o', 'wide']).stdout}`,
      `containers:\n${containers.map((c) => `${c.Id.slice(0, 12)} ${c.Names[0]} ${c.State} ${c.Status}`).join('\n')}`,
    ].join('\n');
  }

  /** The Lease's renewTime, as a number of milliseconds. */
  const leaseRenewed = (): number => Date.parse(cp.k(['get', 'lease', a().nodeName, '-n', 'kube-node-lease', '-o', 'jsonpath={.spec.renewTime}']));

  /** Running containers of the agent in Docker: id → pod uid. */
  const runningContainers = async (): Promise<string[]> =>
    (await d().docker.listContainers({ filters: { label: [`io.skiff.node=${a().nodeName}`] } })).map((c) => c.Id).sort();

  /** Stops a pod's app container behind everyone's back and waits for the agent to start a new one. */
  async function stopApp(view: PodView): Promise<void> {
    await d().docker.getContainer(view.containerID).stop({ t: 10 });
    await eventually(
      async () => {
        const list = await d().docker.listContainers({ filters: { label: [`io.kubernetes.pod.uid=${view.uid}`, 'io.kubernetes.container.name=web'] } });
        return list.some((c) => c.Id !== view.containerID);
      },
      'the agent to start the stopped container again',
      LONG,
    );
  }

  beforeAll(async () => {
    await cp.start();
    dockerd = new PrivateDockerd();
    await dockerd.start();
    await buildImages({ docker: dockerd.docker });
    const nodeKubeconfig = join(cp.dir, 'node.kubeconfig');
    agent = new AgentProcess({ docker: dockerd.docker, runtimeEndpoint: dockerd.endpoint, args: ['--kubeconfig', nodeKubeconfig] });
    agent.podCidr = await podCidrFreeEverywhere([new Dockerode(), dockerd.docker]);
    await cp.writeKubeconfig(nodeKubeconfig, nodeIdentity(agent.nodeName));
    await agent.start();
    const net = await eventually(async () => (await d().docker.getNetwork(`skiff-${a().podCidr.replace(/[./]/g, '-')}`).inspect()) as { Id: string }, 'the pod network', 60_000);
    bridge = `br-${net.Id.slice(0, 12)}`;
    await cp.namespace(NS);
    cp.k(['apply', '-f', '-'], { input: MANIFESTS });
    await converged('the deployment running');
  }, 400_000);

  afterAll(async () => {
    try {
      if (agent && dockerd) {
        // Removing the containers and the pod network needs the daemon up.
        if (!dockerd.running) await dockerd.start().catch(() => undefined);
        await agent.cleanup();
      }
    } finally {
      await dockerd?.cleanup();
      if (bridge && existsSync(`/sys/class/net/${bridge}`)) spawnSync('ip', ['link', 'delete', bridge], { stdio: 'ignore' });
      await cp.stop();
    }
    if (dockerd) expect(dockerd.mountsUnder()).toEqual([]);
    if (bridge) expect(existsSync(`/sys/class/net/${bridge}`)).toBe(false);
  }, 180_000);

  it.each(['SIGTERM', 'SIGKILL'] as const)(
    'agent restart (%s): the pods run on untouched, and what changed meanwhile is reconciled',
    async (signal) => {
      const before = await converged('the deployment settled before the agent restart');
      const [deleted, stopped, kept] = Object.keys(before).sort() as [string, string, string];

      const code = await a().kill(signal);
      if (signal === 'SIGTERM') expect(code).toBe(0);
      // Stopping the agent stops no pod.
      const running = await runningContainers();
      expect(running).toEqual(Object.values(before).flatMap((v) => [v.containerID, v.sandboxID]).sort());

      // While the agent is away: one pod is deleted through the API (the Deployment makes a replacement bound to the
      // node, the deleted one waits for its kubelet), and one pod's container is stopped behind its back.
      cp.k(['delete', 'pod', deleted, '-n', NS, '--wait=false']);
      await d().docker.getContainer((before[stopped] as PodView).containerID).stop({ t: 10 });
      await eventually(() => json<{ items: ApiPod[] }>(['get', 'pods', '-n', NS]).items.length === REPLICAS + 1, 'a replacement pod in the API', LONG);
      const restartedAt = Date.now();

      await a().start();
      const after = await converged(`the deployment settled after the agent restart (${signal})`);
      expect(after[deleted]).toBeUndefined();
      // The kept pod: the very same containers, started when they were.
      expect(after[kept]).toEqual(before[kept]);
      // The stopped one: the same pod in the same sandbox, its container restarted once.
      const s = after[stopped] as PodView;
      const b = before[stopped] as PodView;
      expect({ uid: s.uid, podIP: s.podIP, sandboxID: s.sandboxID, restartCount: s.restartCount }).toEqual({ uid: b.uid, podIP: b.podIP, sandboxID: b.sandboxID, restartCount: b.restartCount + 1 });
      expect(s.containerID).not.toBe(b.containerID);
      // The node's Lease is the new agent's.
      await eventually(() => leaseRenewed() >= restartedAt - 1000, 'the lease renewed by the new agent', LONG);
    },
    600_000,
  );

  it.each(['SIGTERM', 'SIGKILL'] as const)(
    'control plane restart (%s): the pods keep running while it is away and are reconciled when it returns',
    async (signal) => {
      const before = await converged('the deployment settled before the control plane restart');
      const [stopped, deleted] = Object.keys(before).sort() as [string, string, string];
      const kept = Object.keys(before).filter((n) => n !== stopped);

      await cp.kill(signal);
      // While the control plane is away the agent still runs its pods: a container stopped behind its back is
      // started again, and nothing else is touched.
      await stopApp(before[stopped] as PodView);
      const others = kept.flatMap((n) => [before[n]?.containerID, before[n]?.sandboxID]);
      const running = await runningContainers();
      expect(others.every((id) => running.includes(id as string))).toBe(true);
      expect(running).toHaveLength(REPLICAS * 2);

      const restartedAt = Date.now();
      await cp.start();
      const after = await converged(`the deployment settled after the control plane restart (${signal})`);
      expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
      for (const n of kept) expect(after[n]).toEqual(before[n]);
      const s = after[stopped] as PodView;
      const b = before[stopped] as PodView;
      // The restart that happened while the API server was away is in the pod's status now.
      expect({ uid: s.uid, podIP: s.podIP, sandboxID: s.sandboxID, restartCount: s.restartCount }).toEqual({ uid: b.uid, podIP: b.podIP, sandboxID: b.sandboxID, restartCount: b.restartCount + 1 });
      await eventually(() => leaseRenewed() >= restartedAt - 1000, 'the lease renewed after the control plane came back', LONG);

      // The agent's watch is back too: a pod deleted now is stopped and replaced.
      cp.k(['delete', 'pod', deleted, '-n', NS, '--wait=false']);
      const replaced = await converged('the deleted pod replaced');
      expect(replaced[deleted]).toBeUndefined();
      for (const n of kept.filter((x) => x !== deleted)) expect(replaced[n]).toEqual(after[n]);
    },
    600_000,
  );

  it('dockerd restart: every pod comes back in a new sandbox, the same pods, their restarts counted', async () => {
    // Docker stops the containers one by one as it shuts down: an app container that dies before its sandbox is
    // restarted (or its restart attempted) at once, and every attempt counts, as upstream's restartCount does. So a
    // pod may come back having restarted more than once; it must have restarted at least once.
    const before = await converged('the deployment settled before the dockerd restart');
    await d().stop();
    await eventually(() => /cannot list containers/.test(a().logs()), 'the agent to notice that Docker is gone', 60_000);
    // Meanwhile the node says why it cannot run pods, as the kubelet does.
    await eventually(
      () => cp.k(['get', 'node', a().nodeName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}/{.status.conditions[?(@.type=="Ready")].message}']) === 'False/container runtime is down',
      'the node NotReady while Docker is away',
      LONG,
    );
    await d().start();
    const after = await converged('the deployment settled after the dockerd restart');
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    for (const [name, b] of Object.entries(before)) {
      const s = after[name] as PodView;
      expect(s.uid).toBe(b.uid);
      expect(s.sandboxID).not.toBe(b.sandboxID);
      expect(s.containerID).not.toBe(b.containerID);
      expect(s.restartCount).toBeGreaterThan(b.restartCount);
    }
  }, 600_000);

  it('went through every fault as the node: the API server refused the agent nothing, and the agent never crashed', () => {
    expect(a().logs()).not.toMatch(/forbidden/i);
    expect(a().logs()).not.toMatch(/"level":(50|60)[^\n]*(uncaught|unhandled)/i);
    const pid = a().pid as number;
    expect(() => process.kill(pid, 0)).not.toThrow();
  });
});
