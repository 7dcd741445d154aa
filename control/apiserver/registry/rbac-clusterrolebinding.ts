import { clusterRoleBindingKind } from '../../api/index.js';
import type { ResourceDef } from '../resources.js';
import { typedStrategy } from './apps-common.js';
import type { Strategy } from './strategy.js';

/** ClusterRoleBindings: subject and roleRef defaults and validation; roleRef cannot change. */
export function clusterRoleBindingStrategy(def: ResourceDef): Strategy {
  return typedStrategy(def, clusterRoleBindingKind, { generation: false });
}
