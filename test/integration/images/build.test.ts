// Builds the Skiff images against the real dockerd and runs each one. Containers and networks made
// here carry io.skiff.test=1 and are removed in afterAll whatever happened; the images stay, as they
// are the project's own and later suites use them.
import { request } from 'node:http';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImages, HASH_LABEL, IMAGES, imageStatuses, NAME_LABEL } from '../../../images/build.js';
import { imagesCommand } from '../../../images/cli.js';

const docker = new Dockerode();
const TEST_LABEL = { 'io.skiff.test': '1' };
const suffix = `${process.pid}-${Date.now().toString(36)}`;
const networkName = `skiff-test-images-${suffix}`;
const containers: Dockerode.Container[] = [];

async function run(image: string, opts: Partial<Dockerode.ContainerCreateOptions> = {}): Promise<Dockerode.Container> {
  const container = await docker.createContainer({
    Image: image,
    Labels: TEST_LABEL,
    ...opts,
    HostConfig: { NetworkMode: 'none', ...opts.HostConfig },
  });
  containers.push(container);
  await container.start();
  return container;
}

async function waitExit(container: Dockerode.Container): Promise<number> {
  const res = (await container.wait()) as { StatusCode: number };
  return res.StatusCode;
}

async function logs(container: Dockerode.Container): Promise<string> {
  const buf = (await container.logs({ stdout: true, stderr: true })) as Buffer;
  // Non-TTY logs are multiplexed with 8-byte frame headers; strip them for readable assertions.
  const out: Buffer[] = [];
  for (let i = 0; i + 8 <= buf.length; ) {
    const len = buf.readUInt32BE(i + 4);
    out.push(buf.subarray(i + 8, i + 8 + len));
    i += 8 + len;
  }
  return Buffer.concat(out).toString('utf8');
}

function httpGet(host: string, port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method: 'GET', timeout: 5_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET http://${host}:${port}${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Retries until the server inside the container accepts connections; bounded to 50 tries. */
async function httpGetWhenUp(host: string, port: number, path: string): Promise<{ status: number; body: string }> {
  let last: unknown;
  for (let i = 0; i < 50; i++) {
    try {
      return await httpGet(host, port, path);
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw last;
}

describe('skiff images', () => {
  let first: { built: string[]; skipped: string[] };
  const progress: string[] = [];

  beforeAll(async () => {
    first = await buildImages({ docker, onProgress: (m) => progress.push(m) });
  });

  afterAll(async () => {
    const errors: unknown[] = [];
    for (const c of containers) {
      await c.remove({ force: true }).catch((err: unknown) => errors.push(err));
    }
    const nets = await docker.listNetworks({ filters: { label: ['io.skiff.test=1'], name: [networkName] } });
    for (const n of nets) await docker.getNetwork(n.Id).remove().catch((err: unknown) => errors.push(err));
    const left = await docker.listContainers({ all: true, filters: { label: ['io.skiff.test=1'] } });
    const ours = new Set(containers.map((c) => c.id));
    expect(left.filter((c) => ours.has(c.Id))).toEqual([]);
    expect(errors.filter((e) => (e as { statusCode?: number }).statusCode !== 404)).toEqual([]);
  });

  it('builds or confirms every image and labels it with its input hash', async () => {
    const all = Object.values(IMAGES);
    expect([...first.built, ...first.skipped].sort()).toEqual([...all].sort());
    for (const ref of first.built) expect(progress).toContain(`building ${ref} ...`);
    for (const ref of all) {
      const info = await docker.getImage(ref).inspect();
      expect(info.Config.Labels?.[HASH_LABEL]).toMatch(/^[0-9a-f]{64}$/);
    }
    const statuses = await imageStatuses({ docker });
    expect(statuses.map((s) => s.state)).toEqual(['up-to-date', 'up-to-date', 'up-to-date', 'up-to-date']);
  });

  it('skips every image on a second build', async () => {
    const again = await buildImages({ docker });
    expect(again.built).toEqual([]);
    expect(again.skipped.sort()).toEqual(Object.values(IMAGES).sort());
  });

  it('rebuilds everything with force and leaves no dangling old images', async () => {
    const before = await docker.getImage(IMAGES.busybox).inspect();
    const forced = await buildImages({ docker, force: true });
    expect(forced.built.sort()).toEqual(Object.values(IMAGES).sort());
    const after = await docker.getImage(IMAGES.busybox).inspect();
    expect(after.Id).not.toBe(before.Id);
    const dangling = await docker.listImages({ filters: { dangling: ['true'], label: [NAME_LABEL] } });
    expect(dangling.map((i) => i.Id)).not.toContain(before.Id);
  });

  it('explains which Debian package is missing', async () => {
    await expect(buildImages({ docker, busybox: '/nonexistent/busybox' })).rejects.toThrow(/busybox-static/);
    // A dynamically linked binary would not start in an image without libc.
    await expect(buildImages({ docker, busybox: process.execPath })).rejects.toThrow(/not a statically linked/);
    await expect(buildImages({ docker, force: true, cc: '/nonexistent/gcc' })).rejects.toThrow(/gcc and libc6-dev/);
    // The failed forced build stopped before replacing anything.
    expect((await imageStatuses({ docker })).every((s) => s.state === 'up-to-date')).toBe(true);
  });

  it('skiff images list and build report through stdout and stderr', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { docker, stdout: (l: string) => out.push(l), stderr: (l: string) => err.push(l) };
    expect(await imagesCommand(['list'], io)).toBe(0);
    expect(out[0]).toMatch(/^IMAGE\s+STATE\s+ID\s+SIZE$/);
    for (const ref of Object.values(IMAGES)) expect(out.some((l) => l.startsWith(`${ref} `) && l.includes('up-to-date'))).toBe(true);
    expect(await imagesCommand(['build'], io)).toBe(0);
    expect(err).toContain('images: 0 built, 4 up to date');
    expect(await imagesCommand(['build', '--bogus'], io)).toBe(2);
    expect(await imagesCommand(['frobnicate'], io)).toBe(2);
    expect(await imagesCommand([], io)).toBe(2);
  });

  it('sets the documented entrypoints and commands', async () => {
    const pause = await docker.getImage(IMAGES.pause).inspect();
    expect(pause.Config.Entrypoint).toEqual(['/pause']);
    const busybox = await docker.getImage(IMAGES.busybox).inspect();
    expect(busybox.Config.Cmd).toEqual(['sh']);
    expect(busybox.Config.Env).toContain('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    for (const ref of [IMAGES.web, IMAGES.web2]) {
      const web = await docker.getImage(ref).inspect();
      expect(web.Config.Entrypoint).toEqual(['/usr/local/bin/web-server']);
      expect(Object.keys(web.Config.ExposedPorts ?? {})).toEqual(['80/tcp']);
    }
  });

  it('pause exits 0 on SIGTERM instead of being SIGKILLed', async () => {
    const c = await run(IMAGES.pause);
    expect((await c.inspect()).State.Running).toBe(true);
    await c.stop({ t: 10 });
    const state = (await c.inspect()).State;
    expect(state.ExitCode).toBe(0); // 137 would mean docker had to SIGKILL it
    expect(state.OOMKilled).toBe(false);
  });

  it('pause reaps zombies as PID 1 (a shared PID namespace re-parents orphans to it)', async () => {
    const sandbox = await run(IMAGES.pause);
    // Orphan a short-lived grandchild into pause's PID namespace, then check no zombie is left.
    const worker = await run(IMAGES.busybox, {
      Cmd: [
        'sh',
        '-c',
        '(sleep 0.2 &); sleep 2; for f in /proc/[0-9]*/stat; do read -r l < "$f" && echo "$l"; done; echo DONE; sleep 3600',
      ],
      HostConfig: { PidMode: `container:${sandbox.id}`, NetworkMode: 'none' },
    });
    let out = '';
    for (let i = 0; i < 100 && !out.includes('DONE'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      out = await logs(worker);
    }
    expect(out).toContain('DONE');
    expect(out).toMatch(/^1 \(pause\) S /m); // pause really is PID 1 of the shared namespace
    expect(out.split('\n').filter((l) => /\) Z /.test(l))).toEqual([]);
  });

  it('skiff/web answers GET / with the hostname and /healthz with 200', async () => {
    await docker.createNetwork({ Name: networkName, Labels: TEST_LABEL, CheckDuplicate: true });
    const web = await run(IMAGES.web, { Hostname: 'mypod', HostConfig: { NetworkMode: networkName } });
    const web2 = await run(IMAGES.web2, {
      Hostname: 'mypod2',
      Env: ['PORT=8080'],
      HostConfig: { NetworkMode: networkName },
    });
    const ipOf = async (c: Dockerode.Container): Promise<string> => {
      const ip = (await c.inspect()).NetworkSettings.Networks[networkName]?.IPAddress;
      if (!ip) throw new Error(`container ${c.id} has no address on ${networkName}`);
      return ip;
    };
    const ip = await ipOf(web);
    expect(await httpGetWhenUp(ip, 80, '/')).toEqual({ status: 200, body: 'mypod\n' });
    expect((await httpGet(ip, 80, '/healthz')).status).toBe(200);
    expect((await httpGet(ip, 80, '/nope')).status).toBe(404);
    const ip2 = await ipOf(web2);
    expect(await httpGetWhenUp(ip2, 8080, '/')).toEqual({ status: 200, body: 'v2 mypod2\n' });

    // The server must stop cleanly on SIGTERM too, or every pod deletion would wait for SIGKILL.
    await web.stop({ t: 10 });
    expect((await web.inspect()).State.ExitCode).toBe(0);
  });

  it('exit-with exits with the given code', async () => {
    const c = await run(IMAGES.busybox, { Cmd: ['exit-with', '3'] });
    expect(await waitExit(c)).toBe(3);
    const delayed = await run(IMAGES.busybox, { Cmd: ['exit-with', '0', '1'] });
    expect(await waitExit(delayed)).toBe(0);
  });

  it('exit-with exits 143 at once on SIGTERM while sleeping', async () => {
    const c = await run(IMAGES.busybox, { Cmd: ['exit-with', '0', '3600'] });
    await c.stop({ t: 10 });
    expect((await c.inspect()).State.ExitCode).toBe(143);
  });

  it('crash-after prints a line per second, then exits 1', async () => {
    const c = await run(IMAGES.busybox, { Cmd: ['crash-after', '1'] });
    expect(await waitExit(c)).toBe(1);
    expect(await logs(c)).toBe('crash-after: running 1/1\ncrash-after: crashing with exit code 1\n');
  });
});
