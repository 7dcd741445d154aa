import type { UserInfo } from '../authn.js';
import { MIRROR_POD_ANNOTATION } from '../../api/pod.js';
import { ApiError, qualifiedResource } from '../http/status.js';
import type { ResourceDef } from '../resources.js';
import type { Admission, RequestContext } from '../rest.js';
import type { KubeObject } from '../storage/object-storage.js';
import type { Attributes } from './attributes.js';
import { nodeRules, SYSTEM_NODES } from './bootstrap-policy.js';
import { rulesAllow, type Decision, type PolicyRule } from './rbac.js';

/**
 * The Node authorizer (upstream's plugin/pkg/auth/authorizer/node, with AuthorizeNodeWithSelectors as in 1.32) and
 * the object checks of the NodeRestriction admission plugin, for agents whose identity is system:node:<nodeName> in
 * group system:nodes. A node may read its own Node and the pods bound to it (and the secrets, config maps, claims and
 * service accounts those pods use), write its own Node, its own Lease in kube-node-lease and the status of its
 * pods, delete its pods, and create or update mirror pods bound to it. Writes to another node's objects are
 * denied outright; other reads are left to RBAC, as upstream.
 */

export const NODE_USER_PREFIX = 'system:node:';
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/** How the authorizer reads the objects it decides about (the pod a node wants to update, the pods bound to it). */
export interface ObjectGetter {
  get(group: string, resource: string, namespace: string | undefined, name: string): Promise<KubeObject | undefined>;
  /** Every object of a resource (pods, to find what a node's pods reference); without it, such reads are refused. */
  list?(group: string, resource: string): Promise<KubeObject[]>;
}

/** Upstream's NodeIdentity: a node is a user named system:node:<name> in group system:nodes. */
export function nodeIdentity(user: UserInfo | undefined): { isNode: boolean; nodeName: string } {
  if (!user || !user.name.startsWith(NODE_USER_PREFIX) || !user.groups.includes(SYSTEM_NODES)) return { isNode: false, nodeName: '' };
  return { isNode: true, nodeName: user.name.slice(NODE_USER_PREFIX.length) };
}

const noOpinion = (reason = ''): Decision => ({ allowed: false, reason });
const allow: Decision = { allowed: true, reason: '' };
const deny = (reason: string): Decision => ({ allowed: false, denied: true, reason });

interface PodSpec {
  nodeName?: string;
  serviceAccountName?: string;
  volumes?: Array<Record<string, unknown>>;
  containers?: Array<Record<string, unknown>>;
  initContainers?: Array<Record<string, unknown>>;
  ephemeralContainers?: Array<Record<string, unknown>>;
  imagePullSecrets?: Array<{ name?: string }>;
}

const podSpec = (pod: KubeObject): PodSpec => (pod.spec ?? {}) as PodSpec;

/** The secrets, config maps, claims and service account a pod uses: the node→pod→object edges of upstream's graph. */
export function podReferences(pod: KubeObject): { secrets: Set<string>; configmaps: Set<string>; persistentvolumeclaims: Set<string>; serviceaccounts: Set<string> } {
  const spec = podSpec(pod);
  const refs = { secrets: new Set<string>(), configmaps: new Set<string>(), persistentvolumeclaims: new Set<string>(), serviceaccounts: new Set<string>() };
  const add = (set: Set<string>, name: unknown): void => {
    if (typeof name === 'string' && name) set.add(name);
  };
  for (const s of spec.imagePullSecrets ?? []) add(refs.secrets, s.name);
  if (spec.serviceAccountName) add(refs.serviceaccounts, spec.serviceAccountName);
  for (const v of spec.volumes ?? []) {
    add(refs.secrets, (v.secret as { secretName?: string } | undefined)?.secretName);
    add(refs.configmaps, (v.configMap as { name?: string } | undefined)?.name);
    add(refs.persistentvolumeclaims, (v.persistentVolumeClaim as { claimName?: string } | undefined)?.claimName);
    for (const src of ((v.projected as { sources?: Array<Record<string, { name?: string } | undefined>> } | undefined)?.sources ?? [])) {
      add(refs.secrets, src.secret?.name);
      add(refs.configmaps, src.configMap?.name);
    }
    for (const kind of Object.values(v)) {
      // Secret references of other volume types (cephfs, rbd, azureFile, csi, ...).
      const ref = (kind as { secretRef?: { name?: string }; nodePublishSecretRef?: { name?: string } } | undefined) ?? {};
      if (typeof ref === 'object') {
        add(refs.secrets, ref.secretRef?.name);
        add(refs.secrets, ref.nodePublishSecretRef?.name);
      }
    }
  }
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? []), ...(spec.ephemeralContainers ?? [])]) {
    for (const e of (c.env as Array<{ valueFrom?: { secretKeyRef?: { name?: string }; configMapKeyRef?: { name?: string } } }> | undefined) ?? []) {
      add(refs.secrets, e.valueFrom?.secretKeyRef?.name);
      add(refs.configmaps, e.valueFrom?.configMapKeyRef?.name);
    }
    for (const e of (c.envFrom as Array<{ secretRef?: { name?: string }; configMapRef?: { name?: string } }> | undefined) ?? []) {
      add(refs.secrets, e.secretRef?.name);
      add(refs.configmaps, e.configMapRef?.name);
    }
  }
  return refs;
}

export class NodeAuthorizer {
  private readonly rules: PolicyRule[];

  constructor(private readonly getter: ObjectGetter | undefined, rules: PolicyRule[] = nodeRules()) {
    this.rules = rules;
  }

  async authorize(attrs: Attributes): Promise<Decision> {
    const { isNode, nodeName } = nodeIdentity(attrs.user);
    if (!isNode) return noOpinion();
    if (!nodeName) return noOpinion(`unknown node for user ${JSON.stringify(attrs.user.name)}`);
    if (attrs.resourceRequest) {
      switch (`${attrs.apiGroup}/${attrs.resource}`) {
        case '/secrets':
        case '/configmaps':
          return this.readNamespacedObject(nodeName, attrs);
        case '/persistentvolumeclaims':
          if (attrs.subresource === 'status') {
            if (attrs.verb !== 'update' && attrs.verb !== 'patch') return noOpinion('can only get/update/patch this type');
            return this.related(nodeName, attrs);
          }
          return this.getOnly(nodeName, attrs);
        case '/persistentvolumes':
          return this.getOnly(nodeName, attrs);
        case '/serviceaccounts':
          if (attrs.verb !== 'create' || !attrs.name) return noOpinion('can only create tokens for individual service accounts');
          if (attrs.subresource !== 'token') return noOpinion('can only create token subresource of serviceaccount');
          return this.related(nodeName, attrs);
        case 'coordination.k8s.io/leases':
          return this.lease(nodeName, attrs);
        case '/nodes':
          return this.node(nodeName, attrs);
        case '/pods':
          return this.pod(nodeName, attrs);
      }
    }
    return rulesAllow(attrs, this.rules) ? allow : noOpinion();
  }

  private readNamespacedObject(nodeName: string, attrs: Attributes): Promise<Decision> | Decision {
    if (!['get', 'list', 'watch'].includes(attrs.verb)) return noOpinion('can only read resources of this type');
    if (attrs.subresource) return noOpinion('cannot read subresource');
    if (!attrs.namespace) return noOpinion('can only read namespaced object of this type');
    return this.related(nodeName, attrs);
  }

  private getOnly(nodeName: string, attrs: Attributes): Promise<Decision> | Decision {
    if (attrs.verb !== 'get') return noOpinion('can only get individual resources of this type');
    if (attrs.subresource) return noOpinion('cannot get subresource');
    return this.related(nodeName, attrs);
  }

  /** Whether the named object is reachable from the node: a pod bound to it, or something such a pod uses. */
  private async related(nodeName: string, attrs: Attributes): Promise<Decision> {
    if (!attrs.name) return noOpinion('No Object name found');
    const none = noOpinion(`no relationship found between node '${nodeName}' and this object`);
    if (!this.getter) return none;
    if (attrs.resource === 'pods') {
      const pod = await this.getter.get('', 'pods', attrs.namespace, attrs.name);
      return pod && podSpec(pod).nodeName === nodeName ? allow : none;
    }
    if (!this.getter.list) return none;
    const pods = (await this.getter.list('', 'pods')).filter((p) => podSpec(p).nodeName === nodeName);
    if (attrs.resource === 'persistentvolumes') {
      for (const p of pods) {
        for (const claim of podReferences(p).persistentvolumeclaims) {
          const pvc = await this.getter.get('', 'persistentvolumeclaims', p.metadata.namespace, claim);
          if ((pvc?.spec as { volumeName?: string } | undefined)?.volumeName === attrs.name) return allow;
        }
      }
      return none;
    }
    const kind = attrs.resource as 'secrets' | 'configmaps' | 'persistentvolumeclaims' | 'serviceaccounts';
    return pods.some((p) => p.metadata.namespace === attrs.namespace && podReferences(p)[kind]?.has(attrs.name)) ? allow : none;
  }

  private lease(nodeName: string, attrs: Attributes): Decision {
    if (!['get', 'create', 'update', 'patch', 'delete'].includes(attrs.verb)) return noOpinion('can only get, create, update, patch, or delete a node lease');
    if (attrs.namespace !== NODE_LEASE_NAMESPACE) return noOpinion(`can only access leases in the ${JSON.stringify(NODE_LEASE_NAMESPACE)} system namespace`);
    // On create the name is in the body: NodeRestriction checks it.
    if (attrs.verb !== 'create' && attrs.name !== nodeName) return deny('can only access node lease with the same name as the requesting node');
    return allow;
  }

  private node(nodeName: string, attrs: Attributes): Decision {
    if (attrs.subresource === '') {
      switch (attrs.verb) {
        case 'create':
          // The name is in the body: NodeRestriction checks it.
          return allow;
        case 'update':
        case 'patch':
          return attrs.name === nodeName ? allow : deny(`node ${JSON.stringify(nodeName)} is not allowed to modify node ${JSON.stringify(attrs.name)}`);
        case 'get':
        case 'list':
        case 'watch':
          if (attrs.name === nodeName) return allow;
          if (attrs.name === '') return noOpinion(`node '${nodeName}' cannot read all nodes, only its own Node object`);
          return noOpinion(`node '${nodeName}' cannot read '${attrs.name}', only its own Node object`);
      }
    } else if (attrs.subresource === 'status' && (attrs.verb === 'update' || attrs.verb === 'patch')) {
      return attrs.name === nodeName ? allow : deny(`node ${JSON.stringify(nodeName)} is not allowed to modify node ${JSON.stringify(attrs.name)}`);
    }
    return noOpinion();
  }

  private async pod(nodeName: string, attrs: Attributes): Promise<Decision> {
    const current = async (): Promise<KubeObject | undefined> => (this.getter && attrs.name ? this.getter.get('', 'pods', attrs.namespace, attrs.name) : undefined);
    switch (attrs.subresource) {
      case '':
        switch (attrs.verb) {
          case 'get':
            return this.related(nodeName, attrs);
          case 'list':
          case 'watch':
            if ((attrs.fieldSelector ?? []).some((r) => r.field === 'spec.nodeName' && r.operator === 'Equals' && r.value === nodeName)) return allow;
            if (attrs.name) return this.related(nodeName, attrs);
            return noOpinion('can only list/watch pods with spec.nodeName field selector');
          case 'create':
            // Mirror pods: the body is checked by NodeRestriction.
            return allow;
          case 'delete': {
            const pod = await current();
            if (!pod) return allow; // NotFound follows
            return podSpec(pod).nodeName === nodeName ? allow : deny(`node ${JSON.stringify(nodeName)} can only delete pods with spec.nodeName set to itself`);
          }
          case 'update':
          case 'patch': {
            const pod = await current();
            if (!pod) return allow;
            if (podSpec(pod).nodeName !== nodeName) return deny(`node ${JSON.stringify(nodeName)} can only update mirror pods with spec.nodeName set to itself`);
            if (pod.metadata.annotations?.[MIRROR_POD_ANNOTATION] === undefined) return deny(`node ${JSON.stringify(nodeName)} can only update mirror pods`);
            return allow;
          }
        }
        break;
      case 'status':
        if (attrs.verb === 'update' || attrs.verb === 'patch') {
          const pod = await current();
          if (!pod) return allow;
          return podSpec(pod).nodeName === nodeName ? allow : deny(`node ${JSON.stringify(nodeName)} can only update pod status for pods with spec.nodeName set to itself`);
        }
        break;
      case 'eviction':
        if (attrs.verb === 'create') {
          const pod = await current();
          if (!pod) return allow;
          return podSpec(pod).nodeName === nodeName ? allow : deny(`node ${nodeName} can only evict pods with spec.nodeName set to itself`);
        }
        break;
    }
    return noOpinion();
  }
}

/** A 403 from admission, worded as upstream's admission.NewForbidden. */
function admissionForbidden(def: ResourceDef, name: string, message: string): ApiError {
  return new ApiError(403, 'Forbidden', `${qualifiedResource(def.group, def.resource)} ${JSON.stringify(name)} is forbidden: ${message}`, { name, ...(def.group ? { group: def.group } : {}), kind: def.resource });
}

/**
 * NodeRestriction's checks of what a node writes, given the new (and old) object; undefined when allowed. Pods a node
 * creates must be mirror pods bound to it that use no secrets, config maps, claims or service account; Nodes and
 * Leases it writes must bear its own name; pods it updates or deletes must be bound to it.
 */
export function nodeRestrictionMessage(user: UserInfo | undefined, op: 'create' | 'update' | 'delete', def: ResourceDef, obj: KubeObject, old: KubeObject | undefined): string | undefined {
  const { isNode, nodeName } = nodeIdentity(user);
  if (!isNode) return undefined;
  const q = JSON.stringify(nodeName);
  switch (`${def.group}/${def.resource}`) {
    case '/pods': {
      if (op === 'create') {
        if (obj.metadata.annotations?.[MIRROR_POD_ANNOTATION] === undefined) return `pod does not have "${MIRROR_POD_ANNOTATION}" annotation, node ${q} can only create mirror pods`;
        if (podSpec(obj).nodeName !== nodeName) return `node ${q} can only create pods with spec.nodeName set to itself`;
        const refs = podReferences(obj);
        if (podSpec(obj).serviceAccountName && podSpec(obj).serviceAccountName !== 'default') return `node ${q} can not create pods that use service accounts`;
        if (refs.secrets.size > 0) return `node ${q} can not create pods that reference secrets`;
        if (refs.configmaps.size > 0) return `node ${q} can not create pods that reference configmaps`;
        if (refs.persistentvolumeclaims.size > 0) return `node ${q} can not create pods that reference persistentvolumeclaims`;
        for (const o of obj.metadata.ownerReferences ?? []) {
          if (o.kind !== 'Node' || o.name !== nodeName) return `node ${q} can only create pods with an owner reference set to itself`;
        }
        return undefined;
      }
      const bound = (p: KubeObject | undefined): boolean => p === undefined || podSpec(p).nodeName === nodeName;
      if (op === 'delete') return bound(old ?? obj) ? undefined : `node ${q} can only delete pods with spec.nodeName set to itself`;
      if (!bound(old) || !bound(obj)) return `node ${q} can only update pod status for pods with spec.nodeName set to itself`;
      return undefined;
    }
    case '/nodes': {
      if (op === 'delete') return undefined;
      if (obj.metadata.name !== nodeName) return `node ${q} is not allowed to modify node ${JSON.stringify(obj.metadata.name ?? '')}`;
      const forbidden = forbiddenNodeLabels(obj.metadata.labels ?? {}, op === 'update' ? (old?.metadata.labels ?? {}) : {});
      if (op === 'create') return forbidden.length ? `node ${q} is not allowed to set the following labels: ${forbidden.join(', ')}` : undefined;
      // A node may not lift its own taints (to draw workloads that are kept away from it) nor relabel itself.
      const taints = (n: KubeObject | undefined): string => JSON.stringify((n?.spec as { taints?: unknown } | undefined)?.taints ?? []);
      if (taints(obj) !== taints(old)) return `node ${q} is not allowed to modify taints`;
      return forbidden.length ? `node ${q} is not allowed to modify labels: ${forbidden.join(', ')}` : undefined;
    }
    case 'coordination.k8s.io/leases':
      if (op === 'delete') return undefined;
      if (obj.metadata.namespace !== NODE_LEASE_NAMESPACE) return `can only access leases in the ${JSON.stringify(NODE_LEASE_NAMESPACE)} system namespace`;
      return obj.metadata.name === nodeName ? undefined : 'can only access node lease with the same name as the requesting node';
  }
  return undefined;
}

/**
 * NodeRestriction's check of a TokenRequest (serviceaccounts/<name>/token) made by a node, as upstream's
 * admitServiceAccount: the token must be bound to a pod (by name and uid) that is scheduled on that node. Undefined
 * when allowed or when the user is not a node; the pod's absence is the 404 `podGetter` reports.
 */
export async function nodeTokenRequestMessage(user: UserInfo | undefined, namespace: string, body: unknown, getPod: (namespace: string, name: string) => Promise<KubeObject | undefined>): Promise<string | undefined> {
  const { isNode, nodeName } = nodeIdentity(user);
  if (!isNode) return undefined;
  const ref = ((body ?? {}) as { spec?: { boundObjectRef?: { apiVersion?: string; kind?: string; name?: string; uid?: string } } }).spec?.boundObjectRef;
  if (!ref || ref.apiVersion !== 'v1' || ref.kind !== 'Pod' || !ref.name) return 'node requested token not bound to a pod';
  if (!ref.uid) return 'node requested token with a pod binding without a uid';
  const pod = await getPod(namespace, ref.name);
  if (!pod) throw new ApiError(404, 'NotFound', `pods ${JSON.stringify(ref.name)} not found`, { name: ref.name, kind: 'pods' });
  if (pod.metadata.uid !== ref.uid) return `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`;
  if (podSpec(pod).nodeName !== nodeName) return 'node requested token bound to a pod scheduled on a different node';
  return undefined;
}

/** The 403 of a TokenRequest NodeRestriction refuses, worded as upstream's admission.NewForbidden. */
export function tokenRequestForbidden(serviceAccount: string, message: string): ApiError {
  return new ApiError(403, 'Forbidden', `serviceaccounts ${JSON.stringify(serviceAccount)} is forbidden: ${message}`, { name: serviceAccount, kind: 'serviceaccounts' });
}

/** The labels kubelets may set on their own Node (upstream's kubeletapis.KubeletLabels) besides their namespaces. */
const KUBELET_LABELS = new Set([
  'kubernetes.io/hostname',
  'kubernetes.io/os',
  'kubernetes.io/arch',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/arch',
  'beta.kubernetes.io/instance-type',
  'node.kubernetes.io/instance-type',
  'failure-domain.beta.kubernetes.io/zone',
  'failure-domain.beta.kubernetes.io/region',
  'topology.kubernetes.io/zone',
  'topology.kubernetes.io/region',
]);
const KUBELET_LABEL_NAMESPACES = ['kubelet.kubernetes.io', 'node.kubernetes.io'];

const inNamespace = (ns: string, domain: string): boolean => ns === domain || ns.endsWith(`.${domain}`);

/**
 * The label keys a node may not set or change on itself, sorted (NodeRestriction's getForbiddenLabels): anything in
 * node-restriction.kubernetes.io, and kubernetes.io / k8s.io labels other than the kubelet's own.
 */
export function forbiddenNodeLabels(labels: Record<string, string>, old: Record<string, string>): string[] {
  const changed = new Set<string>();
  for (const [k, v] of Object.entries(labels)) if (old[k] !== v) changed.add(k);
  for (const k of Object.keys(old)) if (!(k in labels)) changed.add(k);
  return [...changed]
    .filter((key) => {
      const i = key.indexOf('/');
      const ns = i >= 0 ? key.slice(0, i) : '';
      if (inNamespace(ns, 'node-restriction.kubernetes.io')) return true;
      if (!inNamespace(ns, 'kubernetes.io') && !inNamespace(ns, 'k8s.io')) return false;
      return !KUBELET_LABELS.has(key) && !KUBELET_LABEL_NAMESPACES.some((allowed) => inNamespace(ns, allowed));
    })
    .sort();
}

/** The request context admission sees, when the server passes the requesting user along. */
export type UserRequestContext = RequestContext & { user?: UserInfo };

/**
 * NodeRestriction as an admission plugin. It needs the requesting user: by default from the context (`ctx.user`), or
 * from `userOf`; without one, it admits everything.
 */
export function nodeRestrictionAdmission(userOf: (ctx: RequestContext) => UserInfo | undefined = (ctx) => (ctx as UserRequestContext).user): Admission {
  return {
    async admit(op, def, obj, old, ctx): Promise<void> {
      const message = nodeRestrictionMessage(userOf(ctx), op, def, obj, old);
      if (message !== undefined) throw admissionForbidden(def, obj.metadata.name ?? '', message);
    },
  };
}
