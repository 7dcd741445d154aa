// Strategic merge patch: semantics cases in the style of upstream strategicpatch's test table (a generic "Item" type
// with merging/non-merging lists, retainKeys and replace fields), then what kubectl sends for Kubernetes kinds.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  PatchError,
  strategicMergePatch,
  type JsonObject,
  type JsonValue,
  type PatchSchema,
} from '../../../../../control/apiserver/patch/index.js';

/** A test type mirroring the shapes upstream's tests use. */
const ITEM_SCHEMA: PatchSchema = {
  Item: {
    fields: {
      mergingList: { type: 'Item', list: { strategy: 'merge', mergeKey: 'name' } },
      nonMergingList: { type: 'Item' },
      mergingIntList: { list: { strategy: 'merge' } },
      nonMergingIntList: {},
      otherMergingList: { type: 'Item', list: { strategy: 'merge', mergeKey: 'name' } },
      simpleMap: {},
      replacingItem: { strategy: 'replace' },
      retainKeysMap: { type: 'RetainItem', strategy: 'retainKeys' },
      retainKeysMergingList: { type: 'Item', list: { strategy: 'merge,retainKeys', mergeKey: 'name' } },
      typedMap: { type: 'Item', map: true },
    },
  },
  RetainItem: {
    fields: {
      mergingList: { type: 'Item', list: { strategy: 'merge', mergeKey: 'name' } },
      mergingIntList: { list: { strategy: 'merge' } },
    },
  },
};
const item = { types: ITEM_SCHEMA, root: 'Item' };

interface Case {
  description: string;
  current: JsonObject;
  patch: JsonValue;
  result?: JsonObject;
  error?: string;
  code?: number;
}

// Each case: the live object, the patch the server receives, the object it stores.
const CASES = parse(`
- description: adds a member and keeps the others
  current: {name: a, other: x}
  patch: {value: b}
  result: {name: a, other: x, value: b}
- description: null deletes a member, missing nulls are ignored
  current: {name: a, value: b, other: x}
  patch: {name: null, value: c, gone: null}
  result: {value: c, other: x}
- description: nested maps merge key by key
  current: {simpleMap: {k1: "1", k2: "2"}}
  patch: {simpleMap: {k2: null, k3: "3"}}
  result: {simpleMap: {k1: "1", k3: "3"}}
- description: $patch delete on a map empties it
  current: {simpleMap: {k1: "1", k2: "2"}}
  patch: {simpleMap: {$patch: delete}}
  result: {simpleMap: {}}
- description: $patch replace on the root keeps only the patch
  current: {name: a, value: b}
  patch: {other: c, $patch: replace}
  result: {other: c}
- description: $patch replace on a nested map
  current: {simpleMap: {k1: "1", k2: "2"}}
  patch: {simpleMap: {k3: "3", $patch: replace}}
  result: {simpleMap: {k3: "3"}}
- description: a replace-strategy field takes the patch value whole
  current: {replacingItem: {a: 1, b: 2}}
  patch: {replacingItem: {c: 3}}
  result: {replacingItem: {c: 3}}
- description: merging list merges elements by key and appends new ones
  current: {mergingList: [{name: a, value: "1"}, {name: b, value: "2"}]}
  patch: {mergingList: [{name: b, other: x}, {name: c}]}
  result: {mergingList: [{name: a, value: "1"}, {name: b, value: "2", other: x}, {name: c}]}
- description: non-merging list is replaced
  current: {nonMergingList: [{name: a}, {name: b}]}
  patch: {nonMergingList: [{name: c}]}
  result: {nonMergingList: [{name: c}]}
- description: a list nested in a non-merging list is not merged
  current: {nonMergingList: [{name: a, mergingList: [{name: x}]}]}
  patch: {nonMergingList: [{name: a, mergingList: [{name: y}]}]}
  result: {nonMergingList: [{name: a, mergingList: [{name: y}]}]}
- description: merging list of scalars is a set union
  current: {mergingIntList: [1, 2]}
  patch: {mergingIntList: [2, 3]}
  result: {mergingIntList: [1, 2, 3]}
- description: non-merging list of scalars is replaced
  current: {nonMergingIntList: [1, 2]}
  patch: {nonMergingIntList: [2, 3]}
  result: {nonMergingIntList: [2, 3]}
- description: the patch order wins for patched elements, others keep their place
  current: {mergingList: [{name: "1"}, {name: "2", value: b}, {name: "3"}]}
  patch: {mergingList: [{name: "3", value: c}, {name: "1", value: a}]}
  result: {mergingList: [{name: "2", value: b}, {name: "3", value: c}, {name: "1", value: a}]}
- description: the patch order wins in a merging int list
  current: {mergingIntList: [1, 2, 3]}
  patch: {mergingIntList: [3, 1]}
  result: {mergingIntList: [2, 3, 1]}
- description: $patch delete element removes every element with that key
  current: {mergingList: [{name: "1"}, {name: "1"}, {name: "2", value: a}, {name: "3"}, {name: "3"}]}
  patch: {mergingList: [{name: "1", $patch: delete}, {name: "3", $patch: delete}]}
  result: {mergingList: [{name: "2", value: a}]}
- description: $patch replace element replaces the list with the other elements
  current: {mergingList: [{name: "1"}, {name: "2"}]}
  patch: {mergingList: [{name: "3", value: x}, {$patch: replace}]}
  result: {mergingList: [{name: "3", value: x}]}
- description: a lone $patch replace element empties the list
  current: {mergingList: [{name: "1"}, {name: "2"}]}
  patch: {mergingList: [{$patch: replace}]}
  result: {mergingList: []}
- description: empty merging lists stay empty
  current: {mergingList: []}
  patch: {mergingList: []}
  result: {mergingList: []}
- description: $deleteFromPrimitiveList removes scalars from a merging list
  current: {mergingIntList: [1, 2, 3]}
  patch: {$deleteFromPrimitiveList/mergingIntList: [2]}
  result: {mergingIntList: [1, 3]}
- description: $deleteFromPrimitiveList works on a list without merge strategy too
  current: {nonMergingIntList: [1, 2, 3]}
  patch: {$deleteFromPrimitiveList/nonMergingIntList: [2]}
  result: {nonMergingIntList: [1, 3]}
- description: $deleteFromPrimitiveList of a missing scalar changes nothing
  current: {mergingIntList: [1, 2]}
  patch: {$deleteFromPrimitiveList/mergingIntList: [3]}
  result: {mergingIntList: [1, 2]}
- description: $deleteFromPrimitiveList never creates the list
  current: {foo: [bar]}
  patch: {$deleteFromPrimitiveList/mergingIntList: [3]}
  result: {foo: [bar]}
- description: $deleteFromPrimitiveList on a null list leaves it null
  current: {mergingIntList: null}
  patch: {$deleteFromPrimitiveList/mergingIntList: [3]}
  result: {mergingIntList: null}
- description: $setElementOrder orders a merged list, adding new elements where it says
  current: {mergingList: [{name: "1"}, {name: "2", value: "2"}]}
  patch:
    $setElementOrder/mergingList: [{name: "4"}, {name: "1"}, {name: "2"}, {name: "3"}]
    mergingList: [{name: "4", value: "4"}, {name: "3", value: "3"}]
  result: {mergingList: [{name: "4", value: "4"}, {name: "1"}, {name: "2", value: "2"}, {name: "3", value: "3"}]}
- description: $setElementOrder alone reorders the live list
  current: {mergingList: [{name: a, value: a}, {name: b, value: b}], otherMergingList: [{name: c}, {name: d}]}
  patch:
    $setElementOrder/mergingList: [{name: b}]
    $setElementOrder/otherMergingList: [{name: d}, {name: c}]
    mergingList: [{name: a, $patch: delete}]
  result: {mergingList: [{name: b, value: b}], otherMergingList: [{name: d}, {name: c}]}
- description: $setElementOrder of scalars with a parallel deletion list keeps server-only scalars
  current: {mergingIntList: [1, 2, 3, 3, 4]}
  patch: {$setElementOrder/mergingIntList: [1, 2], $deleteFromPrimitiveList/mergingIntList: [3]}
  result: {mergingIntList: [1, 2, 4]}
- description: $setElementOrder naming elements absent everywhere is fine
  current: {mergingList: [{name: "1"}, {name: "3"}]}
  patch:
    $setElementOrder/mergingList: [{name: "3"}, {name: "2"}, {name: "1"}]
    mergingList: [{name: "3", value: "3"}, {name: "1", value: "1"}]
  result: {mergingList: [{name: "3", value: "3"}, {name: "1", value: "1"}]}
- description: server-only elements stay after their live predecessor when one is deleted and one added
  current: {mergingList: [{name: "1"}, {name: "2", other: b}, {name: "4", other: c}]}
  patch:
    $setElementOrder/mergingList: [{name: "2"}, {name: "3"}]
    mergingList: [{name: "3"}, {name: "1", $patch: delete}]
  result: {mergingList: [{name: "2", other: b}, {name: "4", other: c}, {name: "3"}]}
- description: server-only elements ahead of re-added ones (upstream's live-order aliasing)
  current: {mergingList: [{name: "1", other: a}, {name: "4", other: c}]}
  patch:
    $setElementOrder/mergingList: [{name: "2"}, {name: "3"}]
    mergingList: [{name: "2"}, {name: "3"}, {name: "1", $patch: delete}]
  result: {mergingList: [{name: "4", other: c}, {name: "2"}, {name: "3"}]}
- description: deleting an element absent from the live list is not an error
  current: {name: hi, mergingList: [{name: hello2}]}
  patch:
    $setElementOrder/mergingList: [{name: hello}, {name: doesntexist}]
    mergingList: [{name: hello}, {name: doesntexist, $patch: delete}]
  result: {name: hi, mergingList: [{name: hello}, {name: hello2}]}
- description: a list that only the patch has is taken in its order, minus directives
  current: {name: hi}
  patch:
    $setElementOrder/mergingList: [{name: b}, {name: a}]
    mergingList: [{name: b}, {name: a}, {name: c, $patch: delete}]
  result: {name: hi, mergingList: [{name: b}, {name: a}]}
- description: $retainKeys clears members it does not list
  current: {retainKeysMap: {name: foo, value: a, other: x}}
  patch: {retainKeysMap: {$retainKeys: [name, value], value: b}}
  result: {retainKeysMap: {name: foo, value: b}}
- description: without $retainKeys a retainKeys map merges as usual
  current: {retainKeysMap: {name: foo}}
  patch: {retainKeysMap: {value: bar}}
  result: {retainKeysMap: {name: foo, value: bar}}
- description: $retainKeys in a merging list element
  current: {retainKeysMergingList: [{name: bar}, {name: foo, value: a, other: x}]}
  patch:
    $setElementOrder/retainKeysMergingList: [{name: bar}, {name: foo}]
    retainKeysMergingList: [{$retainKeys: [name], name: foo, value: null}]
  result: {retainKeysMergingList: [{name: bar}, {name: foo}]}
- description: nulls in a new member are dropped, nulls in scalar lists kept
  current: {}
  patch: {complex: {key: {keep: v, drop: null}}, list: [{inner: {a: x, b: null}}], scalars: [k1, null, k2]}
  result: {complex: {key: {keep: v}}, list: [{inner: {a: x}}], scalars: [k1, null, k2]}
- description: a new member holding $patch is dropped
  current: {name: a}
  patch: {simpleMap: {$patch: delete}}
  result: {name: a}
- description: a value of another JSON type replaces the live one
  current: {value: [1, 2], simpleMap: {a: b}}
  patch: {value: {x: 1, y: null}, simpleMap: str}
  result: {value: {x: 1}, simpleMap: str}
- description: map of typed values merges lists inside each value (a new element unanchored goes first)
  current: {typedMap: {k: {mergingList: [{name: a}]}}}
  patch: {typedMap: {k: {mergingList: [{name: b}]}}}
  result: {typedMap: {k: {mergingList: [{name: b}, {name: a}]}}}
- description: null patch is a no-op
  current: {name: a}
  patch: null
  result: {name: a}
- description: missing merge key in a patch element
  current: {mergingList: [{name: "1", value: a}]}
  patch: {mergingList: [{value: b}]}
  error: "map: map[value:b] does not contain declared merge key: name"
  code: 500
- description: patch list order must agree with $setElementOrder
  current: {mergingList: [{name: "1"}, {name: "3"}, {name: "2"}]}
  patch:
    $setElementOrder/mergingList: [{name: "1"}, {name: "2"}, {name: "3"}]
    mergingList: [{name: "3", value: "3"}, {name: "1", value: "1"}]
  error: "doesn't match $setElementOrder list"
  code: 500
- description: $patch merge is not supported in lists
  current: {mergingList: [{name: "1"}]}
  patch: {mergingList: [{name: "1", $patch: merge}]}
  error: merging lists cannot yet be specified in the patch
  code: 500
- description: unknown $patch directive on a map
  current: {simpleMap: {a: b}}
  patch: {simpleMap: {$patch: merge}}
  error: "unknown patch type: merge in map: map[$patch:merge]"
  code: 500
- description: $retainKeys must be a list
  current: {retainKeysMap: {name: a}}
  patch: {retainKeysMap: {$retainKeys: name}}
  error: invalid patch format of retainKeys
  code: 400
- description: a patched member missing from $retainKeys
  current: {retainKeysMap: {name: a}}
  patch: {retainKeysMap: {$retainKeys: [name], value: b}}
  error: invalid patch format of retainKeys
  code: 400
- description: lists of lists are refused
  current: {mergingIntList: [[1]]}
  patch: {mergingIntList: [[2]]}
  error: lists of lists are not supported
  code: 422
- description: a merged list must hold one JSON type
  current: {mergingIntList: [1]}
  patch: {mergingIntList: [a]}
  error: "list element types are not identical"
  code: 500
- description: $setElementOrder must be a list
  current: {mergingList: [{name: a}]}
  patch: {$setElementOrder/mergingList: {name: a}}
  error: "expected a []interface {}, but received a map[string]interface {}"
  code: 500
`) as Case[];

describe('strategicMergePatch semantics', () => {
  it.each(CASES.map((c) => [c.description, c] as const))('%s', (_d, c) => {
    const before = JSON.stringify([c.current, c.patch]);
    if (c.error !== undefined) {
      let err: unknown;
      try {
        strategicMergePatch(c.current, c.patch, item);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(PatchError);
      const pe = err as PatchError;
      expect(pe.detail).toContain(c.error);
      expect(pe.code).toBe(c.code);
    } else {
      expect(strategicMergePatch(c.current, c.patch, item)).toEqual(c.result);
    }
    expect(JSON.stringify([c.current, c.patch])).toBe(before);
  });

  it('keeps the result identical whatever the key order of the patch', () => {
    const current = parse(`{mergingIntList: [1, 2, 3, 4], mergingList: [{name: a}, {name: b}, {name: c}]}`) as JsonObject;
    const entries: Array<[string, JsonValue]> = [
      ['$setElementOrder/mergingIntList', [4, 1, 2]],
      ['$deleteFromPrimitiveList/mergingIntList', [3]],
      ['$setElementOrder/mergingList', [{ name: 'c' }, { name: 'd' }, { name: 'a' }]],
      ['mergingList', [{ name: 'd' }, { name: 'b', $patch: 'delete' }]],
    ];
    const results = [entries, [...entries].reverse(), [entries[2]!, entries[0]!, entries[3]!, entries[1]!]].map((es) =>
      strategicMergePatch(current, Object.fromEntries(es), item),
    );
    expect(results[0]).toEqual({ mergingIntList: [4, 1, 2], mergingList: [{ name: 'c' }, { name: 'd' }, { name: 'a' }] });
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
  });

  it('never leaves directive members in the result', () => {
    const out = strategicMergePatch(
      { mergingList: [{ name: 'a' }] },
      {
        mergingList: [{ name: 'b', $setElementOrder: 1, simpleMap: { $retainKeys: ['x'], x: 1 } }],
        nonMergingList: [{ name: 'c', '$deleteFromPrimitiveList/x': [1], $patch: 'replace' }],
        replacingItem: { '$setElementOrder/x': [], y: 1 },
      },
      item,
    );
    expect(JSON.stringify(out)).not.toMatch(/"\$(patch|retainKeys|setElementOrder\/|deleteFromPrimitiveList\/)/);
  });

  it('answers a non-object patch with 400 like encoding/json', () => {
    expect(() => strategicMergePatch({}, [1], item)).toThrowError(
      expect.objectContaining({ code: 400, reason: 'BadRequest', message: 'json: cannot unmarshal array into Go value of type map[string]interface {}' }),
    );
  });
});

describe('cost of large lists (requests are untrusted)', () => {
  const env = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `V${i}`, value: String(i) }));

  it('reordering 5000 env vars with $setElementOrder is fast', () => {
    const live = { spec: { containers: [{ name: 'a', env: env(5000) }] } };
    const order = [{ name: 'NEW' }, ...env(5000).reverse().map((e) => ({ name: e.name }))];
    const t = performance.now();
    const out = strategicMergePatch(live, { spec: { containers: [{ name: 'a', '$setElementOrder/env': order, env: [{ name: 'NEW', value: 'x' }] }] } }, 'Pod') as any;
    expect(performance.now() - t).toBeLessThan(3000);
    expect(out.spec.containers[0].env.map((e: any) => e.name)).toEqual(order.map((o) => o.name));
  });

  it('an empty $setElementOrder over a big new list is linear (upstream stores it reversed)', () => {
    const finalizers = Array.from({ length: 20000 }, (_, i) => `f${i}`);
    const t = performance.now();
    const out = strategicMergePatch({ metadata: {} }, { metadata: { '$setElementOrder/finalizers': [], finalizers } }, 'Pod') as any;
    expect(performance.now() - t).toBeLessThan(3000);
    expect(out.metadata.finalizers).toEqual([...finalizers].reverse());
  });

  it('thousands of delete directives are fast', () => {
    const live = { spec: { containers: [{ name: 'a', env: env(20000) }] } };
    const patch = { spec: { containers: [{ name: 'a', env: env(20000).filter((_, i) => i % 2 === 0).map((e) => ({ name: e.name, $patch: 'delete' })) }] } };
    const t = performance.now();
    const out = strategicMergePatch(live, patch, 'Pod') as any;
    expect(performance.now() - t).toBeLessThan(3000);
    expect(out.spec.containers[0].env).toHaveLength(10000);
    expect(out.spec.containers[0].env[0].name).toBe('V1');
  });
});
