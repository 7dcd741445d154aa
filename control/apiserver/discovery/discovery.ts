import { apiVersionOf, groupVersions, RESOURCES, type ResourceDef } from '../resources.js';

/**
 * Discovery documents: /api, /apis and the per group-version resource lists kubectl reads to map `kubectl get po`
 * to a URL (short names, scope, verbs, categories for `all`).
 */

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function groupEntry(group: string, versions: string[]): Record<string, unknown> {
  const vs = versions.map((v) => ({ groupVersion: `${group}/${v}`, version: v }));
  return { name: group, versions: vs, preferredVersion: vs[0] };
}

export function apiGroupList(): Record<string, unknown> {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: groupVersions()
      .filter((g) => g.group !== '')
      .map((g) => groupEntry(g.group, g.versions)),
  };
}

export function apiGroup(group: string): Record<string, unknown> | undefined {
  const g = groupVersions().find((x) => x.group === group && group !== '');
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(g.group, g.versions) } : undefined;
}

const SUB_KIND: Record<string, string> = { scale: 'Scale', binding: 'Binding', eviction: 'Eviction', token: 'TokenRequest', log: 'Pod', exec: 'PodExecOptions', attach: 'PodAttachOptions', portforward: 'PodPortForwardOptions' };
const SUB_VERBS: Record<string, string[]> = {
  status: ['get', 'patch', 'update'],
  scale: ['get', 'patch', 'update'],
  binding: ['create'],
  eviction: ['create'],
  token: ['create'],
  log: ['get'],
  exec: ['create', 'get'],
  attach: ['create', 'get'],
  portforward: ['create', 'get'],
  proxy: ['create', 'delete', 'get', 'patch', 'update'],
  finalize: ['update'],
  approval: ['get', 'patch', 'update'],
  ephemeralcontainers: ['get', 'patch', 'update'],
};

/** A subresource as discovery describes it: the kind (and its group/version) it answers with, and its verbs. */
export function subresourceInfo(r: ResourceDef, sub: string): { group: string; version: string; kind: string; verbs: string[] } {
  const gv = sub === 'scale' ? ['autoscaling', 'v1'] : sub === 'eviction' ? ['policy', 'v1'] : sub === 'token' ? ['authentication.k8s.io', 'v1'] : [r.group, r.version];
  const kind = sub === 'proxy' ? `${r.kind}ProxyOptions` : (SUB_KIND[sub] ?? r.kind);
  return { group: gv[0] as string, version: gv[1] as string, kind, verbs: SUB_VERBS[sub] ?? ['get'] };
}

/** The APIResourceList of one group version, subresources as "pods/status" entries, as upstream lists them. */
export function apiResourceList(group: string, version: string): Record<string, unknown> | undefined {
  const defs = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (defs.length === 0) return undefined;
  const resources: Array<Record<string, unknown>> = [];
  for (const r of [...defs].sort((a, b) => a.resource.localeCompare(b.resource))) {
    resources.push({
      name: r.resource,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
      ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
      ...(r.categories.length ? { categories: r.categories } : {}),
    });
    for (const sub of r.subresources) {
      const info = subresourceInfo(r, sub);
      resources.push({
        name: `${r.resource}/${sub}`,
        singularName: '',
        namespaced: r.namespaced,
        ...(info.group !== r.group || info.version !== r.version ? { group: info.group, version: info.version } : {}),
        kind: info.kind,
        verbs: info.verbs,
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf({ group, version }), resources };
}
