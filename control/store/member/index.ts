/**
 * The Raft-replicated store: one member of a Raft group per process.
 *
 *   node.ts        RaftNode: the run loop around raft's RawNode (tick, persist via WAL, send, apply, ReadIndex,
 *                  snapshots + WAL purge, lease expiry on the leader, restart recovery)
 *   raft-store.ts  RaftStore: the Store API over a RaftNode (writes proposed and retried, linearizable reads,
 *                  local watches, lease keep-alive at the leader)
 *   transport.ts   HttpTransport (batched JSON POSTs between members, keep-alive, TLS-ready) and MemoryNetwork
 *   cluster.ts     --initial-cluster parsing, member and cluster ids
 *   membership.ts  run-time membership (etcdctl member add/remove/update): the replicated member registry,
 *                  joining a running cluster, a removed member stopping
 *   codec.ts       log entry, snapshot and message encodings
 *   errors.ts      ErrNoLeader / ErrNotLeader / ErrTimeout / ErrStopped (codes etcdapi maps to UNAVAILABLE)
 */
export { RaftNode, ManualTicker, realTicker, type Ticker, type RaftNodeOptions, type NodeStatus, type MemberIdentity, type MembershipHooks } from './node.js';
export { RaftStore, randomLeaseId, type RaftStoreOptions } from './raft-store.js';
export {
  HttpTransport,
  MemoryNetwork,
  errorFromWire,
  errorToWire,
  type HttpTransportOptions,
  type TlsOptions,
  type Transport,
  type TransportHandler,
  type WireError,
} from './transport.js';
export { parseInitialCluster, memberIdOf, clusterIdOf, type ClusterMember } from './cluster.js';
export { ErrNoLeader, ErrNotLeader, ErrTimeout, ErrStopped, ErrMembership, ErrConfChangePending, MemberError, isRetryable } from './errors.js';
export { Membership, fetchMembers, loadMembership, type MemberRecord, type MembersInfo, type MembershipCommand } from './membership.js';
export { decodeEntry, encodeEntry, decodeMessages, encodeMessages, type EntryPayload } from './codec.js';
