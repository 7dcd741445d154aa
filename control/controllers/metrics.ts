import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ControllerMetrics } from './controller.js';

const depthSources = new WeakMap<Registry, Map<string, () => number>>();

function metric<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/**
 * The controller manager's metrics: upstream's workqueue metrics (workqueue_depth, workqueue_adds_total,
 * workqueue_retries_total, workqueue_queue_duration_seconds, workqueue_work_duration_seconds, labelled by queue
 * name) and controller-runtime's reconcile totals, errors and latency (labelled by controller).
 */
export function controllerMetrics(registry: Registry): ControllerMetrics {
  const buckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
  let depths = depthSources.get(registry);
  if (!depths) {
    const sources = new Map<string, () => number>();
    depths = sources;
    depthSources.set(registry, sources);
    // The depth is read from the queues when scraped rather than tracked on every add and get. (Should another
    // component have registered workqueue_depth on this registry already, the controllers' depths go unreported.)
    if (!registry.getSingleMetric('workqueue_depth')) {
      new Gauge({
        name: 'workqueue_depth',
        help: 'Current depth of workqueue',
        labelNames: ['name'],
        registers: [registry],
        collect() {
          for (const [name, fn] of sources) this.set({ name }, fn());
        },
      });
    }
  }
  const sources = depths;
  const adds = metric(registry, 'workqueue_adds_total', () => new Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue', labelNames: ['name'], registers: [registry] }));
  const retries = metric(registry, 'workqueue_retries_total', () => new Counter({ name: 'workqueue_retries_total', help: 'Total number of retries handled by workqueue', labelNames: ['name'], registers: [registry] }));
  const queued = metric(registry, 'workqueue_queue_duration_seconds', () => new Histogram({ name: 'workqueue_queue_duration_seconds', help: 'How long in seconds an item stays in workqueue before being requested', labelNames: ['name'], buckets, registers: [registry] }));
  const work = metric(registry, 'workqueue_work_duration_seconds', () => new Histogram({ name: 'workqueue_work_duration_seconds', help: 'How long in seconds processing an item from workqueue takes', labelNames: ['name'], buckets, registers: [registry] }));
  const total = metric(registry, 'controller_runtime_reconcile_total', () => new Counter({ name: 'controller_runtime_reconcile_total', help: 'Total number of reconciliations per controller', labelNames: ['controller', 'result'], registers: [registry] }));
  const errors = metric(registry, 'controller_runtime_reconcile_errors_total', () => new Counter({ name: 'controller_runtime_reconcile_errors_total', help: 'Total number of reconciliation errors per controller', labelNames: ['controller'], registers: [registry] }));
  const latency = metric(registry, 'controller_runtime_reconcile_time_seconds', () => new Histogram({ name: 'controller_runtime_reconcile_time_seconds', help: 'Length of time per reconciliation per controller', labelNames: ['controller'], buckets, registers: [registry] }));
  return {
    queueAdd: (name) => adds.inc({ name }),
    queueRetry: (name) => retries.inc({ name }),
    queueLatency: (name, s) => queued.observe({ name }, s),
    reconciled: (name, s, error) => {
      work.observe({ name }, s);
      latency.observe({ controller: name }, s);
      total.inc({ controller: name, result: error ? 'error' : 'success' });
      if (error) errors.inc({ controller: name });
    },
    registerDepth: (name, fn) => {
      sources.set(name, fn);
    },
  };
}
