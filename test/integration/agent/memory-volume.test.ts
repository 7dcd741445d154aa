import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountMemoryVolume, unmountUnder } from '../../../agent/kuberuntime/memory-volume.js';

/** The tmpfs of a memory-backed emptyDir on the host (mounting needs root, as the agent has). */

const isRoot = process.getuid?.() === 0;
let base = '';
const mountsAt = (path: string): string[] => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4] === path);

beforeAll(() => {
  if (isRoot) base = mkdtempSync(join(tmpdir(), 'skiff-it-memvol-'));
});
afterAll(async () => {
  if (!base) return;
  await unmountUnder(base);
  rmSync(base, { recursive: true, force: true });
});

describe.skipIf(!isRoot)('memory-backed emptyDir mounts', () => {
  it('mounts once even through a symlinked root, keeps what was written, and unmounts through the symlink', async () => {
    const real = join(base, 'real');
    mkdirSync(join(real, 'vol'), { recursive: true });
    symlinkSync(real, join(base, 'link'));
    const viaLink = join(base, 'link', 'vol');
    await mountMemoryVolume('vol', viaLink, 1024 * 1024);
    writeFileSync(join(viaLink, 'f'), 'kept');
    // A second sync of the pod (a container restart) must find the mount, not stack a new one over it.
    await mountMemoryVolume('vol', viaLink, 1024 * 1024);
    const target = join(realpathSync(real), 'vol');
    expect(mountsAt(target)).toHaveLength(1);
    expect(mountsAt(target)[0]).toMatch(/ - tmpfs tmpfs .*size=1024k/);
    expect(readFileSync(join(viaLink, 'f'), 'utf8')).toBe('kept');
    expect(await unmountUnder(join(base, 'link'))).toEqual([target]);
    expect(mountsAt(target)).toEqual([]);
  });
});
