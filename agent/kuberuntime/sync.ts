import type { Container, EphemeralContainer, Pod } from '../../control/api/index.js';
import type { Logger } from '../../lib/log.js';
import type { EventRecorder } from '../events.js';
import { realClock, type Clock } from '../prober/clock.js';
import { createProbeExecutor, type ProbeExecutor } from '../prober/executor.js';
import type { ContainerRuntime, PodMounts, RuntimeContainer } from '../runtime/runtime.js';
import { activeDeadlineAt, computePodActions, DEADLINE_EXCEEDED_MESSAGE, DEADLINE_EXCEEDED_REASON, earliestCreated, latestByName, latestSandbox, type ContainerToStart, type ProbeVerdict, type Waiting } from './actions.js';
import { Backoff } from './backoff.js';
import { containerEnv, EnvError, expandCommand, type EnvContext } from './env.js';
import { containerSpecHash } from './hash.js';
import { realSleep, runLifecycleHandler, type HookRunnerDeps } from './lifecycle-hooks.js';
import { managesResolvConf, writePodResolvConf, type PodDnsSettings } from './resolv-file.js';
import { killGraceSeconds, shouldRunPreStop, stopWithPreStop, type KillCause } from './termination.js';
import { preparePodVolumes, removePodDir, VolumeError, type VolumeObjects } from './volumes.js';
import { Semaphore } from './semaphore.js';
import { prepareTerminationMessageFile } from './termination-message.js';
import { needsImageUser, verifyRunAsNonRoot } from './security-context.js';
import { failedPullSecretsMessage, FAILED_TO_RETRIEVE_PULL_SECRET_REASON, pullWithSecrets, type PodPullSecrets, type PullSecret } from './pull-secrets.js';

/**
 * How many sandbox network operations (a sandbox's start, which connects it to the pod network, and its stop or
 * removal, which disconnects it) the agent runs against Docker at once. dockerd 20.10, asked to disconnect ~100
 * endpoints from one bridge network at the same moment (a 100-replica Deployment deleted), sometimes leaves phantom
 * endpoints behind: the network then reports "has active endpoints" with no container attached and cannot be
 * removed until dockerd restarts. Upstream's kubelet has no knob for this (its CRI runtimes serialise network setup
 * themselves), so it is a constant; a handful at a time costs little against Docker's own per-call latency.
 */
export const SANDBOX_NETWORK_CONCURRENCY = 4;

/** What the sync needs to know of probes: verdicts per container instance. */
export interface ProbeReader {
  result(podUid: string, containerName: string, kind: 'liveness' | 'readiness' | 'startup', containerId?: string): ProbeVerdict;
}

export interface PodSyncerDeps {
  runtime: ContainerRuntime;
  rootDir: string;
  pauseImage: string;
  crashBackoff: Backoff;
  pullBackoff: Backoff;
  probes: ProbeReader;
  events: EventRecorder;
  logger: Logger;
  now: () => number;
  hostIP?: string;
  /** ConfigMap/Secret lookups and service variables, present in cluster mode. */
  envExtras?: (pod: Pod) => Omit<EnvContext, 'pod' | 'podIP' | 'hostIP'>;
  /** The pod's imagePullSecrets as read through the API (cluster mode): the readable ones and the names of the rest. */
  pullSecrets?: (pod: Pod) => PodPullSecrets | undefined;
  /** Where configMap and secret volumes get their data, in cluster mode. */
  volumeObjects?: (pod: Pod) => VolumeObjects | undefined;
  /** --cluster-dns, --cluster-domain, --resolv-conf: the pods' /etc/resolv.conf. */
  dns?: PodDnsSettings;
  /** Runs lifecycle hooks' exec and httpGet handlers; the prober's executor, so both share one client. */
  hookExecutor?: ProbeExecutor;
  /** Sleep handlers' wait; real timers unless a test drives it. */
  hookSleep?: HookRunnerDeps['sleep'];
  /** Times the preStop hook against the grace period. */
  clock?: Clock;
  /** Bounds sandbox network operations across all pods; default SANDBOX_NETWORK_CONCURRENCY. */
  sandboxOps?: Semaphore;
}

/** One container to stop, with what its stop needs to know. */
interface Kill {
  id: string;
  name: string;
  running: boolean;
  /** The Killing event's message; upstream's default is "Stopping container <name>". */
  message?: string;
  cause?: KillCause;
  /** The grace period to use instead of the one the pod and cause give (a pod being deleted). */
  graceSeconds?: number;
}

export interface SyncOutcome {
  /** Why containers are not running, for the status. */
  waiting: Map<string, Waiting>;
  /** The runtime's view after the sync, for status and probes. */
  runtime: RuntimeContainer[];
  /** The next time this pod must be looked at even if nothing changes (a back-off ending). */
  nextSyncAt?: number;
}

const errText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** An ephemeral container's target: the running container whose PID namespace it joins, or why there is none. */
type EphemeralTarget = { pidTargetId?: string } | { error: string };

function ephemeralSpec(pod: Pod, name: string): EphemeralContainer | undefined {
  return pod.spec.ephemeralContainers?.find((e) => e.name === name);
}

/** Upstream's getTargetID: the target must be running now, its newest instance, or the container cannot be made. */
function ephemeralTarget(e: EphemeralContainer, runtime: RuntimeContainer[]): EphemeralTarget {
  if (!e.targetContainerName) return {};
  const target = latestByName(runtime).get(e.targetContainerName);
  if (!target || target.state !== 'running') return { error: `unable to find target container ${e.targetContainerName}` };
  return { pidTargetId: target.id };
}

/**
 * Executes the plan computePodActions makes: the kubelet's SyncPod. Every step is idempotent, so a sync that fails
 * half-way is simply run again.
 */
export class PodSyncer {
  /** When each image last failed to pull, per pod: ImagePullBackOff counts from there. */
  private readonly pullFailedAt = new Map<string, number>();
  /** The pull secrets read at the start of the pod's current sync (keyed by the pod object the sync was given). */
  private readonly syncPullSecrets = new WeakMap<Pod, PullSecret[]>();
  private readonly hooks: HookRunnerDeps;
  private readonly clock: Clock;
  private readonly sandboxOps: Semaphore;

  constructor(private readonly deps: PodSyncerDeps) {
    this.hooks = { executor: deps.hookExecutor ?? createProbeExecutor(deps.runtime), sleep: deps.hookSleep ?? realSleep };
    this.clock = deps.clock ?? realClock;
    this.sandboxOps = deps.sandboxOps ?? new Semaphore(SANDBOX_NETWORK_CONCURRENCY);
  }

  private key(pod: Pod, name: string): string {
    return `${pod.metadata.uid}/${name}`;
  }

  /** `startTime` is the pod's status.startTime (ms), from which its activeDeadlineSeconds counts. */
  async sync(pod: Pod, startTime?: number): Promise<SyncOutcome> {
    const { runtime, crashBackoff, probes } = this.deps;
    const uid = pod.metadata.uid ?? '';
    const now = this.deps.now();
    const before = await runtime.listPodContainers(uid);
    const actions = computePodActions({
      pod,
      runtime: before,
      now,
      ...(startTime !== undefined ? { startTime } : {}),
      backoffRemaining: (name, finishedAt) => crashBackoff.remaining(this.key(pod, name), finishedAt, now),
      backoffDelay: (name) => crashBackoff.delay(this.key(pod, name)),
      liveness: (name, id) => probes.result(uid, name, 'liveness', id),
      startup: (name, id) => probes.result(uid, name, 'startup', id),
    });
    const waiting = new Map(actions.waiting);
    for (const name of actions.waiting.keys()) {
      this.deps.events.event(pod, 'Warning', 'BackOff', `Back-off restarting failed container ${name} in pod ${pod.metadata.name}_${pod.metadata.namespace}(${uid})`, `spec.containers{${name}}`);
    }

    this.syncPullSecrets.set(pod, this.podPullSecrets(pod));

    const podIP = this.podIPOf(pod, before);
    // Upstream's activeDeadlineHandler records this (a Normal event) when it fails the pod; here once, as it is stopped.
    if (actions.deadlineExceeded && actions.killPod) this.deps.events.event(pod, 'Normal', DEADLINE_EXCEEDED_REASON, DEADLINE_EXCEEDED_MESSAGE);
    if (actions.killPod) await this.killAll(pod, before, podIP);
    const stateOf = new Map(before.map((c) => [c.id, c.state]));
    await Promise.all(
      actions.containersToKill.map((k) =>
        this.killContainer(pod, { id: k.id, name: k.name, running: stateOf.get(k.id) === 'running', message: k.message, cause: k.cause ?? 'other' }, podIP),
      ),
    );

    let sandboxId = actions.sandboxId;
    if (actions.createSandbox) {
      if (!(await runtime.hasImage(this.deps.pauseImage))) {
        throw new Error(`sandbox image ${this.deps.pauseImage} is missing: run "skiff images build"`);
      }
      if (actions.sandboxAttempt > 0) this.deps.events.event(pod, 'Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
      const attempt = actions.sandboxAttempt;
      sandboxId = await this.sandboxOps.run(() => runtime.createSandbox(pod, attempt));
    }

    const ephemerals = actions.ephemeralContainersToStart;
    if (sandboxId && (actions.containersToStart.length > 0 || ephemerals.length > 0)) {
      let mounts: PodMounts;
      try {
        mounts = await preparePodVolumes(this.deps.rootDir, pod, this.deps.volumeObjects?.(pod));
      } catch (err) {
        if (!(err instanceof VolumeError)) throw err;
        this.deps.events.event(pod, 'Warning', 'FailedMount', err.message);
        for (const s of actions.containersToStart) waiting.set(s.container.name, { reason: 'ContainerCreating', message: err.message });
        for (const e of ephemerals) waiting.set(e.name, { reason: 'ContainerCreating', message: err.message });
        return { waiting, runtime: await runtime.listPodContainers(uid), nextSyncAt: now + 10_000 };
      }
      if (this.deps.dns && managesResolvConf(pod, this.deps.dns)) {
        const written = await writePodResolvConf(this.deps.rootDir, pod, this.deps.dns);
        mounts.resolvConf = written.path;
        for (const [reason, message] of written.warnings) this.deps.events.event(pod, 'Warning', reason, message);
      }
      const current = await runtime.listPodContainers(uid);
      const sandbox = current.find((c) => c.id === sandboxId);
      const podIP = pod.spec.hostNetwork ? this.deps.hostIP : sandbox?.ip;
      for (const e of ephemerals) await this.startOne(pod, { container: e, init: false, attempt: 0 }, sandboxId, mounts, podIP, waiting, ephemeralTarget(e, current));
      // Init containers run one at a time; app containers start together.
      const inits = actions.containersToStart.filter((s) => s.init);
      const apps = actions.containersToStart.filter((s) => !s.init);
      for (const s of inits) await this.startOne(pod, s, sandboxId, mounts, podIP, waiting);
      await Promise.all(apps.map((s) => this.startOne(pod, s, sandboxId as string, mounts, podIP, waiting)));
    }

    // Removing dead containers is housekeeping: a failure (Docker's "device or resource busy" after a daemon restart)
    // must not stop the pod's status from being computed; the next sync tries again. computePodActions lists app
    // containers before sandboxes, and they go in that order.
    const sandboxIds = new Set(before.filter((c) => c.name === 'POD').map((c) => c.id));
    for (const id of actions.containersToRemove) {
      try {
        await this.removeOne(id, sandboxIds.has(id));
      } catch (err) {
        this.deps.logger.warn({ pod: `${pod.metadata.namespace}/${pod.metadata.name}`, container: id, err: errText(err) }, 'cannot remove a dead container yet');
      }
    }

    const after = await runtime.listPodContainers(uid);
    const retries = [...waiting.values()].map((w) => w.retryAt).filter((t): t is number => t !== undefined);
    // The sync that fails the pod at its activeDeadlineSeconds must happen even if nothing else changes by then.
    const deadline = activeDeadlineAt(pod, startTime ?? earliestCreated(after));
    if (deadline !== undefined && deadline > now && !actions.deadlineExceeded) retries.push(deadline);
    return { waiting, runtime: after, ...(retries.length > 0 ? { nextSyncAt: Math.min(...retries) } : {}) };
  }

  /** The address an httpGet hook without a host goes to: the sandbox's IP, or the node's for hostNetwork pods. */
  private podIPOf(pod: Pod, containers: RuntimeContainer[]): string | undefined {
    return pod.spec.hostNetwork ? this.deps.hostIP : latestSandbox(containers)?.ip;
  }

  private specOf(pod: Pod, name: string): Container | undefined {
    return pod.spec.containers.find((c) => c.name === name) ?? pod.spec.initContainers.find((c) => c.name === name) ?? ephemeralSpec(pod, name);
  }

  /**
   * Stops one container as upstream's killContainer: the Killing event, the preStop hook within the grace period
   * (FailedPreStopHook when it fails), then the stop signal with what is left of the grace period.
   */
  private async killContainer(pod: Pod, k: Kill, podIP: string | undefined): Promise<void> {
    const spec = this.specOf(pod, k.name);
    const ephemeral = ephemeralSpec(pod, k.name) !== undefined;
    const fieldPath = ephemeral ? `spec.ephemeralContainers{${k.name}}` : `spec.containers{${k.name}}`;
    const grace = k.graceSeconds ?? killGraceSeconds(pod, spec, k.cause ?? 'other');
    this.deps.events.event(pod, 'Normal', 'Killing', k.message ?? `Stopping container ${k.name}`, fieldPath);
    const preStop = ephemeral ? undefined : spec?.lifecycle?.preStop;
    const runPreStop =
      preStop && spec && shouldRunPreStop(spec, k.running, grace)
        ? async (signal: AbortSignal): Promise<void> => {
            const outcome = await runLifecycleHandler(this.hooks, preStop, { pod, container: spec, containerId: k.id, podIP }, signal);
            // A hook the grace period cut off is not reported: the stop has already moved on without it.
            if (outcome.ok || signal.aborted) return;
            this.deps.logger.warn({ pod: `${pod.metadata.namespace}/${pod.metadata.name}`, container: k.name, err: outcome.message }, 'PreStop hook failed');
            // Upstream keeps the handler's output out of the event, lest it leak secrets.
            this.deps.events.event(pod, 'Warning', 'FailedPreStopHook', 'PreStopHook failed', fieldPath);
          }
        : undefined;
    await stopWithPreStop({
      graceSeconds: grace,
      ...(runPreStop ? { preStop: runPreStop } : {}),
      stop: (seconds) => this.deps.runtime.stopContainer(k.id, seconds),
      clock: this.clock,
    });
  }

  /**
   * The pod's readable imagePullSecrets, read at every sync as upstream's SyncPod does: the ones that cannot be read
   * are left out (the pull goes on without them) and reported with a Warning event.
   */
  private podPullSecrets(pod: Pod): PullSecret[] {
    if ((pod.spec.imagePullSecrets ?? []).length === 0) return [];
    const found = this.deps.pullSecrets?.(pod);
    if (!found) return [];
    if (found.missing.length > 0) {
      this.deps.events.event(pod, 'Warning', FAILED_TO_RETRIEVE_PULL_SECRET_REASON, failedPullSecretsMessage(found.missing));
    }
    return found.secrets;
  }

  /** Pulls the image as the container's imagePullPolicy says; records the wait reason when it cannot. */
  private async ensureImage(pod: Pod, c: Container, fieldPath: string, waiting: Map<string, Waiting>, pullSecrets: PullSecret[]): Promise<boolean> {
    const { runtime, pullBackoff } = this.deps;
    const present = await runtime.hasImage(c.image);
    const policy = c.imagePullPolicy;
    if (policy === 'Never' || (policy === 'IfNotPresent' && present)) {
      if (present) {
        this.deps.events.event(pod, 'Normal', 'Pulled', `Container image "${c.image}" already present on machine`, fieldPath);
        return true;
      }
      const message = `Container image "${c.image}" is not present with pull policy of Never`;
      this.deps.events.event(pod, 'Warning', 'ErrImageNeverPull', message, fieldPath);
      waiting.set(c.name, { reason: 'ErrImageNeverPull', message, retryAt: this.deps.now() + 10_000 });
      return false;
    }
    const key = `${pod.metadata.uid}/${c.image}`;
    const now = this.deps.now();
    const failedAt = this.pullFailedAt.get(key);
    if (failedAt !== undefined) {
      const left = pullBackoff.remaining(key, failedAt, now);
      if (left > 0) {
        const message = `Back-off pulling image "${c.image}"`;
        this.deps.events.event(pod, 'Normal', 'BackOff', message, fieldPath);
        waiting.set(c.name, { reason: 'ImagePullBackOff', message, retryAt: now + left });
        return false;
      }
    }
    this.deps.events.event(pod, 'Normal', 'Pulling', `Pulling image "${c.image}"`, fieldPath);
    const started = this.deps.now();
    try {
      await pullWithSecrets(c.image, pullSecrets, (auth) => runtime.pullImage(c.image, auth));
    } catch (err) {
      pullBackoff.next(key, this.deps.now());
      this.pullFailedAt.set(key, this.deps.now());
      const message = `Failed to pull image "${c.image}": ${errText(err)}`;
      this.deps.events.event(pod, 'Warning', 'Failed', message, fieldPath);
      waiting.set(c.name, { reason: 'ErrImagePull', message, retryAt: this.deps.now() + pullBackoff.delay(key) });
      return false;
    }
    pullBackoff.reset(key);
    this.pullFailedAt.delete(key);
    const secs = ((this.deps.now() - started) / 1000).toFixed(3);
    this.deps.events.event(pod, 'Normal', 'Pulled', `Successfully pulled image "${c.image}" in ${secs}s`, fieldPath);
    return true;
  }

  /** `ephemeral` is set for an ephemeral container: whose PID namespace it joins, or why it cannot be found. */
  private async startOne(
    pod: Pod,
    s: ContainerToStart,
    sandboxId: string,
    mounts: PodMounts,
    podIP: string | undefined,
    waiting: Map<string, Waiting>,
    ephemeral?: EphemeralTarget,
  ): Promise<void> {
    const { runtime, crashBackoff } = this.deps;
    const c = s.container;
    const kind = ephemeral ? 'ephemeralContainers' : s.init ? 'initContainers' : 'containers';
    const fieldPath = `spec.${kind}{${c.name}}`;
    if (!(await this.ensureImage(pod, c, fieldPath, waiting, this.syncPullSecrets.get(pod) ?? []))) return;
    if (ephemeral && 'error' in ephemeral) {
      // Upstream checks the target after the pull and retries at the next sync: the target may be starting.
      this.deps.events.event(pod, 'Warning', 'Failed', `Error: ${ephemeral.error}`, fieldPath);
      waiting.set(c.name, { reason: 'CreateContainerConfigError', message: ephemeral.error, retryAt: this.deps.now() + 10_000 });
      return;
    }
    let env: Array<{ name: string; value: string }>;
    try {
      env = containerEnv(c, { pod, podIP, hostIP: this.deps.hostIP, ...(this.deps.envExtras?.(pod) ?? {}) });
    } catch (err) {
      if (!(err instanceof EnvError)) throw err;
      const message = `Error: ${err.message}`;
      this.deps.events.event(pod, 'Warning', 'Failed', message, fieldPath);
      waiting.set(c.name, { reason: 'CreateContainerConfigError', message: err.message, retryAt: this.deps.now() + 10_000 });
      return;
    }
    // runAsNonRoot, checked against runAsUser or the image's user before the container is made (upstream's
    // generateContainerConfig): a refusal waits in CreateContainerConfigError and is tried again later.
    const nonRootError = verifyRunAsNonRoot(pod, c, needsImageUser(pod, c) ? await runtime.imageUser(c.image) : undefined);
    if (nonRootError) {
      this.deps.events.event(pod, 'Warning', 'Failed', `Error: ${nonRootError}`, fieldPath);
      waiting.set(c.name, { reason: 'CreateContainerConfigError', message: nonRootError, retryAt: this.deps.now() + 10_000 });
      return;
    }
    if (s.previous?.finishedAt) {
      const ranFor = s.previous.startedAt ? s.previous.finishedAt.getTime() - s.previous.startedAt.getTime() : 0;
      crashBackoff.next(this.key(pod, c.name), this.deps.now(), ranFor);
    }
    let id: string;
    try {
      const terminationMessageFile = await prepareTerminationMessageFile(this.deps.rootDir, pod, c);
      id = await runtime.createContainer(pod, expandCommand(c, env), {
        sandboxId,
        attempt: s.attempt,
        init: s.init,
        mounts,
        specHash: containerSpecHash(c),
        env,
        ...(terminationMessageFile ? { terminationMessageFile } : {}),
        ...(ephemeral ? { ephemeral: true, ...(ephemeral.pidTargetId ? { pidTargetId: ephemeral.pidTargetId } : {}) } : {}),
      });
    } catch (err) {
      const message = `Error: ${errText(err)}`;
      this.deps.events.event(pod, 'Warning', 'Failed', message, fieldPath);
      waiting.set(c.name, { reason: 'CreateContainerError', message: errText(err), retryAt: this.deps.now() + 10_000 });
      return;
    }
    this.deps.events.event(pod, 'Normal', 'Created', `Created container ${c.name}`, fieldPath);
    try {
      await runtime.startContainer(id);
    } catch (err) {
      const message = `Error: failed to start container "${c.name}": ${errText(err)}`;
      this.deps.events.event(pod, 'Warning', 'Failed', message, fieldPath);
      waiting.set(c.name, { reason: 'RunContainerError', message, retryAt: this.deps.now() + 10_000 });
      return;
    }
    this.deps.events.event(pod, 'Normal', 'Started', `Started container ${c.name}`, fieldPath);
    // Ephemeral containers may not have lifecycle hooks (validation refuses them); a spec that slipped one past is
    // not honoured, as upstream's ephemeral containers run none.
    if (ephemeral) return;
    const postStart = c.lifecycle?.postStart;
    if (!postStart) return;
    // Synchronous, as upstream: the pod's next container and its next status wait for the hook.
    const outcome = await runLifecycleHandler(this.hooks, postStart, { pod, container: c, containerId: id, podIP }, new AbortController().signal);
    if (outcome.ok) return;
    this.deps.logger.warn({ pod: `${pod.metadata.namespace}/${pod.metadata.name}`, container: c.name, err: outcome.message }, 'PostStart hook failed');
    // Upstream keeps the handler's output out of the event, lest it leak secrets; the status's message carries it.
    this.deps.events.event(pod, 'Warning', 'FailedPostStartHook', 'PostStartHook failed', fieldPath);
    await this.killContainer(pod, { id, name: c.name, running: true, message: 'FailedPostStartHook' }, podIP);
    waiting.set(c.name, { reason: 'PostStartHookError', message: outcome.message });
  }

  private async killAll(pod: Pod, containers: RuntimeContainer[], podIP: string | undefined): Promise<void> {
    const { runtime } = this.deps;
    const active = containers.filter((c) => c.state === 'running' || c.state === 'created');
    const apps = active.filter((c) => c.name !== 'POD');
    await Promise.all(apps.map((c) => this.killContainer(pod, { id: c.id, name: c.name, running: c.state === 'running' }, podIP)));
    for (const s of active.filter((c) => c.name === 'POD')) await this.sandboxOps.run(() => runtime.stopContainer(s.id, 0));
  }

  /** Removes a container; a sandbox's removal disconnects it from the pod network, so it takes a sandbox slot. */
  private async removeOne(id: string, sandbox: boolean): Promise<void> {
    const { runtime } = this.deps;
    if (sandbox) await this.sandboxOps.run(() => runtime.removeContainer(id));
    else await runtime.removeContainer(id);
  }

  /**
   * Stops a pod that is no longer wanted and removes everything it left: containers (app ones with the grace
   * period, then the sandbox), back-off state and its data directory.
   */
  async terminate(pod: Pod | undefined, uid: string, graceSeconds?: number): Promise<void> {
    const { runtime } = this.deps;
    const containers = await runtime.listPodContainers(uid);
    const grace = graceSeconds ?? pod?.spec.terminationGracePeriodSeconds ?? 30;
    const apps = containers.filter((c) => c.name !== 'POD' && (c.state === 'running' || c.state === 'created'));
    const podIP = pod ? this.podIPOf(pod, containers) : undefined;
    await Promise.all(
      apps.map(async (c) => {
        // A pod whose spec is lost can run no hook: its containers just get the grace period.
        if (!pod) return runtime.stopContainer(c.id, grace);
        return this.killContainer(pod, { id: c.id, name: c.name, running: c.state === 'running', graceSeconds: grace }, podIP);
      }),
    );
    const sandboxes = containers.filter((x) => x.name === 'POD');
    for (const c of sandboxes) await this.sandboxOps.run(() => runtime.stopContainer(c.id, 0));
    // App containers go before their sandbox: they live in its network namespace, and Docker releases the sandbox's
    // network endpoint only once nothing else holds it.
    for (const c of containers) if (c.name !== 'POD') await runtime.removeContainer(c.id);
    for (const c of sandboxes) await this.removeOne(c.id, true);
    this.deps.crashBackoff.forgetPrefix(`${uid}/`);
    this.deps.pullBackoff.forgetPrefix(`${uid}/`);
    await removePodDir(this.deps.rootDir, uid);
  }
}
