import type { Pod, PodStatus } from '../../control/api/index.js';
import { ApiStatusError, type KubeClient } from '../../control/client/index.js';
import type { Logger } from '../../lib/log.js';
import type { ClusterHooks } from '../agent.js';

const PODS = { group: '', version: 'v1', resource: 'pods' };

/** Status reports and deletion confirmations for pods that came from the API server. */
export function clusterHooks(client: KubeClient, logger: Logger): ClusterHooks {
  return {
    async reportStatus(pod: Pod, status: PodStatus): Promise<void> {
      try {
        await client.patch(PODS, pod.metadata.namespace, pod.metadata.name ?? '', { status }, 'merge', 'status');
      } catch (err) {
        // Gone already (deleted meanwhile): nothing to report. Anything else is retried by the next sync.
        if (err instanceof ApiStatusError && err.code === 404) return;
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
