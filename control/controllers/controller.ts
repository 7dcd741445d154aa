import type { Logger } from '../../lib/log.js';
import { realQueueClock, WorkQueue, type Informer, type KubeClient, type KubeObject, type QueueClock, type ResourceRef } from '../client/index.js';
import type { SharedInformers } from './informers.js';
import { EventRecorder } from './events.js';
import { errorMessage } from './objects.js';

/** What the manager measures, as upstream's workqueue metrics and controller-runtime's reconcile metrics name it. */
export interface ControllerMetrics {
  queueAdd(name: string): void;
  queueRetry(name: string): void;
  queueLatency(name: string, seconds: number): void;
  reconciled(name: string, seconds: number, error: boolean): void;
  registerDepth(name: string, depth: () => number): void;
}

/** A work queue that reports its adds and how long keys waited (the depth is read from it when scraped). */
export class MeteredQueue extends WorkQueue {
  private readonly addedAt = new Map<string, number>();

  constructor(
    readonly name: string,
    private readonly metrics: ControllerMetrics | undefined,
    private readonly queueClock: QueueClock = realQueueClock,
  ) {
    super(queueClock, 5, 30_000);
    metrics?.registerDepth(name, () => this.length);
  }

  override add(key: string): void {
    this.metrics?.queueAdd(this.name);
    if (!this.addedAt.has(key)) this.addedAt.set(key, this.queueClock.now());
    super.add(key);
  }

  override addRateLimited(key: string): void {
    this.metrics?.queueRetry(this.name);
    super.addRateLimited(key);
  }

  /** Called when a worker takes the key: how long it waited in the queue. */
  taken(key: string): void {
    const at = this.addedAt.get(key);
    this.addedAt.delete(key);
    if (at !== undefined) this.metrics?.queueLatency(this.name, (this.queueClock.now() - at) / 1000);
  }
}

/** Per-controller flags of kube-controller-manager, by upstream's names (durations in milliseconds). */
export interface ControllerContext {
  client: KubeClient;
  informers: SharedInformers;
  logger: Logger;
  metrics?: ControllerMetrics;
  now?: () => Date;
  /** Workers per controller (upstream's --concurrent-*-syncs); default 2. */
  workers?: number;
  /** Per-controller settings (upstream's component config), by controller. */
  config?: ControllerConfig;
}

export interface ControllerConfig {
  /** --node-monitor-grace-period (default 50 s): how long a node may go without renewing its Lease. */
  nodeMonitorGracePeriodMs?: number;
  /** --node-startup-grace-period (default 60 s): the same for a node that has never reported. */
  nodeStartupGracePeriodMs?: number;
  /** --node-monitor-period (default 5 s): how often node health is checked. */
  nodeMonitorPeriodMs?: number;
  /** --resource-quota-sync-period (default 5 min): the full recalculation of every quota. */
  resourceQuotaSyncPeriodMs?: number;
  /** The cluster CA published as kube-root-ca.crt in every namespace (upstream's --root-ca-file). */
  rootCaPem?: string;
  /** The CA that csrsigning issues certificates with (--cluster-signing-cert-file/--cluster-signing-key-file). */
  csrSigning?: { ca: { cert: string; key: string }; durationMs?: number };
  /** Node IPAM (--allocate-node-cidrs with --cluster-cidr and --node-cidr-mask-size); absent: no allocation. */
  nodeIpam?: { clusterCidr: string; nodeCidrMaskSize: number; serviceCidr?: string };
  horizontalPodAutoscaler?: {
    syncPeriodMs?: number;
    downscaleStabilizationMs?: number;
    tolerance?: number;
  };
}

/** A sync may ask to be run again after a while even when it succeeded (progress deadlines, minReadySeconds). */
export type SyncResult = void | { requeueAfterMs?: number };

/**
 * The shape every controller shares: informer handlers only enqueue keys; workers pop a key and run sync(key), which
 * reads the current state from the caches and converges it; failures go back with per-key back-off.
 */
export abstract class Controller {
  readonly queue: MeteredQueue;
  protected readonly client: KubeClient;
  protected readonly informers: SharedInformers;
  protected readonly logger: Logger;
  protected readonly now: () => Date;
  /** Events as upstream's controllers record them (source component "<name>-controller"). */
  protected readonly events: EventRecorder;
  private readonly workers: number;
  private running: Promise<void>[] = [];
  private readonly sources: Informer[] = [];
  private stopped = false;
  /**
   * Longest wait for the caches before the workers start anyway (undefined: wait for ever). Only for controllers
   * that never act on a cache's silence alone, as the garbage collector, which asks the API server before deleting.
   */
  protected syncTimeoutMs: number | undefined;

  constructor(
    readonly name: string,
    protected readonly ctx: ControllerContext,
  ) {
    this.client = ctx.client;
    this.informers = ctx.informers;
    this.logger = ctx.logger.child({ controller: name });
    this.now = ctx.now ?? (() => new Date());
    this.workers = ctx.workers ?? 2;
    this.queue = new MeteredQueue(name, ctx.metrics);
    this.events = new EventRecorder(ctx.client, `${name}-controller`, this.now);
  }

  protected abstract sync(key: string): Promise<SyncResult>;

  /** The shared informer of a resource, whose first list this controller waits for before it works. */
  protected watch<T extends KubeObject = KubeObject>(ref: ResourceRef): Informer<T> {
    const inf = this.informers.for<T>(ref);
    this.sources.push(inf as unknown as Informer);
    return inf;
  }

  /** Starts the workers once this controller's informers have listed (upstream's WaitForCacheSync). */
  async start(): Promise<void> {
    const synced = Promise.all(this.sources.map((s) => s.waitForSync()));
    if (this.syncTimeoutMs === undefined) await synced;
    else {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([synced.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), this.syncTimeoutMs)))]);
      clearTimeout(timer);
      if (timedOut) this.logger.warn({ waitedMs: this.syncTimeoutMs }, 'some caches have not synced (resources not served?); starting anyway');
    }
    if (this.stopped) return;
    for (let i = 0; i < this.workers; i++) this.running.push(this.worker());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.queue.shutDown();
    await Promise.all(this.running);
    this.running = [];
  }

  /** Runs one key now, outside the workers (tests). */
  syncNow(key: string): Promise<SyncResult> {
    return this.sync(key);
  }

  private async worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      this.queue.taken(key);
      const started = performance.now();
      let failed = false;
      try {
        const result = await this.sync(key);
        this.queue.forget(key);
        if (result && result.requeueAfterMs !== undefined) this.queue.addAfter(key, Math.max(1, result.requeueAfterMs));
      } catch (err) {
        failed = true;
        const level = this.queue.numRequeues(key) > 5 ? 'warn' : 'debug';
        this.logger[level]({ key, err: errorMessage(err) }, 'sync failed; retrying');
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
        this.ctx.metrics?.reconciled(this.name, (performance.now() - started) / 1000, failed);
      }
    }
  }
}
