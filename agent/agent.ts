import { networkInterfaces, release } from 'node:os';
import { join } from 'node:path';
import { podQOSClass, type Pod, type PodCondition, type PodStatus } from '../control/api/index.js';
import type { Logger } from '../lib/log.js';
import { FileSource, formatSourceError, HttpSubmissionSource, PodConfig, UrlSource, type DesiredPods, type PodSource, type SourceError, type SourceUpdate } from './config/index.js';
import { MemoryEventRecorder } from './events.js';
import { latestSandbox, type Waiting } from './kuberuntime/actions.js';
import { Backoff } from './kuberuntime/backoff.js';
import { PodSyncer, type PodSyncerDeps } from './kuberuntime/sync.js';
import { AgentMetrics } from './metrics.js';
import type { AgentConfig } from './options.js';
import { PodWorkers } from './pod-workers.js';
import { createProbeExecutor, ProbeManager, proberResultLabel, type ProbeExecutor } from './prober/index.js';
import type { ContainerRuntime, RuntimeContainer } from './runtime/runtime.js';
import { statusDiverged } from './status/diverged.js';
import { generatePodStatus } from './status/generate.js';
import { nodeSysctlAllowlist, type PodAdmitResult, type SysctlAllowlist } from './sysctl-allowlist.js';
import { AppArmorAdmitHandler, hostAppArmorEnabled } from './apparmor.js';
import { cleanupOrphanedPodDirs } from './kuberuntime/pod-dirs.js';
import { rfc3339 } from '../control/api/time.js';

export interface AgentDeps {
  runtime: ContainerRuntime;
  logger: Logger;
  nodeName: string;
  /** Runs before anything else and again whenever the runtime comes back (creates the pod network). */
  prepareRuntime?: () => Promise<void>;
  probeExecutor?: ProbeExecutor;
  now?: () => number;
  /**
   * How often the runtime is re-listed to notice changes made behind the agent's back (the kubelet's PLEG). With a
   * runtime that reports changes as they happen, the relist is only a safety net and runs every 10 s by default.
   */
  relistPeriodMs?: number;
  /**
   * How long stop() waits for pod workers already at work (default 5 s). A container stop in flight can take the whole
   * grace period; the kubelet does not wait for it on SIGTERM either, and the next start picks the work up again.
   */
  stopWaitMs?: number;
  /** Cluster mode: reports API pods' status and confirms their deletion to the API server. */
  cluster?: ClusterHooks;
  /** Extra pod sources (the API server in cluster mode), given the function they push their updates to. */
  extraSources?: (onUpdate: (u: SourceUpdate) => void) => PodSource[];
  /** Cluster mode: ConfigMap/Secret values and service variables for containers' environment. */
  envExtras?: PodSyncerDeps['envExtras'];
  /** Cluster mode: ConfigMap/Secret data for configMap and secret volumes. */
  volumeObjects?: PodSyncerDeps['volumeObjects'];
  /** The kernel release the safe sysctls are chosen for (default: this machine's, os.release()). */
  kernelRelease?: string;
  /** Cluster mode: the pods' imagePullSecrets, read through the API. */
  pullSecrets?: PodSyncerDeps['pullSecrets'];
  /** Whether the host enforces AppArmor (default: read from the kernel once, at start, as the kubelet does). */
  appArmorEnabled?: boolean;
}

/** What the agent tells the API server about the pods it took from it. */
export interface ClusterHooks {
  /** The pod's status changed: write it to the status subresource. False when there was nowhere to write it yet. */
  reportStatus(pod: Pod, status: PodStatus): Promise<boolean>;
  /** A pod being deleted has stopped: remove it from the API for good (grace period 0, uid precondition). */
  confirmDeletion(pod: Pod): Promise<void>;
  /**
   * The pod's status in the API server as the agent's watch shows it, once the watch has seen the agent's own last
   * write; undefined when unknown (not an API pod, or the watch lags behind).
   */
  statusInApi?(pod: Pod): PodStatus | undefined;
  /**
   * The pod's conditions as the watch has them now, however recent the agent's own last write: where the conditions
   * of other clients (readiness gates') are read from. Undefined when the pod is not in the API.
   */
  conditionsInApi?(pod: Pod): PodCondition[] | undefined;
  /** Before a pod is synced: fetch what it references (ConfigMaps, Secrets) and refresh its mounted copies. */
  preparePod?(pod: Pod): Promise<void>;
  /** The pod is gone from the node: stop watching what it referenced. */
  podGone?(uid: string): void;
}

/** A pod as the agent reports it: the desired spec with the status the agent last computed. */
export type PodWithStatus = Pod & { status?: PodStatus };

/** The node's first non-internal IPv4 address, reported as the pods' hostIP when --node-ip is not given. */
export function defaultNodeIP(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/**
 * The node agent: merges pod sources into one desired set, keeps one worker per pod reconciling it against the
 * runtime (level-triggered: every sync starts from what the runtime reports now), and reports status.
 */
export class Agent {
  readonly metrics = new AgentMetrics();
  readonly events: MemoryEventRecorder;
  readonly podConfig = new PodConfig();
  readonly probes: ProbeManager;
  readonly http: HttpSubmissionSource;
  readonly hostIP: string;
  private readonly syncer: PodSyncer;
  private readonly workers: PodWorkers;
  private readonly sources: PodSource[] = [];
  private desired = new Map<string, Pod>();
  /** The last spec of every pod that may still have containers, so a removed pod is stopped with its own grace. */
  private readonly lastKnown = new Map<string, Pod>();
  private readonly statuses = new Map<string, PodStatus>();
  private readonly firstSeen = new Map<string, number>();
  private readonly fingerprints = new Map<string, string>();
  /** The status last written to the API server per pod, so unchanged statuses are not written again. */
  private readonly reported = new Map<string, string>();
  /** The status write in progress per pod, so that writes of one pod go one at a time. */
  private readonly reporting = new Map<string, Promise<boolean>>();
  /** What each pod's last sync saw of the runtime, for a status recomputed between syncs (a probe's new verdict). */
  private readonly lastSync = new Map<string, { runtime: RuntimeContainer[]; waiting: Map<string, Waiting> }>();
  /** The kubelet's sysctl admission: the safe sysctls and --allowed-unsafe-sysctls. */
  private readonly sysctls: SysctlAllowlist;
  /** The kubelet's AppArmor admission: a pod asking for a confining profile needs AppArmor on the host. */
  private readonly appArmor: AppArmorAdmitHandler;
  /** Each pod's admission verdict, decided once when the pod is first synced (upstream admits a pod on arrival). */
  private readonly admissions = new Map<string, PodAdmitResult>();
  private sourceErrors: SourceError[] = [];
  private relistTimer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private runtimeHealthy = true;
  private stopRuntimeEvents: (() => void) | undefined;
  private stopped = false;
  private readonly now: () => number;

  constructor(
    readonly config: AgentConfig,
    private readonly deps: AgentDeps,
  ) {
    this.now = deps.now ?? Date.now;
    const logger = deps.logger;
    this.hostIP = config.nodeIP ?? defaultNodeIP();
    this.sysctls = nodeSysctlAllowlist(config.allowedUnsafeSysctls, deps.kernelRelease ?? release());
    this.appArmor = new AppArmorAdmitHandler(deps.appArmorEnabled ?? hostAppArmorEnabled());
    this.events = new MemoryEventRecorder(deps.nodeName, logger.child({ component: 'events' }));
    this.events.onEvent((e) => this.metrics.events.inc({ type: e.type, reason: e.reason }));
    // One executor for probes and lifecycle hooks: the same exec and HTTP client serve both, as upstream's prober
    // and handler runner share the runtime's command runner.
    const executor = deps.probeExecutor ?? createProbeExecutor(deps.runtime);
    this.probes = new ProbeManager({
      executor,
      logger: logger.child({ component: 'prober' }),
      onProbe: (kind, result, labels, output) => {
        const pod = this.desired.get(labels.podUid);
        const kindName = `${kind[0]?.toUpperCase()}${kind.slice(1)}`;
        this.metrics.probes.inc({
          probe_type: kindName,
          result: proberResultLabel(result),
          container: labels.containerName,
          pod: pod?.metadata.name ?? '',
          namespace: pod?.metadata.namespace ?? '',
          pod_uid: labels.podUid,
        });
        // Only a probe that ran and failed is news to the user; a stopped container is not "unhealthy". The message is
        // upstream's "<Kind> probe failed: <output>".
        if (pod && result === 'failure') this.events.event(pod, 'Warning', 'Unhealthy', `${kindName} probe failed: ${output ?? ''}`, `spec.containers{${labels.containerName}}`);
      },
    });
    this.probes.onChange((podUid) => {
      // The new verdict shows in the status at once (the kubelet's prober tells its status manager directly): in a
      // burst, the pod's next sync may wait behind many pods being created. The sync still follows (liveness acts).
      this.refreshStatus(podUid);
      this.workers.enqueue(podUid);
    });
    const cb = config.crashLoopBackOff;
    this.syncer = new PodSyncer({
      runtime: deps.runtime,
      rootDir: config.rootDir,
      pauseImage: config.podInfraContainerImage,
      crashBackoff: new Backoff({ initialMs: cb.initialContainerRestartPeriod, maxMs: cb.maxContainerRestartPeriod, resetAfterMs: cb.resetPeriod }),
      pullBackoff: new Backoff({ initialMs: cb.initialContainerRestartPeriod, maxMs: cb.maxContainerRestartPeriod, resetAfterMs: cb.resetPeriod }),
      probes: { result: (uid, name, kind, containerId) => this.probes.result(uid, name, kind, containerId) },
      events: this.events,
      logger: logger.child({ component: 'sync' }),
      now: this.now,
      hostIP: this.hostIP,
      dns: { clusterDNS: config.clusterDNS, clusterDomain: config.clusterDomain, resolvConf: config.resolvConf },
      hookExecutor: executor,
      ...(deps.envExtras ? { envExtras: deps.envExtras } : {}),
      ...(deps.volumeObjects ? { volumeObjects: deps.volumeObjects } : {}),
      ...(deps.pullSecrets ? { pullSecrets: deps.pullSecrets } : {}),
    });
    this.workers = new PodWorkers(
      (uid) => this.syncUid(uid),
      (uid, err) => {
        this.metrics.syncErrors.inc();
        logger.warn({ pod: this.describe(uid), err: err instanceof Error ? err.message : String(err) }, 'pod sync failed; will retry');
      },
    );
    this.http = new HttpSubmissionSource({
      stateDir: join(config.rootDir, 'http-pods'),
      nodeName: deps.nodeName,
      logger: logger.child({ source: 'http' }),
      onUpdate: (u) => this.podConfig.update(u),
    });
    this.podConfig.onChange((d) => this.onDesired(d));
  }

  private describe(uid: string): string {
    const p = this.lastKnown.get(uid);
    return p ? `${p.metadata.namespace}/${p.metadata.name}` : uid;
  }

  async start(): Promise<void> {
    const { config, deps } = this;
    const logger = deps.logger;
    try {
      await deps.prepareRuntime?.();
    } catch (err) {
      // Docker may come later (systemd ordering, a restart): the relist loop retries.
      this.runtimeHealthy = false;
      logger.error({ err: err instanceof Error ? err.message : String(err) }, 'container runtime not ready; retrying');
    }
    if (config.staticPodPath) {
      this.sources.push(
        new FileSource({
          path: config.staticPodPath,
          nodeName: deps.nodeName,
          logger: logger.child({ source: 'file' }),
          onUpdate: (u) => this.podConfig.update(u),
          fileCheckFrequencyMs: config.fileCheckFrequency,
        }),
      );
    }
    if (config.staticPodURL) {
      this.sources.push(
        new UrlSource({
          url: config.staticPodURL,
          headers: config.staticPodURLHeader,
          nodeName: deps.nodeName,
          logger: logger.child({ source: 'url' }),
          onUpdate: (u) => this.podConfig.update(u),
          httpCheckFrequencyMs: config.httpCheckFrequency,
        }),
      );
    }
    this.sources.push(this.http);
    for (const extra of deps.extraSources?.((u) => this.podConfig.update(u)) ?? []) this.sources.push(extra);
    for (const s of this.sources) await s.start();
    const events = deps.runtime.watchChanges?.(
      (uid) => this.workers.enqueue(uid),
      () => void this.relist(),
    );
    if (events) this.stopRuntimeEvents = events;
    const relistMs = deps.relistPeriodMs ?? (events ? 10_000 : 1000);
    const relist = async (): Promise<void> => {
      await this.relist();
      if (!this.stopped) this.relistTimer = setTimeout(() => void relist(), relistMs);
    };
    await relist();
    this.resyncTimer = setInterval(() => {
      for (const uid of this.desired.keys()) this.workers.enqueue(uid);
    }, config.syncFrequency);
    logger.info({ node: deps.nodeName, pods: this.desired.size, hostIP: this.hostIP }, 'agent started');
  }

  /** Stops the agent's own work; pods keep running, to be adopted by the next agent. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopRuntimeEvents?.();
    clearTimeout(this.relistTimer);
    clearInterval(this.resyncTimer);
    for (const s of this.sources) await s.stop();
    this.workers.stop();
    this.probes.stop();
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([
      this.workers.idle().then(() => true),
      new Promise<false>((r) => (timer = setTimeout(() => r(false), this.deps.stopWaitMs ?? 5000))),
    ]);
    clearTimeout(timer);
    if (!waited) this.deps.logger.info('stopping with pod work still in flight (a container stop within its grace period); the next start takes it up again');
  }

  /** True once every source has answered, so pods missing from the desired set are truly unwanted. */
  private sourcesReady(): boolean {
    return this.sources.every((s) => s.hasSynced());
  }

  private onDesired(d: DesiredPods): void {
    const previous = this.desired;
    this.desired = d.pods;
    // Sources log their own errors; conflicts between sources only show up here, so report what is new.
    const known = new Set(this.sourceErrors.map(formatSourceError));
    for (const e of d.errors) {
      const text = formatSourceError(e);
      if (e.conflict && !known.has(text)) this.deps.logger.warn({ origin: e.origin }, text);
    }
    this.sourceErrors = d.errors;
    this.metrics.sourceErrors.set(d.errors.length);
    this.metrics.desiredPods.set({ static: 'true' }, d.pods.size);
    for (const [uid, pod] of d.pods) {
      this.lastKnown.set(uid, pod);
      if (!this.firstSeen.has(uid)) this.firstSeen.set(uid, this.now());
    }
    // Only the pods that came, went or changed: a burst of pods arriving one by one must not sync every pod again on
    // each arrival (the level-triggered resync still visits them all every syncFrequency).
    for (const uid of new Set([...previous.keys(), ...d.pods.keys()])) {
      const before = previous.get(uid);
      const after = d.pods.get(uid);
      if (before !== undefined && after !== undefined && (before === after || JSON.stringify(before) === JSON.stringify(after))) continue;
      this.workers.enqueue(uid);
    }
  }

  /** The PLEG: notices containers that changed, died or vanished, and pods the agent does not want. */
  private async relist(): Promise<void> {
    let all: RuntimeContainer[];
    try {
      all = await this.deps.runtime.listPodContainers();
    } catch (err) {
      if (this.runtimeHealthy) this.deps.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'cannot list containers; retrying');
      this.runtimeHealthy = false;
      return;
    }
    if (!this.runtimeHealthy) {
      this.deps.logger.info('container runtime is back');
      try {
        await this.deps.prepareRuntime?.();
        this.runtimeHealthy = true;
      } catch (err) {
        this.deps.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'container runtime not ready; retrying');
        return;
      }
      for (const uid of this.desired.keys()) this.workers.enqueue(uid);
    }
    const byPod = new Map<string, RuntimeContainer[]>();
    for (const c of all) {
      const list = byPod.get(c.podUid) ?? [];
      list.push(c);
      byPod.set(c.podUid, list);
    }
    let runningPods = 0;
    const states = new Map<string, number>();
    for (const c of all) if (c.name !== 'POD') states.set(c.state, (states.get(c.state) ?? 0) + 1);
    this.metrics.runningContainers.reset();
    for (const [state, n] of states) this.metrics.runningContainers.set({ container_state: state }, n);
    const seen = new Set<string>();
    for (const [uid, containers] of byPod) {
      seen.add(uid);
      if (latestSandbox(containers)?.state === 'running') runningPods++;
      const fp = containers
        .map((c) => `${c.id}:${c.state}`)
        .sort()
        .join(',');
      if (this.fingerprints.get(uid) !== fp) {
        this.fingerprints.set(uid, fp);
        this.workers.enqueue(uid);
      } else if (!this.desired.has(uid)) {
        this.workers.enqueue(uid);
      }
    }
    for (const uid of this.fingerprints.keys()) {
      if (!seen.has(uid)) {
        this.fingerprints.delete(uid);
        // Everything of this pod vanished (docker rm -f): sync it back.
        this.workers.enqueue(uid);
      }
    }
    this.metrics.runningPods.set(runningPods);
    // Until every source has spoken, a directory may belong to a pod the agent is about to be told about.
    if (this.sourcesReady() && !this.stopped) {
      await cleanupOrphanedPodDirs(this.config.rootDir, (uid) => this.desired.has(uid) || this.lastKnown.has(uid), seen, this.deps.logger);
    }
  }

  private async syncUid(uid: string): Promise<{ nextSyncAt?: number } | void> {
    if (this.stopped) return;
    const pod = this.desired.get(uid);
    if (!pod) {
      if (!this.sourcesReady()) return;
      const end = this.metrics.podWorkerDuration.startTimer({ operation: 'kill' });
      await this.syncer.terminate(this.lastKnown.get(uid), uid);
      end();
      this.probes.removePod(uid);
      this.statuses.delete(uid);
      this.reported.delete(uid);
      this.lastSync.delete(uid);
      this.lastKnown.delete(uid);
      this.firstSeen.delete(uid);
      this.admissions.delete(uid);
      this.workers.forget(uid);
      this.deps.cluster?.podGone?.(uid);
      return;
    }
    if (pod.metadata.deletionTimestamp && this.deps.cluster) {
      // Graceful deletion: stop within the grace period the API server recorded, then confirm the deletion.
      const end = this.metrics.podWorkerDuration.startTimer({ operation: 'kill' });
      await this.syncer.terminate(pod, uid, pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds);
      end();
      this.probes.removePod(uid);
      await this.deps.cluster.confirmDeletion(pod);
      this.deps.cluster.podGone?.(uid);
      return;
    }
    const admission = await this.admit(uid, pod);
    if (!admission.admit) {
      this.statuses.set(uid, this.rejectedStatus(uid, pod, admission.reason, admission.message));
      if (this.deps.cluster && !(await this.report(uid, pod))) return { nextSyncAt: this.now() + 2000 };
      return {};
    }
    const end = this.metrics.podWorkerDuration.startTimer({ operation: this.statuses.has(uid) ? 'update' : 'create' });
    await this.deps.cluster?.preparePod?.(pod);
    // activeDeadlineSeconds counts from the status's startTime: the agent's own, else one the pod came with (none:
    // computePodActions falls back to its earliest container, as the status does).
    const startTime = this.statuses.get(uid)?.startTime ?? (pod as PodWithStatus).status?.startTime;
    const out = await this.syncer.sync(pod, startTime ? Date.parse(startTime) : undefined);
    end();
    this.lastSync.set(uid, { runtime: out.runtime, waiting: out.waiting });
    this.updateStatus(pod, out.runtime, out.waiting);
    let next = out.nextSyncAt;
    // Nowhere to report yet (a mirror pod on its way): try again shortly.
    if (this.deps.cluster && !(await this.report(uid, pod))) next = Math.min(next ?? Number.POSITIVE_INFINITY, this.now() + 2000);
    return next !== undefined ? { nextSyncAt: next } : {};
  }

  /**
   * The kubelet's admission of a pod it has not run yet (canAdmitPod: here the sysctl allowlist, then AppArmor, in
   * upstream's order of admit handlers; the first that refuses decides). A rejected pod gets
   * a Warning event and nothing of it runs: whatever of it a previous agent started is stopped, once.
   */
  private async admit(uid: string, pod: Pod): Promise<PodAdmitResult> {
    const known = this.admissions.get(uid);
    if (known) return known;
    const sysctls = this.sysctls.admit(pod);
    const result = sysctls.admit ? this.appArmor.admit(pod as PodWithStatus) : sysctls;
    this.admissions.set(uid, result);
    if (!result.admit) {
      this.events.event(pod, 'Warning', result.reason, result.message);
      this.deps.logger.warn({ pod: `${pod.metadata.namespace}/${pod.metadata.name}`, reason: result.reason }, result.message);
      await this.syncer.terminate(pod, uid);
    }
    return result;
  }

  /** Upstream's rejectPod status: Failed with the admission's reason and message, the QoS class and a start time. */
  private rejectedStatus(uid: string, pod: Pod, reason: string, message: string): PodStatus {
    const startTime =
      this.statuses.get(uid)?.startTime ?? (pod as PodWithStatus).status?.startTime ?? rfc3339(this.now());
    return { phase: 'Failed', reason, message: `Pod was rejected: ${message}`, qosClass: podQOSClass(pod.spec), startTime };
  }

  /** Recomputes a pod's status from its last sync's view of the runtime and the probes' verdicts now, and reports it. */
  private refreshStatus(uid: string): void {
    const pod = this.desired.get(uid);
    const last = this.lastSync.get(uid);
    if (!pod || !last || pod.metadata.deletionTimestamp || this.stopped) return;
    this.updateStatus(pod, last.runtime, last.waiting);
    // A failed write is retried by the sync that follows every probe change.
    if (this.deps.cluster) this.report(uid, pod).catch(() => undefined);
  }

  /**
   * Writes the pod's latest status to the API server unless it was the last one written. One write at a time per
   * pod, each sending the newest status when its turn comes, so that a sync and a probe change never write out of order.
   * False when there was nowhere to write it yet.
   */
  private report(uid: string, pod: Pod): Promise<boolean> {
    const cluster = this.deps.cluster;
    if (!cluster) return Promise.resolve(true);
    const previous = this.reporting.get(uid) ?? Promise.resolve(true);
    const mine = previous
      .catch(() => true)
      .then(async () => {
        const status = this.statuses.get(uid);
        if (!status || !this.desired.has(uid)) return true;
        const text = JSON.stringify(status);
        if (this.reported.get(uid) === text) {
          // Written before, but changed in the API since by someone else (the node lifecycle controller marks pods
          // not ready when the node goes NotReady): write it again, or it stays wrong until the agent's own view changes.
          const inApi = cluster.statusInApi?.(pod);
          if (inApi === undefined || !statusDiverged(status, inApi)) return true;
        }
        if (!(await cluster.reportStatus(pod, status))) return false;
        if (this.desired.has(uid)) this.reported.set(uid, text);
        return true;
      });
    this.reporting.set(uid, mine);
    const forget = (): void => {
      if (this.reporting.get(uid) === mine) this.reporting.delete(uid);
    };
    mine.then(forget, forget);
    return mine;
  }

  private updateStatus(pod: Pod, runtime: RuntimeContainer[], waiting: Map<string, Waiting>): PodStatus {
    const uid = pod.metadata.uid ?? '';
    const byName = new Map(pod.spec.containers.map((c) => [c.name, c]));
    const current = new Map<string, RuntimeContainer>();
    for (const c of runtime) {
      if (c.name === 'POD' || c.init) continue;
      const prev = current.get(c.name);
      if (!prev || prev.attempt < c.attempt) current.set(c.name, c);
    }
    const sandbox = latestSandbox(runtime);
    const podIP = sandbox?.state === 'running' ? (sandbox.hostNetwork ? this.hostIP : sandbox.ip) : undefined;
    // Probe workers first: a new container's readiness must read as its initial "not ready", not as "no probe".
    this.probes.syncPod(
      uid,
      podIP,
      pod.spec.containers.map((c) => {
        const rc = current.get(c.name);
        return {
          name: c.name,
          ...(rc ? { containerId: rc.id } : {}),
          running: rc?.state === 'running',
          ...(rc?.startedAt ? { startedAt: rc.startedAt.getTime() } : {}),
          spec: c,
        };
      }),
    );
    const previous = this.statuses.get(uid);
    const status = generatePodStatus({
      pod,
      runtime,
      waiting,
      hostIP: this.hostIP,
      now: new Date(this.now()),
      previous,
      ...(this.deps.cluster?.conditionsInApi ? { apiConditions: this.deps.cluster.conditionsInApi(pod) } : {}),
      ready: (name, id) => !byName.get(name)?.readinessProbe || this.probes.result(uid, name, 'readiness', id) === 'success',
      started: (name, id) => !byName.get(name)?.startupProbe || this.probes.result(uid, name, 'startup', id) === 'success',
    });
    this.statuses.set(uid, status);
    if (status.phase === 'Running' && previous?.phase !== 'Running') {
      const seenAt = this.firstSeen.get(uid);
      if (seenAt !== undefined && !previous) this.metrics.podStartDuration.observe((this.now() - seenAt) / 1000);
    }
    return status;
  }

  /** False from a failed relist of the runtime until one succeeds again (the node is NotReady meanwhile). */
  runtimeReady(): boolean {
    return this.runtimeHealthy;
  }

  /**
   * The pods in the API changed (someone may have set a readiness gate's condition through pods/status): pods with
   * readiness gates get their status, and so their Ready condition, computed again. Unchanged statuses are not written.
   */
  refreshGatedPods(): void {
    for (const [uid, pod] of this.desired) if ((pod.spec.readinessGates ?? []).length > 0) this.refreshStatus(uid);
  }

  /** Syncs a pod again and reports its status even if unchanged (its mirror pod was just created). */
  resyncPod(uid: string): void {
    this.reported.delete(uid);
    this.workers.enqueue(uid);
  }

  /** Every pod the agent runs, with its latest status, sorted by namespace and name. */
  pods(): PodWithStatus[] {
    const out: PodWithStatus[] = [];
    for (const [uid, pod] of this.desired) {
      const status = this.statuses.get(uid);
      out.push(status ? { ...pod, status } : { ...pod, status: { phase: 'Pending' } as PodStatus });
    }
    return out.sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
  }

  /** Syncs the pod again soon (something it uses changed). */
  enqueuePod(uid: string): void {
    if (this.desired.has(uid)) this.workers.enqueue(uid);
  }

  findPod(namespace: string, name: string): PodWithStatus | undefined {
    return this.pods().find((p) => p.metadata.namespace === namespace && p.metadata.name === name);
  }

  errors(): SourceError[] {
    return this.sourceErrors;
  }

  get runtime(): ContainerRuntime {
    return this.deps.runtime;
  }
}
