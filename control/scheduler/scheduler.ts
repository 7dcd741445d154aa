/**
 * The scheduler daemon: informers fill the snapshot (nodes, assigned pods, budgets, priority classes, namespaces)
 * and the queue (pending pods naming this scheduler); one loop takes the most important pending pod, decides with
 * schedulePod, assumes it onto the chosen node and binds it through pods/binding while the next pod is decided.
 * A pod that fits nowhere may preempt lower-priority pods; otherwise it gets a FailedScheduling event and a
 * PodScheduled=False condition saying why, and waits for the cluster to change.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { jsonEqual } from '../api/core/common.js';
import { ApiStatusError, Informer, RateLimiterClosedError, type KubeClient, type KubeObject, type QueueClock, type RateLimit } from '../client/index.js';
import { filteredInformer } from '../client/shared-informer.js';
import type { Logger } from '../../lib/log.js';
import { EventSeriesRecorder } from '../client/event-series.js';
import { failedScheduling, preempted, scheduled } from './events.js';
import { preempt } from './preemption.js';
import { SchedulingQueue, type QueuedPod } from './queue.js';
import { fitErrorMessage, schedulePod, type ScheduleConfig } from './schedule.js';
import { makePodInfo, resolvePriority, Snapshot } from './snapshot.js';
import { podKey, type PdbLike, type PriorityClassLike, type SchedNode, type SchedPod } from './types.js';
import { nextTurn } from '../../lib/event-loop.js';
import { rfc3339 } from '../api/time.js';

export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';
/** How long a bound pod may stay unconfirmed by the assigned-pods informer before the assumption is dropped. */
const ASSUMED_POD_TTL_MS = 30_000;

const PODS = { group: '', version: 'v1', resource: 'pods' };
const NODES = { group: '', version: 'v1', resource: 'nodes' };
const NAMESPACES = { group: '', version: 'v1', resource: 'namespaces' };
const PDBS = { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' };
const PRIORITY_CLASSES = { group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses' };

export interface SchedulerOptions {
  client: KubeClient;
  /**
   * kube-scheduler's clientConnection qps and burst: its writes (status, bindings, preemptions), and apart from them
   * its Events (upstream's eventClient), are held to this rate on clients of their own made from `client`; its
   * informers' lists and watches stay on `client`, so a relist never waits behind a backlog of writes. Absent,
   * all go on `client`.
   */
  rateLimit?: RateLimit;
  logger: Logger;
  /** The Prometheus registry the scheduler's metrics join. */
  registry: Registry;
  /** Pods whose spec.schedulerName is this are ours (default-scheduler). */
  schedulerName?: string;
  clock?: QueueClock;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Bindings in flight at once while the loop goes on deciding (default 32). */
  maxInFlightBindings?: number;
  random?: () => number;
  /**
   * Every pod, from an informer this process shares with other components (a view of an InformerShare, started
   * and stopped with the scheduler): the pending and assigned pods are then selected from it here rather than by
   * watches of their own, so the process keeps one copy of each pod. Without it, two field-selected watches.
   */
  podInformer?: Informer<KubeObject>;
}

export interface SchedulerHandle {
  /** Resolves once every informer has listed. */
  synced: Promise<void>;
  snapshot: Snapshot;
  queue: SchedulingQueue;
  stop(): Promise<void>;
}

interface Metrics {
  attempts: Counter<'result' | 'profile'>;
  duration: Histogram<'result' | 'profile'>;
  pending: Gauge<'queue'>;
}

function metrics(registry: Registry): Metrics {
  const existing = (name: string) => registry.getSingleMetric(name);
  return {
    attempts: (existing('scheduler_schedule_attempts_total') as Counter<'result' | 'profile'> | undefined) ??
      new Counter({ name: 'scheduler_schedule_attempts_total', help: 'Number of attempts to schedule pods, by the result. "unschedulable" means a pod could not be scheduled, while "error" means an internal scheduler problem.', labelNames: ['result', 'profile'], registers: [registry] }),
    duration: (existing('scheduler_scheduling_attempt_duration_seconds') as Histogram<'result' | 'profile'> | undefined) ??
      new Histogram({
        name: 'scheduler_scheduling_attempt_duration_seconds',
        help: 'Scheduling attempt latency in seconds (scheduling algorithm + binding)',
        labelNames: ['result', 'profile'],
        buckets: [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192, 16.384],
        registers: [registry],
      }),
    pending: (existing('scheduler_pending_pods') as Gauge<'queue'> | undefined) ??
      new Gauge({ name: 'scheduler_pending_pods', help: "Number of pending pods, by the queue type. 'active' means number of pods in activeQ; 'backoff' means number of pods in backoffQ; 'unschedulable' means number of pods in unschedulablePods.", labelNames: ['queue'], registers: [registry] }),
  };
}

const isTerminal = (p: SchedPod): boolean => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

/** Upstream's isPodUpdated: anything but status and resourceVersion changed. */
function specChanged(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject): Record<string, unknown> => {
    const { resourceVersion: _rv, managedFields: _mf, generation: _g, ...meta } = o.metadata;
    return meta;
  };
  // Compared as data, as upstream's reflect.DeepEqual, without serializing both pods on every update.
  return !jsonEqual(a.spec, b.spec) || !jsonEqual(strip(a), strip(b));
}

/** The fields of a node whose change can make a pending pod fit. */
const nodeSchedulingView = (n: SchedNode): string =>
  JSON.stringify([n.metadata.labels ?? {}, n.spec?.unschedulable ?? false, n.spec?.taints ?? [], n.status?.allocatable ?? n.status?.capacity ?? {}, (n.status?.conditions ?? []).find((c) => c.type === 'Ready')?.status]);

export function startScheduler(opts: SchedulerOptions): SchedulerHandle {
  const { registry } = opts;
  const client = opts.rateLimit ? opts.client.limited(opts.rateLimit) : opts.client;
  const eventClient = opts.rateLimit ? opts.client.limited(opts.rateLimit) : opts.client;
  const name = opts.schedulerName ?? DEFAULT_SCHEDULER_NAME;
  const logger = opts.logger.child({ component: 'scheduler', scheduler: name });
  const m = metrics(registry);
  const snapshot = new Snapshot();
  const recorder = new EventSeriesRecorder({ client: eventClient, reportingController: name, logger });
  recorder.start();
  const config: ScheduleConfig = opts.random ? { random: opts.random } : {};
  const queue = new SchedulingQueue({
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.initialBackoffMs !== undefined ? { initialBackoffMs: opts.initialBackoffMs } : {}),
    ...(opts.maxBackoffMs !== undefined ? { maxBackoffMs: opts.maxBackoffMs } : {}),
    priorityOf: (p) => resolvePriority(p, snapshot.priority),
    onChange: (c) => {
      m.pending.set({ queue: 'active' }, c.active);
      m.pending.set({ queue: 'backoff' }, c.backoff);
      m.pending.set({ queue: 'unschedulable' }, c.unschedulable);
    },
  });
  const responsible = (p: SchedPod): boolean =>
    (p.spec?.schedulerName || DEFAULT_SCHEDULER_NAME) === name && !p.spec?.nodeName && !p.metadata.deletionTimestamp && !isTerminal(p) && (p.spec?.schedulingGates ?? []).length === 0;

  const onError = (what: string) => (err: Error) => logger.warn({ err: err.message }, `${what} informer: relisting`);
  const asPod = (o: KubeObject): SchedPod => o as unknown as SchedPod;
  const pending = opts.podInformer
    ? filteredInformer(opts.podInformer, (o) => !asPod(o).spec?.nodeName && !isTerminal(asPod(o)))
    : new Informer<KubeObject>(opts.client, PODS, { fieldSelector: 'spec.nodeName=,status.phase!=Succeeded,status.phase!=Failed', onError: onError('pending pods') });
  const assigned = opts.podInformer
    ? filteredInformer(opts.podInformer, (o) => !!asPod(o).spec?.nodeName && !isTerminal(asPod(o)))
    : new Informer<KubeObject>(opts.client, PODS, { fieldSelector: 'spec.nodeName!=,status.phase!=Succeeded,status.phase!=Failed', onError: onError('assigned pods') });
  const nodes = new Informer<KubeObject>(opts.client, NODES, { onError: onError('nodes') });
  const pdbs = new Informer<KubeObject>(opts.client, PDBS, { onError: onError('poddisruptionbudgets') });
  const classes = new Informer<KubeObject>(opts.client, PRIORITY_CLASSES, { onError: onError('priorityclasses') });
  const namespaces = new Informer<KubeObject>(opts.client, NAMESPACES, { onError: onError('namespaces') });

  pending.addHandlers({
    onAdd: (o) => {
      const p = asPod(o);
      if (responsible(p)) queue.add(p);
    },
    onUpdate: (old, o) => {
      const p = asPod(o);
      // Our own status writes (the PodScheduled condition) change nothing that could make the pod fit.
      if (responsible(p)) queue.update(p, specChanged(old, o));
      else queue.delete(p);
    },
    onDelete: (o) => {
      const p = asPod(o);
      queue.delete(p);
      snapshot.clearNomination(podKey(p));
    },
  });
  const withAffinity = (p: SchedPod): boolean => {
    const a = (p.spec?.affinity ?? {}) as Record<string, unknown>;
    return !!a.podAffinity || (p.spec?.topologySpreadConstraints ?? []).length > 0;
  };
  assigned.addHandlers({
    onAdd: (o) => {
      snapshot.setPod(asPod(o));
      // A new pod on a node can satisfy another's pod affinity or spreading (upstream's AssignedPodAdd).
      queue.moveAllToActiveOrBackoff(withAffinity);
    },
    onUpdate: (old, o) => {
      snapshot.setPod(asPod(o));
      if (!jsonEqual(old.metadata.labels ?? {}, o.metadata.labels ?? {}) || (!old.metadata.deletionTimestamp && o.metadata.deletionTimestamp)) queue.moveAllToActiveOrBackoff();
    },
    onDelete: (o) => {
      snapshot.removePod(podKey(asPod(o)));
      queue.moveAllToActiveOrBackoff();
    },
  });
  nodes.addHandlers({
    onAdd: (o) => {
      snapshot.setNode(o as unknown as SchedNode);
      queue.moveAllToActiveOrBackoff();
    },
    onUpdate: (old, o) => {
      snapshot.setNode(o as unknown as SchedNode);
      if (nodeSchedulingView(old as unknown as SchedNode) !== nodeSchedulingView(o as unknown as SchedNode)) queue.moveAllToActiveOrBackoff();
    },
    onDelete: (o) => snapshot.removeNode(o.metadata.name ?? ''),
  });
  pdbs.addHandlers({
    onAdd: (o) => snapshot.setPdb(o as unknown as PdbLike),
    onUpdate: (_old, o) => snapshot.setPdb(o as unknown as PdbLike),
    onDelete: (o) => snapshot.removePdb(o as unknown as PdbLike),
  });
  classes.addHandlers({
    onAdd: (o) => snapshot.setPriorityClass(o as unknown as PriorityClassLike),
    onUpdate: (_old, o) => snapshot.setPriorityClass(o as unknown as PriorityClassLike),
    onDelete: (o) => snapshot.removePriorityClass(o as unknown as PriorityClassLike),
  });
  namespaces.addHandlers({
    onAdd: (o) => snapshot.setNamespace(o),
    onUpdate: (_old, o) => snapshot.setNamespace(o),
    onDelete: (o) => snapshot.removeNamespace(o.metadata.name ?? ''),
  });

  const informers = [classes, namespaces, pdbs, nodes, assigned, pending];
  for (const inf of informers) inf.start();
  // Pending pods are queued only once the rest is known, so the first decisions see the whole cluster.
  const synced = Promise.all(informers.map((i) => i.waitForSync())).then(() => undefined);

  let stopped = false;
  const inFlight = new Set<Promise<void>>();
  const maxInFlight = opts.maxInFlightBindings ?? 32;
  const statusWrites = new Map<string, Promise<void>>();
  const expiries = new Set<NodeJS.Timeout>();

  /** Serializes the status writes of one pod, dropping the work when the scheduler stops. */
  const forPod = (key: string, work: () => Promise<void>): void => {
    const prev = statusWrites.get(key) ?? Promise.resolve();
    const next = prev.then(work).catch((err: unknown) => {
      if (!(err instanceof RateLimiterClosedError)) logger.warn({ err: err instanceof Error ? err.message : String(err), pod: key }, 'updating pod status failed');
    });
    statusWrites.set(key, next);
    void next.then(() => {
      if (statusWrites.get(key) === next) statusWrites.delete(key);
    });
  };

  /** PUT the pod's status after `change`, from the informer's copy, re-reading once on a conflict. */
  async function updateStatus(pod: SchedPod, change: (p: SchedPod) => SchedPod | undefined): Promise<void> {
    let current: SchedPod = (pending.get(podKey(pod)) as unknown as SchedPod | undefined) ?? pod;
    for (let attempt = 0; attempt < 3; attempt++) {
      if (current.spec?.nodeName) return;
      const next = change(current);
      if (!next) return;
      try {
        await client.update(PODS, next as unknown as KubeObject, 'status');
        return;
      } catch (err) {
        if (err instanceof ApiStatusError && err.code === 404) return;
        if (!(err instanceof ApiStatusError) || err.code !== 409 || attempt === 2) throw err;
        current = (await client.get(PODS, pod.metadata.namespace, pod.metadata.name ?? '')) as unknown as SchedPod;
      }
    }
  }

  /**
   * The failures' status writes, one at a time, as upstream's scheduling cycle patches a failed pod's status before
   * it goes on: under the client's rate limit a burst of failures becomes a queue here, each pod looked at when its
   * turn comes, rather than thousands of requests that all took a turn at once (for pods that may be gone by then).
   */
  let failures: Promise<void> = Promise.resolve();
  const oneFailureAtATime = (work: () => Promise<void>) => async (): Promise<void> => {
    const turn = failures.then(work);
    failures = turn.catch(() => undefined);
    await turn;
  };

  function markUnschedulable(pod: SchedPod, message: string): void {
    forPod(podKey(pod), oneFailureAtATime(async () => {
      // A pod deleted or bound while it waited needs neither the event nor the condition.
      if (!pending.get(podKey(pod))) return;
      // The event goes on a client of its own (upstream's event broadcaster); the status write is waited for.
      void recorder.record(failedScheduling(pod, message));
      await updateStatus(pod, (p) => {
        const conditions = (p.status?.conditions ?? []) as Array<Record<string, unknown>>;
        const old = conditions.find((c) => c.type === 'PodScheduled');
        if (old && old.status === 'False' && old.reason === 'Unschedulable' && old.message === message) return undefined;
        const cond = {
          type: 'PodScheduled',
          status: 'False',
          reason: 'Unschedulable',
          message,
          lastProbeTime: null,
          lastTransitionTime: old?.status === 'False' && old.lastTransitionTime ? old.lastTransitionTime : rfc3339(new Date()),
        };
        return { ...p, status: { ...p.status, conditions: [...conditions.filter((c) => c !== old), cond] } };
      });
    }));
  }

  function nominate(pod: SchedPod, node: string, victims: SchedPod[]): void {
    snapshot.nominate(pod, node);
    forPod(podKey(pod), async () => {
      await updateStatus(pod, (p) => (p.status?.nominatedNodeName === node ? undefined : { ...p, status: { ...p.status, nominatedNodeName: node } }));
    });
    for (const v of victims) {
      void (async () => {
        try {
          await client.delete(PODS, v.metadata.namespace, v.metadata.name ?? '', v.metadata.uid ? { preconditions: { uid: v.metadata.uid } } : {});
          await recorder.record(preempted(v, pod, node));
        } catch (err) {
          if (!(err instanceof ApiStatusError && err.code === 404)) logger.warn({ err: err instanceof Error ? err.message : String(err), victim: podKey(v) }, 'preempting a pod failed');
        }
      })();
    }
  }

  /**
   * A bound pod the assigned-pods informer never reports (deleted at once, missed across a relist) would hold its
   * node's resources forever: drop the assumption if it is still unconfirmed after a while, as upstream's cache does.
   */
  function expireAssumed(key: string): void {
    const t = setTimeout(() => {
      expiries.delete(t);
      if (snapshot.podInfo(key)?.assumed && !assigned.get(key)) snapshot.removePod(key);
    }, ASSUMED_POD_TTL_MS);
    t.unref?.();
    expiries.add(t);
  }

  async function bind(qp: QueuedPod, pod: SchedPod, node: string, started: number): Promise<void> {
    const ns = pod.metadata.namespace ?? 'default';
    const podName = pod.metadata.name ?? '';
    try {
      await client.create(PODS, ns, { apiVersion: 'v1', kind: 'Binding', metadata: { name: podName, namespace: ns, ...(pod.metadata.uid ? { uid: pod.metadata.uid } : {}) }, target: { apiVersion: 'v1', kind: 'Node', name: node } } as KubeObject, 'binding', podName);
      queue.done(qp.key);
      snapshot.clearNomination(qp.key);
      // Upstream's "Scheduled" event, written in the background so that binding never waits for it.
      void recorder.record(scheduled(pod, node));
      expireAssumed(qp.key);
      m.attempts.inc({ result: 'scheduled', profile: name });
      m.duration.observe({ result: 'scheduled', profile: name }, (performance.now() - started) / 1000);
      logger.debug({ pod: qp.key, node }, 'bound');
    } catch (err) {
      // The assumption did not hold: take the pod off the node again.
      if (snapshot.podInfo(qp.key)?.assumed) snapshot.removePod(qp.key);
      if (err instanceof ApiStatusError && (err.code === 404 || (err.code === 409 && /already assigned/.test(err.message)))) {
        queue.done(qp.key);
        return;
      }
      m.attempts.inc({ result: 'error', profile: name });
      m.duration.observe({ result: 'error', profile: name }, (performance.now() - started) / 1000);
      logger.warn({ err: err instanceof Error ? err.message : String(err), pod: qp.key, node }, 'binding failed');
      queue.requeueFailed(qp, 'error');
      queue.moveAllToActiveOrBackoff();
    }
  }

  async function scheduleOne(qp: QueuedPod): Promise<void> {
    const started = performance.now();
    const pod = (pending.get(qp.key) as unknown as SchedPod | undefined) ?? qp.pod;
    if (!pending.get(qp.key) || !responsible(pod)) {
      queue.done(qp.key);
      return;
    }
    const known = snapshot.podInfo(qp.key);
    if (known) {
      if (known.pod.metadata.uid === pod.metadata.uid) {
        queue.done(qp.key);
        return;
      }
      snapshot.removePod(qp.key);
    }
    try {
      const info = makePodInfo(pod, snapshot.priority);
      const result = schedulePod(info, snapshot, config);
      if ('node' in result) {
        snapshot.setPod(pod, { nodeName: result.node, assumed: true });
        const p = bind(qp, pod, result.node, started).finally(() => inFlight.delete(p));
        inFlight.add(p);
        if (inFlight.size >= maxInFlight) await Promise.race(inFlight);
        return;
      }
      // The post-filter: preemption of lower-priority pods, or why it cannot help.
      let postFilter: string | undefined;
      const pr = preempt(info, snapshot, result.diagnosis);
      if ('node' in pr) nominate(pod, pr.node, pr.victims.map((v) => v.pod));
      else postFilter = pr.message;
      const message = fitErrorMessage(result.diagnosis, postFilter);
      logger.debug({ pod: qp.key, message }, 'unable to schedule pod; no fit; waiting');
      m.attempts.inc({ result: 'unschedulable', profile: name });
      m.duration.observe({ result: 'unschedulable', profile: name }, (performance.now() - started) / 1000);
      markUnschedulable(pod, message);
      queue.requeueFailed(qp, 'unschedulable');
    } catch (err) {
      logger.error({ err, pod: qp.key }, 'scheduling failed');
      m.attempts.inc({ result: 'error', profile: name });
      queue.requeueFailed(qp, 'error');
    }
  }

  const loop = (async () => {
    await synced;
    while (!stopped) {
      const qp = await queue.pop();
      if (!qp || stopped) break;
      await scheduleOne(qp);
      // One attempt per turn of the event loop. pop() answers at once while pods are queued, so without this the
      // loop would run on microtasks alone: a queue of thousands (the periodic flush of unschedulable pods, a burst of
      // updates to pending pods) held the API server in this process for a second and more, its requests unread.
      await nextTurn();
    }
  })().catch((err: unknown) => logger.error({ err }, 'scheduler loop failed'));

  // Pods left unschedulable for long are retried without waiting for an event.
  const leftover = setInterval(() => queue.flushUnschedulableLeftover(), 30_000);
  leftover.unref?.();

  return {
    synced,
    snapshot,
    queue,
    stop: async () => {
      stopped = true;
      clearInterval(leftover);
      recorder.stop();
      for (const t of expiries) clearTimeout(t);
      for (const inf of informers) inf.stop();
      queue.close();
      await loop;
      // What waits for its turn under the rate limit is dropped (a backlog of thousands would take minutes).
      if (opts.rateLimit) {
        client.close();
        eventClient.close();
      }
      await Promise.allSettled([...inFlight, ...statusWrites.values()]);
    },
  };
}
