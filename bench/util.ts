import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type Dockerode from 'dockerode';

/** Shared helpers for `npm run bench` sections: timing, polling, /proc readings, cleanup, output. */

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Monotonic milliseconds. */
export const now = (): number => performance.now();

/** A progress line on stderr, with the wall-clock time so that it can be read against a daemon's log of the run. */
export function progress(msg: string): void {
  process.stderr.write(`bench ${new Date().toISOString().slice(11, 23)}: ${msg}\n`);
}

export function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function mean(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  let sum = 0;
  for (const x of xs) sum += x;
  return sum / xs.length;
}

export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number;
}

/** A whole-number knob from the environment, at least `min` (default 1); `def` when unset or empty. */
export function envInt(name: string, def: number, min = 1): number {
  const v = process.env[name];
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`${name}: expected a whole number >= ${min}, got "${v}"`);
  return n;
}

export const round = (x: number, digits = 3): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** Set when the user pressed Ctrl-C: loops stop polling and sections unwind into their cleanup. */
export let aborted = false;

/** The exit code once Ctrl-C was pressed. */
export const ABORT_EXIT_CODE = 130;

export class Aborted extends Error {
  constructor() {
    super('aborted');
  }
}

export function checkAborted(): void {
  if (aborted) throw new Aborted();
}

/** Polls `check` every `intervalMs` until it returns something other than undefined/false; throws after the timeout. */
export async function pollUntil<T>(check: () => Promise<T | undefined | false>, what: string, intervalMs: number, timeoutMs: number): Promise<T> {
  const deadline = now() + timeoutMs;
  let last: unknown;
  for (;;) {
    checkAborted();
    const started = now();
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last instanceof Error ? last.message : String(last)}` : ''}`);
    // Fixed cadence: the time the check took counts towards the interval.
    await sleep(Math.max(0, intervalMs - (now() - started)));
  }
}

// ---- cleanup -------------------------------------------------------------------------------------------------

type CleanupFn = () => Promise<void> | void;
const cleanups: Array<{ name: string; fn: CleanupFn }> = [];
/** Synchronous last-resort actions for process exit (killing child processes), run even on a crash. */
const exitActions = new Set<() => void>();

/** The cleanup run in progress (Ctrl-C), so every caller waits for the same one to finish. */
let cleaning: Promise<void> | undefined;

/**
 * Registers a cleanup step; returns a function that runs it now (once) and unregisters it. If a full cleanup run
 * (Ctrl-C) has taken the step already, the function waits for that run instead.
 */
export function onCleanup(name: string, fn: CleanupFn): () => Promise<void> {
  const entry = { name, fn };
  cleanups.push(entry);
  return async () => {
    const i = cleanups.indexOf(entry);
    if (i < 0) {
      await cleaning;
      return;
    }
    cleanups.splice(i, 1);
    await runOne(entry);
  };
}

export function onExit(fn: () => void): () => void {
  exitActions.add(fn);
  return () => exitActions.delete(fn);
}

async function runOne(entry: { name: string; fn: CleanupFn }): Promise<void> {
  try {
    await entry.fn();
  } catch (err) {
    progress(`cleanup "${entry.name}" failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Runs every registered cleanup, newest first; concurrent callers share one run. */
export function runCleanups(): Promise<void> {
  cleaning ??= (async () => {
    while (cleanups.length > 0) await runOne(cleanups.pop() as { name: string; fn: CleanupFn });
  })().finally(() => {
    cleaning = undefined;
  });
  return cleaning;
}

let signalled = 0;
export function installSignalHandlers(): void {
  const handler = (signal: NodeJS.Signals): void => {
    signalled++;
    if (signalled > 1) {
      progress(`${signal} again: exiting without finishing cleanup`);
      process.exit(130);
    }
    aborted = true;
    progress(`${signal}: cleaning up (press Ctrl-C again to skip)...`);
    void runCleanups().finally(() => process.exit(ABORT_EXIT_CODE));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  process.on('exit', () => {
    for (const fn of exitActions) {
      try {
        fn();
      } catch {
        // best effort
      }
    }
  });
}

// ---- /proc ---------------------------------------------------------------------------------------------------

let clkTck: number | undefined;
export function clockTicks(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** utime+stime of a process, in seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start at field 3 (state).
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return (utime + stime) / clockTicks();
}

/** A field of /proc/<pid>/status in kB (VmRSS, VmHWM). */
export function statusKb(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]);
}

/** CPU used by a process over a window, as % of one core. */
export async function cpuPercent(pid: number, windowMs: number): Promise<{ percent: number; cpuSeconds: number; wallSeconds: number }> {
  const c0 = cpuSeconds(pid);
  const t0 = now();
  const end = t0 + windowMs;
  while (now() < end) {
    checkAborted();
    await sleep(Math.min(250, end - now()));
  }
  const c1 = cpuSeconds(pid);
  const wall = (now() - t0) / 1000;
  return { percent: ((c1 - c0) / wall) * 100, cpuSeconds: c1 - c0, wallSeconds: wall };
}

export function machine(): Record<string, unknown> {
  return { loadavg: loadavg().map((x) => round(x, 2)), node: process.version, clockTicks: clockTicks() };
}

// ---- misc ----------------------------------------------------------------------------------------------------

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

export const randomId = (n = 6): string => Math.random().toString(36).slice(2, 2 + n);

// ---- output --------------------------------------------------------------------------------------------------

export interface RatioLine {
  label: string;
  value: number;
  floor: number;
  /** Upper bound for value/floor, printed beside it; nothing fails when it is exceeded. */
  target?: number;
}

export interface AbsoluteLine {
  label: string;
  value: number;
  unit: string;
  digits?: number;
  target?: number;
}

export function ratioText(l: RatioLine): string {
  const ratio = l.value / l.floor;
  const target = l.target !== undefined ? ` (target <= ${l.target}x${ratio > l.target ? ', OVER' : ''})` : '';
  return `${l.label}: ${l.value.toFixed(2)} s vs floor ${l.floor.toFixed(2)} s = ${ratio.toFixed(2)}x${target}`;
}

export function absoluteText(l: AbsoluteLine): string {
  const d = l.digits ?? 1;
  const target = l.target !== undefined ? ` (target <= ${l.target} ${l.unit}${l.value > l.target ? ', OVER' : ''})` : '';
  return `${l.label}: ${l.value.toFixed(d)} ${l.unit}${target}`;
}

/** A Docker timestamp in ms since the epoch; undefined for Docker's zero time ("0001-...") or garbage. */
export function dockerMs(s: string | undefined): number | undefined {
  if (!s || s.startsWith('0001-')) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

/**
 * From dockerd's own timestamps: when each of `podNames`' sandbox was created and its app container started, from
 * the containers given (the node's, listed by label). Pods missing either are left out.
 */
export async function podContainerTimes(
  docker: Dockerode,
  containers: readonly Dockerode.ContainerInfo[],
  podNames: Iterable<string>,
): Promise<Map<string, { sandboxCreated?: number; appStarted?: number }>> {
  const want = new Set(podNames);
  const byPod = new Map<string, { sandboxCreated?: number; appStarted?: number }>();
  for (const c of containers) {
    const pod = c.Labels['io.kubernetes.pod.name'] ?? '';
    if (!want.has(pod)) continue;
    const info = await docker.getContainer(c.Id).inspect().catch(() => undefined);
    if (!info) continue;
    const rec = byPod.get(pod) ?? {};
    if (c.Labels['io.kubernetes.docker.type'] === 'podsandbox') rec.sandboxCreated = dockerMs(info.Created);
    else rec.appStarted = dockerMs(info.State.StartedAt);
    byPod.set(pod, rec);
  }
  return byPod;
}
