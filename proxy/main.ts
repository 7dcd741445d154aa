import { createServer, type Server } from 'node:http';
import { Registry } from 'prom-client';
import type { Endpoints, Service } from '../control/api/core/index.js';
import { Informer, KubeClient, loadKubeconfig, type Connection } from '../control/client/index.js';
import { createLogger, type Logger } from '../lib/log.js';
import { execRunner, type CommandRunner } from './exec.js';
import { cleanupIptables, IptablesProxier } from './iptables/proxier.js';
import { createProxyMetrics } from './metrics.js';
import { masqueradeMark, nodeName, nodePortIPs, parseProxyFlags, ProxyConfigError, proxyHelp, type ProxyConfig } from './options.js';
import { UserspaceProxier } from './userspace/proxier.js';

/** What both proxy modes offer the informers. */
export interface ProxyProvider {
  onServiceAdd(svc: Service): void;
  onServiceUpdate(oldSvc: Service | undefined, svc: Service): void;
  onServiceDelete(svc: Service): void;
  onEndpointsAdd(ep: Endpoints): void;
  onEndpointsUpdate(oldEp: Endpoints | undefined, ep: Endpoints): void;
  onEndpointsDelete(ep: Endpoints): void;
  onServicesSynced(): void;
  onEndpointsSynced(): void;
  start(): void;
  stop(): Promise<void>;
}

export interface ProxyDeps {
  run?: CommandRunner;
  logger?: Logger;
  registry?: Registry;
}

export function createProvider(cfg: ProxyConfig, deps: Required<ProxyDeps>): ProxyProvider {
  const metrics = createProxyMetrics(deps.registry);
  const common = { run: deps.run, nodeName: nodeName(cfg), metrics, logger: deps.logger, minSyncPeriodMs: cfg.minSyncPeriodMs, syncPeriodMs: cfg.syncPeriodMs };
  if (cfg.proxyMode === 'userspace') return new UserspaceProxier({ ...common, listenIP: cfg.bindAddress, udpIdleTimeoutMs: cfg.udpTimeoutMs });
  const ips = nodePortIPs(cfg.nodePortAddresses);
  return new IptablesProxier({
    ...common,
    render: {
      masqueradeMark: masqueradeMark(cfg.masqueradeBit),
      masqueradeAll: cfg.masqueradeAll,
      ...(cfg.clusterCIDR ? { clusterCIDR: cfg.clusterCIDR } : {}),
      ...(ips ? { nodePortIPs: ips } : {}),
    },
  });
}

/** Feeds Service and Endpoints informers into a proxy; returns a stopper. */
export function connectInformers(client: KubeClient, provider: ProxyProvider, logger: Logger): { stop(): void; synced: Promise<void> } {
  const onError = (err: Error): void => logger.warn({ err: err.message }, 'watch failed; relisting');
  const services = new Informer<Service>(client, { group: '', version: 'v1', resource: 'services' }, { onError });
  const endpoints = new Informer<Endpoints>(client, { group: '', version: 'v1', resource: 'endpoints' }, { onError });
  services.addHandlers({
    onAdd: (s) => provider.onServiceAdd(s),
    onUpdate: (o, s) => provider.onServiceUpdate(o, s),
    onDelete: (s) => provider.onServiceDelete(s),
  });
  endpoints.addHandlers({
    onAdd: (e) => provider.onEndpointsAdd(e),
    onUpdate: (o, e) => provider.onEndpointsUpdate(o, e),
    onDelete: (e) => provider.onEndpointsDelete(e),
  });
  services.start();
  endpoints.start();
  const synced = Promise.all([services.waitForSync().then(() => provider.onServicesSynced()), endpoints.waitForSync().then(() => provider.onEndpointsSynced())]).then(() => undefined);
  return {
    synced,
    stop: () => {
      services.stop();
      endpoints.stop();
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
      void registry.metrics().then((text) => {
        res.writeHead(200, { 'Content-Type': registry.contentType });
        res.end(text);
      });
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
    for (const e of errors) logger.error({ err: e.message }, 'cleanup failed');
    if (!errors.length) logger.info('removed every iptables rule and chain of the proxy');
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
  const registry = deps.registry ?? new Registry();
  const provider = createProvider(cfg, { run, logger, registry });
  let metricsServer: Server | undefined;
  try {
    metricsServer = await serveMetrics(registry, cfg.metricsBindAddress, logger);
  } catch (err) {
    logger.fatal({ err: err instanceof Error ? err.message : String(err), address: cfg.metricsBindAddress }, 'cannot listen on the metrics address');
    return 1;
  }
  logger.info({ mode: cfg.proxyMode, node: nodeName(cfg), minSyncPeriodMs: cfg.minSyncPeriodMs, syncPeriodMs: cfg.syncPeriodMs }, 'starting proxy');
  const client = new KubeClient(conn, 'skiff-proxy');
  const informers = connectInformers(client, provider, logger);
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
  await provider.stop();
  await new Promise<void>((r) => (metricsServer ? metricsServer.close(() => r()) : r()));
  logger.flush?.();
  return 0;
}
