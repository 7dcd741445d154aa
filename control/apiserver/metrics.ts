import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { RequestInfo } from './http/request-info.js';

/** kube-apiserver's request metrics, under upstream's names and labels, so existing dashboards read them. */
export interface ApiServerMetrics {
  /** Call when a request arrives; the returned function when its response is finished. */
  begin(method: string): (info: RequestInfo | undefined, code: number) => void;
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Upstream's verb label: the HTTP-ish verb in capitals, LIST and WATCH told apart from GET. */
function verbLabel(method: string, info: RequestInfo | undefined): string {
  if (info?.kind === 'resource') {
    if (info.verb === 'list') return 'LIST';
    if (info.verb === 'watch') return 'WATCH';
    if (info.verb === 'deletecollection') return 'DELETE';
  }
  return method.toUpperCase();
}

export function apiServerMetrics(registry: Registry): ApiServerMetrics {
  const labelNames = ['verb', 'dry_run', 'group', 'version', 'resource', 'subresource', 'scope', 'component'] as const;
  const total = new Counter({ name: 'apiserver_request_total', help: 'Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.', labelNames: [...labelNames, 'code'], registers: [registry] });
  const duration = new Histogram({
    name: 'apiserver_request_duration_seconds',
    help: 'Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.',
    labelNames: [...labelNames],
    buckets: [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60],
    registers: [registry],
  });
  const inflight = new Gauge({ name: 'apiserver_current_inflight_requests', help: 'Maximal number of currently used inflight request limit of this apiserver per request kind in last second.', labelNames: ['request_kind'], registers: [registry] });
  return {
    begin(method) {
      const kind = MUTATING.has(method.toUpperCase()) ? 'mutating' : 'readOnly';
      inflight.inc({ request_kind: kind });
      const started = process.hrtime.bigint();
      return (info, code) => {
        inflight.dec({ request_kind: kind });
        const resource = info?.kind === 'resource' ? info : undefined;
        const labels = {
          verb: verbLabel(method, info),
          dry_run: '',
          group: resource?.group ?? '',
          version: resource?.version ?? '',
          resource: resource?.resource ?? '',
          subresource: resource?.subresource ?? '',
          // Upstream's CleanScope: a create names one object, so it is scope "resource" like a get or an update.
          scope: resource ? (resource.name || resource.verb === 'create' ? 'resource' : resource.namespace ? 'namespace' : 'cluster') : '',
          component: 'apiserver',
        };
        total.inc({ ...labels, code: String(code) });
        // Watches last as long as the client wants; their duration says nothing about the server.
        if (labels.verb !== 'WATCH') duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
      };
    },
  };
}
