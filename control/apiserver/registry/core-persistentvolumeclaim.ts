import { PersistentVolumeClaim, validatePersistentVolumeClaim, validatePersistentVolumeClaimUpdate } from '../../api/index.js';
import type { ResourceDef } from '../resources.js';
import { str, typedStrategy } from './core-common.js';
import type { Strategy } from './strategy.js';

/** PersistentVolumeClaims: accepted and validated (no binding here); a new claim is Pending. */
export function corePersistentVolumeClaimStrategy(def: ResourceDef): Strategy {
  return typedStrategy(
    def,
    {
      schema: PersistentVolumeClaim,
      prepareCreate: (p) => ({ ...p, status: { phase: 'Pending' } }),
      validateCreate: validatePersistentVolumeClaim,
      validateUpdate: validatePersistentVolumeClaimUpdate,
    },
    // "name" is a legacy selector upstream keeps for compatibility.
    { statusSubresource: true, fields: (o) => ({ name: str(o.metadata.name) }) },
  );
}
