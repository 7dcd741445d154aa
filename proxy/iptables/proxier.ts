import { Registry } from 'prom-client';
import type { Service } from '../../control/api/core/index.js';
import type { ServiceEndpoints } from '../endpoints.js';
import { EndpointsEventHandlers } from '../endpoints-events.js';
import { silentLogger, type Logger } from '../../lib/log.js';
import { conntrackNothingDeleted, staleConntrackArgs } from '../conntrack.js';
import { CommandError, mustRun, type CommandRunner } from '../exec.js';
import { createProxyMetrics, type ProxyMetrics } from '../metrics.js';
import {
  buildEndpointsMap,
  buildServicePortMap,
  endpointsFingerprint,
  namespacedName,
  serviceFingerprint,
  type EndpointsMap,
  type ServicePortMap,
} from '../model.js';
import { BoundedFrequencyRunner } from '../runner.js';
import { USERSPACE_JUMP_RULES, USERSPACE_NAT_CHAINS } from '../userspace/rules.js';
import { chainsInSave, isServiceChainName, JUMP_RULES, jumpRuleArgs, renderCleanup, renderRules, type JumpRule, type RenderOptions, type RenderResult } from './rules.js';

/**
 * The iptables proxier: tracks Service and Endpoints changes, and a bounded-frequency runner turns them into one
 * `iptables-restore --noflush` per sync. A full sync (at start, every syncPeriod, after a failure) writes every
 * chain and deletes stale ones; a partial sync in between rewrites only the changed services' chains.
 */

export interface IptablesProxierOptions {
  run: CommandRunner;
  nodeName: string;
  registry?: Registry;
  metrics?: ProxyMetrics;
  logger?: Logger;
  /** --min-sync-period: syncs are at least this far apart (default 1 s). */
  minSyncPeriodMs?: number;
  /** --iptables-sync-period: a full resync at least this often (default 30 s). */
  syncPeriodMs?: number;
  /** First retry delay after a failed sync; doubles up to syncPeriodMs (default: minSyncPeriodMs, at least 100 ms). */
  retryBaseMs?: number;
  render?: Partial<RenderOptions>;
}

export interface SyncReport {
  full: boolean;
  ok: boolean;
  result?: RenderResult;
  error?: Error;
}

export class IptablesProxier extends EndpointsEventHandlers {
  private readonly services = new Map<string, Service>();
  private readonly endpoints = new Map<string, ServiceEndpoints>();
  /** Services ("namespace/name") whose Service or Endpoints changed since the last successful sync. */
  private pending = new Set<string>();
  private servicesSynced = false;
  private endpointsSynced = false;
  private needFullSync = true;
  /** Whether the next full sync reads the whole nat table (first sync, after a failure). */
  private needSave = true;
  /** The shared chains as the last successful sync left them. */
  private appliedShared = new Map<string, string>();
  private lastFullSync = -Infinity;
  private activeChains = new Set<string>();
  private appliedServices: ServicePortMap = new Map();
  private appliedEndpoints: EndpointsMap = new Map();
  private failures = 0;
  private readonly runner: BoundedFrequencyRunner;
  readonly metrics: ProxyMetrics;
  private readonly log: Logger;
  private readonly minSyncPeriodMs: number;
  private readonly syncPeriodMs: number;
  /** Every sync's outcome, for tests and debugging (the last 50). */
  readonly history: SyncReport[] = [];

  constructor(private readonly opts: IptablesProxierOptions) {
    super();
    this.minSyncPeriodMs = opts.minSyncPeriodMs ?? 1000;
    this.syncPeriodMs = opts.syncPeriodMs ?? 30_000;
    this.metrics = opts.metrics ?? createProxyMetrics(opts.registry ?? new Registry());
    this.log = opts.logger ?? silentLogger();
    this.runner = new BoundedFrequencyRunner(() => this.syncProxyRules().then(() => undefined), this.minSyncPeriodMs, this.syncPeriodMs, (err) =>
      this.log.error({ err }, 'sync crashed'),
    );
  }

  // ---- change tracking -------------------------------------------------------------------------------------

  onServiceAdd(svc: Service): void {
    this.onServiceUpdate(undefined, svc);
  }

  onServiceUpdate(_old: Service | undefined, svc: Service): void {
    this.setService(namespacedName(svc), svc);
  }

  onServiceDelete(svc: Service): void {
    this.setService(namespacedName(svc), undefined);
  }

  /** The informers have listed everything; syncs may begin (none happens before both have). */
  onServicesSynced(): void {
    this.servicesSynced = true;
    this.requestSync();
  }

  onEndpointsSynced(): void {
    this.endpointsSynced = true;
    this.requestSync();
  }

  private setService(key: string, svc: Service | undefined): void {
    const before = serviceFingerprint(this.services.get(key));
    if (svc) this.services.set(key, svc);
    else this.services.delete(key);
    if (serviceFingerprint(svc) === before) return;
    this.metrics.serviceChanges.inc();
    this.pending.add(key);
    this.requestSync();
  }

  protected setEndpoints(key: string, ep: ServiceEndpoints | undefined): void {
    const before = endpointsFingerprint(this.endpoints.get(key), this.opts.nodeName);
    if (ep) this.endpoints.set(key, ep);
    else this.endpoints.delete(key);
    if (endpointsFingerprint(ep, this.opts.nodeName) === before) return;
    this.metrics.endpointChanges.inc();
    this.pending.add(key);
    this.requestSync();
  }

  private requestSync(): void {
    this.metrics.lastQueuedTimestamp.setToCurrentTime();
    this.runner.run();
  }

  // ---- lifecycle -------------------------------------------------------------------------------------------

  start(): void {
    this.runner.start();
  }

  async stop(): Promise<void> {
    await this.runner.stop();
  }

  /** Waits for the sync in progress, if any. */
  idle(): Promise<void> {
    return this.runner.idle();
  }

  /** Forces the next sync to be a full one. */
  forceFullSync(): void {
    this.needFullSync = true;
    this.requestSync();
  }

  get initialized(): boolean {
    return this.servicesSynced && this.endpointsSynced;
  }

  // ---- the sync --------------------------------------------------------------------------------------------

  /** One sync, now (the runner calls this; tests may too). Never throws: failures are logged, counted, retried. */
  async syncProxyRules(): Promise<SyncReport> {
    if (!this.initialized) {
      this.log.debug('not syncing iptables until Services and Endpoints have been received');
      return { full: false, ok: false };
    }
    const start = process.hrtime.bigint();
    const startedAt = Date.now();
    // The periodic run comes syncPeriod after the last run started; measure from starts too.
    const full = this.needFullSync || startedAt - this.lastFullSync >= this.syncPeriodMs - 5;
    const changed = this.pending;
    this.pending = new Set();
    const services = buildServicePortMap(this.services.values());
    const endpoints = buildEndpointsMap(this.endpoints.values(), this.opts.nodeName);
    let report: SyncReport;
    try {
      let existing = new Set(this.activeChains);
      // A full sync checks the jumps from the built-in chains, with commands started before the rendering so that
      // they run while it does. The first sync (and the first after a failure) reads nat and filter with one
      // iptables-save, which also shows service chains left by an earlier run, to delete; later full syncs know every
      // chain they made, and read only the small filter table plus one `iptables -C` per nat jump.
      const readAll = full && this.needSave;
      const checks = full ? this.startJumpChecks(readAll) : undefined;
      let result = renderRules({
        services,
        endpoints,
        options: this.opts.render ?? {},
        ...(full ? {} : { changedServices: changed, previousShared: this.appliedShared }),
        existingNatChains: existing,
      });
      if (checks) {
        const { missing, natSave } = await checks;
        for (const j of missing) await ensureJump(this.opts.run, j);
        if (natSave !== undefined) {
          const before = existing.size;
          existing = new Set([...existing, ...chainsInSave(natSave)]);
          // Chains only the kernel knew of (left by an earlier run): render again so that they are deleted too.
          if (existing.size > before && [...existing].some((c) => isServiceChainName(c) && !result.activeNatChains.has(c) && !result.deletedNatChains.includes(c))) {
            result = renderRules({ services, endpoints, options: this.opts.render ?? {}, existingNatChains: existing });
          }
        }
      }
      this.metrics.rulesTotal.set({ table: 'filter' }, result.filterRules);
      this.metrics.rulesLastSync.set({ table: 'filter' }, result.filterRules);
      this.metrics.rulesTotal.set({ table: 'nat' }, result.natRulesTotal);
      this.metrics.rulesLastSync.set({ table: 'nat' }, result.natRules);
      try {
        await mustRun(this.opts.run, 'iptables-restore', ['-w', '--noflush', '--counters'], result.text);
      } catch (err) {
        this.metrics.restoreFailures.inc();
        if (!full) this.metrics.partialRestoreFailures.inc();
        throw err;
      }
      this.activeChains = result.activeNatChains;
      this.needFullSync = false;
      this.needSave = false;
      this.appliedShared = result.shared;
      if (full) this.lastFullSync = startedAt;
      this.failures = 0;
      this.metrics.lastSyncTimestamp.setToCurrentTime();
      await this.cleanConntrack(services, endpoints);
      this.appliedServices = services;
      this.appliedEndpoints = endpoints;
      report = { full, ok: true, result };
      this.log.debug({ full, changed: changed.size, natRules: result.natRules, filterRules: result.filterRules }, 'synced iptables rules');
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      // The changes are not in the kernel: keep them pending, and make the retry a full sync.
      for (const k of changed) this.pending.add(k);
      this.needFullSync = true;
      this.needSave = true;
      this.failures++;
      const delay = Math.min((this.opts.retryBaseMs ?? Math.max(this.minSyncPeriodMs, 100)) * 2 ** Math.min(this.failures - 1, 16), this.syncPeriodMs);
      this.log.error({ err: error.message, full, retryInMs: delay }, 'failed to sync iptables rules');
      this.runner.retryAfter(delay);
      report = { full, ok: false, error };
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    this.metrics.syncDuration.observe(seconds);
    (full ? this.metrics.syncFullDuration : this.metrics.syncPartialDuration).observe(seconds);
    this.history.push(report);
    if (this.history.length > 50) this.history.shift();
    return report;
  }


  /** The jumps to ensure (and, when `readAll`, the nat table as iptables-save shows it). */
  private async startJumpChecks(readAll: boolean): Promise<{ missing: JumpRule[]; natSave?: string }> {
    if (readAll) {
      const saved = (await mustRun(this.opts.run, 'iptables-save', [])).stdout;
      return { missing: missingJumps(saved), natSave: tableSection(saved, 'nat') };
    }
    const natJumps = JUMP_RULES.filter((j) => j.table === 'nat');
    const [filterSave, ...natChecks] = await Promise.all([
      mustRun(this.opts.run, 'iptables-save', ['-t', 'filter']),
      ...natJumps.map((j) => this.opts.run('iptables', ['-w', '-t', 'nat', '-C', j.from, ...jumpRuleArgs(j)])),
    ]);
    const missingFilter = missingJumps(filterSave.stdout).filter((j) => j.table === 'filter');
    return { missing: [...missingFilter, ...natJumps.filter((_, i) => natChecks[i]?.exitCode !== 0)] };
  }

  private async cleanConntrack(services: ServicePortMap, endpoints: EndpointsMap): Promise<void> {
    for (const args of staleConntrackArgs(this.appliedServices, this.appliedEndpoints, services, endpoints)) {
      const r = await this.opts.run('conntrack', args);
      if (r.exitCode !== 0 && !conntrackNothingDeleted(r.stderr)) {
        this.metrics.conntrackFailures.inc();
        this.log.warn({ args, err: r.stderr.trim() }, 'failed to delete stale UDP conntrack entries');
      }
    }
  }
}

/** The "*table ... COMMIT" part of an iptables-save dump. */
export function tableSection(save: string, table: string): string {
  const start = save.indexOf(`*${table}\n`);
  if (start < 0) return '';
  const end = save.indexOf('\nCOMMIT', start);
  return save.slice(start, end < 0 ? undefined : end);
}

/** The jump rules an iptables-save dump does not show (as iptables-save prints them: comments quoted). */
export function missingJumps(save: string): JumpRule[] {
  const lines = { filter: new Set(tableSection(save, 'filter').split('\n')), nat: new Set(tableSection(save, 'nat').split('\n')) };
  return JUMP_RULES.filter((j) => {
    const args = jumpRuleArgs(j).map((a) => (/\s/.test(a) ? `"${a}"` : a));
    return !lines[j.table].has(`-A ${j.from} ${args.join(' ')}`);
  });
}

/** Creates the target chain if needed and inserts the jump at the top of the built-in chain unless it is there. */
export async function ensureJump(run: CommandRunner, j: JumpRule): Promise<void> {
  const created = await run('iptables', ['-w', '-t', j.table, '-N', j.to]);
  if (created.exitCode !== 0 && !/exists/i.test(created.stderr)) throw new CommandError('iptables', ['-t', j.table, '-N', j.to], created);
  const args = jumpRuleArgs(j);
  const check = await run('iptables', ['-w', '-t', j.table, '-C', j.from, ...args]);
  if (check.exitCode === 0) return;
  await mustRun(run, 'iptables', ['-w', '-t', j.table, '-I', j.from, '1', ...args]);
}

/**
 * `skiff proxy --cleanup`: removes every jump, chain and rule the proxy made (both modes), and nothing else.
 * Returns the errors met (empty when all went well).
 */
export async function cleanupIptables(run: CommandRunner): Promise<Error[]> {
  const errors: Error[] = [];
  for (const j of [...JUMP_RULES, ...USERSPACE_JUMP_RULES]) {
    // Delete every copy of the jump.
    for (let i = 0; i < 100; i++) {
      const r = await run('iptables', ['-w', '-t', j.table, '-D', j.from, ...jumpRuleArgs(j)]);
      if (r.exitCode !== 0) break;
    }
  }
  try {
    const nat = await mustRun(run, 'iptables-save', ['-t', 'nat']);
    const filter = await mustRun(run, 'iptables-save', ['-t', 'filter']);
    const text = renderCleanup(nat.stdout, filter.stdout, USERSPACE_NAT_CHAINS);
    if (text) await mustRun(run, 'iptables-restore', ['-w', '--noflush'], text);
  } catch (e) {
    errors.push(e instanceof Error ? e : new Error(String(e)));
  }
  return errors;
}
