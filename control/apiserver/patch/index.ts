// The three PATCH content types of the Kubernetes API, as pure functions over plain JSON:
//   application/json-patch+json             RFC 6902                  jsonPatch
//   application/merge-patch+json            RFC 7386                  mergePatch
//   application/strategic-merge-patch+json  strategic merge patch     strategicMergePatch (+ schemaForKind)
// and applyPatch, which picks one by Content-Type and answers errors as kube-apiserver does.
import { BUILTIN_PATCH_TYPES, patchBadRequest, PatchError, UNSTRUCTURED_PATCH_TYPES, UnsupportedPatchTypeError } from './errors.js';
import { isObject, type JsonObject, type JsonValue } from './json.js';
import { jsonPatch, type JsonPatchOptions } from './json-patch.js';
import { ERR_BAD_JSON_PATCH, mergePatch } from './merge-patch.js';
import { schemaForKind, type PatchSchema } from './schema.js';
import { strategicMergePatch } from './strategic.js';

export {
  BUILTIN_PATCH_TYPES,
  PatchError,
  patchBadRequest,
  patchInternal,
  patchTooLarge,
  patchUnprocessable,
  UNSTRUCTURED_PATCH_TYPES,
  UnsupportedPatchTypeError,
  type PatchStatusDetails,
} from './errors.js';
export { clone, deepEqual, isObject, type JsonObject, type JsonPrimitive, type JsonValue } from './json.js';
export {
  DEFAULT_COPY_SIZE_LIMIT,
  decodeJsonPatch,
  decodePointerToken,
  encodePointerToken,
  jsonPatch,
  MAX_JSON_PATCH_OPERATIONS,
  type JsonPatchOperation,
  type JsonPatchOptions,
} from './json-patch.js';
export { createMergePatch, ERR_BAD_JSON_PATCH, mergePatch } from './merge-patch.js';
export {
  K8S_PATCH_SCHEMA,
  lookupPatchMeta,
  schemaForKind,
  type PatchFieldSchema,
  type PatchMeta,
  type PatchSchema,
  type PatchStrategy,
  type PatchTypeSchema,
} from './schema.js';
export { strategicMergePatch, type SmpSchemaRef } from './strategic.js';

export type PatchType = 'json' | 'merge' | 'strategic';

const CONTENT_TYPES: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
};

/** The patch type of a Content-Type header ("; charset=utf-8" and case ignored), or undefined for any other. */
export function patchTypeFromContentType(contentType: string | undefined): PatchType | undefined {
  if (!contentType) return undefined;
  const bare = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return CONTENT_TYPES[bare];
}

/** encoding/json's wording for a body that does not parse, approximated from V8's SyntaxError. */
function goSyntaxMessage(text: string, e: unknown): string {
  const msg = e instanceof Error ? e.message : '';
  if (text.trim() === '' || /end of JSON input/i.test(msg)) return 'unexpected end of JSON input';
  const pos = /position (\d+)/.exec(msg);
  const at = pos ? text[Number(pos[1])] : /Unexpected token '(.)'/.exec(msg)?.[1];
  if (at === undefined) return 'unexpected end of JSON input';
  const ch = at === "'" ? "\\'" : at;
  if (/after JSON/.test(msg)) return `invalid character '${ch}' after top-level value`;
  return `invalid character '${ch}' looking for beginning of value`;
}

/**
 * Parses a PATCH body. Bodies that are not JSON are answered 400 as upstream does: "Invalid JSON Patch" for merge
 * patches, encoding/json's syntax error text otherwise.
 */
export function parsePatchBody(type: PatchType, body: string | Uint8Array): JsonValue {
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  try {
    return JSON.parse(text) as JsonValue;
  } catch (e) {
    if (type === 'merge') throw patchBadRequest(ERR_BAD_JSON_PATCH);
    throw patchBadRequest(goSyntaxMessage(text, e));
  }
}

export interface PatchTarget {
  group: string;
  version: string;
  kind: string;
  /** A schema table other than K8S_PATCH_SCHEMA, e.g. for a kind added elsewhere; `root` is then required. */
  schema?: { types: PatchSchema; root: string };
}

/**
 * Applies a PATCH request body to the current object, by patch type, as kube-apiserver would before decoding and
 * validating the result:
 * - json: 400 for a body that is not a list of operations, 413 past 10000 operations, 422 when an operation fails;
 * - merge: 400 "Invalid JSON Patch" for a null body;
 * - strategic: 415 UnsupportedPatchTypeError for a kind without a schema, 400/422/500 for patch errors.
 * A result that is not an object (a JSON patch replacing the root with a list, say) is answered 422.
 */
export function applyPatch(type: PatchType, current: JsonObject, patch: JsonValue, target: PatchTarget, options: JsonPatchOptions = {}): JsonObject {
  let out: JsonValue;
  switch (type) {
    case 'json':
      out = jsonPatch(current, patch, options);
      break;
    case 'merge':
      out = mergePatch(current, patch);
      break;
    case 'strategic': {
      const root = target.schema?.root ?? schemaForKind(target.group, target.version, target.kind);
      if (root === undefined) throw new UnsupportedPatchTypeError(UNSTRUCTURED_PATCH_TYPES);
      out = strategicMergePatch(current, patch, target.schema ?? root);
      break;
    }
  }
  if (!isObject(out)) {
    throw new PatchError(422, 'Invalid', `patch: Invalid value: ${JSON.stringify(JSON.stringify(out))}: the patched object is not a JSON object`, {
      causes: [{ reason: 'FieldValueInvalid', message: 'Invalid value: the patched object is not a JSON object', field: 'patch' }],
    });
  }
  return out;
}

/** The patch types a kind accepts: all four for built-in kinds, no strategic merge patch for others (415 lists these). */
export function acceptedPatchTypes(group: string, version: string, kind: string): readonly string[] {
  return schemaForKind(group, version, kind) === undefined ? UNSTRUCTURED_PATCH_TYPES : BUILTIN_PATCH_TYPES;
}
export { createThreeWayMergePatch, createTwoWayMergePatch } from './strategic-diff.js';
