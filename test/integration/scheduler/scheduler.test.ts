import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiServer } from '../../../control/apiserver/server.js';
import { Informer, KubeClient, type KubeObject, type RateLimit } from '../../../control/client/index.js';
import { InformerShare } from '../../../control/client/shared-informer.js';
import { startScheduler, type SchedulerHandle } from '../../../control/scheduler/index.js';
import { MemoryStore } from '../../../control/store/index.js';
import { silentLogger } from '../../../lib/log.js';

const PODS = { group: '', version: 'v1', resource: 'pods' };
const NODES = { group: '', version: 'v1', resource: 'nodes' };
const EVENTS = { group: '', version: 'v1', resource: 'events' };
const PCS = { group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses' };

async function eventually<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface NodeOpts {
  cpu?: string;
  labels?: Record<string, string>;
  taints?: Array<{ key: string; value?: string; effect: string }>;
  unschedulable?: boolean;
}

const nodeObj = (name: string, o: NodeOpts = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: { 'kubernetes.io/hostname': name, ...(o.labels ?? {}) } },
  spec: { ...(o.unschedulable ? { unschedulable: true } : {}), ...(o.taints ? { taints: o.taints } : {}) },
  status: {
    capacity: { cpu: o.cpu ?? '2', memory: '4Gi', pods: '110' },
    allocatable: { cpu: o.cpu ?? '2', memory: '4Gi', pods: '110' },
    conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }],
  },
});

const podObj = (name: string, cpu: string | undefined, spec: Record<string, unknown> = {}, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', labels },
  spec: { containers: [{ name: 'c', image: 'busybox', ...(cpu ? { resources: { requests: { cpu } } } : {}) }], ...spec },
});

// As `skiff control` runs it alone (its own field-selected pod watches), and as it runs it next to the controllers
// (the pending and assigned pods selected from a pod informer shared with them).
describe.each([{ shared: false }, { shared: true }])('scheduler against the API server (shared pod informer: $shared)', ({ shared }) => {
  let server: ApiServer | undefined;
  let store: MemoryStore | undefined;
  let client: KubeClient | undefined;
  let sched: SchedulerHandle | undefined;
  let registry: Registry;

  afterEach(async () => {
    await sched?.stop();
    client?.close();
    await server?.close();
    await store?.close();
    sched = undefined;
  });

  async function start(nodes: KubeObject[], schedulerName?: string, rateLimit?: RateLimit): Promise<KubeClient> {
    store = new MemoryStore();
    server = new ApiServer({ store, logger: silentLogger() });
    const port = await server.listen(0);
    client = new KubeClient({ server: `http://127.0.0.1:${port}` });
    for (const n of nodes) await client.create(NODES, undefined, n);
    registry = new Registry();
    const c = client;
    const podInformer = shared ? new InformerShare(() => new Informer(c, PODS)).view() : undefined;
    sched = startScheduler({ client, logger: silentLogger(), registry, initialBackoffMs: 50, maxBackoffMs: 200, ...(schedulerName ? { schedulerName } : {}), ...(podInformer ? { podInformer } : {}), ...(rateLimit ? { rateLimit } : {}) });
    await sched.synced;
    return client;
  }

  const nodeOf = async (c: KubeClient, name: string): Promise<string | undefined> => ((await c.get(PODS, 'default', name)).spec as { nodeName?: string }).nodeName;
  const boundTo = (c: KubeClient, name: string): Promise<string> => eventually(() => nodeOf(c, name), `pod ${name} bound`);
  const threeNodes = (o: Record<string, NodeOpts> = {}): KubeObject[] => ['n1', 'n2', 'n3'].map((n) => nodeObj(n, o[n]));

  it('binds pods where their requests fit', async () => {
    const c = await start(threeNodes());
    for (const p of ['a', 'b', 'c']) await c.create(PODS, 'default', podObj(p, '1500m'));
    const nodes = await Promise.all(['a', 'b', 'c'].map((p) => boundTo(c, p)));
    expect(nodes.sort()).toEqual(['n1', 'n2', 'n3']);
    const pod = await c.get(PODS, 'default', 'a');
    expect((pod.status as { conditions?: Array<{ type: string; status: string }> }).conditions).toContainEqual(expect.objectContaining({ type: 'PodScheduled', status: 'True' }));
    const text = await registry.metrics();
    expect(text).toMatch(/scheduler_schedule_attempts_total\{result="scheduled",profile="default-scheduler"\} 3/);
    expect(text).toMatch(/scheduler_pending_pods\{queue="active"\} 0/);
  });

  it('follows nodeSelector, avoids cordoned nodes and untolerated taints', async () => {
    const c = await start(
      threeNodes({ n1: { unschedulable: true }, n2: { labels: { disk: 'ssd' }, taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }, n3: { labels: { disk: 'hdd' } } }),
    );
    await c.create(PODS, 'default', podObj('plain', '100m'));
    await c.create(PODS, 'default', podObj('ssd', '100m', { nodeSelector: { disk: 'ssd' }, tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] }));
    await c.create(PODS, 'default', podObj('hdd', '100m', { nodeSelector: { disk: 'hdd' } }));
    expect(await boundTo(c, 'plain')).toBe('n3');
    expect(await boundTo(c, 'ssd')).toBe('n2');
    expect(await boundTo(c, 'hdd')).toBe('n3');
  });

  it('spreads pods with required anti-affinity, and says why the fourth cannot go anywhere', async () => {
    const c = await start(threeNodes());
    const anti = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }] } };
    for (const p of ['w1', 'w2', 'w3']) await c.create(PODS, 'default', podObj(p, '100m', { affinity: anti }, { app: 'web' }));
    const nodes = await Promise.all(['w1', 'w2', 'w3'].map((p) => boundTo(c, p)));
    expect(new Set(nodes).size).toBe(3);
    await c.create(PODS, 'default', podObj('w4', '100m', { affinity: anti }, { app: 'web' }));
    const cond = await eventually(async () => {
      const p = await c.get(PODS, 'default', 'w4');
      return ((p.status as { conditions?: Array<Record<string, string>> }).conditions ?? []).find((x) => x.type === 'PodScheduled' && x.status === 'False');
    }, 'w4 unschedulable');
    expect(cond.reason).toBe('Unschedulable');
    expect(cond.message).toBe("0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.");
  });

  it('leaves a pod that fits nowhere Pending with a FailedScheduling event, and schedules it when a node is added', async () => {
    const c = await start(threeNodes({ n1: { unschedulable: true } }));
    await c.create(PODS, 'default', podObj('big', '3'));
    const want = '0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.';
    const ev = await eventually(async () => (await c.list(EVENTS, { namespace: 'default' })).items.find((e) => e.reason === 'FailedScheduling'), 'FailedScheduling event');
    expect(ev).toMatchObject({
      type: 'Warning',
      reason: 'FailedScheduling',
      message: want,
      involvedObject: { kind: 'Pod', name: 'big', namespace: 'default' },
      // events.k8s.io/v1, as upstream's scheduler records it, read back through core/v1.
      action: 'Scheduling',
      reportingComponent: 'default-scheduler',
      reportingInstance: expect.stringMatching(/^default-scheduler-/),
      eventTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/),
    });
    expect(await registry.metrics()).toMatch(/scheduler_pending_pods\{queue="unschedulable"\} 1/);
    expect(await registry.metrics()).toMatch(/scheduler_schedule_attempts_total\{result="unschedulable",profile="default-scheduler"\} 1/);
    const pod = await c.get(PODS, 'default', 'big');
    expect((pod.status as { phase?: string }).phase).toBe('Pending');
    expect((pod.spec as { nodeName?: string }).nodeName).toBeUndefined();
    await eventually(async () => {
      const p = await c.get(PODS, 'default', 'big');
      return ((p.status as { conditions?: Array<Record<string, string>> }).conditions ?? []).some((x) => x.type === 'PodScheduled' && x.status === 'False' && x.message === want);
    }, 'PodScheduled=False condition');
    await c.create(NODES, undefined, nodeObj('n4', { cpu: '8' }));
    expect(await boundTo(c, 'big')).toBe('n4');
  });

  it('lets the event loop run between scheduling attempts, however many pods are queued at once', async () => {
    const c = await start(threeNodes());
    const n = 120;
    for (let i = 0; i < n; i++) await c.create(PODS, 'default', podObj(`big-${i}`, '3'));
    const s = sched as SchedulerHandle;
    await eventually(async () => s.queue.counts().unschedulable === n || undefined, `${n} pods unschedulable`);
    // Past the longest backoff, a move sends every one of them to the active queue at once (as a cluster event or the
    // periodic flush does).
    await new Promise((r) => setTimeout(r, 300));
    s.queue.moveAllToActiveOrBackoff();
    expect(s.queue.counts().active).toBeGreaterThanOrEqual(n - 1); // the waiting loop takes one at once
    // Each turn of the event loop records how many are still waiting: the scheduler takes one per turn, so other work
    // in the process (the API server's requests) runs in between rather than after the whole queue.
    const seen: number[] = [];
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const active = s.queue.counts().active;
        seen.push(active);
        if (active === 0) resolve();
        else setImmediate(tick);
      };
      setImmediate(tick);
    });
    expect(seen[0]).toBeGreaterThan(n - 5);
    expect(seen.length).toBeGreaterThan(n / 2);
    await eventually(async () => s.queue.counts().unschedulable === n || undefined, `${n} pods unschedulable again`);
  });

  const unschedulableCondition = async (c: KubeClient, name: string): Promise<boolean> =>
    (((await c.get(PODS, 'default', name)).status as { conditions?: Array<Record<string, string>> }).conditions ?? []).some((x) => x.type === 'PodScheduled' && x.status === 'False');
  const failedSchedulingFor = async (c: KubeClient, name: string): Promise<KubeObject | undefined> =>
    (await c.list(EVENTS, { namespace: 'default' })).items.find((e) => e.reason === 'FailedScheduling' && (e.involvedObject as { name?: string }).name === name);

  it("holds its failures' writes to its rate limit, one pod at a time, and drops those of a pod deleted while it waited", async () => {
    // One request every 2 s on each of its two clients (status, events), after a first one at once.
    const c = await start([], undefined, { qps: 0.5, burst: 1 });
    for (const p of ['r1', 'r2', 'r3', 'r4']) await c.create(PODS, 'default', podObj(p, '100m'));
    await c.delete(PODS, 'default', 'r3');
    // r1 goes at once, r2 about 2 s later; r3 is gone when its turn comes, so r4 takes it.
    await eventually(() => unschedulableCondition(c, 'r1'), 'r1 unschedulable');
    await eventually(() => failedSchedulingFor(c, 'r4'), "r4's FailedScheduling event", 60_000);
    expect(await unschedulableCondition(c, 'r2')).toBe(true);
    // Events leave in the order they were recorded: r3's, had it been recorded, would have gone before r4's.
    expect(await failedSchedulingFor(c, 'r3')).toBeUndefined();
  });

  it('stops at once under a backlog of rate-limited writes instead of waiting for their turns', async () => {
    // One request every 1,000 s after the first: the second pod's write would come in 17 minutes.
    const c = await start([], undefined, { qps: 0.001, burst: 1 });
    for (const p of ['s1', 's2', 's3']) await c.create(PODS, 'default', podObj(p, '100m'));
    await eventually(() => unschedulableCondition(c, 's1'), 's1 unschedulable');
    const s = sched as SchedulerHandle;
    sched = undefined;
    // Within the test's timeout (2 minutes), far less than the queue would take.
    await s.stop();
    expect(await unschedulableCondition(c, 's2')).toBe(false);
  });

  it('schedules a pod once a cordoned node is uncordoned', async () => {
    const c = await start([nodeObj('only', { unschedulable: true })]);
    await c.create(PODS, 'default', podObj('p', '100m'));
    await eventually(async () => (await c.list(EVENTS, { namespace: 'default' })).items.find((e) => e.reason === 'FailedScheduling'), 'FailedScheduling event');
    await c.patch(NODES, undefined, 'only', { spec: { unschedulable: false } });
    expect(await boundTo(c, 'p')).toBe('only');
    // A bound pod gets upstream's Scheduled event.
    const ev = await eventually(async () => (await c.list(EVENTS, { namespace: 'default' })).items.find((e) => e.reason === 'Scheduled'), 'Scheduled event');
    expect(ev).toMatchObject({ type: 'Normal', message: 'Successfully assigned default/p to only', involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' }, action: 'Binding', reportingComponent: 'default-scheduler' });
  });

  it('preempts lower-priority pods for a higher-priority one', async () => {
    const c = await start([nodeObj('n1', { cpu: '1' })]);
    await c.create(PCS, undefined, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'high' }, value: 1000 });
    await c.create(PODS, 'default', podObj('low', '1', { terminationGracePeriodSeconds: 0 }));
    expect(await boundTo(c, 'low')).toBe('n1');
    await eventually(async () => sched!.snapshot.priority.classes.has('high'), 'priority class seen');
    await c.create(PODS, 'default', podObj('vip', '1', { priorityClassName: 'high' }));
    expect(await boundTo(c, 'vip')).toBe('n1');
    await expect(c.get(PODS, 'default', 'low')).rejects.toMatchObject({ code: 404 });
    const ev = await eventually(async () => (await c.list(EVENTS, { namespace: 'default' })).items.find((e) => e.reason === 'Preempted'), 'Preempted event');
    expect(ev.message).toMatch(/^Preempted by pod .* on node n1$/);
    // Upstream's scheduler names the preemptor as the event's related object.
    expect(ev).toMatchObject({ action: 'Preempting', involvedObject: { name: 'low' }, related: { kind: 'Pod', name: 'vip', namespace: 'default' } });
  });

  it('leaves pods of other schedulers alone, and a custom scheduler takes them', async () => {
    const c = await start(threeNodes());
    await c.create(PODS, 'default', podObj('mine', '100m', { schedulerName: 'custom' }));
    await c.create(PODS, 'default', podObj('theirs', '100m'));
    await boundTo(c, 'theirs');
    await new Promise((r) => setTimeout(r, 300));
    expect(await nodeOf(c, 'mine')).toBeUndefined();
    const custom = startScheduler({ client: c, logger: silentLogger(), registry: new Registry(), schedulerName: 'custom' });
    try {
      await boundTo(c, 'mine');
    } finally {
      await custom.stop();
    }
  });
});
