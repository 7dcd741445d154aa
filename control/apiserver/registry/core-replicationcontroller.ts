import { compactSpec, ReplicationController, validateReplicationController, validateReplicationControllerStatus, validateReplicationControllerUpdate } from '../../api/index.js';
import type { ResourceDef } from '../resources.js';
import { rec, str, typedStrategy } from './core-common.js';
import type { Strategy } from './strategy.js';

/**
 * ReplicationControllers: replicas 1 and selector/labels from the template by default, the template validated as a
 * pod spec, a fresh status on create, generation bumped on spec changes, status.replicas as a field selector.
 */
export function coreReplicationControllerStrategy(def: ResourceDef): Strategy {
  return typedStrategy(
    def,
    {
      schema: ReplicationController,
      prepareCreate: (rc) => ({ ...rc, status: { replicas: 0 } }),
      validateCreate: validateReplicationController,
      validateUpdate: (rc, old) => [...validateReplicationControllerUpdate(rc, old), ...validateReplicationControllerStatus(rc.status)],
      compact: (rc) => (rc.spec.template ? { ...rc, spec: { ...rc.spec, template: { ...rc.spec.template, spec: compactSpec(rc.spec.template.spec) } } } : rc),
    },
    { statusSubresource: true, generation: true, fields: (o) => ({ 'status.replicas': str(rec(o.status).replicas ?? 0) }) },
  );
}
