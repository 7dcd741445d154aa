import { priorityClassKind } from '../../api/index.js';
import type { ResourceDef } from '../resources.js';
import { typedStrategy } from './apps-common.js';
import type { Strategy } from './strategy.js';

/** PriorityClasses: preemptionPolicy default, reserved system- names, value and preemptionPolicy immutable. */
export function priorityClassStrategy(def: ResourceDef): Strategy {
  return typedStrategy(def, priorityClassKind, { generation: false });
}
