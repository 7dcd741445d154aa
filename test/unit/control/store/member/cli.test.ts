import { Etcd3 } from 'etcd3';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runStore, storeHelp } from '../../../../../control/store/cli.js';
import { soloMemberPerTest } from './helpers.js';

describe('skiff store command', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('prints its help with etcd flag names', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    expect(await runStore(['--help'])).toBe(0);
    const text = String(out.mock.calls[0]?.[0]);
    for (const flag of ['--name', '--data-dir', '--initial-cluster', '--listen-peer-urls', '--listen-client-urls', '--heartbeat-interval', '--election-timeout']) {
      expect(text).toContain(flag);
    }
    expect(storeHelp()).toContain('default 100');
  });

  it('rejects bad flags with exit code 2', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await runStore(['--no-such-flag'])).toBe(2);
    expect(await runStore(['--heartbeat-interval', '500', '--election-timeout', '600'])).toBe(2);
    expect(await runStore(['--heartbeat-interval', 'soon'])).toBe(2);
    expect(await runStore(['--initial-cluster', 'a=http://x:1', '--name', 'b', '--data-dir', '/nonexistent/x', '--log-level', 'silent'])).toBe(1);
    expect(err.mock.calls.map((c) => String(c[0])).join('')).toMatch(/election-timeout/);
  });
});

describe('startStoreMember (embedded member)', () => {
  const startMember = soloMemberPerTest();

  it('runs a single member with the etcd API: status carries leader, raft index and term; member list', async () => {
    const member = await startMember({ listenClientUrls: ['http://127.0.0.1:0'] });
    const store = member.store;
    await store.put('/direct', 'x');
    const client = new Etcd3({ hosts: `http://127.0.0.1:${member.clientPorts[0]}` });
    try {
      await client.put('/via-api').value('y');
      expect(await client.get('/direct').string()).toBe('x');
      const status = await client.maintenance.status();
      expect(BigInt(status.leader)).toBe(BigInt(member.memberId));
      expect(Number(status.raftIndex)).toBeGreaterThanOrEqual(3);
      expect(Number(status.raftTerm)).toBeGreaterThanOrEqual(1);
      const list = await client.cluster.memberList({});
      expect(list.members.map((m) => m.name)).toEqual(['solo']);
      expect(list.members[0]!.clientURLs).toEqual([`http://127.0.0.1:${member.clientPorts[0]}`]);
    } finally {
      client.close();
    }
  });

  it("registers etcd's metrics, fed by the member's WAL, snapshots and state", async () => {
    const registry = new Registry();
    const member = await startMember({ metrics: registry, snapshotCount: 5 });
    for (let i = 0; i < 12; i++) await member.store.put(`/k${i}`, 'x');
    const sample = async (name: string): Promise<number> => {
      const line = (await registry.metrics()).split('\n').find((l) => l.startsWith(`${name} `));
      return line === undefined ? Number.NaN : Number(line.slice(name.length + 1));
    };
    expect(await sample('etcd_server_has_leader')).toBe(1);
    expect(await sample('etcd_server_is_leader')).toBe(1);
    expect(await sample('etcd_server_leader_changes_seen_total')).toBe(1);
    expect(await sample('etcd_server_proposals_applied_total')).toBeGreaterThanOrEqual(12);
    expect(await sample('etcd_server_proposals_committed_total')).toBeGreaterThanOrEqual(await sample('etcd_server_proposals_applied_total'));
    expect(await sample('etcd_server_proposals_pending')).toBe(0);
    expect(await sample('etcd_disk_wal_fsync_duration_seconds_count')).toBeGreaterThanOrEqual(12);
    expect(await sample('etcd_disk_wal_write_bytes_total')).toBeGreaterThan(12 * 'x'.length);
    // Snapshots every 5 entries are saved in the background.
    for (let i = 0; i < 200 && !((await sample('etcd_debugging_snap_save_total_duration_seconds_count')) >= 1); i++) await new Promise((r) => setTimeout(r, 20));
    expect(await sample('etcd_debugging_snap_save_total_duration_seconds_count')).toBeGreaterThanOrEqual(1);
  });
});
