import type { KindPrinter } from '../table.js';
import type { KubeObject } from '../../storage/object-storage.js';
import {
  ageCol,
  ageOf,
  arr,
  col,
  containersCol,
  countKeys,
  formatLabels,
  imagesCol,
  int,
  joinHostPort,
  layoutContainerCells,
  nameCol,
  nameOf,
  optStr,
  quantity,
  rec,
  recs,
  spec,
  status,
  str,
  type Obj,
} from './common.js';

/** Core-group kinds other than pods and events: nodes, namespaces, services, endpoints, config, storage, quotas. */

// ---- nodes ----

const LABEL_NODE_ROLE_PREFIX = 'node-role.kubernetes.io/';
const NODE_LABEL_ROLE = 'kubernetes.io/role';

export function findNodeRoles(labels: Record<string, string> | undefined): string[] {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(labels ?? {})) {
    if (k.startsWith(LABEL_NODE_ROLE_PREFIX)) {
      const role = k.slice(LABEL_NODE_ROLE_PREFIX.length);
      if (role.length > 0) roles.add(role);
    } else if (k === NODE_LABEL_ROLE && v !== '') {
      roles.add(v);
    }
  }
  return [...roles].sort();
}

const NODE_ADDRESSES_DOC =
  'List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/concepts/nodes/node/#addresses Note: This field is declared as mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change during the lifetime of a Node. However, there are some exceptions where this may not be possible, such as Pods that inherit a Node\'s address in its own status or consumers of the downward API (status.hostIP).';

function nodeAddress(st: Obj, type: string): string {
  const a = recs(st.addresses).find((x) => x.type === type);
  return a ? str(a.address) : '<none>';
}

export const nodePrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Status', 'string', 'The status of the node'),
    col('Roles', 'string', 'The roles of the node'),
    ageCol(),
    col('Version', 'string', 'Kubelet Version reported by the node.'),
    col('Internal-IP', 'string', NODE_ADDRESSES_DOC, 1),
    col('External-IP', 'string', NODE_ADDRESSES_DOC, 1),
    col('OS-Image', 'string', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', 1),
    col('Kernel-Version', 'string', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
    col('Container-Runtime', 'string', 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).', 1),
  ],
  cells: (o, now) => {
    const st = status(o);
    // Only the Ready condition makes the status; the last condition of a type wins, as upstream's map does.
    let ready: Obj | undefined;
    for (const c of recs(st.conditions)) if (c.type === 'Ready') ready = c;
    const parts: string[] = [];
    if (ready) parts.push(ready.status === 'True' ? 'Ready' : 'NotReady');
    if (parts.length === 0) parts.push('Unknown');
    if (spec(o).unschedulable === true) parts.push('SchedulingDisabled');
    const roles = findNodeRoles(o.metadata.labels).join(',') || '<none>';
    const info = rec(st.nodeInfo);
    return [
      nameOf(o),
      parts.join(','),
      roles,
      ageOf(o, now),
      str(info.kubeletVersion),
      nodeAddress(st, 'InternalIP'),
      nodeAddress(st, 'ExternalIP'),
      str(info.osImage) || '<unknown>',
      str(info.kernelVersion) || '<unknown>',
      str(info.containerRuntimeVersion) || '<unknown>',
    ];
  },
};

// ---- namespaces ----

export const namespacePrinter: KindPrinter = {
  columns: [nameCol(), col('Status', 'string', 'The status of the namespace'), ageCol()],
  cells: (o, now) => {
    // The namespace registry always sets a phase; fall back to what it would have set.
    const phase = str(status(o).phase) || (o.metadata.deletionTimestamp ? 'Terminating' : 'Active');
    return [nameOf(o), phase, ageOf(o, now)];
  },
};

// ---- services ----

const LOAD_BALANCER_WIDTH = 16;

function loadBalancerStatusString(lb: unknown, wide: boolean): string {
  const set = new Set<string>();
  for (const ing of recs(rec(lb).ingress)) {
    if (str(ing.ip) !== '') set.add(str(ing.ip));
    else if (str(ing.hostname) !== '') set.add(str(ing.hostname));
  }
  let r = [...set].sort().join(',');
  if (!wide && r.length > LOAD_BALANCER_WIDTH) r = `${r.slice(0, LOAD_BALANCER_WIDTH - 3)}...`;
  return r;
}

function serviceExternalIP(svcType: string, sp: Obj, st: Obj, wide: boolean): string {
  const externalIPs = arr(sp.externalIPs).map(str);
  switch (svcType) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lbIps = loadBalancerStatusString(st.loadBalancer, wide);
      if (externalIPs.length > 0) {
        const results: string[] = [];
        if (lbIps.length > 0) results.push(...lbIps.split(','));
        results.push(...externalIPs);
        return results.join(',');
      }
      return lbIps.length > 0 ? lbIps : '<pending>';
    }
    case 'ExternalName':
      return str(sp.externalName);
  }
  return '<unknown>';
}

function makePortString(ports: unknown): string {
  return recs(ports)
    .map((p) => {
      const protocol = str(p.protocol) || 'TCP';
      const nodePort = int(p.nodePort);
      return nodePort > 0 ? `${int(p.port)}:${nodePort}/${protocol}` : `${int(p.port)}/${protocol}`;
    })
    .join(',');
}

export const servicePrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Type', 'string', 'type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer. "ClusterIP" allocates a cluster-internal IP address for load-balancing to endpoints. Endpoints are determined by the selector or if that is not specified, by manual construction of an Endpoints object or EndpointSlice objects. If clusterIP is "None", no virtual IP is allocated and the endpoints are published as a set of endpoints rather than a virtual IP. "NodePort" builds on ClusterIP and allocates a port on every node which routes to the same endpoints as the clusterIP. "LoadBalancer" builds on NodePort and creates an external load-balancer (if supported in the current cloud) which routes to the same endpoints as the clusterIP. "ExternalName" aliases this service to the specified externalName. Several other fields do not apply to ExternalName services. More info: https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types'),
    col('Cluster-IP', 'string', 'clusterIP is the IP address of the service and is usually assigned randomly. If an address is specified manually, is in-range (as per system configuration), and is not in use, it will be allocated to the service; otherwise creation of the service will fail. This field may not be changed through updates unless the type field is also being changed to ExternalName (which requires this field to be blank) or the type field is being changed from ExternalName (in which case this field may optionally be specified, as describe above).  Valid values are "None", empty string (""), or a valid IP address. Setting this to "None" makes a "headless service" (no virtual IP), which is useful when direct endpoint connections are preferred and proxying is not required.  Only applies to types ClusterIP, NodePort, and LoadBalancer. If this field is specified when creating a Service of type ExternalName, creation will fail. This field will be wiped when updating a Service to type ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies'),
    col('External-IP', 'string', 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.  These IPs are not managed by Kubernetes.  The user is responsible for ensuring that traffic arrives at a node with this IP.  A common example is external load-balancers that are not part of the Kubernetes system.'),
    col('Port(s)', 'string', 'The list of ports that are exposed by this service. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies'),
    ageCol(),
    col('Selector', 'string', 'Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/', 1),
  ],
  cells: (o, now) => {
    const sp = spec(o);
    const svcType = str(sp.type) || 'ClusterIP';
    const clusterIPs = arr(sp.clusterIPs).map(str);
    let internalIP = '<none>';
    if (clusterIPs.length > 0) internalIP = clusterIPs[0] as string;
    else if (str(sp.clusterIP) !== '') internalIP = str(sp.clusterIP);
    // The server always prints the wide form: no truncation of load-balancer addresses.
    const externalIP = serviceExternalIP(svcType, sp, status(o), true);
    const ports = makePortString(sp.ports) || '<none>';
    return [nameOf(o), svcType, internalIP, externalIP, ports, ageOf(o, now), formatLabels(sp.selector)];
  },
};

// ---- endpoints ----

export function formatEndpoints(subsets: unknown): string {
  const ss = recs(subsets);
  if (ss.length === 0) return '<none>';
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const s of ss) {
    const addresses = recs(s.addresses);
    const ports = recs(s.ports);
    if (ports.length === 0) {
      // Headless services with no ports.
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(str(a.ip));
      }
      continue;
    }
    for (const p of ports) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(joinHostPort(str(a.ip), int(p.port)));
      }
    }
  }
  const ret = list.join(',');
  return more ? `${ret} + ${count - max} more...` : ret;
}

export const endpointsPrinter: KindPrinter = {
  columns: [nameCol(), col('Endpoints', 'string', 'The set of all endpoints is the union of all subsets. Addresses are placed into subsets according to the IPs they share. A single address with multiple ports, some of which are ready and some of which are not (because they come from different containers) will result in the address being displayed in different subsets for the different ports. No address will appear in both Addresses and NotReadyAddresses in the same subset. Sets of addresses and ports that comprise a service.'), ageCol()],
  cells: (o, now) => [nameOf(o), formatEndpoints(o.subsets), ageOf(o, now)],
};

// ---- component statuses ----

/** core/v1 ComponentStatus, as upstream's printComponentStatus: the Healthy condition's status, message and error. */
export const componentStatusPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Status', 'string', 'Status of the component conditions'),
    col('Message', 'string', 'Message of the component conditions'),
    col('Error', 'string', 'Error of the component conditions'),
  ],
  cells: (o) => {
    const healthy = recs(o.conditions).find((c) => c.type === 'Healthy');
    if (!healthy) return [nameOf(o), 'Unknown', '', ''];
    return [nameOf(o), healthy.status === 'True' ? 'Healthy' : 'Unhealthy', str(healthy.message), str(healthy.error)];
  },
};

// ---- config ----

export const configMapPrinter: KindPrinter = {
  columns: [nameCol(), col('Data', 'string', "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process."), ageCol()],
  cells: (o, now) => [nameOf(o), countKeys(o.data) + countKeys(o.binaryData), ageOf(o, now)],
};

export const secretPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Type', 'string', 'Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types'),
    col('Data', 'string', "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4"),
    ageCol(),
  ],
  cells: (o, now) => {
    // stringData is merged into data when a Secret is written; count the union in case it was kept apart.
    const keys = new Set([...Object.keys(rec(o.data)), ...Object.keys(rec(o.stringData))]);
    return [nameOf(o), str(o.type) || 'Opaque', keys.size, ageOf(o, now)];
  },
};

export const serviceAccountPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Secrets', 'string', 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use. Pods are only limited to this list if this service account has a "kubernetes.io/enforce-mountable-secrets" annotation set to "true". The "kubernetes.io/enforce-mountable-secrets" annotation is deprecated since v1.32. Prefer separate namespaces to isolate access to mounted secrets. This field should not be used to find auto-generated service account token secrets for use outside of pods. Instead, tokens can be requested directly using the TokenRequest API, or service account token secrets can be manually created. More info: https://kubernetes.io/docs/concepts/configuration/secret'),
    ageCol(),
  ],
  cells: (o, now) => [nameOf(o), arr(o.secrets).length, ageOf(o, now)],
};

// ---- replication controllers ----

export const replicationControllerPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Desired', 'integer', 'Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller'),
    col('Current', 'integer', 'Replicas is the most recently observed number of replicas. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller'),
    col('Ready', 'integer', 'The number of ready replicas for this replication controller.'),
    ageCol(),
    containersCol(),
    imagesCol(),
    col('Selector', 'string', 'Selector is a label query over pods that should match the Replicas count. If Selector is empty, it is defaulted to the labels present on the Pod template. Label keys and values that must match in order to be controlled by this replication controller, if empty defaulted to labels on Pod template. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors', 1),
  ],
  cells: (o, now) => {
    const sp = spec(o);
    const st = status(o);
    const [names, images] = layoutContainerCells(rec(rec(sp.template).spec).containers);
    return [nameOf(o), int(sp.replicas, 1), int(st.replicas), int(st.readyReplicas), ageOf(o, now), names, images, formatLabels(sp.selector)];
  },
};

// ---- resource quotas and limit ranges ----

export const resourceQuotaPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Request', 'string', 'Request represents a minimum amount of cpu/memory that a container may consume.'),
    col('Limit', 'string', 'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.'),
    ageCol(),
  ],
  cells: (o, now) => {
    const st = status(o);
    const hard = rec(st.hard);
    const used = rec(st.used);
    const request: string[] = [];
    const limit: string[] = [];
    // Go sorts the resource names as byte strings; plain < matches that for ASCII names.
    for (const r of Object.keys(hard).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
      const pieces = r.split('.');
      const target = pieces.length > 1 && pieces[0] === 'limits' ? limit : request;
      target.push(`${r}: ${quantity(used[r])}/${quantity(hard[r])}`);
    }
    return [nameOf(o), request.join(', '), limit.join(', '), ageOf(o, now)];
  },
};

// ---- persistent volumes ----

export function accessModesString(modes: unknown): string {
  const set = new Set(arr(modes).map(str));
  const out: string[] = [];
  if (set.has('ReadWriteOnce')) out.push('RWO');
  if (set.has('ReadOnlyMany')) out.push('ROX');
  if (set.has('ReadWriteMany')) out.push('RWX');
  if (set.has('ReadWriteOncePod')) out.push('RWOP');
  return out.join(',');
}

const BETA_STORAGE_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';

function volumeClass(o: KubeObject): string {
  const ann = o.metadata.annotations?.[BETA_STORAGE_CLASS_ANNOTATION];
  if (ann !== undefined) return ann;
  return str(spec(o).storageClassName);
}

export const persistentVolumePrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Capacity', 'string', "capacity is the description of the persistent volume's resources and capacity. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#capacity"),
    col('Access Modes', 'string', 'accessModes contains all ways the volume can be mounted. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes'),
    col('Reclaim Policy', 'string', 'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim. Valid options are Retain (default for manually created PersistentVolumes), Delete (default for dynamically provisioned PersistentVolumes), and Recycle (deprecated). Recycle must be supported by the volume plugin underlying this PersistentVolume. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#reclaiming'),
    col('Status', 'string', 'phase indicates if a volume is available, bound to a claim, or released by a claim. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#phase'),
    col('Claim', 'string', 'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim. Expected to be non-nil when bound. claim.VolumeName is the authoritative bind between PV and PVC. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#binding'),
    col('StorageClass', 'string', 'StorageClass of the pv'),
    col('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pv'),
    col('Reason', 'string', 'reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.'),
    ageCol(),
    col('VolumeMode', 'string', 'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state. Value of Filesystem is implied when not included in spec.', 1),
  ],
  cells: (o, now) => {
    const sp = spec(o);
    const st = status(o);
    const claimRef = sp.claimRef !== undefined && sp.claimRef !== null ? rec(sp.claimRef) : undefined;
    const claim = claimRef ? `${str(claimRef.namespace)}/${str(claimRef.name)}` : '';
    const phase = o.metadata.deletionTimestamp ? 'Terminating' : str(st.phase) || 'Pending';
    return [
      nameOf(o),
      quantity(rec(sp.capacity).storage),
      accessModesString(sp.accessModes),
      str(sp.persistentVolumeReclaimPolicy) || 'Retain',
      phase,
      claim,
      volumeClass(o),
      optStr(sp.volumeAttributesClassName) ?? '<unset>',
      str(st.reason),
      ageOf(o, now),
      optStr(sp.volumeMode) ?? 'Filesystem',
    ];
  },
};

export const persistentVolumeClaimPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Status', 'string', 'phase represents the current phase of PersistentVolumeClaim.'),
    col('Volume', 'string', 'volumeName is the binding reference to the PersistentVolume backing this claim.'),
    col('Capacity', 'string', 'capacity represents the actual resources of the underlying volume.'),
    col('Access Modes', 'string', 'accessModes contains the actual access modes the volume backing the PVC has. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1'),
    col('StorageClass', 'string', 'StorageClass of the pvc'),
    col('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pvc'),
    ageCol(),
    col('VolumeMode', 'string', 'volumeMode defines what type of volume is required by the claim. Value of Filesystem is implied when not included in claim spec.', 1),
  ],
  cells: (o, now) => {
    const sp = spec(o);
    const st = status(o);
    const phase = o.metadata.deletionTimestamp ? 'Terminating' : str(st.phase) || 'Pending';
    const volumeName = str(sp.volumeName);
    let capacity = '';
    let accessModes = '';
    if (volumeName !== '') {
      accessModes = accessModesString(st.accessModes);
      capacity = quantity(rec(st.capacity).storage);
    }
    const ann = o.metadata.annotations?.[BETA_STORAGE_CLASS_ANNOTATION];
    const storageClass = ann !== undefined ? ann : str(sp.storageClassName);
    return [
      nameOf(o),
      phase,
      volumeName,
      capacity,
      accessModes,
      storageClass,
      optStr(sp.volumeAttributesClassName) ?? '<unset>',
      ageOf(o, now),
      optStr(sp.volumeMode) ?? 'Filesystem',
    ];
  },
};

