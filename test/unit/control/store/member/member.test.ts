import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureClusterPki } from '../../../../../control/apiserver/pki.js';
import { ErrLeaseNotFound } from '../../../../../control/store/index.js';
import {
  ErrNoLeader,
  ErrNotLeader,
  ErrTimeout,
  HttpTransport,
  ManualTicker,
  MemoryNetwork,
  RaftStore,
  decodeMessages,
  encodeMessages,
  parseInitialCluster,
  memberIdOf,
} from '../../../../../control/store/member/index.js';
import type { Message } from '../../../../../control/store/raft/index.js';
import { CountingIo } from '../wal/helpers.js';
import { ELECTION_MS, HEARTBEAT_MS, TestCluster, noSyncIo, sleep, tempDir, until } from './helpers.js';
import { freePort } from '../../../../helpers/free-port.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

async function writeMany(store: RaftStore, prefix: string, n: number): Promise<Map<string, string>> {
  const acked = new Map<string, string>();
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const key = `${prefix}${String(i).padStart(4, '0')}`;
      await store.put(key, `v${i}`);
      acked.set(key, `v${i}`);
    }),
  );
  return acked;
}

async function expectAll(store: RaftStore, acked: Map<string, string>, prefix: string): Promise<void> {
  const r = await store.range({ key: prefix, prefix: true });
  const got = new Map(r.kvs.map((kv) => [kv.key, kv.value]));
  for (const [k, v] of acked) expect(got.get(k), k).toBe(v);
}

describe('raft store member', () => {
  it('restarts from its data dir and reads back everything acknowledged (WAL replay)', async () => {
    cluster = await TestCluster.create(1);
    const s = cluster.store(1);
    await until(() => s.node.isLeader, 'leader');
    const acked = await writeMany(s, '/r/', 50);
    const lease = await s.leaseGrant(60);
    await s.put('/r/leased', 'x', { lease: lease.id });
    await s.delete('/r/0003');
    acked.delete('/r/0003');
    const before = await s.range({ key: '/r/', prefix: true });
    await cluster.stop(1);

    const again = await cluster.start(1);
    await until(() => again.node.isLeader, 'leader after restart');
    const after = await again.range({ key: '/r/', prefix: true });
    expect(after.header.revision).toBe(before.header.revision);
    expect(after.kvs).toEqual(before.kvs);
    await expectAll(again, acked, '/r/');
    expect(await again.leases()).toContain(lease.id);
    // History survives too: the MVCC index was rebuilt.
    expect((await again.range({ key: '/r/0003', revision: before.header.revision - 2 })).kvs).toHaveLength(1);
    expect((await again.put('/r/next', 'n')).header.revision).toBe(before.header.revision + 1);
  });

  it('takes snapshots, purges WAL segments, and restarts from snapshot + WAL', async () => {
    cluster = await TestCluster.create(1, { snapshotCount: 20, snapshotCatchUpEntries: 5, wal: { io: noSyncIo, segmentSizeBytes: 4096 } });
    const s = cluster.store(1);
    await until(() => s.node.isLeader, 'leader');
    const acked = new Map<string, string>();
    for (let batch = 0; batch < 10; batch++) for (const [k, v] of await writeMany(s, `/s/${batch}/`, 20)) acked.set(k, v);
    // Snapshots are encoded and saved in the background, while writes go on.
    await until(() => s.node.status().snapshotIndex > 150, 'a snapshot past index 150');
    // One voter has no follower to keep catch-up entries for: the in-memory log starts right after the snapshot.
    const st = s.node.status();
    expect(st.logFirstIndex).toBeGreaterThan(st.snapshotIndex);
    // ~200 entries of ~100 bytes in 4 KiB segments would be 5+ segments; purge keeps the ones after the snapshot.
    const segments = async (): Promise<string[]> => (await readdir(join(cluster!.dataDir(1), 'wal'))).filter((n) => n.endsWith('.wal'));
    await until(async () => (await segments())[0] !== '0000000000000000-0000000000000000.wal', 'the first WAL segments purged');
    const snaps = await readdir(join(cluster.dataDir(1), 'snap'));
    expect(snaps.filter((n) => n.endsWith('.snap')).length).toBeLessThanOrEqual(5);
    const rev = (await s.range({ key: '/s/', prefix: true, countOnly: true })).header.revision;
    await cluster.stop(1);

    const again = await cluster.start(1);
    expect(again.node.status().snapshotIndex).toBeGreaterThan(150);
    await until(() => again.node.isLeader, 'leader after restart');
    const r = await again.range({ key: '/s/', prefix: true, countOnly: true });
    expect(r.count).toBe(200);
    expect(r.header.revision).toBe(rev);
    await expectAll(again, acked, '/s/');
  });

  it('a follower forwards writes to the leader and reads linearizably', async () => {
    cluster = await TestCluster.create(3);
    const lead = await cluster.leader();
    const [f1, f2] = cluster.followers(lead).map((id) => cluster!.store(id));
    const put = await f1!.put('/f/a', '1');
    expect(put.header.revision).toBeGreaterThan(1);
    // Another follower sees the acknowledged write at once: ReadIndex waits until it applied it.
    for (let i = 0; i < 20; i++) {
      const w = await f1!.put('/f/a', String(i));
      const r = await f2!.range({ key: '/f/a' });
      expect(r.kvs[0]?.value).toBe(String(i));
      expect(r.header.revision).toBeGreaterThanOrEqual(w.header.revision);
    }
    const leaderStore = cluster.store(lead);
    const w = await leaderStore.put('/f/b', 'from leader');
    expect((await f2!.range({ key: '/f/b' })).kvs[0]?.value).toBe('from leader');
    expect((await f1!.range({ key: '/f/b' })).header.revision).toBeGreaterThanOrEqual(w.header.revision);
    // Lease ids are chosen at random by the proposer: concurrent grants on different members never collide.
    const grants = await Promise.all([f1!, f2!, leaderStore, f1!, f2!, leaderStore].map((s) => s.leaseGrant(30)));
    expect(new Set(grants.map((g) => g.id)).size).toBe(6);
    for (const g of grants) expect(Number.isSafeInteger(g.id) && g.id > 0).toBe(true);
    // Keep-alive on a follower reaches the leader, which owns deadlines.
    expect(await f2!.leaseKeepAlive(grants[0]!.id)).toBe(30);
    await f1!.leaseRevoke(grants[0]!.id);
    await expect(f2!.leaseKeepAlive(grants[0]!.id)).rejects.toBeInstanceOf(ErrLeaseNotFound);
  });

  it('the leader expires leases; a new leader gives them a full TTL', async () => {
    cluster = await TestCluster.create(3);
    cluster.store(1).node.campaign();
    const lead = await cluster.leader();
    const f = cluster.store(cluster.followers(lead)[0]!);
    const { id } = await f.leaseGrant(10);
    await f.put('/l/k', 'v', { lease: id });
    cluster.clock.advance(6_000);
    // Followers' deadlines mean nothing: only the leader acts.
    for (const s of cluster.stores.values()) s.node.checkLeases();
    expect((await f.range({ key: '/l/k' })).count).toBe(1);
    await cluster.stop(lead);
    const next = await cluster.leader();
    cluster.clock.advance(6_000); // 12 s after the grant, but only 6 s after the new leader refreshed it
    cluster.store(next).node.checkLeases();
    await sleep(50);
    expect((await f.range({ key: '/l/k' })).count).toBe(1);
    cluster.clock.advance(5_000);
    cluster.store(next).node.checkLeases();
    await until(async () => (await f.range({ key: '/l/k' })).count === 0, 'expiry by the new leader');
    expect(await f.leases()).not.toContain(id);
  });

  it('survives the loss of its leader: every acknowledged write is there after the election', async () => {
    cluster = await TestCluster.create(3);
    const lead = await cluster.leader();
    const followers = cluster.followers(lead);
    const acked = new Map<string, string>();
    let stop = false;
    const writers = followers.map(async (id, w) => {
      const s = cluster!.store(id);
      for (let i = 0; !stop; i++) {
        const key = `/k/${w}/${i}`;
        try {
          await s.put(key, `v${i}`);
          acked.set(key, `v${i}`);
        } catch (err) {
          if (!(err instanceof ErrTimeout || err instanceof ErrNoLeader || err instanceof ErrNotLeader)) throw err;
        }
      }
    });
    await sleep(100);
    const killedAt = Date.now();
    await cluster.stop(lead);
    const next = await cluster.leader();
    const failoverMs = Date.now() - killedAt;
    await sleep(100);
    stop = true;
    await Promise.all(writers);
    expect(next).not.toBe(lead);
    expect(acked.size).toBeGreaterThan(10);
    for (const id of followers) await expectAll(cluster.store(id), acked, '/k/');
    // The old leader comes back and catches up.
    const back = await cluster.start(lead);
    await until(async () => (await back.range({ key: '/k/', prefix: true, countOnly: true })).count >= acked.size, 'catch-up');
    await expectAll(back, acked, '/k/');
    console.log(`in-memory failover: ${failoverMs} ms (${Math.round(failoverMs / HEARTBEAT_MS)} ticks of ${HEARTBEAT_MS} ms, election timeout ${ELECTION_MS} ms)`);
  });

  it('the only voter keeps no applied entries in memory; a member added later gets a snapshot taken for it', async () => {
    // The default snapshot count (10,000): these writes take no snapshot on their own.
    cluster = await TestCluster.create(1);
    const s = cluster.store(1);
    await until(() => s.node.isLeader, 'leader');
    const acked = await writeMany(s, '/solo/', 30);
    await until(() => s.node.status().logFirstIndex === s.node.status().applied + 1, 'the applied entries compacted away');
    expect(s.node.status().snapshotIndex).toBe(0);
    expect(s.node.status().applied).toBeGreaterThan(30);

    // They are still in the WAL: a restart replays them.
    await cluster.stop(1);
    const again = await cluster.start(1);
    await until(() => again.node.isLeader, 'leader after restart');
    await expectAll(again, acked, '/solo/');

    // A second member: the log it would need is gone, so the leader takes a snapshot for it.
    await again.node.proposeConfChange({ type: 'addNode', nodeId: 2 });
    const joined = await cluster.start(2, { join: true });
    await until(() => joined.node.status().applied >= again.node.status().commit && joined.node.leader === 1, 'the new member to catch up');
    // The leader's own copy of that snapshot is saved in the background.
    await until(() => again.node.status().snapshotIndex > 0, 'the leader to save the snapshot it took');
    expect(joined.node.status().snapshotIndex).toBe(again.node.status().snapshotIndex);
    expect((await joined.rangeSerializable({ key: '/solo/', prefix: true, countOnly: true })).count).toBe(30);
    await expectAll(joined, acked, '/solo/');
    // Two voters now: the leader keeps its log for the follower again.
    await writeMany(again, '/pair/', 5);
    expect(again.node.status().logFirstIndex).toBeLessThanOrEqual(again.node.status().snapshotIndex + 1);
    expect(again.node.status().logFirstIndex).toBeLessThan(again.node.status().applied);
  });

  it('a member that fell behind the leader\'s compacted log catches up from a snapshot', async () => {
    cluster = await TestCluster.create(3, { snapshotCount: 10, snapshotCatchUpEntries: 2 });
    cluster.store(1).node.campaign();
    const lead = await cluster.leader();
    const lagging = cluster.followers(lead)[1]!;
    cluster.net.disconnect(lagging);
    const acked = new Map<string, string>();
    for (let i = 0; i < 6; i++) for (const [k, v] of await writeMany(cluster.store(lead), `/c/${i}`, 10)) acked.set(k, v);
    await until(() => cluster!.store(lead).node.status().snapshotIndex > cluster!.store(lagging).node.status().applied + 2, 'leader snapshot');
    cluster.net.reconnect(lagging);
    const s = cluster.store(lagging);
    await until(() => s.node.status().applied >= cluster!.store(lead).node.status().commit, 'snapshot catch-up');
    expect(s.node.status().snapshotIndex).toBeGreaterThan(0);
    // With followers the leader keeps snapshotCatchUpEntries behind its snapshot.
    const leadStatus = cluster.store(lead).node.status();
    expect(leadStatus.logFirstIndex).toBeLessThanOrEqual(leadStatus.snapshotIndex - 1);
    expect((await s.rangeSerializable({ key: '/c/', prefix: true, countOnly: true })).count).toBe(60);
    await expectAll(s, acked, '/c/');
    // And it restarts from the snapshot it received.
    await cluster.stop(lagging);
    const again = await cluster.start(lagging);
    expect(again.node.status().snapshotIndex).toBeGreaterThan(0);
    await expectAll(again, acked, '/c/');
  });

  it('a proposal lost in a leader change fails with ErrNotLeader; RaftStore retries it once', async () => {
    cluster = await TestCluster.create(3);
    cluster.store(1).node.campaign();
    const old = await cluster.leader();
    const oldStore = cluster.store(old);
    cluster.net.disconnect(old);
    const lost = oldStore.node.propose({ type: 'put', key: '/x/lost', value: '1' });
    const retried = oldStore.put('/x/retried', '1');
    // The others elect a leader among themselves and overwrite the old leader's uncommitted entries.
    const others = cluster.followers(old);
    await until(() => others.some((id) => cluster!.store(id).node.isLeader), 'new leader');
    const next = others.find((id) => cluster!.store(id).node.isLeader)!;
    await cluster.store(next).put('/x/other', 'a');
    await cluster.store(next).put('/x/other', 'b');
    cluster.net.reconnect(old);
    await expect(lost).rejects.toBeInstanceOf(ErrNotLeader);
    const r = await retried;
    expect(r.header.revision).toBeGreaterThan(0);
    const kv = (await cluster.store(next).range({ key: '/x/retried' })).kvs[0];
    expect(kv?.version).toBe(1);
    expect((await cluster.store(next).range({ key: '/x/lost' })).count).toBe(0);
  });

  it('without a quorum, writes fail with a retryable error and nothing is applied', async () => {
    cluster = await TestCluster.create(3, { requestTimeoutMs: 600 });
    const lead = await cluster.leader();
    const [a, b] = cluster.followers(lead);
    await cluster.stop(lead);
    await cluster.stop(b!);
    const s = cluster.store(a!);
    const err = await s.put('/q/k', 'v').catch((e: unknown) => e);
    expect(err instanceof ErrNoLeader || err instanceof ErrTimeout).toBe(true);
    expect((err as { code: string }).code).toMatch(/^(no-leader|timeout)$/);
    await expect(s.range({ key: '/q/k' })).rejects.toMatchObject({ code: expect.stringMatching(/^(no-leader|timeout)$/) });
    expect((await s.rangeSerializable({ key: '/q/k' })).count).toBe(0);
    // etcd's serializable range answers from the local state too, where a consistent one cannot answer at all.
    expect((await s.range({ key: '/q/k', serializable: true })).count).toBe(0);
    // Closing fails whatever still waits instead of leaving it hanging.
    const pendingRead = s.range({ key: '/q/k' }).catch((e: unknown) => e);
    const pendingWrite = s.put('/q/k', 'v').catch((e: unknown) => e);
    await sleep(50);
    await cluster.stop(a!);
    expect(await pendingRead).toMatchObject({ code: 'stopped' });
    expect(await pendingWrite).toMatchObject({ code: 'stopped' });
  });

  it('fsyncs a lone write on its own thread, concurrent writes through the thread pool; all durable', async () => {
    const io = new CountingIo();
    cluster = await TestCluster.create(1, { wal: { io } });
    const s = cluster.store(1);
    await until(() => s.node.isLeader, 'leader');
    let inline = io.inlineSyncs;
    let all = io.fileSyncs;
    for (let i = 0; i < 20; i++) await s.put(`/f/seq${i}`, 'v');
    // One at a time: every write's fsync is an inline one.
    expect(io.inlineSyncs - inline).toBe(io.fileSyncs - all);
    expect(io.inlineSyncs - inline).toBeGreaterThanOrEqual(20);
    inline = io.inlineSyncs;
    all = io.fileSyncs;
    const acked = await writeMany(s, '/f/conc', 100);
    // Many waiting at once: their batches' fsyncs go to the thread pool (the lone ones at the edges may not).
    expect(io.fileSyncs - all - (io.inlineSyncs - inline)).toBeGreaterThanOrEqual(1);
    await cluster.stop(1);
    const again = await cluster.start(1);
    await until(() => again.node.isLeader, 'leader after restart');
    await expectAll(again, acked, '/f/conc');
    expect((await again.range({ key: '/f/seq', prefix: true })).count).toBe(20);
  });

  it('reserves its WAL segment up front (writes land inside the file) and recovers from it', async () => {
    const segmentSizeBytes = 1 << 20;
    cluster = await TestCluster.create(1, { wal: { io: noSyncIo, segmentSizeBytes } });
    const s = cluster.store(1);
    await until(() => s.node.isLeader, 'leader');
    const acked = await writeMany(s, '/p/', 30);
    const walDir = join(cluster.dataDir(1), 'wal');
    const segments = (await readdir(walDir)).filter((f) => f.endsWith('.wal'));
    expect(segments).toHaveLength(1);
    expect((await stat(join(walDir, segments[0]!))).size).toBe(segmentSizeBytes);
    await cluster.stop(1);
    const again = await cluster.start(1);
    await until(() => again.node.isLeader, 'leader after restart');
    await expectAll(again, acked, '/p/');
  });

  it('the leader applying its own proposals reaches the very state the followers decode from the log', async () => {
    cluster = await TestCluster.create(3);
    const lead = cluster.store(await cluster.leader());
    const lease = await lead.leaseGrant(60);
    await lead.put('/e/a', 'α', { lease: lease.id, prevKv: true });
    // Optional fields left undefined are dropped by the log's JSON: the leader must not read them differently.
    await lead.put('/e/b', 'b', { lease: undefined, prevKv: undefined });
    await lead.put('/e/a', 'a2', { prevKv: true });
    await lead.txn({
      compare: [{ key: '/e/a', target: 'value', result: '=', value: 'a2' }],
      success: [
        { type: 'put', key: '/e/c', value: 'c', lease: lease.id },
        { type: 'delete', key: '/e/b' },
      ],
      failure: [],
    });
    await lead.delete({ key: '/e/', prefix: true }, { prevKv: true });
    const last = await lead.put('/e/z', 'z');
    const states = await Promise.all(
      [...cluster.stores.values()].map(async (s) => {
        await until(() => s.memory.revision >= last.header.revision, 'every member applied the writes');
        return JSON.stringify(s.memory.snapshot());
      }),
    );
    expect(new Set(states).size).toBe(1);
  });

  it('stops on a WAL failure: nothing more is acknowledged, waiters fail with ErrStopped', async () => {
    let failSyncs = false;
    let fatal: unknown;
    const io = {
      syncFile: async () => {
        if (failSyncs) throw new Error('EIO: injected fsync failure');
      },
      syncDir: async () => {},
    };
    cluster = await TestCluster.create(1, { wal: { io }, onFatal: (e) => (fatal = e) });
    const s = cluster.store(1);
    await until(() => s.node.isLeader, 'leader');
    await s.put('/w/ok', '1');
    failSyncs = true;
    const err = await s.put('/w/lost', '1').catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('stopped');
    expect(String(fatal)).toMatch(/injected fsync failure/);
    expect((await s.rangeSerializable({ key: '/w/lost' })).count).toBe(0);
    await expect(s.put('/w/later', '1')).rejects.toMatchObject({ code: 'stopped' });
    await cluster.stop(1);
    failSyncs = false;
    const again = await cluster.start(1);
    await until(() => again.node.isLeader, 'leader after restart');
    expect((await again.range({ key: '/w/ok' })).count).toBe(1);
  });

  it('sends periodic progress notifications to idle watchers on every member, never revoking leases locally', async () => {
    cluster = await TestCluster.create(3, { progressIntervalMs: 1000 });
    const lead = await cluster.leader();
    const f = cluster.store(cluster.followers(lead)[0]!);
    const { id } = await f.leaseGrant(2);
    await f.put('/p/leased', 'x', { lease: id });
    const messages: string[] = [];
    const w = await f.watch({ key: '/p/', prefix: true, progressNotify: true }, (m) => messages.push(m.type));
    // Past the lease's TTL and a progress interval: only the leader revokes the lease, through the log; the
    // followers' progress rounds must not revoke anything locally (their state would diverge).
    cluster.clock.advance(2500);
    // A round skips a watcher that is busy delivering (the revocation's DELETE): move time on until one lands.
    await until(() => {
      if (messages.includes('progress')) return true;
      cluster!.clock.advance(100);
      return false;
    }, 'a progress notification');
    await until(async () => (await f.range({ key: '/p/leased' })).count === 0, 'revocation through the log');
    const stores = [...cluster.stores.values()];
    await until(() => stores.every((s) => s.node.status().applied === stores[0]!.node.status().applied), 'same applied index');
    const snaps = stores.map((s) => JSON.stringify(s.memory.snapshot()));
    expect(new Set(snaps).size).toBe(1);
    await w.cancel();
  });

  it('refuses a data dir that belongs to another member', async () => {
    cluster = await TestCluster.create(1);
    await until(() => cluster!.store(1).node.isLeader, 'leader');
    await cluster.stop(1);
    await expect(
      RaftStore.open({ id: 2, peers: [2], dataDir: cluster.dataDir(1), transport: new MemoryNetwork().transport(2), wal: { io: noSyncIo } }),
    ).rejects.toThrow(/belongs to member 1/);
  });
});

describe('member codec and cluster flags', () => {
  it('messages round-trip through JSON with their bytes', () => {
    const msgs: Message[] = [
      { type: 'MsgApp', from: 1, to: 2, term: 3, index: 4, logTerm: 3, commit: 4, entries: [{ term: 3, index: 5, type: 'normal', data: new Uint8Array([0, 1, 255]) }] },
      { type: 'MsgSnap', from: 1, to: 2, term: 3, snapshot: { metadata: { index: 9, term: 3, confState: { voters: [1, 2] } }, data: new TextEncoder().encode('{"a":1}') } },
      { type: 'MsgHeartbeat', from: 1, to: 2, term: 3, commit: 4, context: 'ctx' },
    ];
    const back = decodeMessages(encodeMessages(msgs));
    expect(back).toEqual(msgs);
    expect(back[0]!.type === 'MsgApp' && back[0]!.entries[0]!.data).toBeInstanceOf(Uint8Array);
    expect(decodeMessages(JSON.stringify([{ type: 'MsgHup', from: 1, to: 2, term: 0 }, { nonsense: true }]))).toEqual([]);
  });

  it('parses --initial-cluster and derives stable ids', () => {
    const m = parseInitialCluster('a=http://127.0.0.1:2380,b=http://127.0.0.1:2480', 'tok');
    expect(m.map((x) => x.name)).toEqual(['a', 'b']);
    expect(m[0]!.id).toBe(memberIdOf('a', 'tok'));
    expect(Number.isSafeInteger(m[0]!.id)).toBe(true);
    expect(memberIdOf('a', 'tok')).not.toBe(memberIdOf('a', 'other'));
    expect(() => parseInitialCluster('a', 't')).toThrow(/name=url/);
    expect(() => parseInitialCluster('a=ftp://x', 't')).toThrow(/http/);
  });
});

describe('HTTP transport', () => {
  it('runs a 3-member group over HTTP: writes through followers, a member down and back', async () => {
    const root = await tempDir();
    const ids = [1, 2, 3];
    const ports = await Promise.all(ids.map(() => freePort()));
    const peers = new Map(ids.map((id, i) => [id, `http://127.0.0.1:${ports[i]}`] as const));
    const open = (id: number): Promise<RaftStore> =>
      RaftStore.open({
        id,
        peers: ids,
        dataDir: join(root, `m${id}`),
        transport: new HttpTransport({ id, peers, listen: peers.get(id)!, clusterId: 'test', clientUrls: [`http://client-${id}`] }),
        heartbeatMs: 20,
        electionTimeoutMs: 200,
        wal: { io: noSyncIo },
      });
    const stores = new Map<number, RaftStore>();
    try {
      for (const id of ids) stores.set(id, await open(id));
      await until(() => [...stores.values()].some((s) => s.node.isLeader), 'leader over HTTP');
      const lead = [...stores.values()].find((s) => s.node.isLeader)!.node.id;
      const followers = ids.filter((id) => id !== lead);
      const acked = await writeMany(stores.get(followers[0]!)!, '/h/', 30);
      await expectAll(stores.get(followers[1]!)!, acked, '/h/');
      const { id: leaseId } = await stores.get(followers[1]!)!.leaseGrant(20);
      expect(await stores.get(followers[0]!)!.leaseKeepAlive(leaseId)).toBe(20);
      expect((stores.get(lead)!.node.transport as HttpTransport).peerClientUrls(followers[0]!)).toEqual([`http://client-${followers[0]}`]);
      // A follower down: messages to it are dropped, the rest carries on; back up, it catches up.
      await stores.get(followers[1]!)!.close();
      stores.delete(followers[1]!);
      const more = await writeMany(stores.get(lead)!, '/h2/', 20);
      stores.set(followers[1]!, await open(followers[1]!));
      await expectAll(stores.get(followers[1]!)!, more, '/h2/');
      await expectAll(stores.get(followers[1]!)!, acked, '/h/');
    } finally {
      for (const s of stores.values()) await s.close();
      const { rm } = await import('node:fs/promises');
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('HTTP transport, more', () => {
  it('serves and dials over TLS with client certificates', async () => {
    const root = await tempDir();
    const pki = await ensureClusterPki(join(root, 'pki'), { serverNames: ['127.0.0.1', 'localhost'], serverUrl: 'https://127.0.0.1' });
    const tls = { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert, clientCert: pki.admin.cert, clientKey: pki.admin.key };
    const ids = [1, 2];
    const ports = await Promise.all(ids.map(() => freePort()));
    const peers = new Map(ids.map((id, i) => [id, `https://127.0.0.1:${ports[i]}`] as const));
    const stores: RaftStore[] = [];
    try {
      for (const id of ids) {
        stores.push(
          await RaftStore.open({
            id,
            peers: ids,
            dataDir: join(root, `m${id}`),
            transport: new HttpTransport({ id, peers, listen: peers.get(id)!, clusterId: 'tls', tls }),
            heartbeatMs: 20,
            electionTimeoutMs: 200,
            wal: { io: noSyncIo },
          }),
        );
      }
      await until(() => stores.some((s) => s.node.isLeader), 'leader over TLS');
      const follower = stores.find((s) => !s.node.isLeader)!;
      await follower.put('/tls/a', '1');
      for (const s of stores) expect((await s.range({ key: '/tls/a' })).kvs[0]?.value).toBe('1');
      // A caller that trusts the CA but presents no client certificate is refused; with one, it is served.
      const { request } = await import('node:https');
      const get = (cert?: { cert: string; key: string }): Promise<number | Error> =>
        new Promise((resolve) => {
          const req = request({ host: '127.0.0.1', port: ports[0], path: '/health', ca: pki.ca.cert, ...cert }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('error', (e) => resolve(e));
          req.end();
        });
      expect(await get()).toBeInstanceOf(Error);
      expect(await get(pki.admin)).toBe(200);
    } finally {
      for (const s of stores) await s.close();
      const { rm } = await import('node:fs/promises');
      await rm(root, { recursive: true, force: true });
    }
  });

  it('refuses messages from another cluster', async () => {
    const ports = [await freePort(), await freePort()];
    const peers = new Map([
      [1, `http://127.0.0.1:${ports[0]}`],
      [2, `http://127.0.0.1:${ports[1]}`],
    ]);
    const got: Message[] = [];
    const unreachable: number[] = [];
    const handler = (into: Message[]) => ({
      receive: (m: Message[]) => into.push(...m),
      rpc: async () => 'pong',
      reportUnreachable: (id: number) => unreachable.push(id),
      reportSnapshot: () => {},
    });
    const a = new HttpTransport({ id: 1, peers, listen: peers.get(1)!, clusterId: 'one' });
    const b = new HttpTransport({ id: 2, peers, listen: peers.get(2)!, clusterId: 'two' });
    const c = new HttpTransport({ id: 1, peers, listen: `http://127.0.0.1:${await freePort()}`, clusterId: 'two' });
    await a.start(handler([]));
    await b.start(handler(got));
    await c.start(handler([]));
    try {
      a.send([{ type: 'MsgHeartbeat', from: 1, to: 2, term: 1, commit: 0 }]);
      await until(() => unreachable.length > 0, 'reportUnreachable');
      expect(got).toEqual([]);
      c.send([{ type: 'MsgHeartbeat', from: 1, to: 2, term: 1, commit: 0 }]);
      await until(() => got.length === 1, 'delivery within the cluster');
      expect(await c.call(2, 'ping', {}, 1000)).toBe('pong');
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });
});

describe('injected ticker', () => {
  it('nothing happens without ticks; a member campaigns after its election timeout in ticks', async () => {
    const ticker = new ManualTicker();
    cluster = await TestCluster.create(3, { ticker });
    await sleep(100);
    expect([...cluster.stores.values()].every((s) => s.node.leader === 0)).toBe(true);
    // electionTick = 150 / 10 = 15; randomized in [15, 30): 30 ticks always suffice for a first campaign.
    for (let i = 0; i < 30 && ![...cluster.stores.values()].some((s) => s.node.isLeader); i++) {
      ticker.tick();
      await sleep(5);
    }
    await until(() => [...cluster!.stores.values()].some((s) => s.node.isLeader), 'a leader after ticking');
    const lead = await cluster.leader();
    await cluster.store(lead).put('/t/a', '1');
    expect((await cluster.store(cluster.followers(lead)[0]!).range({ key: '/t/a' })).count).toBe(1);
  });
});

describe('chaos', () => {
  it('random partitions and restarts under concurrent writes: no acknowledged write lost, members converge', async () => {
    cluster = await TestCluster.create(3, { snapshotCount: 40, snapshotCatchUpEntries: 10, requestTimeoutMs: 1500 });
    await cluster.leader();
    const c = cluster;
    const acked = new Map<string, string>();
    let stop = false;
    let failed = 0;
    const writers = c.ids.flatMap((id) =>
      [0, 1].map(async (w) => {
        for (let i = 0; !stop; i++) {
          const s = c.stores.get(id);
          if (s === undefined) {
            await sleep(10);
            continue;
          }
          const key = `/chaos/${id}-${w}/${i}`;
          try {
            await s.put(key, `v${i}`);
            acked.set(key, `v${i}`);
          } catch {
            failed++;
            await sleep(5);
          }
        }
      }),
    );
    let seed = Number(process.env.CHAOS_SEED ?? 12345);
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const down = new Set<number>();
    for (let round = 0; round < 12; round++) {
      await sleep(250);
      const id = c.ids[rand(3)]!;
      switch (rand(3)) {
        case 0:
          c.net.disconnect(id);
          break;
        case 1:
          c.net.reconnect(id);
          break;
        default:
          if (down.has(id)) {
            await c.start(id);
            down.delete(id);
          } else if (down.size === 0) {
            await c.stop(id);
            down.add(id);
          }
      }
    }
    for (const id of down) await c.start(id);
    for (const id of c.ids) c.net.reconnect(id);
    await sleep(300);
    stop = true;
    await Promise.all(writers);
    await c.leader(20_000);
    const stores = c.ids.map((id) => c.store(id));
    // A final write through every member makes each catch up to the same commit index.
    for (const s of stores) await s.put('/chaos-final', String(s.node.id));
    await until(() => stores.every((s) => s.node.status().applied === stores[0]!.node.status().applied), 'convergence', 20_000);
    for (const s of stores) await expectAll(s, acked, '/chaos/');
    // Each key is written once: version 2 would mean a retried proposal was applied twice.
    const all = await stores[0]!.range({ key: '/chaos/', prefix: true });
    expect(all.kvs.filter((kv) => kv.version !== 1).map((kv) => kv.key)).toEqual([]);
    expect(new Set(stores.map((s) => JSON.stringify(s.memory.snapshot()))).size).toBe(1);
    console.log(`chaos: ${acked.size} writes acknowledged, ${failed} failed; all members identical at revision ${stores[0]!.memory.revision}`);
    expect(acked.size).toBeGreaterThan(50);
  }, 60_000);
});
