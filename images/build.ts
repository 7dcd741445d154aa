// Builds Skiff's own images locally with `docker import`: nothing is pulled, so this works with no
// registry reachable. Each image is a complete root filesystem made from host files (a static
// pause binary compiled here, Debian's static busybox) plus the small scripts in this folder.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { access, constants, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Dockerode from 'dockerode';
import { execa } from 'execa';
import { createTar, type RootfsEntry } from './tar.js';

export const IMAGES = {
  pause: 'skiff/pause:3.10',
  busybox: 'skiff/busybox:1.0',
  web: 'skiff/web:1.0',
  web2: 'skiff/web:2.0',
} as const;

export type ImageKey = keyof typeof IMAGES;

/** Label holding the hash of everything an image was built from; equal hash means up to date. */
export const HASH_LABEL = 'io.skiff.image.hash';
/** Label naming the Skiff image, so that Skiff-built images can be found with a label filter. */
export const NAME_LABEL = 'io.skiff.image.name';

// Bump to force a rebuild of every image when the build logic itself changes meaning.
const BUILDER_VERSION = 1;
const PAUSE_CFLAGS = ['-static', '-Os', '-s', '-Wall', '-Wextra', '-Werror'] as const;
const DEFAULT_BUSYBOX = '/bin/busybox';
const DEFAULT_CC = 'gcc';
const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface BuildImagesOptions {
  docker?: Dockerode;
  onProgress?: (msg: string) => void;
  /** Rebuild even images whose hash label matches. */
  force?: boolean;
  /** Static busybox to put in the images; defaults to /bin/busybox from Debian's busybox-static. */
  busybox?: string;
  /** C compiler for the pause binary; defaults to gcc. */
  cc?: string;
}

export interface BuildImagesResult {
  built: string[];
  skipped: string[];
}

export type ImageState = 'up-to-date' | 'stale' | 'missing';

export interface ImageStatus {
  key: ImageKey;
  ref: string;
  state: ImageState;
  /** Image ID when present in the daemon. */
  id?: string;
  size?: number;
  wantHash: string;
  haveHash?: string;
}

/** Dockerfile-style instructions applied by the import, the `--change` flags of `docker import`. */
interface ImageConfig {
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  exposedPorts?: string[];
  user?: string;
  workdir?: string;
}

interface ImageSpec {
  key: ImageKey;
  ref: string;
  config: ImageConfig;
  hash: string;
  rootfs: () => Promise<RootfsEntry[]>;
}

/** Where pause.c and the scripts live: beside this module in the source tree, ../../images from dist/images. */
function assetsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [here, resolve(here, '..', '..', 'images')]) {
    if (existsSync(join(candidate, 'pause', 'pause.c'))) return candidate;
  }
  throw new Error(`cannot find the image sources (pause/pause.c) near ${here}`);
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function hashOf(value: unknown): string {
  return sha256(JSON.stringify(value));
}

function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

function statusCode(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null && 'statusCode' in err) {
    const code = (err as { statusCode: unknown }).statusCode;
    return typeof code === 'number' ? code : undefined;
  }
  return undefined;
}

/**
 * Reads the ELF program headers to tell a static binary from a dynamic one. Debian's plain `busybox`
 * package also installs /bin/busybox, but dynamically linked: it would not start in an image with no libc.
 */
async function isStaticElf(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(64);
    await fh.read(head, 0, 64, 0);
    if (head.readUInt32BE(0) !== 0x7f454c46) return false; // not ELF at all
    const is64 = head[4] === 2;
    if (head[5] !== 1) return true; // big-endian hosts: assume Debian's busybox-static, skip the check
    const phoff = is64 ? Number(head.readBigUInt64LE(0x20)) : head.readUInt32LE(0x1c);
    const phentsize = head.readUInt16LE(is64 ? 0x36 : 0x2a);
    const phnum = head.readUInt16LE(is64 ? 0x38 : 0x2c);
    const table = Buffer.alloc(phentsize * phnum);
    await fh.read(table, 0, table.length, phoff);
    const PT_INTERP = 3;
    for (let i = 0; i < phnum; i++) {
      if (table.readUInt32LE(i * phentsize) === PT_INTERP) return false;
    }
    return true;
  } finally {
    await fh.close();
  }
}

async function checkBusybox(path: string): Promise<void> {
  try {
    await access(path, constants.X_OK);
  } catch {
    throw new Error(
      `${path} not found or not executable: the Skiff test images need a static busybox; ` +
        `install the Debian package busybox-static (apt-get install -y busybox-static)`,
    );
  }
  if (!(await isStaticElf(path))) {
    throw new Error(
      `${path} is not a statically linked busybox: install the Debian package busybox-static ` +
        `(apt-get install -y busybox-static), which replaces the dynamic busybox package`,
    );
  }
}

async function busyboxApplets(path: string): Promise<string[]> {
  const { stdout } = await execa(path, ['--list-full']);
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && l !== 'bin/busybox')
    .sort();
}

async function compilePause(cc: string, source: string, workDir: string): Promise<Buffer> {
  const out = join(workDir, 'pause');
  try {
    await execa(cc, [...PAUSE_CFLAGS, '-o', out, source], { all: true });
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') {
      throw new Error(
        `C compiler ${cc} not found: building skiff/pause needs gcc and a static libc; ` +
          `install the Debian packages gcc and libc6-dev (apt-get install -y gcc libc6-dev)`,
      );
    }
    const output = typeof err === 'object' && err !== null && 'all' in err ? String((err as { all: unknown }).all) : String(err);
    const hint = /cannot find -lc|libc\.a/.test(output)
      ? ' (static libc missing: install the Debian package libc6-dev)'
      : '';
    throw new Error(`compiling pause.c failed${hint}:\n${output}`);
  }
  return readFile(out);
}

/** The base rootfs shared by skiff/busybox and skiff/web: busybox, its applet links, and a minimal /etc. */
function busyboxRootfs(busybox: Buffer, applets: readonly string[], scripts: Record<string, Buffer>): RootfsEntry[] {
  const entries: RootfsEntry[] = [
    { type: 'file', path: 'bin/busybox', mode: 0o755, content: busybox },
    ...applets.map((p): RootfsEntry => {
      // Relative link targets keep the links valid whatever the rootfs is mounted under.
      const depth = p.split('/').length - 1;
      return { type: 'symlink', path: p, target: `${'../'.repeat(depth)}bin/busybox` };
    }),
    {
      type: 'file',
      path: 'etc/passwd',
      mode: 0o644,
      content: Buffer.from('root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n'),
    },
    { type: 'file', path: 'etc/group', mode: 0o644, content: Buffer.from('root:x:0:\nnogroup:x:65534:\n') },
    { type: 'dir', path: 'root', mode: 0o700 },
    { type: 'dir', path: 'tmp', mode: 0o1777 },
    { type: 'dir', path: 'var/tmp', mode: 0o1777 },
    { type: 'dir', path: 'proc', mode: 0o555 },
    { type: 'dir', path: 'sys', mode: 0o555 },
    { type: 'dir', path: 'dev', mode: 0o755 },
    { type: 'dir', path: 'usr/local/bin', mode: 0o755 },
  ];
  for (const [name, content] of Object.entries(scripts)) {
    entries.push({ type: 'file', path: `usr/local/bin/${name}`, mode: 0o755, content });
  }
  return entries;
}

async function imageSpecs(busyboxPath: string, cc: string, workDir: () => Promise<string>): Promise<ImageSpec[]> {
  const assets = assetsDir();
  const pauseSource = join(assets, 'pause', 'pause.c');
  const [pauseC, busybox, exitWith, crashAfter, webServer, cgiV1, cgiV2] = await Promise.all([
    readFile(pauseSource),
    readFile(busyboxPath),
    readFile(join(assets, 'busybox', 'exit-with')),
    readFile(join(assets, 'busybox', 'crash-after')),
    readFile(join(assets, 'web', 'web-server')),
    readFile(join(assets, 'web', 'v1', 'index.cgi')),
    readFile(join(assets, 'web', 'v2', 'index.cgi')),
  ]);
  const applets = await busyboxApplets(busyboxPath);
  const base = busyboxRootfs(busybox, applets, { 'exit-with': exitWith, 'crash-after': crashAfter });

  const pauseConfig: ImageConfig = { entrypoint: ['/pause'], user: '65535:65535' };
  const busyboxConfig: ImageConfig = { env: [PATH_ENV], cmd: ['sh'] };
  const webConfig: ImageConfig = {
    env: [PATH_ENV, 'PORT=80'],
    entrypoint: ['/usr/local/bin/web-server'],
    exposedPorts: ['80/tcp'],
  };
  const webRootfs = (cgi: Buffer): RootfsEntry[] => [
    ...base,
    { type: 'file', path: 'usr/local/bin/web-server', mode: 0o755, content: webServer },
    { type: 'file', path: 'www/cgi-bin/index.cgi', mode: 0o755, content: cgi },
    { type: 'file', path: 'www/healthz', mode: 0o644, content: Buffer.from('ok\n') },
  ];
  // Hash the file contents rather than the serialized tar so the hash needs no compile.
  const describe = (entries: RootfsEntry[]): unknown[] =>
    entries.map((e) =>
      e.type === 'file' ? [e.path, e.mode, sha256(e.content)] : e.type === 'dir' ? [e.path, e.mode] : [e.path, e.target],
    );

  const compile = async (): Promise<Buffer> => compilePause(cc, pauseSource, await workDir());
  return [
    {
      key: 'pause',
      ref: IMAGES.pause,
      config: pauseConfig,
      // The pause hash covers source and flags, not the binary, so an up-to-date image needs no gcc.
      hash: hashOf([BUILDER_VERSION, IMAGES.pause, sha256(pauseC), PAUSE_CFLAGS, pauseConfig]),
      rootfs: async () => [{ type: 'file', path: 'pause', mode: 0o755, content: await compile() }],
    },
    {
      key: 'busybox',
      ref: IMAGES.busybox,
      config: busyboxConfig,
      hash: hashOf([BUILDER_VERSION, IMAGES.busybox, describe(base), busyboxConfig]),
      rootfs: async () => base,
    },
    {
      key: 'web',
      ref: IMAGES.web,
      config: webConfig,
      hash: hashOf([BUILDER_VERSION, IMAGES.web, describe(webRootfs(cgiV1)), webConfig]),
      rootfs: async () => webRootfs(cgiV1),
    },
    {
      key: 'web2',
      ref: IMAGES.web2,
      config: webConfig,
      hash: hashOf([BUILDER_VERSION, IMAGES.web2, describe(webRootfs(cgiV2)), webConfig]),
      rootfs: async () => webRootfs(cgiV2),
    },
  ];
}

/** Turns an image config into `changes` for POST /images/create?fromSrc=- (Dockerfile syntax, JSON forms). */
function changesFor(spec: ImageSpec): string[] {
  const c = spec.config;
  const changes: string[] = [];
  if (c.entrypoint) changes.push(`ENTRYPOINT ${JSON.stringify(c.entrypoint)}`);
  if (c.cmd) changes.push(`CMD ${JSON.stringify(c.cmd)}`);
  for (const env of c.env ?? []) {
    const eq = env.indexOf('=');
    changes.push(`ENV ${env.slice(0, eq)}=${JSON.stringify(env.slice(eq + 1))}`);
  }
  for (const port of c.exposedPorts ?? []) changes.push(`EXPOSE ${port}`);
  if (c.user) changes.push(`USER ${c.user}`);
  if (c.workdir) changes.push(`WORKDIR ${c.workdir}`);
  changes.push(`LABEL ${HASH_LABEL}=${JSON.stringify(spec.hash)} ${NAME_LABEL}=${JSON.stringify(spec.ref)}`);
  return changes;
}

function splitRef(ref: string): { repo: string; tag: string } {
  const i = ref.lastIndexOf(':');
  return { repo: ref.slice(0, i), tag: ref.slice(i + 1) };
}

interface InspectedImage {
  id: string;
  size: number;
  hash: string | undefined;
}

async function inspectImage(docker: Dockerode, ref: string): Promise<InspectedImage | undefined> {
  try {
    const info = await docker.getImage(ref).inspect();
    const labels: Record<string, string> | null | undefined = info.Config?.Labels;
    return { id: info.Id, size: info.Size, hash: labels?.[HASH_LABEL] };
  } catch (err) {
    if (statusCode(err) === 404) return undefined;
    throw err;
  }
}

async function importTar(docker: Dockerode, tarPath: string, spec: ImageSpec): Promise<void> {
  const { repo, tag } = splitRef(spec.ref);
  const stream = await docker.importImage(createReadStream(tarPath), {
    repo,
    tag,
    changes: changesFor(spec),
    message: `skiff images build (${spec.key})`,
  });
  // The daemon reports failures inside the 200 response's JSON stream, which followProgress surfaces.
  await new Promise<void>((resolvePromise, reject) => {
    docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolvePromise()));
  });
}

function newDocker(opts: BuildImagesOptions): Dockerode {
  return opts.docker ?? new Dockerode();
}

/** Compares each image in the daemon with what a build would produce, without building anything. */
export async function imageStatuses(opts: Pick<BuildImagesOptions, 'docker' | 'busybox' | 'cc'> = {}): Promise<ImageStatus[]> {
  const docker = newDocker(opts);
  const busyboxPath = opts.busybox ?? DEFAULT_BUSYBOX;
  await checkBusybox(busyboxPath);
  const specs = await imageSpecs(busyboxPath, opts.cc ?? DEFAULT_CC, () => {
    throw new Error('imageStatuses never builds');
  });
  const out: ImageStatus[] = [];
  for (const spec of specs) {
    const have = await inspectImage(docker, spec.ref);
    const status: ImageStatus = {
      key: spec.key,
      ref: spec.ref,
      state: have === undefined ? 'missing' : have.hash === spec.hash ? 'up-to-date' : 'stale',
      wantHash: spec.hash,
    };
    if (have) {
      status.id = have.id;
      status.size = have.size;
      if (have.hash !== undefined) status.haveHash = have.hash;
    }
    out.push(status);
  }
  return out;
}

/**
 * Builds every Skiff image that is missing or whose hash label differs from its inputs' hash.
 * Safe to call on every start: up-to-date images cost one inspect each.
 */
export async function buildImages(opts: BuildImagesOptions = {}): Promise<BuildImagesResult> {
  const docker = newDocker(opts);
  const progress = opts.onProgress ?? ((): void => {});
  const busyboxPath = opts.busybox ?? DEFAULT_BUSYBOX;
  await checkBusybox(busyboxPath);

  let tmp: string | undefined;
  const workDir = async (): Promise<string> => (tmp ??= await mkdtemp(join(tmpdir(), 'skiff-images-')));
  const result: BuildImagesResult = { built: [], skipped: [] };
  try {
    const specs = await imageSpecs(busyboxPath, opts.cc ?? DEFAULT_CC, workDir);
    for (const spec of specs) {
      const have = await inspectImage(docker, spec.ref);
      if (!opts.force && have?.hash === spec.hash) {
        progress(`${spec.ref} is up to date`);
        result.skipped.push(spec.ref);
        continue;
      }
      progress(`building ${spec.ref} ...`);
      const tarPath = join(await workDir(), `${spec.key}.tar`);
      await writeFile(tarPath, createTar(await spec.rootfs()));
      await importTar(docker, tarPath, spec);
      const now = await inspectImage(docker, spec.ref);
      if (now?.hash !== spec.hash) throw new Error(`import of ${spec.ref} did not produce the expected image`);
      if (have && have.id !== now.id) {
        // The old image lost its tag; remove it so rebuilds leave no dangling images. A 409 means a
        // container still uses it (or another tag points at it): leave it to its owner then.
        await docker
          .getImage(have.id)
          .remove()
          .catch((err: unknown) => {
            if (statusCode(err) !== 409 && statusCode(err) !== 404) throw err;
          });
      }
      progress(`built ${spec.ref} (${now.id.slice(7, 19)})`);
      result.built.push(spec.ref);
    }
  } finally {
    if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
  }
  return result;
}
