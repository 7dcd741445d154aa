// The patches kubectl computes (two-way for edit, three-way for apply), checked against upstream-style expectations
// and by applying them back with strategicMergePatch.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  clone,
  createThreeWayMergePatch,
  createTwoWayMergePatch,
  strategicMergePatch,
  type JsonObject,
  type PatchSchema,
} from '../../../../../control/apiserver/patch/index.js';

const ITEM_SCHEMA: PatchSchema = {
  Item: {
    fields: {
      mergingList: { type: 'Item', list: { strategy: 'merge', mergeKey: 'name' } },
      nonMergingList: { type: 'Item' },
      mergingIntList: { list: { strategy: 'merge' } },
      nonMergingIntList: {},
      simpleMap: {},
      replacingItem: { strategy: 'replace' },
      retainKeysMap: { type: 'Item', strategy: 'retainKeys' },
      retainKeysMergingList: { type: 'Item', list: { strategy: 'merge,retainKeys', mergeKey: 'name' } },
    },
  },
};
const item = { types: ITEM_SCHEMA, root: 'Item' };

interface Case {
  description: string;
  original?: JsonObject;
  modified: JsonObject;
  current: JsonObject;
  twoWay: JsonObject;
  twoWayResult?: JsonObject;
  threeWay: JsonObject;
  result: JsonObject;
}

const CASES = parse(`
- description: no original (first apply over a created object)
  modified: {name: "1", value: "1"}
  current: {name: "1", other: a}
  twoWay: {name: "1", value: "1"}
  threeWay: {value: "1"}
  result: {name: "1", value: "1", other: a}
- description: add a field, keep what the server added
  original: {name: "1"}
  modified: {name: "1", value: "1"}
  current: {name: "1", other: a}
  twoWay: {value: "1"}
  threeWay: {value: "1"}
  result: {name: "1", value: "1", other: a}
- description: a live change to an applied field is overwritten
  original: {name: "1"}
  modified: {name: "1", value: "1"}
  current: {name: a, other: a}
  twoWay: {value: "1"}
  threeWay: {name: "1", value: "1"}
  result: {name: "1", value: "1", other: a}
- description: a field dropped from the config is deleted
  original: {name: "1", value: "1"}
  modified: {value: "1"}
  current: {name: "1", value: "1", other: a}
  twoWay: {name: null}
  threeWay: {name: null}
  result: {value: "1", other: a}
- description: nested map member dropped
  original: {simpleMap: {k1: "1", k2: "2"}}
  modified: {simpleMap: {k1: "1"}}
  current: {simpleMap: {k1: "1", k2: "2", other: a}}
  twoWay: {simpleMap: {k2: null}}
  threeWay: {simpleMap: {k2: null}}
  result: {simpleMap: {k1: "1", other: a}}
- description: non-merging scalar list replaced
  original: {nonMergingIntList: [1, 2]}
  modified: {nonMergingIntList: [2, 3]}
  current: {nonMergingIntList: [1, 4]}
  twoWay: {nonMergingIntList: [2, 3]}
  threeWay: {nonMergingIntList: [2, 3]}
  result: {nonMergingIntList: [2, 3]}
- description: scalar removed from a merging list keeps server-only scalars
  original: {mergingIntList: [1, 2, 3]}
  modified: {mergingIntList: [1, 2]}
  current: {mergingIntList: [1, 2, 3, 4]}
  twoWay: {$setElementOrder/mergingIntList: [1, 2], $deleteFromPrimitiveList/mergingIntList: [3]}
  threeWay: {$setElementOrder/mergingIntList: [1, 2], $deleteFromPrimitiveList/mergingIntList: [3]}
  result: {mergingIntList: [1, 2, 4]}
- description: scalar added and removed
  original: {mergingIntList: [1, 2, 3]}
  modified: {mergingIntList: [1, 2, 4]}
  current: {mergingIntList: [1, 2, 3, 4]}
  twoWay: {$setElementOrder/mergingIntList: [1, 2, 4], $deleteFromPrimitiveList/mergingIntList: [3], mergingIntList: [4]}
  threeWay: {$setElementOrder/mergingIntList: [1, 2, 4], $deleteFromPrimitiveList/mergingIntList: [3]}
  result: {mergingIntList: [1, 2, 4]}
- description: elements added around existing ones
  original: {mergingList: [{name: "1"}, {name: "2", value: "2"}]}
  modified: {mergingList: [{name: "4", value: "4"}, {name: "1"}, {name: "2", value: "2"}, {name: "3", value: "3"}]}
  current: {mergingList: [{name: "1", other: a}, {name: "2", value: "2", other: b}]}
  twoWay:
    $setElementOrder/mergingList: [{name: "4"}, {name: "1"}, {name: "2"}, {name: "3"}]
    mergingList: [{name: "4", value: "4"}, {name: "3", value: "3"}]
  threeWay:
    $setElementOrder/mergingList: [{name: "4"}, {name: "1"}, {name: "2"}, {name: "3"}]
    mergingList: [{name: "4", value: "4"}, {name: "3", value: "3"}]
  result: {mergingList: [{name: "4", value: "4"}, {name: "1", other: a}, {name: "2", value: "2", other: b}, {name: "3", value: "3"}]}
- description: element field changed live is put back
  original: {mergingList: [{name: "1"}, {name: "2", value: "2"}]}
  modified: {mergingList: [{name: "1"}, {name: "2", value: "2"}, {name: "3", value: "3"}]}
  current: {mergingList: [{name: "1", other: a}, {name: "2", value: "3", other: b}]}
  twoWay:
    $setElementOrder/mergingList: [{name: "1"}, {name: "2"}, {name: "3"}]
    mergingList: [{name: "3", value: "3"}]
  threeWay:
    $setElementOrder/mergingList: [{name: "1"}, {name: "2"}, {name: "3"}]
    mergingList: [{name: "2", value: "2"}, {name: "3", value: "3"}]
  result: {mergingList: [{name: "1", other: a}, {name: "2", value: "2", other: b}, {name: "3", value: "3"}]}
- description: element removed from the config is deleted
  original: {mergingList: [{name: "1"}, {name: "2"}]}
  modified: {mergingList: [{name: "2"}]}
  current: {mergingList: [{name: "1"}, {name: "2", other: b}]}
  twoWay: {$setElementOrder/mergingList: [{name: "2"}], mergingList: [{name: "1", $patch: delete}]}
  threeWay: {$setElementOrder/mergingList: [{name: "2"}], mergingList: [{name: "1", $patch: delete}]}
  result: {mergingList: [{name: "2", other: b}]}
- description: element added and another removed, server-only element kept in place
  original: {mergingList: [{name: "1"}, {name: "2"}]}
  modified: {mergingList: [{name: "2"}, {name: "3"}]}
  current: {mergingList: [{name: "1"}, {name: "2", other: b}, {name: "4", other: c}]}
  twoWay:
    $setElementOrder/mergingList: [{name: "2"}, {name: "3"}]
    mergingList: [{name: "3"}, {name: "1", $patch: delete}]
  threeWay:
    $setElementOrder/mergingList: [{name: "2"}, {name: "3"}]
    mergingList: [{name: "3"}, {name: "1", $patch: delete}]
  result: {mergingList: [{name: "2", other: b}, {name: "4", other: c}, {name: "3"}]}
- description: elements deleted live are re-added
  original: {mergingList: [{name: "1"}, {name: "2"}]}
  modified: {mergingList: [{name: "2"}, {name: "3"}]}
  current: {mergingList: [{name: "1", other: a}, {name: "4", other: c}]}
  twoWay:
    $setElementOrder/mergingList: [{name: "2"}, {name: "3"}]
    mergingList: [{name: "3"}, {name: "1", $patch: delete}]
  threeWay:
    $setElementOrder/mergingList: [{name: "2"}, {name: "3"}]
    mergingList: [{name: "2"}, {name: "3"}, {name: "1", $patch: delete}]
  result: {mergingList: [{name: "4", other: c}, {name: "2"}, {name: "3"}]}
- description: field of an element dropped
  original: {mergingList: [{name: "1", value: "1"}, {name: "2", value: "2"}]}
  modified: {mergingList: [{name: "1"}, {name: "2", value: "2"}]}
  current: {mergingList: [{name: "1", value: "1", other: a}, {name: "2", value: "2", other: b}]}
  twoWay: {$setElementOrder/mergingList: [{name: "1"}, {name: "2"}], mergingList: [{name: "1", value: null}]}
  threeWay: {$setElementOrder/mergingList: [{name: "1"}, {name: "2"}], mergingList: [{name: "1", value: null}]}
  result: {mergingList: [{name: "1", other: a}, {name: "2", value: "2", other: b}]}
- description: retainKeys list element losing a field
  original: {retainKeysMergingList: [{name: bar}, {name: foo, value: a}]}
  modified: {retainKeysMergingList: [{name: bar}, {name: foo}]}
  current: {retainKeysMergingList: [{name: bar}, {name: foo, value: a, other: x}]}
  twoWay:
    $setElementOrder/retainKeysMergingList: [{name: bar}, {name: foo}]
    retainKeysMergingList: [{$retainKeys: [name], name: foo, value: null}]
  threeWay:
    $setElementOrder/retainKeysMergingList: [{name: bar}, {name: foo}]
    retainKeysMergingList: [{$retainKeys: [name], name: foo, value: null}]
  result: {retainKeysMergingList: [{name: bar}, {name: foo}]}
- description: retainKeys map switching members
  original: {retainKeysMap: {name: foo, value: a}}
  modified: {retainKeysMap: {name: foo, other: b}}
  current: {retainKeysMap: {name: foo, value: a, simpleMap: {k: v}}}
  twoWay: {retainKeysMap: {$retainKeys: [name, other], other: b, value: null}}
  threeWay: {retainKeysMap: {$retainKeys: [name, other], other: b, value: null}}
  result: {retainKeysMap: {name: foo, other: b}}
- description: replace-strategy field sent whole
  original: {replacingItem: {a: "1", b: "2"}}
  modified: {replacingItem: {c: "3"}}
  current: {replacingItem: {a: "1", b: "2"}, other: x}
  twoWay: {replacingItem: {c: "3"}}
  threeWay: {replacingItem: {c: "3"}}
  result: {replacingItem: {c: "3"}, other: x}
- description: two lists reordered, one with a deletion
  original: {mergingList: [{name: a, value: a}, {name: b, value: b}], retainKeysMergingList: [{name: c}, {name: d}]}
  modified: {mergingList: [{name: b, value: b}], retainKeysMergingList: [{name: d}, {name: c}]}
  current: {mergingList: [{name: a, value: a}, {name: b, value: b}], retainKeysMergingList: [{name: c}, {name: d}]}
  twoWay:
    $setElementOrder/mergingList: [{name: b}]
    $setElementOrder/retainKeysMergingList: [{name: d}, {name: c}]
    mergingList: [{name: a, $patch: delete}]
  threeWay:
    $setElementOrder/mergingList: [{name: b}]
    $setElementOrder/retainKeysMergingList: [{name: d}, {name: c}]
    mergingList: [{name: a, $patch: delete}]
  result: {mergingList: [{name: b, value: b}], retainKeysMergingList: [{name: d}, {name: c}]}
- description: nothing changed
  original: {name: a, retainKeysMap: {name: foo}}
  modified: {name: a, retainKeysMap: {name: foo}}
  current: {name: a, value: b, retainKeysMap: {name: foo}}
  twoWay: {}
  threeWay: {}
  result: {name: a, value: b, retainKeysMap: {name: foo}}
`) as Case[];

describe('createTwoWayMergePatch / createThreeWayMergePatch', () => {
  it.each(CASES.map((c) => [c.description, c] as const))('%s', (_d, c) => {
    const twoWay = createTwoWayMergePatch(c.original ?? {}, c.modified, item);
    expect(twoWay).toEqual(c.twoWay);
    expect(strategicMergePatch(c.original ?? {}, twoWay, item)).toEqual(c.twoWayResult ?? c.modified);
    const threeWay = createThreeWayMergePatch(c.original, c.modified, c.current, item);
    expect(threeWay).toEqual(c.threeWay);
    expect(strategicMergePatch(c.current, threeWay, item)).toEqual(c.result);
  });
});

describe('kubectl apply of a Deployment, end to end', () => {
  const LAST = 'kubectl.kubernetes.io/last-applied-configuration';
  const config = (image: string, extra: JsonObject[] = [], labels: JsonObject = { app: 'web' }): JsonObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'nginx', image, env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] }, ...extra] },
      },
    },
  });
  /** What kubectl sends: modified carries the new last-applied annotation. */
  const withAnnotation = (c: JsonObject): JsonObject => {
    const out = clone(c) as any;
    out.metadata.annotations = { [LAST]: JSON.stringify(c) };
    return out;
  };
  /** The live object: the applied config plus server defaults and status. */
  const live = (applied: JsonObject): JsonObject => {
    const d = withAnnotation(applied) as any;
    d.metadata.uid = 'u1';
    d.metadata.annotations['deployment.kubernetes.io/revision'] = '1';
    d.spec.replicas = 1;
    d.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } };
    for (const c of d.spec.template.spec.containers) Object.assign(c, { imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log' });
    d.spec.template.spec.restartPolicy = 'Always';
    d.status = { replicas: 1 };
    return d;
  };
  const apply = (prev: JsonObject, next: JsonObject, current = live(prev)) => {
    const patch = createThreeWayMergePatch(prev, withAnnotation(next), current, 'Deployment');
    return { patch, result: strategicMergePatch(current, patch, 'Deployment') as any, current };
  };

  it('changed image: the patch is the annotation plus the container by name with $setElementOrder', () => {
    const prev = config('nginx:1.14');
    const next = config('nginx:1.16');
    const { patch, result, current } = apply(prev, next);
    expect(patch).toEqual({
      metadata: { annotations: { [LAST]: JSON.stringify(next) } },
      spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'nginx' }], containers: [{ image: 'nginx:1.16', name: 'nginx' }] } } },
    });
    const want = clone(current) as any;
    want.metadata.annotations[LAST] = JSON.stringify(next);
    want.spec.template.spec.containers[0].image = 'nginx:1.16';
    expect(result).toEqual(want);
  });

  it('added and removed containers', () => {
    const sidecar = { name: 'sidecar', image: 'busybox' };
    const added = apply(config('nginx'), config('nginx', [sidecar]));
    expect(added.patch.spec).toEqual({
      template: { spec: { '$setElementOrder/containers': [{ name: 'nginx' }, { name: 'sidecar' }], containers: [sidecar] } },
    });
    expect(added.result.spec.template.spec.containers.map((c: any) => c.name)).toEqual(['nginx', 'sidecar']);

    const removed = apply(config('nginx', [sidecar]), config('nginx'));
    expect(removed.patch.spec).toEqual({
      template: { spec: { '$setElementOrder/containers': [{ name: 'nginx' }], containers: [{ $patch: 'delete', name: 'sidecar' }] } },
    });
    expect(removed.result.spec.template.spec.containers.map((c: any) => c.name)).toEqual(['nginx']);
  });

  it('removed label: null; labels added by others stay', () => {
    const prev = config('nginx', [], { app: 'web', tier: 'frontend' });
    const current = live(prev) as any;
    current.metadata.labels.team = 'x';
    const { patch, result } = apply(prev, config('nginx'), current);
    expect(patch.metadata).toEqual({ annotations: { [LAST]: JSON.stringify(config('nginx')) }, labels: { tier: null } });
    expect(result.metadata.labels).toEqual({ app: 'web', team: 'x' });
  });

  it('reordered env: $setElementOrder/env inside the container', () => {
    const next = config('nginx') as any;
    next.spec.template.spec.containers[0].env.reverse();
    const { patch, result } = apply(config('nginx'), next);
    expect(patch.spec).toEqual({
      template: {
        spec: {
          '$setElementOrder/containers': [{ name: 'nginx' }],
          containers: [{ '$setElementOrder/env': [{ name: 'B' }, { name: 'A' }], name: 'nginx' }],
        },
      },
    });
    expect(result.spec.template.spec.containers[0].env).toEqual([
      { name: 'B', value: '2' },
      { name: 'A', value: '1' },
    ]);
  });

  it('unchanged config: only the annotation would change, and it is equal, so the patch is empty', () => {
    const { patch, result, current } = apply(config('nginx'), config('nginx'));
    expect(patch).toEqual({});
    expect(result).toEqual(current);
  });
});

describe('properties', () => {
  function rng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const pick = <T,>(r: () => number, xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const shuffle = <T,>(r: () => number, xs: T[]): T[] => {
    const a = xs.slice();
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  };
  /** A random Item: unique merge keys and unique scalars, as valid objects have. */
  function randomItem(r: () => number, depth: number): JsonObject {
    const o: JsonObject = {};
    if (r() < 0.5) o['value'] = pick(r, ['a', 'b', 'c']);
    if (r() < 0.3) o['other'] = pick(r, ['x', 'y']);
    if (r() < 0.4) o['simpleMap'] = Object.fromEntries(shuffle(r, ['k1', 'k2', 'k3']).slice(0, 1 + Math.floor(r() * 3)).map((k) => [k, pick(r, ['1', '2'])]));
    if (r() < 0.4) o['mergingIntList'] = shuffle(r, [1, 2, 3, 4, 5]).slice(0, Math.floor(r() * 5));
    if (r() < 0.3) o['nonMergingIntList'] = Array.from({ length: Math.floor(r() * 3) }, () => pick(r, [1, 2, 3]));
    if (depth > 0 && r() < 0.6)
      o['mergingList'] = shuffle(r, ['n1', 'n2', 'n3', 'n4'])
        .slice(0, Math.floor(r() * 5))
        .map((name) => ({ ...randomItem(r, depth - 1), name }));
    if (depth > 0 && r() < 0.3) o['nonMergingList'] = [randomItem(r, 0)];
    return o;
  }

  it('applying a two-way patch to the original gives the modified object, order included', () => {
    const r = rng(11);
    for (let i = 0; i < 300; i++) {
      const a = randomItem(r, 2);
      const b = randomItem(r, 2);
      const patch = createTwoWayMergePatch(a, b, item);
      expect(strategicMergePatch(a, patch, item)).toEqual(b);
    }
  });

  it('without live drift, a three-way patch applied to the live object gives the new config', () => {
    const r = rng(12);
    for (let i = 0; i < 300; i++) {
      const a = randomItem(r, 2);
      const b = randomItem(r, 2);
      const patch = createThreeWayMergePatch(a, b, a, item);
      expect(strategicMergePatch(a, patch, item)).toEqual(b);
    }
  });
});
