import { describe, expect, it } from 'vitest';
import type { Pod } from '../../../../control/api/index.js';
import { parseManifestText } from '../../../../agent/config/manifest.js';
import { applyStaticPodDefaults, FirstSeen, staticPodUid } from '../../../../agent/config/static-pod.js';
import { podDoc } from './fixtures.js';

function pod(name: string, image = 'nginx:1.25', extra: Record<string, unknown> = {}): Pod {
  const r = parseManifestText(JSON.stringify(podDoc(name, image, extra)), 'test');
  const p = r.pods[0];
  if (!p) throw new Error(`fixture did not parse: ${JSON.stringify(r.errors)}`);
  return p;
}

const ctx = { nodeName: 'Node-1', source: 'file' as const, origin: '/etc/skiff/manifests/web.yaml', seen: '2026-01-01T00:00:00.000Z' };

describe('applyStaticPodDefaults', () => {
  it('suffixes the name with the lowercased node name and binds the pod to the node', () => {
    const out = applyStaticPodDefaults(pod('web'), ctx);
    expect(out.metadata.name).toBe('web-node-1');
    expect(out.metadata.namespace).toBe('default');
    expect(out.spec.nodeName).toBe('Node-1');
  });

  it('sets the config annotations, with the hash equal to the UID', () => {
    const out = applyStaticPodDefaults(pod('web'), ctx);
    expect(out.metadata.uid).toMatch(/^[0-9a-f]{32}$/);
    expect(out.metadata.annotations).toMatchObject({
      'kubernetes.io/config.hash': out.metadata.uid,
      'kubernetes.io/config.source': 'file',
      'kubernetes.io/config.seen': '2026-01-01T00:00:00.000Z',
    });
  });

  it('gives a stable UID, unaffected by the seen time or field order', () => {
    const a = applyStaticPodDefaults(pod('web'), ctx);
    const b = applyStaticPodDefaults(pod('web'), { ...ctx, seen: new Date('2030-05-05T00:00:00Z') });
    expect(b.metadata.uid).toBe(a.metadata.uid);
    const doc = podDoc('web');
    const reordered = { spec: doc.spec, metadata: doc.metadata, kind: doc.kind, apiVersion: doc.apiVersion };
    const c = parseManifestText(JSON.stringify(reordered), 'test').pods[0];
    expect(c && applyStaticPodDefaults(c, ctx).metadata.uid).toBe(a.metadata.uid);
  });

  it('gives a new UID when the spec, the node or the origin changes', () => {
    const base = staticPodUid(pod('web'), ctx);
    expect(staticPodUid(pod('web', 'nginx:1.26'), ctx)).not.toBe(base);
    expect(staticPodUid(pod('web'), { ...ctx, nodeName: 'node-2' })).not.toBe(base);
    expect(staticPodUid(pod('web'), { ...ctx, origin: '/other.yaml' })).not.toBe(base);
    expect(staticPodUid(pod('web'), { ...ctx, source: 'http' })).not.toBe(base);
  });

  it('keeps a UID the manifest sets', () => {
    const out = applyStaticPodDefaults(pod('web', 'nginx', { uid: 'fixed-uid' }), ctx);
    expect(out.metadata.uid).toBe('fixed-uid');
    expect(out.metadata.annotations?.['kubernetes.io/config.hash']).toBe('fixed-uid');
  });

  it('tolerates every NoExecute taint for file pods only, without duplicating', () => {
    const out = applyStaticPodDefaults(pod('web'), ctx);
    expect(out.spec.tolerations).toEqual([{ operator: 'Exists', effect: 'NoExecute' }]);
    expect(applyStaticPodDefaults(out, ctx).spec.tolerations).toHaveLength(1);
    expect(applyStaticPodDefaults(pod('web'), { ...ctx, source: 'http' }).spec.tolerations ?? []).toEqual([]);
  });

  it('does not modify its input', () => {
    const input = pod('web');
    const before = JSON.stringify(input);
    applyStaticPodDefaults(input, ctx);
    expect(JSON.stringify(input)).toBe(before);
  });
});

describe('FirstSeen', () => {
  it('keeps the first time per UID until the UID goes away', () => {
    let t = 0;
    const seen = new FirstSeen(() => new Date(t));
    expect(seen.stamp('a')).toBe('1970-01-01T00:00:00.000Z');
    t = 5000;
    expect(seen.stamp('a')).toBe('1970-01-01T00:00:00.000Z');
    seen.retain([]);
    expect(seen.stamp('a')).toBe('1970-01-01T00:00:05.000Z');
  });
});
