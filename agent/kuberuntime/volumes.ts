import { chmod, lchown, lstat, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pod, ResourceList, Volume } from '../../control/api/index.js';
import type { PodMounts } from '../runtime/runtime.js';
import { DATA_DIR, writeAtomicPayload } from './atomic-writer.js';
import { hostCapacity } from '../node-capacity.js';
import { memoryVolumeSize, mountMemoryVolume, unmountUnder } from './memory-volume.js';
import { memoryBytes } from '../../control/api/quantity.js';
import { downwardPayload, objectPayload, projectedPayload, VolumeError, type ProjectedFile, type VolumeObjects } from './volume-payload.js';

export { writeAtomicPayload } from './atomic-writer.js';
export { objectPayload, VolumeError, type ProjectedFile, type VolumeObjects } from './volume-payload.js';

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

/** The volume plugins whose files the agent writes and keeps current (upstream's directory names). */
const OBJECT_PLUGINS = { configMap: 'configmap', secret: 'secret', downwardAPI: 'downward-api', projected: 'projected' } as const;
type ObjectPlugin = keyof typeof OBJECT_PLUGINS;

const objectPluginOf = (vol: Volume): ObjectPlugin | undefined => (Object.keys(OBJECT_PLUGINS) as ObjectPlugin[]).find((k) => vol[k] !== undefined);

/** The host directory of a configMap, secret, downwardAPI or projected volume. */
export function objectVolumeDir(rootDir: string, uid: string, vol: Volume): string {
  return volumeDir(rootDir, uid, OBJECT_PLUGINS[objectPluginOf(vol) ?? 'configMap'], vol.name);
}

const allocatableOf = (objects: VolumeObjects | undefined): (() => ResourceList) => () => objects?.nodeAllocatable?.() ?? hostCapacity();

/** What an object-backed volume holds now, or undefined for the other kinds. */
function volumePayload(vol: Volume, pod: Pod, objects: VolumeObjects | undefined): ProjectedFile[] | undefined {
  switch (objectPluginOf(vol)) {
    case 'configMap':
    case 'secret':
      if (!objects) return undefined;
      return objectPayload(vol, objects, pod.metadata.namespace);
    case 'downwardAPI':
      return downwardPayload(vol, pod, allocatableOf(objects));
    case 'projected':
      return projectedPayload(vol, pod, objects, allocatableOf(objects));
    default:
      return undefined;
  }
}

/**
 * Rewrites the pod's configMap, secret, downwardAPI and projected volumes from the objects' (and the pod's) current
 * data, atomically and only when changed, as the kubelet's periodic remount does; errors (a missing object, a token
 * that cannot be fetched) leave the old files in place for the next start to report. Returns the volumes updated.
 */
export async function refreshPodVolumes(rootDir: string, pod: Pod, objects: VolumeObjects, now: Date = new Date()): Promise<string[]> {
  const uid = pod.metadata.uid ?? '';
  const updated: string[] = [];
  for (const vol of pod.spec.volumes ?? []) {
    if (!objectPluginOf(vol)) continue;
    const dir = objectVolumeDir(rootDir, uid, vol);
    // Only volumes already set up by a container start are kept fresh here.
    if (!(await lstat(join(dir, DATA_DIR)).catch(() => undefined))) continue;
    let files: ProjectedFile[] | undefined;
    try {
      files = volumePayload(vol, pod, objects);
    } catch {
      continue;
    }
    if (files && (await writeAtomicPayload(dir, files, now, pod.spec.securityContext?.fsGroup))) updated.push(vol.name);
  }
  return updated;
}

/**
 * Upstream's SetVolumeOwnership for a writable volume's directory: group fsGroup, group read/write (and search) and
 * setgid, so files the containers create there belong to the group too. Only the directory itself: the agent applies
 * it when it prepares the volume, before any container wrote into it.
 */
async function setVolumeOwnership(name: string, dir: string, fsGroup: number): Promise<void> {
  try {
    await lchown(dir, -1, fsGroup);
    const mode = (await lstat(dir)).mode & 0o7777;
    await chmod(dir, mode | 0o660 | 0o110 | 0o2000);
  } catch (err) {
    throw new VolumeError(`volume "${name}": cannot set its ownership to fsGroup ${fsGroup}: ${err instanceof Error ? err.message : String(err)}`);
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
      const dir = volumeDir(rootDir, uid, 'empty-dir', vol.name);
      await mkdir(dir, { recursive: true, mode: 0o777 });
      if (vol.emptyDir.medium === 'Memory') {
        const allocatable = allocatableOf(objects)().memory;
        await mountMemoryVolume(vol.name, dir, memoryVolumeSize(vol, pod, allocatable === undefined ? undefined : memoryBytes(allocatable)));
      }
      // As upstream's emptyDir: 0777 whatever the agent's umask, so that containers of any user can write there.
      if (((await lstat(dir)).mode & 0o777) !== 0o777) await chmod(dir, 0o777);
      const fsGroup = pod.spec.securityContext?.fsGroup;
      if (fsGroup !== undefined) await setVolumeOwnership(vol.name, dir, fsGroup);
      volumes.set(vol.name, { hostPath: dir });
    } else {
      const files = volumePayload(vol, pod, objects);
      if (!files) {
        const kind = Object.keys(vol).find((k) => k !== 'name') ?? 'unknown';
        throw new VolumeError(`volume "${vol.name}": ${kind} volumes need the API server; static pods cannot use them`);
      }
      const dir = objectVolumeDir(rootDir, uid, vol);
      await writeAtomicPayload(dir, files, undefined, pod.spec.securityContext?.fsGroup);
      volumes.set(vol.name, { hostPath: dir });
    }
  }
  return { volumes };
}

/** Removes the pod's data directory once every container is gone, its memory-backed emptyDirs unmounted first. */
export async function removePodDir(rootDir: string, uid: string): Promise<void> {
  await unmountUnder(podDir(rootDir, uid));
  await rm(podDir(rootDir, uid), { recursive: true, force: true });
}
