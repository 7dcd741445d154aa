import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * How much lower than the main thread's the control process's other threads run (nice steps, Linux).
 *
 * Those threads are V8's platform workers (concurrent marking, parallel scavenging, sweeping, compilation) and
 * libuv's pool (file system calls). Under load V8's workers used about half a CPU beside the main thread, and each
 * full collection's concurrent marking 100-240 ms of CPU within a tenth of a second. On a machine with two CPUs
 * they then took the CPU from the main thread, which serves every request: with 50 clients each full collection
 * held all of them at once for about 40 ms, two or three times in the bench's create phase, and those stalls made
 * its p99. At nice 10 they get the CPU the main thread leaves (they still run: the main thread waits on their part
 * of a scavenge, and the marking they do not finish is done in its own steps). Apiserver bench, 5,000 pods, on a
 * 2-vCPU VM: create p99 56-73 ms at 1,672-1,839/s in three runs with them lowered (two by hand, one by this), against
 * 77-103 ms at 1,278-1,684/s in six runs the same day without; control CPU per create 0.71-0.74 against 0.73-0.84 ms.
 */
export const BACKGROUND_THREAD_NICE_STEPS = 10;

/** The most a nice value can be on Linux. */
const NICE_MAX = 19;

export interface ThreadPriorityDeps {
  /** The thread ids of this process (entries of /proc/self/task). */
  listThreads(): string[];
  getPriority(id: number): number;
  setPriority(id: number, nice: number): void;
}

const linuxDeps: ThreadPriorityDeps = {
  listThreads: () => readdirSync('/proc/self/task'),
  getPriority: (id) => getPriority(id),
  setPriority: (id, nice) => setPriority(id, nice),
};

/**
 * Runs every thread of this process but the main one `steps` nice values below the main thread (setpriority on a
 * thread id moves that thread alone on Linux). Threads started later inherit the main thread's priority. Answers the
 * threads it lowered; nothing off Linux, and a thread it cannot lower (gone meanwhile, or already lower) is left.
 */
export function lowerBackgroundThreads(steps = BACKGROUND_THREAD_NICE_STEPS, pid = process.pid, deps: ThreadPriorityDeps | undefined = process.platform === 'linux' ? linuxDeps : undefined): number[] {
  if (!deps || steps <= 0) return [];
  let threads: string[];
  let nice: number;
  try {
    threads = deps.listThreads();
    nice = Math.min(NICE_MAX, deps.getPriority(pid) + steps);
  } catch {
    return [];
  }
  const lowered: number[] = [];
  for (const name of threads) {
    const tid = Number(name);
    if (!Number.isSafeInteger(tid) || tid <= 0 || tid === pid) continue;
    try {
      if (deps.getPriority(tid) >= nice) continue;
      deps.setPriority(tid, nice);
      lowered.push(tid);
    } catch {
      // The thread ended between the listing and now.
    }
  }
  return lowered;
}
