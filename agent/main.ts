import { join } from 'node:path';
import Dockerode from 'dockerode';
import type { Pod } from '../control/api/index.js';
import { createLogger } from '../lib/log.js';
import { KubeClient, loadKubeconfig } from '../control/client/index.js';
import { bootstrapClientCertificate } from './cluster/tls-bootstrap.js';
import { Agent } from './agent.js';
import { ApiPodSource } from './cluster/api-source.js';
import { clusterHooks } from './cluster/hooks.js';
import { MirrorPods } from './cluster/mirror-pods.js';
import { NodeRegistration } from './cluster/node-status.js';
import { PodResources } from './cluster/pod-resources.js';
import { agentHelp, ConfigError, describeConfig, loadAgentConfig, nodeNameOf } from './options.js';
import { DockerRuntime } from './runtime/docker.js';
import { ensurePodNetwork, podNetworkName } from './runtime/pod-network.js';
import { ReadOnlyServer } from './server/read-only.js';

/** Docker endpoint flag value → dockerode connection options. */
export function dockerOptions(endpoint: string): Dockerode.DockerOptions {
  if (endpoint.startsWith('unix://')) return { socketPath: endpoint.slice('unix://'.length) };
  const u = new URL(endpoint.replace(/^tcp:/, 'http:'));
  return { host: u.hostname, port: Number(u.port || 2375), protocol: 'http' };
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
  const networkName = podNetworkName(config.podCIDR);
  const runtime = new DockerRuntime({ docker, nodeName, networkName, pauseImage: config.podInfraContainerImage, logger: logger.child({ component: 'runtime' }) });
  // Cluster mode: the API server in --kubeconfig is one more pod source, and hears about this node and its pods.
  let client: KubeClient | undefined;
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
      client = new KubeClient(await loadKubeconfig(config.kubeconfig), `skiff-agent/${nodeName}`);
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
  const cluster = client
    ? { ...clusterHooks(client, logger, () => mirrors), ...(resources ? { preparePod: (pod: Pod) => resources.preparePod(pod), podGone: (uid: string) => resources.podGone(uid) } : {}) }
    : undefined;
  const agent = new Agent(config, {
    runtime,
    logger,
    nodeName,
    ...(cluster ? { cluster } : {}),
    ...(resources ? { envExtras: (pod: Pod) => resources.envExtras(pod), volumeObjects: (pod: Pod) => resources.volumeObjects(pod) } : {}),
    ...(client
      ? {
          extraSources: (onUpdate) => {
            apiSource = new ApiPodSource({ client: client as KubeClient, nodeName, logger: logger.child({ source: 'api' }), onUpdate });
            return [apiSource];
          },
        }
      : {}),
    prepareRuntime: async () => {
      await ensurePodNetwork(docker, config.podCIDR, logger);
      if (!(await runtime.hasImage(config.podInfraContainerImage))) {
        logger.warn({ image: config.podInfraContainerImage }, 'sandbox image missing: run "skiff images build"');
      }
    },
  });
  agentRef = agent;
  logger.info({ config: describeConfig(config), node: nodeName }, 'starting agent');
  const server = new ReadOnlyServer(agent, logger.child({ component: 'server' }));
  let readOnlyPort = 0;
  if (config.readOnlyPort !== 0) {
    try {
      const port = await server.listen(config.readOnlyPort, config.address);
      readOnlyPort = port;
      logger.info({ address: config.address, port }, 'read-only API listening');
    } catch (err) {
      logger.fatal({ err: err instanceof Error ? err.message : String(err), port: config.readOnlyPort }, 'cannot listen on the read-only port');
      return 1;
    }
  }
  resources?.start();
  await agent.start();
  let registration: NodeRegistration | undefined;
  if (client) {
    registration = new NodeRegistration({
      client,
      nodeName,
      nodeIP: agent.hostIP,
      maxPods: config.maxPods,
      labels: config.nodeLabels,
      taints: config.registerWithTaints,
      runtimeVersion: () => runtime.version().catch(() => 'docker://unknown'),
      version: `v1.32.0-skiff`,
      kubeletPort: readOnlyPort,
      logger: logger.child({ component: 'node' }),
    });
    await registration.start();
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
  client?.close();
  await server.close();
  logger.flush?.();
  return 0;
}
