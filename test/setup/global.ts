import Dockerode from 'dockerode';
import { buildImages } from '../../images/build.js';

/**
 * Builds Skiff's local images once before the suites run, when a Docker daemon answers. Without one, unit tests
 * still run and integration tests fail with their own clear message.
 */
export default async function setup(): Promise<void> {
  const docker = new Dockerode();
  try {
    await docker.ping();
  } catch {
    process.stderr.write('global setup: no Docker daemon answers; integration tests will fail\n');
    return;
  }
  await buildImages({ docker, onProgress: (m) => process.stderr.write(`images: ${m}\n`) });
}
