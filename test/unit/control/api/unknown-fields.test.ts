import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { decodeKind, findUnknownFields, parsePod } from '../../../../control/api/index.js';
import { podWith } from './helpers.js';

// The walk builds a field's path text only when it reports the field; these pin the texts it builds.
describe('findUnknownFields: paths of the fields reported', () => {
  const Leaf = z.object({ known: z.string().optional() });
  const Schema = z.object({
    top: z.string().optional(),
    list: z.array(Leaf).optional(),
    map: z.record(z.string(), Leaf).optional(),
    nested: z.object({ lists: z.array(z.array(Leaf)).optional(), inner: Leaf.optional() }).optional(),
    open: z.looseObject({}).optional(),
  });

  it('names fields at the root, in objects, list items, nested lists and map values as upstream does', () => {
    const input = {
      top: 'x',
      extra: 1,
      list: [{ known: 'a' }, { known: 'b', bad: 1 }],
      map: { 'k.example/x': { bad: true }, ok: { known: 'y' } },
      nested: { lists: [[{}], [{ known: 'c' }, { deep: 1 }]], inner: { bad: 2 }, nope: 3 },
      open: { anything: { goes: 1 } },
    };
    expect(findUnknownFields(Schema, input)).toEqual(['extra', 'list[1].bad', 'map[k.example/x].bad', 'nested.lists[1][1].deep', 'nested.inner.bad', 'nested.nope']);
  });

  it('prefixes the path it is given', () => {
    expect(findUnknownFields(Schema, { list: [{ bad: 1 }], x: 1 }, 'spec')).toEqual(['spec.list[0].bad', 'spec.x']);
    expect(findUnknownFields(Leaf, { bad: 1 }, 'items[3]')).toEqual(['items[3].bad']);
  });

  it('finds nothing in a body without unknown fields', () => {
    expect(findUnknownFields(Schema, { top: 'x', list: [{ known: 'a' }], map: { a: {} }, nested: { lists: [[{ known: 'b' }]] } })).toEqual([]);
  });
});

describe('decodeKind with decodedBefore (the second pass over a pod that mutating admission changed)', () => {
  const type = { apiVersion: 'v1', kind: 'Pod' };

  it('decodes an earlier decode plus additions exactly as a full decode does', () => {
    const first = parsePod(podWith((p) => (p.spec.containers[0].ports = [{ containerPort: 80 }])));
    expect(first.ok).toBe(true);
    if (!first.ok) return;
    // What ServiceAccount admission adds: a projected token volume and its mount.
    const mutated = structuredClone(first.pod) as Record<string, any>;
    mutated.spec.volumes = [...(mutated.spec.volumes ?? []), { name: 'kube-api-access-x', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3607 } }], defaultMode: 420 } }];
    mutated.spec.containers[0].volumeMounts = [{ name: 'kube-api-access-x', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }];
    const full = parsePod(structuredClone(mutated));
    const again = parsePod(structuredClone(mutated), { decodedBefore: true });
    expect(full.ok && again.ok).toBe(true);
    if (!full.ok || !again.ok) return;
    expect(JSON.stringify(again.pod)).toBe(JSON.stringify(full.pod));
    expect(again.warnings).toEqual(full.warnings);
  });

  it('still validates and defaults: only the search for unknown fields is skipped', () => {
    const bad = decodeKind(z.object({ apiVersion: z.string(), kind: z.string(), n: z.number().default(3) }), { ...type, n: 'x' }, type, { decodedBefore: true });
    expect(bad.ok).toBe(false);
    const defaulted = decodeKind(z.object({ apiVersion: z.string(), kind: z.string(), n: z.number().default(3) }), { ...type, extra: 1 }, type, { decodedBefore: true });
    expect(defaulted).toEqual({ ok: true, obj: { ...type, n: 3 }, warnings: [] });
    // Without the flag the same input is warned about.
    expect(decodeKind(z.object({ apiVersion: z.string(), kind: z.string() }), { ...type, extra: 1 }, type).ok && decodeKind(z.object({ apiVersion: z.string(), kind: z.string() }), { ...type, extra: 1 }, type)).toMatchObject({ warnings: ['unknown field "extra"'] });
  });
});
