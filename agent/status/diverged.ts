import type { ContainerStatus, PodStatus } from '../../control/api/index.js';
import { KUBELET_POD_CONDITIONS } from './generate.js';

/**
 * True when the pod's status in the API server no longer says what the agent wants it to say, although the agent
 * wrote it: someone else changed it since. The node lifecycle controller does exactly that when a node goes NotReady
 * (upstream's MarkPodsNotReady sets every pod's Ready condition False), and nothing would put it back, since the
 * agent's own view did not change. Upstream's status manager checks for this on every sync (needsReconcile).
 *
 * Only what the agent owns and what users act on is compared (phase, IPs, the agent's conditions by status, the
 * containers' ready, started, restart count, ID and state): timestamps and fields the API server normalises would
 * make every comparison differ and turn every sync into a write.
 */
export function statusDiverged(wanted: PodStatus, inApi: PodStatus): boolean {
  if ((wanted.phase ?? '') !== (inApi.phase ?? '')) return true;
  if ((wanted.podIP ?? '') !== (inApi.podIP ?? '')) return true;
  for (const c of wanted.conditions ?? []) {
    // Conditions other clients own (readiness gates') are theirs to change: a difference there is not the agent's.
    if (!KUBELET_POD_CONDITIONS.has(c.type)) continue;
    if (inApi.conditions?.find((x) => x.type === c.type)?.status !== c.status) return true;
  }
  return (
    containersDiverged(wanted.containerStatuses, inApi.containerStatuses) ||
    containersDiverged(wanted.initContainerStatuses, inApi.initContainerStatuses) ||
    containersDiverged(wanted.ephemeralContainerStatuses, inApi.ephemeralContainerStatuses)
  );
}

const stateOf = (s: ContainerStatus): string => (s.state?.running ? 'running' : s.state?.terminated ? 'terminated' : s.state?.waiting ? `waiting:${s.state.waiting.reason ?? ''}` : '');

function containersDiverged(wanted: ContainerStatus[] | undefined, inApi: ContainerStatus[] | undefined): boolean {
  for (const w of wanted ?? []) {
    const a = inApi?.find((x) => x.name === w.name);
    if (!a) return true;
    if (a.ready !== w.ready || a.restartCount !== w.restartCount || (a.containerID ?? '') !== (w.containerID ?? '') || (a.started ?? false) !== (w.started ?? false)) return true;
    if (stateOf(a) !== stateOf(w)) return true;
  }
  return false;
}
