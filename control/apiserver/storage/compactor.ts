import type { Logger } from '../../../lib/log.js';
import { ErrCompacted, op, type Store } from '../../store/index.js';

/** Upstream's key for coordinating compaction between API servers sharing one store. */
export const COMPACT_REV_KEY = 'compact_rev_key';

/** Upstream's --etcd-compaction-interval default. */
export const DEFAULT_COMPACTION_INTERVAL_MS = 5 * 60 * 1000;

/**
 * Compacts the store's history as upstream's API server does (storage/etcd3/compact.go): every interval, the
 * revision reached at the previous interval is compacted away, so watchers always have at least one interval of
 * history to resume from, and old versions of every object stop piling up in the store's memory. With several API
 * servers on one store, a compare-and-swap on compact_rev_key's version lets only one of them compact per interval.
 */
export class Compactor {
  /** compact_rev_key's version as last seen: the CAS that elects this interval's compactor. */
  private keyVersion = 0;
  /** The revision reached at the previous interval; compacted at the next one (0: nothing yet). */
  private revision = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly logger?: Logger,
  ) {}

  start(intervalMs: number): void {
    if (this.timer || intervalMs <= 0) return;
    this.timer = setInterval(() => {
      this.running ??= this.compactOnce()
        .catch((err: unknown) => this.logger?.warn({ err: err instanceof Error ? err.message : String(err) }, 'compacting the store failed; trying again next interval'))
        .finally(() => (this.running = undefined));
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One interval: claim it, then compact to the revision the previous claim saw. */
  async compactOnce(): Promise<void> {
    const res = await this.store.txn({
      compare: [op.version(COMPACT_REV_KEY, '=', this.keyVersion)],
      success: [op.put(COMPACT_REV_KEY, String(this.revision))],
      failure: [op.get(COMPACT_REV_KEY)],
    });
    const previous = this.revision;
    this.revision = res.header.revision;
    if (!res.succeeded) {
      // Another API server compacted this interval; follow its count and try for the next one.
      const got = res.responses[0];
      this.keyVersion = got && 'kvs' in got ? (got.kvs[0]?.version ?? 0) : 0;
      return;
    }
    this.keyVersion++;
    if (previous === 0) return;
    try {
      await this.store.compact(previous);
      this.logger?.info({ revision: previous }, 'store compacted');
    } catch (err) {
      // Already compacted that far (by hand, or a restarted server); nothing lost.
      if (!(err instanceof ErrCompacted)) throw err;
    }
  }
}
