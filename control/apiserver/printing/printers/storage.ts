import { isDefaultStorageClass } from '../../../api/index.js';
import type { KindPrinter } from '../table.js';
import { ageCol, ageOf, col, nameCol, nameOf, optStr, str } from './common.js';

/** storage.k8s.io/v1 StorageClasses, as upstream's printStorageClass. */

export const storageClassPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Provisioner', 'string', 'Indicates the type of the provisioner.'),
    col('ReclaimPolicy', 'string', 'Indicates the type of the reclaim policy.'),
    col('VolumeBindingMode', 'string', 'Indicates when volume binding and dynamic provisioning should occur.'),
    col('AllowVolumeExpansion', 'string', 'Indicates whether the storage class allow volume expand.'),
    ageCol(),
  ],
  cells: (o, now) => {
    const name = isDefaultStorageClass(o) ? `${nameOf(o)} (default)` : nameOf(o);
    const x = o as unknown as Record<string, unknown>;
    // Unset pointers print as their defaults; the expansion flag is a bool cell (kubectl shows true/false).
    const reclaimPolicy = optStr(x.reclaimPolicy) ?? 'Delete';
    const bindingMode = optStr(x.volumeBindingMode) ?? 'Immediate';
    const allowExpansion = x.allowVolumeExpansion === true;
    return [name, str(x.provisioner), reclaimPolicy, bindingMode, allowExpansion, ageOf(o, now)];
  },
};
