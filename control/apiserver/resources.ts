/**
 * Every resource the API server serves: its group/version/kind, names as discovery reports them, scope, verbs and
 * subresources. Kept as data so discovery, routing, storage keys and `kubectl api-resources` all agree.
 */
export interface ResourceDef {
  group: string;
  version: string;
  kind: string;
  /** Plural, lowercase: the URL segment ("pods"). */
  resource: string;
  singular: string;
  shortNames: string[];
  namespaced: boolean;
  categories: string[];
  verbs: string[];
  subresources: string[];
  /** Other group/versions that serve the same stored objects (events in core/v1 and events.k8s.io/v1). */
  storageResource?: string;
}

const CRUD = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function def(
  group: string,
  version: string,
  kind: string,
  resource: string,
  opts: { short?: string[]; namespaced?: boolean; categories?: string[]; verbs?: string[]; sub?: string[]; storage?: string } = {},
): ResourceDef {
  return {
    group,
    version,
    kind,
    resource,
    singular: kind.toLowerCase(),
    shortNames: opts.short ?? [],
    namespaced: opts.namespaced ?? true,
    categories: opts.categories ?? [],
    verbs: opts.verbs ?? CRUD,
    subresources: opts.sub ?? [],
    ...(opts.storage ? { storageResource: opts.storage } : {}),
  };
}

/** Upstream's names, short names and categories (as `kubectl api-resources` shows them against Kubernetes 1.32). */
export const RESOURCES: ResourceDef[] = [
  def('', 'v1', 'Binding', 'bindings', { verbs: ['create'] }),
  def('', 'v1', 'ComponentStatus', 'componentstatuses', { short: ['cs'], namespaced: false, verbs: ['get', 'list'] }),
  def('', 'v1', 'ConfigMap', 'configmaps', { short: ['cm'] }),
  def('', 'v1', 'Endpoints', 'endpoints', { short: ['ep'] }),
  def('', 'v1', 'Event', 'events', { short: ['ev'] }),
  def('', 'v1', 'LimitRange', 'limitranges', { short: ['limits'] }),
  def('', 'v1', 'Namespace', 'namespaces', { short: ['ns'], namespaced: false, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], sub: ['status', 'finalize'] }),
  def('', 'v1', 'Node', 'nodes', { short: ['no'], namespaced: false, sub: ['status', 'proxy'] }),
  def('', 'v1', 'PersistentVolumeClaim', 'persistentvolumeclaims', { short: ['pvc'], sub: ['status'] }),
  def('', 'v1', 'PersistentVolume', 'persistentvolumes', { short: ['pv'], namespaced: false, sub: ['status'] }),
  def('', 'v1', 'Pod', 'pods', { short: ['po'], categories: ['all'], sub: ['status', 'binding', 'eviction', 'log', 'exec', 'attach', 'portforward', 'proxy', 'ephemeralcontainers'] }),
  def('', 'v1', 'PodTemplate', 'podtemplates'),
  def('', 'v1', 'ReplicationController', 'replicationcontrollers', { short: ['rc'], categories: ['all'], sub: ['status', 'scale'] }),
  def('', 'v1', 'ResourceQuota', 'resourcequotas', { short: ['quota'], sub: ['status'] }),
  def('', 'v1', 'Secret', 'secrets'),
  def('', 'v1', 'ServiceAccount', 'serviceaccounts', { short: ['sa'], sub: ['token'] }),
  def('', 'v1', 'Service', 'services', { short: ['svc'], categories: ['all'], verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'], sub: ['status', 'proxy'] }),
  def('apps', 'v1', 'ControllerRevision', 'controllerrevisions'),
  def('apps', 'v1', 'DaemonSet', 'daemonsets', { short: ['ds'], categories: ['all'], sub: ['status'] }),
  def('apps', 'v1', 'Deployment', 'deployments', { short: ['deploy'], categories: ['all'], sub: ['status', 'scale'] }),
  def('apps', 'v1', 'ReplicaSet', 'replicasets', { short: ['rs'], categories: ['all'], sub: ['status', 'scale'] }),
  def('apps', 'v1', 'StatefulSet', 'statefulsets', { short: ['sts'], categories: ['all'], sub: ['status', 'scale'] }),
  def('authentication.k8s.io', 'v1', 'SelfSubjectReview', 'selfsubjectreviews', { namespaced: false, verbs: ['create'] }),
  def('authentication.k8s.io', 'v1', 'TokenReview', 'tokenreviews', { namespaced: false, verbs: ['create'] }),
  def('authorization.k8s.io', 'v1', 'LocalSubjectAccessReview', 'localsubjectaccessreviews', { verbs: ['create'] }),
  def('authorization.k8s.io', 'v1', 'SelfSubjectAccessReview', 'selfsubjectaccessreviews', { namespaced: false, verbs: ['create'] }),
  def('authorization.k8s.io', 'v1', 'SelfSubjectRulesReview', 'selfsubjectrulesreviews', { namespaced: false, verbs: ['create'] }),
  def('authorization.k8s.io', 'v1', 'SubjectAccessReview', 'subjectaccessreviews', { namespaced: false, verbs: ['create'] }),
  def('autoscaling', 'v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', { short: ['hpa'], categories: ['all'], sub: ['status'] }),
  def('autoscaling', 'v1', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', { short: ['hpa'], categories: ['all'], sub: ['status'] }),
  def('batch', 'v1', 'CronJob', 'cronjobs', { short: ['cj'], categories: ['all'], sub: ['status'] }),
  def('batch', 'v1', 'Job', 'jobs', { categories: ['all'], sub: ['status'] }),
  def('certificates.k8s.io', 'v1', 'CertificateSigningRequest', 'certificatesigningrequests', { short: ['csr'], namespaced: false, sub: ['status', 'approval'] }),
  def('coordination.k8s.io', 'v1', 'Lease', 'leases'),
  def('discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices'),
  def('events.k8s.io', 'v1', 'Event', 'events', { short: ['ev'], storage: 'events' }),
  def('networking.k8s.io', 'v1', 'IngressClass', 'ingressclasses', { namespaced: false }),
  def('networking.k8s.io', 'v1', 'Ingress', 'ingresses', { short: ['ing'], sub: ['status'] }),
  def('networking.k8s.io', 'v1', 'NetworkPolicy', 'networkpolicies', { short: ['netpol'] }),
  def('policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets', { short: ['pdb'], sub: ['status'] }),
  def('rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', { namespaced: false }),
  def('rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', { namespaced: false }),
  def('rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings'),
  def('rbac.authorization.k8s.io', 'v1', 'Role', 'roles'),
  def('scheduling.k8s.io', 'v1', 'PriorityClass', 'priorityclasses', { short: ['pc'], namespaced: false }),
  def('storage.k8s.io', 'v1', 'StorageClass', 'storageclasses', { short: ['sc'], namespaced: false }),
];

/** Group versions in the order discovery lists them; the first version of a group is its preferred one. */
export function groupVersions(): Array<{ group: string; versions: string[] }> {
  const out: Array<{ group: string; versions: string[] }> = [];
  for (const r of RESOURCES) {
    let g = out.find((x) => x.group === r.group);
    if (!g) {
      g = { group: r.group, versions: [] };
      out.push(g);
    }
    if (!g.versions.includes(r.version)) g.versions.push(r.version);
  }
  return out;
}

/** RESOURCES by group, version and resource: every request looks its resource up. */
const byName = new Map(RESOURCES.map((r) => [`${r.group}/${r.version}/${r.resource}`, r]));

export function findResource(group: string, version: string, resource: string): ResourceDef | undefined {
  return byName.get(`${group}/${version}/${resource}`);
}

export function apiVersionOf(r: Pick<ResourceDef, 'group' | 'version'>): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/** The store prefix for a resource's objects, as upstream lays out /registry. */
export function storagePrefix(r: ResourceDef): string {
  return `/registry/${r.storageResource ?? (r.group && !['apps', 'batch', 'autoscaling', 'policy'].includes(r.group) ? `${r.group}/${r.resource}` : r.resource)}/`;
}
