import { daemonSetKind } from '../../api/index.js';
import type { ResourceDef } from '../resources.js';
import { typedStrategy } from './apps-common.js';
import type { Strategy } from './strategy.js';

/** DaemonSets: upstream's defaults (RollingUpdate maxUnavailable 1, maxSurge 0) and validation; the selector is immutable. */
export function daemonSetStrategy(def: ResourceDef): Strategy {
  return typedStrategy(def, daemonSetKind);
}
