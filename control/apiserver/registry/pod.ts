import { compactSpec, parsePod, podQOSClass } from '../../api/index.js';
import type { ResourceDef } from '../resources.js';
import type { KubeObject } from '../storage/object-storage.js';
import type { Prepared, PrepareContext, Strategy } from './strategy.js';

function prepare(obj: KubeObject, ctx: PrepareContext): Prepared {
  const status = obj.status;
  const result = parsePod({ ...obj, apiVersion: 'v1', kind: 'Pod' }, { strict: ctx.strict });
  if (!result.ok) return result;
  const pod = result.pod as unknown as KubeObject;
  pod.spec = compactSpec(pod.spec);
  if (status !== undefined) pod.status = status;
  return { ok: true, obj: pod, warnings: result.warnings };
}

/** Pods: upstream's defaults and validation (control/api), a status subresource, and the field selectors kubelets use. */
export function podStrategy(_def: ResourceDef): Strategy {
  return {
    prepareCreate: (obj, ctx) => {
      // A new pod starts Pending whatever status the client sent, as upstream's PrepareForCreate.
      const prepared = prepare({ ...obj, status: undefined }, ctx);
      if (prepared.ok) prepared.obj.status = { phase: 'Pending', qosClass: podQOSClass(prepared.obj.spec as Parameters<typeof podQOSClass>[0]) };
      return prepared;
    },
    prepareUpdate: (obj, old, ctx) => {
      const prepared = prepare(obj, ctx);
      // The QoS class is set at creation and immutable; a status write without it keeps it, as upstream backfills it.
      const oldQos = (old.status as { qosClass?: string } | undefined)?.qosClass;
      const status = prepared.ok ? (prepared.obj.status as { qosClass?: string } | undefined) : undefined;
      if (prepared.ok && oldQos && !status?.qosClass) prepared.obj.status = { ...status, qosClass: oldQos };
      return prepared;
    },
    statusSubresource: true,
    generation: false,
    fields: (obj) => {
      const spec = (obj.spec ?? {}) as Record<string, unknown>;
      const status = (obj.status ?? {}) as Record<string, unknown>;
      return {
        'spec.nodeName': String(spec.nodeName ?? ''),
        'spec.restartPolicy': String(spec.restartPolicy ?? ''),
        'spec.schedulerName': String(spec.schedulerName ?? ''),
        'spec.serviceAccountName': String(spec.serviceAccountName ?? ''),
        'spec.hostNetwork': String(spec.hostNetwork ?? false),
        'status.phase': String(status.phase ?? ''),
        'status.podIP': String(status.podIP ?? ''),
        'status.nominatedNodeName': String(status.nominatedNodeName ?? ''),
      };
    },
  };
}
