import { ANNOTATION_INGRESS_CLASS, isDefaultIngressClass } from '../../api/index.js';
import { findResource, type ResourceDef } from '../resources.js';
import { ObjectCache } from '../storage/object-cache.js';
import type { Admission } from '../rest.js';
import type { KubeObject, ObjectStorage } from '../storage/object-storage.js';

/**
 * DefaultIngressClass admission (upstream's plugin/pkg/admission/network/defaultingressclass): a new Ingress that
 * names no class, neither by spec.ingressClassName nor by the deprecated kubernetes.io/ingress.class annotation, gets
 * the IngressClass annotated ingressclass.kubernetes.io/is-default-class: "true". With no such class it stays
 * classless; with more than one the newest is taken.
 */
export function defaultIngressClassAdmission(storage: ObjectStorage): Admission {
  const classDef = findResource('networking.k8s.io', 'v1', 'ingressclasses') as ResourceDef;
  const isIngress = (def: ResourceDef): boolean => def.group === 'networking.k8s.io' && def.resource === 'ingresses';
  // Read from a watch-fed cache, as upstream's plugin reads its IngressClass lister.
  const classes = new ObjectCache(storage, classDef);
  return {
    async mutate(op, def, ing) {
      if (op !== 'create' || !isIngress(def)) return false;
      const spec = ing.spec as { ingressClassName?: string } | undefined;
      if (!spec || typeof spec !== 'object' || spec.ingressClassName !== undefined) return false;
      if (ing.metadata.annotations?.[ANNOTATION_INGRESS_CLASS] !== undefined) return false;
      const defaults = ((await classes.list()) as KubeObject[]).filter(isDefaultIngressClass);
      if (defaults.length === 0) return false;
      // Several defaults (a new one marked before the old one was unmarked): the newest wins, then the lowest name,
      // as upstream since 1.25 (kubernetes#110974) instead of refusing every Ingress meanwhile.
      const created = (o: KubeObject): string => String(o.metadata.creationTimestamp ?? '');
      defaults.sort((a, b) => (created(a) === created(b) ? ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1) : created(a) > created(b) ? -1 : 1));
      spec.ingressClassName = defaults[0]?.metadata.name ?? '';
      return true;
    },
    async admit() {},
  };
}
