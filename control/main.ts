import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDuration } from '../lib/duration.js';
import { createLogger } from '../lib/log.js';
import { certificateAuthenticator, tokenFileAuthenticator, unionAuthenticator, type Authenticator } from './apiserver/authn.js';
import { defaultServerNames, ensureClusterPki } from './apiserver/pki.js';
import { chainAdmission, namespaceLifecycle } from './apiserver/admission/namespace-lifecycle.js';
import { ensureKubernetesService, ensureSystemNamespaces } from './apiserver/bootstrap.js';
import { ServiceAllocator } from './apiserver/admission/service-allocation.js';
import { defaultTolerationSeconds } from './apiserver/admission/default-toleration-seconds.js';
import { findResource, type ResourceDef } from './apiserver/resources.js';
import { createStorageAuthorizer, ensureBootstrapPolicy, nodeRestrictionAdmission, rbacEscalationAdmission, storageLister } from './apiserver/authz/index.js';
import { ApiServer } from './apiserver/server.js';
import { ObjectStorage } from './apiserver/storage/object-storage.js';
import { Registry } from 'prom-client';
import { KubeClient } from './client/index.js';
import { selectControllers, startControllerManager, type ControllerSettings } from './controllers/index.js';
import { startScheduler } from './scheduler/index.js';
import { startStoreMember } from './store/cli.js';
import type { Store } from './store/index.js';

const FLAGS = {
  'secure-port': { type: 'string', help: 'Port of the HTTPS API (default 6443)' },
  'bind-address': { type: 'string', help: 'Address to listen on (default 0.0.0.0)' },
  'advertise-address': { type: 'string', help: 'Address written into the admin kubeconfig (default 127.0.0.1)' },
  'data-dir': { type: 'string', help: 'Directory for the store and the cluster certificates (default /var/lib/skiff/control)' },
  'cert-dir': { type: 'string', help: 'Directory of the generated certificates (default <data-dir>/pki)' },
  'tls-cert-file': { type: 'string', help: 'Serving certificate to use instead of a generated one' },
  'tls-private-key-file': { type: 'string', help: 'Key of --tls-cert-file' },
  'client-ca-file': { type: 'string', help: 'CA that signs client certificates (default: the generated cluster CA)' },
  'token-auth-file': { type: 'string', help: 'Static bearer tokens, CSV: token,user,uid,"group1,group2"' },
  'service-cluster-ip-range': { type: 'string', help: 'CIDR for Service cluster IPs (default 10.96.0.0/12)' },
  'service-node-port-range': { type: 'string', help: 'Port range for NodePort Services (default 30000-32767)' },
  'event-ttl': { type: 'string', help: 'How long events are kept after their last update (default 1h)' },
  'etcd-servers': { type: 'string', help: 'Comma-separated etcd client URLs: store everything in that etcd cluster instead of the embedded store' },
  name: { type: 'string', help: 'Embedded store: this member\'s name (default "default")' },
  'initial-cluster': { type: 'string', help: 'Embedded store: name=peerURL,... of every member (default: a single member)' },
  'listen-peer-urls': { type: 'string', help: 'Embedded store: where this member talks to its peers (default http://127.0.0.1:2380)' },
  'listen-client-urls': { type: 'string', help: 'Embedded store: serve the etcd v3 API here too (default: not served)' },
  'heartbeat-interval': { type: 'string', help: 'Embedded store: Raft heartbeat in ms (default 100)' },
  'election-timeout': { type: 'string', help: 'Embedded store: Raft election timeout in ms (default 1000)' },
  controllers: { type: 'string', help: 'Controllers to run: names, * for all, -name to leave one out (default *)' },
  'node-monitor-grace-period': { type: 'string', help: 'How long a node may go without renewing its Lease before it is marked Unknown (default 50s)' },
  'node-startup-grace-period': { type: 'string', help: 'The same for a node that has never posted its status (default 1m0s)' },
  'node-monitor-period': { type: 'string', help: 'How often node health is checked (default 5s)' },
  'resource-quota-sync-period': { type: 'string', help: 'How often every ResourceQuota\'s usage is recalculated in full (default 5m0s)' },
} as const;

export function controlHelp(): string {
  const lines = ['Usage: skiff control [flags]', '', 'Runs the control plane: the Kubernetes API server (HTTPS, client certificates and tokens) on an embedded store.', '', 'Flags:'];
  const width = Math.max(24, ...Object.keys(FLAGS).map((n) => n.length + 2));
  for (const [name, f] of Object.entries(FLAGS)) lines.push(`  --${name.padEnd(width)}${f.help}`);
  lines.push(`  ${'-h, --help'.padEnd(width + 2)}Show this help`);
  return lines.join('\n');
}

/** `skiff control`: the API server (more components join it as they land). */
export async function runControl(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    const options = Object.fromEntries(Object.keys(FLAGS).map((k) => [k, { type: 'string' as const }]));
    ({ values } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (err) {
    process.stderr.write(`skiff control: ${err instanceof Error ? err.message : String(err)}\nRun "skiff control --help" for the flags.\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${controlHelp()}\n`);
    return 0;
  }
  const str = (k: keyof typeof FLAGS): string | undefined => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const port = Number(str('secure-port') ?? 6443);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`skiff control: --secure-port: expected a port number, got "${str('secure-port')}"\n`);
    return 2;
  }
  if (str('controllers')) {
    try {
      selectControllers((str('controllers') as string).split(','));
    } catch (err) {
      process.stderr.write(`skiff control: --controllers: ${err instanceof Error ? err.message : String(err)}\n`);
      return 2;
    }
  }
  const settings: ControllerSettings = {};
  for (const [flag, field] of [
    ['node-monitor-grace-period', 'nodeMonitorGracePeriodMs'],
    ['node-startup-grace-period', 'nodeStartupGracePeriodMs'],
    ['node-monitor-period', 'nodeMonitorPeriodMs'],
    ['resource-quota-sync-period', 'resourceQuotaSyncPeriodMs'],
  ] as const) {
    const text = str(flag);
    if (text === undefined) continue;
    const ms = parseDuration(text);
    if (ms === undefined || ms <= 0) {
      process.stderr.write(`skiff control: --${flag}: expected a duration such as 40s or 5m, got "${text}"\n`);
      return 2;
    }
    settings[field] = ms;
  }
  const logger = createLogger('skiff-control');
  const dataDir = str('data-dir') ?? '/var/lib/skiff/control';
  const advertise = str('advertise-address') ?? '127.0.0.1';
  const pki = await ensureClusterPki(str('cert-dir') ?? join(dataDir, 'pki'), { serverNames: defaultServerNames(undefined, [advertise]), serverUrl: `https://${advertise}:${port}` });
  const tls = {
    cert: str('tls-cert-file') ? await readFile(str('tls-cert-file') as string, 'utf8') : pki.server.cert,
    key: str('tls-private-key-file') ? await readFile(str('tls-private-key-file') as string, 'utf8') : pki.server.key,
    ca: str('client-ca-file') ? await readFile(str('client-ca-file') as string, 'utf8') : pki.ca.cert,
  };
  const authenticators: Authenticator[] = [certificateAuthenticator()];
  if (str('token-auth-file')) authenticators.push(await tokenFileAuthenticator(str('token-auth-file') as string));
  let allocator: ServiceAllocator;
  try {
    allocator = new ServiceAllocator(str('service-cluster-ip-range') ?? '10.96.0.0/12', str('service-node-port-range') ?? '30000-32767');
  } catch (err) {
    process.stderr.write(`skiff control: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  const eventTtlMs = parseDuration(str('event-ttl') ?? '1h');
  if (eventTtlMs === undefined || eventTtlMs < 1000) {
    process.stderr.write(`skiff control: --event-ttl: expected a duration such as 1h or 30m, got "${str('event-ttl')}"\n`);
    return 2;
  }
  let store: Store;
  let closeStore: () => Promise<void>;
  try {
    if (str('etcd-servers')) {
      const { createEtcdStore } = await import('./store/etcd/index.js');
      const etcd = createEtcdStore({ endpoints: (str('etcd-servers') as string).split(',').map((u) => u.trim()).filter(Boolean), logger });
      store = etcd;
      closeStore = () => etcd.close();
      logger.info({ etcdServers: str('etcd-servers') }, 'using etcd');
    } else {
      const name = str('name') ?? 'default';
      const peerUrl = str('listen-peer-urls') ?? 'http://127.0.0.1:2380';
      logger.info({ dataDir: join(dataDir, 'store') }, 'starting the embedded store');
      const member = await startStoreMember({
        name,
        dataDir: join(dataDir, 'store'),
        initialCluster: str('initial-cluster') ?? `${name}=${peerUrl}`,
        listenPeerUrl: peerUrl,
        listenClientUrls: str('listen-client-urls') ? (str('listen-client-urls') as string).split(',') : [],
        ...(str('heartbeat-interval') ? { heartbeatMs: Number(str('heartbeat-interval')) } : {}),
        ...(str('election-timeout') ? { electionTimeoutMs: Number(str('election-timeout')) } : {}),
        logger: logger.child({ component: 'store' }),
        onFatal: (err) => {
          logger.fatal({ err: err instanceof Error ? err.message : String(err) }, 'the embedded store stopped');
          process.exit(1);
        },
      });
      store = member.store;
      closeStore = () => member.close();
    }
  } catch (err) {
    process.stderr.write(`skiff control: cannot start the store: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const storage = new ObjectStorage(store);
  const authorizer = createStorageAuthorizer(storage);
  const server = new ApiServer({
    store,
    logger,
    tls,
    eventTtlSeconds: Math.round(eventTtlMs / 1000),
    authenticate: unionAuthenticator(authenticators),
    authorizer,
    admission: chainAdmission([
      namespaceLifecycle(storage),
      defaultTolerationSeconds(),
      nodeRestrictionAdmission(),
      rbacEscalationAdmission({ lister: storageLister(storage), authorize: (a) => authorizer.authorize(a) }),
      allocator.admission(),
    ]),
  });
  const services = findResource('', 'v1', 'services') as ResourceDef;
  for (const svc of (await storage.list(services, undefined)).items) allocator.observe(svc);
  await ensureSystemNamespaces(server.rest);
  await ensureBootstrapPolicy(server.storage);
  await ensureKubernetesService(server.rest, { clusterIP: allocator.kubernetesServiceIP, advertiseAddress: advertise, port });
  const listening = await server.listen(port, str('bind-address') ?? '0.0.0.0');
  logger.info({ port: listening, kubeconfig: pki.paths.kubeconfig }, 'API server listening');
  // The scheduler talks to this API server like any client (a loopback client with the admin identity for now).
  const loopback = new KubeClient({ server: `https://127.0.0.1:${listening}`, ca: pki.ca.cert, cert: pki.admin.cert, key: pki.admin.key }, 'skiff-scheduler');
  const metrics = new Registry();
  const scheduler = startScheduler({ client: loopback, logger: logger.child({ component: 'scheduler' }), registry: metrics });
  const controllerClient = new KubeClient({ server: `https://127.0.0.1:${listening}`, ca: pki.ca.cert, cert: pki.admin.cert, key: pki.admin.key }, 'skiff-controller-manager');
  const controllerManager = startControllerManager({
    client: controllerClient,
    logger: logger.child({ component: 'controller-manager' }),
    registry: metrics,
    ...(str('controllers') ? { controllers: (str('controllers') as string).split(',') } : {}),
    settings,
  });
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  await controllerManager.stop();
  controllerClient.close();
  await scheduler.stop();
  loopback.close();
  await server.close();
  await closeStore();
  return 0;
}
