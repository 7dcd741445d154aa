// RFC 7386 JSON Merge Patch (application/merge-patch+json), with evanphx/json-patch v4's MergePatch details that
// kube-apiserver inherits, and CreateMergePatch (the diff kubectl edit / label / annotate compute client-side).
import { patchBadRequest } from './errors.js';
import { clone, deepEqual, isObject, kindOf, type JsonObject, type JsonValue } from './json.js';

/** jsonpatch.ErrBadJSONPatch: a merge patch body that is `null` (or does not parse). Answered 400. */
export const ERR_BAD_JSON_PATCH = 'Invalid JSON Patch';

/** Removes null members of objects, recursively, also inside arrays (array elements themselves stay). */
function pruneNulls(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map((x) => (x === null ? x : pruneNulls(x)));
  if (isObject(v)) {
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = pruneNulls(x);
    return out;
  }
  return v;
}

function mergeInto(doc: JsonObject, patch: JsonObject): void {
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) {
      delete doc[k];
      continue;
    }
    const cur = Object.prototype.hasOwnProperty.call(doc, k) ? doc[k] : undefined;
    if (cur === undefined || cur === null) {
      doc[k] = pruneNulls(v);
    } else if (!isObject(cur)) {
      doc[k] = pruneNulls(v);
    } else if (!isObject(v)) {
      // evanphx: the current value is an object but the patch value is not: taken verbatim (no pruning).
      doc[k] = clone(v);
    } else {
      mergeInto(cur, v);
    }
  }
}

/**
 * Applies an RFC 7386 merge patch: null deletes, objects merge recursively, anything else (arrays included) replaces.
 * Neither argument is mutated. A non-object patch replaces the document (nulls inside objects pruned); a `null` patch
 * is refused with 400 "Invalid JSON Patch" as upstream does.
 */
export function mergePatch(doc: JsonValue, patch: JsonValue): JsonValue {
  if (patch === null) throw patchBadRequest(ERR_BAD_JSON_PATCH);
  if (!isObject(patch)) return pruneNulls(patch);
  if (!isObject(doc)) return pruneNulls(patch);
  const out = clone(doc);
  mergeInto(out, patch);
  return out;
}

/**
 * jsonpatch.CreateMergePatch: the merge patch turning `original` into `modified` (both objects). Members only in
 * `original` become null, changed values are sent whole (arrays included), nested objects are diffed recursively.
 * Applying the result with mergePatch yields `modified` whenever `modified` holds no null values.
 */
export function createMergePatch(original: JsonObject, modified: JsonObject): JsonObject {
  const into: JsonObject = {};
  for (const [key, bv] of Object.entries(modified)) {
    if (bv === undefined) continue;
    if (!Object.prototype.hasOwnProperty.call(original, key) || original[key] === undefined) {
      into[key] = clone(bv);
      continue;
    }
    const av = original[key] as JsonValue;
    if (kindOf(av) !== kindOf(bv)) {
      into[key] = clone(bv);
      continue;
    }
    if (isObject(av) && isObject(bv)) {
      const sub = createMergePatch(av, bv);
      if (Object.keys(sub).length > 0) into[key] = sub;
    } else if (!deepEqual(av, bv)) {
      into[key] = clone(bv);
    }
  }
  for (const key of Object.keys(original)) {
    if (original[key] !== undefined && (!Object.prototype.hasOwnProperty.call(modified, key) || modified[key] === undefined)) into[key] = null;
  }
  return into;
}
