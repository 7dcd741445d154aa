import { replicaSetKind } from '../../api/index.js';
import type { ResourceDef } from '../resources.js';
import { str, typedStrategy } from './apps-common.js';
import type { Strategy } from './strategy.js';

/** ReplicaSets: upstream's defaults and validation, an immutable selector, and the status.replicas field selector. */
export function replicaSetStrategy(def: ResourceDef): Strategy {
  return typedStrategy(def, replicaSetKind, {
    fields: (o) => ({ 'status.replicas': str((o.status as { replicas?: number } | undefined)?.replicas ?? 0) }),
  });
}
