import { endpointSliceKind } from '../../api/index.js';
import type { ResourceDef } from '../resources.js';
import { typedStrategy } from './apps-common.js';
import type { Strategy } from './strategy.js';

/** EndpointSlices: port defaults, address validation per addressType (immutable). */
export function endpointSliceStrategy(def: ResourceDef): Strategy {
  return typedStrategy(def, endpointSliceKind);
}
