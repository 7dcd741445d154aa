import { Etcd3 } from 'etcd3';
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
});
