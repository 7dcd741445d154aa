import { LimitRange, validateLimitRange } from '../../api/index.js';
import type { ResourceDef } from '../resources.js';
import { typedStrategy } from './core-common.js';
import type { Strategy } from './strategy.js';

/** LimitRanges: container defaults filled from max/min, ValidateLimitRange on create and update. */
export function coreLimitRangeStrategy(def: ResourceDef): Strategy {
  return typedStrategy(def, { schema: LimitRange, validateCreate: validateLimitRange, validateUpdate: (l) => validateLimitRange(l) }, { statusSubresource: false });
}
