import type { Pod, PodStatus } from '../../control/api/index.js';
import { ApiStatusError, type KubeClient } from '../../control/client/index.js';
import type { Logger } from '../../lib/log.js';
import type { ClusterHooks } from '../agent.js';
import type { MirrorPods } from './mirror-pods.js';

const PODS = { group: '', version: 'v1', resource: 'pods' };

/** Status reports and deletion confirmations for pods that came from the API server. */
export function clusterHooks(client: KubeClient, logger: Logger, mirrors: () => MirrorPods | undefined): ClusterHooks {
  return {
    async reportStatus(pod: Pod, status: PodStatus): Promise<boolean> {
      // Static pods report through their mirror pod; pods from the API server to themselves.
      if (pod.metadata.annotations?.['kubernetes.io/config.source'] !== 'api') return (await mirrors()?.reportStatus(pod, status)) ?? false;
      try {
        await client.patch(PODS, pod.metadata.namespace, pod.metadata.name ?? '', { status }, 'merge', 'status');
        return true;
      } catch (err) {
        // Gone already (deleted meanwhile): nothing to report. Anything else is retried by the next sync.
        if (err instanceof ApiStatusError && err.code === 404) return true;
        throw err;
      }
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
