import { roleKind } from '../../api/index.js';
import type { ResourceDef } from '../resources.js';
import { typedStrategy } from './apps-common.js';
import type { Strategy } from './strategy.js';

/** Roles: every rule names verbs, API groups and resources. */
export function roleStrategy(def: ResourceDef): Strategy {
  return typedStrategy(def, roleKind, { generation: false });
}
