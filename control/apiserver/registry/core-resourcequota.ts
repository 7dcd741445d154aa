import { ResourceQuota, validateResourceQuota, validateResourceQuotaUpdate } from '../../api/index.js';
import type { ResourceDef } from '../resources.js';
import { typedStrategy } from './core-common.js';
import type { Strategy } from './strategy.js';

/** ResourceQuotas: resource names, quantities and scopes validated; status is the quota controller's. */
export function coreResourceQuotaStrategy(def: ResourceDef): Strategy {
  return typedStrategy(
    def,
    { schema: ResourceQuota, prepareCreate: (q) => ({ ...q, status: {} }), validateCreate: validateResourceQuota, validateUpdate: validateResourceQuotaUpdate },
    { statusSubresource: true },
  );
}
