import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { ApiServer } from '../../../control/apiserver/server.js';
import { Informer, KubeClient, type KubeObject } from '../../../control/client/index.js';
import { InformerShare } from '../../../control/client/shared-informer.js';
import { startControllerManager, type ControllerManager, type ControllerConfig } from '../../../control/controllers/index.js';
import { R, type Pod } from '../../../control/controllers/objects.js';
import { MemoryStore } from '../../../control/store/index.js';
import { silentLogger } from '../../../lib/log.js';

export { R };

/** Polls until check returns something truthy; fails with `what` and the last value seen. */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The node a pod's required node affinity pins it to with matchFields metadata.name (how DaemonSet pods are placed). */
function pinnedNode(pod: Pod): string | undefined {
  const terms = (pod.spec?.affinity as { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: Array<{ matchFields?: Array<{ key: string; operator: string; values?: string[] }> }> } } } | undefined)
    ?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  for (const t of terms ?? []) for (const f of t.matchFields ?? []) if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
  return undefined;
}

/**
 * A kubelet that runs nothing: binds every pod to node "n1" (or to the node its affinity pins it to, standing in for
 * the scheduler), reports it Running with an IP and (unless `ready` says otherwise) Ready, and confirms graceful
 * deletions at once. Pods on a node in `down` are left alone, as a dead kubelet would.
 */
export class FakeKubelet {
  private readonly informer: Informer<Pod>;
  private readonly busy = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private nextIp = 2;
  private readonly ips = new Map<string, string>();
  /** Pods this predicate rejects are reported Running but not Ready. */
  ready: (pod: Pod) => boolean = () => true;
  /** Running pods for which this returns a phase end in it (their containers exit 0 for Succeeded, 1 for Failed). */
  finish: (pod: Pod) => 'Succeeded' | 'Failed' | undefined = () => undefined;
  /** False when a real scheduler places pods: unbound pods are then left to it. */
  binds = true;
  /** Nodes whose kubelet is gone: their pods are neither updated nor have their deletions confirmed. */
  readonly down = new Set<string>();

  constructor(private readonly client: KubeClient) {
    this.informer = new Informer<Pod>(client, R.pods);
    this.informer.addHandlers({ onAdd: (p) => this.handle(p), onUpdate: (_o, p) => this.handle(p) });
  }

  start(): void {
    this.informer.start();
    // Writes that lost a race are retried from the cache.
    this.timer = setInterval(() => {
      for (const p of this.informer.list()) this.handle(p);
    }, 100);
  }

  stop(): void {
    clearInterval(this.timer);
    this.informer.stop();
  }

  /** Re-evaluates readiness of every pod now (after changing `ready`). */
  refresh(): void {
    for (const p of this.informer.list()) this.handle(p);
  }

  private handle(pod: Pod): void {
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    if (this.busy.has(key)) return;
    const work = this.step(pod);
    if (!work) return;
    this.busy.add(key);
    work.catch(() => undefined).finally(() => this.busy.delete(key));
  }

  private step(pod: Pod): Promise<unknown> | undefined {
    const ns = pod.metadata.namespace;
    const name = pod.metadata.name ?? '';
    if (pod.spec?.nodeName && this.down.has(pod.spec.nodeName)) return undefined;
    // Confirms a deletion once: a pod with a zero grace period left waits only for its finalizers.
    if (pod.metadata.deletionTimestamp) return pod.metadata.deletionGracePeriodSeconds === 0 ? undefined : this.client.delete(R.pods, ns, name, { gracePeriodSeconds: 0 });
    if (!pod.spec?.nodeName && !this.binds) return undefined;
    if (!pod.spec?.nodeName) return this.client.create(R.pods, ns, { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { kind: 'Node', name: pinnedNode(pod) ?? 'n1' } } as KubeObject, 'binding', name);
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return undefined;
    const end = phase === 'Running' ? this.finish(pod) : undefined;
    if (end) {
      const at = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      const exitCode = end === 'Succeeded' ? 0 : 1;
      const containerStatuses = (pod.spec?.containers ?? []).map((c) => ({ name: c.name, image: c.image ?? '', imageID: '', ready: false, restartCount: 0, started: false, state: { terminated: { exitCode, reason: end === 'Succeeded' ? 'Completed' : 'Error', startedAt: pod.status?.startTime ?? at, finishedAt: at } } }));
      const conditions = (pod.status?.conditions ?? []).map((c) => (c.type === 'Ready' || c.type === 'ContainersReady' ? { ...c, status: 'False', reason: 'PodCompleted', lastTransitionTime: at } : c));
      return this.client.update(R.pods, { ...pod, status: { ...pod.status, phase: end, conditions, containerStatuses } }, 'status');
    }
    const ready = this.ready(pod);
    const isReady = pod.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    if (pod.status?.phase === 'Running' && ready === isReady) return undefined;
    const ip = this.ips.get(pod.metadata.uid ?? '') ?? `10.1.0.${this.nextIp++}`;
    this.ips.set(pod.metadata.uid ?? '', ip);
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const status = {
      ...(pod.status ?? {}),
      phase: 'Running',
      podIP: ip,
      podIPs: [{ ip }],
      hostIP: '192.168.0.1',
      startTime: pod.status?.startTime ?? now,
      conditions: [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
        { type: 'Initialized', status: 'True', lastTransitionTime: now },
        { type: 'ContainersReady', status: ready ? 'True' : 'False', lastTransitionTime: now },
        { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now },
      ],
    };
    return this.client.update(R.pods, { ...pod, status }, 'status');
  }
}

export interface Cluster {
  client: KubeClient;
  /** The API server's URL (plain HTTP, no authentication). */
  server: string;
  /** The real kubectl against this cluster (run asynchronously: the API server lives in this process). */
  kubectl(args: string[], input?: string): Promise<KubectlResult>;
  kubelet: FakeKubelet;
  manager: ControllerManager;
  registry: Registry;
  store: MemoryStore;
  stop(): Promise<void>;
}

/** An in-process API server over a MemoryStore (plain HTTP), the controller manager and a fake kubelet. */
export async function startCluster(controllers?: string[], opts: { now?: () => Date; nodes?: string[]; config?: ControllerConfig } = {}): Promise<Cluster> {
  const store = new MemoryStore();
  const server = new ApiServer({ store, logger: silentLogger() });
  const port = await server.listen(0);
  const client = new KubeClient({ server: `http://127.0.0.1:${port}` });
  // The node the fake kubelet puts every pod on exists, so the pod GC leaves its pods alone.
  for (const name of opts.nodes ?? ['n1']) await client.create({ group: '', version: 'v1', resource: 'nodes' }, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } } });
  const registry = new Registry();
  // Pods come from a view of a shared informer, as in `skiff control`, which shares it with the scheduler.
  const podInformer = new InformerShare(() => new Informer(client, R.pods)).view();
  const manager = startControllerManager({ client, logger: silentLogger(), registry, podInformer, ...(controllers ? { controllers } : {}), ...(opts.now ? { now: opts.now } : {}), ...(opts.config ? { config: opts.config } : {}) });
  await manager.ready;
  const kubelet = new FakeKubelet(client);
  kubelet.start();
  const kubeconfig = writeKubeconfig(`http://127.0.0.1:${port}`);
  return {
    client,
    server: `http://127.0.0.1:${port}`,
    kubectl: (args, input) => runKubectl(kubeconfig.path, args, input),
    kubelet,
    manager,
    registry,
    store,
    async stop() {
      // The temp kubeconfig goes even when a shutdown step throws.
      try {
        kubelet.stop();
        await manager.stop();
        client.close();
        await server.close();
        await store.close();
      } finally {
        kubeconfig.remove();
      }
    },
  };
}

export const podTemplate = (labels: Record<string, string>, image = 'nginx:1.25', ports: Array<{ name?: string; containerPort: number }> = []) => ({
  metadata: { labels },
  spec: { containers: [{ name: 'web', image, ...(ports.length ? { ports } : {}) }] },
});

export async function listPods(client: KubeClient, namespace = 'default', labelSelector?: string): Promise<Pod[]> {
  return (await client.list<Pod>(R.pods, { namespace, ...(labelSelector ? { labelSelector } : {}) })).items;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A kubeconfig for a plain-HTTP API server without authentication, in a temporary directory. */
function writeKubeconfig(server: string): { path: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-kubectl-'));
  const path = join(dir, 'kubeconfig');
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'harness', cluster: { server } }],
      users: [{ name: 'harness', user: {} }],
      contexts: [{ name: 'harness', context: { cluster: 'harness', user: 'harness', namespace: 'default' } }],
      'current-context': 'harness',
    }),
  );
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

function runKubectl(kubeconfig: string, args: string[], input?: string): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('kubectl', args, { env: { ...process.env, KUBECONFIG: kubeconfig }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/**
 * Runs one sync of `key` in `controller` now, alongside its workers; a write that lost to theirs (409) is retried
 * until one sync runs through.
 */
export async function syncOnce(cluster: Cluster, controller: string, key: string): Promise<void> {
  const ctl = cluster.manager.controllers.get(controller);
  if (!ctl) throw new Error(`controller ${controller} is not running`);
  await eventually(async () => {
    await ctl.syncNow(key);
    return true;
  }, `a sync of ${key} by ${controller}`);
}
