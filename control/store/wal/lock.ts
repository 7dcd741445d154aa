/**
 * Directory lock: a `LOCK` file holding the owner's PID, created with O_EXCL. A lock left by a dead process (or by
 * an earlier incarnation that had the same PID, as PID 1 in a container) is taken over; a live owner, including
 * another open Wal in this process, makes the second open fail with WalLockedError.
 */
import { readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WalLockedError } from './errors.js';

export const LOCK_FILE = 'LOCK';

/** Directories locked by this process (realpaths). */
const heldHere = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface DirLock {
  readonly dir: string;
  release(): Promise<void>;
}

export async function lockDir(dir: string): Promise<DirLock> {
  const real = await realpath(dir);
  if (heldHere.has(real)) throw new WalLockedError(dir, process.pid);
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const text = await readFile(path, 'utf8').catch(() => '');
      const pid = Number.parseInt(text.trim(), 10);
      // Another process won the race to take over the same stale lock.
      if (attempt > 0) throw new WalLockedError(dir, Number.isSafeInteger(pid) ? pid : 0);
      // Same PID but not held by us: a previous incarnation of this process (PID reuse after a restart).
      if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) throw new WalLockedError(dir, pid);
      await rm(path, { force: true });
    }
  }
  heldHere.add(real);
  let released = false;
  return {
    dir,
    async release() {
      if (released) return;
      released = true;
      heldHere.delete(real);
      await rm(path, { force: true });
    },
  };
}
