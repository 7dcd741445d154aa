/**
 * Runs a container's postStart or preStop handler (upstream pkg/kubelet/lifecycle/handlers.go) through the prober's
 * executors, so hooks and probes share one exec and one HTTP client. Every failure comes back as a message, never as a
 * rejection: a hook that cannot run is a failed hook.
 */
import type { Container, LifecycleHandler, Pod } from '../../control/api/index.js';
import { KUBE_VERSION, type ProbeExecutor } from '../prober/executor.js';
import { probeUrl, resolveProbePort } from '../prober/action.js';
import type { HttpHeaderSpec } from '../prober/types.js';

/** Upstream's lifecycle requests identify themselves as kube-lifecycle/<version> (probes say kube-probe). */
export const LIFECYCLE_USER_AGENT = `kube-lifecycle/${KUBE_VERSION}`;

/**
 * Upstream gives hook execs and hook HTTP requests no timeout at all (a preStop is cut off by the grace period, a
 * postStart never). Timers need a number: a day stands in for "none" and stays clear of setTimeout's 24.8-day limit.
 */
export const HOOK_NO_TIMEOUT_MS = 24 * 3600 * 1000;

export interface HookTarget {
  pod: Pod;
  container: Container;
  containerId: string;
  /** The pod's IP (the node's for hostNetwork pods): an httpGet without a host goes there. */
  podIP: string | undefined;
}

export interface HookRunnerDeps {
  executor: ProbeExecutor;
  /** Waits ms milliseconds; resolves false when the signal aborts the wait first. */
  sleep(ms: number, signal: AbortSignal): Promise<boolean>;
}

/** The hook succeeded, or failed with this message as upstream words it (event and waiting message). */
export type HookOutcome = { ok: true } | { ok: false; message: string };

/** format.Pod: name_namespace(uid). */
export function formatPod(pod: Pod): string {
  return `${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid ?? ''})`;
}

/** Go's %q of a string, near enough: a JSON string literal. */
const goQuote = (s: string): string => JSON.stringify(s);

/**
 * The hook's headers with upstream's lifecycle User-Agent unless the hook sets its own: the shared executor would
 * otherwise stamp the probe's.
 */
export function hookHeaders(headers: HttpHeaderSpec[] | undefined): HttpHeaderSpec[] {
  const list = headers ?? [];
  if (list.some((h) => h.name.toLowerCase() === 'user-agent')) return list;
  return [...list, { name: 'User-Agent', value: LIFECYCLE_USER_AGENT }];
}

/**
 * Runs one handler to its end. `signal` aborts a sleep handler (upstream's context being cancelled): the hook then
 * fails with "container terminated before sleep hook finished".
 */
export async function runLifecycleHandler(deps: HookRunnerDeps, handler: LifecycleHandler, target: HookTarget, signal: AbortSignal): Promise<HookOutcome> {
  const { pod, container } = target;
  const where = `for Container ${goQuote(container.name)} in Pod ${goQuote(formatPod(pod))}`;
  if (handler.exec) {
    const command = handler.exec.command ?? [];
    let error: string;
    let output = '';
    try {
      const r = await deps.executor.exec(target.containerId, command, HOOK_NO_TIMEOUT_MS);
      if (r.result === 'success') return { ok: true };
      output = r.output;
      // The CRI's ExecSync error for a non-zero exit.
      error = r.exitCode !== undefined ? `command '${command.join(' ')}' exited with ${r.exitCode}: ${r.output}` : r.output;
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    return { ok: false, message: `Exec lifecycle hook ([${command.join(' ')}]) ${where} failed - error: ${error}, message: ${goQuote(output)}` };
  }
  if (handler.httpGet) {
    const g = handler.httpGet;
    const fail = (error: string): HookOutcome => ({ ok: false, message: `HTTP lifecycle hook (${g.path ?? ''}) ${where} failed - error: ${error}` });
    let url: string;
    try {
      const host = g.host || target.podIP;
      if (!host) return fail('failed to find networking container: the pod has no IP');
      url = probeUrl(g.scheme, host, resolveProbePort(g.port, container.ports), g.path);
    } catch (err) {
      return fail(err instanceof Error ? err.message : String(err));
    }
    try {
      const r = await deps.executor.httpGet(url, hookHeaders(g.httpHeaders), HOOK_NO_TIMEOUT_MS);
      // Upstream only asks that the request got an answer: any status code, 500 included, is a hook that ran.
      if (r.result === 'success' || r.statusCode !== undefined) return { ok: true };
      return fail(r.output);
    } catch (err) {
      return fail(err instanceof Error ? err.message : String(err));
    }
  }
  if (handler.sleep) {
    const seconds = handler.sleep.seconds;
    const finished = await deps.sleep(Math.max(0, seconds) * 1000, signal);
    if (finished) return { ok: true };
    return { ok: false, message: `Sleep lifecycle hook (${seconds}) ${where} failed - error: container terminated before sleep hook finished` };
  }
  // tcpSocket is accepted by the API for old manifests only; the kubelet has no way to run it.
  return { ok: false, message: `Cannot run handler: invalid handler: ${JSON.stringify(handler)}` };
}

/** A sleep on real timers that an AbortSignal cuts short. */
export function realSleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    // setTimeout cannot wait longer than 2^31-1 ms; a longer sleep would fire at once.
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, Math.min(ms, 2 ** 31 - 1));
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
