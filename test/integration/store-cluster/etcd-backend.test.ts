import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEtcdStore } from '../../../control/store/etcd/index.js';
import { runStoreConformance } from '../../unit/control/store/conformance.js';
import { WatchCollector, currentRevision, uniquePrefix } from '../../unit/control/store/helpers.js';
import { etcdBackendSpecifics } from '../store/etcd-backend-specifics.js';
import { ProcCluster, buildEntry } from './harness.js';

/**
 * The Store conformance suite through the etcd backend (the etcd3 npm client) pointed at real `skiff store`
 * processes, as it runs against Debian's etcd 3.4 in test/integration/store/etcd-store.test.ts: whatever etcd's
 * own client sees of etcd 3.4, it must see of a Skiff member. One member, then three (the client spread over
 * every member's client URL, so requests land on followers too).
 */
let solo: ProcCluster;
let trio: ProcCluster;

beforeAll(async () => {
  await buildEntry();
  solo = await ProcCluster.create(['solo']);
  trio = await ProcCluster.create(['t1', 't2', 't3']);
  for (const m of [...solo.members, ...trio.members]) m.start();
  await solo.leader(solo.members, 60_000);
  await trio.leader(trio.members, 60_000);
}, 300_000);

afterAll(async () => {
  await solo?.close();
  await trio?.close();
});

// Lease expiry runs on the members' clocks, so advanceTime really waits.
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

runStoreConformance('etcd backend against one skiff store member', async () => {
  const store = createEtcdStore({ endpoints: solo.members.map((m) => `http://${m.endpoint}`) });
  return { store, cleanup: () => store.close(), advanceTime: sleep };
});

runStoreConformance('etcd backend against three skiff store members', async () => {
  const store = createEtcdStore({ endpoints: trio.members.map((m) => `http://${m.endpoint}`) });
  return { store, cleanup: () => store.close(), advanceTime: sleep };
});

etcdBackendSpecifics('one skiff store member', () => solo.members.map((m) => `http://${m.endpoint}`));
etcdBackendSpecifics('three skiff store members', () => trio.members.map((m) => `http://${m.endpoint}`));

describe('periodic progress notifications', () => {
  it('come every --experimental-watch-progress-notify-interval to a watch that asked (progressNotify)', async () => {
    const fast = await ProcCluster.create(['fast']);
    try {
      fast.members[0]!.start(['--experimental-watch-progress-notify-interval', '300ms']);
      await fast.leader(fast.members, 60_000);
      const store = createEtcdStore({ endpoints: [`http://${fast.members[0]!.endpoint}`] });
      try {
        const quiet = new WatchCollector();
        const q = await store.watch({ key: uniquePrefix(), prefix: true }, quiet.listener);
        const c = new WatchCollector();
        const w = await store.watch({ key: uniquePrefix(), prefix: true, progressNotify: true }, c.listener);
        const rev = await currentRevision(store);
        await c.until((x) => x.messages.filter((m) => m.type === 'progress').length >= 2, 'two progress messages', 20_000);
        for (const m of c.messages) expect(m).toMatchObject({ type: 'progress' });
        expect(c.messages[0]?.type === 'progress' && c.messages[0].revision).toBeGreaterThanOrEqual(rev);
        // A watch that did not ask gets none.
        expect(quiet.messages).toEqual([]);
        await w.cancel();
        await q.cancel();
      } finally {
        await store.close();
      }
    } finally {
      await fast.close();
    }
  }, 120_000);
});
