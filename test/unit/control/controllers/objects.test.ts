import { describe, expect, it } from 'vitest';
import { jsonEqual, stableStringify } from '../../../../control/controllers/objects.js';

describe('jsonEqual', () => {
  // Pairs that are equal as stable JSON text and pairs that are not, including the corners of JSON's rules.
  const values: unknown[] = [
    undefined,
    null,
    0,
    -0,
    1,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    '',
    '0',
    'null',
    '{}',
    true,
    false,
    [],
    {},
    [null],
    [undefined],
    [1, 2],
    [2, 1],
    { a: 1 },
    { a: 1, b: undefined },
    { b: undefined, a: 1 },
    { a: 1, b: null },
    { a: '1' },
    { a: [1, { c: 'x', d: undefined }], b: { e: true } },
    { b: { e: true }, a: [1, { c: 'x' }] },
    { b: { e: true }, a: [1, { c: 'y' }] },
    { a: { b: { c: [] } } },
    { a: { b: { c: {} } } },
    Object.create({ a: 1 }) as unknown,
    new Date(0),
  ];

  it('answers exactly as comparing the stable JSON texts does', () => {
    for (const a of values) {
      for (const b of values) {
        expect(jsonEqual(a, b), `${String(stableStringify(a))} vs ${String(stableStringify(b))}`).toBe(stableStringify(a) === stableStringify(b));
      }
    }
  });

  it('compares pods as the controllers see them: member order and unset members do not matter', () => {
    const view = { labels: { app: 'web', tier: 'front' }, ip: '10.0.0.1', ready: 'True', phase: 'Running', node: 'n1', deleting: false, hostname: undefined };
    expect(jsonEqual(view, { deleting: false, node: 'n1', phase: 'Running', ready: 'True', ip: '10.0.0.1', labels: { tier: 'front', app: 'web' } })).toBe(true);
    expect(jsonEqual(view, { ...view, ready: 'False' })).toBe(false);
    expect(jsonEqual(view, { ...view, labels: { app: 'web' } })).toBe(false);
  });
});
