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
 *
 * A collection asked for from JavaScript leaves the young generation as large as the burst made it (two 16-MB
 * semi-spaces): V8 gives those back only in a collection made to reduce memory, which its memory reducer makes 8 s
 * after a full collection when it judges the process idle, or always while V8 is told to optimize for size. So the
 * collection starts that mode (startIdleCollector), and `settle` ends it: at the first window that is not quiet, or
 * `settleWindows` windows later. The window just after a collection, which holds its pause, counts for nothing.
 * Without this, RSS after the idle minute with 5,000 pods read 175-178 MB or 201-207 MB run to run, the difference
 * being the young generation still committed (32 MB against 1).
 */
export interface IdleCollectorOptions {
  /** Event-loop utilization (0..1) since the previous call. */
  utilization: () => number;
  /** One full garbage collection. */
  collect: () => void;
  /** Ends what the collection started (see above). */
  settle?: () => void;
  busyAbove?: number;
  idleBelow?: number;
  idleWindows?: number;
  settleWindows?: number;
}

/** settleWindows: 20 s at the 5-s interval, two of V8's memory reducer's 8-s delays. */
export const IDLE_COLLECTOR_DEFAULTS = { busyAbove: 0.25, idleBelow: 0.05, idleWindows: 2, settleWindows: 4, intervalMs: 5000 } as const;

export class IdleCollector {
  private worked = false;
  private quiet = 0;
  private readonly busyAbove: number;
  private readonly idleBelow: number;
  private readonly idleWindows: number;
  private readonly settleWindows: number;
  /** Windows left before settle() is due; 0 when no collection awaits it. */
  private settling = 0;
  /** The window after a collection holds the collection's own pause: it says nothing of the process's work. */
  private collectedLastWindow = false;

  constructor(private readonly opts: IdleCollectorOptions) {
    this.busyAbove = opts.busyAbove ?? IDLE_COLLECTOR_DEFAULTS.busyAbove;
    this.idleBelow = opts.idleBelow ?? IDLE_COLLECTOR_DEFAULTS.idleBelow;
    this.idleWindows = opts.idleWindows ?? IDLE_COLLECTOR_DEFAULTS.idleWindows;
    this.settleWindows = Math.max(1, opts.settleWindows ?? IDLE_COLLECTOR_DEFAULTS.settleWindows);
  }

  /** Looks at one window; answers whether it collected. */
  step(): boolean {
    const u = this.opts.utilization();
    if (this.collectedLastWindow) {
      this.collectedLastWindow = false;
      return false;
    }
    if (this.settling > 0) {
      this.settling = u >= this.idleBelow ? 0 : this.settling - 1;
      if (this.settling === 0) this.opts.settle?.();
    }
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
    this.collectedLastWindow = true;
    this.settling = this.settleWindows;
    return true;
  }
}

/** V8's gc(), made available at run time (the flag only installs it in contexts created after it is set). */
function exposedGc(): (() => void) | undefined {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as unknown;
  return typeof gc === 'function' ? (gc as () => void) : undefined;
}

const mb = (bytes: number): number => Math.round(bytes / 1048576);

/**
 * Each V8 heap space's committed size, in MB: the RSS left after a collection differs run to run by as much as the
 * young generation's size (same load, same live objects), and this says which space keeps it.
 */
function heapSpacesMb(): Record<string, number> {
  const spaces: Record<string, number> = {};
  for (const space of getHeapSpaceStatistics()) spaces[space.space_name] = mb(space.space_size);
  return spaces;
}

/**
 * Runs an IdleCollector on this process every `intervalMs`; answers how to stop it. `settleWindows`: see
 * IdleCollectorOptions.
 */
export function startIdleCollector(logger: Logger, intervalMs: number = IDLE_COLLECTOR_DEFAULTS.intervalMs, opts: { settleWindows?: number } = {}): () => void {
  const gc = exposedGc();
  if (!gc) return () => undefined;
  let last = performance.eventLoopUtilization();
  let savingMemory = false;
  const endSavingMemory = (): void => {
    if (!savingMemory) return;
    savingMemory = false;
    setFlagsFromString('--no-optimize-for-size');
  };
  const collector = new IdleCollector({
    utilization: () => {
      const now = performance.eventLoopUtilization();
      const window = performance.eventLoopUtilization(now, last);
      last = now;
      return window.utilization;
    },
    collect: () => {
      const rssBefore = process.memoryUsage.rss();
      const heapBefore = getHeapStatistics().total_heap_size;
      const started = performance.now();
      // While the process stays quiet, V8 optimizes for size: its memory reducer then makes a collection that gives
      // back the young generation too (see IdleCollector), which nothing asked for from here can.
      setFlagsFromString('--optimize-for-size');
      savingMemory = true;
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
      const fields = { ms: Math.round(performance.now() - started), rssBeforeMb: mb(rssBefore), heapBeforeMb: mb(heapBefore), heapAfterMb: mb(getHeapStatistics().total_heap_size), heapSpacesAfterMb: heapSpacesMb() };
      logger.info(fields, 'idle after a burst of work: collected its garbage');
    },
    settle: () => {
      endSavingMemory();
      logger.info({ rssMb: mb(process.memoryUsage.rss()), heapMb: mb(getHeapStatistics().total_heap_size), heapSpacesMb: heapSpacesMb() }, 'idle collection settled: V8 no longer optimizes for size');
    },
    ...(opts.settleWindows !== undefined ? { settleWindows: opts.settleWindows } : {}),
  });
  const timer = setInterval(() => collector.step(), intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    endSavingMemory();
  };
}
