import { readFile, realpath } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { execa } from 'execa';
import type { Container, Pod, Volume } from '../../control/api/index.js';
import { memoryBytes } from '../../control/api/quantity.js';
import { VolumeError } from './volume-payload.js';

/**
 * emptyDir with `medium: Memory`, as upstream's emptyDir plugin sets it up: one tmpfs per pod volume, mounted on the
 * host under the pod's directory and bind-mounted into each container, so that the pod's containers share it and it
 * outlives a container's restart (a tmpfs of Docker's own would be per container and per run).
 */

/**
 * The tmpfs size, as upstream's calculateEmptyDirMemorySize: the node's allocatable memory, lowered to the pod's
 * memory limit when it has one, and to the volume's sizeLimit when that is lower still.
 */
export function memoryVolumeSize(vol: Volume, pod: Pod, allocatableMemory: number | undefined): number | undefined {
  const bytes = (q: unknown): number | undefined => (q === undefined ? undefined : memoryBytes(q as string | number));
  const sum = (cs: readonly Container[]): number | undefined => cs.reduce<number | undefined>((acc, c) => {
    const l = bytes(c.resources?.limits?.memory);
    return l === undefined ? acc : (acc ?? 0) + l;
  }, undefined);
  // As upstream's PodLimits: the app containers' sum, or the largest init container's when that is more.
  const inits = (pod.spec.initContainers ?? []).map((c) => bytes(c.resources?.limits?.memory)).filter((l): l is number => l !== undefined);
  const apps = sum(pod.spec.containers);
  const podLimit = inits.length ? Math.max(apps ?? 0, ...inits) : apps;
  const candidates = [allocatableMemory, podLimit, bytes(vol.emptyDir?.sizeLimit)].filter((s): s is number => s !== undefined && s > 0);
  return candidates.length ? Math.min(...candidates) : undefined;
}

/** The mount points in /proc/self/mountinfo text (field 5, octal escapes undone). */
export function mountPoints(mountinfo: string): string[] {
  return mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined && p !== '')
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8))));
}

async function currentMountPoints(): Promise<string[]> {
  return mountPoints(await readFile('/proc/self/mountinfo', 'utf8'));
}

/** Mounts a tmpfs (mode 0777, as upstream's emptyDir) on `dir` unless one is there already. */
export async function mountMemoryVolume(name: string, dir: string, sizeBytes: number | undefined): Promise<void> {
  // The kernel lists the path with symlinks resolved: compared as given, a root dir under a symlink would get a new
  // tmpfs over the old one at every sync that starts a container, hiding what the pod wrote.
  if ((await currentMountPoints()).includes(await realpath(dir))) return;
  const options = ['mode=0777', ...(sizeBytes !== undefined ? [`size=${sizeBytes}`] : [])].join(',');
  const r = await execa('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { reject: false, stdin: 'ignore' });
  if (r.exitCode !== 0) throw new VolumeError(`volume "${name}": cannot mount a tmpfs for the memory-backed emptyDir: ${String(r.stderr).trim() || `mount exited with ${r.exitCode}`}`);
}

/**
 * Unmounts every mount at or below `dir`, deepest first, so that the directory can be removed (a pod's memory-backed
 * emptyDirs when it goes; whatever an agent left when its data dir is purged). Returns the mount points unmounted.
 */
export async function unmountUnder(dir: string): Promise<string[]> {
  const root = await realpath(dir).catch(() => resolve(dir));
  const under = (await currentMountPoints()).filter((p) => p === root || p.startsWith(`${root}${sep}`));
  const done: string[] = [];
  for (const p of [...new Set(under)].sort((a, b) => b.length - a.length)) {
    const r = await execa('umount', [p], { reject: false, stdin: 'ignore' });
    // A busy mount is detached lazily rather than left behind: the directory is about to go.
    if (r.exitCode !== 0) await execa('umount', ['-l', p], { reject: false, stdin: 'ignore' });
    done.push(p);
  }
  return done;
}
