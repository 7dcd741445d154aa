// Small helpers shared by the Pod validation files: upstream's common messages, name checks that
// produce FieldErrors, path-safety rules and downward-API field selectors.
import { child, invalid, notSupported, required, type FieldError } from './errors.js';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName } from './names.js';

export const NONNEGATIVE = 'must be greater than or equal to 0';
export const FILE_MODE_ERROR = 'must be a number between 0 and 0777 (octal), both inclusive';
export const MAX_INT32 = 2147483647;

export const sorted = (xs: readonly string[]): string[] => [...xs].sort();

export function nonnegative(value: number, path: string): FieldError[] {
  return value < 0 ? [invalid(path, value, NONNEGATIVE)] : [];
}

export function dns1123Label(value: string, path: string): FieldError[] {
  return isDNS1123Label(value).map((m) => invalid(path, value, m));
}

export function dns1123Subdomain(value: string, path: string): FieldError[] {
  return isDNS1123Subdomain(value).map((m) => invalid(path, value, m));
}

// ---------------- paths ----------------

function pathHasBacksteps(p: string): boolean {
  return p.split(/[\\/]/).includes('..');
}

export function validatePathNoBacksteps(target: string, path: string): FieldError[] {
  return pathHasBacksteps(target) ? [invalid(path, target, "must not contain '..'")] : [];
}

export function validateLocalDescendingPath(target: string, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (target.startsWith('/')) errs.push(invalid(path, target, 'must be a relative path'));
  errs.push(...validatePathNoBacksteps(target, path));
  return errs;
}

// Projected file names starting with ".." would collide with the kubelet's atomic-writer bookkeeping.
export function validateLocalNonReservedPath(target: string, path: string): FieldError[] {
  const errs = validateLocalDescendingPath(target, path);
  if (target.startsWith('..')) errs.push(invalid(path, target, "must not start with '..'"));
  return errs;
}

export const ENV_FIELD_PATHS = [
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.serviceAccountName',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
];
export const ENV_RESOURCE_PATHS = [
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.ephemeral-storage',
];

export const VOLUME_FIELD_PATHS = ['metadata.name', 'metadata.namespace', 'metadata.labels', 'metadata.annotations', 'metadata.uid'];

export function validateObjectFieldSelector(ref: { apiVersion: string; fieldPath: string }, allowed: string[], fp: string): FieldError[] {
  if (ref.apiVersion === '') return [required(child(fp, 'apiVersion'))];
  if (ref.fieldPath === '') return [required(child(fp, 'fieldPath'))];
  // Subscripted label/annotation paths select a single key, whose syntax is what matters.
  const sub = /^(metadata\.(?:labels|annotations))\['(.*)'\]$/.exec(ref.fieldPath);
  if (sub) {
    const k = sub[1] === 'metadata.annotations' ? (sub[2] ?? '').toLowerCase() : (sub[2] ?? '');
    return isQualifiedName(k).map((m) => invalid(fp, k, m));
  }
  if (!allowed.includes(ref.fieldPath)) return [notSupported(child(fp, 'fieldPath'), ref.fieldPath, sorted(allowed))];
  return [];
}

