import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, readFile, readlink, rename, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
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
 * Upstream's AtomicWriter: the files go into a fresh timestamped directory, a `..data` symlink pointing at it is
 * renamed into place (one atomic step), and each top-level name in the volume is a symlink through `..data`. A
 * container sees the old set of files or the new one, never a mix. Returns whether anything was written.
 */
export async function writeAtomicPayload(dir: string, files: ProjectedFile[], now: Date = new Date()): Promise<boolean> {
  await mkdir(dir, { recursive: true });
  for (const f of files) {
    if (f.path.startsWith('/') || f.path.split('/').some((seg) => seg === '..' || seg === '') || f.path.startsWith('..')) {
      throw new VolumeError(`invalid path "${f.path}": must be relative and may not contain '..'`);
    }
  }
  const current = await currentPayload(dir);
  if (current && current.size === files.length && files.every((f) => {
    const c = current.get(f.path);
    return c !== undefined && c.mode === (f.mode & 0o7777) && c.content.equals(f.content);
  })) {
    return false;
  }
  const oldTarget = current ? await readlink(join(dir, DATA_DIR)).catch(() => undefined) : undefined;
  const tsDir = tsDirName(now);
  await mkdir(join(dir, tsDir), { mode: 0o755 });
  for (const f of files) {
    const full = join(dir, tsDir, f.path);
    await mkdir(dirname(full), { recursive: true, mode: 0o755 });
    await writeFile(full, f.content, { mode: f.mode });
    // writeFile's mode is filtered by the umask; the volume's mode is what the pod asked for.
    await chmod(full, f.mode & 0o7777);
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

