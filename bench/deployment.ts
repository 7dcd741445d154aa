import { Registry } from 'prom-client';
import { ApiServer } from '../control/apiserver/server.js';
import { KubeClient, type KubeObject } from '../control/client/index.js';
import { startControllerManager } from '../control/controllers/index.js';
import { startScheduler } from '../control/scheduler/index.js';
import { MemoryStore } from '../control/store/index.js';
import { silentLogger } from '../lib/log.js';
import type { SectionOutput } from './agent.js';
import { machine, now, pollUntil, progress, ratioText, round } from './util.js';

/**
 * The Deployment benchmark: a 1,000-replica Deployment until every pod is bound on 100 simulated nodes (the
 * deployment and replicaset controllers and the scheduler against an in-process API server), against a floor taken
 * in the same run on the same server and scheduler: the same 1,000 pods created directly through the API (16 at a
 * time) until bound. The ratio is the controllers' cost over plain pod creation and scheduling.
 */

const PODS = { group: '', version: 'v1', resource: 'pods' };
const NODES = { group: '', version: 'v1', resource: 'nodes' };
const NAMESPACES = { group: '', version: 'v1', resource: 'namespaces' };
const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments' };

export interface DeploymentBenchOptions {
  replicas?: number;
  nodes?: number;
}

async function inBatches<T>(items: T[], width: number, fn: (x: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

const node = (i: number): KubeObject => {
  const name = `node-${String(i).padStart(3, '0')}`;
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    spec: {},
    status: { capacity: { cpu: '64', memory: '256Gi', pods: '110' }, allocatable: { cpu: '64', memory: '256Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
  };
};

const podSpec = { containers: [{ name: 'web', image: 'skiff/web:1.0', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] };

export async function deploymentBench(opts: DeploymentBenchOptions = {}): Promise<SectionOutput> {
  const replicas = opts.replicas ?? 1000;
  const nodes = opts.nodes ?? 100;
  const store = new MemoryStore();
  const server = new ApiServer({ store, logger: silentLogger() });
  const port = await server.listen(0);
  const client = new KubeClient({ server: `http://127.0.0.1:${port}` });
  const registry = new Registry();
  const sched = startScheduler({ client, logger: silentLogger(), registry });
  const manager = startControllerManager({ client, logger: silentLogger(), controllers: ['deployment', 'replicaset'] });
  const bound = async (): Promise<number> => {
    const metric = registry.getSingleMetric('scheduler_schedule_attempts_total');
    const values = metric ? (await metric.get()).values : [];
    return values.filter((v) => v.labels.result === 'scheduled').reduce((a, v) => a + v.value, 0);
  };
  const untilBound = (base: number, what: string): Promise<unknown> => pollUntil(async () => (await bound()) - base >= replicas || undefined, what, 20, 600_000);
  try {
    await manager.ready;
    await inBatches(Array.from({ length: nodes }, (_, i) => node(i)), 16, (n) => client.create(NODES, undefined, n));
    for (const ns of ['floor', 'deploy']) await client.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });

    progress(`deployment bench: floor, ${replicas} pods created directly`);
    let base = await bound();
    let t0 = now();
    await inBatches(Array.from({ length: replicas }, (_, i) => i), 16, (i) =>
      client.create(PODS, 'floor', { apiVersion: 'v1', kind: 'Pod', metadata: { name: `web-${i}`, labels: { app: 'web' } }, spec: podSpec }),
    );
    await untilBound(base, 'floor pods bound');
    const floor = (now() - t0) / 1000;

    progress(`deployment bench: a Deployment of ${replicas} replicas`);
    base = await bound();
    t0 = now();
    await client.create(DEPLOYMENTS, 'deploy', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: podSpec } },
    });
    await untilBound(base, 'deployment pods bound');
    const deployment = (now() - t0) / 1000;
    const line = { label: `Deployment of ${replicas} replicas to all pods bound on ${nodes} nodes`, value: deployment, floor };
    return { lines: [ratioText(line)], json: { machine: machine(), replicas, nodes, floorSeconds: round(floor), deploymentSeconds: round(deployment), ratio: round(deployment / floor) } };
  } finally {
    await manager.stop();
    await sched.stop();
    client.close();
    await server.close();
    await store.close();
  }
}
