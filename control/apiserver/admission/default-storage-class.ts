import { isDefaultStorageClass } from '../../api/index.js';
import { findResource, type ResourceDef } from '../resources.js';
import { ObjectCache } from '../storage/object-cache.js';
import type { Admission } from '../rest.js';
import type { KubeObject, ObjectStorage } from '../storage/object-storage.js';

/** The annotation that named a claim's class before spec.storageClassName; a claim carrying it has a class. */
export const ANNOTATION_BETA_STORAGE_CLASS = 'volume.beta.kubernetes.io/storage-class';

/** The default class among `classes`: the newest one marked default, then the lowest name; undefined when none is. */
export function pickDefaultStorageClass(classes: KubeObject[]): KubeObject | undefined {
  const created = (o: KubeObject): number => Date.parse(String(o.metadata.creationTimestamp ?? '')) || 0;
  const name = (o: KubeObject): string => o.metadata.name ?? '';
  const defaults = classes.filter(isDefaultStorageClass);
  defaults.sort((a, b) => created(b) - created(a) || (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0));
  return defaults[0];
}

/**
 * DefaultStorageClass admission (upstream's plugin/pkg/admission/storage/storageclass/setdefault): a new
 * PersistentVolumeClaim that asks for no class, neither by spec.storageClassName (an empty name is a request for no
 * class, and kept) nor by the beta annotation, gets the StorageClass marked is-default-class "true". With no default
 * it stays classless; with several, the newest wins, as upstream since 1.26 rather than refusing the claim.
 */
export function defaultStorageClassAdmission(storage: ObjectStorage): Admission {
  const classDef = findResource('storage.k8s.io', 'v1', 'storageclasses') as ResourceDef;
  const isClaim = (def: ResourceDef): boolean => def.group === '' && def.resource === 'persistentvolumeclaims';
  // Read from a watch-fed cache, as upstream's plugin reads its StorageClass lister.
  const classes = new ObjectCache(storage, classDef);
  return {
    async mutate(op, def, pvc) {
      if (op !== 'create' || !isClaim(def)) return false;
      const spec = pvc.spec as { storageClassName?: string } | undefined;
      if (!spec || typeof spec !== 'object' || spec.storageClassName !== undefined) return false;
      if (pvc.metadata.annotations?.[ANNOTATION_BETA_STORAGE_CLASS] !== undefined) return false;
      const chosen = pickDefaultStorageClass((await classes.list()) as KubeObject[]);
      if (!chosen) return false;
      spec.storageClassName = chosen.metadata.name ?? '';
      return true;
    },
    async admit() {},
  };
}
