// RFC 6902 JSON Patch with kube-apiserver's (evanphx/json-patch v4) behaviour and error texts.
import { describe, expect, it } from 'vitest';
import {
  applyPatch,
  decodePointerToken,
  encodePointerToken,
  jsonPatch,
  PatchError,
  type JsonValue,
} from '../../../../../control/apiserver/patch/index.js';

function failure(fn: () => unknown): PatchError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PatchError) return e;
    throw e;
  }
  throw new Error('expected a PatchError');
}

describe('jsonPatch: RFC 6902 operations', () => {
  const cases: Array<[string, JsonValue, JsonValue, JsonValue]> = [
    ['add an object member', { foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux' }], { foo: 'bar', baz: 'qux' }],
    ['add into an array', { foo: ['bar', 'baz'] }, [{ op: 'add', path: '/foo/1', value: 'qux' }], { foo: ['bar', 'qux', 'baz'] }],
    ['add at the array end index', { foo: [1] }, [{ op: 'add', path: '/foo/1', value: 2 }], { foo: [1, 2] }],
    ['append with "-"', { foo: [1, 2] }, [{ op: 'add', path: '/foo/-', value: 3 }], { foo: [1, 2, 3] }],
    ['add replaces an existing member', { foo: 1 }, [{ op: 'add', path: '/foo', value: 2 }], { foo: 2 }],
    ['add a nested object', { foo: 'bar' }, [{ op: 'add', path: '/child', value: { grandchild: {} } }], { foo: 'bar', child: { grandchild: {} } }],
    ['add null', { foo: 1 }, [{ op: 'add', path: '/bar', value: null }], { foo: 1, bar: null }],
    ['remove a member', { baz: 'qux', foo: 'bar' }, [{ op: 'remove', path: '/baz' }], { foo: 'bar' }],
    ['remove an array element', { foo: ['bar', 'qux', 'baz'] }, [{ op: 'remove', path: '/foo/1' }], { foo: ['bar', 'baz'] }],
    ['replace a member', { baz: 'qux', foo: 'bar' }, [{ op: 'replace', path: '/baz', value: 'boo' }], { baz: 'boo', foo: 'bar' }],
    ['replace an array element', { foo: [1, 2, 3] }, [{ op: 'replace', path: '/foo/1', value: 9 }], { foo: [1, 9, 3] }],
    ['replace the whole document', { foo: 1 }, [{ op: 'replace', path: '', value: { bar: 2 } }], { bar: 2 }],
    [
      'move a member',
      { foo: { bar: 'baz', waldo: 'fred' }, qux: { corge: 'grault' } },
      [{ op: 'move', from: '/foo/waldo', path: '/qux/thud' }],
      { foo: { bar: 'baz' }, qux: { corge: 'grault', thud: 'fred' } },
    ],
    ['move an array element', { foo: ['all', 'grass', 'cows', 'eat'] }, [{ op: 'move', from: '/foo/1', path: '/foo/3' }], { foo: ['all', 'cows', 'eat', 'grass'] }],
    ['copy a member (deep)', { a: { b: [1] } }, [{ op: 'copy', from: '/a', path: '/c' }, { op: 'add', path: '/c/b/-', value: 2 }], { a: { b: [1] }, c: { b: [1, 2] } }],
    ['test then act', { baz: 'qux', foo: ['a', 2, 'c'] }, [{ op: 'test', path: '/baz', value: 'qux' }, { op: 'test', path: '/foo/1', value: 2 }], { baz: 'qux', foo: ['a', 2, 'c'] }],
    ['test an object regardless of member order', { a: { x: 1, y: [1, { z: 2 }] } }, [{ op: 'test', path: '/a', value: { y: [1, { z: 2 }], x: 1 } }], { a: { x: 1, y: [1, { z: 2 }] } }],
    ['~1 and ~0 escapes', { 'a/b': 1, 'm~n': 2 }, [{ op: 'replace', path: '/a~1b', value: 3 }, { op: 'remove', path: '/m~0n' }], { 'a/b': 3 }],
    ['annotation keys with slashes', { metadata: { annotations: {} } }, [{ op: 'add', path: '/metadata/annotations/example.com~1owner', value: 'me' }], { metadata: { annotations: { 'example.com/owner': 'me' } } }],
    ['empty key', { '': 1 }, [{ op: 'replace', path: '/', value: 2 }], { '': 2 }],
    ['negative index counts from the end', { foo: [1, 2, 3] }, [{ op: 'remove', path: '/foo/-1' }], { foo: [1, 2] }],
    ['operations apply in sequence', { a: [] }, [{ op: 'add', path: '/a/-', value: 1 }, { op: 'add', path: '/a/0', value: 0 }, { op: 'test', path: '/a', value: [0, 1] }], { a: [0, 1] }],
    // evanphx/json-patch v4 quirks, which kube-apiserver exposes
    ['replace of a missing member adds it (v4)', { foo: 1 }, [{ op: 'replace', path: '/bar', value: 2 }], { foo: 1, bar: 2 }],
    ['copy from a missing member writes null (v4)', { foo: 1 }, [{ op: 'copy', from: '/nope', path: '/bar' }], { foo: 1, bar: null }],
    ['test null passes on a missing member (v4)', { foo: 1 }, [{ op: 'test', path: '/bar', value: null }], { foo: 1 }],
    ['an array document', [1, 2], [{ op: 'add', path: '/-', value: 3 }], [1, 2, 3]],
  ];

  it.each(cases)('%s', (_name, doc, ops, want) => {
    const before = JSON.stringify([doc, ops]);
    expect(jsonPatch(doc, ops)).toEqual(want);
    expect(JSON.stringify([doc, ops])).toBe(before);
  });

  it('disables negative indices on request', () => {
    const e = failure(() => jsonPatch({ foo: [1] }, [{ op: 'remove', path: '/foo/-1' }], { supportNegativeIndices: false }));
    expect(e.detail).toBe("error in remove for path: '/foo/-1': Unable to access invalid index: -1: invalid index referenced");
  });

  it('RFC 6901 token escaping round-trips', () => {
    for (const t of ['a/b', 'm~n', '~1', '~01', '/~/', '']) expect(decodePointerToken(encodePointerToken(t))).toBe(t);
    expect(decodePointerToken('~01')).toBe('~1');
  });
});

describe('jsonPatch errors (422 with the library text as the cause)', () => {
  const errors: Array<[string, JsonValue, JsonValue, string]> = [
    ['failed test', { spec: { replicas: 2 } }, [{ op: 'test', path: '/spec/replicas', value: 3 }], 'testing value /spec/replicas failed: test failed'],
    ['test of a missing member', { a: 1 }, [{ op: 'test', path: '/b', value: 1 }], 'testing value /b failed: test failed'],
    ['test under a missing parent', { a: 1 }, [{ op: 'test', path: '/b/c', value: 1 }], 'test operation does not apply: is missing path: /b/c: missing value'],
    ['add under a missing parent', { a: 1 }, [{ op: 'add', path: '/b/c', value: 1 }], 'add operation does not apply: doc is missing path: "/b/c": missing value'],
    ['add past the array end', { a: [1] }, [{ op: 'add', path: '/a/5', value: 1 }], "error in add for path: '/a/5': Unable to access invalid index: 5: invalid index referenced"],
    [
      'add with a non-numeric array index',
      { a: [1] },
      [{ op: 'add', path: '/a/x', value: 1 }],
      `error in add for path: '/a/x': value was not a proper array index: 'x': strconv.Atoi: parsing "x": invalid syntax`,
    ],
    ['remove a missing member', { metadata: { labels: {} } }, [{ op: 'remove', path: '/metadata/labels/app' }], "error in remove for path: '/metadata/labels/app': Unable to remove nonexistent key: app: missing value"],
    ['remove under a missing parent', {}, [{ op: 'remove', path: '/a/b' }], 'remove operation does not apply: doc is missing path: "/a/b": missing value'],
    ['remove past the array end', { a: [1] }, [{ op: 'remove', path: '/a/1' }], "error in remove for path: '/a/1': Unable to access invalid index: 1: invalid index referenced"],
    ['replace under a missing parent', {}, [{ op: 'replace', path: '/a/b', value: 1 }], 'replace operation does not apply: doc is missing path: /a/b: missing value'],
    ['replace past the array end', { a: [1] }, [{ op: 'replace', path: '/a/3', value: 1 }], 'replace operation does not apply: doc is missing key: /a/3: missing value'],
    ['move from a missing member', { a: 1 }, [{ op: 'move', from: '/b', path: '/c' }], "error in move for path: 'b': Unable to remove nonexistent key: b: missing value"],
    ['move without from', { a: 1 }, [{ op: 'move', path: '/c' }], 'move operation failed to decode from: operation, missing from field: missing value'],
    ['copy to a missing parent', { a: 1 }, [{ op: 'copy', from: '/a', path: '/x/y' }], 'copy operation does not apply: doc is missing destination path: /x/y: missing value'],
    ['unknown op', { a: 1 }, [{ op: 'frobnicate', path: '/a' }], 'Unexpected kind: frobnicate'],
    ['missing op', { a: 1 }, [{ path: '/a' }], 'Unexpected kind: unknown'],
    ['missing path', { a: 1 }, [{ op: 'add', value: 1 }], 'add operation failed to decode path: missing value'],
    ['path of the wrong type', { a: 1 }, [{ op: 'replace', path: 5, value: 1 }], 'replace operation failed to decode path: json: cannot unmarshal number into Go value of type string'],
    ['traversing a scalar', { a: 1 }, [{ op: 'add', path: '/a/b', value: 1 }], 'add operation does not apply: doc is missing path: "/a/b": missing value'],
  ];

  it.each(errors)('%s', (_name, doc, ops, text) => {
    const e = failure(() => jsonPatch(doc, ops));
    expect(e.code).toBe(422);
    expect(e.reason).toBe('Invalid');
    expect(e.message).toBe('the server rejected our request due to an error in our request');
    expect(e.details?.causes).toEqual([{ message: text }]);
    expect(e.detail).toBe(text);
  });

  it('an operation failing midway leaves the input untouched', () => {
    const doc = { a: [1], b: 1 };
    failure(() => jsonPatch(doc, [{ op: 'add', path: '/a/-', value: 2 }, { op: 'test', path: '/b', value: 2 }]));
    expect(doc).toEqual({ a: [1], b: 1 });
  });

  it('bodies that are not a list of operations are 400s', () => {
    expect(failure(() => jsonPatch({}, { op: 'add' })).toStatus()).toMatchObject({
      code: 400,
      reason: 'BadRequest',
      message: 'json: cannot unmarshal object into Go value of type jsonpatch.Patch',
    });
    expect(failure(() => jsonPatch({}, ['add'])).message).toBe('json: cannot unmarshal string into Go value of type jsonpatch.Operation');
  });

  it('more than 10000 operations is a 413', () => {
    const ops = Array.from({ length: 10001 }, () => ({ op: 'test', path: '/a', value: 1 }));
    const e = failure(() => jsonPatch({ a: 1 }, ops));
    expect(e.code).toBe(413);
    expect(e.reason).toBe('RequestEntityTooLarge');
    expect(e.message).toBe('Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001');
  });

  it('copies are bounded in total size', () => {
    const ops = Array.from({ length: 30 }, () => ({ op: 'copy', from: '/a', path: '/a/-' }));
    const e = failure(() => jsonPatch({ a: ['x'.repeat(10)] }, ops, { accumulatedCopySizeLimit: 1000 }));
    expect(e.detail).toMatch(/^Unable to complete the copy, the accumulated size increase of copy is \d+, exceeding the limit 1000$/);
  });

  it('a result that is not an object is refused by applyPatch', () => {
    const e = failure(() => applyPatch('json', { a: 1 }, [{ op: 'replace', path: '', value: [1] }], { group: '', version: 'v1', kind: 'ConfigMap' }));
    expect(e.code).toBe(422);
  });
});
