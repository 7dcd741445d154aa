import { nameIsDNSLabel, validateObjectMeta } from '../../api/index.js';
import type { ResourceDef } from '../resources.js';
import type { KubeObject } from '../storage/object-storage.js';
import type { Prepared, Strategy } from './strategy.js';

function validate(obj: KubeObject): Prepared {
  const errors = validateObjectMeta({ ...obj.metadata, name: obj.metadata.name ?? '' } as Parameters<typeof validateObjectMeta>[0], { namespaced: false, nameFn: nameIsDNSLabel });
  return errors.length ? { ok: false, errors } : { ok: true, obj, warnings: [] };
}

/**
 * Namespaces: DNS-label names, the "kubernetes" finalizer the namespace controller removes once the namespace is
 * empty, and phase Active until deletion marks it Terminating.
 */
export function namespaceStrategy(_def: ResourceDef): Strategy {
  return {
    prepareCreate: (obj) => {
      const spec = (obj.spec ?? {}) as { finalizers?: string[] };
      const finalizers = spec.finalizers ?? [];
      obj.spec = { finalizers: finalizers.includes('kubernetes') ? finalizers : [...finalizers, 'kubernetes'] };
      obj.status = { phase: 'Active' };
      return validate(obj);
    },
    prepareUpdate: (obj, old) => {
      // spec.finalizers only changes through /finalize; a plain update keeps what was stored.
      obj.spec = old.spec;
      return validate(obj);
    },
    statusSubresource: true,
    generation: false,
    fields: (o) => ({ 'status.phase': String((o.status as { phase?: string } | undefined)?.phase ?? '') }),
  };
}
