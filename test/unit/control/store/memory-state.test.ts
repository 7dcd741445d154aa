import { describe, expect, it } from 'vitest';
import {
  ErrInvalidRequest,
  ErrStoreClosed,
  ManualClock,
  MemoryStore,
  type Command,
  type SnapshotEntry,
  type StoreSnapshot,
} from '../../../../control/store/index.js';
import { randomCommand } from './command-gen.js';
import { Rng } from './random.js';
import { WatchCollector, settle } from './helpers.js';

/** Applies a command, turning a thrown store error into a comparable outcome. */
function outcome(store: MemoryStore, command: Command): unknown {
  try {
    return store.apply(command);
  } catch (error) {
    return { error: error instanceof Error ? error.name : String(error) };
  }
}

function commands(seed: number, n: number): Command[] {
  // Generated against a scratch store so compactions aim at real revisions.
  const rng = new Rng(seed);
  const scratch = new MemoryStore({ clock: new ManualClock() });
  const out: Command[] = [];
  for (let i = 0; i < n; i++) {
    const command = randomCommand(rng, scratch.revision);
    outcome(scratch, command);
    out.push(command);
  }
  return out;
}

describe('MemoryStore state machine', () => {
  it('starts at revision 1 like etcd', async () => {
    const store = new MemoryStore({ clock: new ManualClock() });
    expect((await store.range({ key: '/a' })).header.revision).toBe(1);
    expect((await store.put('/a', 'x')).header.revision).toBe(2);
  });

  it('is deterministic: the same commands give the same results and state, whatever the clock', () => {
    for (const seed of [1, 2, 3]) {
      const cmds = commands(seed, 800);
      const a = new MemoryStore({ clock: new ManualClock(0) });
      const b = new MemoryStore({ clock: new ManualClock(987_654_321) });
      for (const command of cmds) expect(outcome(b, command)).toEqual(outcome(a, command));
      expect(b.snapshot()).toEqual(a.snapshot());
      expect(a.revision).toBeGreaterThan(100);
    }
  });

  it('commands survive JSON, as they will in the Raft log', () => {
    const cmds = commands(4, 400);
    const a = new MemoryStore({ clock: new ManualClock() });
    const b = new MemoryStore({ clock: new ManualClock() });
    for (const command of cmds) {
      outcome(a, command);
      outcome(b, JSON.parse(JSON.stringify(command)) as Command);
    }
    expect(JSON.stringify(b.snapshot())).toBe(JSON.stringify(a.snapshot()));
  });

  it('snapshot/restore mid-sequence reaches the same final state', () => {
    const cmds = commands(5, 1000);
    const full = new MemoryStore({ clock: new ManualClock() });
    cmds.forEach((c) => outcome(full, c));
    const half = new MemoryStore({ clock: new ManualClock() });
    cmds.slice(0, 500).forEach((c) => outcome(half, c));
    const restored = MemoryStore.fromSnapshot(JSON.parse(JSON.stringify(half.snapshot())) as StoreSnapshot, {
      clock: new ManualClock(),
    });
    expect(restored.snapshot()).toEqual(half.snapshot());
    for (const c of cmds.slice(500)) expect(outcome(restored, c)).toEqual(outcome(half, c));
    expect(restored.snapshot()).toEqual(full.snapshot());
  });

  it('a restored store answers old reads, watches from history and keeps leases with their keys', async () => {
    const clock = new ManualClock();
    const src = new MemoryStore({ clock });
    const { id } = await src.leaseGrant(30);
    const r1 = (await src.put('/a', '1')).header.revision;
    await src.put('/a', '2', { lease: id });
    await src.put('/b', 'b');
    await src.delete('/b');
    await src.compact(r1 + 1);
    const r5 = (await src.put('/c', 'c')).header.revision;
    const dst = MemoryStore.fromSnapshot(src.snapshot(), { clock });
    expect(dst.revision).toBe(r5);
    expect(dst.compactRevision).toBe(r1 + 1);
    const old = await dst.range({ key: '/', prefix: true, revision: r1 + 2 });
    expect(old.kvs.map((kv) => kv.key)).toEqual(['/a', '/b']);
    const c = new WatchCollector();
    await dst.watch({ key: '/', prefix: true, startRevision: r1 + 1, prevKv: true }, c.listener);
    await c.untilRevision(r5);
    expect(c.events().map((e) => [e.type, e.kv.key, e.prevKv?.value])).toEqual([
      ['PUT', '/a', '1'],
      ['PUT', '/b', undefined],
      ['DELETE', '/b', 'b'],
      ['PUT', '/c', undefined],
    ]);
    expect(await dst.leaseTimeToLive(id, { keys: true })).toMatchObject({ ttl: 30, keys: ['/a'] });
    await dst.leaseRevoke(id);
    expect((await dst.range({ key: '/a' })).count).toBe(0);
  });

  it('open watches continue across a restore', async () => {
    const clock = new ManualClock();
    const leader = new MemoryStore({ clock });
    const follower = new MemoryStore({ clock });
    const c = new WatchCollector();
    await follower.watch({ key: '/', prefix: true }, c.listener);
    for (let i = 0; i < 5; i++) await leader.put(`/k${i}`, `${i}`);
    follower.restore(leader.snapshot());
    const next = follower.apply({ type: 'put', key: '/k9', value: '9' }).header.revision;
    await c.untilRevision(next);
    expect(c.events().map((e) => e.kv.key)).toEqual(['/k0', '/k1', '/k2', '/k3', '/k4', '/k9']);
  });

  it('a watch replaying history is not replayed twice by a restore', async () => {
    const clock = new ManualClock();
    const store = new MemoryStore({ clock });
    for (let i = 0; i < 3; i++) await store.put(`/k${i}`, `${i}`);
    const c = new WatchCollector();
    await store.watch({ key: '/', prefix: true, startRevision: 2 }, c.listener);
    store.restore(store.snapshot());
    const last = (await store.put('/k9', '9')).header.revision;
    await c.untilRevision(last);
    expect(c.eventMessages().map((m) => m.revision)).toEqual([2, 3, 4, 5]);
  });

  it('rejects malformed commands from the log without changing anything', () => {
    const store = new MemoryStore({ clock: new ManualClock() });
    const garbage = [
      { type: 'drop-table' },
      { type: 'put', key: '/a', value: 42 },
      { type: 'put', key: 7, value: 'x' },
      { type: 'delete', key: ['/a'] },
    ];
    for (const command of garbage) {
      expect(() => store.apply(command as unknown as Command)).toThrow(ErrInvalidRequest);
    }
    expect(store.revision).toBe(1);
  });

  it('rejects malformed snapshots', () => {
    const store = new MemoryStore({ clock: new ManualClock() });
    expect(() => store.restore({ format: 'nope' } as unknown as StoreSnapshot)).toThrow(ErrInvalidRequest);
    const entries: SnapshotEntry[] = [
      [3, 0, '/a', 'x', 3, 1, 0],
      [2, 0, '/b', 'y', 2, 1, 0],
    ];
    const bad: StoreSnapshot = { ...store.snapshot(), entries };
    expect(() => store.restore({ ...bad, revision: 5 })).toThrow(ErrInvalidRequest);
  });

  it('leaves expiry to whoever drives it: expireLeases only reports, tick revokes', async () => {
    const clock = new ManualClock();
    const store = new MemoryStore({ clock });
    const { id } = await store.leaseGrant(10);
    await store.put('/l', 'x', { lease: id });
    clock.advance(10_000);
    expect(store.expireLeases()).toEqual([id]);
    expect((await store.range({ key: '/l' })).count).toBe(1);
    expect(() => store.renewLease(id)).toThrow();
    store.tick();
    expect((await store.range({ key: '/l' })).count).toBe(0);
    expect(store.expireLeases()).toEqual([]);
  });

  it('a new expiry owner refreshes every lease to a full TTL', async () => {
    const clock = new ManualClock();
    const store = new MemoryStore({ clock });
    const { id } = await store.leaseGrant(10);
    clock.advance(9_000);
    store.refreshLeases();
    clock.advance(9_000);
    expect(store.expireLeases()).toEqual([]);
    expect((await store.leaseTimeToLive(id)).ttl).toBe(1);
  });

  it('raises TTLs to the minimum', async () => {
    const store = new MemoryStore({ clock: new ManualClock(), minLeaseTtl: 3 });
    expect((await store.leaseGrant(1)).ttl).toBe(3);
  });

  it('sends periodic progress only to idle progressNotify watchers', async () => {
    const clock = new ManualClock();
    const store = new MemoryStore({ clock, progressIntervalMs: 1000 });
    const idle = new WatchCollector();
    const busy = new WatchCollector();
    const plain = new WatchCollector();
    await store.watch({ key: '/idle', progressNotify: true }, idle.listener);
    await store.watch({ key: '/busy', progressNotify: true }, busy.listener);
    await store.watch({ key: '/idle' }, plain.listener);
    await store.put('/busy', 'x');
    clock.advance(1000);
    store.tick();
    await settle(10);
    expect(idle.messages).toEqual([{ type: 'progress', revision: 2 }]);
    expect(busy.messages.map((m) => m.type)).toEqual(['events']);
    expect(plain.messages).toEqual([]);
    clock.advance(1000);
    store.tick();
    await settle(10);
    expect(busy.messages.map((m) => m.type)).toEqual(['events', 'progress']);
  });

  it('isolates a throwing listener', async () => {
    const errors: unknown[] = [];
    const store = new MemoryStore({ clock: new ManualClock(), onListenerError: (e) => errors.push(e) });
    const good = new WatchCollector();
    await store.watch({ key: '/a' }, () => {
      throw new Error('boom');
    });
    await store.watch({ key: '/a' }, good.listener);
    const { header } = await store.put('/a', '1');
    await good.untilRevision(header.revision);
    expect(errors).toHaveLength(1);
  });

  it('a listener may write to the store', async () => {
    const store = new MemoryStore({ clock: new ManualClock() });
    const c = new WatchCollector();
    await store.watch({ key: '/echo/', prefix: true }, c.listener);
    await store.watch({ key: '/ping' }, (m) => {
      if (m.type === 'events') void store.put('/echo/pong', String(m.revision));
    });
    await store.put('/ping', 'x');
    await c.until((x) => x.events().length === 1, 'echo');
    expect(c.events()[0]?.kv.value).toBe('2');
  });

  it('close ends watches and refuses requests', async () => {
    const store = new MemoryStore({ clock: new ManualClock() });
    const c = new WatchCollector();
    await store.watch({ key: '/a' }, c.listener);
    await store.close();
    await c.until((x) => x.messages.length === 1, 'close message');
    expect(c.messages[0]).toMatchObject({ type: 'error' });
    await expect(store.put('/a', 'x')).rejects.toBeInstanceOf(ErrStoreClosed);
    await expect(store.range({ key: '/a' })).rejects.toBeInstanceOf(ErrStoreClosed);
  });
});
