import { controllerRevisionKind } from '../../api/index.js';
import type { ResourceDef } from '../resources.js';
import { typedStrategy } from './apps-common.js';
import type { Strategy } from './strategy.js';

/** ControllerRevisions: data is mandatory and immutable. */
export function controllerRevisionStrategy(def: ResourceDef): Strategy {
  return typedStrategy(def, controllerRevisionKind, { generation: false });
}
