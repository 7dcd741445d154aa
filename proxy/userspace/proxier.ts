import { Registry } from 'prom-client';
import type { Service } from '../../control/api/core/index.js';
import type { ServiceEndpoints } from '../endpoints.js';
import { EndpointsEventHandlers } from '../endpoints-events.js';
import { silentLogger, type Logger } from '../../lib/log.js';
import { mustRun, type CommandRunner } from '../exec.js';
import { ensureJump } from '../iptables/proxier.js';
import { createProxyMetrics, type ProxyMetrics } from '../metrics.js';
import { buildEndpointsMap, buildServicePortMap, namespacedName, usableEndpoints, type ServicePortInfo } from '../model.js';
import { BoundedFrequencyRunner } from '../runner.js';
import { RoundRobin } from './roundrobin.js';
import { renderUserspaceRules, USERSPACE_JUMP_RULES, type ClusterDnsPortal, type Portal } from './rules.js';
import { listenTCP, listenUDP, type ProxySocket } from './socket.js';

/**
 * The userspace proxier: one listener per service port inside this process, true round robin over the ready
 * endpoints, and iptables rules that redirect each ClusterIP:port (and NodePort) to its listener.
 */

export interface UserspaceProxierOptions {
  run: CommandRunner;
  nodeName: string;
  /** Where the listeners bind (default all addresses). */
  listenIP?: string;
  registry?: Registry;
  metrics?: ProxyMetrics;
  logger?: Logger;
  minSyncPeriodMs?: number;
  syncPeriodMs?: number;
  /** How long a UDP flow lives without traffic (upstream --udp-timeout, 250 ms). */
  udpIdleTimeoutMs?: number;
  /** Skip iptables altogether (tests that talk to the listeners directly). */
  noIptables?: boolean;
  /** The cluster DNS (--cluster-dns): port 53 of its Service IP goes to the proxy's DNS server, as in iptables mode. */
  clusterDNS?: ClusterDnsPortal;
}

interface Listener {
  protocol: string;
  socket: ProxySocket;
}

export class UserspaceProxier extends EndpointsEventHandlers {
  private readonly services = new Map<string, Service>();
  private readonly endpoints = new Map<string, ServiceEndpoints>();
  private readonly listeners = new Map<string, Listener>();
  readonly lb = new RoundRobin();
  readonly metrics: ProxyMetrics;
  private readonly log: Logger;
  private readonly runner: BoundedFrequencyRunner;
  private servicesSynced = false;
  private endpointsSynced = false;
  private jumpsEnsured = false;
  private failures = 0;
  private readonly warnedSCTP = new Set<string>();
  private readonly listenIP: string;
  private readonly syncPeriodMs: number;
  private readonly minSyncPeriodMs: number;
  private clusterDnsLoopbackPort: number | undefined;

  constructor(private readonly opts: UserspaceProxierOptions) {
    super();
    this.metrics = opts.metrics ?? createProxyMetrics(opts.registry ?? new Registry());
    this.log = opts.logger ?? silentLogger();
    this.listenIP = opts.listenIP ?? '0.0.0.0';
    this.minSyncPeriodMs = opts.minSyncPeriodMs ?? 1000;
    this.syncPeriodMs = opts.syncPeriodMs ?? 30_000;
    this.runner = new BoundedFrequencyRunner(() => this.sync().then(() => undefined), this.minSyncPeriodMs, this.syncPeriodMs, (err) => this.log.error({ err }, 'sync crashed'));
  }

  onServiceAdd(svc: Service): void {
    this.onServiceUpdate(undefined, svc);
  }
  onServiceUpdate(_old: Service | undefined, svc: Service): void {
    this.services.set(namespacedName(svc), svc);
    this.changed('service');
  }
  onServiceDelete(svc: Service): void {
    this.services.delete(namespacedName(svc));
    this.changed('service');
  }
  protected setEndpoints(key: string, ep: ServiceEndpoints | undefined): void {
    if (ep) this.endpoints.set(key, ep);
    else this.endpoints.delete(key);
    this.changed('endpoints');
  }
  onServicesSynced(): void {
    this.servicesSynced = true;
    this.runner.run();
  }
  onEndpointsSynced(): void {
    this.endpointsSynced = true;
    this.runner.run();
  }

  private changed(kind: 'service' | 'endpoints'): void {
    (kind === 'service' ? this.metrics.serviceChanges : this.metrics.endpointChanges).inc();
    this.metrics.lastQueuedTimestamp.setToCurrentTime();
    this.runner.run();
  }

  start(): void {
    this.runner.start();
  }

  async stop(): Promise<void> {
    await this.runner.stop();
    for (const l of this.listeners.values()) await l.socket.close();
    this.listeners.clear();
  }

  idle(): Promise<void> {
    return this.runner.idle();
  }

  /**
   * The cluster DNS server's UDP socket on 127.0.0.1 (ClusterDnsServer.loopbackPort), known once it listens: the
   * node's own queries to the DNS Service IP go there from the next sync on.
   */
  setClusterDnsLoopbackPort(port: number | undefined): void {
    if (!this.opts.clusterDNS || this.clusterDnsLoopbackPort === port) return;
    this.clusterDnsLoopbackPort = port;
    this.runner.run();
  }

  /** The port the listener of a service port ("namespace/name:port") is on. */
  proxyPort(servicePortName: string): number | undefined {
    return this.listeners.get(servicePortName)?.socket.port;
  }

  /** Opens and closes listeners to match the services, feeds the round robin, and rewrites the redirect rules. */
  async sync(): Promise<boolean> {
    if (!this.servicesSynced || !this.endpointsSynced) return false;
    const start = process.hrtime.bigint();
    const services = buildServicePortMap(this.services.values());
    const endpoints = buildEndpointsMap(this.endpoints.values(), this.opts.nodeName);
    let ok = true;
    for (const [name, l] of this.listeners) {
      const svc = services.get(name);
      if (!svc || svc.protocol !== l.protocol) {
        await l.socket.close();
        this.listeners.delete(name);
        this.lb.delete(name);
        this.log.info({ service: name }, 'closed service listener');
      }
    }
    const portals: Portal[] = [];
    for (const [name, svc] of services) {
      if (svc.protocol === 'SCTP') {
        if (!this.warnedSCTP.has(name)) this.log.warn({ service: name }, 'SCTP is not supported in userspace mode; service port skipped');
        this.warnedSCTP.add(name);
        continue;
      }
      this.lb.setAffinity(name, svc.affinitySeconds);
      this.lb.setEndpoints(name, usableEndpoints(endpoints.get(name) ?? []).map((e) => e.endpoint));
      let l = this.listeners.get(name);
      if (!l) {
        try {
          l = await this.open(svc);
          this.listeners.set(name, l);
          this.log.info({ service: name, port: l.socket.port, protocol: svc.protocol }, 'opened service listener');
        } catch (err) {
          ok = false;
          this.log.error({ service: name, err: (err as Error).message }, 'cannot open service listener');
          continue;
        }
      }
      portals.push({ name, protocol: svc.protocol, clusterIP: svc.clusterIP, port: svc.port, nodePort: svc.nodePort, externalIPs: svc.externalIPs, proxyPort: l.socket.port, ...(l.socket.loopbackPort ? { loopbackPort: l.socket.loopbackPort } : {}) });
    }
    if (!this.opts.noIptables) {
      try {
        if (!this.jumpsEnsured) {
          for (const j of USERSPACE_JUMP_RULES) await ensureJump(this.opts.run, j);
          this.jumpsEnsured = true;
        }
        await mustRun(this.opts.run, 'iptables-restore', ['-w', '--noflush', '--counters'], renderUserspaceRules(portals, this.listenIP, this.opts.clusterDNS && { ...this.opts.clusterDNS, ...(this.clusterDnsLoopbackPort ? { loopbackPort: this.clusterDnsLoopbackPort } : {}) }));
        this.metrics.rulesLastSync.set({ table: 'nat' }, portals.length);
      } catch (err) {
        ok = false;
        this.jumpsEnsured = false;
        this.metrics.restoreFailures.inc();
        this.log.error({ err: (err as Error).message }, 'failed to write userspace redirect rules');
      }
    }
    if (ok) {
      this.failures = 0;
      this.metrics.lastSyncTimestamp.setToCurrentTime();
    } else {
      this.failures++;
      this.runner.retryAfter(Math.min(Math.max(this.minSyncPeriodMs, 100) * 2 ** Math.min(this.failures - 1, 16), this.syncPeriodMs));
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    this.metrics.syncDuration.observe(seconds);
    this.metrics.syncFullDuration.observe(seconds);
    return ok;
  }

  private async open(svc: ServicePortInfo): Promise<Listener> {
    const common = {
      name: svc.name,
      lb: this.lb,
      host: this.listenIP,
      logger: this.log,
      onDialFailure: () => this.metrics.dialFailures.inc(),
    };
    if (svc.protocol === 'TCP') return { protocol: 'TCP', socket: await listenTCP(common) };
    if (svc.protocol === 'UDP') return { protocol: 'UDP', socket: await listenUDP({ ...common, ...(this.opts.udpIdleTimeoutMs !== undefined ? { idleTimeoutMs: this.opts.udpIdleTimeoutMs } : {}) }) };
    throw new Error(`protocol ${svc.protocol} is not supported in userspace mode`);
  }
}
