import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileSource, type FileSourceOptions } from '../../../../agent/config/file-source.js';
import type { SourceUpdate } from '../../../../agent/config/types.js';
import { silentLogger } from '../../../../lib/log.js';
import { captureLogger, podYaml, tempDir, until } from './fixtures.js';

let dir: string;
let cleanup: () => Promise<void>;
let source: FileSource | undefined;
let updates: SourceUpdate[];

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  updates = [];
});

afterEach(async () => {
  await source?.stop();
  source = undefined;
  await cleanup();
});

async function startSource(opts: Partial<FileSourceOptions> = {}): Promise<FileSource> {
  source = new FileSource({
    path: dir,
    nodeName: 'node-1',
    logger: silentLogger(),
    onUpdate: (u) => updates.push(u),
    fileCheckFrequencyMs: 60_000,
    writeSettleMs: 50,
    ...opts,
  });
  await source.start();
  return source;
}

const last = (): SourceUpdate | undefined => updates.at(-1);
const names = (u: SourceUpdate | undefined): string[] => (u?.pods ?? []).map((p) => p.metadata.name).sort();
const waitFor = (pred: (u: SourceUpdate) => boolean, what: string): Promise<SourceUpdate> =>
  until(() => { const u = last(); return u && pred(u) ? u : undefined; }, 10_000, what);

describe('FileSource', () => {
  it('reads yaml, yml and json files, skipping dotfiles, other extensions and subdirectories', async () => {
    await writeFile(path.join(dir, 'a.yaml'), podYaml('a'));
    await writeFile(path.join(dir, 'b.yml'), podYaml('b'));
    await writeFile(path.join(dir, 'c.json'), JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'c' }, spec: { containers: [{ name: 'm', image: 'x' }] } }));
    await writeFile(path.join(dir, '.hidden.yaml'), podYaml('hidden'));
    await writeFile(path.join(dir, 'notes.txt'), podYaml('txt'));
    await mkdir(path.join(dir, 'sub.yaml'));
    await writeFile(path.join(dir, 'sub.yaml', 'd.yaml'), podYaml('d'));
    await startSource();
    expect(updates).toHaveLength(1);
    const u = updates[0];
    expect(u?.source).toBe('file');
    expect(names(u)).toEqual(['a-node-1', 'b-node-1', 'c-node-1']);
    expect(u?.origins).toEqual([path.join(dir, 'a.yaml'), path.join(dir, 'b.yml'), path.join(dir, 'c.json')]);
    expect(u?.errors).toEqual([]);
    expect(u?.pods[0]?.metadata.annotations?.['kubernetes.io/config.source']).toBe('file');
  });

  it('follows writes, modifications and deletions through the watcher', async () => {
    await writeFile(path.join(dir, 'a.yaml'), podYaml('a'));
    await startSource();
    const first = last()?.pods[0];
    await writeFile(path.join(dir, 'b.yaml'), podYaml('b'));
    await waitFor((u) => names(u).length === 2, 'b to appear');
    await writeFile(path.join(dir, 'a.yaml'), podYaml('a', 'nginx:1.26'));
    const modified = await waitFor((u) => u.pods.some((p) => p.metadata.name === 'a-node-1' && p.metadata.uid !== first?.metadata.uid), 'a to change');
    expect(modified.pods.find((p) => p.metadata.name === 'a-node-1')?.spec.containers[0]?.image).toBe('nginx:1.26');
    await rm(path.join(dir, 'b.yaml'));
    await waitFor((u) => names(u).join() === 'a-node-1', 'b to go');
  });

  it('keeps the last good pods of a file that becomes invalid, until it is fixed', async () => {
    const file = path.join(dir, 'web.yaml');
    await writeFile(file, podYaml('web'));
    await startSource();
    const good = last()?.pods[0];
    await writeFile(file, 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: main\n');
    const broken = await waitFor((u) => u.errors.length > 0, 'the error');
    expect(broken.pods).toEqual([good]);
    expect(broken.errors[0]).toEqual({ origin: file, message: 'pod "web": spec.containers[0].image: Required value' });
    expect(broken.errors.at(-1)?.message).toContain('keeping the 1 pod(s)');
    await writeFile(file, podYaml('web', 'nginx:1.27'));
    const fixed = await waitFor((u) => u.errors.length === 0, 'the fix');
    expect(fixed.pods[0]?.spec.containers[0]?.image).toBe('nginx:1.27');
  });

  it('reports a file that was never valid, without pods', async () => {
    await writeFile(path.join(dir, 'bad.yaml'), 'kind: Deployment\napiVersion: apps/v1\n');
    await writeFile(path.join(dir, 'ok.yaml'), podYaml('ok'));
    await startSource();
    expect(names(last())).toEqual(['ok-node-1']);
    expect(last()?.errors).toEqual([{ origin: path.join(dir, 'bad.yaml'), message: 'kind "Deployment" is not supported: expected Pod, PodList or List' }]);
  });

  it('re-lists every period without the watcher, and survives a missing directory', async () => {
    const missing = path.join(dir, 'manifests');
    source = new FileSource({ path: missing, nodeName: 'node-1', logger: silentLogger(), onUpdate: (u) => updates.push(u), fileCheckFrequencyMs: 50, watch: false });
    await source.start();
    expect(last()?.pods).toEqual([]);
    expect(last()?.errors[0]?.message).toMatch(/does not exist/);
    await mkdir(missing);
    await writeFile(path.join(missing, 'a.yaml'), podYaml('a'));
    await waitFor((u) => names(u).join() === 'a-node-1' && u.errors.length === 0, 'the directory to be read');
    await rm(missing, { recursive: true });
    await waitFor((u) => u.pods.length === 0 && u.errors.length === 1, 'the directory to be gone');
  });

  it('accepts a single manifest file as the path', async () => {
    const file = path.join(dir, 'only.yaml');
    await writeFile(file, podYaml('only'));
    await startSource({ path: file });
    expect(names(last())).toEqual(['only-node-1']);
  });

  it('keeps UIDs and the seen time stable across re-lists, and logs an error once', async () => {
    const { logger, lines } = captureLogger();
    await writeFile(path.join(dir, 'a.yaml'), podYaml('a'));
    await writeFile(path.join(dir, 'bad.yaml'), 'kind: Service\n');
    await startSource({ logger, fileCheckFrequencyMs: 20, watch: false });
    const first = last();
    const before = updates.length;
    const s = source as FileSource;
    for (let i = 0; i < 5; i++) await s.sync();
    expect(updates.length).toBe(before);
    expect(last()).toEqual(first);
    expect(lines.filter((l) => l.msg.includes('bad.yaml'))).toHaveLength(1);
  });
});
