/**
 * What `kubectl explain` shows for the main kinds and fields, in Skiff's own words: the OpenAPI schemas come from the
 * zod schemas, which carry no prose, so descriptions are attached here by field path ("spec.containers[].image").
 */

type Json = Record<string, unknown>;

export const KIND_DESCRIPTIONS: Record<string, string> = {
  Pod: 'A Pod is a group of containers that share a network namespace and volumes and are scheduled together onto one node. It is the smallest unit the cluster runs.',
  Service: 'A Service gives a set of pods, chosen by a label selector, one stable virtual address and name, and spreads connections over them.',
  Endpoints: 'Endpoints list the addresses and ports that currently back a Service.',
  ComponentStatus: 'A ComponentStatus reports whether one control-plane component (scheduler, controller manager, a store server) passed its health check. Deprecated upstream since v1.19; /livez and /readyz say more.',
  ConfigMap: 'A ConfigMap holds non-confidential configuration as key/value pairs that pods consume as environment variables, command-line arguments or files in a volume.',
  Secret: 'A Secret holds a small amount of sensitive data, such as a password, a token or a key, for pods to consume as files or environment variables.',
  Namespace: 'A Namespace is a scope for names: most objects live in exactly one, and deleting it deletes everything in it.',
  Node: 'A Node is a machine that runs pods; its agent keeps the node status (capacity, conditions, addresses) up to date.',
  ServiceAccount: 'A ServiceAccount is an identity for processes that run in pods, used when they talk to the API server.',
  ResourceQuota: 'A ResourceQuota caps the total resources (counts of objects, CPU, memory, storage) that objects in one namespace may use.',
  LimitRange: 'A LimitRange sets default requests and limits for containers in a namespace and bounds what a single container, pod or claim may ask for.',
  PersistentVolumeClaim: 'A PersistentVolumeClaim is a request for storage by a user, bound to a PersistentVolume that satisfies it.',
  ReplicationController: 'A ReplicationController keeps a given number of copies of a pod running. Deployments with ReplicaSets replace it.',
  Event: 'An Event reports something that happened to an object, such as a pod being scheduled or a container failing to start.',
  Deployment: 'A Deployment declares the desired state of a set of identical pods and rolls changes out to it through ReplicaSets, step by step and reversibly.',
  ReplicaSet: 'A ReplicaSet keeps a given number of pods that match its selector running, creating or deleting pods from its template.',
  StatefulSet: 'A StatefulSet runs pods with stable names, ordinal indexes and storage, created and updated in order.',
  DaemonSet: 'A DaemonSet runs one copy of a pod on every node (or every node a selector picks).',
  ControllerRevision: 'A ControllerRevision is an immutable snapshot of state that StatefulSet and DaemonSet controllers use for updates and rollbacks.',
  Job: 'A Job runs pods until a given number of them finish successfully, retrying failures up to a back-off limit.',
  CronJob: 'A CronJob creates Jobs on a repeating schedule written in cron syntax.',
  HorizontalPodAutoscaler: 'A HorizontalPodAutoscaler changes the replica count of a scalable workload so that observed metrics, such as average CPU utilization, stay near their targets.',
  PodDisruptionBudget: 'A PodDisruptionBudget limits how many pods of a set may be down at once through voluntary disruptions such as evictions.',
  PriorityClass: 'A PriorityClass maps a name to an integer priority that pods refer to by priorityClassName; higher-priority pods are scheduled first and may preempt lower ones.',
  StorageClass: 'A StorageClass describes a kind of storage that PersistentVolumes can be dynamically provisioned from: the provisioner that creates the volumes, its parameters and the policies the volumes get. The storageclass.kubernetes.io/is-default-class annotation makes it the class of new claims that name none. Cluster-scoped.',
  Lease: 'A Lease is a lightweight record of who holds something and until when, used for node heartbeats and leader election.',
  EndpointSlice: 'An EndpointSlice holds a subset of the endpoints that back a Service, so large services need not be described in one object.',
  Role: 'A Role is a set of permissions (verbs on resources) within one namespace.',
  ClusterRole: 'A ClusterRole is a set of permissions that applies cluster-wide or, through a RoleBinding, within a namespace.',
  RoleBinding: 'A RoleBinding grants the permissions of a Role or ClusterRole to users, groups or service accounts within one namespace.',
  ClusterRoleBinding: 'A ClusterRoleBinding grants the permissions of a ClusterRole to users, groups or service accounts across the whole cluster.',
  CertificateSigningRequest: 'A CertificateSigningRequest asks a signer to issue an X.509 certificate for a key; it is approved or denied before it is signed.',
  Ingress: 'An Ingress routes HTTP and HTTPS traffic from outside the cluster to services, by host name and URL path. An ingress controller of its class puts the rules into effect.',
  IngressClass: 'An IngressClass names the controller that implements Ingresses of this class, with optional parameters for it. The ingressclass.kubernetes.io/is-default-class annotation makes it the class of new Ingresses that name none.',
  NetworkPolicy: 'A NetworkPolicy says which traffic the pods it selects may receive (ingress) and send (egress), by peer pods, namespaces or IP blocks and by port. A network plugin that supports policies puts it into effect; Skiff stores it but enforces nothing.',
};

const COMMON: Record<string, string> = {
  apiVersion: 'The versioned schema of this representation of the object (group/version). Servers convert recognised schemas to their latest internal value.',
  kind: 'The REST resource this object represents, in CamelCase. Servers infer it from the endpoint the client submits the request to.',
  metadata: "Standard object metadata: name, namespace, labels, annotations and the fields the server maintains.",
  spec: 'The desired state of the object, as its owner declares it.',
  status: 'The most recently observed state of the object, maintained by the system. Read-only for clients.',
  'metadata.name': 'The name of the object, unique within its namespace (or the cluster, for cluster-scoped kinds). Cannot be changed.',
  'metadata.generateName': 'A prefix the server uses to generate a unique name when no name is given: the prefix plus a random suffix.',
  'metadata.namespace': 'The namespace the object lives in. An empty namespace means "default" for namespaced kinds.',
  'metadata.uid': 'A value unique across time and space for this object, set by the server when it is created.',
  'metadata.resourceVersion': 'An opaque value that changes whenever the object changes; clients pass it back for optimistic concurrency and to watch from a point.',
  'metadata.generation': 'A sequence number of the desired state: it grows when the spec changes.',
  'metadata.creationTimestamp': 'When the server created the object (RFC 3339, UTC).',
  'metadata.deletionTimestamp': 'When the object will be deleted: set when a graceful deletion is asked for, after which the object is read-only.',
  'metadata.deletionGracePeriodSeconds': 'How many seconds the object has to terminate gracefully before it is removed.',
  'metadata.labels': 'Key/value pairs used to organize and select objects (by label selectors in services, replica sets and queries).',
  'metadata.annotations': 'Arbitrary key/value data stored with the object for tools and people; not used for selection.',
  'metadata.ownerReferences': 'The objects this one depends on. When every owner is gone the garbage collector deletes this object; the one owner marked controller manages it.',
  'metadata.finalizers': 'Names that must each be removed before the object is deleted from storage, so that controllers can clean up first.',
};

const POD_SPEC: Record<string, string> = {
  containers: 'The containers of the pod. There must be at least one; they cannot be added or removed once the pod exists.',
  initContainers: 'Containers run one after another, each to completion, before the app containers start. A failing one is retried according to restartPolicy.',
  ephemeralContainers: 'Containers added to the running pod for debugging (kubectl debug), through the pods/ephemeralcontainers subresource only. They are never restarted, may not be changed or removed once added, and have no ports, probes, lifecycle hooks or resources.',
  volumes: 'Volumes the containers of this pod can mount.',
  restartPolicy: 'When the containers of the pod are restarted after they exit: Always (the default), OnFailure or Never.',
  terminationGracePeriodSeconds: 'Seconds between the termination signal sent to the containers and their forced kill. Defaults to 30.',
  activeDeadlineSeconds: 'Seconds the pod may be active, counted from its start, before the system fails it. Can only be shortened.',
  dnsPolicy: 'How the pod resolves names: ClusterFirst (the default), ClusterFirstWithHostNet, Default or None.',
  nodeSelector: 'Labels a node must have for the pod to be scheduled on it.',
  serviceAccountName: 'The service account the pod runs as; "default" when not set.',
  serviceAccount: 'Deprecated alias of serviceAccountName.',
  automountServiceAccountToken: "Whether a token for the pod's service account is mounted into its containers. Overrides the service account's own setting.",
  nodeName: 'The node the pod is bound to. The scheduler sets it; setting it yourself skips scheduling.',
  hostNetwork: "Use the node's network namespace: the pod's ports are the node's ports.",
  securityContext: 'Security settings (user and group IDs, filesystem group, sysctls, seccomp) for every container of the pod.',
  imagePullSecrets: 'Secrets in the same namespace used to pull the images of the pod from private registries.',
  hostname: "The pod's hostname; the pod name when not set.",
  subdomain: 'Makes the pod reachable as <hostname>.<subdomain>.<namespace>.svc when a headless service of that name exists.',
  affinity: 'Scheduling constraints that attract the pod to nodes, or to or away from other pods.',
  schedulerName: 'The scheduler that places the pod; the default scheduler when not set.',
  tolerations: 'Taints of nodes this pod tolerates. Tolerations can be added to a running pod but not changed.',
  priorityClassName: 'The PriorityClass whose value becomes the priority of the pod; the global default class when not set.',
  priority: 'The priority of the pod, filled in from priorityClassName when the pod is created. Cannot be set directly.',
  preemptionPolicy: 'Whether the pod may preempt lower-priority pods: PreemptLowerPriority or Never. Taken from its PriorityClass.',
  enableServiceLinks: 'Whether the environment of the containers gets variables describing the services in the namespace. Defaults to true.',
};

const CONTAINER: Record<string, string> = {
  name: 'The name of the container, unique within the pod (a DNS label).',
  image: 'The container image to run. The only container field that can change in a running pod.',
  command: "The entrypoint: replaces the image's ENTRYPOINT. $(VAR) references to the container's environment are expanded.",
  args: "Arguments to the entrypoint: replace the image's CMD. $(VAR) references are expanded.",
  workingDir: "The working directory of the container; the image's when not set.",
  ports: 'Ports the container listens on. Informational, except for hostPort.',
  env: 'Environment variables set in the container, from values or from fields, resources, ConfigMaps and Secrets.',
  envFrom: 'ConfigMaps and Secrets whose every key becomes an environment variable of the container.',
  resources: 'The compute resources the container requests (what the scheduler reserves) and the limits it may not exceed.',
  volumeMounts: "Volumes of the pod mounted into the container's filesystem.",
  livenessProbe: 'A periodic check of the container; the container is restarted when it fails.',
  readinessProbe: 'A periodic check of whether the container can serve; a pod that is not ready receives no traffic from services.',
  startupProbe: 'A check that must succeed once before the liveness and readiness probes start, for containers that start slowly.',
  lifecycle: 'Actions run right after the container starts and right before it is stopped.',
  imagePullPolicy: 'When the image is pulled: Always, IfNotPresent or Never. Always for the :latest tag, IfNotPresent otherwise.',
  securityContext: 'Security settings of this container, overriding those of the pod.',
  stdin: 'Whether the container keeps a stdin buffer open for attached clients.',
  tty: 'Whether the container gets a TTY.',
};

const TEMPLATE: Record<string, string> = {
  replicas: 'The number of pods wanted. Defaults to 1.',
  selector: 'A label query over the pods this object manages; it must match the labels of the template.',
  template: 'The pod template: the metadata and spec of the pods created from this object.',
  'template.metadata': 'Labels and annotations the created pods get.',
  'template.spec': 'The spec of the created pods.',
  minReadySeconds: 'Seconds a new pod must be ready, with no container crashing, before it counts as available.',
  revisionHistoryLimit: 'How many old revisions are kept for rollback.',
};

const BY_KIND: Record<string, Record<string, string>> = {
  Deployment: {
    strategy: 'How old pods are replaced by new ones: RollingUpdate (the default) or Recreate.',
    paused: 'Whether the rollout is paused: changes to the template do not start a rollout while it is.',
    progressDeadlineSeconds: 'Seconds a rollout may make no progress before it is reported as failed (ProgressDeadlineExceeded). Defaults to 600.',
  },
  Service: {
    type: 'How the service is exposed: ClusterIP (the default), NodePort, LoadBalancer or ExternalName.',
    selector: 'Pods with these labels back the service. Without a selector, endpoints are managed by hand.',
    ports: 'The ports the service exposes.',
    'ports[].port': 'The port the service listens on.',
    'ports[].targetPort': 'The port (number or container port name) on the pods that traffic goes to. Defaults to port.',
    'ports[].nodePort': 'The port on every node that forwards to the service, for NodePort and LoadBalancer services. Allocated when not set.',
    'ports[].protocol': 'TCP (the default), UDP or SCTP.',
    'ports[].name': 'The name of the port, unique within the service. Required when there is more than one port.',
    clusterIP: 'The virtual IP of the service, allocated from the service range when not set; "None" makes a headless service. Cannot be changed.',
    clusterIPs: 'The virtual IPs of the service, one per IP family; the first is clusterIP.',
    sessionAffinity: 'ClientIP keeps each client on the same pod; None (the default) does not.',
    externalTrafficPolicy: 'Whether traffic from outside the cluster may go to pods on other nodes (Cluster) or only to pods on the node it arrived at (Local).',
  },
  ConfigMap: {
    data: 'UTF-8 configuration values by key.',
    binaryData: 'Binary values by key, base64-encoded.',
    immutable: 'When true, the data can no longer be changed, only the object deleted.',
  },
  Secret: {
    data: 'Secret values by key, base64-encoded.',
    stringData: 'Write-only convenience: plain-text values merged into data when the object is written.',
    type: 'What the secret holds, which decides the keys it must have (Opaque, kubernetes.io/tls, kubernetes.io/dockerconfigjson, ...).',
    immutable: 'When true, the data can no longer be changed, only the object deleted.',
  },
  ResourceQuota: {
    'spec.hard': 'The limit for each named resource (pods, requests.cpu, count/deployments.apps, ...).',
    'spec.scopes': 'Only objects in all these scopes (Terminating, NotTerminating, BestEffort, NotBestEffort, PriorityClass, ...) count.',
    'spec.scopeSelector': 'Only objects matching these scope expressions count.',
    'status.hard': 'The limits currently enforced.',
    'status.used': 'What objects in the namespace currently use of each limited resource.',
  },
  LimitRange: {
    'spec.limits': 'The limits, one item per kind of object (Container, Pod, PersistentVolumeClaim).',
    'spec.limits[].type': 'What the item limits: Container, Pod or PersistentVolumeClaim.',
    'spec.limits[].min': 'The least each resource may be requested.',
    'spec.limits[].max': 'The most each resource may be limited to.',
    'spec.limits[].default': 'The limits given to containers that set none.',
    'spec.limits[].defaultRequest': 'The requests given to containers that set none.',
    'spec.limits[].maxLimitRequestRatio': 'The largest limit-to-request ratio allowed for each resource.',
  },
  PriorityClass: {
    value: 'The priority of pods of this class. Values above one billion are reserved for system classes.',
    globalDefault: 'Whether pods without a priorityClassName get this class. Only one class may be the global default.',
    description: 'What the class is for.',
    preemptionPolicy: 'Whether pods of this class may preempt lower-priority pods: PreemptLowerPriority (the default) or Never.',
  },
  StorageClass: {
    provisioner: 'The volume plugin or external provisioner that creates volumes of this class, such as "ebs.csi.aws.com". Required; cannot be changed.',
    parameters: 'Settings passed to the provisioner when it creates a volume; what they mean is up to it. At most 512 of them, 256 KiB in all. Cannot be changed.',
    reclaimPolicy: 'What happens to a volume of this class once its claim is deleted: Delete (the default) or Retain. Cannot be changed.',
    mountOptions: 'Mount options given to volumes of this class, such as "ro" or "soft". Not checked: a bad option makes the mount fail.',
    allowVolumeExpansion: 'Whether claims of this class may be resized by raising their storage request.',
    volumeBindingMode: 'When claims are bound and volumes provisioned: Immediate (the default) or WaitForFirstConsumer, which waits for a pod that uses the claim to be scheduled. Cannot be changed.',
    allowedTopologies: 'Where volumes of this class may be provisioned, as terms over node labels; any term may match. Everywhere when empty.',
    'allowedTopologies[].matchLabelExpressions': 'Label requirements that must all hold.',
    'allowedTopologies[].matchLabelExpressions[].key': 'The label key the requirement applies to.',
    'allowedTopologies[].matchLabelExpressions[].values': 'The values the label may have; at least one.',
  },
  Ingress: {
    'spec.ingressClassName': 'The IngressClass whose controller implements this Ingress. The default class, when one is marked, if not set.',
    'spec.defaultBackend': 'Where requests that match no rule go. Required when there are no rules.',
    'spec.rules': 'Host rules: requests are matched by host first, then by path, and sent to the backend of the path that matches. Requests that match no rule go to the default backend.',
    'spec.rules[].host': 'The host name the rule applies to: a DNS name, not an IP, optionally with a leading "*." wildcard label. Every host when not set.',
    'spec.rules[].http': 'HTTP paths of the rule and the backends they lead to.',
    'spec.rules[].http.paths': 'Paths matched against the request path, each with its backend.',
    'spec.rules[].http.paths[].path': 'The path to match; it starts with "/". Required for the Exact and Prefix path types.',
    'spec.rules[].http.paths[].pathType': 'How the path is matched: Exact (the whole path), Prefix (path elements split by "/") or ImplementationSpecific (as the controller decides).',
    'spec.rules[].http.paths[].backend': 'Where matching requests go: a service (by name, and port number or name) or another resource, not both.',
    'spec.tls': 'TLS configuration: the hosts a certificate covers and the Secret that holds it. TLS traffic is served on port 443.',
    'spec.tls[].hosts': 'The hosts the certificate covers; they should match hosts of the rules.',
    'spec.tls[].secretName': 'The Secret with the certificate and key that terminate TLS for these hosts.',
    'status.loadBalancer': 'The addresses the ingress controller serves the Ingress on.',
  },
  IngressClass: {
    'spec.controller': 'The controller that implements Ingresses of this class, as a domain-prefixed path such as "example.com/ingress-controller". Cannot be changed.',
    'spec.parameters': 'A reference to an object that holds further configuration for the controller.',
    'spec.parameters.scope': 'Whether the referenced object is cluster-scoped (Cluster, the default) or namespaced (Namespace, which needs namespace).',
  },
  NetworkPolicy: {
    'spec.podSelector': 'The pods of this namespace the policy applies to, by label. An empty selector selects every pod in the namespace.',
    'spec.ingress': 'Rules for traffic into the selected pods: a connection is allowed when some rule matches both its source and its port. With Ingress among the policy types and no rules, no traffic comes in.',
    'spec.ingress[].from': 'The sources this rule allows; any of them matches. Every source when empty or not set.',
    'spec.ingress[].ports': 'The destination ports this rule allows; any of them matches. Every port when empty or not set.',
    'spec.egress': 'Rules for traffic out of the selected pods: a connection is allowed when some rule matches both its destination and its port. With Egress among the policy types and no rules, no traffic goes out.',
    'spec.egress[].to': 'The destinations this rule allows; any of them matches. Every destination when empty or not set.',
    'spec.egress[].ports': 'The destination ports this rule allows; any of them matches. Every port when empty or not set.',
    'spec.ingress[].from[].podSelector': 'Pods, by label, in the namespaces the namespaceSelector picks, or in the policy\'s own namespace without one.',
    'spec.ingress[].from[].namespaceSelector': 'Namespaces, by label, whose pods (those the podSelector picks, or all of them) are peers.',
    'spec.ingress[].from[].ipBlock': 'An IP range (cidr) less the ranges in except. Cannot be combined with a selector in the same peer.',
    'spec.egress[].to[].podSelector': 'Pods, by label, in the namespaces the namespaceSelector picks, or in the policy\'s own namespace without one.',
    'spec.egress[].to[].namespaceSelector': 'Namespaces, by label, whose pods (those the podSelector picks, or all of them) are peers.',
    'spec.egress[].to[].ipBlock': 'An IP range (cidr) less the ranges in except. Cannot be combined with a selector in the same peer.',
    'spec.ingress[].ports[].protocol': 'TCP (the default), UDP or SCTP.',
    'spec.ingress[].ports[].port': 'A port number or a named container port. Every port of the protocol when not set.',
    'spec.ingress[].ports[].endPort': 'With a numeric port, the last port of the range that starts at port.',
    'spec.egress[].ports[].protocol': 'TCP (the default), UDP or SCTP.',
    'spec.egress[].ports[].port': 'A port number or a named container port. Every port of the protocol when not set.',
    'spec.egress[].ports[].endPort': 'With a numeric port, the last port of the range that starts at port.',
    'spec.policyTypes': 'Which directions the policy governs: Ingress, Egress or both. Defaults to Ingress, plus Egress when the policy has egress rules.',
  },
  HorizontalPodAutoscaler: {
    'spec.scaleTargetRef': 'The workload whose replica count is managed.',
    'spec.minReplicas': 'The fewest replicas the autoscaler scales down to. Defaults to 1.',
    'spec.maxReplicas': 'The most replicas the autoscaler scales up to.',
    'spec.metrics': 'The metrics and targets that decide the replica count; average CPU utilization of 80% when not set.',
    'spec.targetCPUUtilizationPercentage': 'The average CPU utilization, as a percentage of requested CPU, to keep the pods near.',
    'spec.behavior': 'How fast the autoscaler may scale up and down.',
  },
};

/** Attaches `description` to the schema at `path` (dotted; `[]` steps into array items), when present. */
function describeAt(schema: Json, path: string, description: string): void {
  let cur: Json | undefined = schema;
  for (const step of path.split('.')) {
    const name = step.endsWith('[]') ? step.slice(0, -2) : step;
    const props = cur?.properties as Record<string, Json> | undefined;
    cur = props?.[name];
    if (cur && step.endsWith('[]')) cur = cur.items as Json | undefined;
    if (!cur) return;
  }
  if (!cur.description) cur.description = description;
}

const WORKLOADS = ['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'ReplicationController', 'Job'];

/** Where a kind keeps its PodSpec. */
function podSpecPaths(kind: string): string[] {
  if (kind === 'Pod') return ['spec'];
  if (WORKLOADS.includes(kind)) return ['spec.template.spec'];
  if (kind === 'CronJob') return ['spec.jobTemplate.spec.template.spec'];
  return [];
}

/** The kind's OpenAPI schema with the descriptions above attached. */
export function describeSchema(kind: string, schema: Json): Json {
  for (const [path, text] of Object.entries(COMMON)) describeAt(schema, path, text);
  for (const base of podSpecPaths(kind)) {
    for (const [path, text] of Object.entries(POD_SPEC)) describeAt(schema, `${base}.${path}`, text);
    for (const list of ['containers[]', 'initContainers[]', 'ephemeralContainers[]']) for (const [path, text] of Object.entries(CONTAINER)) describeAt(schema, `${base}.${list}.${path}`, text);
    describeAt(schema, `${base}.ephemeralContainers[].targetContainerName`, 'The container of the pod whose process namespace this one joins (kubectl debug --target), so that it sees and can trace that container\'s processes. Unset: it shares what the pod\'s containers share.');
  }
  if (WORKLOADS.includes(kind)) for (const [path, text] of Object.entries(TEMPLATE)) describeAt(schema, `spec.${path}`, text);
  const own = BY_KIND[kind] ?? {};
  const specRooted = ['Deployment', 'Service'];
  for (const [path, text] of Object.entries(own)) describeAt(schema, specRooted.includes(kind) ? `spec.${path}` : path, text);
  return schema;
}
