import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HttpSubmissionSource } from '../../../../agent/config/http-source.js';
import type { SourceUpdate } from '../../../../agent/config/types.js';
import { silentLogger } from '../../../../lib/log.js';
import { podDoc, podYaml, tempDir } from './fixtures.js';

let stateDir: string;
let cleanup: () => Promise<void>;
let updates: SourceUpdate[];

beforeEach(async () => {
  const t = await tempDir();
  stateDir = path.join(t.dir, 'http-pods');
  cleanup = t.cleanup;
  updates = [];
});

afterEach(async () => {
  await cleanup();
});

async function open(): Promise<HttpSubmissionSource> {
  const s = new HttpSubmissionSource({ stateDir, nodeName: 'node-1', logger: silentLogger(), onUpdate: (u) => updates.push(u) });
  await s.start();
  return s;
}

describe('HttpSubmissionSource', () => {
  it('accepts a submission, pushes it and persists it across instances', async () => {
    const s = await open();
    const r = s.submit(`${podYaml('a')}---\n${podYaml('b')}`, 'application/yaml');
    expect(r.ok).toBe(true);
    const pods = s.list();
    expect(pods.map((p) => p.metadata.name)).toEqual(['a-node-1', 'b-node-1']);
    expect(pods[0]?.metadata.annotations?.['kubernetes.io/config.source']).toBe('http');
    expect(updates.at(-1)).toMatchObject({ source: 'http', errors: [] });
    expect(updates.at(-1)?.pods).toEqual(pods);
    expect((await readdir(stateDir)).sort()).toEqual(['default_a.json', 'default_b.json']);

    updates = [];
    const again = await open();
    expect(again.list().map((p) => [p.metadata.name, p.metadata.uid])).toEqual(pods.map((p) => [p.metadata.name, p.metadata.uid]));
    expect(updates).toHaveLength(1);
    expect(updates[0]?.pods.map((p) => p.metadata.uid)).toEqual(pods.map((p) => p.metadata.uid));
  });

  it('replaces a pod with the same namespace/name', async () => {
    const s = await open();
    s.submit(JSON.stringify(podDoc('web')), 'application/json');
    const before = s.list()[0];
    const r = s.submit(JSON.stringify(podDoc('web', 'nginx:1.27')), 'application/json');
    expect(r.ok).toBe(true);
    expect(s.list()).toHaveLength(1);
    expect(s.list()[0]?.spec.containers[0]?.image).toBe('nginx:1.27');
    expect(s.list()[0]?.metadata.uid).not.toBe(before?.metadata.uid);
    expect((await open()).list()[0]?.spec.containers[0]?.image).toBe('nginx:1.27');
  });

  it('removes by submitted or running name, and the removal persists', async () => {
    const s = await open();
    s.submit(`${podYaml('a')}---\n${podYaml('b')}`, undefined);
    expect(s.remove('default', 'a')).toBe(true);
    expect(s.remove('default', 'b-node-1')).toBe(true);
    expect(s.remove('default', 'nope')).toBe(false);
    expect(s.list()).toEqual([]);
    expect(updates.at(-1)?.pods).toEqual([]);
    expect((await open()).list()).toEqual([]);
  });

  it('rejects an invalid submission whole, naming the field', async () => {
    const s = await open();
    s.submit(podYaml('keep'), 'application/yaml');
    const bad = podDoc('bad');
    bad.spec = { containers: [{ name: 'main' }] };
    const r = s.submit(`${podYaml('new')}---\n${JSON.stringify(bad)}`, 'application/yaml');
    expect(r).toEqual({ ok: false, errors: [{ origin: 'http request', message: 'document 2: pod "bad": spec.containers[0].image: Required value' }] });
    expect(s.list().map((p) => p.metadata.name)).toEqual(['keep-node-1']);
    expect(s.submit('', 'application/yaml')).toEqual({ ok: false, errors: [{ origin: 'http request', message: 'the body holds no pods' }] });
    expect(s.submit(podYaml('x'), 'text/html').ok).toBe(false);
  });

  it('reports a corrupt persisted file and loads the rest', async () => {
    const s = await open();
    s.submit(podYaml('good'), 'application/yaml');
    await writeFile(path.join(stateDir, 'default_broken.json'), '{"apiVersion": "v1",');
    updates = [];
    const again = await open();
    expect(again.list().map((p) => p.metadata.name)).toEqual(['good-node-1']);
    expect(updates[0]?.errors).toHaveLength(1);
    expect(updates[0]?.errors[0]?.origin).toBe(path.join(stateDir, 'default_broken.json'));
  });
});
