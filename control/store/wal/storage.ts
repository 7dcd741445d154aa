/**
 * Glue between the WAL/snapshotter and the Raft core's MemoryStorage: rebuild it on restart, and persist each
 * Ready in the order that keeps recovery possible.
 */
import { MemoryStorage } from '../raft/storage.js';
import { EMPTY_HARD_STATE, isEmptyHardState, type Entry, type HardState, type Snapshot } from '../raft/messages.js';
import type { Ready } from '../raft/rawnode.js';
import { Snapshotter } from './snapshotter.js';
import { Wal, type OpenOptions, type TailRepair, type WalOptions } from './wal.js';

export interface RecoveredState {
  wal: Wal;
  /** Holds the snapshot (if any), the WAL's entries after it and the hard state: hand it to the RawNode config. */
  storage: MemoryStorage;
  /** The snapshot to restore the state machine (the MVCC store) from before applying committed entries. */
  snapshot: Snapshot | undefined;
  hardState: HardState;
  entries: Entry[];
  metadata: Uint8Array;
  repaired?: TailRepair;
  /** True when the WAL did not exist and was created by this call. */
  created: boolean;
}

/**
 * Opens the WAL in `walDir` and the newest usable snapshot in `snapshotter` and rebuilds a MemoryStorage from
 * them. When `walDir` holds no log yet, creates one with `metadata` and returns an empty storage.
 */
export async function openRaftStorage(
  walDir: string,
  snapshotter: Snapshotter,
  options: WalOptions & { metadata?: Uint8Array } = {},
): Promise<RecoveredState> {
  const { metadata: createMetadata, ...walOptions } = options;
  if (!(await Wal.exists(walDir))) {
    const meta = createMetadata ?? new Uint8Array(0);
    const wal = await Wal.create(walDir, meta, walOptions);
    return {
      wal,
      storage: new MemoryStorage(),
      snapshot: undefined,
      hardState: { ...EMPTY_HARD_STATE },
      entries: [],
      metadata: meta,
      created: true,
    };
  }
  const walSnaps = await Wal.readSnapshots(walDir);
  const snapshot = await snapshotter.loadNewestAvailable(walSnaps);
  const openOpts: OpenOptions = { ...walOptions };
  if (snapshot) openOpts.fromSnapshot = { index: snapshot.metadata.index, term: snapshot.metadata.term };
  const opened = await Wal.open(walDir, openOpts);
  try {
    const storage = buildMemoryStorage(snapshot, opened.hardState, opened.entries);
    return {
      wal: opened.wal,
      storage,
      snapshot,
      hardState: opened.hardState,
      entries: opened.entries,
      metadata: opened.metadata,
      ...(opened.repaired ? { repaired: opened.repaired } : {}),
      created: false,
    };
  } catch (err) {
    await opened.wal.close();
    throw err;
  }
}

/** A MemoryStorage holding `snapshot`, then `entries` (which must follow it), with `hardState`. */
export function buildMemoryStorage(snapshot: Snapshot | undefined, hardState: HardState, entries: readonly Entry[]): MemoryStorage {
  const storage = new MemoryStorage(snapshot?.metadata.confState);
  if (snapshot && snapshot.metadata.index > 0) storage.applySnapshot(snapshot);
  if (!isEmptyHardState(hardState)) storage.setHardState(hardState);
  storage.append(entries);
  return storage;
}

/**
 * Persists what a Ready asks for, then mirrors it into `storage`, in etcd's order: a snapshot goes to its .snap
 * file before the WAL records it (so a WAL marker always has a file), then entries and hard state are saved and
 * fsync'd (group-committed with concurrent callers); when `mustSync` is false (only the commit index changed) the
 * hard state is written without an fsync of its own. `inline`: see Wal.save. See Ready for what may overlap this.
 */
export async function persistReady(
  wal: Wal,
  snapshotter: Snapshotter,
  storage: MemoryStorage,
  rd: Pick<Ready, 'hardState' | 'entries' | 'snapshot'> & { mustSync?: boolean },
  options: { inline?: boolean } = {},
): Promise<void> {
  const sync = rd.mustSync ?? true;
  if (rd.snapshot && rd.snapshot.metadata.index > 0) {
    await snapshotter.save(rd.snapshot);
    const { index, term } = rd.snapshot.metadata;
    // The marker goes with a hard state committing exactly it (term and vote as the Ready's), so a torn tail that
    // takes the entries or the final hard state after it still leaves the snapshot usable. Queued in order; group
    // commit lets the marker and the entries share one fsync.
    const prev = rd.hardState ?? storage.initialState().hardState;
    await Promise.all([
      wal.saveSnapshot({ index, term }, { hardState: { term: Math.max(prev.term, term), vote: prev.vote, commit: index } }),
      wal.save(rd.hardState, rd.entries),
    ]);
  } else if (rd.hardState !== undefined || rd.entries.length > 0) {
    await wal.save(rd.hardState, rd.entries, { sync, ...(options.inline === true ? { inline: true } : {}) });
  }
  if (rd.snapshot && rd.snapshot.metadata.index > 0) storage.applySnapshot(rd.snapshot);
  if (rd.hardState) storage.setHardState(rd.hardState);
  storage.append(rd.entries);
}

/**
 * Records a snapshot the application took of its own state (after MemoryStorage.createSnapshot): .snap file, WAL
 * marker in a sealed segment, then releases WAL segments wholly before it. Call wal.purge() / snapshotter.purge()
 * afterwards to delete (keep at least one .snap: the newest is the one recovery starts from).
 */
export async function saveLocalSnapshot(wal: Wal, snapshotter: Snapshotter, snapshot: Snapshot, pace?: () => Promise<void>): Promise<void> {
  await snapshotter.save(snapshot, pace);
  await wal.saveSnapshot({ index: snapshot.metadata.index, term: snapshot.metadata.term }, { seal: true });
  wal.releaseLockTo(snapshot.metadata.index);
}
