import { podDisruptionBudgetKind } from '../../api/index.js';
import type { ResourceDef } from '../resources.js';
import { typedStrategy } from './apps-common.js';
import type { Strategy } from './strategy.js';

/** PodDisruptionBudgets: minAvailable xor maxUnavailable, selector and eviction policy validation. */
export function podDisruptionBudgetStrategy(def: ResourceDef): Strategy {
  return typedStrategy(def, podDisruptionBudgetKind);
}
