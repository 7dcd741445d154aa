import type { KindPrinter } from '../table.js';
import { ageCol, ageOf, col, nameCol, nameOf, optStr, spec } from './common.js';

/** coordination.k8s.io/v1 Leases, as upstream's printLease. */

export const leasePrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Holder', 'string', 'holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field.'),
    ageCol(),
  ],
  cells: (o, now) => [nameOf(o), optStr(spec(o).holderIdentity) ?? '', ageOf(o, now)],
};
