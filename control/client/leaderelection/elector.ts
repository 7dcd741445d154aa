import type { Logger } from '../../../lib/log.js';
import { realQueueClock, type QueueClock } from '../workqueue.js';
import { decide, recordKey, releasedRecord, type LeaderElectionRecord, type Observation } from './record.js';

/** Where the election is held: one object read and written with compare-and-swap on its resourceVersion. */
export interface LeaseLock {
  /** The current record, or undefined when the object does not exist yet. */
  get(): Promise<{ record: LeaderElectionRecord; resourceVersion: string } | undefined>;
  /** Fails (with a conflict) when the object exists already. */
  create(record: LeaderElectionRecord): Promise<void>;
  /** Fails (with a conflict) when the object changed since `resourceVersion`. */
  update(record: LeaderElectionRecord, resourceVersion: string): Promise<void>;
  /** "namespace/name", for logs. */
  describe(): string;
  /** Reports what a user should see (upstream's "LeaderElection" events); never fails. */
  recordEvent?(message: string): void;
}

export interface LeaderElectorOptions {
  lock: LeaseLock;
  identity: string;
  logger: Logger;
  /** How long others wait, after last seeing the record change, before taking over (upstream default 15 s). */
  leaseDurationMs?: number;
  /** How long a leader keeps trying to renew before it steps down (10 s). */
  renewDeadlineMs?: number;
  /** How often candidates try to acquire and the leader renews (2 s). */
  retryPeriodMs?: number;
  /** Clear the holder on stop() so that a successor need not wait out the lease. */
  releaseOnCancel?: boolean;
  clock?: QueueClock;
  onStartedLeading(): void | Promise<void>;
  onStoppedLeading(): void | Promise<void>;
  onNewLeader?(identity: string): void;
}

const JITTER = 1.2;

/**
 * client-go's LeaderElector: campaigns for the lock, calls onStartedLeading once it holds it, renews it every retry
 * period, and calls onStoppedLeading when it could not renew within the renew deadline, when it sees another holder,
 * or on stop(). After losing, it campaigns again (upstream's components exit and are restarted instead; the effect
 * for the cluster is the same).
 */
export class LeaderElector {
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly clock: QueueClock;
  private observation: Observation | undefined;
  private reportedLeader: string | undefined;
  private leading = false;
  private stopped = false;
  private wake: (() => void) | undefined;
  private pendingTimer: { cancel(): void } | undefined;
  private loop: Promise<void> | undefined;

  constructor(private readonly opts: LeaderElectorOptions) {
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    this.clock = opts.clock ?? realQueueClock;
    if (this.leaseDurationMs <= this.renewDeadlineMs) throw new Error('leaseDuration must be greater than renewDeadline');
    if (this.renewDeadlineMs <= JITTER * this.retryPeriodMs) throw new Error('renewDeadline must be greater than retryPeriod*1.2');
    if (this.retryPeriodMs < 1) throw new Error('retryPeriod must be greater than zero');
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** The holder as last seen, if any. */
  get leader(): string | undefined {
    return this.observation?.record.holderIdentity || undefined;
  }

  start(): void {
    if (this.loop) return;
    this.loop = this.run().catch((err: unknown) => {
      this.opts.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'leader election loop failed');
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.pendingTimer?.cancel();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { logger, lock } = this.opts;
    while (!this.stopped) {
      logger.info({ lock: lock.describe(), identity: this.opts.identity }, 'attempting to acquire leader lease');
      while (!this.stopped && !(await this.tryAcquireOrRenew())) await this.sleep(this.retryPeriodMs * (1 + Math.random() * (JITTER - 1)));
      if (this.stopped) break;
      this.leading = true;
      logger.info({ lock: lock.describe(), identity: this.opts.identity }, 'successfully acquired lease');
      lock.recordEvent?.(`${this.opts.identity} became leader`);
      await this.opts.onStartedLeading();
      let lastRenewMs = this.clock.now();
      while (!this.stopped) {
        await this.sleep(this.retryPeriodMs);
        if (this.stopped) break;
        if (await this.tryAcquireOrRenew()) {
          lastRenewMs = this.clock.now();
          continue;
        }
        const otherHolder = this.leader !== undefined && this.leader !== this.opts.identity;
        if (otherHolder || this.clock.now() - lastRenewMs >= this.renewDeadlineMs) {
          logger.warn({ lock: lock.describe(), holder: this.leader ?? null }, 'failed to renew lease: leader election lost');
          break;
        }
      }
      if (this.stopped && this.opts.releaseOnCancel) await this.release();
      this.leading = false;
      lock.recordEvent?.(`${this.opts.identity} stopped leading`);
      await this.opts.onStoppedLeading();
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped) return resolve();
      this.wake = resolve;
      this.pendingTimer = this.clock.setTimeout(resolve, ms);
    });
  }

  /** One read and at most one write of the lock; true when this candidate holds it afterwards. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { lock, logger, identity } = this.opts;
    let current: { record: LeaderElectionRecord; resourceVersion: string } | undefined;
    try {
      current = await lock.get();
    } catch (err) {
      logger.warn({ lock: lock.describe(), err: err instanceof Error ? err.message : String(err) }, 'error retrieving lease');
      return false;
    }
    const nowMs = this.clock.now();
    const decision = decide({ identity, nowMs, leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000), current: current?.record, previous: this.observation });
    this.observation = decision.observation;
    if (decision.action === 'wait') {
      this.noticeLeader(decision.holder);
      return false;
    }
    try {
      if (decision.action === 'create') await lock.create(decision.record);
      else await lock.update(decision.record, current?.resourceVersion ?? '');
    } catch (err) {
      logger.debug({ lock: lock.describe(), err: err instanceof Error ? err.message : String(err) }, 'could not write lease');
      return false;
    }
    this.observation = { record: decision.record, key: recordKey(decision.record), observedAtMs: nowMs };
    this.noticeLeader(identity);
    return true;
  }

  private noticeLeader(holder: string): void {
    if (holder === this.reportedLeader) return;
    this.reportedLeader = holder;
    if (holder !== this.opts.identity) this.opts.logger.info({ lock: this.opts.lock.describe(), leader: holder }, 'new leader elected');
    this.opts.onNewLeader?.(holder);
  }

  private async release(): Promise<void> {
    const observed = this.observation;
    if (!observed || observed.record.holderIdentity !== this.opts.identity) return;
    try {
      const current = await this.opts.lock.get();
      if (!current || current.record.holderIdentity !== this.opts.identity) return;
      await this.opts.lock.update(releasedRecord(current.record, this.clock.now()), current.resourceVersion);
    } catch (err) {
      this.opts.logger.warn({ lock: this.opts.lock.describe(), err: err instanceof Error ? err.message : String(err) }, 'failed to release lease');
    }
  }
}
