import type { Container, ContainerStatus, Pod, PodCondition, PodStatus } from '../../control/api/index.js';
import { podQOSClass } from '../../control/api/index.js';
import type { RuntimeContainer } from '../runtime/runtime.js';
import {
  DEADLINE_EXCEEDED_MESSAGE,
  DEADLINE_EXCEEDED_REASON,
  activeDeadlineAt,
  earliestCreated,
  latestByName,
  latestSandbox,
  newestFirst,
  shouldRestart,
} from '../kuberuntime/actions.js';
import type { Waiting } from '../kuberuntime/actions.js';
import { rfc3339 } from '../../control/api/time.js';

/**
 * The pod's API status computed from what the runtime reports, the probes' results and why containers wait: the
 * kubelet's generateAPIPodStatus and getPhase. Pure: the same inputs always give the same status.
 */
export interface StatusInputs {
  pod: Pod;
  runtime: RuntimeContainer[];
  /** Readiness of a running container (by id); 'success' when it has no readiness probe. */
  ready(containerName: string, containerId: string): boolean;
  /** Whether the container's startup probe (if any) has passed. */
  started(containerName: string, containerId: string): boolean;
  /** Why containers are not running, keyed by name: CrashLoopBackOff, ErrImagePull, ContainerCreating ... */
  waiting: Map<string, Waiting>;
  hostIP?: string;
  now: Date;
  previous?: PodStatus;
  /**
   * The pod's conditions in the API server, where other clients set theirs (readiness gates' conditions through
   * pods/status); unset, those the previous status carried.
   */
  apiConditions?: PodCondition[];
}

/** The condition types the agent sets itself (upstream's PodConditionsByKubelet); every other is someone else's. */
export const KUBELET_POD_CONDITIONS: ReadonlySet<string> = new Set(['PodScheduled', 'Ready', 'Initialized', 'ContainersReady', 'PodReadyToStartContainers']);

/**
 * Why the pod's readiness gates hold Ready back, as upstream's GeneratePodReadyCondition words it; undefined when every
 * gate's condition is there and True.
 */
export function readinessGatesMessage(pod: Pod, conditions: PodCondition[]): string | undefined {
  const unready: string[] = [];
  for (const gate of pod.spec.readinessGates ?? []) {
    const c = conditions.find((x) => x.type === gate.conditionType);
    if (!c) unready.push(`corresponding condition of pod readiness gate "${gate.conditionType}" does not exist.`);
    else if (c.status !== 'True') unready.push(`the status of pod readiness gate "${gate.conditionType}" is not "True", but ${c.status}`);
  }
  return unready.length > 0 ? unready.join(', ') : undefined;
}

const iso = (d: Date | undefined): string | undefined => (d ? rfc3339(d) : undefined);

function stateOf(rc: RuntimeContainer): ContainerStatus['state'] {
  if (rc.state === 'running') return { running: { startedAt: iso(rc.startedAt ?? rc.createdAt) } };
  if (rc.state === 'exited') {
    return {
      terminated: {
        exitCode: rc.exitCode ?? 0,
        reason: rc.reason ?? (rc.exitCode === 0 ? 'Completed' : 'Error'),
        startedAt: iso(rc.startedAt),
        finishedAt: iso(rc.finishedAt),
        ...(rc.message ? { message: rc.message } : {}),
        containerID: `docker://${rc.id}`,
      },
    };
  }
  return { waiting: { reason: 'ContainerCreating' } };
}

function containerStatus(c: Container, instances: RuntimeContainer[], inputs: StatusInputs, initializing: boolean, init: boolean): ContainerStatus {
  const sorted = instances.filter((rc) => rc.name === c.name).sort(newestFirst);
  const current = sorted[0];
  const previous = sorted.find((rc, i) => i > 0 && rc.state === 'exited');
  const waiting = inputs.waiting.get(c.name);
  const base = { name: c.name, image: c.image, imageID: '', restartCount: 0, ready: false, started: false };
  if (!current) {
    return {
      ...base,
      // Upstream's default waiting reason: PodInitializing for every container of a pod that has init containers.
      state: { waiting: waiting ? { reason: waiting.reason, message: waiting.message } : { reason: initializing ? 'PodInitializing' : 'ContainerCreating' } },
      lastState: {},
    };
  }
  const restartCount = current.attempt;
  const status: ContainerStatus = {
    ...base,
    image: c.image,
    imageID: current.imageRef,
    containerID: `docker://${current.id}`,
    restartCount,
    state: stateOf(current),
    lastState: previous ? stateOf(previous) : {},
  };
  if (current.state === 'running') {
    status.started = inputs.started(c.name, current.id);
    status.ready = status.started && inputs.ready(c.name, current.id);
  } else if (current.state === 'exited' && waiting) {
    // A dead container waiting to come back shows why it waits; its death moves to lastState.
    status.lastState = stateOf(current);
    status.state = { waiting: { reason: waiting.reason, message: waiting.message } };
  } else if (waiting && current.state !== 'exited') {
    status.state = { waiting: { reason: waiting.reason, message: waiting.message } };
  }
  if (init && current.state === 'exited' && current.exitCode === 0) status.ready = true;
  return status;
}

/**
 * An ephemeral container's status, as upstream's convertToAPIContainerStatuses gives it: never ready, never
 * restarted, no probes, so no `started` either (upstream's prober fills that in for regular and init containers only).
 * Not created yet, it waits with the pod's default reason (PodInitializing while the pod has init containers).
 */
function ephemeralStatus(c: Container, instances: RuntimeContainer[], inputs: StatusInputs, hasInit: boolean): ContainerStatus {
  const noProbes: StatusInputs = { ...inputs, ready: () => false, started: () => false };
  const { started: _started, ...status } = containerStatus(c, instances, noProbes, hasInit, false);
  return { ...status, ready: false };
}

/** Upstream's getPhase over the app containers' statuses. */
export function podPhase(pod: Pod, statuses: ContainerStatus[], initStatuses: ContainerStatus[]): PodStatus['phase'] {
  const policy = pod.spec.restartPolicy;
  let pendingInit = 0;
  let initFailed = false;
  for (const s of initStatuses) {
    const t = s.state?.terminated;
    if (t && t.exitCode === 0) continue;
    const lastFailed = s.lastState?.terminated !== undefined && s.lastState.terminated.exitCode !== 0;
    if ((t && t.exitCode !== 0) || lastFailed) {
      if (policy === 'Never') initFailed = true;
    }
    pendingInit++;
  }
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  let unknown = 0;
  for (const c of pod.spec.containers) {
    const s = statuses.find((x) => x.name === c.name);
    if (!s?.state) {
      unknown++;
      continue;
    }
    if (s.state.running) running++;
    else if (s.state.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    } else unknown++;
  }
  if (initFailed) return 'Failed';
  if (pendingInit > 0 || waiting > 0) return 'Pending';
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

/** Burstable, BestEffort or Guaranteed, as upstream's GetPodQOS decides (one implementation, in control/api). */
export function qosClass(pod: Pod): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  return podQOSClass(pod.spec);
}

function condition(type: string, ok: boolean, now: string, previous: PodStatus | undefined, reason?: string, message?: string): PodCondition {
  const status = ok ? 'True' : 'False';
  const prev = previous?.conditions?.find((c) => c.type === type);
  const lastTransitionTime = prev && prev.status === status ? prev.lastTransitionTime : now;
  return {
    type,
    status,
    lastProbeTime: null,
    lastTransitionTime,
    ...(ok || !reason ? {} : { reason, message }),
  };
}

export function generatePodStatus(inputs: StatusInputs): PodStatus {
  const { pod, runtime, previous } = inputs;
  const now = iso(inputs.now) ?? '';
  const sandbox = latestSandbox(runtime);
  const latest = latestByName(runtime);
  const initDone = pod.spec.initContainers.every((c) => {
    const rc = latest.get(c.name);
    return rc !== undefined && rc.state === 'exited' && rc.exitCode === 0;
  });
  const hasInit = pod.spec.initContainers.length > 0;
  const initStatuses = pod.spec.initContainers.map((c) => containerStatus(c, runtime, inputs, hasInit, true));
  const statuses = pod.spec.containers.map((c) => containerStatus(c, runtime, inputs, hasInit, false));
  const computed = podPhase(pod, statuses, initStatuses);
  const deadline = deadlineExceeded(inputs, computed);
  const phase = deadline ? 'Failed' : computed;

  const notReady = statuses.filter((s) => !s.ready).map((s) => s.name);
  const incompleteInit = pod.spec.initContainers.filter((c) => {
    const rc = latest.get(c.name);
    return !(rc && rc.state === 'exited' && rc.exitCode === 0);
  });
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const containersReady = notReady.length === 0 && !terminal;
  // Upstream: PodCompleted once Succeeded, PodFailed once Failed.
  const notReadyReason = phase === 'Failed' ? 'PodFailed' : terminal ? 'PodCompleted' : 'ContainersNotReady';
  const notReadyMessage = terminal ? undefined : `containers with unready status: [${notReady.join(' ')}]`;
  // Conditions other clients own are kept as they are; readiness gates look at them once the containers are ready.
  const foreign = (inputs.apiConditions ?? previous?.conditions ?? []).filter((c) => !KUBELET_POD_CONDITIONS.has(c.type));
  const gatesMessage = containersReady ? readinessGatesMessage(pod, foreign) : undefined;
  const conditions: PodCondition[] = [
    condition('PodReadyToStartContainers', sandbox?.state === 'running', now, previous),
    condition(
      'Initialized',
      incompleteInit.length === 0 || (terminal && initDone),
      now,
      previous,
      'ContainersNotInitialized',
      `containers with incomplete status: [${incompleteInit.map((c) => c.name).join(' ')}]`,
    ),
    gatesMessage === undefined
      ? condition('Ready', containersReady, now, previous, notReadyReason, notReadyMessage)
      : condition('Ready', false, now, previous, 'ReadinessGatesNotReady', gatesMessage),
    condition('ContainersReady', containersReady, now, previous, notReadyReason, notReadyMessage),
    condition('PodScheduled', true, now, previous),
    ...foreign,
  ];
  if (terminal) {
    for (const c of conditions) if (c.type === 'Ready' || c.type === 'ContainersReady') delete c.message;
  }

  const podIP = sandbox?.state === 'running' ? (sandbox.hostNetwork ? inputs.hostIP : sandbox.ip) : previous?.podIP;
  const startTime = previous?.startTime ?? iso(runtime.map((c) => c.createdAt).sort((a, b) => a.getTime() - b.getTime())[0] ?? inputs.now);
  const status: PodStatus = {
    phase,
    ...(deadline ? { reason: DEADLINE_EXCEEDED_REASON, message: DEADLINE_EXCEEDED_MESSAGE } : {}),
    conditions,
    ...(inputs.hostIP ? { hostIP: inputs.hostIP, hostIPs: [{ ip: inputs.hostIP }] } : {}),
    ...(podIP ? { podIP, podIPs: [{ ip: podIP }] } : {}),
    startTime,
    qosClass: qosClass(pod),
    containerStatuses: statuses,
  };
  if (pod.spec.initContainers.length > 0) status.initContainerStatuses = initStatuses;
  // Kept out of the phase and the Ready/ContainersReady conditions above, as upstream: a debugger never decides
  // whether the pod serves or has finished.
  const ephemerals = pod.spec.ephemeralContainers ?? [];
  if (ephemerals.length > 0) status.ephemeralContainerStatuses = ephemerals.map((c) => ephemeralStatus(c, runtime, inputs, hasInit));
  limitTerminationMessages(status);
  return status;
}

/** What all termination messages of a pod's status may hold together (upstream's MaxPodTerminationMessageLogLength). */
export const MAX_POD_TERMINATION_MESSAGE_LENGTH = 12 * 1024;

/**
 * Upstream's status manager (normalizeStatus) shares MAX_POD_TERMINATION_MESSAGE_LENGTH evenly among the pod's
 * container statuses and cuts each terminated state's message to its share.
 */
function limitTerminationMessages(status: PodStatus): void {
  const all = [...(status.containerStatuses ?? []), ...(status.initContainerStatuses ?? []), ...(status.ephemeralContainerStatuses ?? [])];
  if (all.length === 0) return;
  const share = Math.floor(MAX_POD_TERMINATION_MESSAGE_LENGTH / all.length);
  for (const s of all) {
    for (const t of [s.state?.terminated, s.lastState?.terminated]) {
      if (!t?.message) continue;
      const bytes = Buffer.from(t.message, 'utf8');
      if (bytes.length > share) t.message = bytes.subarray(0, share).toString('utf8');
    }
  }
}

/**
 * Whether the pod has failed for its activeDeadlineSeconds (upstream's activeDeadlineHandler.ShouldEvict, which turns
 * the phase Failed with its reason and message): active since its startTime for that long, and not finished on its
 * own before the deadline (a pod that completed in time stays as it ended, its terminal phase being final).
 */
function deadlineExceeded(inputs: StatusInputs, computed: PodStatus['phase']): boolean {
  const { pod, runtime, previous } = inputs;
  const start = previous?.startTime ? Date.parse(previous.startTime) : earliestCreated(runtime);
  const at = activeDeadlineAt(pod, start);
  if (at === undefined || inputs.now.getTime() < at) return false;
  if (previous?.reason === DEADLINE_EXCEEDED_REASON) return true;
  if (computed !== 'Succeeded' && computed !== 'Failed') return true;
  // Finished: by the deadline's kill only if some container was still running when it came.
  const apps = latestByName(runtime);
  return pod.spec.containers.some((c) => {
    const rc = apps.get(c.name);
    return rc !== undefined && (rc.finishedAt === undefined || rc.finishedAt.getTime() >= at);
  });
}


/** Whether a container that is not running right now will run again (for "Completed" vs "CrashLoopBackOff" wording). */
export function willRestart(pod: Pod, rc: RuntimeContainer): boolean {
  return shouldRestart(pod.spec.restartPolicy, rc.exitCode);
}
