import { parseKind, type ParseResult } from '../../api/apps/common.js';
import { storageClassKind, storageClassWarnings, type StorageClass } from '../../api/index.js';
import type { ResourceDef } from '../resources.js';
import { typedStrategy } from './apps-common.js';
import type { Strategy } from './strategy.js';

/**
 * StorageClasses: a qualified-name provisioner, reclaimPolicy Delete and volumeBindingMode Immediate by default;
 * provisioner, parameters, reclaimPolicy and volumeBindingMode fixed once created; a warning for each deprecated node
 * label in allowedTopologies, on create and on update, as upstream's strategy. No generation: the class has no spec.
 */
export function storageClassStrategy(def: ResourceDef): Strategy {
  const base = typedStrategy<StorageClass>(def, storageClassKind, {
    generation: false,
    parseCreate(input, opts): ParseResult<StorageClass> {
      const r = parseKind(storageClassKind, input, opts);
      return r.ok ? { ...r, warnings: [...r.warnings, ...storageClassWarnings(r.object)] } : r;
    },
  });
  return {
    ...base,
    prepareUpdate(obj, old, ctx) {
      const prepared = base.prepareUpdate(obj, old, ctx);
      if (!prepared.ok) return prepared;
      return { ...prepared, warnings: [...(prepared.warnings ?? []), ...storageClassWarnings(prepared.obj as unknown as StorageClass)] };
    },
  };
}
