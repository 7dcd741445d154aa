import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Member, ProcCluster, buildEntry, freePort, poll } from './harness.js';

/**
 * Run-time membership of real `skiff store` processes, driven by Debian's etcdctl 3.4 as an operator would drive
 * etcd: member add (a second add refused while the first is pending), a new member started with the
 * --initial-cluster etcdctl printed and --initial-cluster-state existing catching up by snapshot, member update
 * (the member moved to a new peer port), member remove of a follower and of the leader (each stops with etcd's
 * "permanently removed" error), and the cluster serving throughout. The tests run in order on one cluster.
 */
const run = promisify(execFile);
const ETCDCTL = '/usr/bin/etcdctl';

let cluster: ProcCluster;
let m4: Member;
let m4Id = '';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function etcdctl(endpoint: string, args: readonly string[]): Promise<Result> {
  try {
    const r = await run(ETCDCTL, [`--endpoints=${endpoint}`, '--dial-timeout=5s', '--command-timeout=20s', ...args], {
      env: { ...process.env, ETCDCTL_API: '3' },
      timeout: 60_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function ok(endpoint: string, args: readonly string[]): Promise<string> {
  const r = await etcdctl(endpoint, args);
  if (r.code !== 0) throw new Error(`etcdctl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

/** `etcdctl member list` rows: id, status, name, peer URLs, client URLs, is learner. */
async function memberList(endpoint: string): Promise<Array<{ id: string; status: string; name: string; peerUrls: string }>> {
  const out = await ok(endpoint, ['member', 'list']);
  return out
    .trim()
    .split('\n')
    .map((line) => line.split(', '))
    .map(([id, status, name, peerUrls]) => ({ id: id!, status: status!, name: name!, peerUrls: peerUrls! }));
}

async function putKeys(endpoint: string, prefix: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await ok(endpoint, ['put', `${prefix}${i}`, `v${i}`]);
}

async function countKeys(endpoint: string, prefix: string): Promise<number> {
  const out = await ok(endpoint, ['get', prefix, '--prefix', '--keys-only', '-w', 'json', '--consistency=s']);
  return Number((JSON.parse(out) as { count?: number }).count ?? 0);
}

beforeAll(async () => {
  await buildEntry();
  cluster = await ProcCluster.create(['m1', 'm2', 'm3']);
  for (const m of cluster.members) m.start();
  await cluster.leader(cluster.members, 60_000);
}, 300_000);

afterAll(async () => {
  await cluster?.close();
});

describe('skiff store: membership changes with etcdctl member add/update/remove', () => {
  it('adds a member; refuses a second change while it has not started; with the printed config it joins and catches up by snapshot', async () => {
    const [m1, , m3] = cluster.members;
    // m3 is down through the change: it will learn of it from a snapshot.
    await m3!.kill();
    // Enough writes that the leader has taken snapshots and dropped the early log (--snapshot-count 50).
    await putKeys(m1!.endpoint, '/before/', 120);

    const peerPort = await freePort();
    const clientPort = await freePort();
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    const added = await ok(m1!.endpoint, ['member', 'add', 'm4', `--peer-urls=${peerUrl}`]);
    expect(added).toMatch(/^Member\s+[0-9a-f]+ added to cluster\s+[0-9a-f]+\n/);
    m4Id = /Member\s+([0-9a-f]+) added/.exec(added)![1]!;
    const env = Object.fromEntries([...added.matchAll(/^(ETCD_\w+)="(.*)"$/gm)].map((m) => [m[1]!, m[2]!]));
    expect(env.ETCD_NAME).toBe('m4');
    expect(env.ETCD_INITIAL_ADVERTISE_PEER_URLS).toBe(peerUrl);
    expect(env.ETCD_INITIAL_CLUSTER_STATE).toBe('existing');
    expect(env.ETCD_INITIAL_CLUSTER!.split(',').sort()).toEqual(
      [...cluster.members.map((m) => `${m.name}=http://127.0.0.1:${m.peerPort}`), `m4=${peerUrl}`].sort(),
    );
    expect(await memberList(m1!.endpoint)).toContainEqual({ id: m4Id, status: 'unstarted', name: '', peerUrls: peerUrl });

    // One change at a time: etcd's strict reconfiguration check refuses another while m4 has not started.
    const second = await etcdctl(m1!.endpoint, ['member', 'add', 'm5', `--peer-urls=http://127.0.0.1:${await freePort()}`]);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain('etcdserver: re-configuration failed due to not enough started members');
    const dup = await etcdctl(m1!.endpoint, ['member', 'add', 'again', `--peer-urls=${peerUrl}`]);
    expect(dup.stderr).toContain('etcdserver: Peer URLs already exists');

    m4 = new Member('m4', peerPort, clientPort, join(cluster.root, 'm4'), env.ETCD_INITIAL_CLUSTER!, cluster.pids);
    cluster.members.push(m4);
    m4.start(['--initial-cluster-state', env.ETCD_INITIAL_CLUSTER_STATE!]);
    await poll(async () => ((await countKeys(m4.endpoint, '/before/')) === 120 ? true : undefined), 'm4 to hold every key', 60_000, 200);
    // The leader's log no longer went back to m4's start: it came over as a snapshot.
    expect(m4.logs).toContain('member: applied snapshot from the leader');
    await poll(
      async () => ((await memberList(m1!.endpoint)).some((m) => m.id === m4Id && m.status === 'started' && m.name === 'm4') ? true : undefined),
      'm4 to be listed as started',
      30_000,
      200,
    );
    // m4 takes writes and every member sees them.
    await ok(m4.endpoint, ['put', '/from-m4', 'hello']);
    for (const m of cluster.members.filter((x) => x !== m3)) {
      await poll(async () => ((await ok(m.endpoint, ['get', '/from-m4', '--print-value-only', '--consistency=s'])) === 'hello\n' ? true : undefined), `${m.name} to see m4's write`);
    }
    expect((await memberList(m4.endpoint)).map((m) => m.name).sort()).toEqual(['m1', 'm2', 'm3', 'm4']);

    // m3 comes back: the snapshot it gets holds m4's addition, and it learns m4's name and URLs from the leader.
    await putKeys(m1!.endpoint, '/while-m3-down/', 60);
    m3!.start();
    await poll(async () => ((await countKeys(m3!.endpoint, '/while-m3-down/')) === 60 ? true : undefined), 'm3 to catch up', 60_000, 200);
    expect(m3!.logs).toContain('member: applied snapshot from the leader');
    await poll(
      async () => ((await memberList(m3!.endpoint)).some((m) => m.id === m4Id && m.name === 'm4' && m.peerUrls === peerUrl) ? true : undefined),
      'm3 to list m4',
      30_000,
      200,
    );
    expect(m3!.logs).toContain("caught up with the leader's member list");
  }, 240_000);

  it('moves a member to a new peer URL with member update', async () => {
    const [m1] = cluster.members;
    const missing = await etcdctl(m1!.endpoint, ['member', 'update', '1234abcd', '--peer-urls=http://127.0.0.1:1']);
    expect(missing.stderr).toContain('etcdserver: member not found');
    const taken = await etcdctl(m1!.endpoint, ['member', 'update', m4Id, `--peer-urls=http://127.0.0.1:${cluster.members[1]!.peerPort}`]);
    expect(taken.stderr).toContain('etcdserver: Peer URLs already exists');

    const newPeerPort = await freePort();
    const newUrl = `http://127.0.0.1:${newPeerPort}`;
    expect(await ok(m1!.endpoint, ['member', 'update', m4Id, `--peer-urls=${newUrl}`])).toMatch(new RegExp(`^Member\\s+${m4Id} updated in cluster`));
    expect((await memberList(m1!.endpoint)).find((m) => m.id === m4Id)?.peerUrls).toBe(newUrl);
    // m4 restarts listening there; the others now send to it there.
    await m4.kill();
    const moved = new Member('m4', newPeerPort, m4.clientPort, m4.dataDir, `m4=${newUrl}`, cluster.pids);
    cluster.members[cluster.members.indexOf(m4)] = moved;
    m4 = moved;
    m4.start(['--initial-cluster-state', 'existing']);
    await ok(m1!.endpoint, ['put', '/after-move', 'x']);
    await poll(async () => ((await ok(m4.endpoint, ['get', '/after-move', '--print-value-only', '--consistency=s'])) === 'x\n' ? true : undefined), 'm4 to replicate again', 60_000, 200);
  }, 180_000);

  it('removes a follower, then the leader: each stops with etcd\'s error, and the rest keep serving', async () => {
    const lead = await cluster.leader(cluster.members, 30_000);
    const follower = cluster.members.find((m) => m !== lead && m !== m4)!;
    const followerId = (await follower.status()).memberId;
    const followerHex = BigInt(followerId).toString(16);
    expect(await ok(lead.endpoint, ['member', 'remove', followerHex])).toMatch(new RegExp(`^Member\\s+${followerHex} removed from cluster`));
    expect(await follower.exit).toBe(1);
    expect(follower.logs).toContain('the member has been permanently removed from the cluster');
    let rest = cluster.members.filter((m) => m !== follower);
    expect((await memberList(lead.endpoint)).map((m) => m.name).sort()).toEqual(rest.map((m) => m.name).sort());

    // The leader itself, removed through another member.
    const other = rest.find((m) => m !== lead)!;
    const leadHex = BigInt((await lead.status()).memberId).toString(16);
    expect(await ok(other.endpoint, ['member', 'remove', leadHex])).toMatch(/removed from cluster/);
    expect(await lead.exit).toBe(1);
    expect(lead.logs).toContain('the member has been permanently removed from the cluster');
    rest = rest.filter((m) => m !== lead);
    const newLead = await cluster.leader(rest, 30_000);
    await ok(newLead.endpoint, ['put', '/after-removals', 'y']);
    for (const m of rest) {
      await poll(async () => ((await ok(m.endpoint, ['get', '/after-removals', '--print-value-only', '--consistency=s'])) === 'y\n' ? true : undefined), `${m.name} to serve`);
      expect((await memberList(m.endpoint)).map((x) => x.name).sort()).toEqual(rest.map((x) => x.name).sort());
    }
    // A removed member's data dir cannot come back.
    follower.start();
    expect(await follower.exit).toBe(1);
    expect(follower.logs).toContain('must be removed before this member can be added again');
  }, 180_000);
});
