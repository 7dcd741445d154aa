import { describe, expect, it } from 'vitest';
import { canonicalJson, containerSpecHash } from '../../../../agent/kuberuntime/hash.js';
import { makePod } from './fixtures.js';

describe('canonicalJson / containerSpecHash', () => {
  it('does not depend on key order, at any depth', () => {
    const a = { name: 'app', image: 'x', env: [{ name: 'A', value: '1' }], resources: { limits: { cpu: '1', memory: '1Gi' } } };
    const b = { resources: { limits: { memory: '1Gi', cpu: '1' } }, env: [{ value: '1', name: 'A' }], image: 'x', name: 'app' };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(containerSpecHash(a)).toBe(containerSpecHash(b));
  });

  it('ignores undefined members, as JSON does', () => {
    expect(canonicalJson({ a: 1, b: undefined })).toBe('{"a":1}');
    expect(containerSpecHash({ a: 1, b: undefined })).toBe(containerSpecHash({ a: 1 }));
  });

  it('is a 16-hex-digit digest and stable across calls', () => {
    const h = containerSpecHash({ name: 'app' });
    expect(h).toMatch(/^[0-9a-f]{16}$/);
    expect(containerSpecHash({ name: 'app' })).toBe(h);
  });

  it.each([
    ['image', { image: 'busybox:1.37' }],
    ['command', { command: ['sleep', '10'] }],
    ['args order', { args: ['b', 'a'] }],
    ['env value', { env: [{ name: 'A', value: '2' }] }],
    ['a probe', { livenessProbe: { exec: { command: ['true'] } } }],
    ['resources', { resources: { limits: { cpu: '2' } } }],
  ])('changes when the %s changes', (_what, change) => {
    const base = { name: 'app', image: 'busybox:1.36', args: ['a', 'b'], env: [{ name: 'A', value: '1' }] };
    const pod1 = makePod({ containers: [base] });
    const pod2 = makePod({ containers: [{ ...base, ...change }] });
    expect(containerSpecHash(pod2.spec.containers[0])).not.toBe(containerSpecHash(pod1.spec.containers[0]));
  });

  it('is the same for the same manifest parsed twice', () => {
    const spec = { containers: [{ name: 'app', image: 'busybox:1.36', ports: [{ containerPort: 80 }] }] };
    expect(containerSpecHash(makePod(spec).spec.containers[0])).toBe(containerSpecHash(makePod(structuredClone(spec)).spec.containers[0]));
  });

  it('tells arrays, strings, numbers and null apart', () => {
    const forms = [[1], '1', 1, null, { 0: 1 }, [[1]], true];
    expect(new Set(forms.map(canonicalJson)).size).toBe(forms.length);
  });
});
