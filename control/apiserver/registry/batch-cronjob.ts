import { cronJobKind } from '../../api/index.js';
import type { ResourceDef } from '../resources.js';
import { typedStrategy } from './apps-common.js';
import type { Strategy } from './strategy.js';

/** CronJobs: upstream's defaults, schedule (cron syntax) and time zone validation. */
export function cronJobStrategy(def: ResourceDef): Strategy {
  return typedStrategy(def, cronJobKind);
}
