import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../lib/log.js';
import { removePodDir } from './volumes.js';

/**
 * The pod directories nothing owns any more, as upstream's cleanupOrphanedPodDirs finds them: a pod the agent no
 * longer wants, of which no container is left. Its volumes (a memory-backed emptyDir's tmpfs, secrets) would stay on
 * the host for good otherwise: a pod whose containers went while the agent was down, or were removed by hand, is never
 * torn down by a pod worker.
 */
export function orphanedPodUids(dirUids: readonly string[], wanted: (uid: string) => boolean, withContainers: ReadonlySet<string>): string[] {
  return dirUids.filter((uid) => !wanted(uid) && !withContainers.has(uid));
}

/** Removes the orphaned pod directories under `<rootDir>/pods` (unmounting what is mounted in them first). */
export async function cleanupOrphanedPodDirs(rootDir: string, wanted: (uid: string) => boolean, withContainers: ReadonlySet<string>, log: Logger): Promise<string[]> {
  let uids: string[];
  try {
    uids = await readdir(join(rootDir, 'pods'));
  } catch {
    return [];
  }
  const orphans = orphanedPodUids(uids, wanted, withContainers);
  for (const uid of orphans) {
    try {
      await removePodDir(rootDir, uid);
      log.info({ podUID: uid }, 'removed the directory of an orphaned pod');
    } catch (err) {
      log.warn({ podUID: uid, err: err instanceof Error ? err.message : String(err) }, 'cannot remove the directory of an orphaned pod');
    }
  }
  return orphans;
}
