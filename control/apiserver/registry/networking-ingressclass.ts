import { ingressClassKind } from '../../api/index.js';
import type { ResourceDef } from '../resources.js';
import { typedStrategy } from './apps-common.js';
import type { Strategy } from './strategy.js';

/** IngressClasses: a domain-prefixed controller that never changes, parameters scoped Cluster by default. */
export function ingressClassStrategy(def: ResourceDef): Strategy {
  return typedStrategy(def, ingressClassKind);
}
