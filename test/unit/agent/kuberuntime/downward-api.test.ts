import { describe, expect, it } from 'vitest';
import { DownwardAPIError, podFieldPathValue } from '../../../../agent/kuberuntime/downward-api.js';
import { c, makePod, UID } from './fixtures.js';

describe('podFieldPathValue (upstream ExtractFieldPathAsString), for downwardAPI files and env', () => {
  const pod = makePod({ containers: [c('app')] }, { namespace: 'prod', labels: { tier: 'web', app: 'shop' }, annotations: { 'example.com/note': 'say "hi"' } });

  it('reads the name, namespace and uid', () => {
    expect(['metadata.name', 'metadata.namespace', 'metadata.uid'].map((p) => podFieldPathValue(pod, p))).toEqual(['web', 'prod', UID]);
  });

  it("reads one label or annotation by its key, and nothing for a key the pod does not have", () => {
    expect(podFieldPathValue(pod, "metadata.labels['tier']")).toBe('web');
    expect(podFieldPathValue(pod, "metadata.annotations['example.com/note']")).toBe('say "hi"');
    expect(podFieldPathValue(pod, "metadata.labels['nope']")).toBe('');
    expect(podFieldPathValue(makePod({ containers: [c('app')] }), "metadata.annotations['x']")).toBe('');
  });

  it('formats all labels or annotations as sorted key="value" lines', () => {
    expect(podFieldPathValue(pod, 'metadata.labels')).toBe('app="shop"\ntier="web"');
    expect(podFieldPathValue(pod, 'metadata.annotations')).toBe('example.com/note="say \\"hi\\""');
  });

  it('refuses any other path', () => {
    expect(() => podFieldPathValue(pod, 'spec.nodeName')).toThrow(new DownwardAPIError('unsupported fieldPath: spec.nodeName'));
    expect(() => podFieldPathValue(pod, "metadata.labels['tier'")).toThrow(DownwardAPIError);
  });
});
