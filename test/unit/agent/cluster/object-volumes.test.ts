import { lstat, mkdtemp, readdir, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { objectPayload, preparePodVolumes, refreshPodVolumes, VolumeError, writeAtomicPayload, type VolumeObjects } from '../../../../agent/kuberuntime/volumes.js';
import { c, makePod } from '../kuberuntime/fixtures.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('configMap and secret volumes (upstream MakePayload and AtomicWriter)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-vol-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const objects = (cms: Record<string, { data?: Record<string, string>; binaryData?: Record<string, string> }>, secrets: Record<string, { data?: Record<string, string> }> = {}): VolumeObjects => ({
    configMap: (_ns, name) => cms[name],
    secret: (_ns, name) => secrets[name],
  });

  it('projects every key, or the items asked for with their modes; binaryData and secret data decoded', () => {
    const objs = objects({ cm: { data: { a: 'A', b: 'B' }, binaryData: { bin: b64('\u0001\u0002') } } }, { s: { data: { pw: b64('secret') } } });
    const all = objectPayload({ name: 'v', configMap: { name: 'cm', defaultMode: 0o600 } } as never, objs, 'default');
    expect(all.map((f) => [f.path, f.content.toString('utf8'), f.mode])).toEqual([
      ['a', 'A', 0o600],
      ['b', 'B', 0o600],
      ['bin', '\u0001\u0002', 0o600],
    ]);
    const items = objectPayload({ name: 'v', configMap: { name: 'cm', defaultMode: 0o644, items: [{ key: 'a', path: 'sub/renamed', mode: 0o400 }] } } as never, objs, 'default');
    expect(items.map((f) => [f.path, f.content.toString('utf8'), f.mode])).toEqual([['sub/renamed', 'A', 0o400]]);
    const secret = objectPayload({ name: 'v', secret: { secretName: 's', defaultMode: 0o644 } } as never, objs, 'default');
    expect(secret[0]?.content.toString('utf8')).toBe('secret');
  });

  it('reports a missing object or key as upstream, unless optional', () => {
    const objs = objects({ cm: { data: { a: 'A' } } });
    expect(() => objectPayload({ name: 'v', configMap: { name: 'nope' } } as never, objs, 'default')).toThrow('MountVolume.SetUp failed for volume "v" : configmap "nope" not found');
    expect(() => objectPayload({ name: 'v', secret: { secretName: 'nope' } } as never, objs, 'default')).toThrow('secret "nope" not found');
    expect(() => objectPayload({ name: 'v', configMap: { name: 'cm', items: [{ key: 'zz', path: 'x' }] } } as never, objs, 'default')).toThrow('configmap references non-existent config key: zz');
    expect(objectPayload({ name: 'v', configMap: { name: 'nope', optional: true } } as never, objs, 'default')).toEqual([]);
    expect(objectPayload({ name: 'v', configMap: { name: 'cm', optional: true, items: [{ key: 'zz', path: 'x' }] } } as never, objs, 'default')).toEqual([]);
  });

  it('writes through a timestamped directory and a ..data symlink, swaps it on change and cleans the old one', async () => {
    const v = join(dir, 'vol');
    const files = (a: string): Array<{ path: string; content: Buffer; mode: number }> => [
      { path: 'a', content: Buffer.from(a), mode: 0o644 },
      { path: 'conf/b', content: Buffer.from('B'), mode: 0o600 },
    ];
    expect(await writeAtomicPayload(v, files('1'))).toBe(true);
    const first = await readlink(join(v, '..data'));
    expect(first).toMatch(/^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\d+$/);
    expect(await readlink(join(v, 'a'))).toBe('..data/a');
    expect(await readlink(join(v, 'conf'))).toBe('..data/conf');
    expect(await readFile(join(v, 'a'), 'utf8')).toBe('1');
    expect((await stat(join(v, 'conf/b'))).mode & 0o777).toBe(0o600);
    // Unchanged: nothing is written.
    expect(await writeAtomicPayload(v, files('1'))).toBe(false);
    expect(await readlink(join(v, '..data'))).toBe(first);
    // Changed: a new directory, the link swapped, the old directory gone; a key removed loses its link.
    expect(await writeAtomicPayload(v, [{ path: 'a', content: Buffer.from('2'), mode: 0o644 }])).toBe(true);
    const second = await readlink(join(v, '..data'));
    expect(second).not.toBe(first);
    expect(await readFile(join(v, 'a'), 'utf8')).toBe('2');
    expect((await readdir(v)).sort()).toEqual(['..data', second, 'a'].sort());
    await expect(lstat(join(v, 'conf'))).rejects.toThrow();
  });

  it('refuses paths that leave the volume', async () => {
    await expect(writeAtomicPayload(join(dir, 'v'), [{ path: '../x', content: Buffer.from(''), mode: 0o644 }])).rejects.toThrow(VolumeError);
    await expect(writeAtomicPayload(join(dir, 'v'), [{ path: '/etc/x', content: Buffer.from(''), mode: 0o644 }])).rejects.toThrow(VolumeError);
  });

  it('sets the volumes up for a pod and refreshes them when the object changes', async () => {
    const pod = makePod({
      containers: [c('app')],
      volumes: [
        { name: 'cfg', configMap: { name: 'cm' } },
        { name: 'sec', secret: { secretName: 's', defaultMode: 0o400 } },
      ],
    });
    const cms: Record<string, { data?: Record<string, string> }> = { cm: { data: { k: 'one' } } };
    const objs = objects(cms, { s: { data: { pw: b64('x') } } });
    const mounts = await preparePodVolumes(dir, pod, objs);
    const cfg = mounts.volumes.get('cfg') as { hostPath: string };
    const sec = mounts.volumes.get('sec') as { hostPath: string };
    expect(cfg.hostPath).toBe(join(dir, 'pods', 'uid-1', 'volumes', 'kubernetes.io~configmap', 'cfg'));
    expect(sec.hostPath).toContain('kubernetes.io~secret');
    expect(await readFile(join(cfg.hostPath, 'k'), 'utf8')).toBe('one');
    expect((await stat(join(sec.hostPath, 'pw'))).mode & 0o777).toBe(0o400);
    expect(await refreshPodVolumes(dir, pod, objs)).toEqual([]);
    cms.cm = { data: { k: 'two' } };
    expect(await refreshPodVolumes(dir, pod, objs)).toEqual(['cfg']);
    expect(await readFile(join(cfg.hostPath, 'k'), 'utf8')).toBe('two');
  });

  it('still refuses configMap volumes for static pods (no API server)', async () => {
    const pod = makePod({ containers: [c('app')], volumes: [{ name: 'cfg', configMap: { name: 'cm' } }] });
    await expect(preparePodVolumes(dir, pod)).rejects.toThrow(/configMap volumes need the API server/);
  });
});
