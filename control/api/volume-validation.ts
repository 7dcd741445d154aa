// Volume rules of upstream's ValidatePodSpec: names, exactly one source, per-source checks.
import { child, duplicate, forbidden, index, invalid, notSupported, required, type FieldError } from './errors.js';
import type { Volume } from './pod.js';
import { VOLUME_SOURCE_KEYS } from './pod.js';
import { isNegativeQuantity, quantityError } from './quantity.js';
import {
  dns1123Label,
  dns1123Subdomain,
  ENV_RESOURCE_PATHS,
  FILE_MODE_ERROR,
  sorted,
  validateLocalNonReservedPath,
  validateObjectFieldSelector,
  validatePathNoBacksteps,
  VOLUME_FIELD_PATHS,
} from './validation-util.js';

const HOST_PATH_TYPES = ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'];

function validateFileMode(mode: number | undefined, path: string): FieldError[] {
  return mode !== undefined && (mode < 0 || mode > 0o777) ? [invalid(path, mode, FILE_MODE_ERROR)] : [];
}

function validateKeyToPaths(items: { key: string; path: string; mode?: number | undefined }[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  (items ?? []).forEach((item, i) => {
    const p = index(path, i);
    if (item.key === '') errs.push(required(child(p, 'key')));
    if (item.path === '') errs.push(required(child(p, 'path')));
    else errs.push(...validateLocalNonReservedPath(item.path, child(p, 'path')));
    errs.push(...validateFileMode(item.mode, child(p, 'mode')));
  });
  return errs;
}

function validateVolumeSource(vol: Volume, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let count = 0;
  for (const k of VOLUME_SOURCE_KEYS) {
    if (vol[k] === undefined) continue;
    if (count > 0) {
      errs.push(forbidden(child(path, k), 'may not specify more than 1 volume type'));
      continue;
    }
    count++;
    errs.push(...validateOneSource(vol, k, child(path, k)));
  }
  if (count === 0) errs.push(required(path, 'must specify a volume type'));
  return errs;
}

function validateOneSource(vol: Volume, k: (typeof VOLUME_SOURCE_KEYS)[number], path: string): FieldError[] {
  const errs: FieldError[] = [];
  switch (k) {
    case 'hostPath': {
      const hp = vol.hostPath;
      if (!hp) break;
      if (hp.path === '') return [required(child(path, 'path'))];
      errs.push(...validatePathNoBacksteps(hp.path, child(path, 'path')));
      if (!HOST_PATH_TYPES.includes(hp.type)) errs.push(notSupported(child(path, 'type'), hp.type, sorted(HOST_PATH_TYPES)));
      break;
    }
    case 'emptyDir': {
      const size = vol.emptyDir?.sizeLimit;
      if (size !== undefined) {
        const bad = quantityError(size);
        if (bad) errs.push(invalid(child(path, 'sizeLimit'), size, bad));
        else if (isNegativeQuantity(size))
          errs.push(forbidden(child(path, 'sizeLimit'), 'SizeLimit field must be a valid resource quantity'));
      }
      break;
    }
    case 'secret': {
      const s = vol.secret;
      if (!s) break;
      if (!s.secretName) errs.push(required(child(path, 'secretName')));
      errs.push(...validateFileMode(s.defaultMode, child(path, 'defaultMode')));
      errs.push(...validateKeyToPaths(s.items, child(path, 'items')));
      break;
    }
    case 'configMap': {
      const c = vol.configMap;
      if (!c) break;
      if (!c.name) errs.push(required(child(path, 'name')));
      else errs.push(...dns1123Subdomain(c.name, child(path, 'name')));
      errs.push(...validateFileMode(c.defaultMode, child(path, 'defaultMode')));
      errs.push(...validateKeyToPaths(c.items, child(path, 'items')));
      break;
    }
    case 'persistentVolumeClaim':
      if (vol.persistentVolumeClaim?.claimName === '') errs.push(required(child(path, 'claimName')));
      break;
    case 'projected':
      errs.push(...validateFileMode(vol.projected?.defaultMode, child(path, 'defaultMode')));
      break;
    case 'downwardAPI': {
      const d = vol.downwardAPI;
      if (!d) break;
      errs.push(...validateFileMode(d.defaultMode, child(path, 'defaultMode')));
      (d.items ?? []).forEach((item, i) => {
        const ip = index(child(path, 'items'), i);
        if (item.path === '') errs.push(required(child(ip, 'path')));
        errs.push(...validateLocalNonReservedPath(item.path, child(ip, 'path')));
        if (item.fieldRef) {
          errs.push(...validateObjectFieldSelector(item.fieldRef, VOLUME_FIELD_PATHS, child(ip, 'fieldRef')));
          if (item.resourceFieldRef)
            errs.push(invalid(ip, 'resource', 'fieldRef and resourceFieldRef can not be specified simultaneously'));
        } else if (item.resourceFieldRef) {
          const rp = child(ip, 'resourceFieldRef');
          const r = item.resourceFieldRef;
          if (!r.containerName) errs.push(required(child(rp, 'containerName')));
          else if (r.resource === '') errs.push(required(child(rp, 'resource')));
          else if (!ENV_RESOURCE_PATHS.includes(r.resource)) errs.push(notSupported(child(rp, 'resource'), r.resource, sorted(ENV_RESOURCE_PATHS)));
        } else {
          errs.push(required(ip, 'one of fieldRef and resourceFieldRef is required'));
        }
        errs.push(...validateFileMode(item.mode, child(ip, 'mode')));
      });
      break;
    }
    default:
      // Sources Skiff cannot mount are accepted as data; the node agent refuses them at run time.
      break;
  }
  return errs;
}

/** Returns the names of the volumes that validated (mounts may refer only to those) and the errors. */
export function validateVolumes(volumes: Volume[], path: string): { names: Set<string>; errors: FieldError[] } {
  const names = new Set<string>();
  const all = new Set<string>();
  const errors: FieldError[] = [];
  volumes.forEach((vol, i) => {
    const p = index(path, i);
    const namePath = child(p, 'name');
    const sourceErrs = validateVolumeSource(vol, p);
    if (vol.name === '') errors.push(required(namePath));
    else errors.push(...dns1123Label(vol.name, namePath));
    if (all.has(vol.name)) errors.push(duplicate(namePath, vol.name));
    all.add(vol.name);
    if (sourceErrs.length === 0) names.add(vol.name);
    else errors.push(...sourceErrs);
  });
  return { names, errors };
}

