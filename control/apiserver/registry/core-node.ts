import { Node, validateNode, validateNodeUpdate } from '../../api/index.js';
import type { ResourceDef } from '../resources.js';
import { rec, str, typedStrategy } from './core-common.js';
import type { Strategy } from './strategy.js';

/**
 * Nodes: registered with their status (kubelets create them that way), podCIDRs and providerID settable once,
 * taints validated, spec.unschedulable as a field selector.
 */
export function coreNodeStrategy(def: ResourceDef): Strategy {
  return typedStrategy(
    def,
    { schema: Node, validateCreate: validateNode, validateUpdate: validateNodeUpdate },
    { statusSubresource: true, fields: (o) => ({ 'spec.unschedulable': str(rec(o.spec).unschedulable ?? false) }) },
  );
}
