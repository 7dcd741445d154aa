import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { Registry } from 'prom-client';
import type { Endpoints, Service } from '../control/api/core/index.js';
import type { EndpointSlice } from '../control/api/discovery/endpointslice.js';
import { Informer, KubeClient, loadKubeconfig, type Connection } from '../control/client/index.js';
import { createLogger, type Logger } from '../lib/log.js';
import { sendMetrics } from '../lib/metrics-response.js';
import { parseResolvConf } from '../lib/resolvconf.js';
import { DEFAULT_DNS_TTL } from './dns/answer.js';
import { resolverUpstream } from './dns/forward.js';
import { ClusterDnsServer } from './dns/server.js';
import { ClusterDnsView } from './dns/view.js';
import { execRunner, type CommandRunner } from './exec.js';
import { cleanupIptables, IptablesProxier } from './iptables/proxier.js';
import { ensureLinkRoutes, keepLinkRoutes, removeRouteLink, SERVICE_ROUTE_DEVICE } from './service-route.js';
import { createProxyMetrics } from './metrics.js';
import { firstNodeIP, masqueradeMark, nodeName, nodePortIPs, parseProxyFlags, ProxyConfigError, proxyHelp, type DnsConfig, type ProxyConfig } from './options.js';
import { UserspaceProxier } from './userspace/proxier.js';

/** What both proxy modes offer the informers. */
export interface ProxyProvider {
  onServiceAdd(svc: Service): void;
  onServiceUpdate(oldSvc: Service | undefined, svc: Service): void;
  onServiceDelete(svc: Service): void;
  onEndpointsAdd(ep: Endpoints): void;
  onEndpointsUpdate(oldEp: Endpoints | undefined, ep: Endpoints): void;
  onEndpointsDelete(ep: Endpoints): void;
  onEndpointSliceAdd(slice: EndpointSlice): void;
  onEndpointSliceUpdate(oldSlice: EndpointSlice | undefined, slice: EndpointSlice): void;
  onEndpointSliceDelete(slice: EndpointSlice): void;
  onServicesSynced(): void;
  onEndpointsSynced(): void;
  start(): void;
  stop(): Promise<void>;
  /** Userspace mode: where the cluster DNS takes the node's own UDP queries (ClusterDnsServer.loopbackPort). */
  setClusterDnsLoopbackPort?(port: number | undefined): void;
}

export interface ProxyDeps {
  run?: CommandRunner;
  logger?: Logger;
  registry?: Registry;
}

export function createProvider(cfg: ProxyConfig, deps: Required<ProxyDeps>): ProxyProvider {
  const metrics = createProxyMetrics(deps.registry);
  const common = { run: deps.run, nodeName: nodeName(cfg), metrics, logger: deps.logger, minSyncPeriodMs: cfg.minSyncPeriodMs, syncPeriodMs: cfg.syncPeriodMs };
  const clusterDNS = cfg.dns ? { serviceIP: cfg.dns.clusterDNS, address: cfg.dns.bindAddress, port: cfg.dns.port } : undefined;
  if (cfg.proxyMode === 'userspace') return new UserspaceProxier({ ...common, listenIP: cfg.bindAddress, udpIdleTimeoutMs: cfg.udpTimeoutMs, ...(clusterDNS ? { clusterDNS } : {}) });
  const ips = nodePortIPs(cfg.nodePortAddresses);
  const nodeIP = firstNodeIP();
  return new IptablesProxier({
    ...common,
    render: {
      masqueradeMark: masqueradeMark(cfg.masqueradeBit),
      masqueradeAll: cfg.masqueradeAll,
      localhostNodePorts: cfg.localhostNodePorts,
      ...(cfg.clusterCIDR ? { clusterCIDR: cfg.clusterCIDR } : {}),
      ...(ips ? { nodePortIPs: ips } : {}),
      ...(nodeIP ? { nodeIP } : {}),
      ...(clusterDNS ? { clusterDNS } : {}),
    },
  });
}

/** Where a proxy's endpoints come from: EndpointSlices (upstream's kube-proxy) or, as a fallback, v1 Endpoints. */
export type EndpointsSource = 'endpointslices' | 'endpoints';

/**
 * Feeds Service and EndpointSlice (or Endpoints) informers into one or more consumers (the proxier, the cluster
 * DNS); returns a stopper. The informers are shared: one list and watch per resource whatever the consumers.
 */
export function connectInformers(
  client: KubeClient,
  consumers: ProxyProvider | ProxyProvider[],
  logger: Logger,
  source: EndpointsSource = 'endpointslices',
): { stop(): void; synced: Promise<void> } {
  const all = Array.isArray(consumers) ? consumers : [consumers];
  const onError = (err: Error): void => logger.warn({ err: err.message }, 'watch failed; relisting');
  const services = new Informer<Service>(client, { group: '', version: 'v1', resource: 'services' }, { onError });
  services.addHandlers({
    onAdd: (s) => all.forEach((p) => p.onServiceAdd(s)),
    onUpdate: (o, s) => all.forEach((p) => p.onServiceUpdate(o, s)),
    onDelete: (s) => all.forEach((p) => p.onServiceDelete(s)),
  });
  let endpointsSynced: Promise<void>;
  let stopEndpoints: () => void;
  if (source === 'endpoints') {
    const endpoints = new Informer<Endpoints>(client, { group: '', version: 'v1', resource: 'endpoints' }, { onError });
    endpoints.addHandlers({
      onAdd: (e) => all.forEach((p) => p.onEndpointsAdd(e)),
      onUpdate: (o, e) => all.forEach((p) => p.onEndpointsUpdate(o, e)),
      onDelete: (e) => all.forEach((p) => p.onEndpointsDelete(e)),
    });
    endpoints.start();
    endpointsSynced = endpoints.waitForSync();
    stopEndpoints = () => endpoints.stop();
  } else {
    const slices = new Informer<EndpointSlice>(client, { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' }, { onError });
    slices.addHandlers({
      onAdd: (e) => all.forEach((p) => p.onEndpointSliceAdd(e)),
      onUpdate: (o, e) => all.forEach((p) => p.onEndpointSliceUpdate(o, e)),
      onDelete: (e) => all.forEach((p) => p.onEndpointSliceDelete(e)),
    });
    slices.start();
    endpointsSynced = slices.waitForSync();
    stopEndpoints = () => slices.stop();
  }
  services.start();
  const synced = Promise.all([
    services.waitForSync().then(() => all.forEach((p) => p.onServicesSynced())),
    endpointsSynced.then(() => all.forEach((p) => p.onEndpointsSynced())),
  ]).then(() => undefined);
  return {
    synced,
    stop: () => {
      services.stop();
      stopEndpoints();
    },
  };
}

async function connection(cfg: ProxyConfig): Promise<Connection> {
  const conn: Connection = cfg.kubeconfig ? await loadKubeconfig(cfg.kubeconfig) : { server: cfg.master ?? '' };
  if (cfg.master) conn.server = cfg.master;
  if (!conn.server) throw new ProxyConfigError('no API server: pass --kubeconfig (or set KUBECONFIG) or --master');
  return conn;
}

function serveMetrics(registry: Registry, bind: string, logger: Logger): Promise<Server | undefined> {
  const i = bind.lastIndexOf(':');
  const host = bind.slice(0, i) || '0.0.0.0';
  const port = Number(bind.slice(i + 1));
  if (port === 0) return Promise.resolve(undefined);
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      sendMetrics(res, registry);
    } else if (req.url === '/healthz' || req.url === '/livez') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      logger.info({ address: bind }, 'metrics listening');
      resolve(server);
    });
  });
}

/**
 * The cluster DNS of this node: a view fed by the informers, a server on --dns-bind-address:--dns-port, names outside
 * the cluster domain forwarded to the nameservers of --resolv-conf. A port that cannot be bound yet (an address not
 * there yet) is retried in the background rather than stopping the proxy.
 */
export async function startClusterDns(
  cfg: DnsConfig,
  logger: Logger,
  registry: Registry,
  onListening: (server: ClusterDnsServer) => void = () => {},
): Promise<{ view: ClusterDnsView; stop(): Promise<void> }> {
  const view = new ClusterDnsView(cfg.clusterDomain);
  let servers: string[] = [];
  try {
    servers = parseResolvConf(await readFile(cfg.resolvConf, 'utf8')).nameservers;
  } catch (err) {
    logger.warn({ file: cfg.resolvConf, err: err instanceof Error ? err.message : String(err) }, 'cannot read the resolver configuration; names outside the cluster get SERVFAIL');
  }
  const server = new ClusterDnsServer({
    view,
    upstream: resolverUpstream(servers, cfg.upstreamTimeoutMs),
    config: { domain: cfg.clusterDomain, ttl: DEFAULT_DNS_TTL },
    host: cfg.bindAddress,
    port: cfg.port,
    logger,
    registry,
  });
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  const tryStart = async (): Promise<void> => {
    try {
      await server.start();
      onListening(server);
    } catch (err) {
      if (stopped) return;
      logger.error({ address: `${cfg.bindAddress}:${cfg.port}`, err: err instanceof Error ? err.message : String(err) }, 'cannot listen for DNS; retrying in 5s');
      retry = setTimeout(() => void tryStart(), 5000);
    }
  };
  await tryStart();
  return {
    view,
    stop: async () => {
      stopped = true;
      clearTimeout(retry);
      await server.stop();
    },
  };
}

/** `skiff proxy`: runs until SIGTERM/SIGINT (rules stay in place, as upstream); `--cleanup` removes them and exits. */
export async function runProxy(argv: string[], deps: ProxyDeps = {}): Promise<number> {
  let cfg: ProxyConfig;
  try {
    cfg = parseProxyFlags(argv);
  } catch (err) {
    if (err instanceof ProxyConfigError) {
      process.stderr.write(`skiff proxy: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (cfg.help) {
    process.stdout.write(`${proxyHelp()}\n`);
    return 0;
  }
  const logger = deps.logger ?? createLogger('skiff-proxy');
  const run = deps.run ?? execRunner();
  if (cfg.cleanup) {
    const errors = await cleanupIptables(run);
    await removeRouteLink(run).catch((e: unknown) => errors.push(e instanceof Error ? e : new Error(String(e))));
    for (const e of errors) logger.error({ err: e.message }, 'cleanup failed');
    if (!errors.length) logger.info(`removed every iptables rule and chain of the proxy, and the link ${SERVICE_ROUTE_DEVICE}`);
    logger.flush?.();
    return errors.length ? 1 : 0;
  }
  let conn: Connection;
  try {
    conn = await connection(cfg);
  } catch (err) {
    process.stderr.write(`skiff proxy: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  const routedRanges = { serviceRange: cfg.serviceClusterIPRange, podRange: cfg.clusterCIDR };
  try {
    await ensureLinkRoutes(run, routedRanges, logger);
  } catch (err) {
    logger.fatal({ err: err instanceof Error ? err.message : String(err), ranges: routedRanges }, 'cannot route the Service and pod ranges to a link of their own');
    logger.flush?.();
    return 1;
  }
  const registry = deps.registry ?? new Registry();
  const provider = createProvider(cfg, { run, logger, registry });
  let metricsServer: Server | undefined;
  try {
    metricsServer = await serveMetrics(registry, cfg.metricsBindAddress, logger);
  } catch (err) {
    logger.fatal({ err: err instanceof Error ? err.message : String(err), address: cfg.metricsBindAddress }, 'cannot listen on the metrics address');
    return 1;
  }
  const stopLinkRoutes = keepLinkRoutes(run, routedRanges, cfg.syncPeriodMs, logger);
  logger.info({ mode: cfg.proxyMode, node: nodeName(cfg), minSyncPeriodMs: cfg.minSyncPeriodMs, syncPeriodMs: cfg.syncPeriodMs }, 'starting proxy');
  const client = new KubeClient(conn, 'skiff-proxy');
  const dns = cfg.dns ? await startClusterDns(cfg.dns, logger.child({ component: 'dns' }), registry, (server) => provider.setClusterDnsLoopbackPort?.(server.loopbackPort || undefined)) : undefined;
  const informers = connectInformers(client, dns ? [provider, dns.view] : provider, logger, cfg.endpointsSource);
  provider.start();
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ signal }, 'stopping proxy; rules stay in place (use --cleanup to remove them)');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  informers.stop();
  stopLinkRoutes();
  await provider.stop();
  await dns?.stop();
  await new Promise<void>((r) => (metricsServer ? metricsServer.close(() => r()) : r()));
  logger.flush?.();
  return 0;
}
