import { compactSpec, decodeKind, parsePod, Pod, podQOSClass, type FieldError } from '../../api/index.js';
import { validatePodUpdate } from '../../api/pod-update-validation.js';
import type { ResourceDef } from '../resources.js';
import type { KubeObject } from '../storage/object-storage.js';
import type { Prepared, PrepareContext, Strategy } from './strategy.js';

const POD_TYPE = { apiVersion: 'v1', kind: 'Pod' };

function prepare(obj: KubeObject, ctx: PrepareContext, old?: KubeObject): Prepared {
  const status = obj.status;
  // An update is judged against the stored pod (upstream's ValidatePodUpdate); one that no longer decodes, by the
  // create rules alone.
  const previous = old ? parsePod({ ...old, ...POD_TYPE }) : undefined;
  const validate = previous?.ok ? (p: Pod): FieldError[] => validatePodUpdate(p, previous.pod) : undefined;
  const result = validate
    ? decodeKind(Pod, { ...obj, ...POD_TYPE }, POD_TYPE, { strict: ctx.strict }, validate)
    : (() => {
        const r = parsePod({ ...obj, ...POD_TYPE }, { strict: ctx.strict, ...(ctx.decodedBefore ? { decodedBefore: true } : {}) });
        return r.ok ? { ok: true as const, obj: r.pod, warnings: r.warnings } : r;
      })();
  if (!result.ok) return result;
  const pod = result.obj as unknown as KubeObject;
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
      const prepared = prepare(obj, ctx, old);
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
