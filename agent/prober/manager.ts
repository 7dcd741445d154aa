/**
 * The prober manager (upstream pkg/kubelet/prober/prober_manager.go + worker.go's run loop): one worker per
 * container and probe kind, each on its own timer, results cached for the pod sync to read. Level-triggered: the
 * agent calls syncPod() with what it currently knows after every pod sync, and the manager starts, stops and resets
 * workers to match. All decisions live in state.ts; this file only holds timers and calls the executor.
 */
import type { Logger } from 'pino';
import { runProbe } from './action.js';
import { realClock, type Clock, type TimerHandle } from './clock.js';
import type { ProbeExecutor } from './executor.js';
import {
  initialProbeState,
  initialResult,
  nextProbeAt,
  observeContainer,
  recordOutcome,
  recordProbeError,
  type ProbeState,
} from './state.js';
import {
  PROBE_KINDS,
  probeOf,
  type ProbeKind,
  type ProbeResult,
  type ProbeSpec,
  type ProbedContainerSpec,
} from './types.js';

/** A container as the agent last saw it. */
export interface ProbedContainer {
  name: string;
  /** Absent until the runtime has created it. */
  containerId?: string;
  running: boolean;
  /** Epoch ms when the running container started. */
  startedAt?: number;
  spec: ProbedContainerSpec;
}

export type ProbeChangeListener = (podUid: string, containerName: string, kind: ProbeKind, result: ProbeResult) => void;

/**
 * Called after every attempt; 'unknown' means the probe could not be run (see PROBER_PROBE_TOTAL). `output` is what
 * the attempt said (HTTP status, command output, dial error), for the Unhealthy event's message.
 */
export type ProbeCounter = (kind: ProbeKind, result: ProbeResult, labels: { podUid: string; containerName: string }, output?: string) => void;

/** Upstream's metric for onProbe: prober_probe_total{probe_type, result, container, pod, namespace, pod_uid}. */
export const PROBER_PROBE_TOTAL = 'prober_probe_total';

/** Upstream's `result` label values for prober_probe_total. */
export function proberResultLabel(result: ProbeResult): 'successful' | 'failed' | 'unknown' {
  return result === 'success' ? 'successful' : result === 'failure' ? 'failed' : 'unknown';
}

export interface ProbeManagerOptions {
  executor: ProbeExecutor;
  clock?: Clock;
  logger?: Logger;
  onProbe?: ProbeCounter;
  /**
   * Extra delay before a new worker's first attempt, given the probe period in ms. The default spreads first
   * probes over one period only while the manager itself is younger than that period (upstream: after a kubelet
   * restart every worker starts at once); pass `() => 0` in tests.
   */
  jitterMs?: (periodMs: number) => number;
}

interface Worker {
  readonly podUid: string;
  readonly containerName: string;
  readonly kind: ProbeKind;
  readonly spec: ProbeSpec;
  /** Identity of the spec, to notice a changed probe (which resets the worker). */
  readonly specKey: string;
  state: ProbeState;
  /** No attempt before this time: the first-probe jitter. */
  readonly notBefore: number;
  timer: TimerHandle | undefined;
  inFlight: boolean;
  stopped: boolean;
  /** The container ID whose probe error was last logged at warn level; repeats go to debug. */
  erroredFor: string | undefined;
}

interface PodEntry {
  podIP: string | undefined;
  containers: Map<string, ProbedContainer>;
  /** Keyed by `${containerName}\0${kind}`. */
  workers: Map<string, Worker>;
}

/** JSON with sorted keys, so the same probe built in a different key order is not mistaken for a changed one. */
function stableKey(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

const workerKey = (containerName: string, kind: ProbeKind): string => `${containerName}\0${kind}`;

export class ProbeManager {
  private readonly executor: ProbeExecutor;
  private readonly clock: Clock;
  private readonly logger: Logger | undefined;
  private readonly onProbe: ProbeCounter | undefined;
  private readonly jitterMs: (periodMs: number) => number;
  private readonly pods = new Map<string, PodEntry>();
  private readonly listeners = new Set<ProbeChangeListener>();
  private readonly startedAt: number;
  private stopped = false;

  constructor(opts: ProbeManagerOptions) {
    this.executor = opts.executor;
    this.clock = opts.clock ?? realClock;
    this.logger = opts.logger;
    this.onProbe = opts.onProbe;
    this.startedAt = this.clock.now();
    this.jitterMs =
      opts.jitterMs ??
      ((periodMs) => (this.clock.now() - this.startedAt < periodMs ? Math.floor(Math.random() * periodMs) : 0));
  }

  /**
   * Brings the pod's workers in line with its containers: creates workers for new probes, resets workers whose
   * probe changed, stops workers whose container or probe is gone, and feeds every worker the container's state.
   */
  syncPod(podUid: string, podIP: string | undefined, containers: ProbedContainer[]): void {
    if (this.stopped) return;
    let pod = this.pods.get(podUid);
    if (!pod) {
      pod = { podIP, containers: new Map(), workers: new Map() };
      this.pods.set(podUid, pod);
    }
    pod.podIP = podIP;
    pod.containers = new Map(containers.map((c) => [c.name, c]));
    const wanted = new Set<string>();
    for (const c of containers) {
      // Startup first: the other two read its result as their gate.
      for (const kind of PROBE_KINDS) {
        const probe = probeOf(c.spec, kind);
        if (!probe) continue;
        const key = workerKey(c.name, kind);
        wanted.add(key);
        let w = pod.workers.get(key);
        const specKey = stableKey(probe);
        if (w && w.specKey !== specKey) {
          this.stopWorker(w);
          pod.workers.delete(key);
          w = undefined;
        }
        if (!w) {
          w = this.newWorker(podUid, c.name, kind, probe, specKey);
          pod.workers.set(key, w);
        }
        this.refresh(pod, w);
      }
    }
    for (const [key, w] of pod.workers) {
      if (!wanted.has(key)) {
        this.stopWorker(w);
        pod.workers.delete(key);
      }
    }
    if (pod.workers.size === 0) this.pods.delete(podUid);
  }

  removePod(podUid: string): void {
    const pod = this.pods.get(podUid);
    if (!pod) return;
    for (const w of pod.workers.values()) this.stopWorker(w);
    this.pods.delete(podUid);
  }

  /**
   * The cached verdict. A kind with no worker (no such probe, pod unknown) is 'success': a probe that is not
   * configured gates nothing. Callers still combine readiness with "container running", as upstream does.
   *
   * Pass `containerId` whenever the caller acts on a specific container: verdicts belong to one container instance
   * (upstream keys its results cache by container ID), so a container the worker has not yet been shown gets the
   * kind's initial result instead of its predecessor's verdict. Without it, a freshly restarted container could be
   * killed for the liveness failure of the one it replaced, if the sync reads before it calls syncPod().
   */
  result(podUid: string, containerName: string, kind: ProbeKind, containerId?: string): ProbeResult {
    const w = this.pods.get(podUid)?.workers.get(workerKey(containerName, kind));
    if (!w) return 'success';
    if (containerId !== undefined && w.state.containerId !== containerId) return initialResult(kind);
    return w.state.result;
  }

  /** Whether a worker exists for this probe. */
  hasProbe(podUid: string, containerName: string, kind: ProbeKind): boolean {
    return this.pods.get(podUid)?.workers.has(workerKey(containerName, kind)) ?? false;
  }

  /**
   * Fires only when a worker's result changes (not on worker creation or removal). Listeners run synchronously
   * inside syncPod() and probe completions: queue a pod sync rather than calling back into the manager. Returns an
   * unsubscribe function.
   */
  onChange(listener: ProbeChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops every worker; later syncPod calls are ignored. In-flight attempts finish but are discarded. */
  stop(): void {
    this.stopped = true;
    for (const uid of [...this.pods.keys()]) this.removePod(uid);
  }

  private newWorker(podUid: string, containerName: string, kind: ProbeKind, spec: ProbeSpec, specKey: string): Worker {
    const periodMs = Math.max(1, spec.periodSeconds) * 1000;
    const jitter = Math.max(0, Math.min(periodMs, this.jitterMs(periodMs)));
    return {
      podUid,
      containerName,
      kind,
      spec,
      specKey,
      state: initialProbeState(kind),
      notBefore: this.clock.now() + jitter,
      timer: undefined,
      inFlight: false,
      stopped: false,
      erroredFor: undefined,
    };
  }

  private stopWorker(w: Worker): void {
    w.stopped = true;
    if (w.timer !== undefined) this.clock.clearTimeout(w.timer);
    w.timer = undefined;
  }

  /** Re-observes the worker's container, reports a changed result, and (re)arms its timer. */
  private refresh(pod: PodEntry, w: Worker): void {
    const c = pod.containers.get(w.containerName);
    if (!c) return;
    const view = {
      ...(c.containerId !== undefined ? { containerId: c.containerId } : {}),
      running: c.running,
      ...(c.startedAt !== undefined ? { startedAt: c.startedAt } : {}),
      started: this.startupGateOpen(pod, c),
    };
    this.setState(pod, w, observeContainer(w.state, view, this.clock.now()));
    this.schedule(w);
  }

  private startupGateOpen(pod: PodEntry, c: ProbedContainer): boolean {
    const startup = pod.workers.get(workerKey(c.name, 'startup'));
    if (!startup || startup.stopped) return true;
    return startup.state.containerId === c.containerId && startup.state.result === 'success';
  }

  private setState(pod: PodEntry, w: Worker, next: ProbeState): void {
    const prev = w.state;
    w.state = next;
    if (prev.result === next.result) return;
    this.logger?.info(
      { podUid: w.podUid, container: w.containerName, probe: w.kind, from: prev.result, to: next.result },
      'probe result changed',
    );
    for (const l of this.listeners) {
      try {
        l(w.podUid, w.containerName, w.kind, next.result);
      } catch (err) {
        this.logger?.error({ err }, 'probe change listener threw');
      }
    }
    // A startup verdict opens (or closes) the gate for the container's other probes: re-evaluate them now rather
    // than at their next sync, so readiness is probed right after startup succeeds.
    if (w.kind === 'startup') {
      for (const kind of ['liveness', 'readiness'] as const) {
        const sibling = pod.workers.get(workerKey(w.containerName, kind));
        if (sibling && !sibling.stopped) this.refresh(pod, sibling);
      }
    }
  }

  private schedule(w: Worker): void {
    if (w.stopped || w.inFlight) return;
    if (w.timer !== undefined) this.clock.clearTimeout(w.timer);
    w.timer = undefined;
    const now = this.clock.now();
    // The wall clock stepped back past the last attempt: count the period from now instead of stalling until the
    // clock catches up again.
    if (w.state.lastProbeAt !== undefined && w.state.lastProbeAt > now) w.state = { ...w.state, lastProbeAt: now };
    const at = nextProbeAt(w.state, w.spec);
    if (at === undefined) return;
    const delay = Math.max(0, Math.max(at, w.notBefore) - now);
    w.timer = this.clock.setTimeout(() => this.fire(w), delay);
  }

  private fire(w: Worker): void {
    w.timer = undefined;
    if (w.stopped || w.inFlight) return;
    const pod = this.pods.get(w.podUid);
    const c = pod?.containers.get(w.containerName);
    const now = this.clock.now();
    const at = nextProbeAt(w.state, w.spec);
    if (!pod || !c || at === undefined || now < Math.max(at, w.notBefore) || w.state.containerId === undefined) {
      this.schedule(w);
      return;
    }
    const containerId = w.state.containerId;
    w.inFlight = true;
    const attempt = Promise.resolve().then(() =>
      runProbe(this.executor, w.spec, { podIP: pod.podIP, containerId, ports: c.spec.ports }),
    );
    attempt
      .then(
        (res) => {
          w.inFlight = false;
          if (!this.current(w, containerId)) return;
          this.onProbe?.(w.kind, res.result, { podUid: w.podUid, containerName: w.containerName }, res.output);
          const log = { podUid: w.podUid, container: w.containerName, probe: w.kind, output: res.output };
          if (res.warning) this.logger?.warn(log, 'probe succeeded with a warning');
          else if (res.result === 'failure') this.logger?.debug(log, 'probe failed');
          this.setState(pod, w, recordOutcome(w.state, w.spec, res.result, now));
          this.schedule(w);
        },
        (err: unknown) => {
          w.inFlight = false;
          if (!this.current(w, containerId)) return;
          this.onProbe?.(w.kind, 'unknown', { podUid: w.podUid, containerName: w.containerName });
          // A broken probe (bad port, unsupported handler) errors every period: say so once per container.
          const log = { err, podUid: w.podUid, container: w.containerName, probe: w.kind };
          if (w.erroredFor === containerId) this.logger?.debug(log, 'probe errored');
          else this.logger?.warn(log, 'probe errored; the attempt is ignored');
          w.erroredFor = containerId;
          w.state = recordProbeError(w.state, now);
          this.schedule(w);
        },
      )
      .catch((err: unknown) => this.logger?.error({ err }, 'prober bookkeeping failed'));
  }

  /**
   * Whether an attempt's outcome still applies: the worker is alive and still looking at the container the attempt
   * probed, and that container is still running. Otherwise the outcome is dropped and the worker re-armed.
   */
  private current(w: Worker, containerId: string): boolean {
    if (w.stopped) return false;
    if (w.state.containerId !== containerId || !w.state.running) {
      this.schedule(w);
      return false;
    }
    return true;
  }
}
