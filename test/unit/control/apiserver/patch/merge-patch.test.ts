// RFC 7386 merge patch, CreateMergePatch, and property tests tying merge patch, its diff and SMP together.
import { describe, expect, it } from 'vitest';
import {
  clone,
  createMergePatch,
  deepEqual,
  isObject,
  jsonPatch,
  mergePatch,
  parsePatchBody,
  patchTypeFromContentType,
  PatchError,
  strategicMergePatch,
  type JsonObject,
  type JsonValue,
} from '../../../../../control/apiserver/patch/index.js';

describe('mergePatch: RFC 7386 appendix A', () => {
  const cases: Array<[JsonValue, JsonValue, JsonValue]> = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  it.each(cases.map((c, i) => [i + 1, ...c] as const))('case %i', (_i, doc, patch, want) => {
    const before = JSON.stringify([doc, patch]);
    expect(mergePatch(doc, patch)).toEqual(want);
    expect(JSON.stringify([doc, patch])).toBe(before);
  });

  it('a null patch is "Invalid JSON Patch" (400)', () => {
    expect(() => mergePatch({}, null)).toThrowError(expect.objectContaining({ code: 400, reason: 'BadRequest', message: 'Invalid JSON Patch' }));
  });

  it('nulls nested in a new value are pruned, also inside objects in arrays (evanphx)', () => {
    expect(mergePatch({}, { a: [{ b: null, c: 1 }, null] })).toEqual({ a: [{ c: 1 }, null] });
  });
});

describe('createMergePatch', () => {
  it('diffs nested objects, sends arrays whole, nulls removed members', () => {
    expect(createMergePatch({ a: 1, b: { c: 2, d: 3 }, e: [1, 2], f: 'x' }, { a: 1, b: { c: 2, d: 4 }, e: [1, 2, 3], g: true })).toEqual({
      b: { d: 4 },
      e: [1, 2, 3],
      f: null,
      g: true,
    });
  });
  it('is empty for equal documents and switches types whole', () => {
    expect(createMergePatch({ a: { b: [1, { c: 2 }] } }, { a: { b: [1, { c: 2 }] } })).toEqual({});
    expect(createMergePatch({ a: { b: 1 } }, { a: [1] })).toEqual({ a: [1] });
  });
});

describe('content types and bodies', () => {
  it('maps the three patch content types, ignoring parameters and case', () => {
    expect(patchTypeFromContentType('application/json-patch+json')).toBe('json');
    expect(patchTypeFromContentType('application/merge-patch+json; charset=utf-8')).toBe('merge');
    expect(patchTypeFromContentType('Application/Strategic-Merge-Patch+JSON')).toBe('strategic');
    expect(patchTypeFromContentType('application/apply-patch+yaml')).toBeUndefined();
    expect(patchTypeFromContentType(undefined)).toBeUndefined();
  });
  it('answers bodies that do not parse with 400', () => {
    expect(parsePatchBody('strategic', '{"a":1}')).toEqual({ a: 1 });
    expect(() => parsePatchBody('merge', '{nope')).toThrowError(expect.objectContaining({ code: 400, message: 'Invalid JSON Patch' }));
    expect(() => parsePatchBody('json', '')).toThrowError(expect.objectContaining({ code: 400, message: 'unexpected end of JSON input' }));
    expect(() => parsePatchBody('strategic', 'x')).toThrowError(expect.objectContaining({ code: 400, message: "invalid character 'x' looking for beginning of value" }));
    expect(() => parsePatchBody('strategic', 'x')).toThrowError(PatchError);
  });
});

// --- property tests -----------------------------------------------------------------------------------------------

/** mulberry32: small deterministic PRNG so failures reproduce. */
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

const KEYS = ['a', 'b', 'c', 'name', 'spec', 'x/y', '~k', ''];

/** A random JSON value without nulls (merge patches cannot express setting null). */
function value(r: () => number, depth: number): JsonValue {
  const p = r();
  if (depth <= 0 || p < 0.35) {
    const q = r();
    if (q < 0.3) return Math.floor(r() * 5);
    if (q < 0.6) return ['', 'v', 'w', 'nginx'][Math.floor(r() * 4)]!;
    if (q < 0.8) return r() < 0.5;
    return r() * 10;
  }
  if (p < 0.55) return Array.from({ length: Math.floor(r() * 4) }, () => value(r, depth - 1));
  return object(r, depth - 1);
}

function object(r: () => number, depth: number): JsonObject {
  const o: JsonObject = {};
  const n = Math.floor(r() * 5);
  for (let i = 0; i < n; i++) o[KEYS[Math.floor(r() * KEYS.length)]!] = value(r, depth);
  return o;
}

/** Mutates a copy: changes, removes and adds members at random depths. */
function mutate(r: () => number, v: JsonObject, depth = 3): JsonObject {
  const out = clone(v);
  for (const k of Object.keys(out)) {
    const p = r();
    if (p < 0.2) delete out[k];
    else if (p < 0.4) out[k] = value(r, depth);
    else if (p < 0.6 && isObject(out[k]!) && depth > 0) out[k] = mutate(r, out[k] as JsonObject, depth - 1);
  }
  if (r() < 0.5) out[KEYS[Math.floor(r() * KEYS.length)]!] = value(r, depth);
  return out;
}

/** A random merge patch: like `value` objects, with nulls as member values (not inside arrays). */
function patchObject(r: () => number, depth: number): JsonObject {
  const o: JsonObject = {};
  const n = Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const k = KEYS[Math.floor(r() * KEYS.length)]!;
    const p = r();
    o[k] = p < 0.25 ? null : p < 0.6 && depth > 0 ? patchObject(r, depth - 1) : value(r, 0);
  }
  return o;
}

describe('properties', () => {
  const RUNS = 400;

  it('mergePatch(a, createMergePatch(a, b)) equals b', () => {
    const r = rng(1);
    for (let i = 0; i < RUNS; i++) {
      const a = object(r, 3);
      const b = r() < 0.2 ? object(r, 3) : mutate(r, a);
      const patch = createMergePatch(a, b);
      expect(mergePatch(a, patch)).toEqual(b);
      if (deepEqual(a, b)) expect(patch).toEqual({});
    }
  });

  it('a merge patch is idempotent', () => {
    const r = rng(2);
    for (let i = 0; i < RUNS; i++) {
      const doc = object(r, 3);
      const patch = patchObject(r, 3);
      const once = mergePatch(doc, patch);
      expect(mergePatch(once, patch)).toEqual(once);
    }
  });

  it('without schema and directives, a strategic merge patch is a merge patch', () => {
    const r = rng(3);
    for (let i = 0; i < RUNS; i++) {
      const doc = object(r, 3);
      const patch = r() < 0.5 ? patchObject(r, 3) : createMergePatch(doc, mutate(r, doc));
      expect(strategicMergePatch(doc, patch, { types: {} })).toEqual(mergePatch(doc, patch));
    }
  });

  it('merging a list by key keeps every element and lands patched fields on their element', () => {
    const r = rng(4);
    for (let i = 0; i < RUNS; i++) {
      const names = ['a', 'b', 'c', 'd', 'e'].filter(() => r() < 0.6);
      const live = names.map((name) => ({ name, image: `img-${name}`, n: Math.floor(r() * 3) }));
      const touched = ['a', 'b', 'c', 'd', 'e', 'f'].filter(() => r() < 0.4);
      const patch = { spec: { containers: touched.map((name) => ({ name, image: `new-${name}` })) } };
      const out = strategicMergePatch({ spec: { containers: live } }, patch, 'PodTemplateSpec') as any;
      const byName = new Map<string, any>(out.spec.containers.map((c: any) => [c.name, c]));
      expect(byName.size).toBe(out.spec.containers.length);
      expect(new Set(byName.keys())).toEqual(new Set([...names, ...touched]));
      for (const c of live) if (!touched.includes(c.name)) expect(byName.get(c.name)).toEqual(c);
      for (const n of touched) expect(byName.get(n).image).toBe(`new-${n}`);
      // patched elements appear in patch order
      const order = out.spec.containers.map((c: any) => c.name).filter((n: string) => touched.includes(n));
      expect(order).toEqual(touched);
    }
  });

  it('a JSON patch of add/remove built from a diff reproduces the target (pointer escaping)', () => {
    const r = rng(5);
    const esc = (k: string): string => k.replace(/~/g, '~0').replace(/\//g, '~1');
    for (let i = 0; i < RUNS; i++) {
      const a = object(r, 2);
      const b = mutate(r, a, 2);
      const ops: JsonValue[] = [];
      for (const k of Object.keys(a)) if (!(k in b)) ops.push({ op: 'remove', path: `/${esc(k)}` });
      for (const [k, v] of Object.entries(b)) if (!deepEqual(a[k], v)) ops.push({ op: k in a ? 'replace' : 'add', path: `/${esc(k)}`, value: v });
      for (const [k, v] of Object.entries(b)) ops.push({ op: 'test', path: `/${esc(k)}`, value: v });
      expect(jsonPatch(a, ops)).toEqual(b);
    }
  });
});
