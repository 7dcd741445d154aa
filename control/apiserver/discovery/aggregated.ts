import { groupVersions, RESOURCES, type ResourceDef } from '../resources.js';
import { subresourceInfo } from './discovery.js';

/**
 * Aggregated discovery (apidiscovery.k8s.io, upstream 1.30+ serves v2 and v2beta1): /api and /apis answer with every
 * group, version and resource in one APIGroupDiscoveryList when the client's Accept asks for it, so kubectl needs
 * two requests instead of one per group version. Clients that do not ask get the legacy documents.
 */

export const DISCOVERY_GROUP = 'apidiscovery.k8s.io';
const SERVED_VERSIONS = ['v2', 'v2beta1'];

/**
 * The aggregated discovery version the Accept header asks for first (kubectl sends v2, then v2beta1, then plain
 * JSON), or undefined when a legacy document is what it should get.
 */
export function negotiateAggregatedDiscovery(accept: string): string | undefined {
  for (const part of accept.split(',')) {
    const [type, ...params] = part.split(';').map((p) => p.trim());
    const mediaType = (type ?? '').toLowerCase();
    const p = Object.fromEntries(params.map((kv) => kv.split('=').map((x) => x.trim())));
    if (p.g === DISCOVERY_GROUP && p.as === 'APIGroupDiscoveryList') {
      if (mediaType === 'application/json' && SERVED_VERSIONS.includes(p.v ?? '')) return p.v;
      continue;
    }
    // The first acceptable plain type wins over later aggregated ones, as the client ranked them.
    if (mediaType === 'application/json' || mediaType === '*/*' || mediaType === 'application/*') return undefined;
  }
  return undefined;
}

export const aggregatedContentType = (version: string): string => `application/json;g=${DISCOVERY_GROUP};v=${version};as=APIGroupDiscoveryList`;

function resourceEntry(r: ResourceDef): Record<string, unknown> {
  return {
    resource: r.resource,
    responseKind: { group: r.group, version: r.version, kind: r.kind },
    scope: r.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: r.singular,
    verbs: r.verbs,
    ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
    ...(r.categories.length ? { categories: r.categories } : {}),
    ...(r.subresources.length
      ? {
          subresources: r.subresources.map((sub) => {
            const info = subresourceInfo(r, sub);
            return { subresource: sub, responseKind: { group: info.group, version: info.version, kind: info.kind }, verbs: info.verbs };
          }),
        }
      : {}),
  };
}

/** A group served from outside RESOURCES (metrics.k8s.io), described by its legacy APIResourceList entries. */
export interface ExtraGroup {
  group: string;
  version: string;
  resources: ReadonlyArray<{ name: string; singularName?: string; namespaced: boolean; kind: string; verbs: string[] }>;
}

function extraGroupEntry(g: ExtraGroup): Record<string, unknown> {
  return {
    metadata: { name: g.group, creationTimestamp: null },
    versions: [
      {
        version: g.version,
        resources: g.resources.map((r) => ({
          resource: r.name,
          responseKind: { group: g.group, version: g.version, kind: r.kind },
          scope: r.namespaced ? 'Namespaced' : 'Cluster',
          singularResource: r.singularName ?? '',
          verbs: r.verbs,
        })),
        freshness: 'Current',
      },
    ],
  };
}

/** The APIGroupDiscoveryList of /api (the core group) or /apis (every named group), preferred versions first. */
export function aggregatedDiscovery(path: '/api' | '/apis', version: string, extra: readonly ExtraGroup[] = []): Record<string, unknown> {
  const groups = groupVersions().filter((g) => (path === '/api' ? g.group === '' : g.group !== ''));
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: `${DISCOVERY_GROUP}/${version}`,
    metadata: {},
    items: [...groups.map((g) => ({
      metadata: { ...(g.group ? { name: g.group } : {}), creationTimestamp: null },
      versions: g.versions.map((v) => ({
        version: v,
        resources: RESOURCES.filter((r) => r.group === g.group && r.version === v)
          .sort((a, b) => a.resource.localeCompare(b.resource))
          .map(resourceEntry),
        freshness: 'Current',
      })),
    })), ...(path === '/apis' ? extra.map(extraGroupEntry) : [])],
  };
}
