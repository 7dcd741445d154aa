/**
 * Raft consensus core for Skiff's embedded store: a deterministic state machine in the style of etcd-io/raft.
 * Drive a RawNode with tick()/step()/propose(), persist and send what ready() returns, then advance().
 */
export * from './messages.js';
export { RawNode, StepLocalMessageError, type Ready } from './rawnode.js';
export { Raft, ProposalDroppedError, type RaftConfig } from './raft.js';
export {
  MemoryStorage,
  CompactedError,
  UnavailableError,
  SnapshotOutOfDateError,
  type Storage,
} from './storage.js';
export { RaftLog, Unstable } from './log.js';
export { Progress, ProgressTracker, Inflights, type ProgressState } from './progress.js';
export { committedIndex, voteResult, majority, type VoteResult } from './quorum.js';
export { SeededRand, type Rand } from './rand.js';
