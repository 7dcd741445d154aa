import { jobKind, parseJob, type Job } from '../../api/index.js';
import type { ResourceDef } from '../resources.js';
import { str, typedStrategy } from './apps-common.js';
import type { Strategy } from './strategy.js';

/**
 * Jobs: upstream's defaults, the generated selector and pod labels (controller-uid, job-name) unless manualSelector
 * is true, validation including the immutable template (scheduling directives excepted while suspended and never
 * started), and the status.successful field selector.
 */
export function jobStrategy(def: ResourceDef): Strategy {
  return typedStrategy<Job>(def, jobKind, {
    parseCreate: (input, opts) => parseJob(input, opts),
    fields: (o) => ({ 'status.successful': str((o.status as { succeeded?: number } | undefined)?.succeeded ?? 0) }),
  });
}
