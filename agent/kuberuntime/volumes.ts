import { mkdir, rm, stat, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
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
export async function preparePodVolumes(rootDir: string, pod: Pod): Promise<PodMounts> {
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
