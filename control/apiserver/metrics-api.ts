import { matchesLabels, parseLabelSelector, SelectorError } from '../api/selectors.js';
import { METRICS_API_RESOURCES, METRICS_GROUP_VERSION, nodeMetricsItems, podMetricsItems } from '../metrics/api.js';
import type { NodeUsageReport } from '../metrics/usage.js';
import { ApiError, badRequest } from './http/status.js';
import type { ResourceRequest } from './http/request-info.js';
import { findResource, type ResourceDef } from './resources.js';
import type { KubeObject, ObjectStorage } from './storage/object-storage.js';

/** Where the resource metrics come from (the control plane's scraper, or a test's simulated nodes). */
export interface ResourceMetricsSource {
  readonly latest: ReadonlyMap<string, NodeUsageReport>;
}

export const METRICS_GROUP = 'metrics.k8s.io';

const GROUP_ENTRY = { name: METRICS_GROUP, versions: [{ groupVersion: METRICS_GROUP_VERSION, version: 'v1beta1' }], preferredVersion: { groupVersion: METRICS_GROUP_VERSION, version: 'v1beta1' } };

/** Discovery additions for the metrics group, as the aggregated metrics-server would register it. */
export function withMetricsGroup(list: Record<string, unknown>): Record<string, unknown> {
  const groups = Array.isArray(list.groups) ? (list.groups as unknown[]) : [];
  return { ...list, groups: [...groups, GROUP_ENTRY] };
}

export const metricsApiGroup = (): Record<string, unknown> => ({ kind: 'APIGroup', apiVersion: 'v1', ...GROUP_ENTRY });

export const metricsResourceList = (): Record<string, unknown> => ({ kind: 'APIResourceList', apiVersion: 'v1', groupVersion: METRICS_GROUP_VERSION, resources: METRICS_API_RESOURCES });

/** GET/LIST of metrics.k8s.io/v1beta1 nodes and pods: read-only, label selectors, NotFound as metrics-server says it. */
export async function serveMetricsRequest(info: ResourceRequest, query: URLSearchParams, storage: ObjectStorage, source: ResourceMetricsSource): Promise<Record<string, unknown>> {
  if (info.version !== 'v1beta1' || (info.resource !== 'nodes' && info.resource !== 'pods') || info.subresource) {
    throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  }
  if (info.verb !== 'get' && info.verb !== 'list') throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
  let selector;
  try {
    selector = parseLabelSelector(query.get('labelSelector') ?? '');
  } catch (err) {
    throw badRequest(err instanceof SelectorError ? err.message : String(err));
  }
  const def = findResource('', 'v1', info.resource) as ResourceDef;
  const namespace = info.resource === 'pods' ? info.namespace : undefined;
  const objects = (await storage.list(def, namespace)).items.filter((o: KubeObject) => (!info.name || o.metadata.name === info.name) && matchesLabels(selector, o.metadata.labels));
  const items = info.resource === 'nodes' ? nodeMetricsItems(objects, source.latest) : podMetricsItems(objects, source.latest);
  if (info.name) {
    const item = items[0];
    if (!item) throw new ApiError(404, 'NotFound', `${info.resource === 'nodes' ? 'nodemetrics' : 'podmetrics'}.metrics.k8s.io "${info.name}" not found`, { name: info.name, group: METRICS_GROUP, kind: info.resource });
    return item as unknown as Record<string, unknown>;
  }
  return { kind: info.resource === 'nodes' ? 'NodeMetricsList' : 'PodMetricsList', apiVersion: METRICS_GROUP_VERSION, metadata: {}, items };
}
