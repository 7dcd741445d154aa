import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { formatSourceError, parseManifestText } from '../../../../agent/config/manifest.js';
import { podDoc, podYaml } from './fixtures.js';

const origin = '/etc/skiff/manifests/web.yaml';

function lines(r: ReturnType<typeof parseManifestText>): string[] {
  return r.errors.map(formatSourceError);
}

describe('parseManifestText', () => {
  it('reads one YAML pod', () => {
    const r = parseManifestText(podYaml('web'), origin);
    expect(r.errors).toEqual([]);
    expect(r.pods.map((p) => p.metadata.name)).toEqual(['web']);
    expect(r.pods[0]?.metadata.namespace).toBe('default');
  });

  it('reads multi-document YAML, ignoring empty documents', () => {
    const text = `---\n${podYaml('a')}---\n# only a comment\n---\n${podYaml('b')}---\n`;
    const r = parseManifestText(text, origin);
    expect(r.errors).toEqual([]);
    expect(r.pods.map((p) => p.metadata.name)).toEqual(['a', 'b']);
  });

  it('refuses ephemeral containers in a manifest, as upstream\'s kubelet does, and keeps the other pods of the file', () => {
    const withDebugger = podDoc('dbg');
    (withDebugger.spec as Record<string, unknown>).ephemeralContainers = [{ name: 'debugger', image: 'busybox:1.36' }];
    const r = parseManifestText(`${stringify(withDebugger)}---\n${podYaml('web')}`, origin);
    expect(lines(r)).toEqual([`${origin}: document 1: pod "dbg": spec.ephemeralContainers: Forbidden: cannot be set on create`]);
    expect(r.pods.map((p) => p.metadata.name)).toEqual(['web']);
  });

  it('reads JSON', () => {
    const r = parseManifestText(JSON.stringify(podDoc('api', 'nginx', { namespace: 'kube-system' })), origin);
    expect(r.errors).toEqual([]);
    expect(r.pods[0]?.metadata).toMatchObject({ name: 'api', namespace: 'kube-system' });
  });

  it('reads a PodList (items without kind) and a v1 List', () => {
    const { apiVersion: _a, kind: _k, ...bare } = podDoc('x');
    const podList = { apiVersion: 'v1', kind: 'PodList', items: [bare, podDoc('y')] };
    expect(parseManifestText(JSON.stringify(podList), origin).pods.map((p) => p.metadata.name)).toEqual(['x', 'y']);
    const list = { apiVersion: 'v1', kind: 'List', items: [podDoc('z')] };
    expect(parseManifestText(stringify(list), origin).pods.map((p) => p.metadata.name)).toEqual(['z']);
  });

  it('treats empty text as no pods and no errors', () => {
    for (const text of ['', '   \n', '---\n---\n', '# nothing\n', 'null']) {
      expect(parseManifestText(text, origin)).toEqual({ pods: [], errors: [], warnings: [] });
    }
  });

  it('gives one error with line and column for invalid YAML, and no pods', () => {
    const text = `${podYaml('a')}---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: b\n   bad: [\n`;
    const r = parseManifestText(text, origin);
    expect(r.pods).toEqual([]);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]?.origin).toBe(origin);
    expect(r.errors[0]?.message).toMatch(/^invalid YAML at line \d+, column \d+: /);
  });

  it('reports broken JSON with its position', () => {
    const r = parseManifestText('{"apiVersion": "v1",\n "kind": "Pod",,}', origin);
    expect(r.pods).toEqual([]);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]?.message).toMatch(/line 2, column \d+/);
  });

  it('rejects other kinds, naming the kind', () => {
    const r = parseManifestText(stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' } }), origin);
    expect(r.pods).toEqual([]);
    expect(lines(r)).toEqual([`${origin}: kind "Deployment" is not supported: expected Pod, PodList or List`]);
  });

  it('rejects non-Pod items of a List', () => {
    const list = { apiVersion: 'v1', kind: 'List', items: [podDoc('ok'), { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' } }] };
    const r = parseManifestText(JSON.stringify(list), origin);
    expect(r.pods.map((p) => p.metadata.name)).toEqual(['ok']);
    expect(lines(r)).toEqual([`${origin}: items[1]: kind "Service" is not supported in a list: expected Pod`]);
  });

  it('names the origin, the pod and the field of an invalid pod', () => {
    const bad = podDoc('web');
    bad.spec = { containers: [{ name: 'main' }] };
    const r = parseManifestText(stringify(bad), origin);
    expect(r.pods).toEqual([]);
    expect(lines(r)).toEqual([`${origin}: pod "web": spec.containers[0].image: Required value`]);
  });

  it('names the document when there are several', () => {
    const bad = podDoc('second');
    bad.spec = { containers: [{ name: 'main' }] };
    const r = parseManifestText(`${podYaml('first')}---\n${stringify(bad)}`, origin);
    expect(r.pods.map((p) => p.metadata.name)).toEqual(['first']);
    expect(lines(r)).toEqual([`${origin}: document 2: pod "second": spec.containers[0].image: Required value`]);
  });

  it('reports a document that is not an object', () => {
    expect(lines(parseManifestText('- a\n- b\n', origin))).toEqual([`${origin}: expected a Pod or PodList object, got a list`]);
    expect(lines(parseManifestText('42', origin))).toEqual([`${origin}: expected a Pod or PodList object, got a number`]);
  });

  it('bounds YAML alias expansion', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    const r = parseManifestText(bomb.join('\n'), origin);
    expect(r.pods).toEqual([]);
    expect(r.errors).toHaveLength(1);
  });

  it('never throws on 1,000 mutated inputs', () => {
    const rand = mulberry32(0x5eed);
    const seeds = [
      podYaml('web'),
      `${podYaml('a')}---\n${podYaml('b')}`,
      JSON.stringify(podDoc('j', 'busybox', { labels: { app: 'j' } })),
      stringify({ apiVersion: 'v1', kind: 'PodList', items: [podDoc('l')] }),
    ];
    const alphabet = ['{', '}', '[', ']', ':', '-', '---\n', '\n', ' ', '"', "'", '&a', '*a', '!!binary', '#', '\t', '\u0000', '\uFEFF', 'null', '1e999', '<<: *a', '? ', '|', '>'];
    for (let n = 0; n < 1000; n++) {
      let text = seeds[Math.floor(rand() * seeds.length)] ?? '';
      const edits = 1 + Math.floor(rand() * 6);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(rand() * (text.length + 1));
        const op = rand();
        if (op < 0.35) text = text.slice(0, at) + (alphabet[Math.floor(rand() * alphabet.length)] ?? '') + text.slice(at);
        else if (op < 0.7) text = text.slice(0, at) + text.slice(at + 1 + Math.floor(rand() * 8));
        else if (op < 0.85) text = text.slice(0, at) + String.fromCharCode(Math.floor(rand() * 0x3000)) + text.slice(at + 1);
        else text = text.slice(0, at);
      }
      const r = parseManifestText(text, origin);
      expect(Array.isArray(r.pods)).toBe(true);
      for (const err of r.errors) expect(err.origin).toBe(origin);
    }
  });
});

/** A small seeded PRNG so the fuzz inputs are the same on every run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
