import { ConfigMap, validateConfigMap, validateConfigMapUpdate } from '../../api/index.js';
import type { ResourceDef } from '../resources.js';
import { typedStrategy } from './core-common.js';
import type { Strategy } from './strategy.js';

/** ConfigMaps: key syntax, the 1 MiB limit, and no changes to data once `immutable` is set. */
export function coreConfigMapStrategy(def: ResourceDef): Strategy {
  return typedStrategy(def, { schema: ConfigMap, validateCreate: validateConfigMap, validateUpdate: validateConfigMapUpdate }, { statusSubresource: false });
}
