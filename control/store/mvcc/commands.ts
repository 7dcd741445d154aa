import type {
  CompactResponse,
  DeleteRequest,
  DeleteResponse,
  LeaseGrantResponse,
  LeaseId,
  LeaseRevokeResponse,
  PutRequest,
  PutResponse,
  TxnRequest,
  TxnResponse,
} from '../store.js';

/**
 * Every change to the replicated state, as plain JSON-serializable data: the Raft log carries these, and every
 * replica applying the same sequence reaches the same state. Values the state machine must not pick for itself
 * (a new lease's id) are already in the command. Reads and lease keep-alives are not commands: keep-alive only
 * moves a local expiry deadline, as in etcd.
 */
export type Command =
  | ({ readonly type: 'put' } & PutRequest)
  | ({ readonly type: 'delete' } & DeleteRequest)
  | ({ readonly type: 'txn' } & TxnRequest)
  | { readonly type: 'leaseGrant'; readonly id: LeaseId; readonly ttl: number }
  | { readonly type: 'leaseRevoke'; readonly id: LeaseId }
  | { readonly type: 'compact'; readonly revision: number };

export interface CommandResults {
  put: PutResponse;
  delete: DeleteResponse;
  txn: TxnResponse;
  leaseGrant: LeaseGrantResponse;
  leaseRevoke: LeaseRevokeResponse;
  compact: CompactResponse;
}

export type CommandResult<C extends Command = Command> = CommandResults[C['type']];
