import { formatSelector, selectorFromSpec, type LabelSelectorSpec } from '../api/selectors.js';
import { badRequest } from './http/status.js';
import type { KubeObject } from './storage/object-storage.js';

/**
 * The scale subresource (autoscaling/v1 Scale) of Deployments, ReplicaSets, StatefulSets and
 * ReplicationControllers: what `kubectl scale` and the HPA read and write.
 */
export function toScale(obj: KubeObject): KubeObject {
  const spec = (obj.spec ?? {}) as { replicas?: number; selector?: LabelSelectorSpec | Record<string, string> };
  const status = (obj.status ?? {}) as { replicas?: number };
  let selector = '';
  if (spec.selector) {
    // ReplicationControllers carry a plain map; the others a LabelSelector.
    const s = spec.selector as LabelSelectorSpec & Record<string, unknown>;
    const structured = 'matchLabels' in s || 'matchExpressions' in s ? s : { matchLabels: s as Record<string, string> };
    const reqs = selectorFromSpec(structured);
    selector = reqs === 'nothing' ? '' : formatSelector(reqs);
  }
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: obj.metadata.name,
      namespace: obj.metadata.namespace,
      uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion,
      creationTimestamp: obj.metadata.creationTimestamp,
    },
    spec: { replicas: spec.replicas ?? 1 },
    status: { replicas: status.replicas ?? 0, ...(selector ? { selector } : {}) },
  };
}

/** The object with the replicas the Scale asks for; everything else as stored. */
export function applyScale(obj: KubeObject, scale: unknown): KubeObject {
  const replicas = (scale as { spec?: { replicas?: unknown } } | undefined)?.spec?.replicas;
  if (replicas !== undefined && (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0)) {
    throw badRequest(`spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`);
  }
  return { ...obj, spec: { ...((obj.spec as Record<string, unknown> | undefined) ?? {}), replicas: replicas ?? 0 } };
}
