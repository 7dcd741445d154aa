import { deploymentKind } from '../../api/index.js';
import type { ResourceDef } from '../resources.js';
import { typedStrategy } from './apps-common.js';
import type { Strategy } from './strategy.js';

/** Deployments: upstream's defaults (RollingUpdate 25%/25%, revisionHistoryLimit 10, progressDeadlineSeconds 600) and validation; the selector is immutable. */
export function deploymentStrategy(def: ResourceDef): Strategy {
  return typedStrategy(def, deploymentKind);
}
