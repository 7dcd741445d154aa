// `skiff images ...`: builds and lists Skiff's locally built images.
import type Dockerode from 'dockerode';
import { buildImages, imageStatuses } from './build.js';

const USAGE = `usage: skiff images build [--force]   build missing or outdated images
       skiff images list              show each image and whether it is up to date`;

export interface ImagesCommandIO {
  stdout?: (line: string) => void;
  stderr?: (line: string) => void;
  docker?: Dockerode;
}

function formatSize(bytes: number | undefined): string {
  if (bytes === undefined) return '-';
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)}MB` : `${Math.ceil(bytes / 1024)}kB`;
}

/**
 * Runs `skiff images <argv>`. argv is what follows `images` (a leading "images" is tolerated).
 * Progress and errors go to stderr so that `skiff images list` output stays parseable on stdout.
 * Returns the process exit code: 0 ok, 1 failure, 2 usage error.
 */
export async function imagesCommand(argv: string[], io: ImagesCommandIO = {}): Promise<number> {
  const out = io.stdout ?? ((l: string): void => void process.stdout.write(`${l}\n`));
  const err = io.stderr ?? ((l: string): void => void process.stderr.write(`${l}\n`));
  const args = argv[0] === 'images' ? argv.slice(1) : argv;
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '-h' || sub === '--help' || sub === 'help') {
    (sub === undefined ? err : out)(USAGE);
    return sub === undefined ? 2 : 0;
  }
  try {
    if (sub === 'build') {
      const unknown = rest.filter((a) => a !== '--force');
      if (unknown.length > 0) {
        err(`skiff images build: unknown argument ${unknown[0]}\n${USAGE}`);
        return 2;
      }
      const result = await buildImages({ force: rest.includes('--force'), onProgress: err, ...(io.docker ? { docker: io.docker } : {}) });
      err(`images: ${result.built.length} built, ${result.skipped.length} up to date`);
      return 0;
    }
    if (sub === 'list') {
      if (rest.length > 0) {
        err(`skiff images list: unexpected argument ${rest[0]}\n${USAGE}`);
        return 2;
      }
      const statuses = await imageStatuses(io.docker ? { docker: io.docker } : {});
      const rows = [
        ['IMAGE', 'STATE', 'ID', 'SIZE'],
        ...statuses.map((s) => [s.ref, s.state, s.id ? s.id.replace(/^sha256:/, '').slice(0, 12) : '-', formatSize(s.size)]),
      ];
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      for (const r of rows) out(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
      return 0;
    }
    err(`skiff images: unknown command ${sub}\n${USAGE}`);
    return 2;
  } catch (e) {
    err(`skiff images ${sub}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}
