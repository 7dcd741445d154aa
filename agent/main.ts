import { join } from 'node:path';
import Dockerode from 'dockerode';
import type { Pod } from '../control/api/index.js';
import { createLogger, type Logger } from '../lib/log.js';
import { loadKubeconfig, type KubeClient, type KubeObject } from '../control/client/index.js';
import { agentClients, type AgentClients } from './cluster/clients.js';
import { bootstrapClientCertificate } from './cluster/tls-bootstrap.js';
import { Agent } from './agent.js';
import { ApiPodSource } from './cluster/api-source.js';
import { ApiEventSink } from './cluster/event-sink.js';
import { clusterHooks } from './cluster/hooks.js';
import { MirrorPods } from './cluster/mirror-pods.js';
import { NodeRegistration } from './cluster/node-status.js';
import { PodResources } from './cluster/pod-resources.js';
import { agentHelp, ConfigError, describeConfig, loadAgentConfig, nodeNameOf, STANDALONE_POD_CIDR } from './options.js';
import { DockerRuntime } from './runtime/docker.js';
import { seccompProfileRoot } from './runtime/container-config.js';
import { ensurePodNetwork, podNetworkName } from './runtime/pod-network.js';
import { readFile } from 'node:fs/promises';
import { DockerStreaming } from './runtime/streaming.js';
import { NodeAuth } from './server/node-auth.js';
import { ReadOnlyServer } from './server/read-only.js';
import { SecureServer } from './server/secure.js';
import { servingCertificate } from './server/serving-cert.js';

/** Docker endpoint flag value → dockerode connection options. */
export function dockerOptions(endpoint: string): Dockerode.DockerOptions {
  if (endpoint.startsWith('unix://')) return { socketPath: endpoint.slice('unix://'.length) };
  const u = new URL(endpoint.replace(/^tcp:/, 'http:'));
  return { host: u.hostname, port: Number(u.port || 2375), protocol: 'http' };
}

/**
 * Waits until this node's Node has spec.podCIDR (set once by the control plane's nodeipam controller), saying so in
 * the log now and then, as the kubelet waits for its pod CIDR before the network is ready.
 */
async function waitForNodePodCIDR(client: KubeClient, nodeName: string, logger: Logger): Promise<string> {
  logger.info({ node: nodeName }, "waiting for this node's pod CIDR (spec.podCIDR) from the control plane; --pod-cidr sets one instead");
  let nextNote = Date.now() + 30_000;
  for (;;) {
    try {
      const node = await client.get<KubeObject & { spec?: { podCIDR?: string; podCIDRs?: string[] } }>({ group: '', version: 'v1', resource: 'nodes' }, undefined, nodeName);
      const cidr = node.spec?.podCIDRs?.find((c) => !c.includes(':')) ?? node.spec?.podCIDR;
      if (cidr) {
        logger.info({ node: nodeName, podCIDR: cidr }, "using the node's pod CIDR");
        return cidr;
      }
    } catch (err) {
      logger.debug({ err: err instanceof Error ? err.message : String(err) }, 'cannot read the node yet');
    }
    if (Date.now() >= nextNote) {
      logger.warn({ node: nodeName }, 'still no spec.podCIDR on this node: does the control plane allocate node CIDRs (--allocate-node-cidrs, --cluster-cidr)?');
      nextNote = Date.now() + 30_000;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** `skiff agent`: runs until SIGTERM/SIGINT; pods keep running when it stops. */
export async function runAgent(argv: string[]): Promise<number> {
  let loaded;
  try {
    loaded = await loadAgentConfig(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`skiff agent: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (loaded.help) {
    process.stdout.write(`${agentHelp()}\n`);
    return 0;
  }
  const { config } = loaded;
  const logger = createLogger('skiff-agent');
  const nodeName = nodeNameOf(config);
  const docker = new Dockerode(dockerOptions(config.containerRuntimeEndpoint));
  // The pod range: --pod-cidr when given (it wins, as kubelet's); in a cluster otherwise the Node's spec.podCIDR, known
  // only once the node is registered and the control plane's node IPAM has given it one; standalone a fixed default.
  let podCIDR: string | undefined = config.podCIDR ?? (config.kubeconfig ? undefined : STANDALONE_POD_CIDR);
  let networkName = podCIDR ? podNetworkName(podCIDR) : '';
  const runtime = new DockerRuntime({
    docker,
    nodeName,
    // Read when a sandbox is created, which is after the pod range is known.
    get networkName() {
      return networkName;
    },
    pauseImage: config.podInfraContainerImage,
    logger: logger.child({ component: 'runtime' }),
    seccompProfileRoot: seccompProfileRoot(config.rootDir),
    seccompDefault: config.seccompDefault,
  });
  // Cluster mode: the API server in --kubeconfig is one more pod source, and hears about this node and its pods.
  let client: KubeClient | undefined;
  let clients: AgentClients | undefined;
  if (config.bootstrapKubeconfig && !config.kubeconfig) {
    process.stderr.write('skiff agent: --bootstrap-kubeconfig needs --kubeconfig: the path where the node\'s own kubeconfig is written\n');
    return 2;
  }
  if (config.kubeconfig && config.bootstrapKubeconfig) {
    try {
      await bootstrapClientCertificate({ bootstrapKubeconfig: config.bootstrapKubeconfig, kubeconfig: config.kubeconfig, certDir: join(config.rootDir, 'pki'), nodeName, logger: logger.child({ component: 'tls-bootstrap' }) });
    } catch (err) {
      process.stderr.write(`skiff agent: TLS bootstrap failed: ${err instanceof Error ? err.message : String(err)}\n`);
      return 1;
    }
  }
  if (config.kubeconfig) {
    try {
      clients = agentClients(await loadKubeconfig(config.kubeconfig), nodeName, config);
      client = clients.api;
    } catch (err) {
      process.stderr.write(`skiff agent: --kubeconfig: ${err instanceof Error ? err.message : String(err)}\n`);
      return 2;
    }
  }
  let apiSource: ApiPodSource | undefined;
  let mirrors: MirrorPods | undefined;
  // Cluster mode: ConfigMaps, Secrets and Services that API pods use, watched and handed to env and volumes.
  let agentRef: Agent | undefined;
  const resources = client
    ? new PodResources({
        client,
        logger: logger.child({ component: 'pod-resources' }),
        rootDir: config.rootDir,
        resync: (uids) => uids.forEach((uid) => agentRef?.enqueuePod(uid)),
        events: () => (agentRef as Agent).events,
      })
    : undefined;
  const hooks = client ? clusterHooks(client, logger, () => mirrors, (namespace, name) => apiSource?.current(namespace, name)) : undefined;
  const cluster = hooks
    ? {
        ...hooks,
        podGone: (uid: string) => {
          hooks.podGone?.(uid);
          resources?.podGone(uid);
        },
        ...(resources ? { preparePod: (pod: Pod) => resources.preparePod(pod) } : {}),
      }
    : undefined;
  const agent = new Agent(config, {
    runtime,
    logger,
    nodeName,
    ...(cluster ? { cluster } : {}),
    ...(resources
      ? { envExtras: (pod: Pod) => resources.envExtras(pod), volumeObjects: (pod: Pod) => resources.volumeObjects(pod), pullSecrets: (pod: Pod) => resources.pullSecrets(pod) }
      : {}),
    ...(client
      ? {
          extraSources: (onUpdate) => {
            apiSource = new ApiPodSource({ client: client as KubeClient, nodeName, logger: logger.child({ source: 'api' }), onUpdate });
            // A readiness gate's condition set through pods/status changes no spec: the pod's Ready is computed again.
            apiSource.onChange(() => agentRef?.refreshGatedPods());
            return [apiSource];
          },
        }
      : {}),
    prepareRuntime: async () => {
      if (!podCIDR) throw new Error('the pod CIDR is not known yet');
      await ensurePodNetwork(docker, podCIDR, logger, nodeName);
      if (!(await runtime.hasImage(config.podInfraContainerImage))) {
        logger.warn({ image: config.podInfraContainerImage }, 'sandbox image missing: run "skiff images build"');
      }
    },
  });
  agentRef = agent;
  // Cluster mode: what the agent records (Pulled, Started, Killing, Unhealthy, BackOff ...) shows in kubectl get events.
  if (client) {
    const sink = new ApiEventSink(clients?.events ?? client, nodeName, logger.child({ component: 'event-sink' }));
    agent.events.onEvent((e) => sink.post(e));
  }
  logger.info({ config: describeConfig(config), node: nodeName }, 'starting agent');
  const server = new ReadOnlyServer(agent, logger.child({ component: 'server' }));
  if (config.readOnlyPort !== 0) {
    try {
      const port = await server.listen(config.readOnlyPort, config.address);
      logger.info({ address: config.address, port }, 'read-only API listening');
    } catch (err) {
      logger.fatal({ err: err instanceof Error ? err.message : String(err), port: config.readOnlyPort }, 'cannot listen on the read-only port');
      return 1;
    }
  }
  // The node server on --port (10250) over TLS: what the API server proxies exec, attach, port-forward and logs to.
  let securePort = 0;
  let secure: SecureServer | undefined;
  if (config.port !== 0) {
    try {
      const tls = await servingCertificate({ rootDir: config.rootDir, nodeName, addresses: [agent.hostIP], ...(config.tlsCertFile ? { certFile: config.tlsCertFile } : {}), ...(config.tlsPrivateKeyFile ? { keyFile: config.tlsPrivateKeyFile } : {}) });
      const caFile = config.authentication.x509.clientCAFile;
      // Without --client-ca-file, a node in a cluster trusts the cluster's CA from its kubeconfig (kubeadm sets the
      // same), so the API server's kubelet client certificate is accepted.
      const clientCA = caFile ? await readFile(caFile, 'utf8') : client?.conn.ca;
      secure = new SecureServer({
        agent,
        readOnly: server,
        streaming: new DockerStreaming(docker),
        auth: new NodeAuth({ nodeName, ...(client && config.authentication.webhook.enabled ? { client } : {}) }),
        nodeName,
        logger: logger.child({ component: 'node-server' }),
        tls: { ...tls, ...(clientCA ? { clientCA } : {}) },
      });
      securePort = await secure.listen(config.port, config.address);
      logger.info({ address: config.address, port: securePort }, 'node server listening (TLS)');
    } catch (err) {
      logger.fatal({ err: err instanceof Error ? err.message : String(err), port: config.port }, 'cannot start the node server');
      return 1;
    }
  }
  resources?.start();
  // In a cluster the node registers first: its pod range may be what the control plane gives the registered Node.
  let registration: NodeRegistration | undefined;
  if (client) {
    registration = new NodeRegistration({
      client: clients?.heartbeat ?? client,
      nodeName,
      nodeIP: agent.hostIP,
      maxPods: config.maxPods,
      labels: config.nodeLabels,
      taints: config.registerWithTaints,
      runtimeVersion: () => runtime.version(),
      runtimeUp: () => agent.runtimeReady(),
      version: `v1.32.0-skiff`,
      kubeletPort: securePort,
      logger: logger.child({ component: 'node' }),
    });
    await registration.start();
    if (!podCIDR) {
      podCIDR = await waitForNodePodCIDR(client, nodeName, logger);
      networkName = podNetworkName(podCIDR);
    }
  }
  await agent.start();
  if (client) {
    if (apiSource) {
      mirrors = new MirrorPods(
        client,
        apiSource,
        nodeName,
        () => agent.pods().filter((p) => p.metadata.annotations?.['kubernetes.io/config.source'] !== 'api'),
        logger.child({ component: 'mirror' }),
        (pod) => agent.resyncPod(pod.metadata.uid ?? ''),
      );
      mirrors.start();
    }
  }

  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ signal }, 'stopping agent; pods keep running');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  registration?.stop();
  mirrors?.stop();
  await agent.stop();
  resources?.stop();
  clients?.close();
  await server.close();
  await secure?.close();
  logger.flush?.();
  return 0;
}
