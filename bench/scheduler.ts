import { Registry } from 'prom-client';
import { ApiServer } from '../control/apiserver/server.js';
import { KubeClient, type KubeObject } from '../control/client/index.js';
import { schedulePod, Snapshot, startScheduler, type SchedNode, type SchedPod } from '../control/scheduler/index.js';
import { MemoryStore } from '../control/store/index.js';
import { silentLogger } from '../lib/log.js';
import type { SectionOutput } from './agent.js';
import { machine, now, pollUntil, progress, round } from './util.js';

/**
 * The scheduler benchmark: bind 5,000 pods to 100 simulated nodes, without and with required inter-pod
 * anti-affinity (50 groups of 100 pods, each group spread one pod per node). Measured twice: the pure decision loop
 * over the snapshot (schedulePod, then assume), and the real daemon against an in-process API server (informers,
 * queue, pods/binding over HTTP; the server shares the process). Targets: >= 500 pods/s, and >= 100 pods/s with
 * anti-affinity.
 */

export interface SchedulerBenchOptions {
  nodes?: number;
  pods?: number;
  /** Skip the run through the API server. */
  pureOnly?: boolean;
}

const TARGETS = { plain: 500, antiAffinity: 100 };
const GROUP_SIZE = 100;

function benchNode(i: number): SchedNode & KubeObject {
  const name = `node-${String(i).padStart(3, '0')}`;
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': `zone-${i % 3}` } },
    spec: {},
    status: {
      capacity: { cpu: '64', memory: '256Gi', pods: '110' },
      allocatable: { cpu: '64', memory: '256Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  };
}

function benchPod(i: number, anti: boolean): SchedPod & KubeObject {
  const group = `g${Math.floor(i / GROUP_SIZE)}`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `pod-${String(i).padStart(5, '0')}`,
      namespace: 'default',
      uid: `bench-${i}`,
      labels: { group },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: group, uid: `rs-${group}`, controller: true }],
    },
    spec: {
      containers: [{ name: 'c', image: 'skiff/web:1.0', resources: { requests: { cpu: '100m', memory: '128Mi' } } }],
      ...(anti ? { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { group } }, topologyKey: 'kubernetes.io/hostname' }] } } } : {}),
    },
  };
}

interface Run {
  label: string;
  pods: number;
  seconds: number;
  podsPerSecond: number;
  unscheduled: number;
  target: number;
}

/** The pure loop: decide, then assume onto the chosen node, as the daemon does before binding. */
function pureRun(nodes: number, pods: number, anti: boolean): Run {
  const snapshot = Snapshot.from({ nodes: Array.from({ length: nodes }, (_, i) => benchNode(i)) });
  const list = Array.from({ length: pods }, (_, i) => benchPod(i, anti));
  let unscheduled = 0;
  const t0 = now();
  for (const p of list) {
    const r = schedulePod(p, snapshot);
    if ('node' in r) snapshot.setPod(p, { nodeName: r.node, assumed: true });
    else unscheduled++;
  }
  const seconds = (now() - t0) / 1000;
  return { label: `pure schedulePod loop${anti ? ', anti-affinity' : ''}`, pods, seconds: round(seconds), podsPerSecond: round(pods / seconds, 1), unscheduled, target: anti ? TARGETS.antiAffinity : TARGETS.plain };
}

async function inBatches<T>(items: T[], width: number, fn: (x: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

/** The daemon: pods created first, then the scheduler starts; timed from its start to the last binding. */
async function apiRun(nodes: number, pods: number, anti: boolean): Promise<Run> {
  const store = new MemoryStore();
  const server = new ApiServer({ store, logger: silentLogger() });
  const port = await server.listen(0);
  const client = new KubeClient({ server: `http://127.0.0.1:${port}` });
  const PODS = { group: '', version: 'v1', resource: 'pods' };
  const NODES = { group: '', version: 'v1', resource: 'nodes' };
  try {
    await inBatches(Array.from({ length: nodes }, (_, i) => benchNode(i)), 16, (n) => client.create(NODES, undefined, n));
    progress(`scheduler bench: creating ${pods} pods through the API server`);
    await inBatches(Array.from({ length: pods }, (_, i) => benchPod(i, anti)), 16, (p) => {
      const { uid: _uid, ...metadata } = p.metadata;
      return client.create(PODS, 'default', { ...p, metadata } as KubeObject);
    });
    const registry = new Registry();
    const t0 = now();
    const sched = startScheduler({ client, logger: silentLogger(), registry });
    const attempts = async (result: string): Promise<number> => {
      const metric = registry.getSingleMetric('scheduler_schedule_attempts_total');
      const values = metric ? (await metric.get()).values : [];
      return values.filter((v) => v.labels.result === result).reduce((a, v) => a + v.value, 0);
    };
    try {
      // Done when every pod is bound, or the rest wait as unschedulable with nothing left to try.
      await pollUntil(
        async () => {
          const bound = await attempts('scheduled');
          const q = sched.queue.counts();
          return bound >= pods || (q.active + q.backoff === 0 && bound + q.unschedulable >= pods) || undefined;
        },
        'all pods scheduled',
        20,
        600_000,
      );
    } finally {
      await sched.stop();
    }
    const seconds = (now() - t0) / 1000;
    const pending = (await client.list(PODS, { namespace: 'default', fieldSelector: 'spec.nodeName=' })).items.length;
    return { label: `scheduler daemon via API server${anti ? ', anti-affinity' : ''}`, pods, seconds: round(seconds), podsPerSecond: round(pods / seconds, 1), unscheduled: pending, target: anti ? TARGETS.antiAffinity : TARGETS.plain };
  } finally {
    client.close();
    await server.close();
    await store.close();
  }
}

const line = (r: Run): string =>
  `${r.label}: ${r.pods} pods in ${r.seconds.toFixed(2)} s = ${r.podsPerSecond.toFixed(0)} pods/s (target >= ${r.target}${r.podsPerSecond < r.target ? ', UNDER' : ''})${r.unscheduled ? `, ${r.unscheduled} left unscheduled` : ''}`;

export async function schedulerBench(opts: SchedulerBenchOptions = {}): Promise<SectionOutput> {
  const nodes = opts.nodes ?? 100;
  const pods = opts.pods ?? 5000;
  const runs: Run[] = [];
  for (const anti of [false, true]) {
    progress(`scheduler bench: pure loop, ${pods} pods on ${nodes} nodes${anti ? ' with anti-affinity' : ''}`);
    runs.push(pureRun(nodes, pods, anti));
  }
  if (!opts.pureOnly) {
    for (const anti of [false, true]) {
      progress(`scheduler bench: daemon via the API server${anti ? ' with anti-affinity' : ''}`);
      runs.push(await apiRun(nodes, pods, anti));
    }
  }
  return { lines: runs.map(line), json: { machine: machine(), nodes, pods, targets: TARGETS, runs } };
}
