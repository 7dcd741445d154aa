import Dockerode from 'dockerode';
import { createLogger } from '../lib/log.js';
import { Agent } from './agent.js';
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
  const agent = new Agent(config, {
    runtime,
    logger,
    nodeName,
    prepareRuntime: async () => {
      await ensurePodNetwork(docker, config.podCIDR, logger);
      if (!(await runtime.hasImage(config.podInfraContainerImage))) {
        logger.warn({ image: config.podInfraContainerImage }, 'sandbox image missing: run "skiff images build"');
      }
    },
  });
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
  await agent.start();

  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ signal }, 'stopping agent; pods keep running');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await agent.stop();
  await server.close();
  logger.flush?.();
  return 0;
}
