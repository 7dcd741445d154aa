/** Errors of the WAL and snapshotter. Each message says what is wrong and where, so an operator can act on it. */

/** Damage the WAL will not repair by itself: serving from the log could mean serving wrong or missing data. */
export class WalCorruptError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`wal: corrupt record at ${file} offset ${offset}: ${reason}; refusing to start`);
    this.name = 'WalCorruptError';
  }
}

/** The directory (WAL or snapshot) is held by another live process or another open Wal in this process. */
export class WalLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(
      `wal: directory ${dir} is locked by process ${pid}${pid === process.pid ? ' (this process)' : ''}; ` +
        'another Skiff is using this data directory',
    );
    this.name = 'WalLockedError';
  }
}

export class WalExistsError extends Error {
  constructor(readonly dir: string) {
    super(`wal: ${dir} already holds a write-ahead log`);
    this.name = 'WalExistsError';
  }
}

export class WalNotFoundError extends Error {
  constructor(readonly dir: string, detail = 'no .wal segment files') {
    super(`wal: ${dir}: ${detail}`);
    this.name = 'WalNotFoundError';
  }
}

/** The snapshot the caller restores from is not recorded in the WAL (or no retained segment can reach it). */
export class WalSnapshotNotFoundError extends Error {
  constructor(readonly index: number, readonly term: number, detail = 'not found in the WAL') {
    super(`wal: snapshot at index ${index} term ${term} ${detail}`);
    this.name = 'WalSnapshotNotFoundError';
  }
}

/** The WAL recorded a snapshot at the same index with a different term. */
export class WalSnapshotMismatchError extends Error {
  constructor(readonly index: number, readonly want: number, readonly got: number) {
    super(`wal: snapshot at index ${index} has term ${got} in the WAL, but the snapshot says term ${want}`);
    this.name = 'WalSnapshotMismatchError';
  }
}

/** A write or fsync failed earlier; the log's on-disk state is unknown, so every later operation refuses. */
export class WalFailedError extends Error {
  constructor(override readonly cause: unknown) {
    super(`wal: an earlier write or fsync failed (${cause instanceof Error ? cause.message : String(cause)}); restart to recover`);
    this.name = 'WalFailedError';
  }
}

export class WalClosedError extends Error {
  constructor() {
    super('wal: closed');
    this.name = 'WalClosedError';
  }
}

export class SnapshotCorruptError extends Error {
  constructor(readonly file: string, readonly reason: string) {
    super(`snap: ${file}: ${reason}`);
    this.name = 'SnapshotCorruptError';
  }
}
