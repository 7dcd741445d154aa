/**
 * Durable storage for the Raft store: a checksummed, group-committed write-ahead log (wal.ts, record.ts), snapshot
 * files (snapshotter.ts), and recovery of a Raft MemoryStorage from both (storage.ts).
 */
export { crc32c } from './crc32c.js';
export * from './errors.js';
export { defaultIo, type SyncIo, type WalLogger } from './io.js';
export { LOCK_FILE } from './lock.js';
export {
  RecordType,
  decodeRecord,
  encodeRecord,
  encodeRecords,
  type DecodeResult,
  type WalRecord,
  type WalSnapshot,
} from './record.js';
export {
  DEFAULT_SEGMENT_SIZE,
  Wal,
  listSegments,
  parseSegmentName,
  segmentName,
  type OpenOptions,
  type OpenResult,
  type Segment,
  type TailRepair,
  type WalOptions,
} from './wal.js';
export {
  Snapshotter,
  decodeSnapshotFile,
  encodeSnapshotFile,
  parseSnapshotName,
  snapshotName,
  type SnapshotterOptions,
} from './snapshotter.js';
export { buildMemoryStorage, openRaftStorage, persistReady, saveLocalSnapshot, type RecoveredState } from './storage.js';
