import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FileHandle } from 'node:fs/promises';
import type { Entry, HardState } from '../../../../../control/store/raft/messages.js';
import { defaultIo, type SyncIo, type WalLogger } from '../../../../../control/store/wal/io.js';

/** Temp directories made by a test file; call cleanup() in afterEach. */
export function tempDirs(): { make(prefix?: string): Promise<string>; cleanup(): Promise<void> } {
  const dirs: string[] = [];
  return {
    async make(prefix = 'skiff-wal-') {
      const d = await mkdtemp(join(tmpdir(), prefix));
      dirs.push(d);
      return d;
    },
    async cleanup() {
      for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
    },
  };
}

const enc = new TextEncoder();

export function entry(index: number, term = 1, text = `entry-${index}`): Entry {
  return { index, term, type: 'normal', data: enc.encode(text) };
}

export function entries(from: number, to: number, term = 1): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(entry(i, term));
  return out;
}

export function hs(term: number, commit: number, vote = 1): HardState {
  return { term, vote, commit };
}

/** An io that counts fsyncs and can delay or fail them. */
export class CountingIo implements SyncIo {
  fileSyncs = 0;
  dirSyncs = 0;
  delayMs = 0;
  failNext: Error | undefined;
  /** When set, file syncs wait for this promise (lets a test hold an fsync "in flight"). */
  gate: Promise<void> | undefined;

  /** Of fileSyncs, those done on the calling thread (syncFileNow). */
  inlineSyncs = 0;

  syncFileNow(handle: FileHandle): void {
    this.fileSyncs++;
    this.inlineSyncs++;
    if (this.failNext) {
      const err = this.failNext;
      this.failNext = undefined;
      throw err;
    }
    defaultIo.syncFileNow!(handle);
  }

  async syncFile(handle: FileHandle): Promise<void> {
    this.fileSyncs++;
    if (this.failNext) {
      const err = this.failNext;
      this.failNext = undefined;
      throw err;
    }
    if (this.gate) await this.gate;
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    await defaultIo.syncFile(handle);
  }

  async syncDir(dir: string): Promise<void> {
    this.dirSyncs++;
    await defaultIo.syncDir(dir);
  }
}

export class CaptureLogger implements WalLogger {
  lines: { level: string; obj: object; msg: string }[] = [];
  info(obj: object, msg: string): void {
    this.lines.push({ level: 'info', obj, msg });
  }
  warn(obj: object, msg: string): void {
    this.lines.push({ level: 'warn', obj, msg });
  }
}

export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Skips fsync: for tests that exercise recovery logic in tight loops, not durability. */
export const noSyncIo: SyncIo = {
  async syncFile() {},
  async syncDir() {},
};
