import { findResource, type ResourceDef } from '../resources.js';
import type { Admission } from '../rest.js';
import { ObjectCache } from '../storage/object-cache.js';
import type { KubeObject, ObjectStorage } from '../storage/object-storage.js';

/**
 * What upstream's DefaultIngressClass and DefaultStorageClass admission plugins share: a new object that names no
 * class, neither in its spec nor by the older annotation, gets the class marked as the default. With no default it
 * stays classless; with several (a new one marked before the old one was unmarked), the newest wins, then the lowest
 * name, as upstream since 1.25/1.26 instead of refusing every create meanwhile.
 */
export interface DefaultClassRule {
  /** Where the classes are: read from a watch-fed cache, as upstream's plugins read their listers. */
  classes: { group: string; version: string; resource: string };
  /** The objects that get a class. */
  target: { group: string; resource: string };
  /** The spec field that names the class; set, even to "", it is the object's choice and kept. */
  specField: string;
  /** The annotation that named the class before the field; an object that carries it has a class. */
  legacyAnnotation: string;
  isDefault: (cls: KubeObject) => boolean;
}

/** The newest class `isDefault` accepts, then the lowest name; undefined when none is. */
export function newestDefaultClass(classes: readonly KubeObject[], isDefault: (cls: KubeObject) => boolean): KubeObject | undefined {
  const created = (o: KubeObject): number => Date.parse(String(o.metadata.creationTimestamp ?? '')) || 0;
  const name = (o: KubeObject): string => o.metadata.name ?? '';
  const defaults = classes.filter(isDefault);
  defaults.sort((a, b) => created(b) - created(a) || (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0));
  return defaults[0];
}

export function defaultClassAdmission(storage: ObjectStorage, rule: DefaultClassRule): Admission {
  const classDef = findResource(rule.classes.group, rule.classes.version, rule.classes.resource) as ResourceDef;
  const classes = new ObjectCache(storage, classDef);
  return {
    async mutate(op, def, obj) {
      if (op !== 'create' || def.group !== rule.target.group || def.resource !== rule.target.resource) return false;
      const spec = obj.spec as Record<string, unknown> | undefined;
      if (!spec || typeof spec !== 'object' || spec[rule.specField] !== undefined) return false;
      if (obj.metadata.annotations?.[rule.legacyAnnotation] !== undefined) return false;
      const chosen = newestDefaultClass((await classes.list()) as KubeObject[], rule.isDefault);
      if (!chosen) return false;
      // Changed as a copy (see Admission.mutate).
      obj.spec = { ...spec, [rule.specField]: chosen.metadata.name ?? '' };
      return true;
    },
    async admit() {},
  };
}
