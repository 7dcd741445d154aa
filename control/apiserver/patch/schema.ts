// Patch metadata for strategic merge patch: which lists merge (and by which key), which maps are replaced or keep
// only listed keys. Upstream reads it from the Go struct tags `patchStrategy:"merge" patchMergeKey:"name"`; this is
// the same information as data, for the kinds Skiff serves (k8s.io/api at 1.32).
//
// Only fields that matter are listed: a field with a strategy, or one on the way to such a field. A field that is
// not listed behaves as an untagged one upstream: objects merge key by key, lists are replaced whole.

export type PatchStrategy = 'merge' | 'replace' | 'retainKeys' | 'merge,retainKeys';

export interface PatchFieldSchema {
  /** Type of the value (object field), of each element (list field) or of each value (map field, see `map`). */
  type?: string;
  /** The field is a map[string]<type>: every value is of `type`. */
  map?: boolean;
  /** For lists: patchStrategy/patchMergeKey tags. A list without `strategy: 'merge'` is replaced whole. */
  list?: { mergeKey?: string; strategy?: PatchStrategy };
  /** For object fields: 'replace' sends/applies the whole object, 'retainKeys' clears members the patch omits. */
  strategy?: PatchStrategy;
}

export interface PatchTypeSchema {
  fields: Record<string, PatchFieldSchema>;
}

export type PatchSchema = Record<string, PatchTypeSchema>;

/** What a lookup of one field answers: the type to recurse with, the strategy and the merge key. */
export interface PatchMeta {
  type?: string;
  strategy?: string;
  mergeKey?: string;
}

/** The patch metadata of field `key` of a value of type `typeName` (undefined: an untyped value). */
export function lookupPatchMeta(schema: PatchSchema, typeName: string | undefined, key: string): PatchMeta {
  if (typeName === undefined) return {};
  const t = schema[typeName];
  if (!t) return {};
  const f = t.fields[key];
  if (!f) return {};
  const meta: PatchMeta = {};
  if (f.map) {
    if (f.type) meta.type = `map:${f.type}`;
  } else if (f.type) {
    meta.type = f.type;
  }
  const strategy = f.list?.strategy ?? f.strategy;
  if (strategy) meta.strategy = strategy;
  if (f.list?.mergeKey) meta.mergeKey = f.list.mergeKey;
  return meta;
}

/** A map[string]T value: any key looks up as a value of type T with no strategy. */
export function lookupMapValue(typeName: string | undefined): string | undefined {
  return typeName?.startsWith('map:') ? typeName.slice(4) : undefined;
}

// --- the table -------------------------------------------------------------------------------------------------

const merge = (mergeKey: string, type?: string): PatchFieldSchema => ({ ...(type ? { type } : {}), list: { strategy: 'merge', mergeKey } });
const mergeRetain = (mergeKey: string, type?: string): PatchFieldSchema => ({
  ...(type ? { type } : {}),
  list: { strategy: 'merge,retainKeys', mergeKey },
});
/** A list of scalars merged as a set (e.g. finalizers). */
const mergeSet: PatchFieldSchema = { list: { strategy: 'merge' } };
const obj = (type: string): PatchFieldSchema => ({ type });
const conditions = merge('type');

/** Objects with only ObjectMeta to speak of. */
const withMeta = (extra: Record<string, PatchFieldSchema> = {}): PatchTypeSchema => ({
  fields: { metadata: obj('ObjectMeta'), ...extra },
});

export const K8S_PATCH_SCHEMA: PatchSchema = {
  // meta/v1
  ObjectMeta: {
    fields: {
      ownerReferences: merge('uid'),
      finalizers: mergeSet,
    },
  },

  // core/v1 pod machinery
  Pod: withMeta({ spec: obj('PodSpec'), status: obj('PodStatus') }),
  PodTemplate: withMeta({ template: obj('PodTemplateSpec') }),
  PodTemplateSpec: withMeta({ spec: obj('PodSpec') }),
  PodSpec: {
    fields: {
      volumes: mergeRetain('name', 'Volume'),
      initContainers: merge('name', 'Container'),
      containers: merge('name', 'Container'),
      ephemeralContainers: merge('name', 'Container'),
      imagePullSecrets: merge('name'),
      hostAliases: merge('ip'),
      topologySpreadConstraints: merge('topologyKey'),
      schedulingGates: merge('name'),
      resourceClaims: mergeRetain('name'),
      // tolerations, readinessGates: no patch tags upstream, replaced whole.
    },
  },
  Container: {
    fields: {
      ports: merge('containerPort'),
      env: merge('name'),
      volumeMounts: merge('mountPath'),
      volumeDevices: merge('devicePath'),
      // args, command, envFrom, resizePolicy: replaced whole.
    },
  },
  // Volume's inline VolumeSource is tagged retainKeys; that only shapes the patches kubectl computes.
  Volume: { fields: {} },
  PodStatus: {
    fields: {
      conditions,
      podIPs: merge('ip'),
      hostIPs: merge('ip'),
      resourceClaimStatuses: mergeRetain('name'),
    },
  },

  // core/v1 others
  ReplicationController: withMeta({ spec: obj('ReplicationControllerSpec'), status: obj('ReplicationControllerStatus') }),
  ReplicationControllerSpec: { fields: { template: obj('PodTemplateSpec') } },
  ReplicationControllerStatus: { fields: { conditions } },
  Service: withMeta({ spec: obj('ServiceSpec'), status: obj('ServiceStatus') }),
  ServiceSpec: { fields: { ports: merge('port') } },
  ServiceStatus: { fields: { conditions } },
  Endpoints: withMeta(), // subsets: no patch tags, replaced whole
  Node: withMeta({ spec: obj('NodeSpec'), status: obj('NodeStatus') }),
  NodeSpec: { fields: { podCIDRs: mergeSet } }, // taints: no patch tags, replaced whole
  NodeStatus: { fields: { conditions, addresses: merge('type') } },
  Namespace: withMeta({ status: obj('NamespaceStatus') }),
  NamespaceStatus: { fields: { conditions } },
  PersistentVolumeClaim: withMeta({ status: obj('PersistentVolumeClaimStatus') }),
  PersistentVolumeClaimStatus: { fields: { conditions } },
  ServiceAccount: withMeta({ secrets: merge('name') }),
  ConfigMap: withMeta(),
  Secret: withMeta(),
  Event: withMeta(),
  LimitRange: withMeta(),
  ResourceQuota: withMeta(),
  PersistentVolume: withMeta(),
  Binding: withMeta(),

  // apps/v1
  Deployment: withMeta({ spec: obj('DeploymentSpec'), status: obj('WorkloadStatus') }),
  DeploymentSpec: { fields: { template: obj('PodTemplateSpec'), strategy: { strategy: 'retainKeys' } } },
  ReplicaSet: withMeta({ spec: obj('ReplicaSetSpec'), status: obj('WorkloadStatus') }),
  ReplicaSetSpec: { fields: { template: obj('PodTemplateSpec') } },
  StatefulSet: withMeta({ spec: obj('StatefulSetSpec'), status: obj('WorkloadStatus') }),
  StatefulSetSpec: { fields: { template: obj('PodTemplateSpec') } }, // volumeClaimTemplates: replaced whole
  DaemonSet: withMeta({ spec: obj('DaemonSetSpec'), status: obj('WorkloadStatus') }),
  DaemonSetSpec: { fields: { template: obj('PodTemplateSpec') } },
  /** Deployment/ReplicaSet/StatefulSet/DaemonSet status: conditions merge by type. */
  WorkloadStatus: { fields: { conditions } },
  ControllerRevision: withMeta(),

  // batch/v1
  Job: withMeta({ spec: obj('JobSpec'), status: obj('JobStatus') }),
  JobSpec: { fields: { template: obj('PodTemplateSpec') } },
  JobStatus: { fields: { conditions } },
  CronJob: withMeta({ spec: obj('CronJobSpec') }),
  CronJobSpec: { fields: { jobTemplate: obj('JobTemplateSpec') } },
  JobTemplateSpec: withMeta({ spec: obj('JobSpec') }),

  // autoscaling
  HorizontalPodAutoscaler: withMeta({ status: obj('HorizontalPodAutoscalerStatus') }),
  HorizontalPodAutoscalerStatus: { fields: { conditions } },
  Scale: withMeta(),

  // policy/v1
  PodDisruptionBudget: withMeta({ status: obj('PodDisruptionBudgetStatus') }),
  PodDisruptionBudgetStatus: { fields: { conditions } },

  // no patch tags beyond ObjectMeta
  CertificateSigningRequest: withMeta(),
  Lease: withMeta(),
  EndpointSlice: withMeta(),
  ClusterRole: withMeta(),
  ClusterRoleBinding: withMeta(),
  Role: withMeta(),
  RoleBinding: withMeta(),
  PriorityClass: withMeta(),
  // storage.k8s.io/v1: mountOptions and allowedTopologies are atomic lists.
  StorageClass: withMeta(),
  // networking.k8s.io/v1: every list is atomic (listType=atomic, no patch tags), replaced whole.
  Ingress: withMeta(),
  IngressClass: withMeta(),
  NetworkPolicy: withMeta(),
};

/** group/version/kind → root type in K8S_PATCH_SCHEMA, for every built-in kind Skiff serves. */
const ROOTS: Record<string, string> = {
  'v1/Binding': 'Binding',
  'v1/ConfigMap': 'ConfigMap',
  'v1/Endpoints': 'Endpoints',
  'v1/Event': 'Event',
  'v1/LimitRange': 'LimitRange',
  'v1/Namespace': 'Namespace',
  'v1/Node': 'Node',
  'v1/PersistentVolumeClaim': 'PersistentVolumeClaim',
  'v1/PersistentVolume': 'PersistentVolume',
  'v1/Pod': 'Pod',
  'v1/PodTemplate': 'PodTemplate',
  'v1/ReplicationController': 'ReplicationController',
  'v1/ResourceQuota': 'ResourceQuota',
  'v1/Secret': 'Secret',
  'v1/ServiceAccount': 'ServiceAccount',
  'v1/Service': 'Service',
  'apps/v1/ControllerRevision': 'ControllerRevision',
  'apps/v1/DaemonSet': 'DaemonSet',
  'apps/v1/Deployment': 'Deployment',
  'apps/v1/ReplicaSet': 'ReplicaSet',
  'apps/v1/StatefulSet': 'StatefulSet',
  'autoscaling/v1/Scale': 'Scale',
  'autoscaling/v1/HorizontalPodAutoscaler': 'HorizontalPodAutoscaler',
  'autoscaling/v2/HorizontalPodAutoscaler': 'HorizontalPodAutoscaler',
  'batch/v1/CronJob': 'CronJob',
  'batch/v1/Job': 'Job',
  'certificates.k8s.io/v1/CertificateSigningRequest': 'CertificateSigningRequest',
  'coordination.k8s.io/v1/Lease': 'Lease',
  'discovery.k8s.io/v1/EndpointSlice': 'EndpointSlice',
  'events.k8s.io/v1/Event': 'Event',
  'policy/v1/PodDisruptionBudget': 'PodDisruptionBudget',
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': 'ClusterRoleBinding',
  'rbac.authorization.k8s.io/v1/ClusterRole': 'ClusterRole',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'RoleBinding',
  'rbac.authorization.k8s.io/v1/Role': 'Role',
  'networking.k8s.io/v1/Ingress': 'Ingress',
  'networking.k8s.io/v1/IngressClass': 'IngressClass',
  'networking.k8s.io/v1/NetworkPolicy': 'NetworkPolicy',
  'scheduling.k8s.io/v1/PriorityClass': 'PriorityClass',
  'storage.k8s.io/v1/StorageClass': 'StorageClass',
};

/**
 * The root type of a built-in kind in K8S_PATCH_SCHEMA, or undefined for a kind without one (custom resources):
 * upstream refuses strategic merge patches for those with 415 (see UnsupportedPatchTypeError).
 */
export function schemaForKind(group: string, version: string, kind: string): string | undefined {
  return ROOTS[`${group ? `${group}/` : ''}${version}/${kind}`];
}
