// Upstream's StorageClass validation (pkg/apis/storage/validation, Kubernetes 1.32): ValidateStorageClass and
// ValidateStorageClassUpdate, plus the warnings the strategy returns for deprecated node labels in allowedTopologies.
import { isDeepStrictEqual } from 'node:util';
import { child, duplicate, forbidden, index, invalid, notSupported, required, tooLong, type FieldError } from '../errors.js';
import { validateObjectMeta } from '../meta.js';
import { isQualifiedName } from '../names.js';
import { validateImmutableField } from '../apps/common.js';
import { RECLAIM_POLICIES, VOLUME_BINDING_MODES, type StorageClass, type TopologySelectorTerm } from './storageclass.js';

/** At most this many provisioner parameters... */
export const MAX_PROVISIONER_PARAMETERS = 512;
/** ...of at most this many bytes of keys and values together. */
export const MAX_PROVISIONER_PARAMETER_BYTES = 256 * 1024;

/** A provisioner is required and, lowercased, a qualified name (the lowercased value is what errors show). */
function validateProvisioner(provisioner: string, path: string): FieldError[] {
  if (provisioner === '') return [required(path)];
  const lower = provisioner.toLowerCase();
  return isQualifiedName(lower).map((m) => invalid(path, lower, m));
}

/** More than 512 parameters is the only error reported; otherwise empty keys, then the total size of keys and values. */
function validateParameters(params: Record<string, string> | undefined, path: string): FieldError[] {
  const entries = Object.entries(params ?? {});
  if (entries.length > MAX_PROVISIONER_PARAMETERS)
    return [tooLong(path, MAX_PROVISIONER_PARAMETERS)];
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of entries) {
    if (k.length < 1) errs.push(invalid(path, k, 'field can not be empty.'));
    size += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (size > MAX_PROVISIONER_PARAMETER_BYTES)
    errs.push(tooLong(path, MAX_PROVISIONER_PARAMETER_BYTES));
  return errs;
}

function validateReclaimPolicy(policy: string, path: string): FieldError[] {
  // An empty policy (set explicitly to "") is let through, as upstream.
  if (policy === '' || (RECLAIM_POLICIES as readonly string[]).includes(policy)) return [];
  return [notSupported(path, policy, RECLAIM_POLICIES)];
}

function validateVolumeBindingMode(mode: string, path: string): FieldError[] {
  return (VOLUME_BINDING_MODES as readonly string[]).includes(mode) ? [] : [notSupported(path, mode, VOLUME_BINDING_MODES)];
}

/** ValidateTopologySelectorTerm: each requirement has values (without repeats) and a label-name key, keys unique. */
function validateTopologySelectorTerm(term: TopologySelectorTerm, path: string): { values: Map<string, Set<string>>; errs: FieldError[] } {
  const errs: FieldError[] = [];
  const values = new Map<string, Set<string>>();
  const exprPath = child(path, 'matchLabelExpressions');
  (term.matchLabelExpressions ?? []).forEach((req, i) => {
    const p = index(exprPath, i);
    const set = new Set<string>();
    const valuesPath = child(p, 'values');
    if ((req.values ?? []).length === 0) errs.push(required(valuesPath));
    (req.values ?? []).forEach((v, j) => {
      if (set.has(v)) errs.push(duplicate(index(valuesPath, j), v));
      set.add(v);
    });
    for (const m of isQualifiedName(req.key)) errs.push(invalid(child(p, 'key'), req.key, m));
    if (values.has(req.key)) errs.push(duplicate(child(p, 'key'), req.key));
    values.set(req.key, set);
  });
  return { values, errs };
}

const sortedEntries = (m: Map<string, Set<string>>): Array<[string, string[]]> =>
  [...m.entries()].map(([k, s]): [string, string[]] => [k, [...s].sort()]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/**
 * validateAllowedTopologies: every term valid, and no term the same as another (as sets of keys and values). Upstream
 * compares against a list that starts out with one empty entry per term, so a term with no expressions is always
 * reported as a duplicate; that is kept.
 */
function validateAllowedTopologies(terms: TopologySelectorTerm[] | undefined, path: string): FieldError[] {
  if (!terms || terms.length === 0) return [];
  const errs: FieldError[] = [];
  const seen: Array<Array<[string, string[]]>> = terms.map(() => []);
  terms.forEach((term, i) => {
    const p = index(path, i);
    const r = validateTopologySelectorTerm(term, p);
    errs.push(...r.errs);
    const mine = sortedEntries(r.values);
    for (const other of seen) if (isDeepStrictEqual(mine, other)) errs.push(duplicate(child(p, 'matchLabelExpressions'), ''));
    seen.push(mine);
  });
  return errs;
}

/** ValidateStorageClass. */
export function validateStorageClass(sc: StorageClass): FieldError[] {
  return [
    ...validateObjectMeta(sc.metadata, { namespaced: false }),
    ...validateProvisioner(sc.provisioner, 'provisioner'),
    ...validateParameters(sc.parameters, 'parameters'),
    ...validateReclaimPolicy(sc.reclaimPolicy, 'reclaimPolicy'),
    ...validateVolumeBindingMode(sc.volumeBindingMode, 'volumeBindingMode'),
    ...validateAllowedTopologies(sc.allowedTopologies, 'allowedTopologies'),
  ];
}

/**
 * What the strategy checks on update: the class as on create, then provisioner, parameters, reclaimPolicy and
 * volumeBindingMode unchanged (mountOptions, allowVolumeExpansion and allowedTopologies may change).
 */
export function validateStorageClassUpdate(sc: StorageClass, old: StorageClass): FieldError[] {
  const errs = validateStorageClass(sc);
  // No parameters and empty parameters differ, as with Go's reflect.DeepEqual on a nil and an empty map.
  if (!isDeepStrictEqual(sc.parameters, old.parameters)) errs.push(forbidden('parameters', 'updates to parameters are forbidden.'));
  if (sc.provisioner !== old.provisioner) errs.push(forbidden('provisioner', 'updates to provisioner are forbidden.'));
  if (sc.reclaimPolicy !== old.reclaimPolicy) errs.push(forbidden('reclaimPolicy', 'updates to reclaimPolicy are forbidden.'));
  errs.push(...validateImmutableField(sc.volumeBindingMode, old.volumeBindingMode, 'volumeBindingMode'));
  return errs;
}

/** Node labels upstream deprecates, with what it says to use instead (pkg/api/node GetNodeLabelDeprecatedMessage). */
const DEPRECATED_NODE_LABELS: Record<string, string> = {
  'beta.kubernetes.io/arch': 'deprecated since v1.14; use "kubernetes.io/arch" instead',
  'beta.kubernetes.io/os': 'deprecated since v1.14; use "kubernetes.io/os" instead',
  'failure-domain.beta.kubernetes.io/region': 'deprecated since v1.17; use "topology.kubernetes.io/region" instead',
  'failure-domain.beta.kubernetes.io/zone': 'deprecated since v1.17; use "topology.kubernetes.io/zone" instead',
  'beta.kubernetes.io/instance-type': 'deprecated since v1.17; use "node.kubernetes.io/instance-type" instead',
};

/** GetWarningsForStorageClass: one warning per allowedTopologies key that is a deprecated node label. */
export function storageClassWarnings(sc: StorageClass): string[] {
  const out: string[] = [];
  (sc.allowedTopologies ?? []).forEach((term, i) => {
    (term.matchLabelExpressions ?? []).forEach((req, j) => {
      const msg = DEPRECATED_NODE_LABELS[req.key];
      if (msg !== undefined) out.push(`allowedTopologies[${i}].matchLabelExpressions[${j}].key: ${msg}`);
    });
  });
  return out;
}
