import { rm } from 'node:fs/promises';
import { ManualClock } from '../../../../../control/store/index.js';
import { MemoryNetwork, RaftStore } from '../../../../../control/store/member/index.js';
import { runStoreConformance } from '../conformance.js';
import { ELECTION_MS, HEARTBEAT_MS, TestCluster, noSyncIo, tempDir, until } from './helpers.js';

runStoreConformance('raft store (1 member)', async () => {
  const clock = new ManualClock(1_700_000_000_000);
  const dir = await tempDir();
  const store = await RaftStore.open({
    id: 1,
    peers: [1],
    dataDir: dir,
    transport: new MemoryNetwork().transport(1),
    clock,
    heartbeatMs: HEARTBEAT_MS,
    electionTimeoutMs: ELECTION_MS,
    wal: { io: noSyncIo },
  });
  await until(() => store.node.isLeader, 'single member elects itself');
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
    advanceTime: async (ms: number) => {
      clock.advance(ms);
      store.node.checkLeases();
    },
  };
});

// The store under test is a follower: writes are forwarded to the leader, reads go through ReadIndex at the
// leader, keep-alives and time-to-live are forwarded, watches are served by the follower itself.
runStoreConformance('raft store (3 members, via a follower)', async () => {
  const cluster = await TestCluster.create(3);
  cluster.store(1).node.campaign();
  const lead = await cluster.leader();
  const follower = cluster.followers(lead)[0]!;
  return {
    store: cluster.store(follower),
    cleanup: () => cluster.close(),
    advanceTime: async (ms: number) => {
      cluster.clock.advance(ms);
      for (const s of cluster.stores.values()) s.node.checkLeases();
    },
  };
});
