import type { KindPrinter } from '../table.js';
import { ageCol, ageOf, col, int, intOrString, nameCol, nameOf, spec, status } from './common.js';

/** policy/v1 PodDisruptionBudgets, as upstream's printPodDisruptionBudget. */

export const podDisruptionBudgetPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Min Available', 'string', 'The minimum number of pods that must be available.'),
    col('Max Unavailable', 'string', 'The maximum number of pods that may be unavailable.'),
    col('Allowed Disruptions', 'integer', 'Calculated number of pods that may be disrupted at this time.'),
    ageCol(),
  ],
  cells: (o, now) => {
    const sp = spec(o);
    const minAvailable = sp.minAvailable !== undefined && sp.minAvailable !== null ? intOrString(sp.minAvailable) : 'N/A';
    const maxUnavailable = sp.maxUnavailable !== undefined && sp.maxUnavailable !== null ? intOrString(sp.maxUnavailable) : 'N/A';
    return [nameOf(o), minAvailable, maxUnavailable, int(status(o).disruptionsAllowed), ageOf(o, now)];
  },
};
