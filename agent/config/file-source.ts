import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from 'pino';
import type { Pod } from '../../control/api/index.js';
import { loadManifest, type LoadedManifest } from './defaulted.js';
import { errorMessage, OnceReporter, updateSignature } from './report.js';
import { FirstSeen } from './static-pod.js';
import type { PodSource, SourceError, SourceListener } from './types.js';

export interface FileSourceOptions {
  /** --pod-manifest-path: a directory of manifests, or a single manifest file. */
  path: string;
  nodeName: string;
  logger: Logger;
  onUpdate: SourceListener;
  /** How often the directory is re-listed even without a watch event (upstream --file-check-frequency, 20 s). */
  fileCheckFrequencyMs?: number;
  /** How long a file must stay unchanged after a write before it is read, so half-written files are never parsed. */
  writeSettleMs?: number;
  /** Watch for changes between periodic re-lists; tests of the periodic path turn it off. */
  watch?: boolean;
  now?: () => Date;
}

const manifestExtensions = new Set(['.yaml', '.yml', '.json']);

/**
 * Static pods from a manifest directory (upstream file.go). Every change, and every period, re-lists the directory
 * and pushes the complete set of pods.
 *
 * A file that stops parsing keeps the pods it last parsed to, with its errors reported beside them: a typo saved from
 * an editor must not stop a node's control plane. Only deleting the file (or the directory) removes its pods. This
 * differs from upstream, which drops the pods of a file it cannot parse on the next re-list. A file is all or
 * nothing: if any document in it is invalid, none of its new content is applied.
 */
export class FileSource implements PodSource {
  readonly name = 'file';
  private readonly files = new Map<string, LoadedManifest & { good: Pod[] }>();
  private readonly seen: FirstSeen;
  private readonly errorsLog: OnceReporter;
  private readonly warningsLog: OnceReporter;
  private dirError: SourceError | undefined;
  private lastSignature: string | undefined;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private queued: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly opts: FileSourceOptions) {
    this.seen = new FirstSeen(opts.now);
    this.errorsLog = new OnceReporter(opts.logger, 'warn');
    this.warningsLog = new OnceReporter(opts.logger, 'info');
  }

  /** Reads the manifests once (the first update is pushed before this resolves), then watches and polls. */
  async start(): Promise<void> {
    this.stopped = false;
    const every = this.opts.fileCheckFrequencyMs ?? 20_000;
    this.timer = setInterval(() => void this.sync(), every);
    this.timer.unref();
    await this.sync();
    this.synced = true;
  }

  private synced = false;

  hasSynced(): boolean {
    return this.synced;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.closeWatcher();
    await this.chain;
  }

  /**
   * Re-lists now. Calls made while a re-list is running coalesce into one more re-list after it, so a burst of
   * watch events costs at most two reads of the directory.
   */
  sync(): Promise<void> {
    if (this.queued) return this.queued;
    const run = this.chain
      .then(() => {
        this.queued = undefined;
        return this.stopped ? undefined : this.relist();
      })
      .catch((err: unknown) => this.opts.logger.error({ err }, 'file source re-list failed'));
    this.queued = run;
    this.chain = run;
    return run;
  }

  private async relist(): Promise<void> {
    const root = this.opts.path;
    const listed = await this.listManifests(root);
    if (listed !== undefined) {
      for (const file of [...this.files.keys()]) if (!listed.includes(file)) this.files.delete(file);
      for (const file of listed) await this.readManifest(file);
    }
    await this.ensureWatcher(listed !== undefined);
    this.push();
  }

  /** The manifest files under the path, or undefined when the path cannot be listed right now. */
  private async listManifests(root: string): Promise<string[] | undefined> {
    const every = this.opts.fileCheckFrequencyMs ?? 20_000;
    try {
      const info = await stat(root);
      this.dirError = undefined;
      if (!info.isDirectory()) return [root];
      const names = await readdir(root);
      const files: string[] = [];
      for (const name of names.sort()) {
        // Upstream skips dotfiles (editor swap files, atomic-write temporaries) and never recurses.
        if (name.startsWith('.') || !manifestExtensions.has(path.extname(name).toLowerCase())) continue;
        const file = path.join(root, name);
        const st = await stat(file).catch(() => undefined);
        if (st?.isFile()) files.push(file);
      }
      return files;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        // A missing directory means no static pods (as upstream), not a broken node; it is looked for every period.
        this.dirError = { origin: root, message: `manifest path does not exist; checking again every ${every} ms` };
        this.files.clear();
        return undefined;
      }
      // Any other failure (permissions, I/O) may be passing: keep what was read before.
      this.dirError = { origin: root, message: `cannot list manifests: ${errorMessage(err)}` };
      return undefined;
    }
  }

  private async readManifest(file: string): Promise<void> {
    const prev = this.files.get(file);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.files.delete(file);
        return;
      }
      const errors = [{ origin: file, message: `cannot read: ${errorMessage(err)}` }];
      // A text no file can have, so the next successful read is always parsed.
      this.files.set(file, { text: '\u0000unreadable', pods: prev?.good ?? [], good: prev?.good ?? [], errors, warnings: [] });
      return;
    }
    if (prev && prev.text === text) return;
    const loaded = loadManifest(text, file, { nodeName: this.opts.nodeName, source: 'file', seen: this.seen });
    if (loaded.errors.length === 0) {
      this.files.set(file, { ...loaded, good: loaded.pods });
    } else {
      const good = prev?.good ?? [];
      this.files.set(file, { ...loaded, pods: good, good, errors: keptNote(loaded.errors, file, good.length) });
    }
  }

  private push(): void {
    const pods: Pod[] = [];
    const origins: string[] = [];
    const errors: SourceError[] = this.dirError ? [this.dirError] : [];
    const warnings: string[] = [];
    for (const [file, state] of [...this.files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      for (const pod of state.pods) {
        pods.push(pod);
        origins.push(file);
      }
      errors.push(...state.errors);
      warnings.push(...state.warnings);
    }
    this.seen.retain(pods.map((p) => p.metadata.uid ?? ''));
    this.errorsLog.reportErrors(errors);
    this.warningsLog.report(warnings);
    const signature = updateSignature(pods, errors);
    if (signature === this.lastSignature) return;
    this.lastSignature = signature;
    this.opts.onUpdate({ source: this.name, pods, origins, errors });
  }

  private async ensureWatcher(pathExists: boolean): Promise<void> {
    if (this.opts.watch === false || this.stopped) return;
    if (!pathExists) {
      // The directory may come back as a new inode that an old watcher would never see; start afresh then.
      await this.closeWatcher();
      return;
    }
    if (this.watcher) return;
    const settle = this.opts.writeSettleMs ?? 100;
    const watcher = watch(this.opts.path, {
      ignoreInitial: true,
      depth: 0,
      awaitWriteFinish: { stabilityThreshold: settle, pollInterval: Math.max(10, Math.min(100, settle / 4)) },
    });
    watcher.on('all', () => void this.sync());
    watcher.on('error', (err) => this.opts.logger.warn({ err }, 'manifest watch failed; relying on periodic re-list'));
    this.watcher = watcher;
    // Events before 'ready' are lost, so whatever changed while the watcher was starting is caught by one more list.
    // Bounded, so a watcher closed by stop() before it was ready cannot hold the re-list chain forever.
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 5000);
      t.unref();
      watcher.once('ready', () => {
        clearTimeout(t);
        resolve();
      });
    });
    void this.sync();
  }

  private async closeWatcher(): Promise<void> {
    const w = this.watcher;
    this.watcher = undefined;
    if (w) await w.close();
  }
}

function keptNote(errors: SourceError[], file: string, kept: number): SourceError[] {
  if (kept === 0) return errors;
  return [...errors, { origin: file, message: `keeping the ${kept} pod(s) last read from this file until it is fixed` }];
}
