import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { NodeStatus } from './member/node.js';
import { NONE } from './raft/messages.js';
import type { WalOptions } from './wal/index.js';

/**
 * A store member's Prometheus metrics, under etcd's names, so that etcd's dashboards and alerts (fsync latency,
 * leader changes, pending proposals) read a Skiff store as they read etcd: served by `skiff store
 * --listen-metrics-urls`, and by `skiff control`'s /metrics for its embedded member.
 */

/** etcd's buckets for disk latencies: 1 ms doubling to 8 s. */
const DISK_BUCKETS = Array.from({ length: 14 }, (_, i) => 0.001 * 2 ** i);

export interface StoreMetricHooks {
  /** For the member's WAL. */
  readonly wal: Pick<WalOptions, 'onFsync' | 'onWrite'>;
  /** For the member (RaftNodeOptions.onSnapshotSaved). */
  readonly onSnapshotSaved: (seconds: number) => void;
  /** Where the gauges read the member's state from, once it runs. */
  watch(status: () => NodeStatus): void;
}

/** Registers the metrics on `registry`; the hooks feed them. */
export function storeMetrics(registry: Registry): StoreMetricHooks {
  let status: (() => NodeStatus) | undefined;
  const fsync = new Histogram({ name: 'etcd_disk_wal_fsync_duration_seconds', help: 'The latency distributions of fsync called by WAL.', buckets: DISK_BUCKETS, registers: [registry] });
  const written = new Counter({ name: 'etcd_disk_wal_write_bytes_total', help: 'Total number of bytes written in WAL.', registers: [registry] });
  const snapshotSave = new Histogram({
    name: 'etcd_debugging_snap_save_total_duration_seconds',
    help: 'The total latency distributions of save called by snapshot.',
    buckets: DISK_BUCKETS,
    registers: [registry],
  });
  const gauge = (name: string, help: string, read: (s: NodeStatus) => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const s = status?.();
        if (s !== undefined) this.set(read(s));
      },
    });
  };
  gauge('etcd_server_has_leader', 'Whether or not a leader exists. 1 is existence, 0 is not.', (s) => (s.leader !== NONE ? 1 : 0));
  gauge('etcd_server_is_leader', 'Whether or not this member is a leader. 1 if is, 0 otherwise.', (s) => (s.state === 'leader' ? 1 : 0));
  gauge('etcd_server_proposals_committed_total', 'The total number of consensus proposals committed.', (s) => s.commit);
  gauge('etcd_server_proposals_applied_total', 'The total number of consensus proposals applied.', (s) => s.applied);
  gauge('etcd_server_proposals_pending', 'The current number of pending proposals to commit.', (s) => s.pendingProposals);
  new Counter({
    name: 'etcd_server_leader_changes_seen_total',
    help: 'The number of leader changes seen.',
    registers: [registry],
    collect() {
      const s = status?.();
      if (s === undefined) return;
      // A count the member keeps: the counter is set to it (counters only go up, and so does it).
      this.reset();
      this.inc(s.leaderChanges);
    },
  });
  return {
    wal: { onFsync: (seconds) => fsync.observe(seconds), onWrite: (bytes) => written.inc(bytes) },
    onSnapshotSaved: (seconds) => snapshotSave.observe(seconds),
    watch(read) {
      status = read;
    },
  };
}
