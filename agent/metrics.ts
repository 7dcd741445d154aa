import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The agent's Prometheus metrics, named as the kubelet names them where it has an equivalent. */
export class AgentMetrics {
  readonly registry = new Registry();
  readonly runningPods = new Gauge({ name: 'kubelet_running_pods', help: 'Number of pods that have a running pod sandbox', registers: [this.registry] });
  readonly runningContainers = new Gauge({
    name: 'kubelet_running_containers',
    help: 'Number of containers currently running',
    labelNames: ['container_state'],
    registers: [this.registry],
  });
  readonly desiredPods = new Gauge({ name: 'kubelet_desired_pods', help: 'The number of pods the agent is being instructed to run', labelNames: ['static'], registers: [this.registry] });
  readonly podWorkerDuration = new Histogram({
    name: 'kubelet_pod_worker_duration_seconds',
    help: 'Duration in seconds to sync a single pod',
    labelNames: ['operation'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly podStartDuration = new Histogram({
    name: 'kubelet_pod_start_duration_seconds',
    help: 'Duration in seconds from the agent seeing a pod for the first time to the pod starting to run',
    buckets: [0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120],
    registers: [this.registry],
  });
  readonly startedContainers = new Counter({ name: 'kubelet_started_containers_total', help: 'Cumulative number of containers started', labelNames: ['container_type'], registers: [this.registry] });
  readonly syncErrors = new Counter({ name: 'skiff_agent_pod_sync_errors_total', help: 'Pod syncs that failed and were retried', registers: [this.registry] });
  readonly sourceErrors = new Gauge({ name: 'skiff_agent_pod_source_errors', help: 'Problems the pod sources currently report (bad manifests, unreachable URL)', registers: [this.registry] });
  readonly probes = new Counter({
    name: 'prober_probe_total',
    help: 'Cumulative number of a liveness, readiness or startup probe for a container by result',
    labelNames: ['probe_type', 'result', 'container', 'pod', 'namespace', 'pod_uid'],
    registers: [this.registry],
  });
  readonly httpRequests = new Counter({
    name: 'kubelet_http_requests_total',
    help: 'Number of the http requests received since the server started',
    labelNames: ['method', 'path', 'server_type', 'long_running'],
    registers: [this.registry],
  });
  readonly events = new Counter({ name: 'skiff_agent_events_total', help: 'Kubernetes events recorded by the agent', labelNames: ['type', 'reason'], registers: [this.registry] });

  constructor() {
    // A coarse event-loop monitor: the default samples every 10 ms, a measurable share of an idle agent's CPU.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 1000 });
  }
}
