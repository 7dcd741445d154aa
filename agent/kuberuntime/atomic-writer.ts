import { randomBytes } from 'node:crypto';
import { chmod, lchown, lstat, mkdir, readdir, readFile, readlink, rename, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { VolumeError, type ProjectedFile } from './volume-payload.js';

/** The symlink through which a volume's files are seen; swapping it is the one atomic step of an update. */
export const DATA_DIR = '..data';

const tsDirName = (now: Date): string => {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const ts = `${now.getUTCFullYear()}_${p(now.getUTCMonth() + 1)}_${p(now.getUTCDate())}_${p(now.getUTCHours())}_${p(now.getUTCMinutes())}_${p(now.getUTCSeconds())}`;
  return `..${ts}.${randomBytes(5).readUInt32BE(0)}`;
};

/** What the volume shows now (through ..data), to skip writing when nothing changed. */
async function currentPayload(dir: string): Promise<Map<string, { content: Buffer; mode: number }> | undefined> {
  let target: string;
  try {
    target = await readlink(join(dir, DATA_DIR));
  } catch {
    return undefined;
  }
  const out = new Map<string, { content: Buffer; mode: number }>();
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(join(dir, target, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else {
        const full = join(dir, target, r);
        out.set(r, { content: await readFile(full), mode: (await stat(full)).mode & 0o7777 });
      }
    }
  };
  await walk('');
  return out;
}

/**
 * Upstream's SetVolumeOwnership for a read-only volume (secret, configMap, downwardAPI, projected): with the pod's
 * fsGroup, files and directories belong to that group and the group may read them (directories also search them,
 * and are setgid), so a container running as another user in that group reads a file of mode 0400 (it becomes 0440).
 */
const RO_MASK = 0o440;
const DIR_MASK = RO_MASK | 0o110 | 0o2000;

/** The mode a payload file ends with: the one asked for, plus group read with an fsGroup. */
function fileMode(mode: number, fsGroup: number | undefined): number {
  return (mode & 0o7777) | (fsGroup !== undefined ? RO_MASK : 0);
}

async function ownDir(path: string, fsGroup: number | undefined): Promise<void> {
  if (fsGroup === undefined) return;
  await lchown(path, -1, fsGroup);
  await chmod(path, ((await stat(path)).mode & 0o7777) | DIR_MASK);
}

/**
 * Upstream's AtomicWriter: the files go into a fresh timestamped directory, a `..data` symlink pointing at it is
 * renamed into place (one atomic step), and each top-level name in the volume is a symlink through `..data`. A
 * container sees the old set of files or the new one, never a mix. With an fsGroup the files and directories belong
 * to it (see RO_MASK). Returns whether anything was written.
 */
export async function writeAtomicPayload(dir: string, files: ProjectedFile[], now: Date = new Date(), fsGroup?: number): Promise<boolean> {
  await mkdir(dir, { recursive: true });
  for (const f of files) {
    if (f.path.startsWith('/') || f.path.split('/').some((seg) => seg === '..' || seg === '') || f.path.startsWith('..')) {
      throw new VolumeError(`invalid path "${f.path}": must be relative and may not contain '..'`);
    }
  }
  const current = await currentPayload(dir);
  if (current && current.size === files.length && files.every((f) => {
    const c = current.get(f.path);
    return c !== undefined && c.mode === fileMode(f.mode, fsGroup) && c.content.equals(f.content);
  })) {
    return false;
  }
  const oldTarget = current ? await readlink(join(dir, DATA_DIR)).catch(() => undefined) : undefined;
  const tsDir = tsDirName(now);
  await ownDir(dir, fsGroup);
  await mkdir(join(dir, tsDir), { mode: 0o755 });
  await ownDir(join(dir, tsDir), fsGroup);
  for (const f of files) {
    const full = join(dir, tsDir, f.path);
    const parent = dirname(full);
    if (parent !== join(dir, tsDir)) {
      await mkdir(parent, { recursive: true, mode: 0o755 });
      // Every directory between the payload's top and the file: upstream's ownership walk reaches them all.
      for (let d = parent; d !== join(dir, tsDir); d = dirname(d)) await ownDir(d, fsGroup);
    }
    await writeFile(full, f.content, { mode: f.mode });
    if (fsGroup !== undefined) await lchown(full, -1, fsGroup);
    // writeFile's mode is filtered by the umask; the volume's mode is what the pod asked for.
    await chmod(full, fileMode(f.mode, fsGroup));
  }
  const tmpLink = join(dir, '..data_tmp');
  await rm(tmpLink, { force: true });
  await symlink(tsDir, tmpLink);
  await rename(tmpLink, join(dir, DATA_DIR));
  // The user-visible names: one symlink per top-level entry, through ..data.
  const top = new Set(files.map((f) => f.path.split('/')[0] as string));
  for (const name of top) {
    const link = join(dir, name);
    const st = await lstat(link).catch(() => undefined);
    if (st?.isSymbolicLink() && (await readlink(link)) === join(DATA_DIR, name)) continue;
    if (st) await rm(link, { recursive: true, force: true });
    await symlink(join(DATA_DIR, name), link);
  }
  for (const e of await readdir(dir)) {
    if (e.startsWith('..') || top.has(e)) continue;
    await unlink(join(dir, e)).catch(() => rm(join(dir, e), { recursive: true, force: true }));
  }
  if (oldTarget && oldTarget !== tsDir) await rm(join(dir, oldTarget), { recursive: true, force: true });
  return true;
}

