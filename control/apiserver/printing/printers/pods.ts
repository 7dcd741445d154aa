import type { KindPrinter } from '../table.js';
import type { KubeObject } from '../../storage/object-storage.js';
import { ageCol, col, containersCol, formatLabels, imagesCol, int, layoutContainerCells, nameCol, nameOf, ageOf, rec, recs, since, spec, status, str, timeMs, type Obj } from './common.js';

/** Pods and pod templates, as upstream's printPod / printPodTemplate. */

export const podPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
    col('Status', 'string', 'The aggregate status of the containers in this pod.'),
    col('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    ageCol(),
    col('IP', 'string', 'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', 1),
    col('Node', 'string', 'NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename', 1),
    col('Nominated Node', 'string', 'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.', 1),
    col('Readiness Gates', 'string', 'If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to "True" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates', 1),
  ],
  cells: (o, now) => podCells(o, now),
};

/** The kubelet's reason for pods on an unreachable node (node.NodeUnreachablePodReason). */
const NODE_UNREACHABLE_POD_REASON = 'NodeLost';

/** A set (non-null) sub-object, as Go's non-nil pointer; undefined otherwise. */
function present(v: unknown): Obj | undefined {
  return v !== undefined && v !== null && typeof v === 'object' ? (v as Obj) : undefined;
}

function isRestartable(c: Obj | undefined): boolean {
  return c !== undefined && c.restartPolicy === 'Always';
}

function conditionTrue(st: Obj, type: string): boolean {
  // Upstream looks at the first condition of the type only.
  const c = recs(st.conditions).find((x) => x.type === type);
  return c !== undefined && c.status === 'True';
}

function hasReadyCondition(st: Obj): boolean {
  // hasPodReadyCondition: any Ready=True condition.
  return recs(st.conditions).some((c) => c.type === 'Ready' && c.status === 'True');
}

function terminatedReason(t: Obj, prefix: string): string {
  const reason = str(t.reason);
  if (reason !== '') return prefix + reason;
  const signal = int(t.signal);
  if (signal !== 0) return `${prefix}Signal:${signal}`;
  return `${prefix}ExitCode:${int(t.exitCode)}`;
}

export function podCells(pod: KubeObject, now: Date): unknown[] {
  const sp = spec(pod);
  const st = status(pod);
  const containers = recs(sp.containers);
  const initSpecs = recs(sp.initContainers);

  let restarts = 0;
  let restartableInitRestarts = 0;
  let totalContainers = containers.length;
  let readyContainers = 0;
  let lastRestart: number | undefined;
  let lastRestartableInitRestart: number | undefined;

  const phase = str(st.phase);
  let reason = phase;
  if (str(st.reason) !== '') reason = str(st.reason);

  for (const c of recs(st.conditions)) {
    if (c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';
  }

  const initByName = new Map<string, Obj>();
  for (const c of initSpecs) {
    initByName.set(str(c.name), c);
    if (isRestartable(c)) totalContainers++;
  }

  const later = (cur: number | undefined, ts: unknown): number | undefined => {
    const t = timeMs(ts);
    if (t === undefined) return cur;
    return cur === undefined || cur < t ? t : cur;
  };

  let initializing = false;
  const initStatuses = recs(st.initContainerStatuses);
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i] as Obj;
    const state = rec(cs.state);
    const lastTerm = present(rec(cs.lastState).terminated);
    restarts += int(cs.restartCount);
    if (lastTerm) lastRestart = later(lastRestart, lastTerm.finishedAt);
    const restartable = isRestartable(initByName.get(str(cs.name)));
    if (restartable) {
      restartableInitRestarts += int(cs.restartCount);
      if (lastTerm) lastRestartableInitRestart = later(lastRestartableInitRestart, lastTerm.finishedAt);
    }
    const terminated = present(state.terminated);
    const waiting = present(state.waiting);
    if (terminated && int(terminated.exitCode) === 0) continue;
    if (restartable && cs.started === true) {
      if (cs.ready === true) readyContainers++;
      continue;
    }
    if (terminated) {
      reason = terminatedReason(terminated, 'Init:');
    } else if (waiting && str(waiting.reason) !== '' && waiting.reason !== 'PodInitializing') {
      reason = `Init:${str(waiting.reason)}`;
    } else {
      reason = `Init:${i}/${initSpecs.length}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || conditionTrue(st, 'Initialized')) {
    restarts = restartableInitRestarts;
    lastRestart = lastRestartableInitRestart;
    let hasRunning = false;
    const statuses = recs(st.containerStatuses);
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i] as Obj;
      const state = rec(cs.state);
      restarts += int(cs.restartCount);
      const lastTerm = present(rec(cs.lastState).terminated);
      if (lastTerm) lastRestart = later(lastRestart, lastTerm.finishedAt);
      const terminated = present(state.terminated);
      const waiting = present(state.waiting);
      const running = present(state.running) !== undefined;
      if (waiting && str(waiting.reason) !== '') {
        reason = str(waiting.reason);
      } else if (terminated) {
        reason = terminatedReason(terminated, '');
      } else if (cs.ready === true && running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    // A pod whose last container completed but another still runs is Running (or NotReady) again.
    if (reason === 'Completed' && hasRunning) reason = hasReadyCondition(st) ? 'Running' : 'NotReady';
  }

  const deleting = pod.metadata.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null;
  if (deleting && str(st.reason) === NODE_UNREACHABLE_POD_REASON) reason = 'Unknown';
  else if (deleting && phase !== 'Failed' && phase !== 'Succeeded') reason = 'Terminating';

  let restartsStr = String(restarts);
  if (restarts !== 0 && lastRestart !== undefined) restartsStr = `${restarts} (${since(new Date(lastRestart).toISOString(), now)} ago)`;

  // Wide columns (the server always fills them; kubectl hides them without -o wide).
  const podIPs = recs(st.podIPs);
  let podIP = podIPs.length > 0 ? str(podIPs[0]?.ip) : str(st.podIP);
  if (podIP === '') podIP = '<none>';
  const nodeName = str(sp.nodeName) || '<none>';
  const nominated = str(st.nominatedNodeName) || '<none>';
  let readinessGates = '<none>';
  const gates = recs(sp.readinessGates);
  if (gates.length > 0) {
    let trueConditions = 0;
    for (const g of gates) {
      const c = recs(st.conditions).find((x) => x.type === g.conditionType);
      if (c && c.status === 'True') trueConditions++;
    }
    readinessGates = `${trueConditions}/${gates.length}`;
  }

  return [nameOf(pod), `${readyContainers}/${totalContainers}`, reason, restartsStr, ageOf(pod, now), podIP, nodeName, nominated, readinessGates];
}

export const podTemplatePrinter: KindPrinter = {
  columns: [nameCol(), containersCol(0), imagesCol(0), col('Pod Labels', 'string', 'The labels for the pod template.')],
  cells: (o) => {
    const template = rec(o.template);
    const [names, images] = layoutContainerCells(rec(template.spec).containers);
    return [nameOf(o), names, images, formatLabels(rec(template.metadata).labels)];
  },
};
