/**
 * Skiff's etcd-v3-shaped key-value store.
 *
 *   store.ts      the Store interface and its request/response types (what the API server codes against)
 *   errors.ts     typed errors, named and worded after etcd's
 *   ops.ts        builders for txn ops and compares
 *   mvcc/         MemoryStore: the in-memory MVCC implementation, also the state machine the Raft store replicates
 *                 (apply(command), snapshot()/restore(), expireLeases()/renewLease()/refreshLeases())
 */
export * from './store.js';
export * from './errors.js';
export { prefixEnd, UNBOUNDED } from './keys.js';
export { ManualClock, systemClock, type Clock } from './clock.js';
export * as op from './ops.js';
export { MemoryStore, type MemoryStoreOptions } from './mvcc/memory-store.js';
export type { Command, CommandResult } from './mvcc/commands.js';
export type { StoreSnapshot, SnapshotEntry } from './mvcc/snapshot.js';
