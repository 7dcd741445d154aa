import { Secret, validateSecret, validateSecretUpdate } from '../../api/index.js';
import type { ResourceDef } from '../resources.js';
import { str, typedStrategy } from './core-common.js';
import type { Strategy } from './strategy.js';

/** Secrets: type Opaque by default, stringData merged into data, per-type required keys, type and immutable data fixed. */
export function coreSecretStrategy(def: ResourceDef): Strategy {
  return typedStrategy(
    def,
    { schema: Secret, validateCreate: validateSecret, validateUpdate: validateSecretUpdate },
    { statusSubresource: false, fields: (o) => ({ type: str(o.type) }) },
  );
}
