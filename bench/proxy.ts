import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { execa, type ResultPromise } from 'execa';
import type { Endpoints, Service } from '../control/api/core/index.js';
import { silentLogger } from '../lib/log.js';
import { execRunner, mustRun, type CommandRunner } from '../proxy/exec.js';
import { IptablesProxier } from '../proxy/iptables/proxier.js';
import { endpointChainName, serviceChainName } from '../proxy/iptables/rules.js';
import { UserspaceProxier } from '../proxy/userspace/proxier.js';
import type { SectionOutput } from './agent.js';
import { cpuSeconds, machine, median, now, onCleanup, onExit, progress, round } from './util.js';

/**
 * The proxy benchmark, in a network namespace it creates (the host's tables are never touched) and deletes:
 *
 * - iptables full sync of 100, 1,000 and 5,000 services (3 endpoints each), as a ratio to one raw iptables-restore
 *   of the same rules in the same namespace (the floor: what applying the ruleset costs at least). Target <= 1.3x.
 * - one service changed among 5,000: the partial sync against a raw restore of just that service's chains. <= 1.5x.
 * - userspace mode: requests per second and p99 latency through the proxy vs straight to the backend, on 127.0.0.1,
 *   with the load generator and the backend in child processes. Targets >= 70% of direct, <= 1 ms added p99.
 */

const TARGETS = { fullSync: 1.3, oneService: 1.5, userspaceThroughput: 0.7, userspaceAddedP99Ms: 1 };
const REPEATS = 5;

function service(i: number): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: `svc-${i}`, namespace: 'bench', resourceVersion: '1' },
    spec: { type: 'ClusterIP', clusterIP: `10.96.${Math.floor(i / 250)}.${(i % 250) + 2}`, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] },
  } as Service;
}

function endpoints(i: number, count = 3): Endpoints {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: `svc-${i}`, namespace: 'bench', resourceVersion: '1' },
    subsets: [
      {
        addresses: Array.from({ length: count }, (_, k) => ({ ip: `10.${100 + k}.${Math.floor(i / 250)}.${(i % 250) + 2}`, nodeName: 'node-a' })),
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ],
  } as Endpoints;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = now();
  await fn();
  return now() - t;
}

/** This process's CPU time (ms) while fn runs: the proxier's own work, children (iptables) excluded; steadier than wall time on a loaded machine. */
async function cpuTimed(fn: () => Promise<unknown>): Promise<number> {
  const before = process.cpuUsage();
  await fn();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

/** The service chains of one service from a full restore text: its SVC and SEP chain lines and rules. */
function serviceOnlyText(full: string, i: number): string {
  const spn = `bench/svc-${i}:http`;
  const svcChain = serviceChainName(spn, 'tcp');
  const chains = new Set([svcChain]);
  for (const line of full.split('\n')) {
    const m = new RegExp(`^-A ${svcChain} .* -j (KUBE-SEP-\\S+)`).exec(line);
    if (m) chains.add(m[1] as string);
  }
  // A new endpoint's chain may not be in `full` yet: the 4th endpoint of the changed service.
  chains.add(endpointChainName(spn, 'tcp', `10.103.${Math.floor(i / 250)}.${(i % 250) + 2}:8080`));
  const lines = full.split('\n').filter((l) => [...chains].some((c) => l.startsWith(`-A ${c} `)));
  return ['*nat', ...[...chains].map((c) => `:${c} - [0:0]`), ...lines, 'COMMIT', ''].join('\n');
}

interface SyncFigures {
  services: number;
  /** The proxier's first sync: nothing rendered yet, the tables read with iptables-save (not a target, for scale). */
  firstSyncMs: number;
  fullSyncMs: number;
  /** The proxier's own CPU time per full sync (median; iptables processes not included). */
  fullSyncCpuMs: number;
  rawRestoreMs: number;
  ratio: number;
  /** Processes run by each measured full sync. */
  processesPerSync: number[];
}

async function iptablesRuns(ns: string): Promise<{ full: SyncFigures[]; one: { partialMs: number; partialCpuMs: number; rawMs: number; ratio: number } }> {
  // The legacy backend: iptables-nft takes minutes to restore 5,000 services on a small machine, which measures
  // the backend rather than the proxy. Both the proxier and the floor use the same binaries.
  const inNs = execRunner({ netns: ns, timeoutMs: 600_000 });
  const commands: string[] = [];
  const run: CommandRunner = (cmd, args, input) => {
    commands.push(cmd);
    return inNs(cmd.startsWith('iptables') ? cmd.replace(/^iptables/, 'iptables-legacy') : cmd, args, input);
  };
  const full: SyncFigures[] = [];
  let one = { partialMs: 0, partialCpuMs: 0, rawMs: 0, ratio: 0 };
  for (const n of [100, 1000, 5000]) {
    progress(`proxy bench: full sync of ${n} services`);
    // A fresh nat/filter state for each size: flush what the previous size left.
    await mustRun(run, 'iptables', ['-w', '-t', 'nat', '-F']);
    await mustRun(run, 'iptables', ['-w', '-t', 'nat', '-X']);
    await mustRun(run, 'iptables', ['-w', '-t', 'filter', '-F']);
    await mustRun(run, 'iptables', ['-w', '-t', 'filter', '-X']);
    const proxier = new IptablesProxier({ run, nodeName: 'node-a', minSyncPeriodMs: 0, syncPeriodMs: 3_600_000, logger: silentLogger(), render: { clusterCIDR: '10.100.0.0/14' } });
    for (let i = 0; i < n; i++) {
      proxier.onServiceAdd(service(i));
      proxier.onEndpointsAdd(endpoints(i));
    }
    proxier.onServicesSynced();
    proxier.onEndpointsSynced();
    const firstStart = now();
    const first = await proxier.syncProxyRules();
    const firstSyncMs = now() - firstStart;
    if (!first.ok || !first.result) throw first.error ?? new Error('first sync failed');
    // The floor is the rules alone: the jump checks (-C lines) the proxier's text carries are left out of it.
    const text = first.result.text.replace(/^-C .*\n/gm, '');
    if (text === first.result.text) throw new Error('expected jump checks in the restore text');
    const syncs: number[] = [];
    const syncCpu: number[] = [];
    /** Processes each full sync ran (iptables-restore only, when the jumps are in place). */
    const processes: number[] = [];
    const raws: number[] = [];
    for (let r = 0; r < REPEATS; r++) {
      // Interleaved, so that drift on the machine hits both alike.
      proxier.forceFullSync();
      const before = commands.length;
      let wall = 0;
      syncCpu.push(
        await cpuTimed(async () => {
          wall = await timed(async () => {
            const rep = await proxier.syncProxyRules();
            if (!rep.ok) throw rep.error ?? new Error('sync failed');
          });
        }),
      );
      syncs.push(wall);
      processes.push(commands.length - before);
      raws.push(await timed(() => mustRun(run, 'iptables-restore', ['-w', '--noflush', '--counters'], text)));
    }
    const fullSyncMs = median(syncs);
    const rawRestoreMs = median(raws);
    full.push({ services: n, firstSyncMs: round(firstSyncMs, 1), fullSyncMs: round(fullSyncMs, 1), fullSyncCpuMs: round(median(syncCpu), 1), rawRestoreMs: round(rawRestoreMs, 1), ratio: round(fullSyncMs / rawRestoreMs, 2), processesPerSync: processes });

    if (n === 5000) {
      progress('proxy bench: one service changed among 5,000');
      const partials: number[] = [];
      const partialCpu: number[] = [];
      const rawsOne: number[] = [];
      for (let r = 0; r < REPEATS; r++) {
        const i = 17 + r;
        proxier.onEndpointsUpdate(undefined, endpoints(i, 4));
        const before = proxier.history.length;
        let wall = 0;
        partialCpu.push(
          await cpuTimed(async () => {
            wall = await timed(async () => {
              const rep = await proxier.syncProxyRules();
              if (!rep.ok || rep.full) throw rep.error ?? new Error('expected a partial sync');
            });
          }),
        );
        partials.push(wall);
        if (proxier.history.length !== before + 1) throw new Error('no sync recorded');
        const fullText = proxier.history[proxier.history.length - 1]?.result?.text ?? '';
        const raw = serviceOnlyText(fullText, i);
        rawsOne.push(await timed(() => mustRun(run, 'iptables-restore', ['-w', '--noflush', '--counters'], raw)));
      }
      const partialMs = median(partials);
      const rawMs = median(rawsOne);
      one = { partialMs: round(partialMs, 1), partialCpuMs: round(median(partialCpu), 1), rawMs: round(rawMs, 1), ratio: round(partialMs / rawMs, 2) };
    }
    await proxier.stop();
  }
  return { full, one };
}

// ---- userspace --------------------------------------------------------------------------------------------------

const ECHO_SERVER = `
const net = require('node:net');
const s = net.createServer((c) => { c.setNoDelay(true); c.on('data', (d) => c.write(d)); c.on('error', () => {}); });
s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));
`;

/** C connections each sending 64-byte messages one at a time for D ms; prints {count, p50, p99} (ms). */
const LOAD = `
const net = require('node:net');
const [port, conns, ms] = process.argv.slice(1).map(Number);
const lat = []; let count = 0; const end = Date.now() + ms; let open = conns;
const msg = Buffer.alloc(64, 120);
for (let i = 0; i < conns; i++) {
  const c = net.connect(port, '127.0.0.1'); c.setNoDelay(true);
  let t = 0; let got = 0;
  const send = () => { if (Date.now() > end) { c.end(); return; } t = process.hrtime.bigint(); got = 0; c.write(msg); };
  c.on('connect', send);
  c.on('data', (d) => { got += d.length; if (got >= 64) { lat.push(Number(process.hrtime.bigint() - t) / 1e6); count++; send(); } });
  c.on('close', () => { if (--open === 0) { lat.sort((a, b) => a - b); const p = (q) => lat[Math.min(lat.length - 1, Math.ceil(q * lat.length) - 1)]; const u = process.cpuUsage(); process.stdout.write(JSON.stringify({ count, seconds: ms / 1000, p50: p(0.5), p99: p(0.99), cpuMs: (u.user + u.system) / 1000 })); } });
  c.on('error', () => {});
}
`;

interface LoadResult {
  count: number;
  seconds: number;
  p50: number;
  p99: number;
  /** The load generator's own CPU time over its whole life (ms). */
  cpuMs: number;
}

/** A load run and the CPU time each process spent on it, per request (µs). */
interface Measured extends LoadResult {
  cpuUsPerRequest: { load: number; backend: number; proxy: number };
}

/**
 * Where the processes run. "shared": anywhere on the machine's CPUs, as the scheduler likes (the original figure).
 * "pinned": the load generator and the backend on CPU 0 in both runs, and the proxy (this process) on CPU 1, so that
 * the client and the backend get the same CPU whether the relay is there or not (see the note in userspaceRun).
 */
type Placement = 'shared' | 'pinned';

async function load(port: number, conns: number, ms: number, backendPid: number, placement: Placement): Promise<Measured> {
  const backendBefore = cpuSeconds(backendPid);
  const self = process.cpuUsage();
  const [file, args] = placement === 'pinned' ? ['taskset', ['-c', '0', process.execPath]] : [process.execPath, []];
  const r = await execa(file, [...args, '-e', LOAD, String(port), String(conns), String(ms)]);
  const used = process.cpuUsage(self);
  const l = JSON.parse(String(r.stdout)) as LoadResult;
  const per = (ms: number): number => round((ms * 1000) / Math.max(l.count, 1), 1);
  return { ...l, cpuUsPerRequest: { load: per(l.cpuMs), backend: per((cpuSeconds(backendPid) - backendBefore) * 1000), proxy: per((used.user + used.system) / 1000) } };
}

/** `taskset -a -p` on a process (every thread): returns the mask it had. */
async function pin(pid: number, cpus: string): Promise<string> {
  const before = /mask:\s*(\S+)/.exec(String((await execa('taskset', ['-p', String(pid)])).stdout))?.[1] ?? '';
  await execa('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdout: 'ignore' });
  return before;
}

async function unpin(pid: number, mask: string): Promise<void> {
  if (mask) await execa('taskset', ['-a', '-p', mask, String(pid)], { stdout: 'ignore', reject: false });
}

async function abRuns(backendPort: number, proxyPort: number, backendPid: number, placement: Placement): Promise<Record<string, unknown>> {
  const conns = 16;
  const ms = 4000;
  // Warm-up, then direct and proxied alternately (twice each), medians of the pairs.
  await load(backendPort, conns, 1000, backendPid, placement);
  await load(proxyPort, conns, 1000, backendPid, placement);
  const direct: Measured[] = [];
  const proxied: Measured[] = [];
  for (let r = 0; r < 2; r++) {
    direct.push(await load(backendPort, conns, ms, backendPid, placement));
    proxied.push(await load(proxyPort, conns, ms, backendPid, placement));
  }
  const rps = (l: LoadResult): number => l.count / l.seconds;
  const directRps = median(direct.map(rps));
  const proxiedRps = median(proxied.map(rps));
  const directP99 = median(direct.map((l) => l.p99));
  const proxiedP99 = median(proxied.map((l) => l.p99));
  const cpu = (runs: Measured[]) => ({
    load: round(median(runs.map((m) => m.cpuUsPerRequest.load)), 1),
    backend: round(median(runs.map((m) => m.cpuUsPerRequest.backend)), 1),
    proxy: round(median(runs.map((m) => m.cpuUsPerRequest.proxy)), 1),
  });
  return {
    placement,
    connections: conns,
    directRps: round(directRps, 0),
    proxiedRps: round(proxiedRps, 0),
    throughputRatio: round(proxiedRps / directRps, 2),
    directP99Ms: round(directP99, 3),
    proxiedP99Ms: round(proxiedP99, 3),
    addedP99Ms: round(proxiedP99 - directP99, 3),
    directP50Ms: round(median(direct.map((l) => l.p50)), 3),
    proxiedP50Ms: round(median(proxied.map((l) => l.p50)), 3),
    directCpuUsPerRequest: cpu(direct),
    proxiedCpuUsPerRequest: cpu(proxied),
    runs: { directRps: direct.map((l) => round(rps(l), 0)), proxiedRps: proxied.map((l) => round(rps(l), 0)) },
  };
}

/**
 * Userspace relay vs direct. With every process free to run anywhere ("shared"), the figure is CPU-bound on a 2-CPU
 * machine: direct, the load generator and the echo backend keep both CPUs busy, and the relay's CPU (two loopback
 * reads and two writes per request, mostly kernel time) is taken from them, so the ratio is about the CPU per request
 * of direct over proxied. "pinned" gives the client and the backend the same single CPU in both runs and the relay
 * the other one: the relay's throughput and latency with its own CPU, as on a node whose client and backend are
 * elsewhere. Both are reported, with each process's CPU time per request.
 */
async function userspaceRun(): Promise<{ shared: Record<string, unknown>; pinned?: Record<string, unknown> }> {
  progress('proxy bench: userspace mode vs direct, 127.0.0.1');
  const backend: ResultPromise = execa(process.execPath, ['-e', ECHO_SERVER], { stdout: 'pipe', reject: false });
  const killBackend = (): void => {
    backend.kill('SIGKILL');
  };
  const unExit = onExit(killBackend);
  const stopBackend = onCleanup('userspace bench backend', async () => {
    killBackend();
    await backend;
    unExit();
  });
  const backendPort = await new Promise<number>((resolve, reject) => {
    backend.stdout?.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
    void backend.then(() => reject(new Error('echo backend exited')));
  });
  const backendPid = backend.pid ?? 0;
  const proxier = new UserspaceProxier({ run: execRunner(), nodeName: 'node-a', listenIP: '127.0.0.1', noIptables: true, minSyncPeriodMs: 0, logger: silentLogger() });
  const stopProxier = onCleanup('userspace proxier', () => proxier.stop());
  try {
    proxier.onServiceAdd({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'echo', namespace: 'bench' }, spec: { clusterIP: '10.96.0.99', ports: [{ port: 80, protocol: 'TCP' }] } } as Service);
    proxier.onEndpointsAdd({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'echo', namespace: 'bench' }, subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ port: backendPort, protocol: 'TCP' }] }] } as Endpoints);
    proxier.onServicesSynced();
    proxier.onEndpointsSynced();
    if (!(await proxier.sync())) throw new Error('userspace sync failed');
    const proxyPort = proxier.proxyPort('bench/echo');
    if (!proxyPort) throw new Error('no userspace listener');
    const shared = await abRuns(backendPort, proxyPort, backendPid, 'shared');
    if (cpus().length < 2) return { shared };
    progress('proxy bench: userspace mode vs direct, client and backend on CPU 0, the relay on CPU 1');
    const backendMask = await pin(backendPid, '0');
    const selfMask = await pin(process.pid, '1');
    try {
      return { shared, pinned: await abRuns(backendPort, proxyPort, backendPid, 'pinned') };
    } finally {
      await unpin(process.pid, selfMask);
      await unpin(backendPid, backendMask);
    }
  } finally {
    await stopProxier();
    await stopBackend();
  }
}

export async function proxyBench(): Promise<SectionOutput> {
  if (process.getuid?.() !== 0) throw new Error('the proxy bench needs root (network namespaces, iptables)');
  const ns = `skiff-bench-${randomBytes(3).toString('hex')}`;
  await execa('ip', ['netns', 'add', ns]);
  const removeNs = onCleanup(`network namespace ${ns}`, async () => {
    await execa('ip', ['netns', 'del', ns], { reject: false });
  });
  let ipt: Awaited<ReturnType<typeof iptablesRuns>>;
  try {
    ipt = await iptablesRuns(ns);
  } finally {
    await removeNs();
  }
  const us = await userspaceRun();
  const flag = (bad: boolean): string => (bad ? ', MISSED' : '');
  const lines = [
    ...ipt.full.map(
      (f) =>
        `iptables full sync, ${f.services} services x 3 endpoints: ${f.fullSyncMs.toFixed(1)} ms vs raw iptables-restore ${f.rawRestoreMs.toFixed(1)} ms = ${f.ratio.toFixed(2)}x (target <= ${TARGETS.fullSync}x${flag(f.ratio > TARGETS.fullSync)}); proxier CPU ${f.fullSyncCpuMs.toFixed(1)} ms, processes per sync ${Math.max(...f.processesPerSync)}; first sync (nothing rendered yet) ${f.firstSyncMs.toFixed(1)} ms`,
    ),
    `iptables one service changed among 5,000: ${ipt.one.partialMs.toFixed(1)} ms vs raw restore of its chains ${ipt.one.rawMs.toFixed(1)} ms = ${ipt.one.ratio.toFixed(2)}x (target <= ${TARGETS.oneService}x${flag(ipt.one.ratio > TARGETS.oneService)}); proxier CPU ${ipt.one.partialCpuMs.toFixed(1)} ms`,
    ...[us.shared, ...(us.pinned ? [us.pinned] : [])].map((u) => {
      const n = (k: string): number => Number(u[k] ?? 0);
      const c = (k: string): string => {
        const v = u[k] as { load: number; backend: number; proxy: number };
        return `load ${v.load} + backend ${v.backend}${v.proxy >= 1 ? ` + proxy ${v.proxy}` : ''}`;
      };
      return `userspace (${u.placement === 'pinned' ? 'client and backend on CPU 0, relay on CPU 1' : 'processes share the CPUs'}): ${n('proxiedRps')} req/s vs direct ${n('directRps')} req/s = ${(n('throughputRatio') * 100).toFixed(0)}% (target >= ${TARGETS.userspaceThroughput * 100}%${flag(n('throughputRatio') < TARGETS.userspaceThroughput)}); p99 ${n('proxiedP99Ms')} ms vs ${n('directP99Ms')} ms = +${n('addedP99Ms')} ms (target <= ${TARGETS.userspaceAddedP99Ms} ms${flag(n('addedP99Ms') > TARGETS.userspaceAddedP99Ms)}); CPU µs per request: direct ${c('directCpuUsPerRequest')}, proxied ${c('proxiedCpuUsPerRequest')}`;
    }),
  ];
  return { lines, json: { machine: machine(), targets: TARGETS, repeats: REPEATS, fullSync: ipt.full, oneService: ipt.one, userspace: us} };
}
