// DockerStreaming against the real dockerd: attach's answer for a container that is not running. The containers made
// here carry io.skiff.test=1 and are removed in afterAll whatever happened.
import Dockerode from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { DockerStreaming } from '../../../agent/runtime/streaming.js';
import { IMAGES } from '../../../images/build.js';

const docker = new Dockerode();
const containers: Dockerode.Container[] = [];

async function start(command: string): Promise<Dockerode.Container> {
  const container = await docker.createContainer({
    Image: IMAGES.busybox,
    Entrypoint: ['sh', '-c', command],
    OpenStdin: true,
    StdinOnce: true,
    Labels: { 'io.skiff.test': '1' },
    name: `skiff-test-streaming-${process.pid}-${containers.length}`,
    HostConfig: { NetworkMode: 'none' },
  });
  containers.push(container);
  await container.start();
  return container;
}

/** Collects a stream's text until it ends. */
function text(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    stream.on('data', (d: Buffer) => (out += d.toString()));
    stream.once('end', () => resolve(out));
  });
}

describe('DockerStreaming.attach', () => {
  const streaming = new DockerStreaming(docker);

  afterAll(async () => {
    for (const c of containers) await c.remove({ force: true }).catch(() => undefined);
    const left = await docker.listContainers({ all: true, filters: { label: ['io.skiff.test=1'], name: [`skiff-test-streaming-${process.pid}-`] } });
    expect(left).toEqual([]);
  });

  it('streams a running container\'s output and ends when the container exits', async () => {
    const container = await start('read line; echo "got $line"');
    const session = await streaming.attach(container.id, { stdin: true, stdout: true, stderr: true, tty: false });
    const out = text(session.stdout);
    session.stdin?.write('hello\n');
    await session.done;
    expect(await out).toBe('got hello\n');
  });

  // Docker itself would hold this attach open until the container is started again, which for a pod's exited
  // container never happens: kubectl run -i of a command that ends at once hung here.
  it('refuses a container that has already exited instead of waiting for it to start again', async () => {
    const container = await start('echo done');
    expect(((await container.wait()) as { StatusCode: number }).StatusCode).toBe(0);
    await expect(streaming.attach(container.id, { stdin: true, stdout: true, stderr: true, tty: false })).rejects.toThrow(/is not running \(exited\)/);
  });
});
