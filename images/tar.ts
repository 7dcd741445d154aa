// Minimal ustar writer for image root filesystems.
// Written in-house so that building images needs no extra dependency, and so that the same
// inputs always give byte-identical tars (fixed owner and mtime, no host metadata leaks in).

export type RootfsEntry =
  | { type: 'dir'; path: string; mode: number }
  | { type: 'file'; path: string; mode: number; content: Buffer }
  | { type: 'symlink'; path: string; target: string };

const BLOCK = 512;
// A fixed timestamp keeps tars reproducible; 2024-01-01T00:00:00Z.
const MTIME = 1_704_067_200;

function normalize(path: string): string {
  const p = path.replace(/^\/+/, '').replace(/\/+$/, '');
  if (p === '' || p.split('/').some((seg) => seg === '..' || seg === '.' || seg === '')) {
    throw new Error(`invalid rootfs path: ${JSON.stringify(path)}`);
  }
  return p;
}

function writeString(buf: Buffer, offset: number, length: number, value: string, field: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) throw new Error(`tar: ${field} too long: ${value}`);
  bytes.copy(buf, offset);
}

function writeOctal(buf: Buffer, offset: number, length: number, value: number): void {
  // length-1 octal digits followed by NUL, as ustar expects.
  const s = value.toString(8).padStart(length - 1, '0');
  if (s.length > length - 1) throw new Error(`tar: value ${value} does not fit in ${length} bytes`);
  buf.write(`${s}\0`, offset, 'ascii');
}

function splitName(path: string): { name: string; prefix: string } {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: '' };
  // ustar lets a long path be split at a '/' into a 155-byte prefix and a 100-byte name.
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return { name, prefix };
  }
  throw new Error(`tar: path too long: ${path}`);
}

function header(entry: RootfsEntry, path: string): Buffer {
  const h = Buffer.alloc(BLOCK, 0);
  const { name, prefix } = splitName(entry.type === 'dir' ? `${path}/` : path);
  writeString(h, 0, 100, name, 'name');
  const mode = entry.type === 'symlink' ? 0o777 : entry.mode;
  writeOctal(h, 100, 8, mode & 0o7777);
  writeOctal(h, 108, 8, 0); // uid
  writeOctal(h, 116, 8, 0); // gid
  writeOctal(h, 124, 12, entry.type === 'file' ? entry.content.length : 0);
  writeOctal(h, 136, 12, MTIME);
  h.write('        ', 148, 'ascii'); // checksum is computed with this field as spaces
  h.write(entry.type === 'file' ? '0' : entry.type === 'symlink' ? '2' : '5', 156, 'ascii');
  if (entry.type === 'symlink') writeString(h, 157, 100, entry.target, 'link target');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  writeString(h, 265, 32, 'root', 'uname');
  writeString(h, 297, 32, 'root', 'gname');
  writeString(h, 345, 155, prefix, 'prefix');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

/**
 * Serializes entries into a tar archive. Missing parent directories are added (mode 0755) so callers
 * can list files only; a later entry for the same path replaces an earlier one, which lets an image
 * layer its own files over a base set.
 */
export function createTar(entries: readonly RootfsEntry[]): Buffer {
  const byPath = new Map<string, RootfsEntry>();
  for (const entry of entries) {
    const path = normalize(entry.path);
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      const existing = byPath.get(dir);
      if (existing === undefined) byPath.set(dir, { type: 'dir', path: dir, mode: 0o755 });
      else if (existing.type !== 'dir') throw new Error(`tar: ${dir} is not a directory`);
    }
    byPath.set(path, { ...entry, path });
  }
  // Sorting puts every directory before its contents, and makes the output independent of input order.
  const sorted = [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const chunks: Buffer[] = [];
  for (const entry of sorted) {
    chunks.push(header(entry, entry.path));
    if (entry.type === 'file') {
      chunks.push(entry.content);
      const pad = (BLOCK - (entry.content.length % BLOCK)) % BLOCK;
      if (pad > 0) chunks.push(Buffer.alloc(pad, 0));
    }
  }
  chunks.push(Buffer.alloc(BLOCK * 2, 0)); // end-of-archive marker
  return Buffer.concat(chunks);
}
