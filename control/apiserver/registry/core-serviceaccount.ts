import { ServiceAccount, validateServiceAccount } from '../../api/index.js';
import type { ResourceDef } from '../resources.js';
import { typedStrategy } from './core-common.js';
import type { Strategy } from './strategy.js';

/** ServiceAccounts: schema and metadata validation. */
export function coreServiceAccountStrategy(def: ResourceDef): Strategy {
  return typedStrategy(def, { schema: ServiceAccount, validateCreate: validateServiceAccount, validateUpdate: (s) => validateServiceAccount(s) }, { statusSubresource: false });
}
