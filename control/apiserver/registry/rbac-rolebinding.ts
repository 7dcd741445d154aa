import { roleBindingKind } from '../../api/index.js';
import type { ResourceDef } from '../resources.js';
import { typedStrategy } from './apps-common.js';
import type { Strategy } from './strategy.js';

/** RoleBindings: subject and roleRef defaults and validation; roleRef cannot change. */
export function roleBindingStrategy(def: ResourceDef): Strategy {
  return typedStrategy(def, roleBindingKind, { generation: false });
}
