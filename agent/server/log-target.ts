import type { ContainerStatus } from '../../control/api/index.js';
import type { RuntimeContainer } from '../runtime/runtime.js';

export type LogTarget = { id: string } | { error: string };

/** The runtime's id from a status's "docker://<id>". */
function runtimeId(containerID: string | undefined): string | undefined {
  if (!containerID) return undefined;
  const sep = containerID.indexOf('://');
  return sep >= 0 ? containerID.slice(sep + 3) : containerID;
}

/**
 * Which container instance `kubectl logs [--previous]` reads, chosen from the container's status as upstream's kubelet
 * chooses it (validateContainerLogStatus): --previous is the last terminated instance; otherwise the running one, else
 * the one that ended, else the last terminated one; a container that never ran says what it is waiting for. Without a
 * status yet (the agent has not synced the pod), the runtime's newest instances stand in.
 */
export function logTarget(
  status: ContainerStatus | undefined,
  instancesNewestFirst: readonly RuntimeContainer[],
  previous: boolean,
  podName: string,
  containerName: string,
): LogTarget {
  const c = JSON.stringify(containerName);
  const p = JSON.stringify(podName);
  if (!status) {
    const target = previous ? instancesNewestFirst[1] : instancesNewestFirst[0];
    if (target) return { id: target.id };
    return { error: previous ? `previous terminated container ${c} in pod ${p} not found` : `container ${c} in pod ${p} is not available` };
  }
  const last = status.lastState?.terminated;
  const { waiting, running, terminated } = status.state ?? {};
  const lastId = runtimeId(last?.containerID);
  if (previous) return lastId ? { id: lastId } : { error: `previous terminated container ${c} in pod ${p} not found` };
  if (running) {
    const id = runtimeId(status.containerID);
    return id ? { id } : { error: `container ${c} in pod ${p} is not available` };
  }
  if (terminated) {
    const id = runtimeId(terminated.containerID) ?? lastId;
    return id ? { id } : { error: `container ${c} in pod ${p} is terminated` };
  }
  if (last) return lastId ? { id: lastId } : { error: `container ${c} in pod ${p} is terminated` };
  if (waiting) {
    if (waiting.reason === 'ErrImagePull') return { error: `container ${c} in pod ${p} is waiting to start: image can't be pulled` };
    if (waiting.reason === 'ImagePullBackOff') return { error: `container ${c} in pod ${p} is waiting to start: trying and failing to pull image` };
    return { error: `container ${c} in pod ${p} is waiting to start: ${waiting.reason ?? ''}` };
  }
  return { error: `container ${c} in pod ${p} is waiting to start - no logs yet` };
}
