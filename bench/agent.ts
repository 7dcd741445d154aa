import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Dockerode from 'dockerode';
import {
  Aborted,
  absoluteText,
  checkAborted,
  cpuPercent,
  cpuSeconds,
  freePort,
  machine,
  median,
  now,
  onCleanup,
  onExit,
  dockerMs,
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
 * The node agent benchmark. Every agent figure is printed as a ratio against a floor measured in the same run: the
 * same sandbox + app container created and started straight through the Docker Engine API. Floor and agent runs
 * alternate, so a busy (shared) machine moves both sides alike.
 *
 * Also reported, from dockerd's own timestamps: when each pod's sandbox was created and its app started relative to
 * the manifest rename, which separates the agent's reaction time (watch, sync queue) from Docker's work.
 */

const ROOT = resolve(import.meta.dirname, '../..');
/** SKIFF_BENCH_SKIFF points the agent benchmark at another build (e.g. a patched copy, for an A/B comparison). */
const SKIFF = process.env.SKIFF_BENCH_SKIFF ? resolve(process.env.SKIFF_BENCH_SKIFF) : join(ROOT, 'dist/cli/skiff.js');
export const PAUSE_IMAGE = 'skiff/pause:3.10';
export const WEB_IMAGE = 'skiff/web:1.0';
const BENCH_LABEL = 'io.skiff.bench';

export interface AgentBenchOptions {
  /** Single-pod runs (median reported). */
  runs?: number;
  /** Pods in the burst. */
  burst?: number;
  /** Idle CPU window. */
  idleMs?: number;
}

const TARGETS = { startRatio: 1.3, rssMb: 80, idleCpuPercent: 1 };
/** Poll cadences: fast for one pod, slower for 30 so the bench's own polling does not load the agent and dockerd. */
const POLL_ONE_MS = 25;
const POLL_BURST_MS = 50;
/**
 * The probes every bench pod carries: a readiness probe at the Kubernetes default period (10 s), so the idle reading
 * sees a typical probe load, behind a startup probe every 1 s. The readiness probe runs as soon as the startup probe
 * succeeds, so Ready latency measures the agent rather than a 10 s period.
 */
const PROBE_PERIOD_S = Number(process.env.SKIFF_BENCH_PROBE_PERIOD ?? 10) || 10;
const STARTUP_PERIOD_S = 1;

export interface Timing {
  /** ms from the first call (floor) or the manifest rename (agent) to every container running. */
  running: number;
  /** ms to Ready: /healthz answering (floor) or the agent reporting the Ready condition (agent). */
  ready: number;
}

// ---- helpers ---------------------------------------------------------------------------------------------------

/** Two /24s that no docker network or host route uses: one for the floor network, one for the agent's pods. */
export async function freeCidrs(docker: Dockerode, n: number): Promise<string[]> {
  const used = new Set<string>();
  for (const net of await docker.listNetworks()) for (const c of net.IPAM?.Config ?? []) if (c.Subnet) used.add(c.Subnet);
  try {
    for (const line of readFileSync('/proc/net/route', 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 8 || !f[1]) continue;
      const dest = Number.parseInt(f[1], 16);
      // Little-endian hex: first octet in the low byte.
      used.add(`${dest & 255}.${(dest >> 8) & 255}.${(dest >> 16) & 255}.0/24`);
    }
  } catch {
    // No /proc/net/route: docker networks alone.
  }
  const out: string[] = [];
  for (let i = 0; i < 500 && out.length < n; i++) {
    // 10.77.0.0/16 keeps clear of the 10.88.x.0/24 ranges the integration tests pick.
    const cidr = `10.77.${10 + Math.floor(Math.random() * 240)}.0/24`;
    if (!used.has(cidr) && !out.includes(cidr)) out.push(cidr);
  }
  if (out.length < n) throw new Error('no free /24 in 10.77.0.0/16');
  return out;
}

/**
 * Force-removes every container with the label, app containers before sandboxes and a few at a time: removing a
 * sandbox together with the containers in its namespaces, dozens at once, can leave dockerd with a phantom endpoint
 * that keeps the network from ever being removed ("has active endpoints").
 */
export async function removeByLabel(docker: Dockerode, label: string): Promise<number> {
  let removed = 0;
  for (let attempt = 0; attempt < 5; attempt++) {
    const list = await docker.listContainers({ all: true, filters: { label: [label] } });
    if (list.length === 0) return removed;
    const sandboxes = list.filter((c) => c.Labels['io.kubernetes.docker.type'] === 'podsandbox' || c.Labels[`${BENCH_LABEL}.type`] === 'sandbox');
    const apps = list.filter((c) => !sandboxes.includes(c));
    for (const group of [apps, sandboxes]) {
      for (let i = 0; i < group.length; i += 4) {
        await Promise.all(
          group.slice(i, i + 4).map(async (c) => {
            try {
              await docker.getContainer(c.Id).remove({ force: true, v: true });
              removed++;
            } catch (err) {
              // 404: already gone; 409: removal in progress (the next pass checks again).
              const code = (err as { statusCode?: number }).statusCode;
              if (code !== 404 && code !== 409) throw err;
            }
          }),
        );
      }
    }
  }
  const left = await docker.listContainers({ all: true, filters: { label: [label] } });
  if (left.length > 0) throw new Error(`${left.length} containers with ${label} could not be removed`);
  return removed;
}

/** Removes a network, retrying briefly while dockerd finishes detaching removed containers. */
export async function removeNetwork(docker: Dockerode, name: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await docker.getNetwork(name).remove();
      return;
    } catch (err) {
      const code = (err as { statusCode?: number }).statusCode;
      if (code === 404) return;
      if (attempt >= 10) throw new Error(`network ${name} could not be removed: ${err instanceof Error ? err.message : String(err)}`);
      await sleep(500);
    }
  }
}

async function healthz(ip: string): Promise<boolean> {
  try {
    const res = await fetch(`http://${ip}:80/healthz`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}


function summarize(xs: number[]): Record<string, number> {
  return { median: round(median(xs)), min: round(Math.min(...xs)), max: round(Math.max(...xs)) };
}

// ---- floor -----------------------------------------------------------------------------------------------------

export interface FloorPodResult extends Timing {
  /** ms from the first call to the sandbox's Created time in dockerd (for the breakdown). */
  sandboxCreated: number;
}

/** One pod the way the agent makes it, straight through dockerode: pause sandbox, then the app joined to it. */
async function floorPod(docker: Dockerode, network: string, name: string, labels: Record<string, string>): Promise<FloorPodResult> {
  const t0 = now();
  const wall0 = Date.now();
  const sandbox = await docker.createContainer({
    name: `skiff-bench-${name}-POD`,
    Image: PAUSE_IMAGE,
    Hostname: name,
    Labels: { ...labels, [`${BENCH_LABEL}.type`]: 'sandbox' },
    ExposedPorts: {},
    HostConfig: { NetworkMode: network, IpcMode: 'shareable', PortBindings: {}, RestartPolicy: { Name: 'no' } },
  });
  await sandbox.start();
  const join = `container:${sandbox.id}`;
  const app = await docker.createContainer({
    name: `skiff-bench-${name}-web`,
    Image: WEB_IMAGE,
    Env: [],
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Labels: { ...labels, [`${BENCH_LABEL}.type`]: 'container' },
    HostConfig: { NetworkMode: join, IpcMode: join, Binds: [], Tmpfs: {}, RestartPolicy: { Name: 'no' }, CpuShares: 2 },
  });
  await app.start();
  const running = now() - t0;
  const info = await sandbox.inspect();
  const ip = info.NetworkSettings.Networks?.[network]?.IPAddress;
  if (!ip) throw new Error(`floor sandbox ${name} has no IP on ${network}`);
  await pollUntil(async () => healthz(ip), `floor pod ${name} /healthz`, 20, 30_000);
  const ready = now() - t0;
  return { running, ready, sandboxCreated: (dockerMs(info.Created) ?? wall0) - wall0 };
}

/** The floor's own network and containers (labelled with the run id), created on demand and removed at the end. */
export class Floor {
  readonly network: string;
  readonly label: string;
  readonly labels: Record<string, string>;

  constructor(
    readonly docker: Dockerode,
    readonly cidr: string,
    readonly runId: string,
  ) {
    this.network = `skiff-bench-${runId}`;
    this.label = `${BENCH_LABEL}=${runId}`;
    this.labels = { [BENCH_LABEL]: runId };
  }

  async setup(): Promise<void> {
    progress(`floor: creating network ${this.network} (${this.cidr})`);
    await this.docker.createNetwork({
      Name: this.network,
      Driver: 'bridge',
      CheckDuplicate: true,
      IPAM: { Driver: 'default', Config: [{ Subnet: this.cidr, Gateway: this.cidr.replace(/0\/24$/, '1') }] },
      Labels: this.labels,
    });
  }

  async teardown(): Promise<void> {
    await removeByLabel(this.docker, this.label);
    await removeNetwork(this.docker, this.network);
  }

  async one(name: string): Promise<FloorPodResult> {
    const r = await floorPod(this.docker, this.network, `${this.runId}-${name}`, this.labels);
    await removeByLabel(this.docker, this.label);
    return r;
  }

  /** `n` pods created concurrently; every pod's clock starts together, so the slowest pod is the burst's time. */
  async burst(n: number): Promise<Timing & { p50Running: number }> {
    const each = await this.burstEach(n);
    return {
      running: Math.max(...each.map((e) => e.running)),
      ready: Math.max(...each.map((e) => e.ready)),
      p50Running: percentile(each.map((e) => e.running), 50),
    };
  }

  /** `n` pods created concurrently, then removed: each pod's own timing, every clock started together. */
  async burstEach(n: number): Promise<FloorPodResult[]> {
    const each = await Promise.all(Array.from({ length: n }, (_, i) => floorPod(this.docker, this.network, `${this.runId}-b${i}`, this.labels)));
    progress(`floor: removing ${n} pods`);
    await removeByLabel(this.docker, this.label);
    return each;
  }
}

// ---- the agent process -----------------------------------------------------------------------------------------

interface PodItem {
  metadata: { name?: string; namespace: string };
  status?: { phase?: string; conditions?: Array<{ type: string; status: string }> };
}

const isReady = (p: PodItem): boolean =>
  p.status?.phase === 'Running' && (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

class BenchAgent {
  readonly nodeName = `skiff-bench-${randomId()}`;
  readonly rootDir: string;
  readonly manifestDir: string;
  readonly stagingDir: string;
  readonly logPath: string;
  port = 0;
  child: ChildProcess | undefined;
  private exited = false;

  constructor(
    readonly docker: Dockerode,
    readonly dir: string,
    readonly podCidr: string,
  ) {
    this.rootDir = join(dir, 'root');
    this.manifestDir = join(dir, 'manifests');
    this.stagingDir = join(dir, 'staging');
    this.logPath = join(dir, 'agent.log');
    mkdirSync(this.manifestDir, { recursive: true });
    mkdirSync(this.stagingDir, { recursive: true });
  }

  get pid(): number {
    const pid = this.child?.pid;
    if (pid === undefined) throw new Error('agent not running');
    return pid;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  log(): string {
    return existsSync(this.logPath) ? readFileSync(this.logPath, 'utf8') : '';
  }

  async start(): Promise<void> {
    this.port = await freePort();
    // Production settings apart from what a shared machine needs: own node name, root, port and pod range.
    const args = [
      SKIFF,
      'agent',
      '--pod-manifest-path',
      this.manifestDir,
      '--root-dir',
      this.rootDir,
      '--hostname-override',
      this.nodeName,
      '--read-only-port',
      String(this.port),
      // The node server (TLS) on a port of its own, never the machine's 10250.
      '--port',
      String(await freePort()),
      '--address',
      '127.0.0.1',
      '--pod-cidr',
      this.podCidr,
    ];
    const fd = openSync(this.logPath, 'a');
    // The agent runs as systemd/skiff-agent.service runs it, with the same NODE_OPTIONS.
    const child = spawn(process.execPath, args, { env: { ...process.env, SKIFF_LOG_FORMAT: 'json', NODE_OPTIONS: '--max-semi-space-size=1' }, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    this.child = child;
    child.once('exit', () => (this.exited = true));
    onExit(() => {
      if (!this.exited) child.kill('SIGKILL');
    });
    // /healthz answers before the agent has read its sources; "agent started" is logged once it has.
    await pollUntil(
      async () => {
        if (this.exited) throw new Error(`agent exited early; log:\n${this.log().slice(-2000)}`);
        return this.log().includes('"msg":"agent started"');
      },
      `agent ${this.nodeName} to start`,
      50,
      30_000,
    ).catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)}\nagent log:\n${this.log().slice(-2000)}`);
    });
  }

  /** SIGTERM, then SIGKILL after 5 s; by PID, never by name. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || this.exited) return;
    const done = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(timer);
  }

  /** Everything the agent made: its containers (by node label), its pod network, and the bench's temp dir. */
  async cleanup(): Promise<void> {
    await this.stop();
    const n = await removeByLabel(this.docker, `io.skiff.node=${this.nodeName}`);
    if (n > 0) progress(`removed ${n} agent containers`);
    await removeNetwork(this.docker, `skiff-${this.podCidr.replace(/[./]/g, '-')}`);
  }

  /** Writes the manifest elsewhere and renames it into the watched directory, so the agent never reads half a file. */
  writeManifest(file: string, text: string): void {
    const tmp = join(this.stagingDir, file);
    writeFileSync(tmp, text);
    renameSync(tmp, join(this.manifestDir, file));
  }

  removeManifest(file: string): void {
    rmSync(join(this.manifestDir, file), { force: true });
  }

  podName(name: string): string {
    return `${name}-${this.nodeName}`;
  }

  async pods(): Promise<PodItem[]> {
    const res = await fetch(`${this.baseUrl}/pods`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`/pods: ${res.status}`);
    return ((await res.json()) as { items: PodItem[] }).items;
  }

  async running(podName?: string): Promise<Dockerode.ContainerInfo[]> {
    const label = [`io.skiff.node=${this.nodeName}`];
    if (podName) label.push(`io.kubernetes.pod.name=${podName}`);
    return this.docker.listContainers({ all: false, filters: { label } });
  }

  async all(): Promise<Dockerode.ContainerInfo[]> {
    return this.docker.listContainers({ all: true, filters: { label: [`io.skiff.node=${this.nodeName}`] } });
  }

  async metrics(): Promise<Record<string, number>> {
    const text = await (await fetch(`${this.baseUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    const out: Record<string, number> = {};
    const wanted = /^(kubelet_pod_worker_duration_seconds_(sum|count)|kubelet_pod_start_duration_seconds_(sum|count)|skiff_agent_pod_sync_errors_total|nodejs_eventloop_lag_p99_seconds|nodejs_heap_size_used_bytes|nodejs_heap_size_total_bytes|nodejs_external_memory_bytes|prober_probe_total)/;
    for (const line of text.split('\n')) {
      if (line.startsWith('#') || !wanted.test(line)) continue;
      const i = line.lastIndexOf(' ');
      const value = Number(line.slice(i + 1));
      // Probe counts carry per-pod labels: sum them by result.
      const probe = /^prober_probe_total\{.*result="([^"]+)"/.exec(line);
      const key = probe ? `prober_probe_total{result="${probe[1]}"}` : line.slice(0, i);
      out[key] = (probe ? (out[key] ?? 0) : 0) + value;
    }
    return out;
  }
}

function podManifest(name: string): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels:
    app: skiff-bench
spec:
  terminationGracePeriodSeconds: 5
  containers:
    - name: web
      image: ${WEB_IMAGE}
      imagePullPolicy: IfNotPresent
      ports:
        - containerPort: 80
      startupProbe:
        httpGet:
          path: /healthz
          port: 80
        periodSeconds: ${STARTUP_PERIOD_S}
        failureThreshold: 60
      readinessProbe:
        httpGet:
          path: /healthz
          port: 80
        periodSeconds: ${PROBE_PERIOD_S}
`;
}

/** Per-pod timeline from dockerd's own timestamps: manifest written → sandbox created → app started. */
async function breakdown(agent: BenchAgent, writtenAt: number, podNames: string[]): Promise<Record<string, number[]>> {
  const times = [...(await podContainerTimes(agent.docker, await agent.all(), podNames.map((n) => agent.podName(n)))).values()];
  const since = (t: number | undefined): number[] => (t === undefined ? [] : [t - writtenAt]);
  return {
    sandboxCreated: times.flatMap((t) => since(t.sandboxCreated)).sort((a, b) => a - b),
    appStarted: times.flatMap((t) => since(t.appStarted)).sort((a, b) => a - b),
  };
}

/**
 * Writes the pods' manifests (each staged, then renamed into the watched directory) and times until every container
 * runs in Docker (docker ps with the node label) and until the agent's /pods reports every pod Ready.
 */
async function measure(agent: BenchAgent, names: string[], pollMs: number, timeoutMs: number): Promise<Timing & { writtenAt: number }> {
  const containers = names.length * 2;
  const podNames = new Set(names.map((n) => agent.podName(n)));
  const t0 = now();
  const writtenAt = Date.now();
  for (const n of names) agent.writeManifest(`${n}.yaml`, podManifest(n));
  const [running, ready] = await Promise.all([
    pollUntil(
      async () => {
        const list = names.length === 1 ? await agent.running(agent.podName(names[0] as string)) : await agent.running();
        const ours = list.filter((c) => podNames.has(c.Labels['io.kubernetes.pod.name'] ?? ''));
        return ours.length >= containers ? now() - t0 : undefined;
      },
      `${containers} containers running`,
      pollMs,
      timeoutMs,
    ),
    pollUntil(
      async () => {
        const pods = (await agent.pods()).filter((p) => podNames.has(p.metadata.name ?? ''));
        return pods.length === names.length && pods.every(isReady) ? now() - t0 : undefined;
      },
      `${names.length} pods Ready`,
      pollMs,
      timeoutMs,
    ),
  ]);
  return { running, ready, writtenAt };
}

/** Deletes the manifests and waits until the agent has removed every container and forgotten the pods. */
async function removePods(agent: BenchAgent, names: string[]): Promise<number> {
  const podNames = new Set(names.map((n) => agent.podName(n)));
  const t0 = now();
  for (const n of names) agent.removeManifest(`${n}.yaml`);
  await pollUntil(
    async () => {
      const left = (await agent.all()).filter((c) => podNames.has(c.Labels['io.kubernetes.pod.name'] ?? ''));
      const listed = (await agent.pods()).filter((p) => podNames.has(p.metadata.name ?? ''));
      return left.length === 0 && listed.length === 0;
    },
    'pods removed',
    100,
    120_000,
  );
  return now() - t0;
}

// ---- the section -----------------------------------------------------------------------------------------------

export interface SectionOutput {
  lines: string[];
  json: Record<string, unknown>;
}

export async function agentBench(opts: AgentBenchOptions = {}): Promise<SectionOutput> {
  const runs = opts.runs ?? 5;
  const burst = opts.burst ?? 30;
  const idleMs = opts.idleMs ?? 10_000;
  const docker = new Dockerode();
  for (const image of [PAUSE_IMAGE, WEB_IMAGE]) {
    try {
      await docker.getImage(image).inspect();
    } catch {
      throw new Error(`image ${image} is missing: run "node dist/cli/skiff.js images build"`);
    }
  }
  if (!existsSync(SKIFF)) throw new Error(`${SKIFF} is missing: run "npm run build"`);

  const runId = randomId();
  const dir = mkdtempSync(join(tmpdir(), 'skiff-bench-'));
  const removeDir = onCleanup('temp dir', () => rmSync(dir, { recursive: true, force: true }));
  const [floorCidr, agentCidr] = (await freeCidrs(docker, 2)) as [string, string];
  const startMachine = machine();
  const floor = new Floor(docker, floorCidr, runId);
  const agent = new BenchAgent(docker, dir, agentCidr);
  const removeFloor = onCleanup('floor containers and network', () => floor.teardown());
  const stopAgent = onCleanup('agent process, containers and network', () => agent.cleanup());
  try {
    await floor.setup();

    progress(`starting agent ${agent.nodeName} (pod CIDR ${agent.podCidr})...`);
    const tStart = now();
    await agent.start();
    const startupMs = now() - tStart;
    const pid = agent.pid;
    // The prober spreads first probes over one period while it is younger than that period (restart jitter): let it
    // pass, and let start-up work settle before the empty-node reading.
    await sleep(STARTUP_PERIOD_S * 1000 + 1500);
    progress(`agent up in ${(startupMs / 1000).toFixed(2)} s (pid ${pid}); measuring idle CPU with no pods over ${idleMs / 1000} s...`);
    const idleEmpty = await cpuPercent(pid, idleMs);
    const rssEmptyKb = statusKb(pid, 'VmRSS');
    progress(`agent with no pods: RSS ${(rssEmptyKb / 1024).toFixed(1)} MB, idle CPU ${idleEmpty.percent.toFixed(2)} %`);
    // No pod before the prober is older than the longest probe period: until then it delays first probes at random.
    const jitterLeft = tStart + Math.max(PROBE_PERIOD_S, STARTUP_PERIOD_S) * 1000 + 500 - now();
    if (jitterLeft > 0) await sleep(jitterLeft);

    progress('warm-up: one floor pod and one agent pod (not counted)');
    await floor.one('warm');
    await measure(agent, ['warm'], POLL_ONE_MS, 60_000);
    await removePods(agent, ['warm']);

    // Floor and agent runs alternate (and swap order every run) so both see the same load on a shared machine.
    const floorOne: FloorPodResult[] = [];
    const agentOne: Array<Timing & { removal: number; breakdown: Record<string, number[]> }> = [];
    for (let i = 0; i < runs; i++) {
      const doFloor = async (): Promise<void> => {
        checkAborted();
        floorOne.push(await floor.one(`r${i}`));
      };
      const doAgent = async (): Promise<void> => {
        checkAborted();
        const name = `one-r${i}`;
        const r = await measure(agent, [name], POLL_ONE_MS, 60_000);
        const bd = await breakdown(agent, r.writtenAt, [name]);
        const removal = await removePods(agent, [name]);
        agentOne.push({ running: r.running, ready: r.ready, removal, breakdown: bd });
      };
      if (i % 2 === 0) {
        await doFloor();
        await doAgent();
      } else {
        await doAgent();
        await doFloor();
      }
      const f = floorOne[i] as FloorPodResult;
      const a = agentOne[i] as Timing;
      progress(`1 pod, run ${i + 1}/${runs}: floor running ${(f.running / 1000).toFixed(2)} s / ready ${(f.ready / 1000).toFixed(2)} s; agent running ${(a.running / 1000).toFixed(2)} s / Ready ${(a.ready / 1000).toFixed(2)} s`);
    }

    checkAborted();
    progress(`floor: ${burst} pods concurrently...`);
    const fb = await floor.burst(burst);
    progress(`floor: ${burst} pods: all running ${(fb.running / 1000).toFixed(2)} s, all ready ${(fb.ready / 1000).toFixed(2)} s`);

    checkAborted();
    const names = Array.from({ length: burst }, (_, i) => `burst-${String(i).padStart(2, '0')}`);
    progress(`agent: ${burst} pods written at once...`);
    const cpu0 = cpuSeconds(pid);
    const ab = await measure(agent, names, POLL_BURST_MS, 180_000);
    const burstCpu = cpuSeconds(pid) - cpu0;
    const bd = await breakdown(agent, ab.writtenAt, names);
    progress(`agent: ${burst} pods: all running ${(ab.running / 1000).toFixed(2)} s, all Ready ${(ab.ready / 1000).toFixed(2)} s`);

    progress(`agent: ${burst} pods running; settling 3 s, then measuring idle CPU over ${idleMs / 1000} s...`);
    await sleep(3000);
    const idle = await cpuPercent(pid, idleMs);
    const rssKb = statusKb(pid, 'VmRSS');
    const hwmKb = statusKb(pid, 'VmHWM');
    const metrics = await agent.metrics().catch(() => ({}));

    progress(`agent: removing ${burst} pods`);
    const burstRemoval = await removePods(agent, names).catch((err: unknown) => {
      progress(`removal did not finish: ${err instanceof Error ? err.message : String(err)}`);
      return Number.NaN;
    });
    const warnings = agent.log().split('\n').filter((l) => /"level":(40|50|60)/.test(l));

    const floorJson = {
      network: floor.network,
      cidr: floor.cidr,
      single: {
        runningMs: summarize(floorOne.map((s) => s.running)),
        readyMs: summarize(floorOne.map((s) => s.ready)),
        sandboxCreatedMs: summarize(floorOne.map((s) => s.sandboxCreated)),
        raw: floorOne.map((s) => ({ running: round(s.running, 1), ready: round(s.ready, 1) })),
      },
      burst: { pods: burst, allRunningMs: round(fb.running, 1), allReadyMs: round(fb.ready, 1), p50RunningMs: round(fb.p50Running, 1) },
    };
    const agentJson = {
      skiff: SKIFF,
      nodeName: agent.nodeName,
      podCidr: agent.podCidr,
      pid,
      startupMs: round(startupMs, 1),
      single: {
        runningMs: summarize(agentOne.map((s) => s.running)),
        readyMs: summarize(agentOne.map((s) => s.ready)),
        removalMs: summarize(agentOne.map((s) => s.removal)),
        // dockerd's own timestamps, relative to the manifest rename.
        sandboxCreatedMs: summarize(agentOne.map((s) => s.breakdown.sandboxCreated?.[0] ?? Number.NaN)),
        appStartedMs: summarize(agentOne.map((s) => s.breakdown.appStarted?.[0] ?? Number.NaN)),
        raw: agentOne.map((s) => ({ running: round(s.running, 1), ready: round(s.ready, 1), removal: round(s.removal, 1) })),
      },
      burst: {
        pods: burst,
        allRunningMs: round(ab.running, 1),
        allReadyMs: round(ab.ready, 1),
        removalMs: round(burstRemoval, 1),
        agentCpuSeconds: round(burstCpu, 2),
        // When each pod's sandbox was created and app started (dockerd's timestamps, ms after the renames).
        sandboxCreatedMs: bd.sandboxCreated?.map((x) => Math.round(x)),
        appStartedMs: bd.appStarted?.map((x) => Math.round(x)),
      },
      idleEmpty: { cpuPercent: round(idleEmpty.percent, 2), cpuSeconds: round(idleEmpty.cpuSeconds, 3), windowSeconds: round(idleEmpty.wallSeconds, 1) },
      idle: { cpuPercent: round(idle.percent, 2), cpuSeconds: round(idle.cpuSeconds, 3), windowSeconds: round(idle.wallSeconds, 1), readinessPeriodSeconds: PROBE_PERIOD_S, pods: burst },
      memory: { rssMb: round(rssKb / 1024, 1), peakRssMb: round(hwmKb / 1024, 1), emptyRssMb: round(rssEmptyKb / 1024, 1) },
      metrics,
      logWarnings: { count: warnings.length, first: warnings.slice(0, 5) },
    };

    const ratios: RatioLine[] = [
      { label: 'agent static pod start (1 pod)', value: median(agentOne.map((s) => s.running)) / 1000, floor: median(floorOne.map((s) => s.running)) / 1000, target: TARGETS.startRatio },
      { label: `agent static pod start (${burst} pods)`, value: ab.running / 1000, floor: fb.running / 1000, target: TARGETS.startRatio },
      { label: 'agent pod Ready (1 pod)', value: median(agentOne.map((s) => s.ready)) / 1000, floor: median(floorOne.map((s) => s.ready)) / 1000 },
      { label: `agent pod Ready (${burst} pods)`, value: ab.ready / 1000, floor: fb.ready / 1000 },
    ];
    const absolutes: AbsoluteLine[] = [
      { label: `agent RSS with ${burst} pods`, value: rssKb / 1024, unit: 'MB', target: TARGETS.rssMb },
      { label: `agent idle CPU with ${burst} pods (% of one core over ${idleMs / 1000} s; readiness probes every ${PROBE_PERIOD_S} s)`, value: idle.percent, unit: '%', digits: 2, target: TARGETS.idleCpuPercent },
      { label: '  for reference: agent RSS with no pods', value: rssEmptyKb / 1024, unit: 'MB' },
      { label: '  for reference: agent idle CPU with no pods', value: idleEmpty.percent, unit: '%', digits: 2 },
    ];
    return {
      lines: [...ratios.map(ratioText), ...absolutes.map(absoluteText)],
      json: {
        section: 'agent',
        at: new Date().toISOString(),
        machine: { start: startMachine, end: machine() },
        settings: { runs, burst, idleMs, pollOneMs: POLL_ONE_MS, pollBurstMs: POLL_BURST_MS, readinessPeriodSeconds: PROBE_PERIOD_S, startupPeriodSeconds: STARTUP_PERIOD_S },
        targets: TARGETS,
        summary: {
          ratios: ratios.map((r) => ({ label: r.label, seconds: round(r.value), floorSeconds: round(r.floor), ratio: round(r.value / r.floor, 2), target: r.target ?? null })),
          absolutes: absolutes.map((x) => ({ label: x.label.trim(), value: round(x.value, 2), unit: x.unit, target: x.target ?? null })),
        },
        floor: floorJson,
        agent: agentJson,
      },
    };
  } catch (err) {
    if (err instanceof Error && !(err instanceof Aborted)) {
      const tail = agent.log().split('\n').slice(-15).join('\n');
      if (tail.trim()) err.message += `\nlast agent log lines:\n${tail}`;
    }
    throw err;
  } finally {
    progress('cleaning up: agent process, containers, networks, temp dir');
    await stopAgent();
    await removeFloor();
    await removeDir();
  }
}
