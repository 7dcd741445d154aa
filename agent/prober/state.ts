/**
 * One probe worker's state machine (upstream pkg/kubelet/prober/worker.go's doProbe, minus the I/O). Pure: the
 * manager feeds it what the container looks like and what each probe attempt said, and schedules the next attempt
 * from nextProbeAt(). Times are epoch milliseconds.
 *
 * Lifecycle of a worker's state:
 *   observeContainer()  on every pod sync and before every attempt: picks up a new container ID (full reset),
 *                       a stopped container, and whether the startup gate is open;
 *   probeDue() / nextProbeAt()  whether and when the next attempt runs;
 *   recordOutcome()     folds an attempt's outcome into the thresholded result.
 */
import type { ProbeKind, ProbeOutcome, ProbeResult, ProbeSpec } from './types.js';

/** What the worker is told about its container. */
export interface ContainerView {
  /** Absent until the runtime has created the container. */
  containerId?: string;
  running: boolean;
  /** When the running container started (epoch ms); initialDelaySeconds counts from here. */
  startedAt?: number;
  /**
   * Whether the startup gate is open: true when the container has no startup probe or its startup probe has
   * succeeded. Ignored by the startup worker itself.
   */
  started: boolean;
}

export interface ProbeState {
  readonly kind: ProbeKind;
  /** The container this state belongs to; a different ID starts the worker over. */
  readonly containerId: string | undefined;
  readonly running: boolean;
  /** Start of the initial delay: the container's startedAt, or when the worker first saw it running. */
  readonly runningSince: number | undefined;
  readonly started: boolean;
  /** The thresholded verdict the rest of the agent reads. */
  readonly result: ProbeResult;
  /** The latest attempt's outcome and how many attempts in a row said the same. */
  readonly lastOutcome: ProbeOutcome | undefined;
  readonly run: number;
  /**
   * Set after a liveness or startup failure: the container is about to be killed, so probing it again is pointless
   * (and exec into a stopping container is what upstream's #21751 was about). Cleared only by a new container ID.
   */
  readonly onHold: boolean;
  /** When the latest attempt started; periodSeconds counts from here, like upstream's ticker. */
  readonly lastProbeAt: number | undefined;
}

/**
 * Upstream's initial values: a container is not ready until its first successful readiness probe, is alive until
 * proven otherwise, and has an unknown startup state until the startup probe says something.
 */
export function initialResult(kind: ProbeKind): ProbeResult {
  switch (kind) {
    case 'readiness':
      return 'failure';
    case 'liveness':
      return 'success';
    case 'startup':
      return 'unknown';
  }
}

export function initialProbeState(kind: ProbeKind): ProbeState {
  return {
    kind,
    containerId: undefined,
    running: false,
    runningSince: undefined,
    started: false,
    result: initialResult(kind),
    lastOutcome: undefined,
    run: 0,
    onHold: false,
    lastProbeAt: undefined,
  };
}

/**
 * The result a worker reports while its container is not running. Upstream writes Failure for every kind; Skiff
 * keeps liveness at success instead, because a liveness verdict only ever acts on a running container and a
 * "failure" for a container that is already down invites a needless kill.
 */
function notRunningResult(kind: ProbeKind): ProbeResult {
  return kind === 'liveness' ? 'success' : 'failure';
}

/** Folds the container's current state into the worker's state. `now` stands in for a missing startedAt. */
export function observeContainer(state: ProbeState, container: ContainerView, now: number): ProbeState {
  let s = state;
  if (container.containerId !== s.containerId) {
    // A new (or restarted) container: everything learnt about the old one is void, including the on-hold flag and
    // the outcome run (upstream keeps the run across containers; counting afresh is what the threshold means).
    s = { ...initialProbeState(s.kind), containerId: container.containerId };
  }
  if (s.onHold) {
    // Keep the failure that put the worker on hold until the container is replaced.
    return s;
  }
  if (s.containerId === undefined) {
    return s.running || s.started ? { ...s, running: false, started: false } : s;
  }
  if (!container.running) {
    const result = notRunningResult(s.kind);
    return { ...s, running: false, runningSince: undefined, started: false, result };
  }
  if (!s.running) {
    // Starting to run (first start after "created", or a restart in place): the failure written while it was not
    // running, and anything learnt in an earlier run, must not be read as a verdict about this run.
    s = { ...s, result: initialResult(s.kind), lastOutcome: undefined, run: 0, lastProbeAt: undefined, runningSince: undefined };
  }
  const runningSince = s.runningSince ?? container.startedAt ?? now;
  // The startup worker is its own gate; for the others the gate never closes again for the same container.
  const started = s.kind === 'startup' ? s.result === 'success' : s.started || container.started;
  if (s.running && s.runningSince === runningSince && s.started === started) return s;
  return { ...s, running: true, runningSince, started };
}

/**
 * When the next attempt may run, or undefined when the worker should not probe at all right now: no container,
 * container not running, on hold, liveness/readiness still gated by the startup probe, or the startup probe already
 * succeeded (upstream stops probing startup for the rest of the container's life).
 */
export function nextProbeAt(state: ProbeState, probe: ProbeSpec): number | undefined {
  if (state.containerId === undefined || !state.running || state.onHold || state.runningSince === undefined) {
    return undefined;
  }
  if (state.kind === 'startup' ? state.result === 'success' : !state.started) return undefined;
  const afterDelay = state.runningSince + Math.max(0, probe.initialDelaySeconds) * 1000;
  if (state.lastProbeAt === undefined) return afterDelay;
  return Math.max(afterDelay, state.lastProbeAt + Math.max(1, probe.periodSeconds) * 1000);
}

export function probeDue(state: ProbeState, probe: ProbeSpec, now: number): boolean {
  const at = nextProbeAt(state, probe);
  return at !== undefined && now >= at;
}

/**
 * Folds one attempt's outcome (of an attempt started at `probedAt`) into the state. The result flips only after
 * successThreshold (or failureThreshold) consecutive attempts agree; a liveness or startup failure puts the worker
 * on hold.
 */
export function recordOutcome(state: ProbeState, probe: ProbeSpec, outcome: ProbeOutcome, probedAt: number): ProbeState {
  const run = state.lastOutcome === outcome ? state.run + 1 : 1;
  const threshold = Math.max(1, outcome === 'success' ? probe.successThreshold : probe.failureThreshold);
  const next: ProbeState = { ...state, lastOutcome: outcome, run, lastProbeAt: probedAt };
  if (run < threshold) return next;
  if (outcome === 'failure' && (state.kind === 'liveness' || state.kind === 'startup')) {
    return { ...next, result: 'failure', onHold: true, run: 0 };
  }
  const result: ProbeResult = outcome;
  // A startup success opens its own gate, which also stops further startup probing.
  const started = state.kind === 'startup' ? result === 'success' : next.started;
  return { ...next, result, started };
}

/**
 * An attempt that could not be run (a prober error) leaves the result and the outcome run alone, as upstream throws
 * such attempts away; it still counts as an attempt for scheduling so a broken probe is retried once a period.
 */
export function recordProbeError(state: ProbeState, probedAt: number): ProbeState {
  return { ...state, lastProbeAt: probedAt };
}
