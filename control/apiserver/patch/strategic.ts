// Strategic merge patch, server side: k8s.io/apimachinery/pkg/util/strategicpatch's StrategicMergeMapPatch
// (MergeParallelList and IgnoreUnmatchedNulls on), re-implemented over plain JSON with a data schema in place of Go
// struct tags.
//
// The patch is a merge patch whose lists merge by key where the schema says so, plus directives:
//   $patch: replace | delete          on an object (replace: take this object as is; delete: empty it), or as a list
//                                     element ({$patch: replace} replaces the list, {name: x, $patch: delete} drops x)
//   $deleteFromPrimitiveList/<field>  scalars to remove from a merged scalar list
//   $setElementOrder/<field>          the final relative order of a merged list (what kubectl apply sends)
//   $retainKeys                       the members an object keeps; others are cleared
// and null deletes a member.
//
// Upstream decodes the result into the Go type afterwards, silently dropping members the type does not have; here the
// directive keys that upstream would leave to that decode are removed from the result instead.
import { patchBadRequest, smpError, SMP_ERR } from './errors.js';
import { clone, deepEqual, goFormat, goTypeName, isObject, jsonTypeWord, kindOf, type JsonKind, type JsonObject, type JsonValue } from './json.js';
import { K8S_PATCH_SCHEMA, lookupMapValue, lookupPatchMeta, type PatchMeta, type PatchSchema } from './schema.js';

export const DIRECTIVE = '$patch';
export const DELETE = 'delete';
export const REPLACE = 'replace';
export const MERGE = 'merge';
export const RETAIN_KEYS = '$retainKeys';
export const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList';
export const SET_ELEMENT_ORDER = '$setElementOrder';

/** MergeOptions: the server merges parallel lists and drops unmatched nulls; kubectl's three-way combine does neither. */
export interface MergeOptions {
  mergeParallelList: boolean;
  ignoreUnmatchedNulls: boolean;
}
const SERVER: MergeOptions = { mergeParallelList: true, ignoreUnmatchedNulls: true };

/** Internal error carrying a mergepatch message; mapped to its status by smpError at the boundary. */
export class SmpFailure extends Error {}

export const fail = (message: string): never => {
  throw new SmpFailure(message);
};
export const errNoMergeKey = (m: JsonValue, key: string): never => fail(`map: ${goFormat(m)} does not contain declared merge key: ${key}`);
const errBadArgType = (expected: string, actual: JsonValue | undefined): never =>
  fail(`expected a ${expected}, but received a ${goTypeName(actual)}`);

/** The object types of the schema being used, resolved field by field. */
export class Schema {
  constructor(
    private readonly table: PatchSchema,
    readonly type: string | undefined,
  ) {}

  /** Metadata of a member, and the schema to recurse into it with. */
  lookup(key: string): { meta: PatchMeta; sub: Schema } {
    // a map[string]T: every member is a T, with no strategy of its own
    if (this.type?.startsWith('map:')) return { meta: {}, sub: new Schema(this.table, lookupMapValue(this.type)) };
    const meta = lookupPatchMeta(this.table, this.type, key);
    return { meta, sub: new Schema(this.table, meta.type) };
  }

  get name(): string {
    return this.type ?? 'interface {}';
  }
}

/** extractRetainKeysPatchStrategy: the non-retainKeys part of a (possibly compound) strategy. */
export function mainStrategy(strategy: string | undefined): string {
  if (!strategy) return '';
  const parts = strategy.split(',');
  if (parts.length === 1) return parts[0] === 'retainKeys' ? '' : (parts[0] ?? '');
  if (parts.length === 2) {
    if (parts[0] === 'retainKeys') return parts[1] ?? '';
    if (parts[1] === 'retainKeys') return parts[0] ?? '';
  }
  return fail(`unexpected patch strategy: [${parts.join(' ')}]`);
}

// --- helpers over lists ---------------------------------------------------------------------------------------

/** sliceElementType: the single kind of the elements of the given lists. */
export function sliceElementKind(...lists: JsonValue[][]): JsonKind {
  let prev: JsonKind | undefined;
  for (const list of lists) {
    for (const v of list) {
      const k = kindOf(v);
      if (prev === undefined) {
        prev = k;
        if (prev === 'array') fail(SMP_ERR.noListOfLists);
      } else if (prev !== k) {
        fail(`list element types are not identical: [${lists.map((l) => goFormat(l)).join(' ')}]`);
      }
    }
  }
  if (prev === undefined) fail('no elements in any of the given slices');
  return prev as JsonKind;
}

/** Merge key value of a list element (undefined when absent, as Go's map lookup yields nil). */
const keyOf = (v: JsonValue, mergeKey: string): JsonValue | undefined => (isObject(v) ? v[mergeKey] : undefined);

/** index(): position of a value in `list` (first match), by merge key value for objects, by value otherwise. */
function indexer(list: JsonValue[], mergeKey: string, kind: JsonKind): (v: JsonValue) => number {
  const first = new Map<JsonValue | undefined, number>();
  const keyFn = kind === 'object' ? (v: JsonValue) => keyOf(v, mergeKey) : (v: JsonValue) => v;
  list.forEach((v, i) => {
    const k = keyFn(v);
    if (!first.has(k)) first.set(k, i);
  });
  return (v) => first.get(keyFn(v)) ?? -1;
}

function validateMergeKeyInLists(mergeKey: string, ...lists: JsonValue[][]): void {
  for (const list of lists)
    for (const item of list) {
      if (!isObject(item)) errBadArgType('map[string]interface {}', item);
      if (!Object.prototype.hasOwnProperty.call(item, mergeKey)) errNoMergeKey(item, mergeKey);
    }
}

/**
 * Go's sort.SliceStable by position in `order`, with upstream's `less` (true whenever either side is not in `order`).
 * When every element is in `order` that comparator is consistent and any stable sort agrees with Go's. Otherwise
 * (an empty $setElementOrder over a live list, say) the outcome depends on Go's algorithm, reproduced by goStableSort.
 */
function stableSortByIndex<T>(items: T[], index: (v: T) => number): T[] {
  const idx = items.map(index);
  const pairs = items.map((v, i) => [v, idx[i] as number] as [T, number]);
  if (idx.every((i) => i >= 0)) return pairs.sort((a, b) => a[1] - b[1]).map(([v]) => v);
  goStableSort(pairs, (x, y) => (x[1] >= 0 && y[1] >= 0 ? x[1] < y[1] : true));
  return pairs.map(([v]) => v);
}

/** Go's sort.Stable (insertion-sorted blocks of 20, then in-place SymMerge), with the same calls to `less`. */
function goStableSort<T>(data: T[], lessFn: (x: T, y: T) => boolean): void {
  const less = (i: number, j: number): boolean => lessFn(data[i] as T, data[j] as T);
  const swap = (i: number, j: number): void => {
    const t = data[i] as T;
    data[i] = data[j] as T;
    data[j] = t;
  };
  const insertionSort = (a: number, b: number): void => {
    for (let i = a + 1; i < b; i++) for (let j = i; j > a && less(j, j - 1); j--) swap(j, j - 1);
  };
  const swapRange = (a: number, b: number, n: number): void => {
    for (let i = 0; i < n; i++) swap(a + i, b + i);
  };
  const rotate = (a: number, m: number, b: number): void => {
    let i = m - a;
    let j = b - m;
    while (i !== j) {
      if (i > j) {
        swapRange(m - i, m, j);
        i -= j;
      } else {
        swapRange(m - i, m + j - i, i);
        j -= i;
      }
    }
    swapRange(m - i, m, i);
  };
  const symMerge = (a: number, m: number, b: number): void => {
    if (m - a === 1) {
      let i = m;
      let j = b;
      while (i < j) {
        const h = (i + j) >>> 1;
        if (less(h, a)) i = h + 1;
        else j = h;
      }
      for (let k = a; k < i - 1; k++) swap(k, k + 1);
      return;
    }
    if (b - m === 1) {
      let i = a;
      let j = m;
      while (i < j) {
        const h = (i + j) >>> 1;
        if (!less(m, h)) i = h + 1;
        else j = h;
      }
      for (let k = m; k > i; k--) swap(k, k - 1);
      return;
    }
    const mid = (a + b) >>> 1;
    const n = mid + m;
    let start: number;
    let r: number;
    if (m > mid) {
      start = n - b;
      r = mid;
    } else {
      start = a;
      r = m;
    }
    const p = n - 1;
    while (start < r) {
      const c = (start + r) >>> 1;
      if (!less(p - c, c)) start = c + 1;
      else r = c;
    }
    const end = n - start;
    if (start < m && m < end) rotate(start, m, end);
    if (a < start && start < mid) symMerge(a, start, mid);
    if (mid < end && end < b) symMerge(mid, end, b);
  };
  const n = data.length;
  let blockSize = 20;
  let a = 0;
  let b = blockSize;
  while (b <= n) {
    insertionSort(a, b);
    a = b;
    b += blockSize;
  }
  insertionSort(a, n);
  while (blockSize < n) {
    a = 0;
    b = 2 * blockSize;
    while (b <= n) {
      symMerge(a, a + blockSize, b);
      a = b;
      b += 2 * blockSize;
    }
    const m = a + blockSize;
    if (m < n) symMerge(a, m, n);
    blockSize *= 2;
  }
}

/** normalizeSliceOrder: sort `toSort` by `order`; elements marked {$patch: delete} go last. */
export function normalizeSliceOrder(toSort: JsonValue[], order: JsonValue[], mergeKey: string, kind: JsonKind): JsonValue[] {
  let keep = toSort;
  let toDelete: JsonValue[] = [];
  if (kind === 'object') {
    validateMergeKeyInLists(mergeKey, toSort, order);
    keep = toSort.filter((v) => !(isObject(v) && v[DIRECTIVE] === DELETE));
    toDelete = toSort.filter((v) => isObject(v) && v[DIRECTIVE] === DELETE);
  }
  return [...stableSortByIndex(keep, indexer(order, mergeKey, kind)), ...toDelete];
}

/** mergeSortedSlice: interleave server-only items (left) into patch items (right) following the live order. */
function mergeSortedSlice(left: JsonValue[], right: JsonValue[], serverOrder: JsonValue[], mergeKey: string, kind: JsonKind): JsonValue[] {
  const index = indexer(serverOrder, mergeKey, kind);
  const li = left.map(index);
  const ri = right.map(index);
  const out: JsonValue[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++] as JsonValue);
    else if (j >= right.length) out.push(left[i++] as JsonValue);
    else if ((li[i] as number) >= 0 && (ri[j] as number) >= 0 && (li[i] as number) < (ri[j] as number)) out.push(left[i++] as JsonValue);
    else out.push(right[j++] as JsonValue);
  }
  return out;
}

/** normalizeElementOrder: patch items in patch order, server-only items in live order, interleaved. */
function normalizeElementOrder(
  patchItems: JsonValue[],
  serverOnly: JsonValue[],
  patchOrder: JsonValue[],
  serverOrder: JsonValue[],
  mergeKey: string,
  kind: JsonKind,
): JsonValue[] {
  const p = normalizeSliceOrder(patchItems, patchOrder, mergeKey, kind);
  const s = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind);
  return mergeSortedSlice(s, p, serverOrder, mergeKey, kind);
}

/** Splits `list` into the items present in `by` and the rest (by merge key for objects, by value otherwise). */
function partition(list: JsonValue[], by: JsonValue[], mergeKey: string): [JsonValue[], JsonValue[]] {
  const inPatch: JsonValue[] = [];
  const serverOnly: JsonValue[] = [];
  if (mergeKey === '') {
    const set = new Set(by);
    for (const v of list) (set.has(v) ? inPatch : serverOnly).push(v);
    return [inPatch, serverOnly];
  }
  const keys = new Set<JsonValue | undefined>();
  by.forEach((b, i) => {
    if (!isObject(b)) fail(`value for key ${i} is not a map.`);
    if (Object.prototype.hasOwnProperty.call(b, mergeKey)) keys.add((b as JsonObject)[mergeKey]);
  });
  for (const v of list) {
    if (!isObject(v)) errBadArgType('map[string]interface {}', v);
    if (!Object.prototype.hasOwnProperty.call(v, mergeKey)) errNoMergeKey(v, mergeKey);
    (keys.has((v as JsonObject)[mergeKey]) ? inPatch : serverOnly).push(v);
  }
  return [inPatch, serverOnly];
}

/** deduplicateScalars, keeping first occurrences. */
const dedupe = (list: JsonValue[]): JsonValue[] => [...new Set(list)];

// --- directives ---------------------------------------------------------------------------------------------------

/** removeDirectives: objects carrying $patch are dropped (from lists, or as member values); returns keep=false for one. */
function removeDirectives(v: JsonValue): { value: JsonValue; keep: boolean } {
  if (isObject(v)) {
    if (Object.prototype.hasOwnProperty.call(v, DIRECTIVE)) return { value: null, keep: false };
    for (const k of Object.keys(v)) {
      const r = removeDirectives(v[k] as JsonValue);
      if (r.keep) v[k] = r.value;
      else delete v[k];
    }
    return { value: v, keep: true };
  }
  if (Array.isArray(v)) {
    const out: JsonValue[] = [];
    for (const x of v) {
      const r = removeDirectives(x);
      if (r.keep) out.push(r.value);
    }
    return { value: out, keep: true };
  }
  return { value: v, keep: true };
}

/** discardNullValuesFromPatch. */
function discardNulls(v: JsonValue): void {
  if (isObject(v)) {
    for (const k of Object.keys(v)) {
      if (v[k] === null) delete v[k];
      else discardNulls(v[k] as JsonValue);
    }
  } else if (Array.isArray(v)) v.forEach(discardNulls);
}

const isDirectiveKey = (k: string): boolean =>
  k === DIRECTIVE || k === RETAIN_KEYS || k.startsWith(`${SET_ELEMENT_ORDER}/`) || k.startsWith(`${DELETE_FROM_PRIMITIVE_LIST}/`);

/** What the typed decode upstream does to leftover directive members: they are not fields, so they vanish. */
function dropDirectiveKeys(v: JsonValue): void {
  if (isObject(v)) {
    for (const k of Object.keys(v)) {
      if (isDirectiveKey(k)) delete v[k];
      else dropDirectiveKeys(v[k] as JsonValue);
    }
  } else if (Array.isArray(v)) v.forEach(dropDirectiveKeys);
}

/** extractKey: "<prefix>/<field>" → field. */
function extractKey(s: string, prefix: string): string {
  const slash = s.indexOf('/');
  if (slash < 0 || s.slice(0, slash) !== prefix) {
    if (prefix === DELETE_FROM_PRIMITIVE_LIST) fail(SMP_ERR.badPatchFormatForPrimitiveList);
    if (prefix === SET_ELEMENT_ORDER) fail(SMP_ERR.badPatchFormatForSetElementOrderList);
    fail(`fail to find unknown prefix ${JSON.stringify(prefix)} in ${s}\n`);
  }
  return s.slice(slash + 1);
}

/** handleDirectiveInMergeMap: replace → the patch minus the marker; delete → empty object; anything else an error. */
function handleDirectiveInMergeMap(directive: JsonValue | undefined, patch: JsonObject): JsonObject {
  if (directive === REPLACE) {
    delete patch[DIRECTIVE];
    return patch;
  }
  if (directive === DELETE) return {};
  return fail(`unknown patch type: ${goFormat(directive)} in map: ${goFormat(patch)}`);
}

/** applyRetainKeysDirective. */
function applyRetainKeys(original: JsonObject, patch: JsonObject, opts: MergeOptions): void {
  if (!Object.prototype.hasOwnProperty.call(patch, RETAIN_KEYS)) return;
  const list = patch[RETAIN_KEYS] as JsonValue;
  delete patch[RETAIN_KEYS];
  if (!opts.mergeParallelList) {
    // combining two patches: both must agree on the directive, which the result keeps
    if (Object.prototype.hasOwnProperty.call(original, RETAIN_KEYS)) {
      if (!deepEqual(original[RETAIN_KEYS], list))
        fail(`${goFormat(original[RETAIN_KEYS])} and ${goFormat(list)} are not deep equal: this may happen when calculating the 3-way diff patch`);
    } else original[RETAIN_KEYS] = list;
    return;
  }
  if (!Array.isArray(list)) fail(SMP_ERR.badPatchFormatForRetainKeys);
  const keys = new Set((list as JsonValue[]).filter((k): k is string => typeof k === 'string'));
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(DELETE_FROM_PRIMITIVE_LIST) || k.startsWith(SET_ELEMENT_ORDER)) continue;
    if (!keys.has(k)) fail(SMP_ERR.badPatchFormatForRetainKeys);
  }
  for (const k of Object.keys(original)) if (!keys.has(k)) delete original[k];
}

/** validatePatchWithSetOrderList: patch items must appear in $setElementOrder, in the same relative order. */
function validatePatchWithSetOrderList(patchList: JsonValue[] | undefined, setOrder: JsonValue[], mergeKey: string): void {
  if (!patchList || setOrder.length === 0 || patchList.length === 0) return;
  let nonDelete = patchList;
  if (mergeKey !== '') {
    for (const v of patchList) if (!isObject(v)) errBadArgType('map[string]interface {}', v);
    nonDelete = patchList.filter((v) => !(isObject(v) && v[DIRECTIVE] === DELETE));
  }
  let p = 0;
  let s = 0;
  while (p < nonDelete.length && s < setOrder.length) {
    const item = nonDelete[p] as JsonValue;
    if (isObject(item) && Object.prototype.hasOwnProperty.call(item, DIRECTIVE)) {
      p++;
      continue;
    }
    const order = setOrder[s] as JsonValue;
    let equal: boolean;
    if (mergeKey === '') equal = item === order;
    else {
      if (!isObject(item)) errBadArgType('map[string]interface {}', item);
      if (!isObject(order)) errBadArgType('map[string]interface {}', order);
      if (!Object.prototype.hasOwnProperty.call(item, mergeKey)) errNoMergeKey(item, mergeKey);
      if (!Object.prototype.hasOwnProperty.call(order, mergeKey)) errNoMergeKey(order, mergeKey);
      equal = (item as JsonObject)[mergeKey] === (order as JsonObject)[mergeKey];
    }
    if (equal) p++;
    s++;
  }
  if (p < nonDelete.length && s >= setOrder.length)
    fail(`The order in patch list:\n${goFormat(patchList)}\n doesn't match ${SET_ELEMENT_ORDER} list:\n${goFormat(setOrder)}\n`);
}

// --- the merge ----------------------------------------------------------------------------------------------------

/** mergePatchIntoOriginal: lists that come with a $setElementOrder are merged and ordered here, then left alone. */
function mergePatchIntoOriginal(original: JsonObject, patch: JsonObject, schema: Schema, opts: MergeOptions): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ELEMENT_ORDER)) continue;
    const setOrder = patch[key] as JsonValue;
    if (!opts.mergeParallelList) {
      if (Object.prototype.hasOwnProperty.call(original, key)) {
        if (!deepEqual(original[key], setOrder)) fail(SMP_ERR.badPatchFormatForSetElementOrderList);
      } else original[key] = setOrder;
    }
    delete patch[key];
    if (!Array.isArray(setOrder)) errBadArgType('[]interface {}', setOrder);
    const order = setOrder as JsonValue[];
    const field = extractKey(key, SET_ELEMENT_ORDER);
    const foundOriginal = Object.prototype.hasOwnProperty.call(original, field);
    const foundPatch = Object.prototype.hasOwnProperty.call(patch, field);
    let originalList: JsonValue[] = [];
    let patchList: JsonValue[] | undefined;
    if (foundOriginal) {
      const v = original[field] as JsonValue;
      if (!Array.isArray(v)) errBadArgType('[]interface {}', v);
      originalList = v as JsonValue[];
    }
    if (foundPatch) {
      const v = patch[field] as JsonValue;
      if (!Array.isArray(v)) errBadArgType('[]interface {}', v);
      patchList = v as JsonValue[];
    }
    const { meta, sub } = schema.lookup(field);
    const strategy = mainStrategy(meta.strategy);
    const mergeKey = meta.mergeKey ?? '';
    validatePatchWithSetOrderList(patchList, order, mergeKey);

    let merged: JsonValue[];
    if (foundOriginal && !foundPatch) merged = originalList;
    else if (!foundOriginal && patchList) merged = removeDirectives(patchList).value as JsonValue[];
    else if (foundOriginal && patchList) merged = mergeSliceHandler(originalList, patchList, sub, strategy, mergeKey, false, opts);
    else continue;

    const [patchItems, serverOnly] = partition(merged, order, mergeKey);
    const kind = sliceElementKind(originalList, patchList ?? []);
    original[field] = normalizeElementOrder(patchItems, serverOnly, order, originalList, mergeKey, kind);
    delete patch[field];
  }
}

/** mergeMap: merges `patch` into `original` (both mutated; the result may be either). */
export function mergeMap(original: JsonObject | undefined, patch: JsonObject, schema: Schema, opts: MergeOptions = SERVER): JsonObject {
  if (Object.prototype.hasOwnProperty.call(patch, DIRECTIVE)) return handleDirectiveInMergeMap(patch[DIRECTIVE], patch);
  const out = original ?? {};
  applyRetainKeys(out, patch, opts);
  mergePatchIntoOriginal(out, patch, schema, opts);

  for (const k0 of Object.keys(patch)) {
    const patchV = patch[k0] as JsonValue;
    let k = k0;
    let isDeleteList = false;
    if (k0.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      if (!opts.mergeParallelList) {
        out[k0] = patchV;
        continue;
      }
      k = extractKey(k0, DELETE_FROM_PRIMITIVE_LIST);
      isDeleteList = true;
    }
    if (patchV === null) {
      delete out[k];
      if (opts.ignoreUnmatchedNulls) continue;
    }
    const has = Object.prototype.hasOwnProperty.call(out, k);
    if (!has || kindOf(out[k] as JsonValue) !== kindOf(patchV)) {
      if (!isDeleteList) {
        if (opts.ignoreUnmatchedNulls) discardNulls(patchV);
        const r = removeDirectives(patchV);
        if (r.keep) out[k] = r.value;
        else delete out[k];
      }
      continue;
    }
    const cur = out[k] as JsonValue;
    if (isObject(cur)) {
      const { meta, sub } = schema.lookup(k);
      const strategy = mainStrategy(meta.strategy);
      out[k] = strategy === REPLACE ? (patchV as JsonObject) : mergeMap(cur, patchV as JsonObject, sub, opts);
    } else if (Array.isArray(cur)) {
      const { meta, sub } = schema.lookup(k);
      const strategy = mainStrategy(meta.strategy);
      out[k] = mergeSliceHandler(cur, patchV as JsonValue[], sub, strategy, meta.mergeKey ?? '', isDeleteList, opts);
    } else {
      out[k] = patchV;
    }
  }
  return out;
}

function mergeSliceHandler(
  original: JsonValue[],
  patch: JsonValue[],
  elemSchema: Schema,
  strategy: string,
  mergeKey: string,
  isDeleteList: boolean,
  opts: MergeOptions,
): JsonValue[] {
  // Delete lists are handled the same way whatever the field's strategy.
  if (strategy !== MERGE && !isDeleteList) return patch;
  return mergeSlice(original, patch, elemSchema, mergeKey, isDeleteList, opts);
}

/**
 * mergeSlice. For lists of objects this mutates `original` in place the way Go's slice operations mutate the live
 * list's backing array: deleting an element shifts the rest left (the last slot keeps its old value), and appended
 * elements fill the slots freed that way. mergePatchIntoOriginal then reads the live order from that same array,
 * which decides where server-only elements land among added ones — upstream's results depend on it.
 */
function mergeSlice(
  original: JsonValue[],
  patch: JsonValue[],
  elemSchema: Schema,
  mergeKey: string,
  isDeleteList: boolean,
  opts: MergeOptions,
): JsonValue[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = sliceElementKind(original, patch);
  if (kind !== 'object') {
    if (opts.mergeParallelList && isDeleteList) {
      const drop = new Set(patch);
      return original.filter((v) => !drop.has(v));
    }
    const merged = dedupe([...original, ...patch]);
    const [patchItems, serverOnly] = partition(merged, patch, '');
    return normalizeElementOrder(patchItems, serverOnly, patch, original, '', kind);
  }
  if (mergeKey === '') fail(`cannot merge lists without merge key for ${elemSchema.name}`);

  // mergeSliceWithSpecialElements
  const plain: JsonValue[] = [];
  let replace = false;
  const deleteKeys = new Set<JsonValue | undefined>();
  for (const v of patch) {
    const m = v as JsonObject;
    if (!Object.prototype.hasOwnProperty.call(m, DIRECTIVE)) {
      plain.push(v);
      continue;
    }
    const directive = m[DIRECTIVE];
    if (directive === DELETE) {
      if (!Object.prototype.hasOwnProperty.call(m, mergeKey)) errNoMergeKey(m, mergeKey);
      deleteKeys.add(m[mergeKey]);
    } else if (directive === REPLACE) {
      replace = true;
    } else if (directive === MERGE) {
      fail('merging lists cannot yet be specified in the patch');
    } else {
      fail(`unknown patch type: ${goFormat(directive)} in map: ${goFormat(m)}`);
    }
  }
  // Go deletes one element at a time, shifting the rest left inside the same array; only the surviving prefix and
  // its new length matter afterwards (the stale tail sits past every survivor), so compact in one pass.
  let len = 0;
  for (let i = 0; i < original.length; i++) {
    const o = original[i] as JsonValue;
    if (!isObject(o)) fail(`value for key ${i} is not a map.`);
    if (deleteKeys.size > 0 && Object.prototype.hasOwnProperty.call(o, mergeKey) && deleteKeys.has((o as JsonObject)[mergeKey])) continue;
    original[len++] = o;
  }
  let backing = original;
  let cap = original.length;
  let pat = plain;
  if (replace) {
    backing = plain.slice();
    len = backing.length;
    cap = len;
    pat = [];
  }
  const liveOrder = backing.slice(0, len);

  // mergeSliceWithoutSpecialElements
  let out = backing;
  const at = new Map<JsonValue | undefined, number>();
  for (let i = len - 1; i >= 0; i--) {
    const o = out[i] as JsonObject;
    if (Object.prototype.hasOwnProperty.call(o, mergeKey)) at.set(o[mergeKey], i);
  }
  for (const v of pat) {
    const m = v as JsonObject;
    if (!Object.prototype.hasOwnProperty.call(m, mergeKey)) errNoMergeKey(m, mergeKey);
    const i = at.get(m[mergeKey]) ?? -1;
    if (i < 0) at.set(m[mergeKey], len);
    if (i >= 0) {
      out[i] = mergeMap(out[i] as JsonObject, m, elemSchema, opts);
      if (i < liveOrder.length) liveOrder[i] = out[i] as JsonValue;
    } else if (out === backing && len < cap) {
      out[len++] = v;
    } else {
      if (out === backing) out = backing.slice(0, len);
      out[len++] = v;
    }
  }
  const merged = out.slice(0, len);
  const [patchItems, serverOnly] = partition(merged, pat, mergeKey);
  return normalizeElementOrder(patchItems, serverOnly, pat, liveOrder, mergeKey, kind);
}

// --- entry point ----------------------------------------------------------------------------------------------

/** Which patch metadata to merge with: a root type of K8S_PATCH_SCHEMA, or a root type of another table. */
export type SmpSchemaRef = string | { types: PatchSchema; root?: string };

/**
 * Applies a strategic merge patch to `doc` (an object) and returns a new object; neither argument is mutated.
 * `schema` names the type of `doc`: a root type of K8S_PATCH_SCHEMA (see schemaForKind) or `{types, root}`; an
 * unknown or absent root merges every list as replace, like an untagged struct. A `null` patch is a no-op (upstream
 * decodes it to a nil map).
 *
 * Throws PatchError with the status upstream answers: 400 for a non-object patch or malformed directives, 422 for
 * lists of lists, 500 (reason '') for the other mergepatch errors, e.g.
 * "map: map[image:nginx] does not contain declared merge key: name".
 */
export function strategicMergePatch(doc: JsonObject, patch: JsonValue, schema: SmpSchemaRef): JsonObject {
  if (patch === null) return clone(doc);
  if (!isObject(patch)) throw patchBadRequest(`json: cannot unmarshal ${jsonTypeWord(patch)} into Go value of type map[string]interface {}`);
  const types = typeof schema === 'string' ? K8S_PATCH_SCHEMA : schema.types;
  const root = typeof schema === 'string' ? schema : schema.root;
  try {
    const out = mergeMap(clone(doc), clone(patch), new Schema(types, root), SERVER);
    dropDirectiveKeys(out);
    return out;
  } catch (e) {
    if (e instanceof SmpFailure) throw smpError(e.message);
    throw e;
  }
}
