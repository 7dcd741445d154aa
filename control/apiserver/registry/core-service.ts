import {
  prepareServiceForCreate,
  prepareServiceForUpdate,
  Service,
  validateService,
  validateServiceIPFamilyPolicy,
  validateServiceStatus,
  validateServiceUpdate,
} from '../../api/index.js';
import type { ResourceDef } from '../resources.js';
import { rec, str, typedStrategy } from './core-common.js';
import type { Strategy } from './strategy.js';

/**
 * Services: SetDefaults_Service, clusterIP/clusterIPs kept in step, ipFamilyPolicy/ipFamilies defaulted, allocated
 * values kept across updates that omit them, ValidateService(Update). ClusterIPs and NodePorts are allocated by
 * admission, not here.
 */
export function coreServiceStrategy(def: ResourceDef): Strategy {
  return typedStrategy(
    def,
    {
      schema: Service,
      prepareCreate: (s) => prepareServiceForCreate(s),
      prepareUpdate: (s, old) => prepareServiceForUpdate(s, old),
      validateCreate: (s) => [...validateServiceIPFamilyPolicy(s), ...validateService(s)],
      validateUpdate: (s, old) => [...validateServiceIPFamilyPolicy(s), ...validateServiceUpdate(s, old), ...validateServiceStatus(s)],
    },
    {
      statusSubresource: true,
      fields: (o) => ({ 'spec.clusterIP': str(rec(o.spec).clusterIP), 'spec.type': str(rec(o.spec).type) }),
    },
  );
}
