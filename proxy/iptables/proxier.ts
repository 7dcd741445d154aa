import { Registry } from 'prom-client';
import type { Service } from '../../control/api/core/index.js';
import type { ServiceEndpoints } from '../endpoints.js';
import { EndpointsEventHandlers } from '../endpoints-events.js';
import { silentLogger, type Logger } from '../../lib/log.js';
import { conntrackNothingDeleted, staleConntrackArgs } from '../conntrack.js';
import { CommandError, mustRun, type CommandRunner } from '../exec.js';
import { createProxyMetrics, type ProxyMetrics } from '../metrics.js';
import { endpointsByPort, namespacedName, servicePorts, type EndpointInfo, type EndpointsMap, type ServicePortInfo, type ServicePortMap } from '../model.js';
import { BoundedFrequencyRunner } from '../runner.js';
import { USERSPACE_JUMP_RULES, USERSPACE_NAT_CHAINS } from '../userspace/rules.js';
import { ensureRouteLocalnet } from './route-localnet.js';
import { chainsInSave, DEFAULT_RENDER_OPTIONS, failedJumpCheck, isServiceChainName, JUMP_RULES, jumpRuleArgs, jumpRuleText, localhostNodePortsActive, renderCleanup, renderRules, ServiceRulesCache, type JumpRule, type RenderOptions, type RenderResult } from './rules.js';

/**
 * The iptables proxier: tracks Service and Endpoints changes, and a bounded-frequency runner turns them into one
 * `iptables-restore --noflush` per sync. A full sync (at start, every syncPeriod, after a failure) writes every
 * chain and deletes stale ones; a partial sync in between rewrites only the changed services' chains. Each Service's
 * ports and endpoints are worked out once per change and kept, and the rules of each service port are rendered once
 * per change too (ServiceRulesCache): a sync only puts together what it already has.
 *
 * The jumps from the built-in chains (PREROUTING, OUTPUT, ...) into the proxy's chains cannot be part of a --noflush
 * restore without rewriting those chains, so they are put in place with iptables -C/-I on the first sync. Upstream
 * notices a flush of the tables with a canary chain polled every sync period (pkg/util/iptables Monitor) and ensures
 * the jumps with ~20 iptables calls on each full sync. Here each sync's restore text checks every jump itself (`-C`
 * lines, see renderRules' checkJumps): a regular sync, full or partial, is one iptables-restore and nothing else, and
 * a flush (even `iptables -t nat -F`, which leaves a canary chain in place) is caught by the next sync, at most
 * syncPeriod later, which then reads the tables, puts the jumps back and rewrites every chain.
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
  /** The ports of each Service ("namespace/name") and what they were computed from (JSON), as of the last change. */
  private readonly services = new Map<string, { ports: ServicePortInfo[]; fingerprint: string }>();
  /** The endpoints of each Service by service port name, and their fingerprint (JSON). */
  private readonly endpoints = new Map<string, { byPort: Map<string, EndpointInfo[]>; fingerprint: string }>();
  /** The rendered rules of each service port, kept from one sync to the next. */
  private readonly rulesCache = new ServiceRulesCache();
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
  /** Whether route_localnet has been seen set (or set) for localhost NodePorts; checked once per process. */
  private routeLocalnetEnsured = false;
  private activeChains = new Set<string>();
  private appliedServices: ServicePortMap = new Map();
  private appliedEndpoints: EndpointsMap = new Map();
  private failures = 0;
  private clusterDnsLoopbackPort: number | undefined;
  /** Whether iptables is iptables-nft, as the first iptables-save said: where the jump checks cost least (renderRules). */
  private nftBackend = false;
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
    const ports = svc ? servicePorts(svc) : [];
    const fingerprint = svc ? JSON.stringify(ports) : '';
    // An update that changes nothing the rules depend on keeps the objects (and so the cached rules) as they are.
    if (fingerprint === (this.services.get(key)?.fingerprint ?? '')) return;
    if (svc) this.services.set(key, { ports, fingerprint });
    else this.services.delete(key);
    this.metrics.serviceChanges.inc();
    this.pending.add(key);
    this.requestSync();
  }

  protected setEndpoints(key: string, ep: ServiceEndpoints | undefined): void {
    const byPort = ep ? endpointsByPort(ep, this.opts.nodeName) : new Map<string, EndpointInfo[]>();
    const fingerprint = ep ? JSON.stringify([...byPort]) : '';
    if (fingerprint === (this.endpoints.get(key)?.fingerprint ?? '')) return;
    if (ep) this.endpoints.set(key, { byPort, fingerprint });
    else this.endpoints.delete(key);
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
  async idle(): Promise<void> {
    await this.runner.idle();
  }

  /**
   * The cluster DNS server's UDP socket on 127.0.0.1 (ClusterDnsServer.loopbackPort), known once it listens: the
   * node's own queries to the DNS Service IP go there from the next (full) sync on.
   */
  setClusterDnsLoopbackPort(port: number | undefined): void {
    if (!this.opts.render?.clusterDNS || this.clusterDnsLoopbackPort === port) return;
    this.clusterDnsLoopbackPort = port;
    this.forceFullSync();
  }

  /** The render options, with what was learned since the proxier was made. */
  private renderOptions(): Partial<RenderOptions> {
    const o = this.opts.render ?? {};
    return o.clusterDNS && this.clusterDnsLoopbackPort ? { ...o, clusterDNS: { ...o.clusterDNS, loopbackPort: this.clusterDnsLoopbackPort } } : o;
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
    let full = this.needFullSync || startedAt - this.lastFullSync >= this.syncPeriodMs - 5;
    const changed = this.pending;
    this.pending = new Set();
    const services: ServicePortMap = new Map();
    for (const s of this.services.values()) for (const p of s.ports) services.set(p.name, p);
    const endpoints: EndpointsMap = new Map();
    for (const e of this.endpoints.values()) for (const [name, list] of e.byPort) if (list.length) endpoints.set(name, list);
    let report: SyncReport;
    try {
      // Before any rule that sends 127.0.0.0/8 traffic to a NodePort: without route_localnet the kernel drops it.
      if (!this.routeLocalnetEnsured && localhostNodePortsActive({ ...DEFAULT_RENDER_OPTIONS, ...this.opts.render })) {
        await ensureRouteLocalnet(this.opts.run, this.log);
        this.routeLocalnetEnsured = true;
      }
      let result: RenderResult;
      try {
        result = await this.apply(services, endpoints, full ? undefined : changed, this.needSave);
      } catch (e) {
        // The restore's own jump checks found a jump missing: someone flushed the tables (or deleted the jump). Nothing
        // of that table was applied; read the tables, put the jumps back and rewrite every chain, now. Right after
        // the jumps were put back, a failed check is a failure like any other.
        if (!(e instanceof JumpsMissing) || this.needSave) throw e;
        this.log.warn({ check: e.line }, 'a jump into the proxy chains is missing (were the tables flushed?); restoring the jumps and every chain');
        full = true;
        this.needSave = true;
        result = await this.apply(services, endpoints, undefined, true);
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
    // Only the newest report keeps its restore text and chain sets: at 5,000 services one text is ~8 MB.
    const previous = this.history.at(-1);
    if (previous?.result) this.history[this.history.length - 1] = { ...previous, result: summarizeRender(previous.result) };
    this.history.push(report);
    if (this.history.length > 50) this.history.shift();
    return report;
  }

  /**
   * Renders the rules (a partial sync when `changed` is given) and applies them with one iptables-restore, whose
   * text also checks the jumps from the built-in chains (renderRules' checkJumps): a regular sync runs that one
   * process and nothing else. With `readAll` (the first sync, after a failure, after the checks found a jump
   * missing), one iptables-save started before the rendering (it takes no xtables lock, so it runs while the rules
   * are rendered) shows the missing jumps, put back before the restore, and service chains left by an earlier run,
   * deleted by it.
   */
  private async apply(services: ServicePortMap, endpoints: EndpointsMap, changed: ReadonlySet<string> | undefined, readAll: boolean): Promise<RenderResult> {
    let existing: ReadonlySet<string> = this.activeChains;
    const save = readAll ? settled(mustRun(this.opts.run, 'iptables-save', []).then((r) => r.stdout)) : undefined;
    const render = (existingNatChains: ReadonlySet<string>, partial: ReadonlySet<string> | undefined): RenderResult =>
      renderRules({
        services,
        endpoints,
        options: this.renderOptions(),
        ...(partial ? { changedServices: partial, previousShared: this.appliedShared } : {}),
        existingNatChains,
        cache: this.rulesCache,
        checkJumps: this.nftBackend ? 'separate' : 'inline',
      });
    let result = render(existing, changed);
    if (save) {
      const saved = await save;
      if ('error' in saved) throw saved.error;
      const nft = isNftSave(saved.value);
      const layoutChanged = nft !== this.nftBackend;
      this.nftBackend = nft;
      for (const j of missingJumps(saved.value)) await ensureJump(this.opts.run, j);
      const before = existing.size;
      existing = new Set([...existing, ...chainsInSave(tableSection(saved.value, 'nat'))]);
      // Chains only the kernel knew of (left by an earlier run): render again so that they are deleted too; and when
      // the checks belong elsewhere for this backend.
      if (layoutChanged || (existing.size > before && [...existing].some((c) => isServiceChainName(c) && !result.activeNatChains.has(c) && !result.deletedNatChains.includes(c)))) {
        result = render(existing, changed);
      }
    }
    this.metrics.rulesTotal.set({ table: 'filter' }, result.filterRules);
    this.metrics.rulesLastSync.set({ table: 'filter' }, result.filterRules);
    this.metrics.rulesTotal.set({ table: 'nat' }, result.natRulesTotal);
    this.metrics.rulesLastSync.set({ table: 'nat' }, result.natRules);
    try {
      await mustRun(this.opts.run, 'iptables-restore', ['-w', '--noflush', '--counters'], result.text);
    } catch (err) {
      const check = err instanceof CommandError ? failedJumpCheck(err.result.stderr, result.text) : undefined;
      if (check) throw new JumpsMissing(check);
      this.metrics.restoreFailures.inc();
      if (changed) this.metrics.partialRestoreFailures.inc();
      throw err;
    }
    return result;
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

/** The restore stopped at one of its jump checks (`line`): that jump is not in the kernel. */
class JumpsMissing extends Error {
  constructor(readonly line: string) {
    super(`iptables-restore: jump missing: ${line}`);
  }
}

/** A promise's outcome without rejecting: nothing goes unhandled while the sync awaits other things first. */
function settled<T>(p: Promise<T>): Promise<{ value: T } | { error: unknown }> {
  return p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

/** Whether an iptables-save dump comes from iptables-nft ("# Generated by iptables-nft-save v1.8.9 (nf_tables) on ..."). */
export function isNftSave(save: string): boolean {
  const end = save.indexOf('\n');
  return (end < 0 ? save : save.slice(0, end)).includes('(nf_tables)');
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
  // The dump holds every rule (megabytes with thousands of services): look the few lines up where they would be
  // rather than splitting it all.
  const bounds = (table: string): [number, number] => {
    const start = save.indexOf(`*${table}\n`);
    if (start < 0) return [-1, -1];
    const end = save.indexOf('\nCOMMIT', start);
    return [start, end < 0 ? save.length : end];
  };
  const tables = { filter: bounds('filter'), nat: bounds('nat') };
  return JUMP_RULES.filter((j) => {
    const [start, end] = tables[j.table];
    if (start < 0) return true;
    const at = save.indexOf(`\n-A ${jumpRuleText(j)}\n`, start);
    return at < 0 || at >= end;
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

/** A render's figures without the text, sets and maps it was made of. */
function summarizeRender(r: RenderResult): RenderResult {
  return { ...r, text: '', activeNatChains: new Set(), deletedNatChains: [], shared: new Map() };
}
