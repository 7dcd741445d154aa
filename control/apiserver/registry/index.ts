import type { ResourceDef } from '../resources.js';
import { namespaceStrategy } from './namespace.js';
import { podStrategy } from './pod.js';
import { genericStrategy, type Strategy } from './strategy.js';

export type { Prepared, PrepareContext, Strategy } from './strategy.js';

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

/** The strategy of each kind; kinds without their own yet get the generic one. */
export function strategyFor(def: ResourceDef): Strategy {
  switch (`${def.group}/${def.kind}`) {
    case '/Pod':
      return podStrategy(def);
    case '/Event':
    case 'events.k8s.io/Event':
      return genericStrategy(def, {
        fields: (o) => {
          const io = (o.involvedObject ?? o.regarding ?? {}) as Record<string, unknown>;
          return {
            'involvedObject.kind': str(io.kind),
            'involvedObject.namespace': str(io.namespace),
            'involvedObject.name': str(io.name),
            'involvedObject.uid': str(io.uid),
            'involvedObject.apiVersion': str(io.apiVersion),
            'involvedObject.resourceVersion': str(io.resourceVersion),
            'involvedObject.fieldPath': str(io.fieldPath),
            reason: str(o.reason),
            type: str(o.type),
            source: str((o.source as Record<string, unknown> | undefined)?.component ?? o.reportingController),
          };
        },
      });
    case '/Secret':
      return genericStrategy(def, { fields: (o) => ({ type: str(o.type) }) });
    case '/Node':
      return genericStrategy(def, { fields: (o) => ({ 'spec.unschedulable': str((o.spec as Record<string, unknown> | undefined)?.unschedulable ?? false) }) });
    case '/Namespace':
      return namespaceStrategy(def);
    case 'apps/Deployment':
    case 'apps/ReplicaSet':
    case 'apps/StatefulSet':
    case 'apps/DaemonSet':
    case '/ReplicationController':
    case 'batch/Job':
    case 'batch/CronJob':
    case 'autoscaling/HorizontalPodAutoscaler':
    case 'policy/PodDisruptionBudget':
      return genericStrategy(def, { generation: true });
    default:
      return genericStrategy(def);
  }
}
