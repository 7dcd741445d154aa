import { describe, expect, it } from 'vitest';
import { decide, LeaderElector, microTime, recordKey, type LeaderElectionRecord, type LeaseLock } from '../../../../control/client/leaderelection/index.js';
import { manualClock } from './manual-clock.js';
import { silentLogger } from '../../../../lib/log.js';


/** One Lease held in memory, with the API server's compare-and-swap on resourceVersion. */
class MemoryLease {
  record: LeaderElectionRecord | undefined;
  rv = 0;
  writes = 0;

  lockFor(name: string, reachable: { ok: boolean }): LeaseLock {
    return {
      describe: () => `kube-system/${name}`,
      get: async () => {
        if (!reachable.ok) throw new Error('connection refused');
        return this.record ? { record: { ...this.record }, resourceVersion: String(this.rv) } : undefined;
      },
      create: async (record) => {
        if (!reachable.ok) throw new Error('connection refused');
        if (this.record) throw new Error('AlreadyExists');
        this.record = { ...record };
        this.rv++;
        this.writes++;
      },
      update: async (record, rv) => {
        if (!reachable.ok) throw new Error('connection refused');
        if (rv !== String(this.rv)) throw new Error('Conflict');
        this.record = { ...record };
        this.rv++;
        this.writes++;
      },
    };
  }
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

describe('leader election decisions', () => {
  const other: LeaderElectionRecord = { holderIdentity: 'b', leaseDurationSeconds: 15, acquireTime: microTime(0), renewTime: microTime(0), leaseTransitions: 4 };

  it('creates the lease when there is none', () => {
    const d = decide({ identity: 'a', nowMs: 5000, leaseDurationSeconds: 15, current: undefined, previous: undefined });
    expect(d.action).toBe('create');
    expect(d.action === 'create' && d.record).toEqual({ holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: microTime(5000), renewTime: microTime(5000), leaseTransitions: 0 });
  });

  it('waits out another holder from when it first saw the record, whatever renewTime says', () => {
    // renewTime is ancient by this clock (another machine's skewed clock), but the record was only just seen.
    const first = decide({ identity: 'a', nowMs: 100_000, leaseDurationSeconds: 15, current: other, previous: undefined });
    expect(first.action).toBe('wait');
    const later = decide({ identity: 'a', nowMs: 114_999, leaseDurationSeconds: 15, current: other, previous: first.observation });
    expect(later.action).toBe('wait');
    const expired = decide({ identity: 'a', nowMs: 115_000, leaseDurationSeconds: 15, current: other, previous: later.observation });
    expect(expired.action).toBe('update');
    expect(expired.action === 'update' && expired.record).toMatchObject({ holderIdentity: 'a', leaseTransitions: 5, acquireTime: microTime(115_000) });
  });

  it('restarts the wait whenever the holder renews', () => {
    const first = decide({ identity: 'a', nowMs: 0, leaseDurationSeconds: 15, current: other, previous: undefined });
    const renewed = { ...other, renewTime: microTime(10_000) };
    const second = decide({ identity: 'a', nowMs: 10_000, leaseDurationSeconds: 15, current: renewed, previous: first.observation });
    expect(second.observation.observedAtMs).toBe(10_000);
    expect(decide({ identity: 'a', nowMs: 20_000, leaseDurationSeconds: 15, current: renewed, previous: second.observation }).action).toBe('wait');
  });

  it('renews its own lease keeping acquireTime and transitions, and takes a released one at once', () => {
    const mine = { ...other, holderIdentity: 'a' };
    const renew = decide({ identity: 'a', nowMs: 7000, leaseDurationSeconds: 15, current: mine, previous: undefined });
    expect(renew.action === 'update' && renew.record).toMatchObject({ acquireTime: microTime(0), renewTime: microTime(7000), leaseTransitions: 4 });
    const released = { ...other, holderIdentity: '' };
    expect(decide({ identity: 'a', nowMs: 1, leaseDurationSeconds: 15, current: released, previous: undefined }).action).toBe('update');
    expect(recordKey(mine)).not.toBe(recordKey(other));
  });
});

describe('leader elector', () => {
  function candidate(name: string, lease: MemoryLease, clock: ReturnType<typeof manualClock>, reachable = { ok: true }) {
    const state = { leading: false, started: 0, stopped: 0 };
    const elector = new LeaderElector({
      lock: lease.lockFor('kube-scheduler', reachable),
      identity: name,
      logger: silentLogger(),
      clock,
      releaseOnCancel: true,
      onStartedLeading: () => {
        state.leading = true;
        state.started++;
      },
      onStoppedLeading: () => {
        state.leading = false;
        state.stopped++;
      },
    });
    return { elector, state, reachable };
  }

  async function run(clock: ReturnType<typeof manualClock>, ms: number, check: () => void): Promise<void> {
    for (let t = 0; t < ms; t += 100) {
      clock.advance(100);
      await flush();
      check();
    }
  }

  it('lets exactly one of two candidates lead, and hands over at once on a graceful stop', async () => {
    const clock = manualClock(1_000_000);
    const lease = new MemoryLease();
    const a = candidate('a', lease, clock);
    const b = candidate('b', lease, clock);
    a.elector.start();
    await flush();
    b.elector.start();
    const atMostOne = (): void => expect(Number(a.state.leading) + Number(b.state.leading)).toBeLessThanOrEqual(1);
    await run(clock, 30_000, atMostOne);
    expect(a.state.leading).toBe(true);
    expect(b.state.leading).toBe(false);
    expect(lease.record?.holderIdentity).toBe('a');
    expect(lease.writes).toBeGreaterThan(10); // renewed every retry period

    await a.elector.stop();
    expect(a.state.stopped).toBe(1);
    expect(lease.record?.holderIdentity).toBe('');
    await run(clock, 3000, atMostOne);
    expect(b.state.leading).toBe(true);
    expect(lease.record).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    await b.elector.stop();
  });

  it('takes over from a holder that vanished only after the lease duration', async () => {
    const clock = manualClock(1_000_000);
    const lease = new MemoryLease();
    const a = candidate('a', lease, clock);
    a.elector.start();
    await run(clock, 1000, () => undefined);
    expect(a.state.leading).toBe(true);
    // "a" loses the API server for good: it can neither renew nor release.
    a.reachable.ok = false;
    const b = candidate('b', lease, clock);
    b.elector.start();
    let bLeadAt = -1;
    let aStoppedAt = -1;
    let elapsed = 0;
    await run(clock, 30_000, () => {
      elapsed += 100;
      if (b.state.leading && bLeadAt < 0) bLeadAt = elapsed;
      if (!a.state.leading && aStoppedAt < 0) aStoppedAt = elapsed;
    });
    // The old leader steps down after its renew deadline (10 s), before anyone else may take over (15 s).
    expect(aStoppedAt).toBeGreaterThan(0);
    expect(aStoppedAt).toBeLessThanOrEqual(12_500);
    expect(bLeadAt).toBeGreaterThanOrEqual(15_000);
    expect(bLeadAt).toBeLessThanOrEqual(15_000 + 2_500);
    expect(aStoppedAt).toBeLessThan(bLeadAt);
    expect(lease.record?.holderIdentity).toBe('b');
    await a.elector.stop();
    await b.elector.stop();
  });

  it('steps down as soon as it sees another holder, and campaigns again', async () => {
    const clock = manualClock(1_000_000);
    const lease = new MemoryLease();
    const a = candidate('a', lease, clock);
    a.elector.start();
    await run(clock, 1000, () => undefined);
    expect(a.state.leading).toBe(true);
    // Someone overwrote the lease (as `kubectl edit lease` could).
    lease.record = { holderIdentity: 'intruder', leaseDurationSeconds: 15, leaseTransitions: 9, renewTime: microTime(clock.now()) };
    lease.rv++;
    await run(clock, 2500, () => undefined);
    expect(a.state.leading).toBe(false);
    expect(a.state.stopped).toBe(1);
    // The intruder never renews, so "a" wins it back after the lease duration.
    await run(clock, 20_000, () => undefined);
    expect(a.state.leading).toBe(true);
    expect(a.state.started).toBe(2);
    expect(lease.record).toMatchObject({ holderIdentity: 'a', leaseTransitions: 10 });
    await a.elector.stop();
  });

  it('refuses timings that cannot work', () => {
    const lease = new MemoryLease();
    const base = { lock: lease.lockFor('x', { ok: true }), identity: 'a', logger: silentLogger(), onStartedLeading: () => undefined, onStoppedLeading: () => undefined };
    expect(() => new LeaderElector({ ...base, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 })).toThrow(/leaseDuration must be greater than renewDeadline/);
    expect(() => new LeaderElector({ ...base, renewDeadlineMs: 2000, retryPeriodMs: 2000 })).toThrow(/renewDeadline must be greater/);
  });
});
