import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRecord } from '../../../control/store/wal/record.js';
import { ELECTION_MS, HEARTBEAT_MS, ProcCluster, buildEntry, poll, sleep, type Member } from './harness.js';

/** Where a WAL segment's records end, and where its last record starts (its first, a crc record, has its own seed). */
function writtenEnd(bytes: Uint8Array): { end: number; last: number } {
  let off = 0;
  let last = 0;
  let crc = 0;
  for (;;) {
    const r = decodeRecord(bytes, off, crc);
    if (r.kind !== 'ok') return { end: off, last };
    crc = r.crc;
    last = off;
    off = r.next;
  }
}

/**
 * Three real `skiff store` processes on 127.0.0.1, driven through the etcd3 npm client and etcdctl. The tests run
 * in order on one cluster: failover under writes, catch-up from a snapshot, a torn WAL tail, a corrupt segment.
 */
const run = promisify(execFile);
const ETCDCTL = '/usr/bin/etcdctl';

let cluster: ProcCluster;
/** Every write the cluster acknowledged, key -> value. */
const acked = new Map<string, string>();

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms))]);
}

async function putAll(client: Etcd3, prefix: string, n: number, concurrency = 10): Promise<void> {
  for (let i = 0; i < n; i += concurrency) {
    await Promise.all(
      Array.from({ length: Math.min(concurrency, n - i) }, async (_, j) => {
        const key = `${prefix}${i + j}`;
        await withTimeout(client.put(key).value(`v${i + j}`).exec(), 20_000);
        acked.set(key, `v${i + j}`);
      }),
    );
  }
}

async function expectAcked(m: Member): Promise<void> {
  const all = await withTimeout(m.client!.getAll().prefix('/').strings(), 20_000);
  const missing = [...acked].filter(([k, v]) => all[k] !== v);
  expect(missing.slice(0, 5), `${m.name} is missing ${missing.length} of ${acked.size} acknowledged writes`).toEqual([]);
}

async function caughtUp(m: Member, leader: Member): Promise<void> {
  const target = (await leader.status()).raftIndex;
  try {
    await poll(async () => ((await m.status()).applied >= target ? true : undefined), `${m.name} to apply up to ${target}`, 60_000, 50);
  } catch (err) {
    // The member's own log says why it is not there (it may have exited at start).
    throw new Error(`${(err as Error).message}\n--- last lines of ${m.name}'s log ---\n${m.logTail(40)}`);
  }
}

beforeAll(async () => {
  await buildEntry();
  cluster = await ProcCluster.create(['m1', 'm2', 'm3']);
  for (const m of cluster.members) m.start();
}, 240_000);

afterAll(async () => {
  await cluster?.close();
});

describe('skiff store: a three-process cluster', () => {
  it('elects a leader and serves the etcd API on every member', async () => {
    try {
      const started = Date.now();
      const lead = await cluster.leader(cluster.members, 30_000);
      console.log(`initial leader ${lead.name} after ${Date.now() - started} ms`);
      const follower = cluster.members.find((m) => m !== lead)!;
      // A watch on a follower sees a write made through the leader.
      const watcher = await follower.client!.watch().key('/hello').create();
      const seen = new Promise<string>((resolve) => watcher.on('put', (kv) => resolve(kv.value.toString())));
      await lead.client!.put('/hello').value('world');
      expect(await withTimeout(seen, 10_000)).toBe('world');
      await watcher.cancel();
      for (const m of cluster.members) expect(await m.client!.get('/hello').string()).toBe('world');
      acked.set('/hello', 'world');
      // A lease granted and kept alive through a follower (keep-alives are forwarded to the leader).
      const lease = follower.client!.lease(2, { autoKeepAlive: false });
      await lease.put('/leased').value('x');
      for (let i = 0; i < 3; i++) {
        await sleep(1000);
        await lease.keepaliveOnce();
      }
      expect(await lead.client!.get('/leased').string()).toBe('x');
      await poll(async () => ((await lead.client!.get('/leased').string()) === null ? true : undefined), 'lease expiry', 15_000, 200);
      if (existsSync(ETCDCTL)) {
        const env = { ...process.env, ETCDCTL_API: '3' };
        const endpoints = `--endpoints=${cluster.members.map((m) => m.endpoint).join(',')}`;
        const list = await run(ETCDCTL, [endpoints, 'member', 'list', '-w', 'json'], { env });
        const members = (JSON.parse(list.stdout) as { members: Array<{ name: string; clientURLs?: string[] }> }).members;
        expect(members.map((m) => m.name).sort()).toEqual(['m1', 'm2', 'm3']);
        const status = await run(ETCDCTL, [endpoints, 'endpoint', 'status', '-w', 'json'], { env });
        const rows = JSON.parse(status.stdout) as Array<{ Status: { leader: number | string; raft_term: number } }>;
        expect(new Set(rows.map((r) => String(r.Status.leader))).size).toBe(1);
        const got = await run(ETCDCTL, [`--endpoints=${cluster.members[2]!.endpoint}`, 'get', '/hello', '--print-value-only'], { env });
        expect(got.stdout.trim()).toBe('world');
      }
    } catch (err) {
      for (const m of cluster.members) console.log(`--- ${m.name}\n${m.logTail()}`);
      throw err;
    }
  });

  it("serves etcd's metrics and health on --listen-metrics-urls", async () => {
    const lead = await cluster.leader(cluster.members, 30_000);
    const get = async (m: Member, path: string): Promise<{ status: number; text: string }> => {
      const res = await fetch(`http://127.0.0.1:${m.metricsPort}${path}`);
      return { status: res.status, text: await res.text() };
    };
    const sample = (text: string, name: string): number => {
      const line = text.split('\n').find((l) => l.startsWith(`${name} `));
      if (line === undefined) throw new Error(`no ${name} in /metrics`);
      return Number(line.slice(name.length + 1));
    };
    await lead.client!.put('/metrics-probe').value('x');
    for (const m of cluster.members) {
      expect(await get(m, '/health')).toEqual({ status: 200, text: '{"health":"true","reason":""}' });
      const { status, text } = await get(m, '/metrics');
      expect(status).toBe(200);
      expect(sample(text, 'etcd_server_has_leader')).toBe(1);
      expect(sample(text, 'etcd_server_is_leader')).toBe(m === lead ? 1 : 0);
      expect(sample(text, 'etcd_server_leader_changes_seen_total')).toBeGreaterThanOrEqual(1);
      // Every member appends the entries to its own WAL, and fsyncs it.
      expect(sample(text, 'etcd_disk_wal_fsync_duration_seconds_count')).toBeGreaterThan(0);
      expect(sample(text, 'etcd_disk_wal_write_bytes_total')).toBeGreaterThan(0);
      expect(sample(text, 'etcd_server_proposals_applied_total')).toBeGreaterThan(0);
      expect(text).toMatch(/^etcd_disk_wal_fsync_duration_seconds_bucket\{le="0\.001"\} \d+$/m);
    }
    expect((await get(lead, '/nothing')).status).toBe(404);
  });

  let killed: Member;

  it('SIGKILL of the leader under concurrent writes: every acknowledged write survives the election', async () => {
    const lead = await cluster.leader(cluster.members);
    const survivors = cluster.members.filter((m) => m !== lead);
    let stop = false;
    let failures = 0;
    let written = 0;
    const workers = cluster.members.flatMap((m, mi) =>
      [0, 1].map(async (w) => {
        for (let i = 0; !stop; i++) {
          const key = `/ack/${mi}-${w}/${i}`;
          const value = `v${i}-${Date.now()}`;
          try {
            await withTimeout(m.client!.put(key).value(value).exec(), 15_000);
            acked.set(key, value);
            written++;
          } catch {
            failures++;
            await sleep(20);
          }
        }
      }),
    );
    await sleep(500);
    const before = written;
    const killedAt = Date.now();
    await lead.kill();
    const next = await cluster.leader(survivors, 30_000);
    const failoverMs = Date.now() - killedAt;
    const atElection = written;
    await sleep(1500);
    stop = true;
    await Promise.all(workers);
    killed = lead;
    console.log(
      `failover: leader ${lead.name} SIGKILLed; ${next.name} elected and known to both survivors after ${failoverMs} ms ` +
        `(${(failoverMs / HEARTBEAT_MS).toFixed(1)} ticks of ${HEARTBEAT_MS} ms; election timeout ${ELECTION_MS} ms). ` +
        `Writes acknowledged: ${before} before the kill, ${atElection - before} during the election, ${written - atElection} after; ` +
        `${failures} failed (not acknowledged).`,
    );
    expect(next).not.toBe(lead);
    expect(written - atElection).toBeGreaterThan(0);
    for (const m of survivors) await expectAcked(m);
  }, 120_000);

  it('the killed member restarts and catches up through a snapshot (the others compacted past it)', async () => {
    const survivors = cluster.members.filter((m) => m !== killed);
    const lead = await cluster.leader(survivors);
    await putAll(lead.client!, '/more/', 200);
    killed.start();
    await cluster.leader(cluster.members, 30_000);
    await caughtUp(killed, lead);
    await expectAcked(killed);
    expect(killed.logs).toMatch(/applied snapshot from the leader/);
    expect(killed.logs).toMatch(/recovered from snapshot and WAL/);
  }, 120_000);

  it('a member whose last WAL segment lost its tail starts, repairs it and recovers', async () => {
    const lead = await cluster.leader(cluster.members);
    const victim = cluster.members.find((m) => m !== lead)!;
    await putAll(lead.client!, '/torn/', 20);
    await caughtUp(victim, lead);
    await victim.kill();
    const segments = await victim.walSegments();
    const last = join(victim.dataDir, 'wal', segments[segments.length - 1]!);
    // Members reserve their segments up front: the records end before the file does (zeros follow).
    const { end: size, last: lastRecord } = writtenEnd(await readFile(last));
    // A write torn by the crash, right after the last record: a frame whose header made it to disk but not its data
    // (here the last record's header and first 4 bytes; the rest of the frame reads as the reserved zeros). What was
    // fsync'd stays whole, as after a real crash: the member acked those entries, and Raft cannot repair a follower
    // that lost them.
    const h = await open(last, 'r+');
    try {
      const head = Buffer.alloc(20);
      await h.read(head, 0, 20, lastRecord);
      await h.write(head, 0, 20, size);
    } finally {
      await h.close();
    }
    await putAll(lead.client!, '/torn2/', 20);
    victim.logs = '';
    victim.start();
    await caughtUp(victim, lead);
    await expectAcked(victim);
    console.log(`torn tail: 20 bytes of a frame after ${segments[segments.length - 1]}'s ${size} bytes; repair logged: ${/torn tail/.test(victim.logs)}`);
    expect(victim.logs).toMatch(/torn tail/);
  }, 120_000);

  it('a member with a flipped byte in an older WAL segment refuses to start and names the file', async () => {
    const lead = await cluster.leader(cluster.members);
    const victim = cluster.members.find((m) => m !== lead)!;
    // Restart it with small segments and no snapshots, so it keeps several segments.
    await victim.kill();
    victim.start(['--snapshot-count', '1000000', '--wal-segment-size', '4096']);
    await cluster.leader(cluster.members, 30_000);
    await putAll(lead.client!, '/seg/', 200);
    await caughtUp(victim, lead);
    await victim.kill();
    const segments = await victim.walSegments();
    expect(segments.length).toBeGreaterThanOrEqual(3);
    const older = segments[segments.length - 2]!;
    const file = join(victim.dataDir, 'wal', older);
    const size = (await stat(file)).size;
    const h = await open(file, 'r+');
    try {
      const buf = Buffer.alloc(1);
      const at = Math.floor(size / 2);
      await h.read(buf, 0, 1, at);
      buf[0] = buf[0]! ^ 0x5a;
      await h.write(buf, 0, 1, at);
    } finally {
      await h.close();
    }
    victim.logs = '';
    victim.start();
    const code = await withTimeout(victim.exit!, 30_000);
    expect(code).not.toBe(0);
    expect(victim.logs).toContain(older);
    expect(victim.logs).toMatch(/corrupt/);
    const line = victim.logs.split('\n').find((l) => l.startsWith('skiff store: cannot start'));
    console.log(`corrupt segment: ${line}`);
    expect(line).toContain(older);
    // The other two carry on.
    const rest = cluster.members.filter((m) => m !== victim);
    const l2 = await cluster.leader(rest);
    await l2.client!.put('/after-corruption').value('ok');
    acked.set('/after-corruption', 'ok');
    for (const m of rest) await expectAcked(m);
  }, 120_000);
});
