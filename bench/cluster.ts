import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Dockerode from 'dockerode';
import { KubeClient, loadKubeconfig, type KubeObject } from '../control/client/index.js';
import { Floor, type FloorPodResult, freeCidrs, PAUSE_IMAGE, removeByLabel, type SectionOutput, WEB_IMAGE } from './agent.js';
import {
  Aborted,
  absoluteText,
  checkAborted,
  freePort,
  machine,
  median,
  now,
  onCleanup,
  onExit,
  percentile,
  podContainerTimes,
  pollUntil,
  progress,
  randomId,
  ratioText,
  round,
  sleep,
  statusKb,
  type AbsoluteLine,
  type RatioLine,
} from './util.js';

/**
 * The whole-cluster benchmark: `skiff up` on this machine's dockerd (control plane, agent and proxy, with ports, node
 * name and data dir of its own), pods created through the API server until Running and Ready, against a Docker floor
 * measured in the same run (the sandbox + app containers the agent makes, created straight through dockerode);
 * `skiff up` and `skiff down --purge` times; each daemon's RSS idle and with 100 pods.
 *
 * Pod latencies are taken from a watch on the pods: creation (or, for the Deployment's pods, the watch's first sight
 * of the pod, i.e. its creation by the ReplicaSet controller) to the first event showing phase Running, and to the
 * first showing the Ready condition True. The pods carry a readiness probe every SKIFF_BENCH_CLUSTER_PROBE_PERIOD
 * seconds (default 1).
 *
 * The `skiff up` it runs programs the host's iptables (the proxy): run it under `flock /tmp/skiff-host.lock`.
 * SKIFF_BENCH_CLUSTER_CPU_PROF=DIR profiles every daemon (bench/cpu-profile.ts; DIR/<daemon>-<pid>.cpuprofile, written
 * when `skiff down` stops them). The daemons' logs are copied to .tmp/bench-cluster-logs before the purge.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const SKIFF = process.env.SKIFF_BENCH_SKIFF ? resolve(process.env.SKIFF_BENCH_SKIFF) : join(ROOT, 'dist/cli/skiff.js');
const PROBE_PERIOD_S = Number(process.env.SKIFF_BENCH_CLUSTER_PROBE_PERIOD ?? 1) || 1;
const CPU_PROF_DIR = process.env.SKIFF_BENCH_CLUSTER_CPU_PROF ? resolve(process.env.SKIFF_BENCH_CLUSTER_CPU_PROF) : undefined;
const NAMESPACE = 'default';
/** Where the daemons' logs are copied before `skiff down --purge` removes the data dir. */
const LOG_COPY = join(ROOT, '.tmp', 'bench-cluster-logs');
const APP_LABEL = 'skiff-bench-cluster';
const DAEMONS = ['control', 'agent', 'proxy'] as const;
type Daemon = (typeof DAEMONS)[number];

/** From the issue: one pod within 1.5x the floor, p99 over a 100-replica Deployment within 2 s, `skiff up` within 20 s. */
const TARGETS = { singleRatio: 1.5, p99Seconds: 2, upSeconds: 20 };

const PODS = { group: '', version: 'v1', resource: 'pods' };
const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments' };

export interface ClusterBenchOptions {
  /** Single-pod runs (p50/p99 over them). */
  runs?: number;
  /** Replicas of the Deployment. */
  replicas?: number;
}

interface PodLike extends KubeObject {
  status?: { phase?: string; conditions?: Array<{ type: string; status: string }> };
}

/** When the watch first saw each pod, Running and Ready (bench clock, ms). */
interface PodTimes {
  seen: number;
  /** Wall clock at `seen`, to compare with dockerd's timestamps. */
  seenWall: number;
  running?: number;
  ready?: number;
}

/** A watch on the bench's pods that records when each first showed up, ran and became Ready; reopens when it ends. */
class PodWatch {
  readonly times = new Map<string, PodTimes>();
  private stopWatch: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly client: KubeClient) {}

  async start(): Promise<void> {
    if (this.stopped) return;
    this.stopWatch = await this.client.watch<PodLike>(
      PODS,
      { namespace: NAMESPACE, labelSelector: `app=${APP_LABEL}` },
      (e) => {
        if (e.type === 'BOOKMARK' || e.type === 'ERROR' || e.type === 'DELETED') return;
        const t = now();
        const name = e.object.metadata.name ?? '';
        const rec = this.times.get(name) ?? { seen: t, seenWall: Date.now() };
        this.times.set(name, rec);
        if (rec.running === undefined && e.object.status?.phase === 'Running') rec.running = t;
        if (rec.ready === undefined && (e.object.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')) rec.ready = t;
      },
      () => {
        if (!this.stopped) setTimeout(() => void this.start().catch(() => undefined), 200);
      },
    );
  }

  stop(): void {
    this.stopped = true;
    this.stopWatch?.();
  }
}

const podSpec = (): Record<string, unknown> => ({
  terminationGracePeriodSeconds: 2,
  containers: [
    {
      name: 'web',
      image: WEB_IMAGE,
      imagePullPolicy: 'IfNotPresent',
      ports: [{ containerPort: 80 }],
      readinessProbe: { httpGet: { path: '/healthz', port: 80 }, periodSeconds: PROBE_PERIOD_S },
    },
  ],
});

const podObject = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: APP_LABEL } }, spec: podSpec() }) as KubeObject;

function p(xs: number[], q: number): number {
  return percentile(xs, q);
}

function stats(xs: number[]): Record<string, number> {
  return { p50: round(p(xs, 50), 1), p99: round(p(xs, 99), 1), min: round(Math.min(...xs), 1), max: round(Math.max(...xs), 1), n: xs.length };
}

/** The `skiff up` this bench runs: its flags, its daemons, and `skiff down --purge`. */
class BenchCluster {
  readonly nodeName = `skiff-bench-${randomId()}`;
  readonly dir: string;
  readonly dataDir: string;
  readonly kubeconfig: string;
  private flags: string[] = [];

  constructor(readonly docker: Dockerode) {
    this.dir = mkdtempSync(join(tmpdir(), 'skiff-bench-cluster-'));
    this.dataDir = join(this.dir, 'data');
    this.kubeconfig = join(this.dir, 'kubeconfig');
  }

  /** Private ports, node name and data dir (as test/e2e/up.test.ts), and a free /24 of 10.244.0.0/16 when needed. */
  async prepare(): Promise<void> {
    const [port, peerPort, roPort, nodePort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const subnets = new Set((await this.docker.listNetworks()).flatMap((n) => (n.IPAM?.Config ?? []).map((c) => c.Subnet)));
    let cidrFlags: string[] = [];
    if ([...subnets].some((c) => c?.startsWith('10.244.'))) {
      let third = 0;
      while (subnets.has(`10.244.${third}.0/24`) || third === 0) third = 1 + Math.floor(Math.random() * 254);
      cidrFlags = ['--cluster-cidr', `10.244.${third}.0/24`];
    }
    this.flags = [
      '--data-dir', this.dataDir,
      '--kubeconfig', this.kubeconfig,
      '--secure-port', String(port),
      ...cidrFlags,
      '--read-only-port', String(roPort),
      '--node-name', this.nodeName,
      `--control-arg=--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      '--control-arg=--bind-address=127.0.0.1',
      '--agent-arg=--address=127.0.0.1',
      `--agent-arg=--port=${nodePort}`,
      '--proxy-arg=--metrics-bind-address=127.0.0.1:0',
      // NodePorts on 127.0.0.1 need the host's route_localnet=1 (upstream's default): not for a test, which leaves the host as it found it.
      '--proxy-arg=--iptables-localhost-nodeports=false',
    ];
  }

  /** Runs `skiff <args>`, relaying its steps as progress lines; resolves with its exit code and output. */
  private skiff(args: string[], timeoutMs: number): Promise<{ code: number; out: string }> {
    const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: '' };
    if (CPU_PROF_DIR) {
      env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import=${join(import.meta.dirname, 'cpu-profile.js')}`.trim();
      env.SKIFF_CPU_PROFILE_DIR = CPU_PROF_DIR;
    }
    return new Promise((res, rej) => {
      const child = spawn(process.execPath, [SKIFF, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      const kill = onExit(() => child.kill('SIGKILL'));
      let out = '';
      let partial = '';
      const relay = (b: Buffer): void => {
        out += b.toString();
        partial += b.toString();
        const lines = partial.split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) if (l.startsWith('==> ')) progress(`  skiff ${args[0]}: ${l.slice(4)}`);
      };
      child.stdout.on('data', relay);
      child.stderr.on('data', relay);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.once('error', rej);
      child.once('close', (code) => {
        clearTimeout(timer);
        kill();
        res({ code: code ?? 1, out });
      });
    });
  }

  async up(): Promise<void> {
    const r = await this.skiff(['up', ...this.flags, '--timeout', '240'], 300_000);
    if (r.code !== 0) throw new Error(`skiff up exited with ${r.code}:\n${r.out.slice(-3000)}`);
  }

  async down(): Promise<void> {
    // The daemons' logs outlive the purge, for a look at what happened.
    if (existsSync(join(this.dataDir, 'logs'))) cpSync(join(this.dataDir, 'logs'), LOG_COPY, { recursive: true });
    const r = await this.skiff(['down', '--data-dir', this.dataDir, '--purge'], 180_000);
    if (r.code !== 0) throw new Error(`skiff down --purge exited with ${r.code}:\n${r.out.slice(-3000)}`);
  }

  pid(d: Daemon): number {
    const pid = Number(readFileSync(join(this.dataDir, 'run', `${d}.pid`), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no PID for skiff ${d}`);
    return pid;
  }

  rssMb(): Record<Daemon, number> {
    const out = {} as Record<Daemon, number>;
    for (const d of DAEMONS) out[d] = statusKb(this.pid(d), 'VmRSS') / 1024;
    return out;
  }

  async client(): Promise<KubeClient> {
    return new KubeClient(await loadKubeconfig(join(this.dataDir, 'control', 'pki', 'admin.kubeconfig')), 'skiff-bench');
  }

  /** This node's containers (all of them, or one pod's). */
  containers(podName?: string, all = true): Promise<Dockerode.ContainerInfo[]> {
    const label = [`io.skiff.node=${this.nodeName}`];
    if (podName) label.push(`io.kubernetes.pod.name=${podName}`);
    return this.docker.listContainers({ all, filters: { label } });
  }

  /**
   * Whatever a failed run left: `skiff down --purge` (daemons, containers, network, iptables chains, data dir), then
   * by hand what that could not take (daemons by their PIDs, containers by the node label, the node's networks).
   */
  async cleanup(): Promise<void> {
    if (existsSync(this.dataDir)) {
      progress('cleanup: skiff down --purge');
      await this.down().catch((err: unknown) => progress(`cleanup: ${err instanceof Error ? err.message : String(err)}`));
    }
    for (const d of DAEMONS) {
      try {
        const pid = this.pid(d);
        if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(this.dataDir)) process.kill(pid, 'SIGKILL');
      } catch {
        // no PID file, or gone
      }
    }
    const n = await removeByLabel(this.docker, `io.skiff.node=${this.nodeName}`).catch(() => 0);
    if (n > 0) progress(`cleanup: removed ${n} containers left by the node`);
    for (const net of await this.docker.listNetworks({ filters: { label: [`io.skiff.node=${this.nodeName}`] } }).catch(() => [])) {
      await this.docker.getNetwork(net.Id).remove().catch(() => undefined);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Where a pod's time went, in ms after the watch first saw it: dockerd's sandbox Created, app StartedAt; then the Running event. */
interface Breakdown {
  sandboxCreated: number;
  appStarted: number;
  /** From the app's start in dockerd to the watch showing the pod Running (status report + watch delivery). */
  startToRunningSeen: number;
}

async function breakdown(docker: Dockerode, cluster: BenchCluster, watch: PodWatch, podNames: string[]): Promise<Breakdown[]> {
  const out: Breakdown[] = [];
  for (const [pod, r] of await podContainerTimes(docker, await cluster.containers(), podNames)) {
    const t = watch.times.get(pod);
    if (!t || r.sandboxCreated === undefined || r.appStarted === undefined || t.running === undefined) continue;
    out.push({ sandboxCreated: r.sandboxCreated - t.seenWall, appStarted: r.appStarted - t.seenWall, startToRunningSeen: t.running - t.seen - (r.appStarted - t.seenWall) });
  }
  return out;
}

function breakdownStats(b: Breakdown[]): Record<string, Record<string, number>> {
  return {
    sandboxCreatedMs: stats(b.map((x) => x.sandboxCreated)),
    appStartedMs: stats(b.map((x) => x.appStarted)),
    appStartToRunningSeenMs: stats(b.map((x) => x.startToRunningSeen)),
  };
}

/** Creates one pod through the API and times it to Running and Ready; then deletes it and waits for its containers to go. */
async function onePod(client: KubeClient, watch: PodWatch, cluster: BenchCluster, name: string): Promise<{ running: number; ready: number; breakdown?: Breakdown }> {
  const t0 = now();
  await client.create(PODS, NAMESPACE, podObject(name));
  const times = await pollUntil(async () => {
    const t = watch.times.get(name);
    return t?.running !== undefined && t.ready !== undefined ? t : undefined;
  }, `pod ${name} Running and Ready`, 10, 120_000);
  const [bd] = await breakdown(cluster.docker, cluster, watch, [name]);
  await client.delete(PODS, NAMESPACE, name, { gracePeriodSeconds: 0 });
  await pollUntil(async () => (await cluster.containers(name)).length === 0, `pod ${name}'s containers removed`, 100, 60_000);
  return { running: (times.running as number) - t0, ready: (times.ready as number) - t0, ...(bd ? { breakdown: bd } : {}) };
}

export async function clusterBench(opts: ClusterBenchOptions = {}): Promise<SectionOutput> {
  const runs = opts.runs ?? 10;
  const replicas = opts.replicas ?? 100;
  if (process.getuid?.() !== 0) throw new Error('the cluster bench runs skiff up, which needs root');
  if (!existsSync(SKIFF)) throw new Error(`${SKIFF} is missing: run "npm run build"`);
  const docker = new Dockerode();
  for (const image of [PAUSE_IMAGE, WEB_IMAGE]) {
    try {
      await docker.getImage(image).inspect();
    } catch {
      throw new Error(`image ${image} is missing: run "node dist/cli/skiff.js images build"`);
    }
  }
  const startMachine = machine();
  const runId = randomId();
  const [floorCidr] = (await freeCidrs(docker, 1)) as [string];
  const floor = new Floor(docker, floorCidr, runId);
  const cluster = new BenchCluster(docker);
  const removeFloor = onCleanup('floor containers and network', () => floor.teardown());
  const removeCluster = onCleanup('skiff cluster', () => cluster.cleanup());
  let client: KubeClient | undefined;
  let watch: PodWatch | undefined;
  try {
    await floor.setup();
    await cluster.prepare();

    progress(`skiff up (node ${cluster.nodeName}, data dir ${cluster.dataDir})...`);
    let t0 = now();
    await cluster.up();
    const upSeconds = (now() - t0) / 1000;
    progress(`skiff up: node Ready in ${upSeconds.toFixed(2)} s`);
    client = await cluster.client();
    watch = new PodWatch(client);
    await watch.start();

    // Until the default ServiceAccount exists, pods are refused; and the start-up work should settle before RSS.
    await pollUntil(async () => (await client?.get({ group: '', version: 'v1', resource: 'serviceaccounts' }, NAMESPACE, 'default')) !== undefined, 'the default ServiceAccount', 250, 60_000);
    await sleep(5000);
    const rssIdle = cluster.rssMb();
    progress(`idle RSS: control ${rssIdle.control.toFixed(1)} MB, agent ${rssIdle.agent.toFixed(1)} MB, proxy ${rssIdle.proxy.toFixed(1)} MB`);

    progress('warm-up: one floor pod and one pod through the API (not counted)');
    await floor.one('warm');
    await onePod(client, watch, cluster, 'warm');

    const floorOne: FloorPodResult[] = [];
    const clusterOne: Array<{ running: number; ready: number; breakdown?: Breakdown }> = [];
    for (let i = 0; i < runs; i++) {
      checkAborted();
      const doFloor = async (): Promise<void> => void floorOne.push(await floor.one(`r${i}`));
      const doCluster = async (): Promise<void> => void clusterOne.push(await onePod(client as KubeClient, watch as PodWatch, cluster, `one-${i}`));
      // Alternate which goes first, so both see the same load on a shared machine.
      if (i % 2 === 0) {
        await doFloor();
        await doCluster();
      } else {
        await doCluster();
        await doFloor();
      }
      const f = floorOne[i] as FloorPodResult;
      const c = clusterOne[i] as { running: number; ready: number };
      progress(`1 pod, run ${i + 1}/${runs}: floor running ${(f.running / 1000).toFixed(2)} s / ready ${(f.ready / 1000).toFixed(2)} s; API running ${(c.running / 1000).toFixed(2)} s / Ready ${(c.ready / 1000).toFixed(2)} s`);
    }

    checkAborted();
    progress(`floor: ${replicas} pods concurrently...`);
    const floorBurst = await floor.burstEach(replicas);
    const fbRunning = floorBurst.map((x) => x.running);
    const fbReady = floorBurst.map((x) => x.ready);
    progress(`floor: ${replicas} pods: p99 running ${(p(fbRunning, 99) / 1000).toFixed(2)} s, all ready ${(Math.max(...fbReady) / 1000).toFixed(2)} s`);

    checkAborted();
    progress(`a Deployment of ${replicas} replicas...`);
    t0 = now();
    await client.create(DEPLOYMENTS, NAMESPACE, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'bench-web' },
      spec: { replicas, selector: { matchLabels: { app: APP_LABEL, deploy: 'bench-web' } }, template: { metadata: { labels: { app: APP_LABEL, deploy: 'bench-web' } }, spec: podSpec() } },
    } as KubeObject);
    const deployPods = (): Array<[string, PodTimes]> => [...(watch as PodWatch).times].filter(([n]) => n.startsWith('bench-web-'));
    let lastNote = now();
    await pollUntil(
      async () => {
        const list = deployPods();
        const ready = list.filter(([, t]) => t.ready !== undefined).length;
        if (now() - lastNote > 2000) {
          progress(`  ${list.length} pods created, ${list.filter(([, t]) => t.running !== undefined).length} Running, ${ready} Ready`);
          lastNote = now();
        }
        return ready >= replicas;
      },
      `${replicas} pods Ready`,
      50,
      600_000,
    );
    const allReady = (now() - t0) / 1000;
    const list = deployPods().map(([, t]) => t);
    const allRunning = (Math.max(...list.map((t) => t.running as number)) - t0) / 1000;
    const perRunning = list.map((t) => (t.running as number) - t.seen);
    const perReady = list.map((t) => (t.ready as number) - t.seen);
    progress(`Deployment: all ${replicas} Running in ${allRunning.toFixed(2)} s, Ready in ${allReady.toFixed(2)} s; per pod p99 Running ${(p(perRunning, 99) / 1000).toFixed(2)} s, Ready ${(p(perReady, 99) / 1000).toFixed(2)} s`);

    const deployBreakdown = await breakdown(docker, cluster, watch, deployPods().map(([n]) => n));
    await sleep(3000);
    const rssLoaded = cluster.rssMb();
    progress(`RSS with ${replicas} pods: control ${rssLoaded.control.toFixed(1)} MB, agent ${rssLoaded.agent.toFixed(1)} MB, proxy ${rssLoaded.proxy.toFixed(1)} MB`);

    progress(`deleting the Deployment and waiting for its ${replicas * 2} containers to go...`);
    t0 = now();
    await client.delete(DEPLOYMENTS, NAMESPACE, 'bench-web', { propagationPolicy: 'Background' });
    await pollUntil(async () => (await cluster.containers()).length === 0, 'the Deployment\'s containers removed', 250, 300_000);
    const deleteSeconds = (now() - t0) / 1000;

    watch.stop();
    client.close();
    client = undefined;
    progress('skiff down --purge...');
    t0 = now();
    // A failed `skiff down` is reported beside the figures, which stay valid; what it left is listed below.
    const downError = await cluster.down().then(
      () => undefined,
      (err: unknown) => (err instanceof Error ? err.message : String(err)),
    );
    const downSeconds = (now() - t0) / 1000;
    const nat = await new Promise<string>((res) => {
      const c = spawn('iptables-save', ['-t', 'nat'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      c.stdout.on('data', (b: Buffer) => (out += b.toString()));
      c.once('close', () => res(out));
      c.once('error', () => res(''));
    });
    const left = {
      containers: (await cluster.containers()).length,
      networks: (await docker.listNetworks({ filters: { label: [`io.skiff.node=${cluster.nodeName}`] } })).map((n) => n.Name),
      dataDir: existsSync(cluster.dataDir),
      kubeServicesChain: /^:KUBE-SERVICES /m.test(nat),
    };
    const leftSomething = left.containers > 0 || left.networks.length > 0 || left.dataDir || left.kubeServicesChain;
    if (downError) progress(`skiff down --purge failed: ${downError}`);
    if (leftSomething) progress(`skiff down --purge left something behind: ${JSON.stringify(left)}`);

    const singleRunning = clusterOne.map((x) => x.running);
    const singleReady = clusterOne.map((x) => x.ready);
    const floorRunning = floorOne.map((x) => x.running);
    const floorReady = floorOne.map((x) => x.ready);
    const ratios: RatioLine[] = [
      { label: `1 pod through the API to Running (p50 of ${runs})`, value: median(singleRunning) / 1000, floor: median(floorRunning) / 1000, target: TARGETS.singleRatio },
      { label: `1 pod through the API to Running (p99 of ${runs})`, value: p(singleRunning, 99) / 1000, floor: p(floorRunning, 99) / 1000 },
      { label: `1 pod through the API to Ready (p50 of ${runs}; probe every ${PROBE_PERIOD_S} s)`, value: median(singleReady) / 1000, floor: median(floorReady) / 1000 },
      { label: `${replicas}-replica Deployment, per pod to Running (p50)`, value: p(perRunning, 50) / 1000, floor: p(fbRunning, 50) / 1000 },
      { label: `${replicas}-replica Deployment, per pod to Running (p99)`, value: p(perRunning, 99) / 1000, floor: p(fbRunning, 99) / 1000 },
      { label: `${replicas}-replica Deployment, per pod to Ready (p50)`, value: p(perReady, 50) / 1000, floor: p(fbReady, 50) / 1000 },
      { label: `${replicas}-replica Deployment, per pod to Ready (p99)`, value: p(perReady, 99) / 1000, floor: p(fbReady, 99) / 1000 },
      { label: `${replicas}-replica Deployment, all pods Running`, value: allRunning, floor: Math.max(...fbRunning) / 1000 },
      { label: `${replicas}-replica Deployment, all pods Ready`, value: allReady, floor: Math.max(...fbReady) / 1000 },
    ];
    const absolutes: AbsoluteLine[] = [
      { label: `${replicas}-replica Deployment, p99 per pod to Running`, value: p(perRunning, 99) / 1000, unit: 's', digits: 2, target: TARGETS.p99Seconds },
      { label: `${replicas}-replica Deployment, p99 per pod to Ready`, value: p(perReady, 99) / 1000, unit: 's', digits: 2, target: TARGETS.p99Seconds },
      { label: 'skiff up, nothing to node Ready (images built)', value: upSeconds, unit: 's', digits: 2, target: TARGETS.upSeconds },
      { label: 'skiff down --purge', value: downSeconds, unit: 's', digits: 2 },
      { label: `  for reference: ${replicas} pods deleted to containers gone`, value: deleteSeconds, unit: 's', digits: 2 },
      ...DAEMONS.flatMap((d) => [
        { label: `${d} RSS idle`, value: rssIdle[d], unit: 'MB' },
        { label: `${d} RSS with ${replicas} pods`, value: rssLoaded[d], unit: 'MB' },
      ]),
    ];
    return {
      lines: [
        ...ratios.map(ratioText),
        ...absolutes.map(absoluteText),
        ...(downError || leftSomething ? [`skiff down --purge FAILED to clean up: ${JSON.stringify(left)}${downError ? ` (${downError.split('\n').find((l) => l.includes('warning')) ?? 'see above'})` : ''}`] : []),
      ],
      json: {
        section: 'cluster',
        at: new Date().toISOString(),
        machine: { start: startMachine, end: machine() },
        settings: { runs, replicas, readinessPeriodSeconds: PROBE_PERIOD_S, nodeName: cluster.nodeName },
        targets: TARGETS,
        summary: {
          ratios: ratios.map((r) => ({ label: r.label, seconds: round(r.value), floorSeconds: round(r.floor), ratio: round(r.value / r.floor, 2), target: r.target ?? null })),
          absolutes: absolutes.map((x) => ({ label: x.label.trim(), value: round(x.value, 2), unit: x.unit, target: x.target ?? null })),
        },
        floor: { single: { runningMs: stats(floorRunning), readyMs: stats(floorReady) }, burst: { runningMs: stats(fbRunning), readyMs: stats(fbReady) } },
        cluster: {
          upSeconds: round(upSeconds, 2),
          downSeconds: round(downSeconds, 2),
          single: { runningMs: stats(singleRunning), readyMs: stats(singleReady), breakdown: breakdownStats(clusterOne.flatMap((x) => (x.breakdown ? [x.breakdown] : []))), raw: clusterOne.map((x) => ({ running: round(x.running, 1), ready: round(x.ready, 1) })) },
          deployment: { allRunningSeconds: round(allRunning, 2), allReadySeconds: round(allReady, 2), perPodRunningMs: stats(perRunning), perPodReadyMs: stats(perReady), breakdown: breakdownStats(deployBreakdown), deleteSeconds: round(deleteSeconds, 2) },
          rssMb: { idle: rssIdle, withPods: rssLoaded },
          leftAfterDown: left,
          downError: downError ?? null,
        },
      },
    };
  } catch (err) {
    if (err instanceof Error && !(err instanceof Aborted)) {
      for (const d of ['agent', 'control'] as const) {
        try {
          const tail = readFileSync(join(cluster.dataDir, 'logs', `${d}.log`), 'utf8').trimEnd().split('\n').slice(-10).join('\n');
          err.message += `\nlast ${d} log lines:\n${tail}`;
        } catch {
          // no log
        }
      }
    }
    throw err;
  } finally {
    watch?.stop();
    client?.close();
    progress('cleaning up: cluster (skiff down --purge if still up), floor containers and network, temp dir');
    await removeCluster();
    await removeFloor();
  }
}
