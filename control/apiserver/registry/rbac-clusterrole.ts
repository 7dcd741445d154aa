import { clusterRoleKind } from '../../api/index.js';
import type { ResourceDef } from '../resources.js';
import { typedStrategy } from './apps-common.js';
import type { Strategy } from './strategy.js';

/** ClusterRoles: rules (resources or non-resource URLs) and aggregation rules. */
export function clusterRoleStrategy(def: ResourceDef): Strategy {
  return typedStrategy(def, clusterRoleKind, { generation: false });
}
