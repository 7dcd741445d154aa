import { leaseKind } from '../../api/index.js';
import type { ResourceDef } from '../resources.js';
import { typedStrategy } from './apps-common.js';
import type { Strategy } from './strategy.js';

/** Leases: duration and transitions validation. */
export function leaseStrategy(def: ResourceDef): Strategy {
  return typedStrategy(def, leaseKind, { generation: false });
}
