import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, readFile, readlink, rename, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Pod, Volume } from '../../control/api/index.js';
import type { PodMounts } from '../runtime/runtime.js';

export class VolumeError extends Error {}

/** The pod's data directory, as the kubelet lays it out under its root dir. */
export function podDir(rootDir: string, uid: string): string {
  return join(rootDir, 'pods', uid);
}

function volumeDir(rootDir: string, uid: string, plugin: string, name: string): string {
  return join(podDir(rootDir, uid), 'volumes', `kubernetes.io~${plugin}`, name);
}

async function exists(path: string): Promise<{ dir: boolean; file: boolean; socket: boolean; char: boolean; block: boolean } | undefined> {
  try {
    const s = await stat(path);
    return { dir: s.isDirectory(), file: s.isFile(), socket: s.isSocket(), char: s.isCharacterDevice(), block: s.isBlockDevice() };
  } catch {
    return undefined;
  }
}

/** Checks and, for the *OrCreate types, creates a hostPath volume the way upstream's hostPath type checker does. */
async function prepareHostPath(vol: Volume, path: string, type: string): Promise<void> {
  const found = await exists(path);
  const fail = (what: string): never => {
    throw new VolumeError(`volume "${vol.name}": hostPath type check failed: ${path} is not ${what}`);
  };
  switch (type) {
    case '':
      return;
    case 'DirectoryOrCreate':
      if (!found) await mkdir(path, { recursive: true, mode: 0o755 });
      else if (!found.dir) fail('a directory');
      return;
    case 'FileOrCreate':
      if (!found) {
        await mkdir(join(path, '..'), { recursive: true });
        await writeFile(path, '', { mode: 0o644 });
      } else if (!found.file) fail('a file');
      return;
    case 'Directory':
      if (!found?.dir) fail('a directory');
      return;
    case 'File':
      if (!found?.file) fail('a file');
      return;
    case 'Socket':
      if (!found?.socket) fail('a socket file');
      return;
    case 'CharDevice':
      if (!found?.char) fail('a character device');
      return;
    case 'BlockDevice':
      if (!found?.block) fail('a block device');
      return;
    default:
      throw new VolumeError(`volume "${vol.name}": unsupported hostPath type "${type}"`);
  }
}

/** Writes files atomically: a reader sees the old set or the new one, never half of it. */
async function writeAtomically(dir: string, files: Array<{ path: string; content: string; mode?: number }>): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const f of files) {
    const target = join(dir, f.path);
    await mkdir(join(target, '..'), { recursive: true });
    const tmp = `${target}.skiff-tmp`;
    await writeFile(tmp, f.content, { mode: f.mode ?? 0o644 });
    await rename(tmp, target);
  }
}

/** A file of a configMap/secret volume: its path inside the volume, content and mode. */
export interface ProjectedFile {
  path: string;
  content: Buffer;
  mode: number;
}

/** Where configMap and secret volumes get their data in cluster mode (values as stored: secret data base64). */
export interface VolumeObjects {
  configMap(namespace: string, name: string): { data?: Record<string, string>; binaryData?: Record<string, string> } | undefined;
  secret(namespace: string, name: string): { data?: Record<string, string> } | undefined;
}

const DATA_DIR = '..data';

/** The payload upstream's configMap/secret volume plugins build (MakePayload): every key, or the items asked for. */
export function objectPayload(
  vol: Volume,
  objects: VolumeObjects,
  namespace: string,
): ProjectedFile[] {
  const src = (vol.configMap ?? vol.secret) as { items?: Array<{ key: string; path: string; mode?: number }>; defaultMode?: number; optional?: boolean };
  const isConfigMap = Boolean(vol.configMap);
  const name = (isConfigMap ? vol.configMap?.name : vol.secret?.secretName) ?? '';
  const obj = isConfigMap ? objects.configMap(namespace, name) : objects.secret(namespace, name);
  const optional = src.optional === true;
  if (!obj) {
    if (optional) return [];
    throw new VolumeError(`MountVolume.SetUp failed for volume "${vol.name}" : ${isConfigMap ? 'configmap' : 'secret'} "${name}" not found`);
  }
  const values = new Map<string, Buffer>();
  if (isConfigMap) {
    const cm = obj as { data?: Record<string, string>; binaryData?: Record<string, string> };
    for (const [k, v] of Object.entries(cm.data ?? {})) values.set(k, Buffer.from(v, 'utf8'));
    for (const [k, v] of Object.entries(cm.binaryData ?? {})) values.set(k, Buffer.from(v, 'base64'));
  } else {
    for (const [k, v] of Object.entries(obj.data ?? {})) values.set(k, Buffer.from(v, 'base64'));
  }
  const defaultMode = src.defaultMode ?? 0o644;
  if (!src.items || src.items.length === 0) return [...values].map(([path, content]) => ({ path, content, mode: defaultMode }));
  const files: ProjectedFile[] = [];
  for (const item of src.items) {
    const content = values.get(item.key);
    if (content === undefined) {
      if (optional) continue;
      throw new VolumeError(`MountVolume.SetUp failed for volume "${vol.name}" : ${isConfigMap ? 'configmap references non-existent config key' : 'references non-existent secret key'}: ${item.key}`);
    }
    files.push({ path: item.path, content, mode: item.mode ?? defaultMode });
  }
  return files;
}

const tsDirName = (now: Date): string => {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const ts = `${now.getUTCFullYear()}_${p(now.getUTCMonth() + 1)}_${p(now.getUTCDate())}_${p(now.getUTCHours())}_${p(now.getUTCMinutes())}_${p(now.getUTCSeconds())}`;
  return `..${ts}.${randomBytes(5).readUInt32BE(0)}`;
};

/** What the volume shows now (through ..data), to skip writing when nothing changed. */
async function currentPayload(dir: string): Promise<Map<string, { content: Buffer; mode: number }> | undefined> {
  let target: string;
  try {
    target = await readlink(join(dir, DATA_DIR));
  } catch {
    return undefined;
  }
  const out = new Map<string, { content: Buffer; mode: number }>();
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(join(dir, target, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else {
        const full = join(dir, target, r);
        out.set(r, { content: await readFile(full), mode: (await stat(full)).mode & 0o7777 });
      }
    }
  };
  await walk('');
  return out;
}

/**
 * Upstream's AtomicWriter: the files go into a fresh timestamped directory, a `..data` symlink pointing at it is
 * renamed into place (one atomic step), and each top-level name in the volume is a symlink through `..data`. A
 * container sees the old set of files or the new one, never a mix. Returns whether anything was written.
 */
export async function writeAtomicPayload(dir: string, files: ProjectedFile[], now: Date = new Date()): Promise<boolean> {
  await mkdir(dir, { recursive: true });
  for (const f of files) {
    if (f.path.startsWith('/') || f.path.split('/').some((seg) => seg === '..' || seg === '') || f.path.startsWith('..')) {
      throw new VolumeError(`invalid path "${f.path}": must be relative and may not contain '..'`);
    }
  }
  const current = await currentPayload(dir);
  if (current && current.size === files.length && files.every((f) => {
    const c = current.get(f.path);
    return c !== undefined && c.mode === (f.mode & 0o7777) && c.content.equals(f.content);
  })) {
    return false;
  }
  const oldTarget = current ? await readlink(join(dir, DATA_DIR)).catch(() => undefined) : undefined;
  const tsDir = tsDirName(now);
  await mkdir(join(dir, tsDir), { mode: 0o755 });
  for (const f of files) {
    const full = join(dir, tsDir, f.path);
    await mkdir(dirname(full), { recursive: true, mode: 0o755 });
    await writeFile(full, f.content, { mode: f.mode });
    // writeFile's mode is filtered by the umask; the volume's mode is what the pod asked for.
    await chmod(full, f.mode & 0o7777);
  }
  const tmpLink = join(dir, '..data_tmp');
  await rm(tmpLink, { force: true });
  await symlink(tsDir, tmpLink);
  await rename(tmpLink, join(dir, DATA_DIR));
  // The user-visible names: one symlink per top-level entry, through ..data.
  const top = new Set(files.map((f) => f.path.split('/')[0] as string));
  for (const name of top) {
    const link = join(dir, name);
    const st = await lstat(link).catch(() => undefined);
    if (st?.isSymbolicLink() && (await readlink(link)) === join(DATA_DIR, name)) continue;
    if (st) await rm(link, { recursive: true, force: true });
    await symlink(join(DATA_DIR, name), link);
  }
  for (const e of await readdir(dir)) {
    if (e.startsWith('..') || top.has(e)) continue;
    await unlink(join(dir, e)).catch(() => rm(join(dir, e), { recursive: true, force: true }));
  }
  if (oldTarget && oldTarget !== tsDir) await rm(join(dir, oldTarget), { recursive: true, force: true });
  return true;
}

/** The host directory of a configMap/secret volume. */
export function objectVolumeDir(rootDir: string, uid: string, vol: Volume): string {
  return volumeDir(rootDir, uid, vol.configMap ? 'configmap' : 'secret', vol.name);
}

/**
 * Rewrites the pod's configMap and secret volumes from the objects' current data (atomically, only when changed);
 * errors (a missing object) are left for the next start to report. Returns the names of the volumes updated.
 */
export async function refreshObjectVolumes(rootDir: string, pod: Pod, objects: VolumeObjects, now: Date = new Date()): Promise<string[]> {
  const uid = pod.metadata.uid ?? '';
  const updated: string[] = [];
  for (const vol of pod.spec.volumes ?? []) {
    if (!vol.configMap && !vol.secret) continue;
    const dir = objectVolumeDir(rootDir, uid, vol);
    // Only volumes already set up by a container start are kept fresh here.
    if (!(await lstat(join(dir, DATA_DIR)).catch(() => undefined))) continue;
    let files: ProjectedFile[];
    try {
      files = objectPayload(vol, objects, pod.metadata.namespace);
    } catch {
      continue;
    }
    if (await writeAtomicPayload(dir, files, now)) updated.push(vol.name);
  }
  return updated;
}

function downwardValue(pod: Pod, fieldPath: string): string {
  const fmt = (m: Record<string, string> | undefined): string =>
    Object.entries(m ?? {})
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join('\n');
  switch (fieldPath) {
    case 'metadata.labels':
      return fmt(pod.metadata.labels);
    case 'metadata.annotations':
      return fmt(pod.metadata.annotations);
    case 'metadata.name':
      return pod.metadata.name ?? '';
    case 'metadata.namespace':
      return pod.metadata.namespace;
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    default:
      throw new VolumeError(`unsupported downwardAPI fieldPath "${fieldPath}"`);
  }
}

/**
 * Creates the pod's data directory and every volume it declares, returning where each volume lives on the host.
 * Idempotent: called on every sync that starts containers.
 */
export async function preparePodVolumes(rootDir: string, pod: Pod, objects?: VolumeObjects): Promise<PodMounts> {
  const uid = pod.metadata.uid ?? '';
  await mkdir(join(podDir(rootDir, uid), 'volumes'), { recursive: true });
  const volumes: PodMounts['volumes'] = new Map();
  for (const vol of pod.spec.volumes ?? []) {
    if (vol.hostPath) {
      await prepareHostPath(vol, vol.hostPath.path, vol.hostPath.type ?? '');
      volumes.set(vol.name, { hostPath: vol.hostPath.path });
    } else if (vol.emptyDir) {
      if (vol.emptyDir.medium === 'Memory') {
        volumes.set(vol.name, { tmpfs: true });
      } else {
        const dir = volumeDir(rootDir, uid, 'empty-dir', vol.name);
        await mkdir(dir, { recursive: true, mode: 0o777 });
        volumes.set(vol.name, { hostPath: dir });
      }
    } else if (vol.downwardAPI) {
      const dir = volumeDir(rootDir, uid, 'downward-api', vol.name);
      const files = (vol.downwardAPI.items ?? []).map((item) => {
        if (!item.fieldRef) throw new VolumeError(`volume "${vol.name}": only fieldRef items are supported for static pods`);
        return { path: item.path, content: downwardValue(pod, item.fieldRef.fieldPath) };
      });
      await writeAtomically(dir, files);
      volumes.set(vol.name, { hostPath: dir });
    } else if ((vol.configMap || vol.secret) && objects) {
      const dir = objectVolumeDir(rootDir, uid, vol);
      await writeAtomicPayload(dir, objectPayload(vol, objects, pod.metadata.namespace));
      volumes.set(vol.name, { hostPath: dir });
    } else {
      const kind = Object.keys(vol).find((k) => k !== 'name') ?? 'unknown';
      throw new VolumeError(`volume "${vol.name}": ${kind} volumes need the API server; static pods cannot use them`);
    }
  }
  return { volumes };
}

/** Removes the pod's data directory once every container is gone. */
export async function removePodDir(rootDir: string, uid: string): Promise<void> {
  await rm(podDir(rootDir, uid), { recursive: true, force: true });
}
