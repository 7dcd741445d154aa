import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** kube-proxy's sync metrics (names as upstream's pkg/proxy/metrics), registered in the registry given. */
export interface ProxyMetrics {
  syncDuration: Histogram;
  syncFullDuration: Histogram;
  syncPartialDuration: Histogram;
  restoreFailures: Counter;
  partialRestoreFailures: Counter;
  lastSyncTimestamp: Gauge;
  lastQueuedTimestamp: Gauge;
  rulesTotal: Gauge<'table'>;
  rulesLastSync: Gauge<'table'>;
  serviceChanges: Counter;
  endpointChanges: Counter;
  conntrackFailures: Counter;
  dialFailures: Counter;
}

const buckets = Array.from({ length: 15 }, (_, i) => 0.001 * 2 ** i);

export function createProxyMetrics(registry: Registry): ProxyMetrics {
  const registers = [registry];
  return {
    syncDuration: new Histogram({ name: 'kubeproxy_sync_proxy_rules_duration_seconds', help: 'SyncProxyRules latency in seconds', buckets, registers }),
    syncFullDuration: new Histogram({ name: 'kubeproxy_sync_full_proxy_rules_duration_seconds', help: 'SyncProxyRules latency in seconds for full resyncs', buckets, registers }),
    syncPartialDuration: new Histogram({ name: 'kubeproxy_sync_partial_proxy_rules_duration_seconds', help: 'SyncProxyRules latency in seconds for partial resyncs', buckets, registers }),
    restoreFailures: new Counter({ name: 'kubeproxy_sync_proxy_rules_iptables_restore_failures_total', help: 'Cumulative proxy iptables restore failures', registers }),
    partialRestoreFailures: new Counter({ name: 'kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total', help: 'Cumulative proxy iptables partial restore failures', registers }),
    lastSyncTimestamp: new Gauge({ name: 'kubeproxy_sync_proxy_rules_last_timestamp_seconds', help: 'The last time proxy rules were successfully synced', registers }),
    lastQueuedTimestamp: new Gauge({ name: 'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds', help: 'The last time a sync of proxy rules was queued', registers }),
    rulesTotal: new Gauge({ name: 'kubeproxy_sync_proxy_rules_iptables_total', help: 'Total number of iptables rules owned by kube-proxy', labelNames: ['table'], registers }),
    rulesLastSync: new Gauge({ name: 'kubeproxy_sync_proxy_rules_iptables_last', help: 'Number of iptables rules written by kube-proxy in last sync', labelNames: ['table'], registers }),
    serviceChanges: new Counter({ name: 'kubeproxy_sync_proxy_rules_service_changes_total', help: 'Cumulative proxy rules Service changes', registers }),
    endpointChanges: new Counter({ name: 'kubeproxy_sync_proxy_rules_endpoint_changes_total', help: 'Cumulative proxy rules Endpoint changes', registers }),
    dialFailures: new Counter({ name: 'kubeproxy_userspace_endpoint_dial_failures_total', help: 'Connections the userspace proxy could not open to an endpoint (Skiff)', registers }),
    conntrackFailures: new Counter({ name: 'kubeproxy_sync_proxy_rules_conntrack_cleanup_failures_total', help: 'Cumulative failed conntrack deletions of stale UDP entries (Skiff)', registers }),
  };
}
