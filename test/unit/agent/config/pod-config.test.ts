import { describe, expect, it } from 'vitest';
import type { Pod } from '../../../../control/api/index.js';
import { parseManifestText } from '../../../../agent/config/manifest.js';
import { merge, PodConfig, type DesiredPods } from '../../../../agent/config/pod-config.js';
import { stableStringify } from '../../../../agent/config/static-pod.js';
import type { SourceUpdate } from '../../../../agent/config/types.js';
import { podDoc } from './fixtures.js';

function pod(name: string, uid: string, namespace = 'default'): Pod {
  const p = parseManifestText(JSON.stringify(podDoc(name, 'nginx', { uid, namespace })), 'test').pods[0];
  if (!p) throw new Error('fixture did not parse');
  return p;
}

function update(source: string, entries: Array<[Pod, string]>, errors: SourceUpdate['errors'] = []): SourceUpdate {
  return { source, pods: entries.map(([p]) => p), origins: entries.map(([, o]) => o), errors };
}

describe('merge', () => {
  it('unions the sources, keyed by UID', () => {
    const d = merge([update('file', [[pod('a', 'u1'), '/m/a.yaml']]), update('url', [[pod('b', 'u2'), 'http://x/']])]);
    expect([...d.pods.keys()].sort()).toEqual(['u1', 'u2']);
    expect(d.errors).toEqual([]);
  });

  it('resolves a name conflict by source priority, whatever the update order', () => {
    const file = update('file', [[pod('web', 'f'), '/m/web.yaml']]);
    const url = update('url', [[pod('web', 'u'), 'http://h/pods']]);
    const http = update('http', [[pod('web', 'h'), '/var/lib/skiff/http-pods/default_web.json']]);
    for (const order of [[file, url, http], [http, url, file], [url, http, file]]) {
      const d = merge(order);
      expect([...d.pods.keys()]).toEqual(['f']);
      expect(d.errors.map((e) => e.origin).sort()).toEqual(['/var/lib/skiff/http-pods/default_web.json', 'http://h/pods']);
      expect(d.errors.find((e) => e.origin === 'http://h/pods')?.message).toBe(
        'pod "default/web" is already defined by /m/web.yaml (file source); ignoring this one',
      );
    }
  });

  it('within a source, the first origin in byte order wins, then document order', () => {
    const d = merge([update('file', [[pod('web', 'z'), '/m/z.yaml'], [pod('web', 'a'), '/m/a.yaml'], [pod('web', 'a2'), '/m/a.yaml']])]);
    expect([...d.pods.keys()]).toEqual(['a']);
    expect(d.errors.map((e) => e.origin)).toEqual(['/m/a.yaml', '/m/z.yaml']);
  });

  it('keeps same-named pods in different namespaces, rejects a duplicate UID', () => {
    const d = merge([update('file', [[pod('web', 'u1', 'a'), '/m/1.yaml'], [pod('web', 'u2', 'b'), '/m/2.yaml'], [pod('other', 'u1'), '/m/3.yaml']])]);
    expect([...d.pods.keys()].sort()).toEqual(['u1', 'u2']);
    expect(d.errors).toHaveLength(1);
    expect(d.errors[0]?.message).toContain('UID u1');
  });

  it('carries every source error', () => {
    const d = merge([update('file', [], [{ origin: '/m/x.yaml', message: 'bad' }]), update('url', [], [{ origin: 'http://h/', message: 'HTTP 500' }])]);
    expect(d.errors).toEqual([{ origin: '/m/x.yaml', message: 'bad' }, { origin: 'http://h/', message: 'HTTP 500' }]);
  });
});

describe('PodConfig', () => {
  it('fires only when the desired set or the errors change, and a source update replaces its set', () => {
    const config = new PodConfig();
    const seen: DesiredPods[] = [];
    const off = config.onChange((d) => seen.push(d));
    config.update(update('file', []));
    expect(seen).toHaveLength(0);
    expect(config.hasSeen('file')).toBe(true);
    config.update(update('file', [[pod('a', 'u1'), '/m/a.yaml']]));
    config.update(update('file', [[pod('a', 'u1'), '/m/a.yaml']]));
    expect(seen).toHaveLength(1);
    config.update(update('file', [[pod('a', 'u1'), '/m/a.yaml']], [{ origin: '/m/b.yaml', message: 'bad' }]));
    expect(seen).toHaveLength(2);
    config.update(update('url', [[pod('b', 'u2'), 'http://h/']]));
    config.update(update('file', []));
    expect(seen).toHaveLength(4);
    expect([...(seen[3]?.pods.keys() ?? [])]).toEqual(['u2']);
    expect([...config.desired().pods.keys()]).toEqual(['u2']);
    off();
    config.update(update('url', []));
    expect(seen).toHaveLength(4);
  });

  it('serialises each pod object once, however many updates carry it', () => {
    const signed: Pod[] = [];
    const config = new PodConfig((p) => {
      signed.push(p);
      return stableStringify(p);
    });
    const seen: DesiredPods[] = [];
    config.onChange((d) => seen.push(d));
    const pods = Array.from({ length: 50 }, (_, i) => pod(`p${i}`, `u${i}`));
    const api = (set: Pod[]): SourceUpdate => update('api', set.map((p) => [p, `api pod default/${p.metadata.name}`]));
    for (let n = 1; n <= pods.length; n++) config.update(api(pods.slice(0, n)));
    // A burst: 50 updates, each the whole set so far; every pod is signed when it first appears, never again.
    expect(seen).toHaveLength(50);
    expect(signed).toHaveLength(50);
    expect(new Set(signed).size).toBe(50);
    // Another source's update re-merges the set without signing the API pods again.
    config.update(update('file', [[pod('static', 'us'), '/m/static.yaml']]));
    expect(seen).toHaveLength(51);
    expect(signed).toHaveLength(51);
  });

  it('tells a changed pod from the same content in a new object, as the full serialisation did', () => {
    const config = new PodConfig();
    const seen: DesiredPods[] = [];
    config.onChange((d) => seen.push(d));
    const a = pod('a', 'u1');
    config.update(update('api', [[a, 'o']]));
    expect(seen).toHaveLength(1);
    // Same content, new object (a source that decodes again): no change.
    config.update(update('api', [[pod('a', 'u1'), 'o']]));
    expect(seen).toHaveLength(1);
    // Changed content in a new object: a change, and the listener gets that object.
    const changed = pod('a', 'u1');
    changed.spec.containers[0] = { ...(changed.spec.containers[0] as Pod['spec']['containers'][number]), image: 'nginx:2' };
    config.update(update('api', [[changed, 'o']]));
    expect(seen).toHaveLength(2);
    expect(seen[1]?.pods.get('u1')).toBe(changed);
    // Back to the first object: a change again (its cached text is still right).
    config.update(update('api', [[a, 'o']]));
    expect(seen).toHaveLength(3);
    expect(seen[2]?.pods.get('u1')).toBe(a);
    // The same pods under another UID key are another set.
    config.update(update('api', [[pod('a', 'u2'), 'o']]));
    expect(seen).toHaveLength(4);
  });
});
