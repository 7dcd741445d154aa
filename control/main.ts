import { createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { flagHelpLines, parseCommandFlags } from '../lib/command-flags.js';
import { parseDuration } from '../lib/duration.js';
import { createLogger, type Logger } from '../lib/log.js';
import { bootstrapTokenAuthenticator, type TokenSecret } from './apiserver/bootstrap-token.js';
import { certificateAuthenticator, tokenFileAuthenticator, unionAuthenticator, type Authenticator } from './apiserver/authn.js';
import { defaultServerNames, ensureClusterPki, ensureServiceAccountKey } from './apiserver/pki.js';
import { DEFAULT_ISSUER, serviceAccountTokenAuthenticator, type ServiceAccountTokenConfig } from './apiserver/serviceaccount/tokens.js';
import { storageTokenLookup } from './apiserver/serviceaccount/lookup.js';
import { chainAdmission, namespaceLifecycle } from './apiserver/admission/namespace-lifecycle.js';
import { ensureKubernetesService, ensureSystemNamespaces } from './apiserver/bootstrap.js';
import { ServiceAllocator } from './apiserver/admission/service-allocation.js';
import { limitRangerAdmission } from './apiserver/admission/limit-ranger.js';
import { defaultIngressClassAdmission } from './apiserver/admission/default-ingress-class.js';
import { defaultStorageClassAdmission } from './apiserver/admission/default-storage-class.js';
import { defaultTolerationSeconds } from './apiserver/admission/default-toleration-seconds.js';
import { priorityAdmission } from './apiserver/admission/priority.js';
import { resourceQuotaAdmission } from './apiserver/admission/resource-quota.js';
import { serviceAccountAdmission } from './apiserver/admission/service-account.js';
import { ensureSystemPriorityClasses } from './apiserver/bootstrap-priority.js';
import { findResource, type ResourceDef } from './apiserver/resources.js';
import { createStorageAuthorizer, ensureBootstrapPolicy, nodeRestrictionAdmission, rbacEscalationAdmission, storageLister } from './apiserver/authz/index.js';
import { etcdServerComponent, inProcessComponent, storeComponent, type ComponentProbe } from './apiserver/component-status.js';
import { ApiServer } from './apiserver/server.js';
import { ObjectStorage } from './apiserver/storage/object-storage.js';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { sendMetrics } from '../lib/metrics-response.js';
import { CONTROLLER_MANAGER_LIMIT, Informer, SCHEDULER_LIMIT, KubeClient, loadKubeconfig, parseRateLimit, type Connection } from './client/index.js';
import { InformerShare } from './client/shared-informer.js';
import { DEFAULT_LEADER_ELECTION, runElected, type LeaderElectionConfig } from './elected.js';
import { selectControllers, startControllerManager } from './controllers/index.js';
import { startScheduler } from './scheduler/index.js';
import type { ControllerConfig } from './controllers/controller.js';
import { CidrSet } from './controllers/nodeipam/cidr-set.js';
import { DEFAULT_NODE_CIDR_MASK_SIZE } from './controllers/nodeipam/range-allocator.js';

/** Skiff's --cluster-cidr default (upstream has none; this is the range kubeadm-style guides and flannel use). */
export const DEFAULT_CLUSTER_CIDR = '10.244.0.0/16';
import type { ResourceMetricsSource } from './apiserver/metrics-api.js';
import { kubeletNodeFetcher, ResourceMetricsScraper } from './metrics/scraper.js';
import type { KubeletClientConfig } from './apiserver/proxy/kubelet-client.js';
import { DEFAULT_SNAPSHOT_COUNT, positiveInt, startStoreMember } from './store/cli.js';
import { CONTROL_HEAP_GROWING_PERCENT, tuneControlPlaneHeap } from './memory.js';
import { BACKGROUND_THREAD_NICE_STEPS, lowerBackgroundThreads } from './thread-priority.js';
import { startIdleCollector } from './idle-collector.js';
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
  'kubelet-client-certificate': { type: 'string', help: 'Client certificate for node agents (default: <cert-dir>/apiserver-kubelet-client.crt, generated)' },
  'kubelet-client-key': { type: 'string', help: 'Key of --kubelet-client-certificate' },
  'kubelet-certificate-authority': { type: 'string', help: "CA to verify node agents' serving certificates with (default: not verified, as upstream)" },
  'token-auth-file': { type: 'string', help: 'Static bearer tokens, CSV: token,user,uid,"group1,group2"' },
  'service-cluster-ip-range': { type: 'string', help: 'CIDR for Service cluster IPs (default 10.96.0.0/12)' },
  'service-node-port-range': { type: 'string', help: 'Port range for NodePort Services (default 30000-32767)' },
  'event-ttl': { type: 'string', help: 'How long events are kept after their last update (default 1h)' },
  storage: { type: 'string', help: 'Where objects are stored: embedded (a store member in this process) or etcd (--etcd-servers); default etcd when --etcd-servers is given, else embedded' },
  'etcd-servers': { type: 'string', help: 'Comma-separated etcd client URLs: store everything in that etcd cluster instead of the embedded store' },
  name: { type: 'string', help: 'Embedded store: this member\'s name (default "default")' },
  'initial-cluster': { type: 'string', help: 'Embedded store: name=peerURL,... of every member (default: a single member)' },
  'listen-peer-urls': { type: 'string', help: 'Embedded store: where this member talks to its peers (default http://127.0.0.1:2380)' },
  'listen-client-urls': { type: 'string', help: 'Embedded store: serve the etcd v3 API here too (default: not served)' },
  'heartbeat-interval': { type: 'string', help: 'Embedded store: Raft heartbeat in ms (default 100)' },
  'election-timeout': { type: 'string', help: 'Embedded store: Raft election timeout in ms (default 1000)' },
  'snapshot-count': { type: 'string', help: `Embedded store: applied entries between two snapshots (default ${DEFAULT_SNAPSHOT_COUNT})` },
  controllers: { type: 'string', help: 'Controllers to run: names, * for all, -name to leave one out (default *)' },
  only: { type: 'string', help: 'Components this process runs: apiserver, scheduler, controller-manager, comma-separated (default all three)' },
  kubeconfig: { type: 'string', help: 'How the scheduler and controller manager reach the API server when this process runs none' },
  'leader-elect': { type: 'string', help: 'Run the scheduler and the controller manager only while holding their Lease in kube-system, so one of several processes acts (default true)' },
  'leader-elect-lease-duration': { type: 'string', help: 'How long candidates wait after the holder last renewed before taking over (default 15s)' },
  'leader-elect-renew-deadline': { type: 'string', help: 'How long the holder keeps trying to renew before it stops (default 10s)' },
  'leader-elect-retry-period': { type: 'string', help: 'How often candidates try to acquire and the holder renews (default 2s)' },
  'leader-elect-resource-namespace': { type: 'string', help: 'Namespace of the leader election Leases (default kube-system)' },
  'horizontal-pod-autoscaler-sync-period': { type: 'string', help: 'How often the HPA controller checks each autoscaler (default 15s)' },
  'horizontal-pod-autoscaler-downscale-stabilization': { type: 'string', help: 'How far back the HPA looks before scaling down (default 5m0s)' },
  'horizontal-pod-autoscaler-tolerance': { type: 'string', help: 'Usage ratio within which the HPA does not scale (default 0.1)' },
  'metric-resolution': { type: 'string', help: 'How often node resource metrics are scraped for metrics.k8s.io (default 15s)' },
  'service-account-issuer': { type: 'string', help: 'Issuer (iss) of service account tokens (default https://kubernetes.default.svc.cluster.local)' },
  'service-account-signing-key-file': { type: 'string', help: 'Private key service account tokens are signed with (default: <cert-dir>/sa.key, generated)' },
  'service-account-key-file': { type: 'string', help: 'Public key(s) service account tokens are verified with (default: the signing key\'s)' },
  'api-audiences': { type: 'string', help: 'Audiences the API server accepts in service account tokens (default: the issuer)' },
  'service-account-max-token-expiration': { type: 'string', help: 'Longest validity of a requested service account token (default: none)' },
  'enable-bootstrap-token-auth': { type: 'string', help: 'Accept bootstrap tokens (Secrets of type bootstrap.kubernetes.io/token in kube-system) for joining nodes (default true)' },
  'cluster-signing-cert-file': { type: 'string', help: 'CA certificate the controller manager signs approved CSRs with (default: the cluster CA when this process runs the API server)' },
  'cluster-signing-key-file': { type: 'string', help: 'Key of --cluster-signing-cert-file' },
  'root-ca-file': { type: 'string', help: 'CA published to every namespace as the kube-root-ca.crt ConfigMap (default: the cluster CA when this process runs the API server)' },
  'cluster-signing-duration': { type: 'string', help: 'Longest validity of certificates signed for CSRs (default 8760h0m0s)' },
  'node-monitor-grace-period': { type: 'string', help: 'How long a node may go without renewing its Lease before it is marked Unknown (default 50s)' },
  'node-startup-grace-period': { type: 'string', help: 'The same for a node that has never posted its status (default 1m0s)' },
  'node-monitor-period': { type: 'string', help: 'How often node health is checked (default 5s)' },
  'resource-quota-sync-period': { type: 'string', help: 'How often every ResourceQuota\'s usage is recalculated in full (default 5m0s)' },
  'allocate-node-cidrs': { type: 'string', help: 'Give every node a pod range (spec.podCIDR) from --cluster-cidr (default true)' },
  'cluster-cidr': { type: 'string', help: 'CIDR range of the pods in the cluster, cut into node ranges (default 10.244.0.0/16)' },
  'node-cidr-mask-size': { type: 'string', help: 'Mask size of each node\'s pod range within --cluster-cidr (default 24)' },
  'kube-api-qps': { type: 'string', help: 'Requests per second each controller may send the API server, negative for no limit (default 20)' },
  'kube-api-burst': { type: 'string', help: 'Requests each controller may send at once above --kube-api-qps (default 30)' },
  'metrics-bind-address': { type: 'string', help: 'Where /healthz and /metrics are served when this process runs no API server (default 127.0.0.1:10251)' },
} as const;

const COMPONENTS = ['apiserver', 'scheduler', 'controller-manager'] as const;
type ComponentName = (typeof COMPONENTS)[number];

export function controlHelp(): string {
  const lines = ['Usage: skiff control [flags]', '', 'Runs the control plane: the Kubernetes API server (HTTPS, client certificates and tokens) on an embedded store.', '', 'Flags:'];
  lines.push(...flagHelpLines([...Object.entries(FLAGS).map(([name, f]) => [`--${name}`, f.help] as const), ['-h, --help', 'Show this help']]));
  lines.push('', 'Environment:', `  SKIFF_HEAP_GROWING_PERCENT  How far the JavaScript heap may grow past what is live before a full collection (default ${CONTROL_HEAP_GROWING_PERCENT}; 0: V8's default)`);
  return lines.join('\n');
}

/** --storage and --etcd-servers together: which backend, or why the pair makes no sense. */
export function storageBackend(storage: string | undefined, etcdServers: string | undefined): { backend: 'embedded' | 'etcd'; error?: string } {
  const servers = etcdServerUrls(etcdServers ?? '');
  if (storage === undefined) return { backend: servers.length > 0 ? 'etcd' : 'embedded' };
  if (storage === 'etcd') return servers.length > 0 ? { backend: 'etcd' } : { backend: 'etcd', error: '--storage etcd needs --etcd-servers (comma-separated etcd client URLs)' };
  if (storage === 'embedded') return servers.length === 0 ? { backend: 'embedded' } : { backend: 'embedded', error: '--storage embedded and --etcd-servers exclude each other' };
  return { backend: 'embedded', error: `--storage: expected embedded or etcd, got "${storage}"` };
}

/** The embedded store's Raft timing and snapshot flags (etcd's names), or what is wrong with one of them. */
function embeddedStoreTuning(str: (k: keyof typeof FLAGS) => string | undefined): { heartbeatMs: number; electionTimeoutMs: number; snapshotCount: number } | string {
  try {
    const heartbeatMs = positiveInt('heartbeat-interval', str('heartbeat-interval'), 100, 'a number of milliseconds such as 100');
    const electionTimeoutMs = positiveInt('election-timeout', str('election-timeout'), 1000, 'a number of milliseconds such as 1000');
    const snapshotCount = positiveInt('snapshot-count', str('snapshot-count'), DEFAULT_SNAPSHOT_COUNT, `a number of entries such as ${DEFAULT_SNAPSHOT_COUNT}`);
    if (electionTimeoutMs < 2 * heartbeatMs) return `--election-timeout (${electionTimeoutMs} ms) must be at least twice --heartbeat-interval (${heartbeatMs} ms)`;
    return { heartbeatMs, electionTimeoutMs, snapshotCount };
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

const etcdServerUrls = (flag: string): string[] => flag.split(',').map((u) => u.trim()).filter(Boolean);

/** The API server on its store (embedded member or etcd); an exit code when it cannot start. */
async function startApiServer(str: (k: keyof typeof FLAGS) => string | undefined, port: number, logger: Logger, metrics: Registry, resourceMetrics: ResourceMetricsSource, inProcess: ReadonlySet<ComponentName>): Promise<{ loopback: Connection; ca: { cert: string; key: string }; kubeletClient: KubeletClientConfig; close(): Promise<void> } | number> {
  const dataDir = str('data-dir') ?? '/var/lib/skiff/control';
  const advertise = str('advertise-address') ?? '127.0.0.1';
  const pki = await ensureClusterPki(str('cert-dir') ?? join(dataDir, 'pki'), { serverNames: defaultServerNames(undefined, [advertise]), serverUrl: `https://${advertise}:${port}` });
  const tls = {
    // The generated certificate is served with its CA, so that joining nodes can pin the CA by its hash.
    cert: str('tls-cert-file') ? await readFile(str('tls-cert-file') as string, 'utf8') : `${pki.server.cert.trimEnd()}\n${pki.ca.cert}`,
    key: str('tls-private-key-file') ? await readFile(str('tls-private-key-file') as string, 'utf8') : pki.server.key,
    ca: str('client-ca-file') ? await readFile(str('client-ca-file') as string, 'utf8') : pki.ca.cert,
  };
  const kubeletClient = {
    cert: str('kubelet-client-certificate') ? await readFile(str('kubelet-client-certificate') as string, 'utf8') : pki.kubeletClient.cert,
    key: str('kubelet-client-key') ? await readFile(str('kubelet-client-key') as string, 'utf8') : pki.kubeletClient.key,
    ...(str('kubelet-certificate-authority') ? { ca: await readFile(str('kubelet-certificate-authority') as string, 'utf8') } : {}),
  };
  const authenticators: Authenticator[] = [certificateAuthenticator()];
  if (str('token-auth-file')) authenticators.push(await tokenFileAuthenticator(str('token-auth-file') as string));
  const bootstrapTokens = (str('enable-bootstrap-token-auth') ?? 'true') !== 'false';
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
  // componentstatuses: the scheduler and the controller manager when they run here, then the store as upstream lists
  // etcd (one entry per --etcd-servers URL).
  const components: ComponentProbe[] = (['scheduler', 'controller-manager'] as const).filter((c) => inProcess.has(c)).map(inProcessComponent);
  try {
    if (etcdServerUrls(str('etcd-servers') ?? '').length > 0) {
      const { createEtcdStore } = await import('./store/etcd/index.js');
      const etcd = createEtcdStore({ endpoints: etcdServerUrls(str('etcd-servers') as string), logger });
      store = etcd;
      closeStore = () => etcd.close();
      components.push(...etcdServerUrls(str('etcd-servers') as string).map((url, i) => etcdServerComponent(`etcd-${i}`, url)));
      logger.info({ etcdServers: str('etcd-servers') }, 'using etcd');
    } else {
      const name = str('name') ?? 'default';
      const peerUrl = str('listen-peer-urls') ?? 'http://127.0.0.1:2380';
      // Checked before anything started (runControl).
      const tuning = embeddedStoreTuning(str);
      logger.info({ dataDir: join(dataDir, 'store') }, 'starting the embedded store');
      const member = await startStoreMember({
        name,
        dataDir: join(dataDir, 'store'),
        initialCluster: str('initial-cluster') ?? `${name}=${peerUrl}`,
        listenPeerUrl: peerUrl,
        listenClientUrls: str('listen-client-urls') ? (str('listen-client-urls') as string).split(',') : [],
        ...(typeof tuning === 'object' ? tuning : {}),
        metrics,
        logger: logger.child({ component: 'store' }),
        onFatal: (err) => {
          logger.fatal({ err: err instanceof Error ? err.message : String(err) }, 'the embedded store stopped');
          process.exit(1);
        },
      });
      store = member.store;
      closeStore = () => member.close();
      components.push(storeComponent('etcd-0', store));
    }
  } catch (err) {
    process.stderr.write(`skiff control: cannot start the store: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const storage = new ObjectStorage(store);
  const authorizer = createStorageAuthorizer(storage);
  const saKey = await ensureServiceAccountKey(str('cert-dir') ?? join(dataDir, 'pki'));
  const signingKeyPem = str('service-account-signing-key-file') ? await readFile(str('service-account-signing-key-file') as string, 'utf8') : saKey.privateKey;
  const verifyKeyPem = str('service-account-key-file') ? await readFile(str('service-account-key-file') as string, 'utf8') : str('service-account-signing-key-file') ? signingKeyPem : saKey.publicKey;
  const issuer = str('service-account-issuer') ?? DEFAULT_ISSUER;
  const maxExpiration = str('service-account-max-token-expiration') ? parseDuration(str('service-account-max-token-expiration') as string) : undefined;
  const serviceAccountTokens: ServiceAccountTokenConfig = {
    issuer,
    audiences: str('api-audiences') ? (str('api-audiences') as string).split(',').map((a) => a.trim()).filter(Boolean) : [issuer],
    signingKeyPem,
    publicKeys: [createPublicKey(verifyKeyPem)],
    ...(maxExpiration ? { maxExpirationSeconds: Math.floor(maxExpiration / 1000) } : {}),
  };
  authenticators.push(serviceAccountTokenAuthenticator(serviceAccountTokens, storageTokenLookup(storage)));
  if (bootstrapTokens) {
    const secrets = findResource('', 'v1', 'secrets') as ResourceDef;
    authenticators.push(bootstrapTokenAuthenticator(async (name) => (await storage.tryGet(secrets, 'kube-system', name)) as TokenSecret | undefined));
  }
  const server = new ApiServer({
    store,
    logger,
    tls,
    metrics,
    resourceMetrics,
    serviceAccountTokens,
    eventTtlSeconds: Math.round(eventTtlMs / 1000),
    authenticate: unionAuthenticator(authenticators),
    authorizer,
    kubeletClient,
    components,
    // Upstream's plugin order (AllOrderedPlugins); ResourceQuota last, before the service allocation that upstream's
    // REST storage does after admission.
    admission: chainAdmission([
      namespaceLifecycle(storage),
      limitRangerAdmission(storage),
      serviceAccountAdmission(storage),
      nodeRestrictionAdmission(),
      priorityAdmission(storage),
      defaultTolerationSeconds(),
      rbacEscalationAdmission({ lister: storageLister(storage), authorize: (a) => authorizer.authorize(a) }),
      defaultStorageClassAdmission(storage),
      defaultIngressClassAdmission(storage),
      resourceQuotaAdmission(storage),
      allocator.admission(),
    ]),
  });
  const services = findResource('', 'v1', 'services') as ResourceDef;
  for (const svc of (await storage.list(services, undefined)).items) allocator.observe(svc);
  await ensureSystemNamespaces(server.rest);
  await ensureBootstrapPolicy(server.storage);
  await ensureSystemPriorityClasses(server.rest);
  await ensureKubernetesService(server.rest, { clusterIP: allocator.kubernetesServiceIP, advertiseAddress: advertise, port });
  const listening = await server.listen(port, str('bind-address') ?? '0.0.0.0');
  logger.info({ port: listening, kubeconfig: pki.paths.kubeconfig }, 'API server listening');
  return {
    // The scheduler, controller manager and metrics scraper in this process talk to it over its loopback transport
    // (in-memory HTTP, no TLS or TCP), as upstream's loopback client identity; remote ones use HTTPS.
    loopback: server.loopbackConnection(),
    ca: pki.ca,
    kubeletClient,
    close: async () => {
      await server.close();
      await closeStore();
    },
  };
}

/** The scraper starts after the API server it reads nodes from; until then metrics.k8s.io lists nothing. */
class DeferredMetricsSource implements ResourceMetricsSource {
  source: ResourceMetricsSource | undefined;
  private static readonly EMPTY = new Map();
  get latest(): ResourceMetricsSource['latest'] {
    return this.source?.latest ?? DeferredMetricsSource.EMPTY;
  }
}

/** Reads --leader-elect and its timings; a message for the first bad one. */
function leaderElectionConfig(str: (k: keyof typeof FLAGS) => string | undefined): LeaderElectionConfig | string {
  const enabledText = (str('leader-elect') ?? 'true').toLowerCase();
  if (enabledText !== 'true' && enabledText !== 'false') return `--leader-elect: expected true or false, got "${str('leader-elect')}"`;
  const config: LeaderElectionConfig = { ...DEFAULT_LEADER_ELECTION, enabled: enabledText === 'true', namespace: str('leader-elect-resource-namespace') ?? 'kube-system' };
  const durations = [
    ['leader-elect-lease-duration', 'leaseDurationMs'],
    ['leader-elect-renew-deadline', 'renewDeadlineMs'],
    ['leader-elect-retry-period', 'retryPeriodMs'],
  ] as const;
  for (const [flag, key] of durations) {
    const text = str(flag);
    if (text === undefined) continue;
    const ms = parseDuration(text);
    if (ms === undefined || ms <= 0) return `--${flag}: expected a duration such as 15s, got "${text}"`;
    config[key] = ms;
  }
  if (config.leaseDurationMs <= config.renewDeadlineMs) return '--leader-elect-lease-duration must be greater than --leader-elect-renew-deadline';
  if (config.renewDeadlineMs <= 1.2 * config.retryPeriodMs) return '--leader-elect-renew-deadline must be greater than 1.2 x --leader-elect-retry-period';
  return config;
}

/** Serves /healthz and /metrics for a process that runs no API server (a scheduler or controller manager alone). */
async function serveMetrics(address: string, registry: Registry): Promise<{ close(): Promise<void> }> {
  const m = /^(.*):(\d+)$/.exec(address);
  if (!m) throw new Error(`--metrics-bind-address: expected host:port, got "${address}"`);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' || path === '/livez' || path === '/readyz') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('ok');
      return;
    }
    if (path === '/metrics') {
      sendMetrics(res, registry);
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('404 page not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(m[2]), (m[1] as string).replace(/^\[|\]$/g, ''), () => resolve());
  });
  return { close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/**
 * `skiff control`: the API server on its store, the scheduler and the controller manager, in one process by default;
 * `--only` splits them across processes, and leader election lets several of them stand by for each other.
 */
export async function runControl(argv: string[]): Promise<number> {
  const options = Object.fromEntries(Object.keys(FLAGS).map((k) => [k, { type: 'string' as const }]));
  // Upstream's boolean flag is also written bare.
  const args = argv.map((a) => (a === '--leader-elect' ? '--leader-elect=true' : a));
  const parsed = parseCommandFlags('control', controlHelp, { args, options });
  if ('exitCode' in parsed) return parsed.exitCode;
  const values: Record<string, string | boolean | undefined> = parsed.values;
  const str = (k: keyof typeof FLAGS): string | undefined => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const usage = (message: string): number => {
    process.stderr.write(`skiff control: ${message}\n`);
    return 2;
  };
  const onlyList = (str('only') ?? COMPONENTS.join(',')).split(',').map((c) => c.trim()).filter(Boolean);
  const unknownComponents = onlyList.filter((c) => !(COMPONENTS as readonly string[]).includes(c));
  if (unknownComponents.length || onlyList.length === 0) return usage(`--only: unknown component(s) ${unknownComponents.map((c) => `"${c}"`).join(', ') || '(none given)'}; known: ${COMPONENTS.join(', ')}`);
  const only = new Set(onlyList as ComponentName[]);
  if (!only.has('apiserver') && !str('kubeconfig')) return usage('--kubeconfig is required when this process runs no API server (--only without apiserver)');
  const storage = storageBackend(str('storage'), str('etcd-servers'));
  if (storage.error) return usage(storage.error);
  const tuning = embeddedStoreTuning(str);
  if (typeof tuning === 'string') return usage(tuning);
  const election = leaderElectionConfig(str);
  if (typeof election === 'string') return usage(election);
  const hpaConfig: NonNullable<ControllerConfig['horizontalPodAutoscaler']> = {};
  for (const [flag, key] of [['horizontal-pod-autoscaler-sync-period', 'syncPeriodMs'], ['horizontal-pod-autoscaler-downscale-stabilization', 'downscaleStabilizationMs']] as const) {
    const text = str(flag);
    if (text === undefined) continue;
    const ms = parseDuration(text);
    if (ms === undefined || (key === 'syncPeriodMs' && ms <= 0)) return usage(`--${flag}: expected a duration such as 15s, got "${text}"`);
    hpaConfig[key] = ms;
  }
  if (str('horizontal-pod-autoscaler-tolerance') !== undefined) {
    const t = Number(str('horizontal-pod-autoscaler-tolerance'));
    if (!Number.isFinite(t) || t < 0) return usage(`--horizontal-pod-autoscaler-tolerance: expected a non-negative number, got "${str('horizontal-pod-autoscaler-tolerance')}"`);
    hpaConfig.tolerance = t;
  }
  const controllerRateLimit = parseRateLimit(str('kube-api-qps'), str('kube-api-burst'), CONTROLLER_MANAGER_LIMIT);
  if (typeof controllerRateLimit === 'string') return usage(controllerRateLimit);
  const controllerConfig: ControllerConfig = {};
  for (const [flag, field] of [
    ['node-monitor-grace-period', 'nodeMonitorGracePeriodMs'],
    ['node-startup-grace-period', 'nodeStartupGracePeriodMs'],
    ['node-monitor-period', 'nodeMonitorPeriodMs'],
    ['resource-quota-sync-period', 'resourceQuotaSyncPeriodMs'],
  ] as const) {
    const text = str(flag);
    if (text === undefined) continue;
    const ms = parseDuration(text);
    if (ms === undefined || ms <= 0) return usage(`--${flag}: expected a duration such as 40s or 5m, got "${text}"`);
    controllerConfig[field] = ms;
  }
  const allocateText = (str('allocate-node-cidrs') ?? 'true').toLowerCase();
  if (allocateText !== 'true' && allocateText !== 'false') return usage(`--allocate-node-cidrs: expected true or false, got "${str('allocate-node-cidrs')}"`);
  let nodeIpam: ControllerConfig['nodeIpam'];
  if (allocateText === 'true') {
    const clusterCidr = str('cluster-cidr') ?? DEFAULT_CLUSTER_CIDR;
    const maskText = str('node-cidr-mask-size') ?? String(DEFAULT_NODE_CIDR_MASK_SIZE);
    const nodeCidrMaskSize = Number(maskText);
    if (!/^\d+$/.test(maskText)) return usage(`--node-cidr-mask-size: expected a number such as 24, got "${maskText}"`);
    try {
      new CidrSet(clusterCidr, nodeCidrMaskSize);
    } catch (err) {
      return usage(`--cluster-cidr/--node-cidr-mask-size: ${err instanceof Error ? err.message : String(err)}`);
    }
    nodeIpam = { clusterCidr, nodeCidrMaskSize, serviceCidr: str('service-cluster-ip-range') ?? '10.96.0.0/12' };
  }
  const resolutionMs = parseDuration(str('metric-resolution') ?? '15s');
  if (resolutionMs === undefined || resolutionMs < 1000) return usage(`--metric-resolution: expected a duration of at least 1s, got "${str('metric-resolution')}"`);
  const portText = str('secure-port') ?? '6443';
  const port = Number(portText);
  if (!/^\d+$/.test(portText.trim())) return usage(`--secure-port: expected a port number, got "${portText}"`);
  // Upstream's wording: the API is served only over HTTPS, so the port cannot be 0 (nor may the kubernetes
  // Service's Endpoints carry port 0).
  if (port < 1 || port > 65535) return usage(`--secure-port ${port} must be between 1 and 65535, inclusive. It cannot be turned off with 0`);
  if (str('controllers')) {
    try {
      selectControllers((str('controllers') as string).split(','));
    } catch (err) {
      return usage(`--controllers: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const logger = createLogger('skiff-control');
  // Before the store and the caches fill the heap: V8's default growth would let it reach 4x what is live.
  tuneControlPlaneHeap();
  // Before the load: V8's and libuv's threads give the main thread, which serves every request, the CPU first.
  const lowered = lowerBackgroundThreads();
  if (lowered.length > 0) logger.info({ threads: lowered.length, niceSteps: BACKGROUND_THREAD_NICE_STEPS }, 'background threads run below the main thread');
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  const closers: Array<() => Promise<void>> = [];
  // A burst's garbage is given back within seconds of the process going quiet (see control/idle-collector.ts).
  const stopIdleCollector = startIdleCollector(logger.child({ component: 'memory' }));
  closers.push(async () => stopIdleCollector());
  let connection: Connection;
  let signingCa: { cert: string; key: string } | undefined;
  let rootCaPem: string | undefined;
  if (str('root-ca-file')) {
    try {
      rootCaPem = await readFile(str('root-ca-file') as string, 'utf8');
    } catch (err) {
      return usage(`--root-ca-file: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const signingDurationMs = parseDuration(str('cluster-signing-duration') ?? '8760h');
  if (signingDurationMs === undefined || signingDurationMs < 600_000) return usage(`--cluster-signing-duration: expected a duration of at least 10m, got "${str('cluster-signing-duration')}"`);
  if (str('cluster-signing-cert-file') || str('cluster-signing-key-file')) {
    if (!str('cluster-signing-cert-file') || !str('cluster-signing-key-file')) return usage('--cluster-signing-cert-file and --cluster-signing-key-file go together');
    try {
      signingCa = { cert: await readFile(str('cluster-signing-cert-file') as string, 'utf8'), key: await readFile(str('cluster-signing-key-file') as string, 'utf8') };
    } catch (err) {
      return usage(`cannot read the cluster signing CA: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (only.has('apiserver')) {
    const resourceMetrics = new DeferredMetricsSource();
    const started = await startApiServer(str, port, logger, metrics, resourceMetrics, only);
    if (typeof started === 'number') return started;
    connection = started.loopback;
    signingCa ??= started.ca;
    rootCaPem ??= started.ca.cert;
    closers.push(started.close);
    // metrics-server's part: the API server serves metrics.k8s.io from what this scraper reads off the nodes.
    const scraperClient = new KubeClient(connection, 'skiff-metrics-scraper');
    const scraper = new ResourceMetricsScraper(scraperClient, kubeletNodeFetcher(started.kubeletClient), logger.child({ component: 'metrics-scraper' }), resolutionMs);
    resourceMetrics.source = scraper;
    scraper.start();
    closers.unshift(async () => {
      scraper.stop();
      scraperClient.close();
    });
  } else {
    try {
      connection = await loadKubeconfig(str('kubeconfig') as string);
      const served = await serveMetrics(str('metrics-bind-address') ?? '127.0.0.1:10251', metrics);
      closers.push(served.close);
    } catch (err) {
      process.stderr.write(`skiff control: ${err instanceof Error ? err.message : String(err)}\n`);
      return 1;
    }
  }
  // The scheduler and the controllers of one process share one pod informer (each kept a copy of every pod).
  let pods: InformerShare | undefined;
  if (only.has('scheduler') && only.has('controller-manager')) {
    const client = new KubeClient(connection, 'skiff-control-informers');
    pods = new InformerShare(() => new Informer(client, { group: '', version: 'v1', resource: 'pods' }, { backoffMs: 200, maxBackoffMs: 10_000, onError: (err) => logger.warn({ err: err.message }, 'pod informer: relisting') }));
    closers.push(async () => client.close());
  }
  if (only.has('scheduler')) {
    // Held to kube-scheduler's client-side rate limit (50/s, bursts of 100), its writes and apart from them its
    // events: a burst of pods that fit nowhere (or of updates to them) then costs the API server's clients 50
    // writes a second rather than thousands at once. The backlog it leaves takes minutes to work off, and V8 gave
    // none of the burst's memory back meanwhile; the idle collector does once it is done.
    const client = new KubeClient(connection, 'skiff-scheduler');
    const elected = runElected({
      name: 'kube-scheduler',
      client,
      config: election,
      logger,
      eventSource: 'default-scheduler',
      component: { start: () => startScheduler({ client, rateLimit: SCHEDULER_LIMIT, logger: logger.child({ component: 'scheduler' }), registry: metrics, ...(pods ? { podInformer: pods.view() } : {}) }) },
    });
    closers.unshift(async () => {
      await elected.stop();
      client.close();
    });
  }
  if (only.has('controller-manager')) {
    const client = new KubeClient(connection, 'skiff-controller-manager');
    const controllers = str('controllers') ? (str('controllers') as string).split(',') : undefined;
    const elected = runElected({
      name: 'kube-controller-manager',
      client,
      config: election,
      logger,
      component: { start: () => startControllerManager({ client, rateLimit: controllerRateLimit, logger: logger.child({ component: 'controller-manager' }), registry: metrics, config: { ...controllerConfig, horizontalPodAutoscaler: hpaConfig, ...(nodeIpam ? { nodeIpam } : {}), ...(rootCaPem ? { rootCaPem } : {}), ...(signingCa ? { csrSigning: { ca: signingCa, durationMs: signingDurationMs } } : {}) }, ...(controllers ? { controllers } : {}), ...(pods ? { podInformer: pods.view() } : {}) }) },
    });
    closers.unshift(async () => {
      await elected.stop();
      client.close();
    });
  }
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  for (const close of closers) await close();
  return 0;
}
