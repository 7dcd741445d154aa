import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past what the last full collection kept, as a percentage.
 *
 * V8 sets the next full collection's trigger at a factor of the live heap that reaches 4x when the heap limit is
 * large (Node's default on a machine with a few GB). The control plane's heap is mostly long-lived caches (the
 * store's values, informer caches), so with 100 MB live it sat at up to 400 MB, mostly garbage, before collecting.
 * Measured with the apiserver bench (5,000 pods, this setting alone): RSS 469 MB by default, 415 MB at 100%,
 * 370 MB at 50%, 334-348 MB at 20% for 25-50% more CPU. With the rest of the control plane as it is now: 417-588 MB
 * by default against 302-324 MB at 50%, for 7-16% more CPU in the control process (16-21 full collections in the
 * run instead of 6, about 200 ms more of main-thread pause).
 * Go's kube-apiserver runs with GOGC=100 (the heap grows to twice what is live), and so does this now: with 5,000
 * pods, RSS once the process has gone quiet (60 s; V8's memory reducer gives the burst's garbage back) is the same at
 * 50% and 100% (168-172 against 173-174 MB), while under load 100% spends 7-10% less CPU per create and the create
 * p99 under 50 clients fell from 125-134 to 101-110 ms (peak RSS 353-397 MB against 317-333).
 */
export const CONTROL_HEAP_GROWING_PERCENT = 100;

/** The V8 flag; given on the node command line (NODE_OPTIONS does not accept it), it wins. */
const FLAG = '--heap-growing-percent';

/**
 * Applies the control plane's heap growth to this process: SKIFF_HEAP_GROWING_PERCENT when set (0: V8's own
 * default), else CONTROL_HEAP_GROWING_PERCENT; nothing when node was started with the flag. V8 reads it at each
 * full collection, so setting it at run time takes effect from the next one. Answers the percentage set, if any.
 */
export function tuneControlPlaneHeap(execArgv: readonly string[] = process.execArgv, env: NodeJS.ProcessEnv = process.env): number | undefined {
  if (execArgv.some((a) => a.startsWith(FLAG) || a.startsWith('--heap_growing_percent'))) return undefined;
  const text = env.SKIFF_HEAP_GROWING_PERCENT;
  const percent = text !== undefined && /^\d+$/.test(text.trim()) ? Number(text.trim()) : CONTROL_HEAP_GROWING_PERCENT;
  if (percent === 0) return undefined;
  setFlagsFromString(`${FLAG}=${percent}`);
  return percent;
}

/**
 * What the control plane's process environment adds when Skiff starts it (skiff up; the systemd unit sets the same):
 * glibc's mmap threshold fixed at its 128 KiB default. Larger blocks (LIST responses, TLS write queues, batches of
 * raft entries) are then mapped and unmapped rather than carved from the heap, whose freed middle glibc never
 * returns, and which its dynamic threshold would otherwise let them into (up to 32 MiB). glibc reads it only at
 * process start. Apiserver bench, 5,000 pods: RSS 20-30 MB lower, no measurable CPU change. A user's own setting is
 * kept.
 *
 * Not set, measured: V8's young generation at 8 MB semi-spaces instead of 16 (NODE_OPTIONS=--max-semi-space-size=8)
 * saved another 17 MB but doubled the scavenges (699 against 367 in the bench) and added about a second of GC pauses
 * to the run, which showed in the write p99. At 32 MB (one run): create p99 no better (89 ms), and RSS after the idle
 * minute 239 MB.
 */
export function controlProcessEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, MALLOC_MMAP_THRESHOLD_: env.MALLOC_MMAP_THRESHOLD_ ?? CONTROL_MALLOC_MMAP_THRESHOLD };
}

export const CONTROL_MALLOC_MMAP_THRESHOLD = '131072';
