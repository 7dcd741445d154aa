import { Endpoints, validateEndpoints } from '../../api/index.js';
import type { ResourceDef } from '../resources.js';
import { typedStrategy } from './core-common.js';
import type { Strategy } from './strategy.js';

/** Endpoints: SetDefaults_Endpoints (port protocol TCP) and ValidateEndpoints on create and update. */
export function coreEndpointsStrategy(def: ResourceDef): Strategy {
  return typedStrategy(def, { schema: Endpoints, validateCreate: validateEndpoints, validateUpdate: (e) => validateEndpoints(e) }, { statusSubresource: false });
}
