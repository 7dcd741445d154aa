import { networkPolicyKind } from '../../api/index.js';
import type { ResourceDef } from '../resources.js';
import { typedStrategy } from './apps-common.js';
import type { Strategy } from './strategy.js';

/**
 * NetworkPolicies: upstream's defaults (TCP ports, policyTypes from the rules present) and validation of selectors,
 * ports and peers; generation bumped by spec changes. Stored and served only: nothing in Skiff enforces them.
 */
export function networkPolicyStrategy(def: ResourceDef): Strategy {
  return typedStrategy(def, networkPolicyKind);
}
