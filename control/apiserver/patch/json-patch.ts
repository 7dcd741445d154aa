// RFC 6902 JSON Patch, as kube-apiserver applies it: gopkg.in/evanphx/json-patch.v4's semantics and error texts,
// answered 422 (NewGenericServerResponse) when an operation does not apply, 400 when the patch does not decode, 413
// past 10000 operations.
//
// Quirks of that library kept on purpose, because clients see them through kubectl:
// - "replace" of a missing object member adds it (v4 only checks the parent exists);
// - "copy" from a missing object member writes null;
// - "test" with a null (or absent) value passes on a missing member;
// - a path not starting with "/" is read as if it did (the first segment is dropped);
// - negative array indices count from the end (SupportNegativeIndices defaults to true), unless disabled.
import { patchBadRequest, patchTooLarge, patchUnprocessable } from './errors.js';
import { clone, deepEqual, isObject, jsonTypeWord, type JsonObject, type JsonValue } from './json.js';

export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: JsonValue;
}

export interface JsonPatchOptions {
  /** Allow "-1" to mean the last element (evanphx default, and kube-apiserver's). Default true. */
  supportNegativeIndices?: boolean;
  /** Upper bound on the bytes "copy" operations may add in total (apiserver: JSONPatchMaxCopyBytes, 3 MiB). 0 = none. */
  accumulatedCopySizeLimit?: number;
  /** More operations than this are refused with 413 before applying any (apiserver: 10000). */
  maxOperations?: number;
}

export const MAX_JSON_PATCH_OPERATIONS = 10000;
export const DEFAULT_COPY_SIZE_LIMIT = 3 * 1024 * 1024;

/** Thrown internally with the library's message; turned into the 422 at the API boundary. */
class OpError extends Error {}

const wrap = (msg: string, cause: string): OpError => new OpError(`${msg}: ${cause}`);
const MISSING = 'missing value';
const INVALID_INDEX = 'invalid index referenced';
const TEST_FAILED = 'test failed';

/** RFC 6901 unescaping in a single pass, so "~01" reads as "~1". */
export const decodePointerToken = (t: string): string => t.replace(/~[01]/g, (m) => (m === '~1' ? '/' : '~'));
/** RFC 6901 escaping of one reference token. */
export const encodePointerToken = (t: string): string => t.replace(/~/g, '~0').replace(/\//g, '~1');

type Container = JsonObject | JsonValue[];

/** strconv.Atoi, with its error text. */
function atoi(key: string): number {
  if (!/^[+-]?\d+$/.test(key)) throw new OpError(`strconv.Atoi: parsing ${JSON.stringify(key)}: invalid syntax`);
  const n = Number(key);
  if (!Number.isSafeInteger(n)) throw new OpError(`strconv.Atoi: parsing ${JSON.stringify(key)}: value out of range`);
  return n;
}

class Doc {
  root: Container;
  constructor(
    root: Container,
    private readonly negative: boolean,
  ) {
    this.root = root;
  }

  /** findObject: the container holding the last token, or undefined when the path to it does not exist. */
  find(path: string): { con: Container; key: string } | undefined {
    const split = path.split('/');
    if (split.length < 2) return undefined;
    let doc: Container = this.root;
    for (const part of split.slice(1, -1)) {
      let next: JsonValue | undefined;
      try {
        next = this.get(doc, decodePointerToken(part));
      } catch {
        return undefined;
      }
      if (next === undefined || next === null || typeof next !== 'object') return undefined;
      doc = next;
    }
    return { con: doc, key: decodePointerToken(split[split.length - 1] ?? '') };
  }

  private index(arr: JsonValue[], key: string, size: number): number {
    let idx = atoi(key);
    if (idx < 0) {
      if (!this.negative || idx < -size) throw wrap(`Unable to access invalid index: ${idx}`, INVALID_INDEX);
      idx += size;
    }
    return idx;
  }

  /** undefined = member absent (objects only; arrays throw). */
  get(con: Container, key: string): JsonValue | undefined {
    if (!Array.isArray(con)) return Object.prototype.hasOwnProperty.call(con, key) ? con[key] : undefined;
    const idx = this.index(con, key, con.length);
    if (idx >= con.length) throw wrap(`Unable to access invalid index: ${idx}`, INVALID_INDEX);
    return con[idx];
  }

  set(con: Container, key: string, val: JsonValue): void {
    if (!Array.isArray(con)) {
      con[key] = val;
      return;
    }
    con[this.index(con, key, con.length)] = val;
  }

  add(con: Container, key: string, val: JsonValue): void {
    if (!Array.isArray(con)) {
      con[key] = val;
      return;
    }
    if (key === '-') {
      con.push(val);
      return;
    }
    let idx: number;
    try {
      idx = atoi(key);
    } catch (e) {
      throw wrap(`value was not a proper array index: '${key}'`, (e as Error).message);
    }
    const size = con.length + 1;
    if (idx >= size) throw wrap(`Unable to access invalid index: ${idx}`, INVALID_INDEX);
    if (idx < 0) {
      if (!this.negative || idx < -size) throw wrap(`Unable to access invalid index: ${idx}`, INVALID_INDEX);
      idx += size;
    }
    con.splice(idx, 0, val);
  }

  remove(con: Container, key: string): void {
    if (!Array.isArray(con)) {
      if (!Object.prototype.hasOwnProperty.call(con, key)) throw wrap(`Unable to remove nonexistent key: ${key}`, MISSING);
      delete con[key];
      return;
    }
    let idx = atoi(key);
    if (idx >= con.length) throw wrap(`Unable to access invalid index: ${idx}`, INVALID_INDEX);
    if (idx < 0) {
      if (!this.negative || idx < -con.length) throw wrap(`Unable to access invalid index: ${idx}`, INVALID_INDEX);
      idx += con.length;
    }
    con.splice(idx, 1);
  }
}

/** Reads a string member of an operation the way Operation.Path()/From() do. */
function readString(op: JsonObject, field: 'path' | 'from', missingText: string): { value?: string; error?: string } {
  const raw = op[field];
  if (raw === undefined || raw === null) return { error: `${missingText}: ${MISSING}` };
  if (typeof raw !== 'string') return { error: `json: cannot unmarshal ${jsonTypeWord(raw)} into Go value of type string` };
  return { value: raw };
}

/** Validates the decoded body as a list of operations (jsonpatch.DecodePatch), answering 400 like upstream. */
export function decodeJsonPatch(ops: unknown): JsonObject[] {
  if (!Array.isArray(ops)) throw patchBadRequest(`json: cannot unmarshal ${jsonTypeWord(ops)} into Go value of type jsonpatch.Patch`);
  for (const op of ops) {
    if (op !== null && !isObject(op))
      throw patchBadRequest(`json: cannot unmarshal ${jsonTypeWord(op)} into Go value of type jsonpatch.Operation`);
  }
  return ops.map((op) => (op === null ? {} : (op as JsonObject)));
}

/**
 * Applies an RFC 6902 patch to `doc` (an object or array) and returns the result; `doc` and `ops` are left untouched.
 * Throws PatchError: 400 if `ops` is not a list of objects, 413 past maxOperations, 422 if an operation fails.
 */
export function jsonPatch<T extends JsonValue>(doc: T, ops: unknown, options: JsonPatchOptions = {}): JsonValue {
  const list = decodeJsonPatch(ops);
  const max = options.maxOperations ?? MAX_JSON_PATCH_OPERATIONS;
  if (list.length > max) throw patchTooLarge(`The allowed maximum operations in a JSON patch is ${max}, got ${list.length}`);
  if (doc === null || typeof doc !== 'object') throw patchUnprocessable(`json: cannot unmarshal ${jsonTypeWord(doc)} into Go value of type jsonpatch.partialDoc`);
  const d = new Doc(clone(doc) as Container, options.supportNegativeIndices ?? true);
  const limit = options.accumulatedCopySizeLimit ?? DEFAULT_COPY_SIZE_LIMIT;
  const copied = { size: 0 };
  for (const op of list) {
    try {
      applyOne(d, op, limit, copied);
    } catch (e) {
      if (e instanceof OpError) throw patchUnprocessable(e.message);
      throw e;
    }
  }
  return d.root;
}

/** The operation's value: absent and null both read as null (the Go library decodes both to a nil node). */
function opValue(op: JsonObject): JsonValue {
  const v = op['value'];
  return v === undefined ? null : clone(v);
}

function applyOne(d: Doc, op: JsonObject, copyLimit: number, copied: { size: number }): void {
  const kind = typeof op['op'] === 'string' ? (op['op'] as string) : 'unknown';
  switch (kind) {
    case 'add': {
      const p = readString(op, 'path', 'operation missing path field');
      if (p.error !== undefined) throw wrap('add operation failed to decode path', MISSING);
      const path = p.value!;
      const at = d.find(path);
      if (!at) throw wrap(`add operation does not apply: doc is missing path: "${path}"`, MISSING);
      try {
        d.add(at.con, at.key, opValue(op));
      } catch (e) {
        throw wrap(`error in add for path: '${path}'`, (e as Error).message);
      }
      return;
    }
    case 'remove': {
      const p = readString(op, 'path', 'operation missing path field');
      if (p.error !== undefined) throw wrap('remove operation failed to decode path', MISSING);
      const path = p.value!;
      const at = d.find(path);
      if (!at) throw wrap(`remove operation does not apply: doc is missing path: "${path}"`, MISSING);
      try {
        d.remove(at.con, at.key);
      } catch (e) {
        throw wrap(`error in remove for path: '${path}'`, (e as Error).message);
      }
      return;
    }
    case 'replace': {
      const p = readString(op, 'path', 'operation missing path field');
      if (p.error !== undefined) throw wrap('replace operation failed to decode path', p.error);
      const path = p.value!;
      if (path === '') {
        const v = opValue(op);
        // Upstream wraps a nil error here (errors.Wrapf(nil, ...) is nil): a non-container value is a silent no-op.
        if (v !== null && typeof v === 'object') d.root = v;
        return;
      }
      const at = d.find(path);
      if (!at) throw wrap(`replace operation does not apply: doc is missing path: ${path}`, MISSING);
      try {
        d.get(at.con, at.key);
      } catch {
        throw wrap(`replace operation does not apply: doc is missing key: ${path}`, MISSING);
      }
      try {
        d.set(at.con, at.key, opValue(op));
      } catch (e) {
        throw wrap(`error in remove for path: '${path}'`, (e as Error).message);
      }
      return;
    }
    case 'move': {
      const f = readString(op, 'from', 'operation, missing from field');
      if (f.error !== undefined) throw wrap('move operation failed to decode from', f.error);
      const from = f.value!;
      const src = d.find(from);
      if (!src) throw wrap(`move operation does not apply: doc is missing from path: ${from}`, MISSING);
      let val: JsonValue | undefined;
      try {
        val = d.get(src.con, src.key);
        d.remove(src.con, src.key);
      } catch (e) {
        throw wrap(`error in move for path: '${src.key}'`, (e as Error).message);
      }
      const p = readString(op, 'path', 'operation missing path field');
      if (p.error !== undefined) throw wrap('move operation failed to decode path', p.error);
      const path = p.value!;
      const dst = d.find(path);
      if (!dst) throw wrap(`move operation does not apply: doc is missing destination path: ${path}`, MISSING);
      try {
        d.add(dst.con, dst.key, val ?? null);
      } catch (e) {
        throw wrap(`error in move for path: '${path}'`, (e as Error).message);
      }
      return;
    }
    case 'test': {
      const p = readString(op, 'path', 'operation missing path field');
      if (p.error !== undefined) throw wrap('test operation failed to decode path', p.error);
      const path = p.value!;
      const want = opValue(op);
      if (path === '') {
        if (deepEqual(d.root, want)) return;
        throw wrap(`testing value ${path} failed`, TEST_FAILED);
      }
      const at = d.find(path);
      if (!at) throw wrap(`test operation does not apply: is missing path: ${path}`, MISSING);
      let got: JsonValue | undefined;
      try {
        got = d.get(at.con, at.key);
      } catch (e) {
        throw wrap(`error in test for path: '${path}'`, (e as Error).message);
      }
      if (deepEqual(got ?? null, want)) return;
      throw wrap(`testing value ${path} failed`, TEST_FAILED);
    }
    case 'copy': {
      const f = readString(op, 'from', 'operation, missing from field');
      if (f.error !== undefined) throw wrap('copy operation failed to decode from', f.error);
      const from = f.value!;
      const src = d.find(from);
      if (!src) throw wrap(`copy operation does not apply: doc is missing from path: ${from}`, MISSING);
      let val: JsonValue | undefined;
      try {
        val = d.get(src.con, src.key);
      } catch (e) {
        throw wrap(`error in copy for from: '${from}'`, (e as Error).message);
      }
      const p = readString(op, 'path', 'operation missing path field');
      if (p.error !== undefined) throw wrap('copy operation failed to decode path', MISSING);
      const path = p.value!;
      const dst = d.find(path);
      if (!dst) throw wrap(`copy operation does not apply: doc is missing destination path: ${path}`, MISSING);
      const copy = val === undefined ? null : clone(val);
      copied.size += val === undefined ? 0 : Buffer.byteLength(JSON.stringify(val));
      if (copyLimit > 0 && copied.size > copyLimit)
        throw new OpError(
          `Unable to complete the copy, the accumulated size increase of copy is ${copied.size}, exceeding the limit ${copyLimit}`,
        );
      try {
        d.add(dst.con, dst.key, copy);
      } catch (e) {
        throw wrap('error while adding value during copy', (e as Error).message);
      }
      return;
    }
    default:
      throw new OpError(`Unexpected kind: ${kind}`);
  }
}

