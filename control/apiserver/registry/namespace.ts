import { nameIsDNSLabel } from '../../api/index.js';
import { invalid } from '../../api/errors.js';
import type { ResourceDef } from '../resources.js';
import type { KubeObject } from '../storage/object-storage.js';
import { checkObjectMeta, type Prepared, type Strategy } from './strategy.js';

function validate(obj: KubeObject): Prepared {
  const errors = checkObjectMeta(obj, { namespaced: false, nameFn: nameIsDNSLabel });
  return errors.length ? { ok: false, errors } : { ok: true, obj, warnings: [] };
}

/**
 * Namespaces: DNS-label names, the "kubernetes" finalizer the namespace controller removes once the namespace is
 * empty, and phase Active until deletion marks it Terminating.
 */
export function namespaceStrategy(_def: ResourceDef): Strategy {
  return {
    prepareCreate: (obj) => {
      // The shape decoding into NamespaceSpec would enforce: an object with a list of strings.
      const spec: unknown = obj.spec ?? {};
      if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) return { ok: false, errors: [invalid('spec', spec, 'must be an object')] };
      const finalizers: unknown = (spec as { finalizers?: unknown }).finalizers ?? [];
      if (!Array.isArray(finalizers) || finalizers.some((f) => typeof f !== 'string')) return { ok: false, errors: [invalid('spec.finalizers', finalizers, 'must be a list of strings')] };
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
