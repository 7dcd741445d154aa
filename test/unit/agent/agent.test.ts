import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { Agent, type ClusterHooks } from '../../../agent/agent.js';
import type { PodStatus } from '../../../control/api/index.js';
import { AgentConfigSchema, type AgentConfigInput } from '../../../agent/options.js';
import type { ExecutorResult, ProbeExecutor } from '../../../agent/prober/index.js';
import { silentLogger } from '../../../lib/log.js';
import { orphanedPodUids } from '../../../agent/kuberuntime/pod-dirs.js';
import { FakeRuntime } from './fake-runtime.js';

/** Answers every probe with what the test sets, per container target; default success. */
class FakeProbes implements ProbeExecutor {
  result: ExecutorResult['result'] = 'success';
  calls = 0;
  async httpGet(): Promise<ExecutorResult> {
    return this.answer();
  }
  async tcp(): Promise<ExecutorResult> {
    return this.answer();
  }
  async exec(): Promise<ExecutorResult> {
    return this.answer();
  }
  private answer(): ExecutorResult {
    this.calls++;
    return { result: this.result, output: this.result === 'failure' ? 'HTTP probe failed with statuscode: 500' : '' };
  }
}

async function until<T>(check: () => T | undefined | false | null, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false && v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let root: string;
let manifests: string;
let runtime: FakeRuntime;
let probes: FakeProbes;
const cleanups: Array<() => Promise<void>> = [];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'skiff-agent-root-'));
  manifests = await mkdtemp(join(tmpdir(), 'skiff-agent-manifests-'));
  runtime = new FakeRuntime();
  probes = new FakeProbes();
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await rm(root, { recursive: true, force: true });
  await rm(manifests, { recursive: true, force: true });
});

async function startAgent(over: AgentConfigInput = {}, relistPeriodMs = 30, deps: { appArmorEnabled?: boolean } = {}): Promise<Agent> {
  const config = AgentConfigSchema.parse({
    staticPodPath: manifests,
    rootDir: root,
    readOnlyPort: 0,
    nodeIP: '192.168.1.10',
    fileCheckFrequency: '50ms',
    httpCheckFrequency: '100ms',
    syncFrequency: '1s',
    crashLoopBackOff: { initialContainerRestartPeriod: '50ms', maxContainerRestartPeriod: '200ms' },
    ...over,
  });
  const agent = new Agent(config, { runtime, logger: silentLogger(), nodeName: 'node1', probeExecutor: probes, relistPeriodMs, ...deps });
  cleanups.push(() => agent.stop());
  await agent.start();
  return agent;
}

/** Writes a manifest the way an editor's atomic save does, so the agent never reads half a file. */
async function writeManifest(name: string, doc: unknown): Promise<string> {
  const file = join(manifests, `${name}.yaml`);
  const tmp = join(manifests, `.${name}.yaml.tmp`);
  await writeFile(tmp, stringify(doc));
  await rename(tmp, file);
  return file;
}

const podDoc = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { containers: [{ name: 'app', image: 'busybox:1.36', command: ['sleep', '3600'] }], ...spec },
});

const running = (agent: Agent, name: string) => {
  const p = agent.findPod('default', `${name}-node1`);
  return p?.status?.phase === 'Running' ? p : undefined;
};

describe('Agent with a fake runtime', () => {
  it("removes the directory of a pod it no longer wants and of which no container is left, and keeps its pods' own", async () => {
    await writeManifest('kept', podDoc('kept'));
    // What an agent that was down while a pod went leaves behind.
    const orphan = join(root, 'pods', 'orphan-uid', 'volumes', 'kubernetes.io~empty-dir', 'data');
    await mkdir(orphan, { recursive: true });
    await writeFile(join(orphan, 'f'), 'x');
    const agent = await startAgent();
    const kept = await until(() => running(agent, 'kept'), 'kept to run');
    await until(() => !existsSync(join(root, 'pods', 'orphan-uid')), 'the orphaned directory to go');
    expect(existsSync(join(root, 'pods', kept.metadata.uid ?? ''))).toBe(true);
    // A pod with containers left (not yet torn down) keeps its directory even when not wanted.
    expect(orphanedPodUids(['kept', 'with-containers', 'orphan'], (uid) => uid === 'kept', new Set(['with-containers']))).toEqual(['orphan']);
  });

  it('rejects a pod that needs AppArmor on a host without it (Failed, reason AppArmor, nothing started); runs it where AppArmor is on', async () => {
    const confined = podDoc('confined', { securityContext: { appArmorProfile: { type: 'RuntimeDefault' } } });
    await writeManifest('confined', confined);
    await writeManifest('unconfined', podDoc('unconfined', { securityContext: { appArmorProfile: { type: 'Unconfined' } } }));
    const agent = await startAgent({}, 30, { appArmorEnabled: false });
    await until(() => running(agent, 'unconfined'), 'unconfined to run');
    const rejected = await until(() => {
      const p = agent.findPod('default', 'confined-node1');
      return p?.status?.phase === 'Failed' ? p : undefined;
    }, 'confined to be rejected');
    expect(rejected.status).toMatchObject({ phase: 'Failed', reason: 'AppArmor', message: 'Pod was rejected: Cannot enforce AppArmor: AppArmor is not enabled on the host' });
    const uid = rejected.metadata.uid ?? '';
    expect(runtime.latest(uid, 'POD')).toBeUndefined();
    expect(runtime.latest(uid, 'app')).toBeUndefined();
    expect(agent.events.list({ uid }).map((e) => [e.type, e.reason])).toEqual([['Warning', 'AppArmor']]);
    await agent.stop();

    const withAppArmor = await startAgent({}, 30, { appArmorEnabled: true });
    await until(() => running(withAppArmor, 'confined'), 'confined to run where AppArmor is enabled');
  });

  it('runs a manifest as a pod: sandbox, image pulled, container running, status reported', async () => {
    await writeManifest('web', podDoc('web'));
    const agent = await startAgent();
    const pod = await until(() => running(agent, 'web'), 'web to run');
    const uid = pod.metadata.uid ?? '';
    expect(uid).not.toBe('');
    const sb = runtime.latest(uid, 'POD');
    const app = runtime.latest(uid, 'app');
    expect(sb?.state).toBe('running');
    expect(app?.state).toBe('running');
    expect(app?.command).toEqual(['sleep', '3600']);
    expect(runtime.calls).toContain('pullImage:busybox:1.36');
    expect(pod.status?.podIP).toBe(sb?.ip);
    expect(pod.status?.hostIP).toBe('192.168.1.10');
    expect(pod.status?.containerStatuses?.[0]).toMatchObject({ name: 'app', ready: true, restartCount: 0, containerID: `docker://${app?.id}` });
    expect(pod.metadata.annotations?.['kubernetes.io/config.source']).toBe('file');
    expect(existsSync(join(root, 'pods', uid))).toBe(true);
    expect(agent.events.list({ uid }).map((e) => e.reason)).toEqual(expect.arrayContaining(['Pulling', 'Pulled', 'Created', 'Started']));
  });

  it('syncs only the pod that arrived, not every pod already running', async () => {
    await writeManifest('a', podDoc('a'));
    // No periodic resync within the test: only what the new pods cause is counted.
    const agent = await startAgent({ syncFrequency: '1h' });
    const a = await until(() => running(agent, 'a'), 'a to run');
    const uidA = a.metadata.uid ?? '';
    // Each sync of a pod lists its containers (twice when there is nothing to do).
    const listsOfA = (): number => runtime.calls.filter((c) => c === `listPodContainers:${uidA}`).length;
    const before = listsOfA();
    for (const name of ['b', 'c', 'd', 'e']) {
      await writeManifest(name, podDoc(name));
      await until(() => running(agent, name), `${name} to run`);
    }
    // Four arrivals, one after the other: syncing every pod on each would have listed a's containers 8 times more.
    // At most one sync of a may still have been due from its own start (the relist noticing its containers).
    expect(listsOfA() - before).toBeLessThanOrEqual(2);
    // A change to a pod syncs that pod.
    const settled = listsOfA();
    await writeManifest('a', { ...podDoc('a'), metadata: { name: 'a', labels: { tier: 'front' } } });
    await until(() => listsOfA() > settled, 'a to be synced after its manifest changed');
  });

  it('shows a new readiness verdict in the status without waiting for a sync of the pod', async () => {
    probes.result = 'failure';
    await writeManifest('web', podDoc('web', { containers: [{ name: 'app', image: 'busybox:1.36', command: ['sleep', '3600'], readinessProbe: { exec: { command: ['true'] }, periodSeconds: 1 } }] }));
    const agent = await startAgent();
    const isReady = (): boolean => (running(agent, 'web')?.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
    await until(() => running(agent, 'web') && probes.calls > 0, 'web to run and be probed');
    expect(isReady()).toBe(false);
    // Every runtime call fails from now on, so no sync of the pod can complete.
    runtime.down = true;
    probes.result = 'success';
    await until(() => isReady(), 'web to be Ready');
    expect(running(agent, 'web')?.status?.containerStatuses?.[0]?.ready).toBe(true);
  });

  it('stops and removes a pod whose manifest is deleted', async () => {
    const file = await writeManifest('web', podDoc('web', { terminationGracePeriodSeconds: 7 }));
    const agent = await startAgent();
    const uid = (await until(() => running(agent, 'web'), 'web to run')).metadata.uid ?? '';
    const appId = runtime.latest(uid, 'app')?.id;
    await rm(file);
    await until(() => runtime.byPod(uid).length === 0, 'the pod containers to be removed');
    expect(agent.pods()).toEqual([]);
    // The app container got the pod's grace period before it was removed.
    expect(runtime.calls).toContain(`stopContainer:${appId}:7`);
    // The data directory goes last, after the containers.
    await until(() => !existsSync(join(root, 'pods', uid)), 'the pod directory to be removed');
  });

  it('stops without waiting out a container stop in flight, as the kubelet exits on SIGTERM', async () => {
    const file = await writeManifest('web', podDoc('web', { terminationGracePeriodSeconds: 30 }));
    const config = AgentConfigSchema.parse({ staticPodPath: manifests, rootDir: root, readOnlyPort: 0, nodeIP: '192.168.1.10', fileCheckFrequency: '50ms', syncFrequency: '1s' });
    const agent = new Agent(config, { runtime, logger: silentLogger(), nodeName: 'node1', probeExecutor: probes, relistPeriodMs: 30, stopWaitMs: 50 });
    await agent.start();
    const uid = (await until(() => running(agent, 'web'), 'web to run')).metadata.uid ?? '';
    const appId = runtime.latest(uid, 'app')?.id;
    let release = (): void => undefined;
    runtime.holdStops = new Promise((r) => (release = r));
    await rm(file);
    await until(() => runtime.calls.includes(`stopContainer:${appId}:30`), 'the container stop to begin');
    let stopped = false;
    const stopping = agent.stop().then(() => (stopped = true));
    await until(() => stopped, 'agent.stop() to return while the container stop is still in flight');
    expect(runtime.byPod(uid).length).toBeGreaterThan(0);
    release();
    await stopping;
  });

  it('restarts a container that exits, with restartCount 1 and the death in lastState', async () => {
    await writeManifest('web', podDoc('web'));
    const agent = await startAgent();
    const uid = (await until(() => running(agent, 'web'), 'web to run')).metadata.uid ?? '';
    const first = runtime.latest(uid, 'app');
    runtime.exit(first?.id ?? '', 3);
    const pod = await until(() => {
      const p = running(agent, 'web');
      const s = p?.status?.containerStatuses?.[0];
      return s?.restartCount === 1 && s.state?.running ? p : undefined;
    }, 'the container to be restarted');
    const s = pod.status?.containerStatuses?.[0];
    expect(s?.lastState?.terminated).toMatchObject({ exitCode: 3, containerID: `docker://${first?.id}` });
    expect(runtime.latest(uid, 'app')?.attempt).toBe(1);
    // The sandbox was kept.
    expect(runtime.byPod(uid).filter((c) => c.name === 'POD')).toHaveLength(1);
  });

  it('a Never pod whose container exits is Failed and its container is not restarted', async () => {
    await writeManifest('job', podDoc('job', { restartPolicy: 'Never' }));
    const agent = await startAgent();
    const uid = (await until(() => running(agent, 'job'), 'job to run')).metadata.uid ?? '';
    runtime.exit(runtime.latest(uid, 'app')?.id ?? '', 1);
    const pod = await until(() => {
      const p = agent.findPod('default', 'job-node1');
      return p?.status?.phase === 'Failed' ? p : undefined;
    }, 'the pod to fail');
    expect(pod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(1);
    await sleep(200);
    expect(runtime.byPod(uid).filter((c) => c.name === 'app')).toHaveLength(1);
    // Nothing runs any more: the sandbox is stopped too (upstream's KillPod when nothing is kept or started).
    await until(() => runtime.latest(uid, 'POD')?.state === 'exited', 'the sandbox to stop');
  });

  it('converges once a failing runtime comes back', async () => {
    await writeManifest('web', podDoc('web'));
    runtime.down = true;
    const agent = await startAgent();
    await sleep(300);
    expect(runtime.containers.size).toBe(0);
    expect(agent.findPod('default', 'web-node1')?.status?.phase).toBe('Pending');
    runtime.down = false;
    const pod = await until(() => running(agent, 'web'), 'web to run after the runtime recovers');
    expect(runtime.byPod(pod.metadata.uid ?? '').filter((c) => c.state === 'running')).toHaveLength(2);
  });

  it('retries a sync that failed half-way and ends with one running instance', async () => {
    await writeManifest('web', podDoc('web'));
    runtime.failNext('startContainer', new Error('port is already allocated'));
    const agent = await startAgent();
    const pod = await until(() => running(agent, 'web'), 'web to run');
    const apps = runtime.byPod(pod.metadata.uid ?? '').filter((c) => c.name === 'app');
    expect(apps.filter((c) => c.state === 'running')).toHaveLength(1);
    expect(agent.events.list().some((e) => e.reason === 'Failed' && e.message.includes('port is already allocated'))).toBe(true);
  });

  it('restarts a container whose liveness probe fails', async () => {
    await writeManifest(
      'web',
      podDoc('web', {
        containers: [{ name: 'app', image: 'busybox:1.36', livenessProbe: { exec: { command: ['true'] }, periodSeconds: 1, failureThreshold: 1 } }],
      }),
    );
    const agent = await startAgent();
    const uid = (await until(() => running(agent, 'web'), 'web to run')).metadata.uid ?? '';
    const first = runtime.latest(uid, 'app')?.id;
    probes.result = 'failure';
    await until(() => runtime.latest(uid, 'app')?.id !== first, 'a new instance after the liveness failure');
    probes.result = 'success';
    expect(runtime.containers.get(first ?? '')?.state ?? 'removed').not.toBe('running');
    expect(agent.events.list({ uid }).some((e) => e.reason === 'Killing' && e.message.includes('failed liveness probe'))).toBe(true);
    // The Unhealthy event says what the probe saw, as upstream's "<Kind> probe failed: <output>".
    expect(agent.events.list({ uid }).find((e) => e.reason === 'Unhealthy')).toMatchObject({ type: 'Warning', message: 'Liveness probe failed: HTTP probe failed with statuscode: 500', involvedObject: { fieldPath: 'spec.containers{app}' } });
  });

  it('does not delete pods of a source it has not heard from yet', async () => {
    // A manifest URL that does not answer until the test lets it.
    let release: ((res: ServerResponse) => void) | undefined;
    const held: ServerResponse[] = [];
    const server: Server = createServer((_req, res) => {
      if (release) release(res);
      else held.push(res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    cleanups.push(async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/pods`;

    // Containers an earlier agent left for a pod the URL may still list.
    const uid = 'pod-from-url';
    const sb = runtime.add({ name: 'POD', podUid: uid, ip: '10.88.0.50' });
    const app = runtime.add({ name: 'app', podUid: uid });

    const agent = await startAgent({ staticPodURL: url });
    await until(() => held.length > 0, 'the agent to ask the URL');
    await sleep(400);
    expect(runtime.containers.get(sb)?.state).toBe('running');
    expect(runtime.containers.get(app)?.state).toBe('running');
    expect(runtime.calls.filter((c) => c.startsWith('stopContainer') || c.startsWith('removeContainer'))).toEqual([]);

    // The URL answers (with no pods): now the leftovers are unwanted and go.
    release = (res) => res.end('');
    for (const res of held.splice(0)) res.end('');
    await until(() => runtime.byPod(uid).length === 0, 'the orphan pod to be removed');
    expect(agent.pods()).toEqual([]);
  });
});

describe('Agent reporting status to an API server', () => {
  it('writes a status again when someone else changed it in the API (a pod marked not ready), and only then', async () => {
    const reports: PodStatus[] = [];
    /** The pod's status as the fake API server has it: what the agent wrote, unless the test changes it. */
    let inApi: PodStatus | undefined;
    const cluster: ClusterHooks = {
      async reportStatus(_pod, status) {
        reports.push(status);
        inApi = status;
        return true;
      },
      async confirmDeletion() {},
      statusInApi: () => inApi,
    };
    const config = AgentConfigSchema.parse({ staticPodPath: manifests, rootDir: root, readOnlyPort: 0, nodeIP: '192.168.1.10', fileCheckFrequency: '50ms', syncFrequency: '200ms' });
    const agent = new Agent(config, { runtime, logger: silentLogger(), nodeName: 'node1', probeExecutor: probes, relistPeriodMs: 30, cluster });
    cleanups.push(() => agent.stop());
    await writeManifest('web', podDoc('web'));
    await agent.start();
    const uid = (await until(() => running(agent, 'web'), 'web to run')).metadata.uid ?? '';
    const ready = (s: PodStatus | undefined) => s?.conditions?.find((c) => c.type === 'Ready')?.status;
    await until(() => ready(reports.at(-1)) === 'True', 'a Ready status written');

    // Resyncs with the API's copy as written write nothing.
    const syncs = () => runtime.calls.filter((c) => c === `listPodContainers:${uid}`).length;
    const written = reports.length;
    const before = syncs();
    await until(() => syncs() >= before + 3, 'three more syncs of the pod');
    expect(reports.length).toBe(written);

    // The node lifecycle controller marks the pod not ready: the next sync puts it right.
    inApi = { ...(inApi as PodStatus), conditions: (inApi?.conditions ?? []).map((c) => (c.type === 'Ready' ? { ...c, status: 'False' } : c)) };
    await until(() => reports.length > written, 'the status written again');
    expect(ready(reports.at(-1))).toBe('True');
    expect(ready(inApi)).toBe('True');
  });
});

// ---- fuzzing the pod submission endpoint ----

/** mulberry32: a small seeded PRNG, so a failing run can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function validManifest(): { [k: string]: Json } {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'fuzz', namespace: 'default', labels: { app: 'fuzz' }, annotations: { note: 'x' } },
    spec: {
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 5,
      volumes: [{ name: 'data', emptyDir: {} }],
      initContainers: [{ name: 'init', image: 'busybox:1.36', command: ['true'] }],
      containers: [
        {
          name: 'app',
          image: 'busybox:1.36',
          command: ['sleep', '3600'],
          args: ['$(A)'],
          ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
          env: [
            { name: 'A', value: '1' },
            { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          ],
          resources: { limits: { cpu: '100m', memory: '64Mi' } },
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
          livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10 },
          readinessProbe: { exec: { command: ['true'] } },
        },
      ],
    },
  };
}

class Mutator {
  constructor(private readonly rnd: () => number) {}

  int(n: number): number {
    return Math.floor(this.rnd() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }

  randomString(): string {
    const kinds = [
      () => '',
      () => 'a'.repeat(1 + this.int(300)),
      () => String.fromCodePoint(...Array.from({ length: 1 + this.int(20) }, () => this.int(0x10ffff + 1)).filter((c) => c < 0xd800 || c > 0xdfff)),
      () => '\u0000\u202e\ufeff💥ẞ日本',
      () => '../../etc/passwd',
      () => '$(A)$$(B)$(',
      () => '{{}}"\'\\',
      () => 'UPPER_case.name-',
      () => '9'.repeat(400),
      () => '1e999',
    ];
    return this.pick(kinds)();
  }

  randomValue(depth = 0): Json {
    const kinds: Array<() => Json> = [
      () => null,
      () => this.rnd() < 0.5,
      () => this.int(2 ** 31) - 2 ** 30,
      () => this.pick([0, -1, 1.5, -0, 1e308, -1e308, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER, 65536, 1e-300]),
      () => this.randomString(),
      () => (depth > 3 ? [] : Array.from({ length: this.int(4) }, () => this.randomValue(depth + 1))),
      () => (depth > 3 ? {} : Object.fromEntries(Array.from({ length: this.int(4) }, () => [this.randomString(), this.randomValue(depth + 1)]))),
    ];
    return this.pick(kinds)();
  }

  /** Every container (object or array) in the document with its keys, to mutate in place. */
  private nodes(doc: Json): Array<{ [k: string]: Json } | Json[]> {
    const out: Array<{ [k: string]: Json } | Json[]> = [];
    const walk = (v: Json): void => {
      if (v === null || typeof v !== 'object') return;
      out.push(v);
      for (const x of Array.isArray(v) ? v : Object.values(v)) walk(x);
    };
    walk(doc);
    return out;
  }

  flipType(v: Json): Json {
    if (typeof v === 'string') return this.pick([Number(v) || 42, v.length > 0, [v], { v }]);
    if (typeof v === 'number') return this.pick([String(v), v > 0, [v], null]);
    if (typeof v === 'boolean') return this.pick([String(v), v ? 1 : 0, [v]]);
    if (Array.isArray(v)) return this.pick([v.length, JSON.stringify(v), { ...v }]);
    if (v && typeof v === 'object') return this.pick([[v], JSON.stringify(v), Object.keys(v).length]);
    return this.pick(['null', 0, false]);
  }

  /** Deep nesting is spliced in as text, so the test's own serialiser does not have to recurse through it. */
  static deepText(depth: number): string {
    let open = '';
    let close = '';
    for (let i = 0; i < depth; i++) {
      open += i % 2 ? '[' : '{"x":';
      close = (i % 2 ? ']' : '}') + close;
    }
    return `${open}"bottom"${close}`;
  }

  mutateTree(doc: { [k: string]: Json }): void {
    const nodes = this.nodes(doc);
    const node = this.pick(nodes);
    const keys = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
    const key = keys.length > 0 ? this.pick(keys as Array<string | number>) : undefined;
    const get = (): Json => (key === undefined ? null : ((node as Record<string | number, Json>)[key] ?? null));
    const set = (v: Json): void => {
      if (key === undefined) {
        if (Array.isArray(node)) node.push(v);
        else node[this.randomString()] = v;
      } else (node as Record<string | number, Json>)[key] = v;
    };
    switch (this.int(8)) {
      case 0: // delete a field or element
        if (key !== undefined) {
          if (Array.isArray(node)) node.splice(key as number, 1);
          else delete node[key as string];
        }
        break;
      case 1:
        set(this.flipType(get()));
        break;
      case 2:
        set(this.randomValue());
        break;
      case 3:
        set(this.randomString());
        break;
      case 4: // deep nesting
        set(`__DEEP_${this.pick([10, 100, 1000, 5000, 20_000])}__`);
        break;
      case 5: // a huge array
        set(Array.from({ length: this.pick([100, 1000, 5000]) }, (_, i) => (i % 3 === 0 ? i : i % 3 === 1 ? 'x' : { name: `c${i}`, image: 'i' })));
        break;
      case 6: // duplicate an element or a field under another name
        if (Array.isArray(node)) node.push(structuredClone(get()));
        else if (key !== undefined) node[`${String(key)}${this.pick(['', '_', 'X', ' '])}`] = structuredClone(get());
        break;
      default: // a new unknown field
        if (!Array.isArray(node)) node[this.randomString()] = this.randomValue();
        break;
    }
  }

  /** A request body and content type: a mutated manifest, serialised as JSON or YAML, maybe damaged as text. */
  body(): { text: string; type: string } {
    const doc = validManifest();
    const rounds = this.int(4);
    for (let i = 0; i < rounds; i++) this.mutateTree(doc);
    const asYaml = this.rnd() < 0.3;
    let text = asYaml ? stringify(doc) : JSON.stringify(doc);
    text = text.replace(/"?__DEEP_(\d+)__"?/g, (_m, n: string) => Mutator.deepText(Number(n)));
    switch (this.int(10)) {
      case 0: // truncated
        text = text.slice(0, this.int(text.length));
        break;
      case 1: // a duplicated key at the text level
        text = text.replace('"name":', '"name":"dup","name":');
        break;
      case 2: // garbage bytes spliced in
        {
          const at = this.int(text.length + 1);
          text = text.slice(0, at) + this.randomString() + text.slice(at);
        }
        break;
      case 3: // several documents
        text = `${text}\n---\n${text}`;
        break;
      default:
        break;
    }
    const type = this.pick(['application/json', 'application/yaml', '', 'text/plain', 'application/x-yaml', 'application/xml', 'multipart/form-data']);
    return { text, type };
  }
}

describe('ReadOnlyServer POST /pods fuzz', () => {
  it('answers 1,000 mutated manifests with 201 or 4xx, never 5xx, and stays healthy', async () => {
    const { ReadOnlyServer } = await import('../../../agent/server/read-only.js');
    const seed = Number(process.env.SKIFF_FUZZ_SEED ?? 20261130);
    const agent = await startAgent({ staticPodPath: undefined }, 500);
    const server = new ReadOnlyServer(agent, silentLogger());
    const port = await server.listen(0, '127.0.0.1');
    cleanups.push(() => server.close());
    const base = `http://127.0.0.1:${port}`;
    const m = new Mutator(prng(seed));
    const counts = new Map<number, number>();
    for (let i = 0; i < 1000; i++) {
      const { text, type } = m.body();
      let code: number;
      // Beyond the 3 MiB limit the server answers 413 without reading the rest, so the client may see its upload cut.
      const oversize = Buffer.byteLength(text) > 3 * 1024 * 1024;
      const t0 = Date.now();
      try {
        const res = await fetch(`${base}/pods`, { method: m.pick(['POST', 'PUT']), body: text, headers: type ? { 'Content-Type': type } : {} });
        code = res.status;
        await res.arrayBuffer();
      } catch (err) {
        const cause = String((err as { cause?: unknown }).cause);
        if (oversize && /ECONNRESET|EPIPE|other side closed/.test(cause)) {
          counts.set(413, (counts.get(413) ?? 0) + 1);
          continue;
        }
        throw new Error(`fuzz seed=${seed} case=${i}: request failed (${String(err)} ${String((err as { cause?: unknown }).cause)}) length=${text.length}; body starts ${JSON.stringify(text.slice(0, 300))}`);
      }
      counts.set(code, (counts.get(code) ?? 0) + 1);
      if (process.env.SKIFF_FUZZ_DEBUG) process.stderr.write(`case ${i}: HTTP ${code}, ${text.length} bytes, ${Date.now() - t0} ms\n`);
      if (!(code === 201 || (code >= 400 && code < 500))) {
        throw new Error(`fuzz seed=${seed} case=${i}: HTTP ${code}; body starts ${JSON.stringify(text.slice(0, 300))}`);
      }
    }
    // Both outcomes happen, so the fuzzer is neither all-valid nor all-garbage.
    expect(counts.get(201) ?? 0, `seed=${seed}`).toBeGreaterThan(20);
    expect([...counts.keys()].filter((k) => k >= 400).length, `seed=${seed}`).toBeGreaterThan(0);
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('ok');
    const list = await fetch(`${base}/pods`);
    expect(list.status).toBe(200);
    expect(((await list.json()) as { kind: string }).kind).toBe('PodList');
  }, 240_000);
});
