import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Etcd3 } from 'etcd3';
import { controlProcessEnv } from '../control/memory.js';
import type { SectionOutput } from './agent.js';
import { StoreCluster, type StoreMemberProc } from './store-procs.js';
import { newClient } from './store.js';
import { absoluteText, checkAborted, cpuSeconds, envInt, freePort, machine, mean, now, onCleanup, onExit, percentile, pollUntil, progress, round, sleep, statusKb, type AbsoluteLine } from './util.js';

/**
 * The API server benchmark, against a real `skiff control` process (HTTPS, client certificates, RBAC, the embedded
 * Raft store with its WAL), started as the e2e harness starts it:
 *
 *   - p50/p99 of create, get, update and list with 50 concurrent clients (pods; list = one namespace of 100 pods),
 *     each sending its next request as soon as the last is answered (the target figures: the server saturated);
 *     beside them, for reference, updates at a fixed load below saturation (50 clients at client-go's default 5/s);
 *     and the server-side p99 that upstream's API call latency SLI uses (the control
 *     process's apiserver_request_duration_seconds histogram over the same phase);
 *   - a LIST of 5,000 pods;
 *   - watch delivery to 200 watchers (write sent -> event parsed by every watcher);
 *   - the control process's RSS with 5,000 pods once it has been idle for a minute (the target figure), beside its RSS
 *     a second after the load and its peak;
 *   - for reference, the control process's CPU time per create and per update (counted, so less noisy than latency).
 *
 * The floor, taken in the same run: the same number of HTTPS round trips, from the same 50 clients with the same TLS
 * setup (client certificates), to a trivial Node https server in its own process answering a canned pod; and for the
 * big LIST, the same number of bytes from that server. Figures are ms and MB with the issue's targets; ratios are
 * against the floor. Nothing fails on a threshold.
 *
 * Beside it, the durable write floor: what a write that must reach this machine's disk costs under the same closed
 * loop, whoever serves it. etcd 3.4 (Debian's, one member, as kube-apiserver would store to), 50 clients creating a
 * pod's stored bytes as kube-apiserver does (a transaction: put if the key has never been created), 100 each.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const SKIFF = process.env.SKIFF_BENCH_SKIFF ? resolve(process.env.SKIFF_BENCH_SKIFF) : join(ROOT, 'dist/cli/skiff.js');
const TARGETS = { mutatingP99Ms: 50, watchP99Ms: 50, rssMb: 200 };

export interface ApiserverBenchOptions {
  clients?: number;
  pods?: number;
  watchers?: number;
  /** Writes whose delivery to every watcher is timed. */
  watchEvents?: number;
  /** Seconds the control process is left idle after the load before its RSS is read (SKIFF_BENCH_API_IDLE_S; 60). */
  idleSeconds?: number;
}

interface Tls {
  ca: string;
  cert: string;
  key: string;
}

interface Reply {
  status: number;
  body: Buffer;
}

function call(agent: Agent, port: number, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Reply> {
  return new Promise((resolvePromise, reject) => {
    const data = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers: { Accept: 'application/json', ...(data ? { 'Content-Type': contentType, 'Content-Length': data.length } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(data);
  });
}

async function must(agent: Agent, port: number, method: string, path: string, body?: unknown): Promise<Reply> {
  const r = await call(agent, port, method, path, body);
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.body.subarray(0, 300).toString()}`);
  return r;
}

/**
 * SKIFF_BENCH_API_TIMELINE=FILE: each request of the named phases as a line `phase startEpochMs ms`, to be read
 * against the control process's log (SKIFF_BENCH_CONTROL_LOG) when looking for what made a tail.
 */
const TIMELINE_FILE = process.env.SKIFF_BENCH_API_TIMELINE;
const timeline: string[] = [];

/** Runs `each(client, i)` for `perClient` iterations on each of `clients` concurrent clients; returns per-call ms (and records them in the timeline when `phase` is given). */
async function concurrently(clients: number, perClient: number, each: (client: number, i: number) => Promise<void>, phase?: string): Promise<number[]> {
  const times: number[] = [];
  const record = TIMELINE_FILE !== undefined && phase !== undefined;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; i < perClient; i++) {
        checkAborted();
        const t0 = now();
        await each(c, i);
        const ms = now() - t0;
        times.push(ms);
        if (record) timeline.push(`${phase} ${(performance.timeOrigin + t0).toFixed(1)} ${ms.toFixed(2)}`);
      }
    }),
  );
  return times;
}

const ETCD_BIN = process.env.ETCD_BIN ?? '/usr/bin/etcd';

/**
 * The durable write floor (see the header): etcd with one member, `clients` clients each on its own connection
 * creating `perClient` keys of `value` in a closed loop. Undefined when there is no etcd binary.
 */
async function durableWriteFloor(clients: number, perClient: number, value: string): Promise<{ ms: ReturnType<typeof stats>; perSecond: number; bytes: number; clientCpuPercent: number } | undefined> {
  if (!existsSync(ETCD_BIN)) return undefined;
  progress(`durable write floor: etcd, ${clients} clients x ${perClient} creates of ${Buffer.byteLength(value)} bytes...`);
  const cluster = await StoreCluster.start('etcd', 1, { etcdBin: ETCD_BIN, skiff: SKIFF, heartbeatMs: 100, electionMs: 1000 });
  const endpoint = (cluster.members[0] as StoreMemberProc).endpoint;
  const conns = Array.from({ length: clients }, () => newClient(endpoint));
  try {
    const create = (conn: Etcd3, key: string) => conn.if(key, 'Create', '==', 0).then(conn.put(key).value(value)).commit();
    await concurrently(clients, 10, (c, i) => create(conns[c] as Etcd3, `/registry/pods/warm/p-${c}-${i}`).then(() => undefined));
    const t0 = now();
    const cpu0 = cpuSeconds(process.pid);
    const ms = await concurrently(clients, perClient, (c, i) => create(conns[c] as Etcd3, `/registry/pods/bench/p-${c}-${i}`).then(() => undefined));
    const wallS = (now() - t0) / 1000;
    return { ms: stats(ms), perSecond: ms.length / wallS, bytes: Buffer.byteLength(value), clientCpuPercent: ((cpuSeconds(process.pid) - cpu0) / wallS) * 100 };
  } finally {
    for (const c of conns) c.close();
    await cluster.stop();
  }
}

/** client-go's default client-side rate limit per client (rest.Config QPS): what a controller built on it sends at most. */
const CLIENT_GO_QPS = 5;

/**
 * concurrently(), but each client sends at most `qps` requests a second (one every 1/qps s, the next at once when an
 * answer comes later than that), the clients' phases spread evenly over the first interval: a fixed offered load
 * (clients x qps) instead of whatever the server takes, and no burst. Times are from send to answer.
 */
async function pacedConcurrently(clients: number, perClient: number, qps: number, each: (client: number, i: number) => Promise<void>): Promise<number[]> {
  const times: number[] = [];
  const intervalMs = 1000 / qps;
  const start = now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      let due = start + (c * intervalMs) / clients;
      for (let i = 0; i < perClient; i++) {
        checkAborted();
        const wait = due - now();
        if (wait > 0) await sleep(wait);
        const t0 = now();
        await each(c, i);
        times.push(now() - t0);
        due = Math.max(due + intervalMs, now());
      }
    }),
  );
  return times;
}

const stats = (xs: number[]): { p50: number; p99: number; max: number; n: number } => ({ p50: round(percentile(xs, 50), 2), p99: round(percentile(xs, 99), 2), max: round(Math.max(...xs), 2), n: xs.length });

// ---- the server-side figure: upstream's API call latency SLI ------------------------------------------------

/**
 * A histogram of the control process (apiserver_request_duration_seconds unless `metric` says which), cumulative
 * bucket counts by series (labels without `le`), as read from its /metrics.
 */
type Histograms = Map<string, Map<number, number>>;

async function scrapeDurations(agent: Agent, port: number, metric = 'apiserver_request_duration_seconds'): Promise<Histograms> {
  const text = (await must(agent, port, 'GET', '/metrics')).body.toString();
  const out: Histograms = new Map();
  const bucket = `${metric}_bucket{`;
  for (const line of text.split('\n')) {
    if (!line.startsWith(bucket)) continue;
    const m = /^\w+\{(.*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const labels = (m[1] as string).split(/,(?=\w+=")/);
    const le = labels.find((l) => l.startsWith('le='))?.slice(4, -1);
    if (le === undefined) continue;
    const key = labels.filter((l) => !l.startsWith('le=')).sort().join(',');
    let buckets = out.get(key);
    if (!buckets) out.set(key, (buckets = new Map()));
    buckets.set(le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), Number(m[2]));
  }
  return out;
}

/**
 * p99 in ms of the requests observed between two scrapes whose series carry every label in `match`, as Prometheus'
 * histogram_quantile computes it (linear within the bucket; the highest finite bound when it falls in +Inf).
 */
function histogramP99(before: Histograms, after: Histograms, match: Record<string, string>): { p99Ms: number; n: number } {
  const wanted = Object.entries(match).map(([k, v]) => `${k}="${v}"`);
  const merged = new Map<number, number>();
  for (const [key, buckets] of after) {
    const labels = key.split(',');
    if (!wanted.every((w) => labels.includes(w))) continue;
    for (const [le, count] of buckets) merged.set(le, (merged.get(le) ?? 0) + count - (before.get(key)?.get(le) ?? 0));
  }
  const bounds = [...merged.keys()].sort((a, b) => a - b);
  const total = merged.get(Number.POSITIVE_INFINITY) ?? 0;
  if (total === 0) return { p99Ms: Number.NaN, n: 0 };
  const rank = 0.99 * total;
  let lower = 0;
  let below = 0;
  for (const le of bounds) {
    const count = merged.get(le) as number;
    if (count >= rank) {
      if (le === Number.POSITIVE_INFINITY) return { p99Ms: lower * 1000, n: total };
      return { p99Ms: (lower + ((le - lower) * (rank - below)) / Math.max(1, count - below)) * 1000, n: total };
    }
    lower = le;
    below = count;
  }
  return { p99Ms: Number.NaN, n: total };
}

const podBody = (name: string, labels: Record<string, string>): Record<string, unknown> => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels },
  spec: {
    containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }], resources: { requests: { cpu: '10m', memory: '16Mi' } }, env: [{ name: 'MODE', value: 'bench' }] }],
    restartPolicy: 'Always',
  },
});

/**
 * The control process's CPU seconds once it has gone quiet: under `share` of a CPU over a whole `windowMs` (by
 * default a tenth over 250 ms: its idle timers and the store's ticks stay well below), or after `maxMs` (15 s).
 */
async function quietCpu(pid: number, o: { windowMs?: number; share?: number; maxMs?: number } = {}): Promise<number> {
  const windowMs = o.windowMs ?? 250;
  const maxCpuS = ((o.share ?? 0.1) * windowMs) / 1000;
  const end = now() + (o.maxMs ?? 15_000);
  let last = cpuSeconds(pid);
  while (now() < end) {
    await sleep(windowMs);
    const cur = cpuSeconds(pid);
    if (cur - last < maxCpuS) return cur;
    last = cur;
  }
  return last;
}

// ---- the control plane process ---------------------------------------------------------------------------------

class ControlProcess {
  readonly dir = mkdtempSync(join(tmpdir(), 'skiff-bench-apiserver-'));
  readonly log = join(this.dir, 'control.log');
  port = 0;
  child: ChildProcess | undefined;
  private exited = false;

  get pid(): number {
    if (this.child?.pid === undefined) throw new Error('control process not running');
    return this.child.pid;
  }

  get tls(): Tls {
    const pki = join(this.dir, 'data', 'pki');
    return { ca: readFileSync(join(pki, 'ca.crt'), 'utf8'), cert: readFileSync(join(pki, 'admin.crt'), 'utf8'), key: readFileSync(join(pki, 'admin.key'), 'utf8') };
  }

  logText(): string {
    return existsSync(this.log) ? readFileSync(this.log, 'utf8') : '';
  }

  async start(): Promise<void> {
    this.port = await freePort();
    const peer = await freePort();
    const fd = openSync(this.log, 'a');
    // SKIFF_BENCH_CONTROL_NODE_ARGS: extra node flags for the control process (e.g. --cpu-prof --cpu-prof-dir=DIR).
    const nodeArgs = (process.env.SKIFF_BENCH_CONTROL_NODE_ARGS ?? '').split(' ').filter(Boolean);
    // SKIFF_BENCH_CONTROL_ARGS: extra flags for skiff control (e.g. --only apiserver,controller-manager).
    const controlArgs = (process.env.SKIFF_BENCH_CONTROL_ARGS ?? '').split(' ').filter(Boolean);
    const args = [...nodeArgs, SKIFF, 'control', '--secure-port', String(this.port), '--bind-address', '127.0.0.1', '--data-dir', join(this.dir, 'data'), '--listen-peer-urls', `http://127.0.0.1:${peer}`, ...controlArgs];
    // The environment skiff up and the systemd unit give the control process (glibc's mmap threshold).
    const child = spawn(process.execPath, args, { env: controlProcessEnv({ ...process.env, SKIFF_LOG_FORMAT: 'json' }), stdio: ['ignore', fd, fd] });
    closeSync(fd);
    this.child = child;
    child.once('exit', () => (this.exited = true));
    onExit(() => {
      if (!this.exited) child.kill('SIGKILL');
    });
    await pollUntil(
      async () => {
        if (this.exited) throw new Error(`skiff control exited early; log:\n${this.logText().slice(-2000)}`);
        return this.logText().includes('API server listening');
      },
      'skiff control to listen',
      100,
      60_000,
    );
  }

  /** SIGTERM, then SIGKILL after 5 s (60 s with extra node flags: a profile takes a while to write); by PID. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child && !this.exited) {
      const done = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), process.env.SKIFF_BENCH_CONTROL_NODE_ARGS ? 60_000 : 5000);
      await done;
      clearTimeout(timer);
    }
    // SKIFF_BENCH_CONTROL_LOG: where to keep the control process's log (it goes with the temp dir otherwise).
    const keep = process.env.SKIFF_BENCH_CONTROL_LOG;
    if (keep && existsSync(this.log)) copyFileSync(this.log, keep);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// ---- the floor: a trivial https server in its own process ------------------------------------------------------

/** Answers every request with a canned pod (201 for POST), or `n` bytes of JSON for GET /bytes/<n>; client certs asked as the API server does. */
const FLOOR_SERVER = `
const https = require('node:https');
const [key, cert, ca] = JSON.parse(process.env.FLOOR_TLS);
const pod = JSON.stringify(JSON.parse(process.env.FLOOR_POD));
const srv = https.createServer({ key, cert, ca, requestCert: true, rejectUnauthorized: false }, (req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const m = /^\\/bytes\\/(\\d+)/.exec(req.url);
    const body = m ? '"' + 'x'.repeat(Math.max(0, Number(m[1]) - 2)) + '"' : pod;
    res.writeHead(req.method === 'POST' ? 201 : 200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
});
srv.listen(0, '127.0.0.1', () => process.stdout.write(String(srv.address().port) + '\\n'));
`;

async function startFloor(tls: { key: string; cert: string; ca: string }, samplePod: unknown): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', FLOOR_SERVER], { env: { ...process.env, FLOOR_TLS: JSON.stringify([tls.key, tls.cert, tls.ca]), FLOOR_POD: JSON.stringify(samplePod) }, stdio: ['ignore', 'pipe', 'inherit'] });
  onExit(() => child.kill('SIGKILL'));
  const port = await new Promise<number>((resolvePort, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolvePort(Number(out.trim()));
    });
    child.once('exit', (code) => reject(new Error(`floor server exited (${code})`)));
  });
  return { port, child };
}

// ---- watches ---------------------------------------------------------------------------------------------------

interface Watcher {
  /** When each write (by its "seq" annotation) reached this watcher. */
  seen: Map<number, number>;
  close: () => void;
}

function openWatcher(agent: Agent, port: number, path: string): Promise<Watcher> {
  return new Promise((resolvePromise, reject) => {
    const seen = new Map<number, number>();
    const req = request({ host: '127.0.0.1', port, method: 'GET', path, agent, headers: { Accept: 'application/json' } }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`watch ${path}: ${res.statusCode}`));
        return;
      }
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const ev = JSON.parse(line) as { type: string; object: { metadata?: { annotations?: Record<string, string> } } };
          const seq = Number(ev.object.metadata?.annotations?.seq ?? Number.NaN);
          if (!Number.isNaN(seq) && !seen.has(seq)) seen.set(seq, now());
        }
      });
      res.on('error', () => undefined);
      resolvePromise({ seen, close: () => req.destroy() });
    });
    req.on('error', (err) => reject(err));
    req.end();
  });
}

// ---- the section -----------------------------------------------------------------------------------------------

export async function apiserverBench(opts: ApiserverBenchOptions = {}): Promise<SectionOutput> {
  const clients = opts.clients ?? 50;
  const pods = opts.pods ?? 5000;
  const watchers = opts.watchers ?? 200;
  const watchEvents = opts.watchEvents ?? 50;
  const idleSeconds = opts.idleSeconds ?? envInt('SKIFF_BENCH_API_IDLE_S', 60);
  const startMachine = machine();
  const control = new ControlProcess();
  const stopControl = onCleanup('skiff control process', () => control.stop());
  let floorChild: ChildProcess | undefined;
  const stopFloor = onCleanup('floor server', () => {
    floorChild?.kill('SIGKILL');
  });
  try {
    progress(`starting skiff control (${SKIFF})`);
    const t0 = now();
    await control.start();
    const startupMs = now() - t0;
    const port = control.port;
    const tls = control.tls;
    const agent = new Agent({ ...tls, keepAlive: true, maxSockets: clients });
    const rssEmptyKb = statusKb(control.pid, 'VmRSS');
    progress(`skiff control up in ${(startupMs / 1000).toFixed(1)} s (pid ${control.pid}, RSS ${(rssEmptyKb / 1024).toFixed(0)} MB)`);

    for (const ns of ['bench', 'bench-small', 'bench-watch', 'bench-warm']) await must(agent, port, 'POST', '/api/v1/namespaces', { metadata: { name: ns } });
    // Warm-up (not counted): JIT, TLS sessions, the store's first writes. Pods, so that the code the create phase
    // measures (pod decoding, admission, the scheduler) is compiled before it starts: with configmaps alone its first
    // seconds ran at half the rate of the rest. They are updated and deleted again, and the process left to go quiet. 3,000 of
    // them (SKIFF_BENCH_API_WARM_PODS per client, 60): after 500, V8 was still compiling (its compiler threads took
    // up to a CPU of this 2-vCPU machine from the server) and the first 1,000 creates ran at a third of the rate of
    // the last; after 3,000 the phase runs at one rate from start to end, the steady state the targets are about.
    await concurrently(clients, 2, (c, i) => must(agent, port, 'POST', '/api/v1/namespaces/bench-small/configmaps', { metadata: { name: `warm-${c}-${i}` } }).then(() => undefined));
    const warmPods = envInt('SKIFF_BENCH_API_WARM_PODS', 60, 0);
    progress(`warm-up: ${clients} clients x ${warmPods} pods, created, updated and deleted...`);
    const warmCreated = new Map<string, { metadata: { labels?: Record<string, string>; resourceVersion?: string } }>();
    await concurrently(clients, warmPods, async (c, i) => {
      const r = await must(agent, port, 'POST', '/api/v1/namespaces/bench-warm/pods', podBody(`w-${c}-${i}`, { app: 'warm' }));
      warmCreated.set(`w-${c}-${i}`, JSON.parse(r.body.toString()) as { metadata: { labels?: Record<string, string> } });
    });
    // The update phase's PUTs too (a different path: the update's decoding, admission and validation).
    await concurrently(clients, warmPods, (c, i) => {
      const pod = warmCreated.get(`w-${c}-${i}`) as { metadata: { labels?: Record<string, string> } };
      const body = { ...pod, metadata: { ...pod.metadata, labels: { ...pod.metadata.labels, updated: 'yes' }, resourceVersion: undefined } };
      return must(agent, port, 'PUT', `/api/v1/namespaces/bench-warm/pods/w-${c}-${i}`, body).then(() => undefined);
    });
    await concurrently(clients, warmPods, (c, i) => must(agent, port, 'DELETE', `/api/v1/namespaces/bench-warm/pods/w-${c}-${i}`).then(() => undefined));
    await quietCpu(control.pid);

    // Creates: 50 clients fill the bench namespace with 5,000 pods.
    const perClient = Math.ceil(pods / clients);
    progress(`create: ${clients} clients x ${perClient} pods...`);
    let created = 0;
    const updates = 20;
    // The first pods of each client as the server returned them: the update step PUTs them back (a PUT of the bare
    // create body would drop what admission added, e.g. the service account volume, which pod updates may not do).
    const asCreated = new Map<string, { metadata: { labels?: Record<string, string>; resourceVersion?: string } }>();
    let scraped = await scrapeDurations(agent, port);
    const server: Record<'create' | 'get' | 'update' | 'list', { p99Ms: number; n: number }> = { create: { p99Ms: Number.NaN, n: 0 }, get: { p99Ms: Number.NaN, n: 0 }, update: { p99Ms: Number.NaN, n: 0 }, list: { p99Ms: Number.NaN, n: 0 } };
    /** The server-side p99 of one phase's requests: its bench requests alone (subresource writes, e.g. the scheduler's bindings, are other series). */
    const serverSide = async (phase: keyof typeof server, match: Record<string, string>): Promise<void> => {
      const next = await scrapeDurations(agent, port);
      server[phase] = histogramP99(scraped, next, { group: '', version: 'v1', subresource: '', ...match });
      scraped = next;
    };
    const tCreate = now();
    const clientCpuCreate0 = cpuSeconds(process.pid);
    const cpuCreate0 = cpuSeconds(control.pid);
    const createMs = await concurrently(clients, perClient, async (c, i) => {
      const r = await must(agent, port, 'POST', '/api/v1/namespaces/bench/pods', podBody(`p-${c}-${i}`, { app: 'bench', client: String(c) }));
      if (i < updates) asCreated.set(`p-${c}-${i}`, JSON.parse(r.body.toString()) as { metadata: { labels?: Record<string, string> } });
      if (++created % 1000 === 0) progress(`  ${created} pods (${((now() - tCreate) / 1000).toFixed(1)} s)`);
    }, 'create');
    const createWallS = (now() - tCreate) / 1000;
    // The 50 clients share this process's one thread: when it is busy, answers wait in it, and the latencies with them.
    const clientCpuCreatePercent = ((cpuSeconds(process.pid) - clientCpuCreate0) / createWallS) * 100;
    const createCpuS = cpuSeconds(control.pid) - cpuCreate0;
    await serverSide('create', { verb: 'POST', resource: 'pods' });
    // What the creates set off may outlast the phase (the scheduler's status updates and events, controllers): the
    // control process's CPU until it goes quiet counts it all, whichever side of the phase's end it ran on.
    const settledCreateCpuS = (await quietCpu(control.pid)) - cpuCreate0;
    // A small namespace for the concurrent list.
    await concurrently(clients, 2, (c, i) => must(agent, port, 'POST', '/api/v1/namespaces/bench-small/pods', podBody(`s-${c}-${i}`, { app: 'small' })).then(() => undefined));

    progress(`get: ${clients} clients x 40...`);
    scraped = await scrapeDurations(agent, port);
    const getMs = await concurrently(clients, 40, (c, i) => must(agent, port, 'GET', `/api/v1/namespaces/bench/pods/p-${c}-${(i * 7) % perClient}`).then(() => undefined));
    await serverSide('get', { verb: 'GET', resource: 'pods' });

    progress(`update: ${clients} clients x ${updates} (PUT, each client its own pods)...`);
    const cpuUpdate0 = cpuSeconds(control.pid);
    const tUpdate = now();
    const updateMs = await concurrently(clients, updates, (c, i) => {
      const pod = asCreated.get(`p-${c}-${i}`);
      if (!pod) throw new Error(`no created body for p-${c}-${i}`);
      // Unconditional (no resourceVersion): the scheduler may have written the pod's status since.
      const body = { ...pod, metadata: { ...pod.metadata, labels: { ...pod.metadata.labels, updated: 'yes' }, resourceVersion: undefined } };
      return must(agent, port, 'PUT', `/api/v1/namespaces/bench/pods/p-${c}-${i}`, body).then(() => undefined);
    }, 'update');
    const updateCpuS = cpuSeconds(control.pid) - cpuUpdate0;
    const updateWallS = (now() - tUpdate) / 1000;
    await serverSide('update', { verb: 'PUT', resource: 'pods' });

    // The same PUTs at a fixed offered load below what the server takes: each client at client-go's default QPS.
    // Every PUT changes a label, so each is a real write. What the saturating updates set off (the scheduler retries
    // each updated pending pod, with their events) is let finish first: it kept the process busy for the first
    // 5 s of this phase, so the figure measured the tail of the last phase rather than this load.
    await quietCpu(control.pid);
    // Server-side and disk figures of the paced phase: where its tail is spent (the embedded store's WAL fsyncs).
    const pacedScraped = await scrapeDurations(agent, port);
    const pacedFsyncs = await scrapeDurations(agent, port, 'etcd_disk_wal_fsync_duration_seconds');
    const pacedRounds = 40;
    progress(`paced update: ${clients} clients x ${pacedRounds} PUTs, ${CLIENT_GO_QPS}/s each (${clients * CLIENT_GO_QPS}/s offered)...`);
    const pacedUpdateMs = await pacedConcurrently(clients, pacedRounds, CLIENT_GO_QPS, (c, i) => {
      const pod = asCreated.get(`p-${c}-${i % updates}`);
      if (!pod) throw new Error(`no created body for p-${c}-${i % updates}`);
      const body = { ...pod, metadata: { ...pod.metadata, labels: { ...pod.metadata.labels, updated: `paced-${i}` }, resourceVersion: undefined } };
      return must(agent, port, 'PUT', `/api/v1/namespaces/bench/pods/p-${c}-${i % updates}`, body).then(() => undefined);
    });
    const pacedServer = histogramP99(pacedScraped, await scrapeDurations(agent, port), { group: '', version: 'v1', subresource: '', verb: 'PUT', resource: 'pods' });
    const pacedFsync = histogramP99(pacedFsyncs, await scrapeDurations(agent, port, 'etcd_disk_wal_fsync_duration_seconds'), {});
    // What the updates set off (the scheduler retries each updated pending pod) is let finish before the next phase.
    await quietCpu(control.pid);

    progress(`list: ${clients} clients x 10 (namespace of 100 pods)...`);
    const listMs = await concurrently(clients, 10, (_c, _i) => must(agent, port, 'GET', '/api/v1/namespaces/bench-small/pods').then(() => undefined));
    await serverSide('list', { verb: 'LIST', resource: 'pods', scope: 'namespace' });

    progress(`LIST of ${pods} pods x 5...`);
    const bigListMs: number[] = [];
    let bigListBytes = 0;
    for (let i = 0; i < 5; i++) {
      checkAborted();
      const t = now();
      const r = await must(agent, port, 'GET', '/api/v1/namespaces/bench/pods');
      bigListMs.push(now() - t);
      bigListBytes = r.body.length;
      if (i === 0) {
        const n = (JSON.parse(r.body.toString()) as { items: unknown[] }).items.length;
        if (n !== perClient * clients) throw new Error(`LIST returned ${n} pods, expected ${perClient * clients}`);
      }
    }

    // Watch delivery: 200 watchers on one namespace, writes spaced out so each is timed on its own.
    progress(`watch: ${watchers} watchers, ${watchEvents} writes...`);
    const cm = JSON.parse((await must(agent, port, 'POST', '/api/v1/namespaces/bench-watch/configmaps', { metadata: { name: 'w', annotations: { seq: '-1' } } })).body.toString()) as { metadata: { resourceVersion: string } };
    const watchAgent = new Agent({ ...tls, keepAlive: false, maxSockets: watchers + 10 });
    const ws: Watcher[] = [];
    for (let i = 0; i < watchers; i += 20) {
      ws.push(...(await Promise.all(Array.from({ length: Math.min(20, watchers - i) }, () => openWatcher(watchAgent, port, `/api/v1/namespaces/bench-watch/configmaps?watch=true&resourceVersion=${cm.metadata.resourceVersion}`)))));
    }
    await sleep(500);
    const sentAt = new Map<number, number>();
    const writeMs: number[] = [];
    for (let seq = 0; seq < watchEvents; seq++) {
      checkAborted();
      const t = now();
      sentAt.set(seq, t);
      const r = await call(agent, port, 'PATCH', '/api/v1/namespaces/bench-watch/configmaps/w', { metadata: { annotations: { seq: String(seq) } } }, 'application/merge-patch+json');
      if (r.status !== 200) throw new Error(`PATCH configmap: ${r.status} ${r.body.subarray(0, 300).toString()}`);
      writeMs.push(now() - t);
      await sleep(50);
    }
    await pollUntil(async () => ws.every((w) => w.seen.size >= watchEvents) || undefined, `${watchers} watchers to see ${watchEvents} events`, 50, 30_000).catch((err: unknown) => progress(String(err)));
    const deliveryMs: number[] = [];
    let missing = 0;
    for (const w of ws) {
      for (let seq = 0; seq < watchEvents; seq++) {
        const at = w.seen.get(seq);
        if (at === undefined) missing++;
        else deliveryMs.push(at - (sentAt.get(seq) as number));
      }
    }
    for (const w of ws) w.close();
    watchAgent.destroy();

    await sleep(1000);
    const rssAfterLoadKb = statusKb(control.pid, 'VmRSS');
    const loadEndedAt = now();
    progress(`control RSS with ${pods} pods, 1 s after the load: ${(rssAfterLoadKb / 1024).toFixed(0)} MB (peak ${(statusKb(control.pid, 'VmHWM') / 1024).toFixed(0)} MB)`);

    // The floor: the same round trips to a trivial https server (same TLS setup, its own process).
    progress('floor: trivial https server, same clients and request counts...');
    const sample = JSON.parse((await must(agent, port, 'GET', '/api/v1/namespaces/bench/pods/p-0-0')).body.toString()) as unknown;
    const pki = join(control.dir, 'data', 'pki');
    const floor = await startFloor({ key: readFileSync(join(pki, 'apiserver.key'), 'utf8'), cert: readFileSync(join(pki, 'apiserver.crt'), 'utf8'), ca: tls.ca }, sample);
    floorChild = floor.child;
    const floorAgent = new Agent({ ...tls, keepAlive: true, maxSockets: clients });
    await concurrently(clients, 2, () => must(floorAgent, floor.port, 'GET', '/warm').then(() => undefined));
    const tFloorCreate = now();
    const clientCpuFloor0 = cpuSeconds(process.pid);
    const floorCreateMs = await concurrently(clients, perClient, (c, i) => must(floorAgent, floor.port, 'POST', '/create', podBody(`p-${c}-${i}`, { app: 'bench' })).then(() => undefined));
    const floorCreateWallS = (now() - tFloorCreate) / 1000;
    const clientCpuFloorPercent = ((cpuSeconds(process.pid) - clientCpuFloor0) / floorCreateWallS) * 100;
    const floorGetMs = await concurrently(clients, 40, () => must(floorAgent, floor.port, 'GET', '/get').then(() => undefined));
    const floorUpdateMs = await concurrently(clients, updates, () => must(floorAgent, floor.port, 'PUT', '/update', sample).then(() => undefined));
    const floorBigListMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = now();
      await must(floorAgent, floor.port, 'GET', `/bytes/${bigListBytes}`);
      floorBigListMs.push(now() - t);
    }
    floorAgent.destroy();
    agent.destroy();
    const durable = await durableWriteFloor(clients, perClient, JSON.stringify(sample));

    // What a cluster holding 5,000 pods costs, rather than the garbage of the burst that created them: V8 gives back
    // the heap a burst left behind only once the process has gone quiet (its memory reducer's full collections, seen
    // 15-20 s after the load with --trace-gc), so RSS a second after the load is the burst's high-water mark.
    // The load's aftermath first: what it set off (the scheduler's conditions and events for 5,000 unschedulable
    // pods) may go on after it, at a few percent of a CPU (under quietCpu's bar), and V8 gives memory back only once
    // that ends: the idle minute counts from when the process has gone idle (at most 10 minutes after the load).
    progress('control busy with what the load set off; waiting for it to go idle...');
    // Idle: under 3% of a CPU over 5 s (its own housekeeping: leases, resyncs). One quiet second was not enough: the
    // scheduler's backlog has pauses that long (pods waiting out their backoff), and a run read its RSS while the
    // backlog still went on (336 MB, against 175 in the runs before and after it; the idle collector, which waits
    // for two quiet 5-s windows of its own, had not run).
    await quietCpu(control.pid, { windowMs: 5000, share: 0.03, maxMs: 600_000 });
    const quietAfterS = (now() - loadEndedAt) / 1000;
    progress(`control idle ${quietAfterS.toFixed(0)} s after the load; leaving it idle for ${idleSeconds} s before reading its RSS again...`);
    const quietAt = now();
    while (now() - quietAt < idleSeconds * 1000) await sleep(1000);
    const rssKb = statusKb(control.pid, 'VmRSS');
    const hwmKb = statusKb(control.pid, 'VmHWM');
    progress(`control RSS with ${pods} pods after ${idleSeconds} s idle: ${(rssKb / 1024).toFixed(0)} MB`);

    const s = {
      create: stats(createMs),
      get: stats(getMs),
      update: stats(updateMs),
      pacedUpdate: stats(pacedUpdateMs),
      list: stats(listMs),
      bigList: stats(bigListMs),
      watchWrite: stats(writeMs),
      watchDelivery: deliveryMs.length ? stats(deliveryMs) : { p50: Number.NaN, p99: Number.NaN, max: Number.NaN, n: 0 },
      floorCreate: stats(floorCreateMs),
      floorGet: stats(floorGetMs),
      floorUpdate: stats(floorUpdateMs),
      floorBigList: stats(floorBigListMs),
    };
    const ratio = (a: number, b: number): string => `${(a / b).toFixed(1)}x floor`;
    const lines: string[] = [
      `create (${clients} clients, ${s.create.n} pods, ${(s.create.n / createWallS).toFixed(0)}/s): p50 ${s.create.p50.toFixed(1)} ms, p99 ${s.create.p99.toFixed(1)} ms (target p99 <= ${TARGETS.mutatingP99Ms} ms${s.create.p99 > TARGETS.mutatingP99Ms ? ', OVER' : ''}); floor p99 ${s.floorCreate.p99.toFixed(1)} ms = ${ratio(s.create.p99, s.floorCreate.p99)}`,
      // Little's law: in a closed loop the mean latency is the clients over the throughput, whatever the server does
      // with its time, so a p99 target bounds the throughput it needs (what CPU per create on this machine gives).
      `  the clients' process (one thread for all 50) used ${clientCpuCreatePercent.toFixed(0)}% of a CPU during the phase; against the trivial floor ${clientCpuFloorPercent.toFixed(0)}% at ${(s.floorCreate.n / floorCreateWallS).toFixed(0)}/s`,
      `  closed loop (Little's law): mean ${mean(createMs).toFixed(1)} ms = ${clients} clients / ${(s.create.n / createWallS).toFixed(0)} creates/s; a mean within ${TARGETS.mutatingP99Ms} ms alone needs ${((clients * 1000) / TARGETS.mutatingP99Ms).toFixed(0)}/s`,
      durable
        ? `  durable write floor (etcd 3.4, 1 member, this machine's disk; ${clients} clients x ${perClient} creates of a pod's ${durable.bytes} stored bytes, ${durable.perSecond.toFixed(0)}/s, client process CPU ${durable.clientCpuPercent.toFixed(0)}%): p50 ${durable.ms.p50.toFixed(1)} ms, p99 ${durable.ms.p99.toFixed(1)} ms; create p99 = ${(s.create.p99 / durable.ms.p99).toFixed(1)}x it`
        : `  durable write floor: not measured (no etcd at ${ETCD_BIN}: apt-get install etcd-server, or set ETCD_BIN)`,
      `update (${clients} clients, ${s.update.n} PUTs): p50 ${s.update.p50.toFixed(1)} ms, p99 ${s.update.p99.toFixed(1)} ms (target p99 <= ${TARGETS.mutatingP99Ms} ms${s.update.p99 > TARGETS.mutatingP99Ms ? ', OVER' : ''}); floor p99 ${s.floorUpdate.p99.toFixed(1)} ms = ${ratio(s.update.p99, s.floorUpdate.p99)}`,
      // Not the target figure (the closed loop above is): what a client sees when the server is not saturated.
      `update at a fixed load (${clients} clients at ${CLIENT_GO_QPS}/s each, client-go's default QPS: ${clients * CLIENT_GO_QPS}/s offered, ${s.pacedUpdate.n} PUTs): p50 ${s.pacedUpdate.p50.toFixed(1)} ms, p99 ${s.pacedUpdate.p99.toFixed(1)} ms; for reference, not the target figure`,
      `  the same phase seen by the server: PUT p99 ${pacedServer.p99Ms.toFixed(1)} ms (apiserver_request_duration_seconds); the embedded store's WAL fsync p99 ${pacedFsync.p99Ms.toFixed(1)} ms over ${pacedFsync.n} fsyncs (etcd_disk_wal_fsync_duration_seconds)`,
      `get (${clients} clients, ${s.get.n} GETs): p50 ${s.get.p50.toFixed(1)} ms, p99 ${s.get.p99.toFixed(1)} ms; floor p99 ${s.floorGet.p99.toFixed(1)} ms = ${ratio(s.get.p99, s.floorGet.p99)}`,
      `list (${clients} clients, ${s.list.n} LISTs of 100 pods): p50 ${s.list.p50.toFixed(1)} ms, p99 ${s.list.p99.toFixed(1)} ms`,
      // Upstream's API call latency SLIs are the server's own histogram (request received -> response written), per
      // (resource, verb): no client queueing or transport in them. For reference; the client-observed p99 above is the
      // figure held against the targets.
      `server-side p99, as upstream's API call latency SLI reads it (apiserver_request_duration_seconds from /metrics, p99 interpolated within its buckets; for reference, not the target figure): create (POST pods, ${server.create.n}) ${server.create.p99Ms.toFixed(1)} ms, update (PUT pods, ${server.update.n}) ${server.update.p99Ms.toFixed(1)} ms, get (GET pods, ${server.get.n}) ${server.get.p99Ms.toFixed(1)} ms, list (LIST pods, ${server.list.n}) ${server.list.p99Ms.toFixed(1)} ms`,
      `LIST of ${perClient * clients} pods (${(bigListBytes / 1024 / 1024).toFixed(1)} MB): median ${percentile(bigListMs, 50).toFixed(0)} ms, max ${s.bigList.max.toFixed(0)} ms; floor (same bytes) ${percentile(floorBigListMs, 50).toFixed(0)} ms = ${ratio(percentile(bigListMs, 50), percentile(floorBigListMs, 50))}`,
      // Counted work rather than latency: the control process's CPU time (user + system) over each closed-loop phase,
      // per request. It includes what the writes set off in the same process (watch fan-out, the scheduler, the
      // controllers) as far as it ran inside the phase.
      `control CPU per create: ${((createCpuS * 1000) / s.create.n).toFixed(2)} ms (${createCpuS.toFixed(1)} s over the ${createWallS.toFixed(1)} s create phase); per update: ${((updateCpuS * 1000) / s.update.n).toFixed(2)} ms (${updateCpuS.toFixed(1)} s over ${updateWallS.toFixed(1)} s)`,
      `control CPU per create until the process went quiet (the phase and what it set off after it): ${((settledCreateCpuS * 1000) / s.create.n).toFixed(2)} ms`,
      `watch delivery (${watchers} watchers x ${watchEvents} writes, write sent -> event parsed): p50 ${s.watchDelivery.p50.toFixed(1)} ms, p99 ${s.watchDelivery.p99.toFixed(1)} ms (target p99 <= ${TARGETS.watchP99Ms} ms${s.watchDelivery.p99 > TARGETS.watchP99Ms ? ', OVER' : ''}); the PATCH itself p50 ${s.watchWrite.p50.toFixed(1)} ms${missing ? `; ${missing} deliveries MISSING` : ''}`,
    ];
    const absolutes: AbsoluteLine[] = [
      { label: `control-plane RSS with ${perClient * clients} pods, idle ${idleSeconds} s (from ${quietAfterS.toFixed(0)} s after the load)`, value: rssKb / 1024, unit: 'MB', digits: 0, target: TARGETS.rssMb },
      { label: '  for reference: RSS 1 s after the load', value: rssAfterLoadKb / 1024, unit: 'MB', digits: 0 },
      { label: '  for reference: peak RSS', value: hwmKb / 1024, unit: 'MB', digits: 0 },
      { label: '  for reference: RSS at start (empty store)', value: rssEmptyKb / 1024, unit: 'MB', digits: 0 },
    ];
    return {
      lines: [...lines, ...absolutes.map(absoluteText)],
      json: {
        section: 'apiserver',
        at: new Date().toISOString(),
        machine: { start: startMachine, end: machine() },
        settings: { clients, pods: perClient * clients, watchers, watchEvents, skiff: SKIFF },
        targets: TARGETS,
        ms: s,
        createThroughputPerSecond: round((s.create.n / createWallS), 1),
        durableWriteFloor: durable ? { ms: durable.ms, perSecond: round(durable.perSecond, 1), bytes: durable.bytes, clientCpuPercent: round(durable.clientCpuPercent, 1) } : null,
        clientCpuPercent: { create: round(clientCpuCreatePercent, 1), floorCreate: round(clientCpuFloorPercent, 1) },
        serverSideP99Ms: { ...Object.fromEntries(Object.entries(server).map(([k, v]) => [k, round(v.p99Ms, 2)])), pacedUpdate: round(pacedServer.p99Ms, 2) },
        pacedWalFsyncP99Ms: round(pacedFsync.p99Ms, 2),
        controlCpuMsPerRequest: { create: round((createCpuS * 1000) / s.create.n, 3), createUntilQuiet: round((settledCreateCpuS * 1000) / s.create.n, 3), update: round((updateCpuS * 1000) / s.update.n, 3) },
        bigListBytes,
        watchMissing: missing,
        memory: { rssMb: round(rssKb / 1024, 1), idleSeconds, quietAfterLoadS: round(quietAfterS, 0), rssAfterLoadMb: round(rssAfterLoadKb / 1024, 1), peakRssMb: round(hwmKb / 1024, 1), emptyRssMb: round(rssEmptyKb / 1024, 1) },
        startupMs: round(startupMs, 0),
      },
    };
  } catch (err) {
    if (err instanceof Error) {
      const tail = control.logText().split('\n').slice(-15).join('\n');
      if (tail.trim()) err.message += `\nlast control log lines:\n${tail}`;
    }
    throw err;
  } finally {
    if (TIMELINE_FILE !== undefined) writeFileSync(TIMELINE_FILE, timeline.join('\n') + '\n');
    progress('cleaning up: floor server, control process, temp dir');
    await stopFloor();
    await stopControl();
  }
}
