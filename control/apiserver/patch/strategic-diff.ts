// The client half of strategic merge patch: the patches kubectl computes (CreateTwoWayMergePatch for `kubectl edit`,
// CreateThreeWayMergePatch for client-side `kubectl apply`). The API server never needs these; they let tests and
// tools produce exactly what kubectl would send.
import { smpError } from './errors.js';
import { clone, deepEqual, goFormat, isObject, kindOf, type JsonObject, type JsonValue } from './json.js';
import { K8S_PATCH_SCHEMA, type PatchSchema } from './schema.js';
import {
  DELETE,
  DELETE_FROM_PRIMITIVE_LIST,
  DIRECTIVE,
  errNoMergeKey,
  fail,
  mainStrategy,
  MERGE,
  mergeMap,
  normalizeSliceOrder,
  REPLACE,
  RETAIN_KEYS,
  Schema,
  SET_ELEMENT_ORDER,
  sliceElementKind,
  SmpFailure,
  type SmpSchemaRef,
} from './strategic.js';

interface DiffOptions {
  setElementOrder: boolean;
  ignoreChangesAndAdditions: boolean;
  ignoreDeletions: boolean;
  buildRetainKeysDirective: boolean;
}

/** Go's `%v` of a scalar, which is what upstream sorts and compares list members by. */
const scalarString = (v: JsonValue | undefined): string => goFormat(v);
/** Go's sort.Strings order (bytewise on UTF-8; UTF-16 order agrees for the characters used in practice). */
const byString = (a: JsonValue | undefined, b: JsonValue | undefined): number => {
  const x = scalarString(a);
  const y = scalarString(b);
  return x < y ? -1 : x > y ? 1 : 0;
};

function diffMaps(original: JsonObject, modified: JsonObject, schema: Schema, opts: DiffOptions): JsonObject {
  const patch: JsonObject = {};
  const retainKeys: string[] = [];
  for (const [key, modifiedValue] of Object.entries(modified)) {
    if (opts.buildRetainKeysDirective && modifiedValue !== null) retainKeys.push(key);
    if (!Object.prototype.hasOwnProperty.call(original, key)) {
      if (!opts.ignoreChangesAndAdditions) patch[key] = modifiedValue;
      continue;
    }
    const originalValue = original[key] as JsonValue;
    if (key === DIRECTIVE) {
      if (typeof originalValue !== 'string' || typeof modifiedValue !== 'string') fail(`invalid value for special key: ${DIRECTIVE}`);
      if (originalValue !== modifiedValue) patch[key] = modifiedValue;
      continue;
    }
    if (kindOf(originalValue) !== kindOf(modifiedValue)) {
      if (!opts.ignoreChangesAndAdditions) patch[key] = modifiedValue;
      continue;
    }
    if (isObject(originalValue)) handleMapDiff(key, originalValue, modifiedValue as JsonObject, patch, schema, opts);
    else if (Array.isArray(originalValue)) handleSliceDiff(key, originalValue, modifiedValue as JsonValue[], patch, schema, opts);
    else if (!opts.ignoreChangesAndAdditions && !deepEqual(originalValue, modifiedValue)) patch[key] = modifiedValue;
  }
  if (!opts.ignoreDeletions) {
    for (const key of Object.keys(original)) if (!Object.prototype.hasOwnProperty.call(modified, key)) patch[key] = null;
  }
  const hasAdditionalNewField = Object.entries(original).some(([k, v]) => v !== null && !Object.prototype.hasOwnProperty.call(modified, k));
  if (retainKeys.length > 0 && (Object.keys(patch).length > 0 || hasAdditionalNewField)) patch[RETAIN_KEYS] = retainKeys.sort(byString);
  return patch;
}

function handleMapDiff(key: string, original: JsonObject, modified: JsonObject, patch: JsonObject, schema: Schema, opts: DiffOptions): void {
  const { meta, sub } = schema.lookup(key);
  const strategy = mainStrategy(meta.strategy);
  const sub_opts = { ...opts, buildRetainKeysDirective: (meta.strategy ?? '').split(',').includes('retainKeys') };
  if (strategy === REPLACE) {
    if (!opts.ignoreChangesAndAdditions) patch[key] = modified;
    return;
  }
  const value = diffMaps(original, modified, sub, sub_opts);
  if (Object.keys(value).length > 0) patch[key] = value;
}

function handleSliceDiff(key: string, original: JsonValue[], modified: JsonValue[], patch: JsonObject, schema: Schema, opts: DiffOptions): void {
  const { meta, sub } = schema.lookup(key);
  if (mainStrategy(meta.strategy) !== MERGE) {
    if (!opts.ignoreChangesAndAdditions && !deepEqual(original, modified)) patch[key] = modified;
    return;
  }
  const sub_opts = { ...opts, buildRetainKeysDirective: (meta.strategy ?? '').split(',').includes('retainKeys') };
  const [add, del, order] = diffLists(original, modified, sub, meta.mergeKey ?? '', sub_opts);
  if (add.length > 0) patch[key] = add;
  if (del.length > 0) patch[`${DELETE_FROM_PRIMITIVE_LIST}/${key}`] = del;
  if (order.length > 0) patch[`${SET_ELEMENT_ORDER}/${key}`] = order;
}

/** [patch list, parallel deletion list (scalars), $setElementOrder list]. */
function diffLists(original: JsonValue[], modified: JsonValue[], elem: Schema, mergeKey: string, opts: DiffOptions): [JsonValue[], JsonValue[], JsonValue[]] {
  if (original.length === 0) {
    if (modified.length === 0 || opts.ignoreChangesAndAdditions) return [[], [], []];
    return [modified, [], []];
  }
  const kind = sliceElementKind(original, modified);
  if (kind === 'object') {
    const [changes, deletions] = diffListsOfMaps(original, modified, elem, mergeKey, opts);
    const patchList = [...normalizeSliceOrder(changes, modified, mergeKey, kind), ...deletions];
    const orderSame =
      original.length === modified.length &&
      modified.every((m, i) => {
        const o = original[i] as JsonValue;
        if (!isObject(o) || !Object.prototype.hasOwnProperty.call(o, mergeKey)) errNoMergeKey(o, mergeKey);
        if (!isObject(m) || !Object.prototype.hasOwnProperty.call(m, mergeKey)) errNoMergeKey(m, mergeKey);
        return (o as JsonObject)[mergeKey] === (m as JsonObject)[mergeKey];
      });
    let order: JsonValue[] = [];
    if (
      opts.setElementOrder &&
      ((!opts.ignoreChangesAndAdditions && (patchList.length > 0 || !orderSame)) || (!opts.ignoreDeletions && patchList.length > 0))
    ) {
      order = modified.map((v) => ({ [mergeKey]: (v as JsonObject)[mergeKey] as JsonValue }));
    }
    return [patchList, [], order];
  }
  const [adds, deletions] = diffListsOfScalars(original, modified, opts);
  const patchList = normalizeSliceOrder(adds, modified, mergeKey, kind);
  const order =
    opts.setElementOrder &&
    ((!opts.ignoreDeletions && deletions.length > 0) || (!opts.ignoreChangesAndAdditions && !deepEqual(original, modified)))
      ? modified
      : [];
  return [patchList, deletions, order];
}

function diffListsOfScalars(original: JsonValue[], modified: JsonValue[], opts: DiffOptions): [JsonValue[], JsonValue[]] {
  const o = [...original].sort(byString);
  const m = [...modified].sort(byString);
  const add: JsonValue[] = [];
  const del: JsonValue[] = [];
  let i = 0;
  let j = 0;
  while (i < o.length || j < m.length) {
    const c = i >= o.length ? 1 : j >= m.length ? -1 : byString(o[i], m[j]);
    if (c === 0) {
      i++;
      j++;
    } else if (c < 0) {
      if (!opts.ignoreDeletions) del.push(o[i] as JsonValue);
      i++;
    } else {
      if (!opts.ignoreChangesAndAdditions) add.push(m[j] as JsonValue);
      j++;
    }
  }
  return [add, del.filter((v, k) => del.indexOf(v) === k)];
}

function diffListsOfMaps(original: JsonValue[], modified: JsonValue[], elem: Schema, mergeKey: string, opts: DiffOptions): [JsonValue[], JsonValue[]] {
  const keyed = (list: JsonValue[]): Array<[JsonObject, JsonValue]> =>
    list
      .map((v): [JsonObject, JsonValue] => {
        if (!isObject(v)) fail(`expected a map[string]interface {}, but received a ${kindOf(v)}`);
        if (!Object.prototype.hasOwnProperty.call(v, mergeKey)) errNoMergeKey(v, mergeKey);
        return [v as JsonObject, (v as JsonObject)[mergeKey] as JsonValue];
      })
      .sort((a, b) => byString(a[1], b[1]));
  const o = keyed(original);
  const m = keyed(modified);
  const patch: JsonValue[] = [];
  const deletions: JsonValue[] = [];
  let i = 0;
  let j = 0;
  while (i < o.length || j < m.length) {
    const c = i >= o.length ? 1 : j >= m.length ? -1 : byString(o[i]![1], m[j]![1]);
    if (c === 0) {
      const value = diffMaps(o[i]![0], m[j]![0], elem, opts);
      if (Object.keys(value).length > 0) {
        value[mergeKey] = m[j]![1];
        patch.push(value);
      }
      i++;
      j++;
    } else if (c > 0) {
      if (!opts.ignoreChangesAndAdditions) patch.push(m[j]![0]);
      j++;
    } else {
      if (!opts.ignoreDeletions) deletions.push({ [mergeKey]: o[i]![1], [DIRECTIVE]: DELETE });
      i++;
    }
  }
  return [patch, deletions];
}

function resolve(schema: SmpSchemaRef): Schema {
  return typeof schema === 'string' ? new Schema(K8S_PATCH_SCHEMA, schema) : new Schema(schema.types as PatchSchema, schema.root);
}

function run<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof SmpFailure) throw smpError(e.message);
    throw e;
  }
}

/**
 * CreateTwoWayMergePatch: the strategic merge patch turning `original` into `modified` (what `kubectl edit` sends
 * for built-in kinds). strategicMergePatch(original, result, schema) yields `modified` for null-free documents.
 */
export function createTwoWayMergePatch(original: JsonObject, modified: JsonObject, schema: SmpSchemaRef): JsonObject {
  return run(() =>
    diffMaps(clone(original), clone(modified), resolve(schema), {
      setElementOrder: true,
      ignoreChangesAndAdditions: false,
      ignoreDeletions: false,
      buildRetainKeysDirective: false,
    }),
  );
}

/**
 * CreateThreeWayMergePatch with overwrite (kubectl apply's default): the changes from `current` (live) to
 * `modified` (new config) without deletions, plus the deletions from `original` (last applied) to `modified`.
 * Conflict detection (overwrite=false) is not implemented.
 */
export function createThreeWayMergePatch(original: JsonObject | undefined, modified: JsonObject, current: JsonObject, schema: SmpSchemaRef): JsonObject {
  return run(() => {
    const s = resolve(schema);
    const delta = diffMaps(clone(current), clone(modified), s, {
      setElementOrder: true,
      ignoreChangesAndAdditions: false,
      ignoreDeletions: true,
      buildRetainKeysDirective: false,
    });
    const deletions = diffMaps(clone(original ?? {}), clone(modified), s, {
      setElementOrder: true,
      ignoreChangesAndAdditions: true,
      ignoreDeletions: false,
      buildRetainKeysDirective: false,
    });
    return mergeMap(deletions, delta, s, { mergeParallelList: false, ignoreUnmatchedNulls: false });
  });
}
