import { describe, expect, it } from 'vitest';
import { StringInterner } from '../../../../control/client/intern.js';

describe('StringInterner', () => {
  it('leaves decoded objects equal to what was parsed, nested arrays and objects included', () => {
    const text = JSON.stringify({
      metadata: { name: 'web-1', namespace: 'default', labels: { app: 'web' }, creationTimestamp: '2026-01-01T00:00:00Z' },
      spec: { containers: [{ name: 'web', image: 'nginx:1.27', args: ['-g', 'daemon off;'], ports: [{ containerPort: 80 }] }], nodeName: null },
      status: { conditions: [{ type: 'Ready', status: 'True' }], phase: 'Running', note: 'x'.repeat(200) },
    });
    const interner = new StringInterner();
    const a = interner.internValues(JSON.parse(text) as unknown);
    const b = interner.internValues(JSON.parse(text) as unknown);
    expect(a).toEqual(JSON.parse(text));
    expect(b).toEqual(JSON.parse(text));
  });

  it('keeps only short values, and starts afresh when its table is full', () => {
    const interner = new StringInterner(3);
    interner.internValues({ a: 'one', b: 'two', c: 'x'.repeat(65) });
    expect(interner.size).toBe(2);
    interner.internValues({ a: 'one', b: 'three' });
    expect(interner.size).toBe(3);
    interner.internValues({ d: 'four' });
    expect(interner.size).toBe(1);
  });

  it('leaves frozen objects alone', () => {
    const frozen = Object.freeze({ a: 'one' });
    expect(() => new StringInterner().internValues({ inner: frozen, list: Object.freeze(['two']) })).not.toThrow();
  });
});
