import type { Container, EphemeralContainer, Pod } from '../../control/api/index.js';
import type { RuntimeContainer } from '../runtime/runtime.js';
import { containerSpecHash } from './hash.js';

/**
 * What must happen to bring a pod's containers from what the runtime reports to what the spec asks for: the kubelet's
 * computePodActions. A pure function of its inputs, so every decision can be tested on plain data.
 */

export type ProbeVerdict = 'success' | 'failure' | 'unknown';

export interface ActionInputs {
  pod: Pod;
  /** Every sandbox and container the runtime has for this pod, in any state. */
  runtime: RuntimeContainer[];
  now: number;
  /**
   * When the pod became active on the node (its status.startTime, ms), for spec.activeDeadlineSeconds; unset, the
   * earliest creation among its containers, as the status's own startTime falls back to.
   */
  startTime?: number;
  /** Milliseconds the container must still wait before a restart (CrashLoopBackOff), from its finish time. */
  backoffRemaining(containerName: string, finishedAt: number): number;
  /** The current delay for messages, in ms. */
  backoffDelay(containerName: string): number;
  /** Probe results for the running container with this id. */
  liveness(containerName: string, containerId: string): ProbeVerdict;
  startup(containerName: string, containerId: string): ProbeVerdict;
}

export interface ContainerToStart {
  container: Container;
  init: boolean;
  attempt: number;
  /** The instance this one replaces, for back-off bookkeeping (its run time resets the back-off when long). */
  previous?: { startedAt?: Date; finishedAt?: Date };
}

export interface ContainerToKill {
  id: string;
  name: string;
  /** Event reason and message, as upstream words them. */
  reason: string;
  message: string;
  /** A failing probe with its own terminationGracePeriodSeconds stops the container within that instead. */
  cause?: 'livenessProbe' | 'startupProbe';
}

export interface Waiting {
  reason: string;
  message: string;
  /** When the wait ends, so the worker can schedule the next sync. */
  retryAt?: number;
}

export interface PodActions {
  /** Stop every running container and the sandbox before anything else. */
  killPod: boolean;
  createSandbox: boolean;
  sandboxAttempt: number;
  /** The running sandbox to join, when it is kept. */
  sandboxId?: string;
  containersToStart: ContainerToStart[];
  /**
   * Ephemeral containers (kubectl debug) never created yet. Started once, right after the sandbox and before any
   * init container, as upstream's SyncPod: a debugger is most wanted while initialization is stuck.
   */
  ephemeralContainersToStart: EphemeralContainer[];
  containersToKill: ContainerToKill[];
  /** Containers held back, keyed by name (CrashLoopBackOff). */
  waiting: Map<string, Waiting>;
  /** Dead instances no longer needed: all but the newest per container name, and replaced sandboxes. */
  containersToRemove: string[];
  /** The pod is past its activeDeadlineSeconds: killPod stops what still runs, and nothing starts again. */
  deadlineExceeded?: boolean;
}

/** Upstream's activeDeadlineHandler reason and message (pkg/kubelet/active_deadline.go). */
export const DEADLINE_EXCEEDED_REASON = 'DeadlineExceeded';
export const DEADLINE_EXCEEDED_MESSAGE = 'Pod was active on the node longer than the specified deadline';

/** The earliest creation time among the pod's sandboxes and containers: the pod's start when its status has none. */
export function earliestCreated(runtime: RuntimeContainer[]): number | undefined {
  const times = runtime.map((c) => c.createdAt.getTime());
  return times.length > 0 ? Math.min(...times) : undefined;
}

/** When the pod's activeDeadlineSeconds runs out, counted from its start; undefined without a deadline or a start. */
export function activeDeadlineAt(pod: Pod, startTime: number | undefined): number | undefined {
  const ads = pod.spec.activeDeadlineSeconds;
  if (ads === undefined || ads === null || startTime === undefined || Number.isNaN(startTime)) return undefined;
  return startTime + ads * 1000;
}

/** Upstream's pastActiveDeadline: active for at least activeDeadlineSeconds since its start. */
export function pastActiveDeadline(pod: Pod, startTime: number | undefined, now: number): boolean {
  const at = activeDeadlineAt(pod, startTime);
  return at !== undefined && now >= at;
}

export function newestFirst(a: RuntimeContainer, b: RuntimeContainer): number {
  if (a.attempt !== b.attempt) return b.attempt - a.attempt;
  return b.createdAt.getTime() - a.createdAt.getTime();
}

/** The newest instance of each container name (sandbox excluded). */
export function latestByName(runtime: RuntimeContainer[]): Map<string, RuntimeContainer> {
  const out = new Map<string, RuntimeContainer>();
  for (const c of [...runtime].sort(newestFirst)) {
    if (c.name === 'POD') continue;
    if (!out.has(c.name)) out.set(c.name, c);
  }
  return out;
}

/** The newest instance of a container that has exited, if any (its finish time is where a back-off counts from). */
function newestExited(runtime: RuntimeContainer[], name: string): RuntimeContainer | undefined {
  return runtime.filter((c) => c.name === name && c.state === 'exited').sort(newestFirst)[0];
}

export function latestSandbox(runtime: RuntimeContainer[]): RuntimeContainer | undefined {
  return runtime.filter((c) => c.name === 'POD').sort(newestFirst)[0];
}

/** Whether a container that exited with this code should run again under the pod's restart policy. */
export function shouldRestart(restartPolicy: string, exitCode: number | undefined): boolean {
  if (restartPolicy === 'Always') return true;
  if (restartPolicy === 'OnFailure') return exitCode !== 0;
  return false;
}

function succeeded(c: RuntimeContainer | undefined): boolean {
  return c !== undefined && c.state === 'exited' && c.exitCode === 0;
}

function isActive(c: RuntimeContainer): boolean {
  return c.state === 'running' || c.state === 'created';
}

/** A delay as Go prints a time.Duration ("500ms", "10s", "1m20s", "5m0s"), the way upstream's back-off messages show it. */
function goDuration(ms: number): string {
  if (ms <= 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = `${Number(((ms % 60_000) / 1000).toFixed(3))}s`;
  if (h > 0) return `${h}h${m}m${s}`;
  if (m > 0) return `${m}m${s}`;
  return s;
}

/**
 * Containers no longer needed, as the kubelet's container GC decides: per container name the newest instance and the
 * newest dead one stay (the dead one is the status's lastState), every other stopped or never-started instance goes,
 * and so does every sandbox but the current one once it is no longer running.
 */
function garbage(runtime: RuntimeContainer[], keepSandboxId: string | undefined): string[] {
  const out: string[] = [];
  // Sandboxes last: app containers are removed before the sandbox whose network namespace they joined.
  const sandboxes: string[] = [];
  const newest = latestByName(runtime);
  const newestDead = new Map<string, string>();
  for (const c of [...runtime].sort(newestFirst)) {
    if (c.name !== 'POD' && c.state === 'exited' && !newestDead.has(c.name)) newestDead.set(c.name, c.id);
  }
  for (const c of runtime) {
    if (c.state === 'running') continue;
    if (c.name === 'POD') {
      if (keepSandboxId !== undefined && c.id !== keepSandboxId) sandboxes.push(c.id);
      continue;
    }
    if (newest.get(c.name)?.id === c.id) continue;
    if (newestDead.get(c.name) === c.id) continue;
    out.push(c.id);
  }
  return [...out, ...sandboxes];
}

export function computePodActions(input: ActionInputs): PodActions {
  const { pod, runtime } = input;
  const policy = pod.spec.restartPolicy;
  const hostNetwork = pod.spec.hostNetwork === true;
  const sandbox = latestSandbox(runtime);
  const latest = latestByName(runtime);
  const podRef = `${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`;
  const actions: PodActions = {
    killPod: false,
    createSandbox: false,
    sandboxAttempt: sandbox ? sandbox.attempt + 1 : 0,
    containersToStart: [],
    ephemeralContainersToStart: [],
    containersToKill: [],
    waiting: new Map(),
    containersToRemove: [],
  };
  // Past its deadline the pod has failed (upstream's activeDeadlineHandler evicts it): stop what still runs, start
  // nothing, whatever the restart policy.
  if (pastActiveDeadline(pod, input.startTime ?? earliestCreated(runtime), input.now)) {
    actions.deadlineExceeded = true;
    actions.killPod = runtime.some(isActive);
    actions.containersToRemove = garbage(runtime, sandbox?.id);
    return actions;
  }
  const nextAttempt = (name: string): number => {
    const prev = latest.get(name);
    return prev ? prev.attempt + 1 : 0;
  };
  const previousOf = (name: string): ContainerToStart['previous'] => {
    const prev = latest.get(name);
    return prev ? { startedAt: prev.startedAt, finishedAt: prev.finishedAt } : undefined;
  };

  const sandboxHealthy = sandbox !== undefined && sandbox.state === 'running' && (hostNetwork || !!sandbox.ip);
  if (!sandboxHealthy) {
    const anyActive = runtime.some(isActive);
    actions.killPod = anyActive;
    // A pod that must not restart and has already run keeps its dead containers as its final record. Any container
    // counts, init containers included, as upstream's len(podStatus.ContainerStatuses) != 0.
    if (policy === 'Never' && sandbox !== undefined && latest.size > 0) {
      actions.containersToRemove = garbage(runtime, sandbox.id);
      return actions;
    }
    const toStart = pod.spec.containers.filter((c) => !(policy === 'OnFailure' && succeeded(latest.get(c.name))));
    if (toStart.length === 0) {
      actions.containersToRemove = garbage(runtime, sandbox?.id);
      return actions;
    }
    actions.createSandbox = true;
    const firstInit = pod.spec.initContainers[0];
    if (firstInit) {
      actions.containersToStart.push({ container: firstInit, init: true, attempt: nextAttempt(firstInit.name), previous: previousOf(firstInit.name) });
    } else {
      for (const c of toStart) {
        actions.containersToStart.push({ container: c, init: false, attempt: nextAttempt(c.name), previous: previousOf(c.name) });
      }
    }
    actions.containersToRemove = garbage(runtime, sandbox?.id);
    return actions;
  }

  actions.sandboxId = sandbox.id;
  actions.containersToRemove = garbage(runtime, sandbox.id);

  // Restarts honour CrashLoopBackOff: the wait counts from when the previous instance finished.
  /** Whether `c` is still backing off from an instance that finished at `finishedAt` (then it waits, said so). */
  const backingOff = (c: Container, finishedAt: number): boolean => {
    const remaining = input.backoffRemaining(c.name, finishedAt);
    if (remaining <= 0) return false;
    actions.waiting.set(c.name, {
      reason: 'CrashLoopBackOff',
      message: `back-off ${goDuration(input.backoffDelay(c.name))} restarting failed container=${c.name} pod=${podRef}`,
      retryAt: input.now + remaining,
    });
    return true;
  };
  const restartOrWait = (c: Container, init: boolean, prev: RuntimeContainer): void => {
    if (backingOff(c, prev.finishedAt?.getTime() ?? input.now)) return;
    actions.containersToStart.push({ container: c, init, attempt: prev.attempt + 1, previous: { startedAt: prev.startedAt, finishedAt: prev.finishedAt } });
  };

  // Any instance at all, even a dead one from a sandbox since replaced, means the ephemeral container has had its one
  // run: upstream never restarts them, whatever the restart policy (there is no back-off to honour, then).
  // A pod (re)creating its sandbox starts none in that sync: a new sandbox means their earlier run is over.
  for (const e of pod.spec.ephemeralContainers ?? []) {
    if (!latest.has(e.name)) actions.ephemeralContainersToStart.push(e);
  }

  // Init containers run one at a time, in order, each to completion, before any app container.
  const pendingInit = pod.spec.initContainers.find((c) => !succeeded(latest.get(c.name)));
  if (pendingInit) {
    const prev = latest.get(pendingInit.name);
    if (!prev) {
      actions.containersToStart.push({ container: pendingInit, init: true, attempt: 0 });
    } else if (prev.state === 'created') {
      actions.containersToKill.push({ id: prev.id, name: prev.name, reason: 'Killing', message: 'Container was created but never started' });
      actions.containersToStart.push({ container: pendingInit, init: true, attempt: prev.attempt + 1 });
    } else if (prev.state === 'exited') {
      if (policy === 'Never') {
        // The pod has failed: nothing more may run.
        actions.killPod = true;
        actions.ephemeralContainersToStart = [];
        return actions;
      }
      restartOrWait(pendingInit, true, prev);
    }
    return actions;
  }

  // Running containers kept as they are; none kept and none to start means the pod is done (upstream keepCount).
  let keep = 0;
  for (const c of pod.spec.containers) {
    const prev = latest.get(c.name);
    if (!prev) {
      actions.containersToStart.push({ container: c, init: false, attempt: 0 });
      continue;
    }
    if (prev.state === 'created') {
      actions.containersToKill.push({ id: prev.id, name: c.name, reason: 'Killing', message: 'Container was created but never started' });
      actions.containersToStart.push({ container: c, init: false, attempt: prev.attempt + 1 });
      continue;
    }
    if (prev.state === 'running') {
      let kill: { message: string; restart: boolean; cause?: 'livenessProbe' | 'startupProbe' } | undefined;
      if (prev.specHash && prev.specHash !== containerSpecHash(c)) {
        // A changed spec is replaced whatever the restart policy, as upstream.
        kill = { message: `Container ${c.name} definition changed`, restart: true };
      } else if (c.startupProbe && input.startup(c.name, prev.id) === 'failure') {
        kill = { message: `Container ${c.name} failed startup probe`, restart: policy !== 'Never', cause: 'startupProbe' };
      } else if (c.livenessProbe && input.liveness(c.name, prev.id) === 'failure') {
        kill = { message: `Container ${c.name} failed liveness probe`, restart: policy !== 'Never', cause: 'livenessProbe' };
      }
      if (!kill) {
        keep++;
        continue;
      }
      // Upstream says "will be restarted" only when it will be.
      const message = kill.restart ? `${kill.message}, will be restarted` : kill.message;
      actions.containersToKill.push({ id: prev.id, name: c.name, reason: 'Killing', message, ...(kill.cause ? { cause: kill.cause } : {}) });
      if (!kill.restart) continue;
      // A probe kill ends with SIGTERM/SIGKILL, a non-zero exit: OnFailure restarts it, Never does not. The restart
      // honours the back-off counted from the previous dead instance, as upstream's doBackOff does (it looks at the
      // newest exited instance): a container that keeps failing its liveness probe ends in CrashLoopBackOff.
      const dead = newestExited(runtime, c.name);
      if (dead && backingOff(c, dead.finishedAt?.getTime() ?? input.now)) continue;
      actions.containersToStart.push({ container: c, init: false, attempt: prev.attempt + 1, previous: { startedAt: prev.startedAt, finishedAt: new Date(input.now) } });
      continue;
    }
    if (prev.state === 'exited' && shouldRestart(policy, prev.exitCode)) restartOrWait(c, false, prev);
    else if (prev.state === 'unknown') keep++;
  }
  // Nothing runs and nothing will (containers waiting out a back-off will): stop the sandbox, as upstream's KillPod.
  // Ephemeral containers do not keep a finished pod alive (upstream's keepCount counts only spec.containers), and
  // none is started in a sandbox about to stop.
  if (keep === 0 && actions.containersToStart.length === 0 && actions.waiting.size === 0) {
    actions.killPod = true;
    actions.ephemeralContainersToStart = [];
  }
  return actions;
}
