import { PodStatus, type Pod, type PodCondition } from '../../control/api/index.js';
import { KUBELET_POD_CONDITIONS } from '../status/generate.js';
import { ApiStatusError, type KubeClient, type KubeObject } from '../../control/client/index.js';
import type { Logger } from '../../lib/log.js';
import type { ClusterHooks } from '../agent.js';
import type { MirrorPods } from './mirror-pods.js';

const PODS = { group: '', version: 'v1', resource: 'pods' };

/** True when resource version `a` is `b` or later (Skiff's are store revisions; anything else only matches itself). */
function notOlder(a: string, b: string): boolean {
  return /^\d+$/.test(a) && /^\d+$/.test(b) ? BigInt(a) >= BigInt(b) : a === b;
}

const fromApi = (pod: Pod): boolean => pod.metadata.annotations?.['kubernetes.io/config.source'] === 'api';

/**
 * Status reports (to API pods themselves, to static pods' mirrors) and deletion confirmations. `apiPod` is the pod as
 * the agent's watch has it now.
 */
export function clusterHooks(client: KubeClient, logger: Logger, mirrors: () => MirrorPods | undefined, apiPod: (namespace: string, name: string) => KubeObject | undefined = () => undefined): ClusterHooks {
  /** The resource version each pod's last status write produced, by pod UID. */
  const written = new Map<string, string>();
  /** The pod's object in the API as the watch has it now: the API pod itself, or a static pod's mirror. */
  const objectOf = (pod: Pod): KubeObject | undefined => {
    if (!fromApi(pod)) return mirrors()?.mirrorOf(pod);
    const obj = apiPod(pod.metadata.namespace ?? 'default', pod.metadata.name ?? '');
    return obj?.metadata.uid === pod.metadata.uid ? obj : undefined;
  };
  const conditionsOf = (obj: KubeObject | undefined): PodCondition[] | undefined => {
    if (!obj) return undefined;
    const parsed = PodStatus.safeParse((obj as KubeObject & { status?: unknown }).status ?? {});
    return parsed.success ? (parsed.data.conditions ?? []) : undefined;
  };
  /**
   * A merge patch replaces the conditions list whole: the conditions of other clients (readiness gates') go out as the
   * watch shows them at the time of the write, not as they were when the status was computed.
   */
  const withTheirConditions = (pod: Pod, status: PodStatus): PodStatus => {
    const theirs = conditionsOf(objectOf(pod));
    if (!theirs) return status;
    const mine = (status.conditions ?? []).filter((c) => KUBELET_POD_CONDITIONS.has(c.type));
    return { ...status, conditions: [...mine, ...theirs.filter((c) => !KUBELET_POD_CONDITIONS.has(c.type))] };
  };
  return {
    conditionsInApi(pod: Pod): PodCondition[] | undefined {
      return conditionsOf(objectOf(pod));
    },
    async reportStatus(pod: Pod, reported: PodStatus): Promise<boolean> {
      const uid = pod.metadata.uid ?? '';
      const status = withTheirConditions(pod, reported);
      // Static pods report through their mirror pod; pods from the API server to themselves.
      if (!fromApi(pod)) {
        const updated = await mirrors()?.reportStatus(pod, status);
        if (updated?.metadata.resourceVersion) written.set(uid, updated.metadata.resourceVersion);
        return updated !== undefined;
      }
      try {
        const updated = await client.patch(PODS, pod.metadata.namespace, pod.metadata.name ?? '', { status }, 'merge', 'status');
        if (updated.metadata.resourceVersion) written.set(uid, updated.metadata.resourceVersion);
        return true;
      } catch (err) {
        // Gone already (deleted meanwhile): nothing to report. Anything else is retried by the next sync.
        if (err instanceof ApiStatusError && err.code === 404) return true;
        throw err;
      }
    },
    statusInApi(pod: Pod): PodStatus | undefined {
      const uid = pod.metadata.uid ?? '';
      let obj: KubeObject | undefined;
      if (fromApi(pod)) {
        obj = apiPod(pod.metadata.namespace ?? 'default', pod.metadata.name ?? '');
        if (obj?.metadata.uid !== uid) return undefined;
      } else {
        // A mirror pod has a UID of its own.
        obj = mirrors()?.mirrorOf(pod);
      }
      if (!obj) return undefined;
      // The watch has not caught up with the agent's own last write yet: what it shows is older, not someone else's.
      const mine = written.get(uid);
      if (mine !== undefined && !notOlder(obj.metadata.resourceVersion ?? '', mine)) return undefined;
      // What the watch delivered is validated like any input: a status the agent cannot read is not compared.
      const parsed = PodStatus.safeParse((obj as KubeObject & { status?: unknown }).status ?? {});
      return parsed.success ? parsed.data : undefined;
    },
    podGone(uid: string): void {
      written.delete(uid);
    },
    async confirmDeletion(pod: Pod): Promise<void> {
      try {
        await client.delete(PODS, pod.metadata.namespace, pod.metadata.name ?? '', { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid ?? '' } });
        logger.info({ pod: `${pod.metadata.namespace}/${pod.metadata.name}` }, 'pod deleted');
      } catch (err) {
        if (err instanceof ApiStatusError && (err.code === 404 || err.code === 409)) return;
        throw err;
      }
    },
  };
}
