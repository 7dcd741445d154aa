import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Etcd3 } from 'etcd3';
import type { SectionOutput } from './agent.js';
import { StoreCluster, logWarnings, type StoreKind, type StoreMemberProc, type StoreProcOptions } from './store-procs.js';
import { checkAborted, cpuSeconds, envInt, machine, median, now, percentile, progress, round, sleep, statusKb } from './util.js';

/**
 * The store benchmark: `skiff store` against etcd 3.4 (Debian's /usr/bin/etcd) started on the same machine in the
 * same run, both driven through the same client code (the etcd3 npm client, raw KV calls) over the etcd v3 API.
 * Clusters run in turn: etcd x1, skiff x1, etcd x3, skiff x3 (same-size runs adjacent, so a shared machine's load
 * moves both sides of a ratio alike); with SKIFF_BENCH_STORE_ROUNDS > 1 the pairs repeat, alternating which side
 * goes first, and the table shows medians. Every member runs with production settings: same Raft timing on both sides,
 * each its own data dir (fsync on), 127.0.0.1 only.
 *
 * Per cluster:
 *  - put, 1 client: SEQ puts one after the other, to the leader;
 *  - put, CLIENTS clients (each its own gRPC connection): CONC puts, to the leader;
 *  - range: linearizable single-key gets; 1 client on a follower (the only member on 1), CLIENTS clients spread over
 *    every member (ReadIndex through the leader on followers);
 *  - watch delivery: a watcher on a follower (the only member on 1), WATCH_WRITERS writers putting WATCH values to
 *    the leader, each value carrying the writer's timestamp; latency = event received - put issued;
 *  - memory: KEYS keys loaded (txns of 100 puts), then VmRSS of every member (/proc/<pid>/status).
 * CPU seconds of the members over each phase (from /proc) are kept in the JSON, as CPU ms per operation.
 * Then per size (and round), put, 1 client, interleaved: an etcd and a Skiff cluster up side by side, INTERLEAVED
 * sequential puts to each in blocks of INTERLEAVE_BLOCK taken in turn (benchInterleavedSeqPut); the sequential put
 * target is judged on these rows.
 *
 * Environment: SKIFF_BENCH_STORE_SEQ (1000), SKIFF_BENCH_STORE_INTERLEAVED (3000 puts per side),
 * SKIFF_BENCH_STORE_INTERLEAVE_BLOCK (50), SKIFF_BENCH_STORE_CONC (5000), SKIFF_BENCH_STORE_WARMUP (3000 puts), SKIFF_BENCH_STORE_CLIENTS (64),
 * SKIFF_BENCH_STORE_WATCH (2000 events), SKIFF_BENCH_STORE_WATCH_WRITERS (4), SKIFF_BENCH_STORE_KEYS (100000),
 * SKIFF_BENCH_STORE_VALUE_BYTES (256), SKIFF_BENCH_STORE_SIZES ("1,3"), SKIFF_BENCH_STORE_ROUNDS (1: (etcd, skiff) pairs per size,
 * alternating which starts; each figure is the median over the rounds), SKIFF_BENCH_STORE_HEARTBEAT (100 ms),
 * SKIFF_BENCH_STORE_ELECTION (1000 ms), SKIFF_BENCH_SKIFF (the skiff.js to run; default dist/cli/skiff.js),
 * ETCD_BIN (default /usr/bin/etcd).
 * A quick run: SKIFF_BENCH_STORE_SEQ=200 SKIFF_BENCH_STORE_CONC=1000 SKIFF_BENCH_STORE_KEYS=10000 ...
 */

const ROOT = resolve(import.meta.dirname, '../..');

export interface StoreBenchOptions {
  seq: number;
  /** Sequential puts per side in the interleaved phase (both clusters up, blocks of INTERLEAVE_BLOCK in turn). */
  interleaved: number;
  interleaveBlock: number;
  conc: number;
  /** Puts (and ranges) of warm-up before the measured phases. */
  warmup: number;
  clients: number;
  watch: number;
  watchWriters: number;
  keys: number;
  valueBytes: number;
  sizes: number[];
  /** (etcd, skiff) pairs per size, alternating which goes first; figures are medians over the rounds. */
  rounds: number;
  heartbeatMs: number;
  electionMs: number;
  skiff: string;
  etcdBin: string;
}

export function optionsFromEnv(): StoreBenchOptions {
  const sizes = (process.env.SKIFF_BENCH_STORE_SIZES ?? '1,3')
    .split(',')
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isSafeInteger(n) && n > 0);
  return {
    seq: envInt('SKIFF_BENCH_STORE_SEQ', 1000),
    interleaved: envInt('SKIFF_BENCH_STORE_INTERLEAVED', 3000),
    interleaveBlock: envInt('SKIFF_BENCH_STORE_INTERLEAVE_BLOCK', 50),
    warmup: envInt('SKIFF_BENCH_STORE_WARMUP', 3000),
    conc: envInt('SKIFF_BENCH_STORE_CONC', 5000),
    clients: envInt('SKIFF_BENCH_STORE_CLIENTS', 64),
    watch: envInt('SKIFF_BENCH_STORE_WATCH', 2000),
    watchWriters: envInt('SKIFF_BENCH_STORE_WATCH_WRITERS', 4),
    keys: envInt('SKIFF_BENCH_STORE_KEYS', 100_000),
    valueBytes: envInt('SKIFF_BENCH_STORE_VALUE_BYTES', 256),
    sizes: sizes.length > 0 ? sizes : [1, 3],
    rounds: envInt('SKIFF_BENCH_STORE_ROUNDS', 1),
    heartbeatMs: envInt('SKIFF_BENCH_STORE_HEARTBEAT', 100),
    electionMs: envInt('SKIFF_BENCH_STORE_ELECTION', 1000),
    skiff: process.env.SKIFF_BENCH_SKIFF ? resolve(process.env.SKIFF_BENCH_SKIFF) : join(ROOT, 'dist/cli/skiff.js'),
    etcdBin: process.env.ETCD_BIN ?? '/usr/bin/etcd',
  };
}

/** The issue's targets, as Skiff/etcd ratios. */
const TARGETS = {
  /** At CLIENTS clients on 3 members: throughput >= etcd's. */
  concPutThroughputMin: 1.0,
  /** At CLIENTS clients on 3 members: p99 <= 1.5x etcd's. */
  concPutP99Max: 1.5,
  /** Sequential put latency (p50) <= 1.2x etcd's. */
  seqPutLatencyMax: 1.2,
  /** Member RSS with KEYS keys <= 1.5x etcd's. */
  rssMax: 1.5,
};

// ---- measurement -------------------------------------------------------------------------------------------------

interface Phase {
  ops: number;
  wallMs: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  firstError?: string;
  /** CPU used by all members together over the phase, ms per operation. */
  memberCpuMsPerOp: number;
  /**
   * CPU of this (client) process over the phase: ms per operation, and % of one core. The client is single-threaded
   * Node: near 100 % it, not the server, limits throughput (true of both sides alike).
   */
  clientCpuMsPerOp: number;
  clientCpuPercent: number;
  /** Set when the phase ended with another leader than the cluster started with. */
  leaderChangedTo?: string;
  /** Per member: write syscalls (files and sockets) and bytes written to storage (/proc/<pid>/io), per operation. */
  memberIo?: Array<{ member: string; syscwPerOp: number; writeBytesPerOp: number }>;
}

function procIo(pid: number): { syscw: number; writeBytes: number } {
  try {
    const text = readFileSync(`/proc/${pid}/io`, 'utf8');
    const field = (f: string): number => Number(new RegExp(`^${f}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN);
    return { syscw: field('syscw'), writeBytes: field('write_bytes') };
  } catch {
    return { syscw: Number.NaN, writeBytes: Number.NaN };
  }
}

/** Member CPU and I/O counters before a phase; `end` turns them into per-op figures. */
function meter(cluster: StoreCluster): (ops: number) => Pick<Phase, 'memberCpuMsPerOp' | 'memberIo' | 'clientCpuMsPerOp' | 'clientCpuPercent'> {
  const pids = cluster.members.map((m) => m.pid);
  const cpu0 = pids.map((p) => cpuSeconds(p));
  const io0 = pids.map((p) => procIo(p));
  const self0 = process.cpuUsage();
  const t0 = now();
  return (ops) => {
    const cpu = pids.reduce((sum, p, i) => sum + cpuSeconds(p) - (cpu0[i] as number), 0);
    const self = process.cpuUsage(self0);
    const selfMs = (self.user + self.system) / 1000;
    return {
      memberCpuMsPerOp: round((cpu * 1000) / Math.max(1, ops), 3),
      clientCpuMsPerOp: round(selfMs / Math.max(1, ops), 3),
      clientCpuPercent: round((selfMs / (now() - t0)) * 100, 1),
      memberIo: pids.map((p, i) => {
        const a = io0[i] as { syscw: number; writeBytes: number };
        const b = procIo(p);
        return {
          member: (cluster.members[i] as StoreMemberProc).name,
          syscwPerOp: round((b.syscw - a.syscw) / Math.max(1, ops), 3),
          writeBytesPerOp: Math.round((b.writeBytes - a.writeBytes) / Math.max(1, ops)),
        };
      }),
    };
  };
}

const CALL_TIMEOUT_MS = 30_000;

/** An etcd client on a connection of its own. */
export function newClient(endpoint: string): Etcd3 {
  return new Etcd3({
    hosts: endpoint,
    dialTimeout: 5000,
    // One connection per client (grpc-js would otherwise share one subchannel among clients to the same address).
    grpcOptions: { 'grpc.use_local_subchannel_pool': 1 },
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + CALL_TIMEOUT_MS }),
  });
}

/**
 * Runs `n` operations over `workers` concurrent loops (worker w always uses client w). Per-op latency from issue to
 * answer; failed operations are counted, not timed. Stops early after 50 errors.
 */
async function drive(n: number, clients: Etcd3[], op: (i: number, client: Etcd3) => Promise<unknown>): Promise<Omit<Phase, 'memberCpuMsPerOp' | 'memberIo' | 'clientCpuMsPerOp' | 'clientCpuPercent'>> {
  const lat: number[] = [];
  let next = 0;
  let errors = 0;
  let firstError: string | undefined;
  const t0 = now();
  await Promise.all(
    clients.map(async (client) => {
      while (next < n && errors < 50) {
        checkAborted();
        const i = next++;
        const t = now();
        try {
          await op(i, client);
          lat.push(now() - t);
        } catch (err) {
          errors++;
          firstError ??= err instanceof Error ? err.message : String(err);
        }
      }
    }),
  );
  const wallMs = now() - t0;
  if (errors >= 50) throw new Error(`too many errors (${errors}); first: ${firstError}`);
  return {
    ops: lat.length,
    wallMs: round(wallMs, 1),
    opsPerSec: round((lat.length / wallMs) * 1000, 1),
    p50Ms: round(percentile(lat, 50)),
    p99Ms: round(percentile(lat, 99)),
    maxMs: round(Math.max(...lat)),
    errors,
    ...(firstError !== undefined ? { firstError } : {}),
  };
}

const keyBuf = (prefix: string, i: number): Buffer => Buffer.from(`/bench/${prefix}/${String(i).padStart(8, '0')}`);

function valueBuf(bytes: number, tag: string): Buffer {
  const b = Buffer.alloc(bytes, 'x');
  b.write(tag.slice(0, bytes));
  return b;
}

interface ClusterResult {
  kind: StoreKind;
  size: number;
  leader: string;
  pids: Record<string, number>;
  startMs: number;
  /** CPU of all members together with no client traffic, % of one core. */
  idleCpuPercent: number;
  putSeq: Phase;
  putConc: Phase;
  rangeSeq: Phase;
  rangeConc: Phase;
  watch: Phase & { watcherOn: string; afterAckP50Ms: number; afterAckP99Ms: number; missed: number; duplicates: number };
  load: { keys: number; wallMs: number; keysPerSec: number; memberCpuMsPerKey: number };
  rss: Array<{ member: string; rssMb: number; samplesMb: number[]; hwmMb: number }>;
  maxRssMb: number;
  logWarnings: Record<string, string[]>;
}

async function benchCluster(kind: StoreKind, size: number, o: StoreBenchOptions): Promise<ClusterResult> {
  const procOpts: StoreProcOptions = { etcdBin: o.etcdBin, skiff: o.skiff, heartbeatMs: o.heartbeatMs, electionMs: o.electionMs };
  const tStart = now();
  progress(`store: starting ${kind} x${size}...`);
  const cluster = await StoreCluster.start(kind, size, procOpts);
  const startMs = now() - tStart;
  const clients: Etcd3[] = [];
  const open = (endpoint: string): Etcd3 => {
    const c = newClient(endpoint);
    clients.push(c);
    return c;
  };
  const tag = `${kind} x${size}`;
  try {
    const leader = await cluster.waitLeader(30_000);
    const follower = cluster.members.find((m) => m !== leader) ?? leader;
    progress(`store: ${tag} up in ${(startMs / 1000).toFixed(2)} s; leader ${leader.name} (pids ${cluster.members.map((m) => m.pid).join(', ')})`);
    const value = valueBuf(o.valueBytes, 'v');
    // Idle: what the members cost with no client traffic (heartbeats, ticks), over 4 s (CPU is counted in clock
    // ticks of 10 ms: 0.25 % steps).
    const idleMeter = meter(cluster);
    await sleep(4000);
    const idleCpuPercent = round(idleMeter(1).memberCpuMsPerOp / 40, 2);

    // Clients: CLIENTS to the leader (puts), CLIENTS spread over the members (ranges), one watcher on a follower.
    const leaderClients = Array.from({ length: o.clients }, () => open(leader.endpoint));
    const spreadClients = Array.from({ length: o.clients }, (_, i) => open((cluster.members[i % size] as StoreMemberProc).endpoint));
    const seqClient = leaderClients[0] as Etcd3;
    const seqRangeClient = open(follower.endpoint);

    // Warm-up: every connection once, then WARMUP puts and ranges from 8 clients and a fifth of that one at a time.
    // V8 optimises a function only after thousands of calls: after 200 puts, a Skiff member still ran the put path
    // mostly unoptimised (1.2 ms of user CPU per sequential put against 0.45 ms once warm), which measured the JIT
    // rather than the store. etcd is compiled ahead of time and gets the same warm-up.
    progress(`store: ${tag}: warm-up (every connection, ${o.warmup} puts and ranges from 8 clients, ${Math.ceil(o.warmup / 5)} one at a time)`);
    await drive(o.clients, leaderClients, (i, c) => c.kv.put({ key: keyBuf('warm', i), value }));
    await drive(o.clients, spreadClients, (i, c) => c.kv.range({ key: keyBuf('warm', i) }));
    await seqRangeClient.kv.range({ key: keyBuf('warm', 0) });
    await drive(o.warmup, leaderClients.slice(0, 8), (i, c) => c.kv.put({ key: keyBuf('warm', i), value }));
    await drive(Math.ceil(o.warmup / 5), [seqClient], (i, c) => c.kv.put({ key: keyBuf('warm', i), value }));
    await drive(o.warmup, spreadClients.slice(0, 8), (i, c) => c.kv.range({ key: keyBuf('warm', i) }));
    await drive(Math.ceil(o.warmup / 5), [seqRangeClient], (i, c) => c.kv.range({ key: keyBuf('warm', i) }));

    const phase = async (name: string, n: number, cs: Etcd3[], op: (i: number, c: Etcd3) => Promise<unknown>): Promise<Phase> => {
      checkAborted();
      const m = meter(cluster);
      const r = await drive(n, cs, op);
      const p: Phase = { ...r, ...m(r.ops) };
      // A leader change under load would send the phase's writes through a forwarding follower: say so.
      const after = await cluster.waitLeader(15_000);
      if (after !== leader) {
        p.leaderChangedTo = after.name;
        progress(`store: ${tag}: ${name}: the leader changed from ${leader.name} to ${after.name} during the phase`);
      }
      progress(`store: ${tag}: ${name}: ${p.ops} ops, ${p.opsPerSec.toFixed(0)}/s, p50 ${p.p50Ms.toFixed(2)} ms, p99 ${p.p99Ms.toFixed(2)} ms, member CPU ${p.memberCpuMsPerOp.toFixed(2)} ms/op, client CPU ${p.clientCpuPercent.toFixed(0)} %`);
      return p;
    };

    const putSeq = await phase('put, 1 client', o.seq, [seqClient], (i, c) => c.kv.put({ key: keyBuf('seq', i), value }));
    const putConc = await phase(`put, ${o.clients} clients`, o.conc, leaderClients, (i, c) => c.kv.put({ key: keyBuf('conc', i), value }));
    const rangeSeq = await phase('range, 1 client', o.seq, [seqRangeClient], (i, c) => c.kv.range({ key: keyBuf('seq', i % o.seq) }));
    const rangeConc = await phase(`range, ${o.clients} clients`, o.conc, spreadClients, (i, c) => c.kv.range({ key: keyBuf('conc', i % o.conc) }));

    // Watch delivery: writer timestamps (ms on this process's monotonic clock) in the values.
    checkAborted();
    const watcherClient = open(follower.endpoint);
    const delivered = new Map<number, number>();
    /** When each event arrived and when its put was acknowledged: the event's lag behind the ack (the fan-out part). */
    const arrivedAt = new Map<number, number>();
    const ackedAt = new Map<number, number>();
    let duplicates = 0;
    let lastAt = 0;
    let allSeen: (() => void) | undefined;
    const seen = new Promise<void>((r) => (allSeen = r));
    const watcher = await watcherClient.watch().prefix('/bench/watch/').create();
    watcher.on('put', (kv) => {
      const at = now();
      const text = kv.value.toString('latin1');
      const sep = text.indexOf('|');
      const i = Number(text.slice(0, sep));
      const t = Number(text.slice(sep + 1, text.indexOf('|', sep + 1)));
      if (delivered.has(i)) duplicates++;
      else {
        delivered.set(i, at - t);
        arrivedAt.set(i, at);
      }
      lastAt = at;
      if (delivered.size >= o.watch) allSeen?.();
    });
    const m = meter(cluster);
    const w0 = now();
    const writers = leaderClients.slice(0, o.watchWriters);
    const writes = await drive(o.watch, writers, async (i, c) => {
      await c.kv.put({ key: keyBuf('watch', i), value: valueBuf(o.valueBytes, `${i}|${now()}|`) });
      ackedAt.set(i, now());
    });
    await Promise.race([seen, sleep(10_000)]);
    await watcher.cancel();
    const lats = [...delivered.values()];
    const afterAck = [...arrivedAt].flatMap(([i, at]) => (ackedAt.has(i) ? [at - (ackedAt.get(i) as number)] : []));
    const wallMs = (lastAt || now()) - w0;
    const watch = {
      ops: lats.length,
      wallMs: round(wallMs, 1),
      opsPerSec: round((lats.length / wallMs) * 1000, 1),
      p50Ms: round(percentile(lats, 50)),
      p99Ms: round(percentile(lats, 99)),
      maxMs: round(Math.max(...lats)),
      errors: writes.errors,
      ...m(lats.length),
      watcherOn: follower.name,
      // Event received minus put acknowledged (negative: the event came first); its p50 shows the watch fan-out cost
      // apart from the commit.
      afterAckP50Ms: round(percentile(afterAck, 50)),
      afterAckP99Ms: round(percentile(afterAck, 99)),
      missed: o.watch - writes.errors - lats.length,
      duplicates,
    };
    progress(`store: ${tag}: watch delivery (watcher on ${follower.name}): ${watch.ops} events, ${watch.opsPerSec.toFixed(0)}/s, p50 ${watch.p50Ms.toFixed(2)} ms, p99 ${watch.p99Ms.toFixed(2)} ms (after the put's ack: p50 ${watch.afterAckP50Ms.toFixed(2)} ms), missed ${watch.missed}`);

    // Memory with KEYS keys: txns of 100 puts from 8 clients.
    checkAborted();
    progress(`store: ${tag}: loading ${o.keys} keys...`);
    const batch = 100;
    const lm = meter(cluster);
    const loaded = await drive(Math.ceil(o.keys / batch), leaderClients.slice(0, 8), (b, c) =>
      c.kv.txn({
        success: Array.from({ length: Math.min(batch, o.keys - b * batch) }, (_, j) => ({ request_put: { key: keyBuf('load', b * batch + j), value } })),
      }),
    );
    const load = {
      keys: o.keys,
      wallMs: loaded.wallMs,
      keysPerSec: round((o.keys / loaded.wallMs) * 1000, 1),
      memberCpuMsPerKey: lm(o.keys).memberCpuMsPerOp,
    };
    // Every member has applied the load (a linearizable read through each), then a moment for the heap to settle.
    for (const mem of cluster.members) await open(mem.endpoint).kv.range({ key: keyBuf('load', o.keys - 1) });
    // RSS moves with garbage collection: the median of 5 readings 1 s apart, after 2 s of quiet.
    await sleep(2000);
    const samples: number[][] = cluster.members.map(() => []);
    for (let k = 0; k < 5; k++) {
      if (k > 0) await sleep(1000);
      cluster.members.forEach((mem, j) => samples[j]?.push(statusKb(mem.pid, 'VmRSS')));
    }
    const rss = cluster.members.map((mem, j) => ({
      member: mem.name,
      rssMb: round(median(samples[j] as number[]) / 1024, 1),
      samplesMb: (samples[j] as number[]).map((kb) => round(kb / 1024, 1)),
      hwmMb: round(statusKb(mem.pid, 'VmHWM') / 1024, 1),
    }));
    const maxRssMb = Math.max(...rss.map((r) => r.rssMb));
    progress(`store: ${tag}: ${o.keys} keys in ${(load.wallMs / 1000).toFixed(1)} s; RSS ${rss.map((r) => `${r.member} ${r.rssMb} MB`).join(', ')}`);

    return {
      kind,
      size,
      leader: leader.name,
      pids: Object.fromEntries(cluster.members.map((mem) => [mem.name, mem.pid])),
      startMs: round(startMs, 1),
      idleCpuPercent,
      putSeq,
      putConc,
      rangeSeq,
      rangeConc,
      watch,
      load,
      rss,
      maxRssMb,
      logWarnings: Object.fromEntries(cluster.members.map((mem) => [mem.name, logWarnings(mem)])),
    };
  } catch (err) {
    if (err instanceof Error) err.message += `\n${cluster.members.map((mem) => `--- ${mem.name} log tail:\n${mem.logTail(10)}`).join('\n')}`;
    throw err;
  } finally {
    for (const c of clients) c.close();
    progress(`store: stopping ${tag}`);
    await cluster.stop();
  }
}

interface InterleavedSide {
  leader: string;
  ops: number;
  p50Ms: number;
  p99Ms: number;
  /** Member CPU over the interleaved puts (both clusters idle while the other side runs: heartbeats only). */
  memberCpuMsPerOp: number;
}

interface InterleavedResult {
  size: number;
  block: number;
  skiff: InterleavedSide;
  etcd: InterleavedSide;
  /** skiff/etcd of each block pair's median latency, then the median and range of those ratios. */
  blockRatioMedian: number;
  blockRatioP10: number;
  blockRatioP90: number;
}

/**
 * Sequential put, interleaved: etcd and Skiff clusters of the same size up side by side, one client to each leader,
 * blocks of BLOCK puts in turn (each pair of blocks alternating which side goes first). On this kind of shared VM the
 * same cluster's sequential p50 moves by a third from one minute to the next (fsync and scheduling), which the
 * clusters-in-turn phases cannot tell from a real difference; blocks a fraction of a second apart see the same
 * machine. The idle side costs its heartbeats only, alike for both.
 */
export async function benchInterleavedSeqPut(size: number, o: StoreBenchOptions): Promise<InterleavedResult> {
  const procOpts: StoreProcOptions = { etcdBin: o.etcdBin, skiff: o.skiff, heartbeatMs: o.heartbeatMs, electionMs: o.electionMs };
  const kinds: StoreKind[] = ['etcd', 'skiff'];
  const clusters = new Map<StoreKind, StoreCluster>();
  const clients: Etcd3[] = [];
  const tag = `x${size} interleaved`;
  try {
    for (const kind of kinds) {
      progress(`store: ${tag}: starting ${kind} x${size}...`);
      clusters.set(kind, await StoreCluster.start(kind, size, procOpts));
    }
    const value = valueBuf(o.valueBytes, 'v');
    const sides = new Map<StoreKind, { cluster: StoreCluster; leader: StoreMemberProc; seq: Etcd3; lat: number[]; blockMedians: number[] }>();
    for (const kind of kinds) {
      const cluster = clusters.get(kind) as StoreCluster;
      const leader = await cluster.waitLeader(30_000);
      const warm = Array.from({ length: 8 }, () => newClient(leader.endpoint));
      clients.push(...warm);
      // The same warm-up as the clusters-in-turn phases (V8 optimises the put path only after thousands of calls).
      progress(`store: ${tag}: ${kind} warm-up (${o.warmup} puts from 8 clients, ${Math.ceil(o.warmup / 5)} one at a time)`);
      await drive(o.warmup, warm, (i, c) => c.kv.put({ key: keyBuf('warm', i), value }));
      await drive(Math.ceil(o.warmup / 5), [warm[0] as Etcd3], (i, c) => c.kv.put({ key: keyBuf('warm', i), value }));
      sides.set(kind, { cluster, leader, seq: warm[0] as Etcd3, lat: [], blockMedians: [] });
    }
    const blocks = Math.max(1, Math.ceil(o.interleaved / o.interleaveBlock));
    progress(`store: ${tag}: ${blocks} blocks of ${o.interleaveBlock} sequential puts per side, in turn`);
    const meters = new Map(kinds.map((k) => [k, meter(sides.get(k)?.cluster as StoreCluster)]));
    for (let b = 0; b < blocks; b++) {
      checkAborted();
      for (const kind of b % 2 === 0 ? kinds : [...kinds].reverse()) {
        const side = sides.get(kind) as NonNullable<ReturnType<typeof sides.get>>;
        const block: number[] = [];
        for (let j = 0; j < o.interleaveBlock; j++) {
          const t = now();
          await side.seq.kv.put({ key: keyBuf('iseq', b * o.interleaveBlock + j), value });
          block.push(now() - t);
        }
        side.lat.push(...block);
        side.blockMedians.push(median(block));
      }
    }
    const result = {} as Record<StoreKind, InterleavedSide>;
    for (const kind of kinds) {
      const side = sides.get(kind) as NonNullable<ReturnType<typeof sides.get>>;
      const after = await side.cluster.waitLeader(15_000);
      if (after !== side.leader) throw new Error(`${kind} x${size}: the leader changed from ${side.leader.name} to ${after.name} during the interleaved puts`);
      result[kind] = {
        leader: side.leader.name,
        ops: side.lat.length,
        p50Ms: round(percentile(side.lat, 50)),
        p99Ms: round(percentile(side.lat, 99)),
        memberCpuMsPerOp: (meters.get(kind) as ReturnType<typeof meter>)(side.lat.length).memberCpuMsPerOp,
      };
    }
    const s = sides.get('skiff')?.blockMedians as number[];
    const e = sides.get('etcd')?.blockMedians as number[];
    const ratios = s.map((x, i) => x / (e[i] as number));
    const out: InterleavedResult = {
      size,
      block: o.interleaveBlock,
      skiff: result.skiff,
      etcd: result.etcd,
      blockRatioMedian: round(median(ratios), 3),
      blockRatioP10: round(percentile(ratios, 10), 3),
      blockRatioP90: round(percentile(ratios, 90), 3),
    };
    progress(
      `store: ${tag}: put, 1 client: skiff p50 ${out.skiff.p50Ms.toFixed(2)} ms, p99 ${out.skiff.p99Ms.toFixed(2)} ms; etcd p50 ${out.etcd.p50Ms.toFixed(2)} ms, p99 ${out.etcd.p99Ms.toFixed(2)} ms; per-block p50 ratio median ${out.blockRatioMedian.toFixed(2)}x (p10 ${out.blockRatioP10.toFixed(2)}x, p90 ${out.blockRatioP90.toFixed(2)}x)`,
    );
    return out;
  } finally {
    for (const c of clients) c.close();
    for (const [kind, cluster] of clusters) {
      progress(`store: ${tag}: stopping ${kind} x${size}`);
      await cluster.stop();
    }
  }
}

// ---- output ------------------------------------------------------------------------------------------------------

interface Row {
  figure: string;
  size: number;
  skiff: number;
  etcd: number;
  unit: string;
  /** 'max': lower is better, target is an upper bound on skiff/etcd; 'min': higher is better. */
  sense: 'max' | 'min';
  target?: number;
}

/** skiff/etcd; undefined when a side is not positive (e.g. an event that arrives before its put's ack). */
function ratioOf(r: Row): number | undefined {
  return r.skiff > 0 && r.etcd > 0 ? r.skiff / r.etcd : undefined;
}

function rowText(r: Row, w: number): string {
  const ratio = ratioOf(r);
  const fmt = (x: number): string => (x >= 100 ? x.toFixed(0) : x.toFixed(2)).padStart(9);
  let target = '';
  if (r.target !== undefined && ratio !== undefined) {
    const ok = r.sense === 'max' ? ratio <= r.target : ratio >= r.target;
    target = `  target ${r.sense === 'max' ? '<=' : '>='} ${r.target.toFixed(2)}x${ok ? '' : ', MISSED'}`;
  }
  return `${r.figure.padEnd(w)} ${String(r.size).padStart(2)}  ${fmt(r.skiff)} ${fmt(r.etcd)} ${r.unit.padEnd(6)} ${ratio === undefined ? '     n/a' : `${ratio.toFixed(2).padStart(6)}x`}${target}`;
}

function rowsFor(size: number, s: ClusterResult, e: ClusterResult, o: StoreBenchOptions): Row[] {
  const rows: Row[] = [];
  const latency = (figure: string, a: Phase, b: Phase, target?: { p50?: number; p99?: number }): void => {
    rows.push({ figure: `${figure} p50`, size, skiff: a.p50Ms, etcd: b.p50Ms, unit: 'ms', sense: 'max', ...(target?.p50 !== undefined ? { target: target.p50 } : {}) });
    rows.push({ figure: `${figure} p99`, size, skiff: a.p99Ms, etcd: b.p99Ms, unit: 'ms', sense: 'max', ...(target?.p99 !== undefined ? { target: target.p99 } : {}) });
  };
  const tput = (figure: string, a: Phase, b: Phase, target?: number): void => {
    rows.push({ figure: `${figure} throughput`, size, skiff: a.opsPerSec, etcd: b.opsPerSec, unit: 'ops/s', sense: 'min', ...(target !== undefined ? { target } : {}) });
  };
  tput('put, 1 client', s.putSeq, e.putSeq);
  // The target is judged on the interleaved phase (interleavedRows), which the machine's drift cannot tilt.
  latency('put, 1 client', s.putSeq, e.putSeq);
  const onThree = size === 3;
  tput(`put, ${o.clients} clients`, s.putConc, e.putConc, onThree ? TARGETS.concPutThroughputMin : undefined);
  latency(`put, ${o.clients} clients`, s.putConc, e.putConc, onThree ? { p99: TARGETS.concPutP99Max } : undefined);
  tput('range, 1 client', s.rangeSeq, e.rangeSeq);
  latency('range, 1 client', s.rangeSeq, e.rangeSeq);
  tput(`range, ${o.clients} clients`, s.rangeConc, e.rangeConc);
  latency(`range, ${o.clients} clients`, s.rangeConc, e.rangeConc);
  rows.push({ figure: `watch delivery (${o.watchWriters} writers)`, size, skiff: s.watch.opsPerSec, etcd: e.watch.opsPerSec, unit: 'ev/s', sense: 'min' });
  latency('watch delivery', s.watch, e.watch);
  rows.push({ figure: 'watch event after put ack p50', size, skiff: s.watch.afterAckP50Ms, etcd: e.watch.afterAckP50Ms, unit: 'ms', sense: 'max' });
  rows.push({ figure: `load ${o.keys} keys (txns of 100)`, size, skiff: s.load.keysPerSec, etcd: e.load.keysPerSec, unit: 'keys/s', sense: 'min' });
  rows.push({ figure: `max member RSS, ${o.keys} keys`, size, skiff: s.maxRssMb, etcd: e.maxRssMb, unit: 'MB', sense: 'max', target: TARGETS.rssMax });
  rows.push({ figure: 'members idle CPU (% of a core)', size, skiff: s.idleCpuPercent, etcd: e.idleCpuPercent, unit: '%', sense: 'max' });
  rows.push({ figure: 'member CPU per put (64 clients)', size, skiff: s.putConc.memberCpuMsPerOp, etcd: e.putConc.memberCpuMsPerOp, unit: 'ms', sense: 'max' });
  rows.push({ figure: 'member CPU per range (64 clients)', size, skiff: s.rangeConc.memberCpuMsPerOp, etcd: e.rangeConc.memberCpuMsPerOp, unit: 'ms', sense: 'max' });
  return rows;
}

function interleavedRows(r: InterleavedResult): Row[] {
  const figure = `put, 1 client, interleaved`;
  return [
    { figure: `${figure} p50`, size: r.size, skiff: r.skiff.p50Ms, etcd: r.etcd.p50Ms, unit: 'ms', sense: 'max', target: TARGETS.seqPutLatencyMax },
    { figure: `${figure} p99`, size: r.size, skiff: r.skiff.p99Ms, etcd: r.etcd.p99Ms, unit: 'ms', sense: 'max' },
    { figure: 'member CPU per put (1 client, interleaved)', size: r.size, skiff: r.skiff.memberCpuMsPerOp, etcd: r.etcd.memberCpuMsPerOp, unit: 'ms', sense: 'max' },
  ];
}

/** Rounds of the same rows: each figure the median over the rounds, per side. */
function medianRows(perRound: Row[][]): Row[] {
  const first = perRound[0] as Row[];
  return first.map((r, i) => ({
    ...r,
    skiff: median(perRound.map((rs) => (rs[i] as Row).skiff)),
    etcd: median(perRound.map((rs) => (rs[i] as Row).etcd)),
  }));
}

// ---- the section -------------------------------------------------------------------------------------------------

export async function storeBench(overrides: Partial<StoreBenchOptions> = {}): Promise<SectionOutput> {
  const o = { ...optionsFromEnv(), ...overrides };
  for (const f of [o.skiff, o.etcdBin]) {
    try {
      readFileSync(f);
    } catch {
      throw new Error(`${f} is missing${f === o.skiff ? ': run "npm run build"' : ' (apt-get install etcd-server, or set ETCD_BIN)'}`);
    }
  }
  const startMachine = machine();
  progress(`store: settings ${JSON.stringify({ ...o, skiff: undefined })}`);
  const results: ClusterResult[] = [];
  const interleaved: InterleavedResult[] = [];
  const rows: Row[] = [];
  for (const size of o.sizes) {
    // Rounds alternate which side goes first; each figure is then the median over the rounds, per side.
    const perRound: Row[][] = [];
    for (let round = 0; round < o.rounds; round++) {
      if (o.rounds > 1) progress(`store: ${size} member(s), round ${round + 1}/${o.rounds}`);
      const order: StoreKind[] = round % 2 === 0 ? ['etcd', 'skiff'] : ['skiff', 'etcd'];
      const got: Partial<Record<StoreKind, ClusterResult>> = {};
      for (const kind of order) {
        const r = await benchCluster(kind, size, o);
        results.push(r);
        got[kind] = r;
      }
      perRound.push(rowsFor(size, got.skiff as ClusterResult, got.etcd as ClusterResult, o));
    }
    rows.push(...medianRows(perRound));
    // The interleaved phase repeats with fresh clusters per round too: which process lands where differs between
    // cluster instances (1.1x-1.3x between single runs here), which no interleaving within one run can even out.
    const interRounds: Row[][] = [];
    for (let round = 0; round < o.rounds; round++) {
      const inter = await benchInterleavedSeqPut(size, o);
      interleaved.push(inter);
      interRounds.push(interleavedRows(inter));
    }
    rows.push(...medianRows(interRounds));
  }
  const w = Math.max(...rows.map((r) => r.figure.length));
  const header = `${'figure'.padEnd(w)} ${'n'.padStart(2)}  ${'skiff'.padStart(9)} ${'etcd'.padStart(9)} ${'unit'.padEnd(6)} ${'ratio'.padStart(7)}  (skiff/etcd; n = members)`;
  const lines = [header, ...rows.map((r) => rowText(r, w))];
  if (o.rounds > 1) lines.push(`(medians over ${o.rounds} rounds per size)`);
  for (const r of interleaved) {
    lines.push(
      `interleaved, ${r.size} member(s): ${r.skiff.ops} sequential puts per side in blocks of ${r.block}, both clusters up; per-block p50 ratio median ${r.blockRatioMedian.toFixed(2)}x (p10 ${r.blockRatioP10.toFixed(2)}x, p90 ${r.blockRatioP90.toFixed(2)}x)`,
    );
  }
  lines.push(
    `targets (issue 3): at ${o.clients} clients on 3 members throughput >= 1.0x and p99 <= ${TARGETS.concPutP99Max}x etcd; sequential put latency <= ${TARGETS.seqPutLatencyMax}x (judged interleaved); member RSS <= ${TARGETS.rssMax}x with the same keys`,
  );
  return {
    lines,
    json: {
      section: 'store',
      at: new Date().toISOString(),
      machine: { start: startMachine, end: machine() },
      settings: o,
      targets: TARGETS,
      summary: rows.map((r) => {
        const ratio = ratioOf(r);
        return { ...r, ratio: ratio === undefined ? null : round(ratio, 3) };
      }),
      clusters: results,
      interleaved,
    },
  };
}
