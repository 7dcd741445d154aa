import { performance } from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Logger } from '../lib/log.js';

/**
 * Gives back the memory a burst of work left behind, once the control process has gone quiet.
 *
 * V8's memory reducer does this on its own, but it judges "quiet" by an allocation rate averaged over its last ten
 * samples, one every 8 s: after a long trickle of work (the scheduler working off thousands of writes under its
 * client-side rate limit) it took 80-100 s of idleness, or its 100-s watchdog, before it collected, and until then
 * the heap stayed at its peak (300 MB against 185 MB with 5,000 pods). Here quiet is read from the event loop's
 * utilization: after a window busier than `busyAbove`, `idleWindows` windows in a row under `idleBelow` make one full
 * collection that compacts the old space, which returns the freed heap to the system. It runs only when nothing is
 * being served, once per burst.
 */
export interface IdleCollectorOptions {
  /** Event-loop utilization (0..1) since the previous call. */
  utilization: () => number;
  /** One full garbage collection. */
  collect: () => void;
  busyAbove?: number;
  idleBelow?: number;
  idleWindows?: number;
}

export const IDLE_COLLECTOR_DEFAULTS = { busyAbove: 0.25, idleBelow: 0.05, idleWindows: 2, intervalMs: 5000 } as const;

export class IdleCollector {
  private worked = false;
  private quiet = 0;
  private readonly busyAbove: number;
  private readonly idleBelow: number;
  private readonly idleWindows: number;

  constructor(private readonly opts: IdleCollectorOptions) {
    this.busyAbove = opts.busyAbove ?? IDLE_COLLECTOR_DEFAULTS.busyAbove;
    this.idleBelow = opts.idleBelow ?? IDLE_COLLECTOR_DEFAULTS.idleBelow;
    this.idleWindows = opts.idleWindows ?? IDLE_COLLECTOR_DEFAULTS.idleWindows;
  }

  /** Looks at one window; answers whether it collected. */
  step(): boolean {
    const u = this.opts.utilization();
    if (u > this.busyAbove) {
      this.worked = true;
      this.quiet = 0;
      return false;
    }
    this.quiet = u < this.idleBelow ? this.quiet + 1 : 0;
    if (!this.worked || this.quiet < this.idleWindows) return false;
    this.worked = false;
    this.quiet = 0;
    this.opts.collect();
    return true;
  }
}

/** V8's gc(), made available at run time (the flag only installs it in contexts created after it is set). */
function exposedGc(): (() => void) | undefined {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as unknown;
  return typeof gc === 'function' ? (gc as () => void) : undefined;
}

/** Runs an IdleCollector on this process every `intervalMs`; answers how to stop it. */
export function startIdleCollector(logger: Logger, intervalMs: number = IDLE_COLLECTOR_DEFAULTS.intervalMs): () => void {
  const gc = exposedGc();
  if (!gc) return () => undefined;
  let last = performance.eventLoopUtilization();
  const collector = new IdleCollector({
    utilization: () => {
      const now = performance.eventLoopUtilization();
      const window = performance.eventLoopUtilization(now, last);
      last = now;
      return window.utilization;
    },
    collect: () => {
      const mb = (bytes: number): number => Math.round(bytes / 1048576);
      const rssBefore = process.memoryUsage.rss();
      const heapBefore = getHeapStatistics().total_heap_size;
      const started = performance.now();
      // A full collection moves objects only off the few pages its heuristics pick: after a burst the survivors are
      // spread thin over the old space, and the heap stayed committed at its peak (a third of it live). Compacting
      // every fragmented page, as V8 does when it collects to reduce memory, gives the pages back. It costs a longer
      // pause (a few ms per MB live), taken here only when the process has had nothing to do for two windows.
      setFlagsFromString('--compact-on-every-full-gc');
      try {
        gc();
      } finally {
        setFlagsFromString('--no-compact-on-every-full-gc');
      }
      // Each space's committed size: the RSS left after this collection differs run to run by as much as the young
      // generation's size (same load, same live objects), and this says which space keeps it.
      const spaces: Record<string, number> = {};
      for (const space of getHeapSpaceStatistics()) spaces[space.space_name] = mb(space.space_size);
      const fields = { ms: Math.round(performance.now() - started), rssBeforeMb: mb(rssBefore), heapBeforeMb: mb(heapBefore), heapAfterMb: mb(getHeapStatistics().total_heap_size), heapSpacesAfterMb: spaces };
      logger.info(fields, 'idle after a burst of work: collected its garbage');
    },
  });
  const timer = setInterval(() => collector.step(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
