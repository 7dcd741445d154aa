/**
 * The scheduler's Events (FailedScheduling, Scheduled, Preempted): events.k8s.io/v1 Events in series, as upstream's
 * scheduler records them through client-go's events library, with its actions and references.
 */
import type { ObjectReference, SeriesEvent } from '../client/event-series.js';
import type { SchedPod } from './types.js';

/** A reference to the pod as the scheduler saw it (reference.GetReference: its resourceVersion included). */
export function podReference(pod: SchedPod): ObjectReference {
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    namespace: pod.metadata.namespace ?? 'default',
    name: pod.metadata.name ?? '',
    ...(pod.metadata.uid ? { uid: pod.metadata.uid } : {}),
    ...(pod.metadata.resourceVersion ? { resourceVersion: pod.metadata.resourceVersion } : {}),
  };
}

export const failedScheduling = (pod: SchedPod, message: string): SeriesEvent => ({ regarding: podReference(pod), type: 'Warning', reason: 'FailedScheduling', action: 'Scheduling', note: message });

export const scheduled = (pod: SchedPod, node: string): SeriesEvent => ({
  regarding: podReference(pod),
  type: 'Normal',
  reason: 'Scheduled',
  action: 'Binding',
  note: `Successfully assigned ${pod.metadata.namespace ?? 'default'}/${pod.metadata.name ?? ''} to ${node}`,
});

export const preempted = (victim: SchedPod, preemptor: SchedPod, node: string): SeriesEvent => ({
  regarding: podReference(victim),
  related: podReference(preemptor),
  type: 'Normal',
  reason: 'Preempted',
  action: 'Preempting',
  note: `Preempted by pod ${preemptor.metadata.uid ?? ''} on node ${node}`,
});
