import { statefulSetKind } from '../../api/index.js';
import type { ResourceDef } from '../resources.js';
import { typedStrategy } from './apps-common.js';
import type { Strategy } from './strategy.js';

/** StatefulSets: upstream's defaults and validation; only replicas, ordinals, template, updateStrategy, PVC retention and minReadySeconds may change. */
export function statefulSetStrategy(def: ResourceDef): Strategy {
  return typedStrategy(def, statefulSetKind);
}
