import type { Clock } from '../clock.js';
import { ErrInvalidRequest } from '../errors.js';
import { toInterval } from '../keys.js';
import type { RangeRequest, RangeResponse } from '../store.js';
import type { Command, CommandResult } from './commands.js';
import { MvccKv, type RevisionRecord } from './kv-state.js';
import { Lessor } from './lessor.js';
import {
  SNAPSHOT_FORMAT,
  assertSnapshot,
  decodeEntry,
  decodeLeases,
  encodeEntry,
  type StoreSnapshot,
} from './snapshot.js';
import {
  checkDuplicates,
  checkOpCounts,
  doDelete,
  doPut,
  doTxn,
  planTxn,
  validateOps,
  validatePut,
  type PendingHeader,
  type WriteContext,
} from './txn.js';

export interface StateMachineOptions {
  /** Per list (compare/success/failure) of a txn; etcd's default is 128. */
  readonly maxTxnOps: number;
  /** Shorter lease TTLs are raised to this (seconds). Must be the same on every replica. */
  readonly minLeaseTtl: number;
  /** Only for lease deadlines, which are local soft state. */
  readonly clock: Clock;
}

/**
 * The deterministic core: applies commands to the MVCC key space and the leases. A command either fails before
 * changing anything (validation runs first) or is applied whole; the error a command fails with depends only on
 * the replicated state, so every replica fails it the same way.
 */
export class StateMachine {
  private kvState = new MvccKv();
  private lessorState: Lessor;
  /** Called with each committed revision, synchronously, before apply() returns. */
  onCommit: (record: RevisionRecord) => void = () => {};

  constructor(private readonly options: StateMachineOptions) {
    this.lessorState = new Lessor(options.minLeaseTtl);
  }

  get kv(): MvccKv {
    return this.kvState;
  }

  get lessor(): Lessor {
    return this.lessorState;
  }

  get revision(): number {
    return this.kvState.revision;
  }

  read(request: RangeRequest): RangeResponse {
    const result = this.kvState.range(request);
    return { header: { revision: this.kvState.revision }, ...result };
  }

  apply<C extends Command>(command: C): CommandResult<C> {
    return this.dispatch(command) as CommandResult<C>;
  }

  private dispatch(command: Command): CommandResult {
    const kv = this.kvState;
    const lessor = this.lessorState;
    switch (command.type) {
      case 'put':
        validatePut(lessor, command);
        return this.write((ctx) => doPut(ctx, command));
      case 'delete':
        toInterval(command);
        return this.write((ctx) => doDelete(ctx, command));
      case 'txn': {
        checkOpCounts(command, this.options.maxTxnOps);
        checkDuplicates(command);
        const plan = planTxn(kv, command);
        validateOps(kv, lessor, plan.succeeded ? command.success : command.failure, plan.nested);
        return this.write((ctx) => doTxn(ctx, command, plan));
      }
      case 'leaseGrant': {
        const ttl = lessor.grant(command.id, command.ttl, this.options.clock.now());
        return { header: { revision: kv.revision }, id: command.id, ttl };
      }
      case 'leaseRevoke': {
        const keys = lessor.revoke(command.id);
        return this.write((ctx) => {
          for (const key of keys) doDelete(ctx, { key });
          return { header: ctx.header };
        });
      }
      case 'compact':
        kv.compact(command.revision);
        return { header: { revision: kv.revision } };
      default: {
        // Commands arrive from the log as parsed JSON: the type system cannot vouch for them.
        const unknown: never = command;
        throw new ErrInvalidRequest(`unknown command ${JSON.stringify(unknown)}`);
      }
    }
  }

  private write<T>(fn: (ctx: WriteContext) => T): T {
    const header: PendingHeader = { revision: 0 };
    this.kvState.begin();
    try {
      return fn({ kv: this.kvState, lessor: this.lessorState, header });
    } finally {
      // Commit even if fn threw (it should not, after validation): index entries already carry the new revision.
      const record = this.kvState.commit();
      header.revision = this.kvState.revision;
      if (record !== undefined) this.onCommit(record);
    }
  }

  snapshot(): StoreSnapshot {
    const { leases, lastId } = this.lessorState.records();
    return {
      format: SNAPSHOT_FORMAT,
      revision: this.kvState.revision,
      compactRevision: this.kvState.compactRevision,
      entries: this.kvState.entries().map(encodeEntry),
      leases: leases.map(({ id, ttl }) => [id, ttl] as const),
      lastLeaseId: lastId,
    };
  }

  /** Replaces the whole state. Every lease gets a full TTL from now (etcd does the same on recovery). */
  restore(snapshot: unknown): void {
    assertSnapshot(snapshot);
    const kv = MvccKv.fromEntries(snapshot.revision, snapshot.compactRevision, snapshot.entries.map(decodeEntry));
    const now = this.options.clock.now();
    const lessor = Lessor.fromRecords(this.options.minLeaseTtl, decodeLeases(snapshot), snapshot.lastLeaseId, now);
    for (const item of kv.range({ key: '\0', rangeEnd: '\0' }).kvs) {
      if (item.lease !== 0 && lessor.has(item.lease)) lessor.attach(item.lease, item.key);
    }
    this.kvState = kv;
    this.lessorState = lessor;
  }
}
