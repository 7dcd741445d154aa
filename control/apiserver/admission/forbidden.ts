import { ApiError, qualifiedResource } from '../http/status.js';
import type { ResourceDef } from '../resources.js';
import type { KubeObject } from '../storage/object-storage.js';
import { NAME_SUFFIX_ALPHABET } from '../name-suffix.js';

const GENERATED_SUFFIX = new RegExp(`^[${NAME_SUFFIX_ALPHABET}]{5}$`);

/**
 * The name upstream's admission errors use: admission runs before name generation there, so an object created from
 * generateName is named by its prefix ("pods \"web-7d4f8-\" is forbidden").
 */
function admissionName(obj: KubeObject): string {
  const name = obj.metadata.name ?? '';
  const prefix = obj.metadata.generateName;
  if (prefix && name.startsWith(prefix) && GENERATED_SUFFIX.test(name.slice(prefix.length))) return prefix;
  return name;
}

/** admission.NewForbidden: 403 `<resource> "<name>" is forbidden: <why>`. */
export function admissionForbidden(def: ResourceDef, obj: KubeObject, why: string): ApiError {
  const name = admissionName(obj);
  const resource = qualifiedResource(def.group, def.resource);
  const message = name ? `${resource} "${name}" is forbidden: ${why}` : `forbidden: ${why}`;
  return new ApiError(403, 'Forbidden', message, { name, ...(def.group ? { group: def.group } : {}), kind: def.resource });
}

export const isPod = (def: ResourceDef): boolean => def.group === '' && def.resource === 'pods';
