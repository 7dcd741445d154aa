import type { UserInfo } from '../authn.js';
import type { RequestInfo, ResourceRequest } from '../http/request-info.js';
import { ApiError, badRequest } from '../http/status.js';
import { RESOURCES, type ResourceDef } from '../resources.js';
import type { KubeObject, ObjectStorage } from '../storage/object-storage.js';
import { ANONYMOUS_USER, attributesFor, nonResourceAttributes, resourceAttributes, type Attributes } from './attributes.js';
import { SYSTEM_AUTHENTICATED, SYSTEM_MASTERS, SYSTEM_UNAUTHENTICATED } from './bootstrap-policy.js';
import { NodeAuthorizer, nodeIdentity, type ObjectGetter } from './node.js';
import { aggregateErrors, RBAC_GROUP, RbacAuthorizer, SERVICE_ACCOUNT_PREFIX, serviceAccountGroups, type Decision, type RbacKind, type RbacLister } from './rbac.js';

export { ANONYMOUS_USER, attributesFor, nonResourceAttributes, resourceAttributes, type Attributes } from './attributes.js';
export { covers, escalationMessage, rbacEscalationAdmission, type EscalationOptions } from './escalation.js';
export { bootstrapPolicyObjects, ensureBootstrapPolicy, nodeRules } from './bootstrap-policy.js';
export { NodeAuthorizer, nodeIdentity, nodeRestrictionAdmission, nodeRestrictionMessage, nodeTokenRequestMessage, tokenRequestForbidden, type ObjectGetter, type UserRequestContext } from './node.js';
export { RbacAuthorizer, ruleAllows, type Decision, type PolicyRule, type RbacKind, type RbacLister } from './rbac.js';

/**
 * Authorization as `kube-apiserver --authorization-mode=Node,RBAC`: members of system:masters may do anything, then
 * the Node authorizer and RBAC are asked in turn; the first to allow wins, an explicit denial (the node restrictions)
 * ends the search, and when nobody allows, the request is refused with every reason given.
 */
export interface Authorizer {
  authorize(attrs: Attributes): Promise<{ allowed: boolean; reason?: string; denied?: boolean }>;
  /** The rules that apply to a user in a namespace (SelfSubjectRulesReview, `kubectl auth can-i --list`). */
  rulesFor(user: UserInfo, namespace: string): Promise<{ resourceRules: ResourceRule[]; nonResourceRules: NonResourceRule[]; incomplete: boolean; evaluationError?: string }>;
}

export interface ResourceRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
}

export interface NonResourceRule {
  verbs: string[];
  nonResourceURLs?: string[];
}

export function createAuthorizer(opts: { lister: RbacLister; getter?: ObjectGetter }): Authorizer {
  const node = new NodeAuthorizer(opts.getter);
  const rbac = new RbacAuthorizer(opts.lister);
  return {
    async authorize(attrs) {
      if (attrs.user.groups.includes(SYSTEM_MASTERS)) return { allowed: true, reason: '' };
      const reasons: string[] = [];
      for (const a of [node, rbac]) {
        const d: Decision = await a.authorize(attrs);
        if (d.allowed) return { allowed: true, reason: d.reason };
        if (d.denied) return { allowed: false, denied: true, reason: d.reason };
        if (d.reason) reasons.push(d.reason);
      }
      return { allowed: false, reason: reasons.join('\n') };
    },
    async rulesFor(user, namespace) {
      const errors: string[] = [];
      let incomplete = false;
      if (nodeIdentity(user).isNode) {
        incomplete = true;
        errors.push('node authorizer does not support user rule resolution');
      }
      const { rules, errors: rbacErrors } = await rbac.rulesFor(user, namespace);
      errors.push(...rbacErrors);
      const resourceRules: ResourceRule[] = [];
      const nonResourceRules: NonResourceRule[] = [];
      for (const r of rules) {
        if ((r.resources ?? []).length > 0) {
          resourceRules.push({ verbs: r.verbs, ...(r.apiGroups?.length ? { apiGroups: r.apiGroups } : {}), resources: r.resources as string[], ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}) });
        }
        if ((r.nonResourceURLs ?? []).length > 0) nonResourceRules.push({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs as string[] });
      }
      return { resourceRules, nonResourceRules, incomplete, ...(errors.length > 0 ? { evaluationError: aggregateErrors(errors) } : {}) };
    },
  };
}

// --- Storage adapters ---

function defFor(group: string, resource: string): ResourceDef | undefined {
  return RESOURCES.find((r) => r.group === group && r.resource === resource && !r.storageResource);
}

const RBAC_RESOURCES: Record<RbacKind, string> = { Role: 'roles', ClusterRole: 'clusterroles', RoleBinding: 'rolebindings', ClusterRoleBinding: 'clusterrolebindings' };

/**
 * Reads RBAC objects from the API server's storage. A kind's list is kept until a watch on that kind reports a
 * change (as upstream's RBAC authorizer reads informers), so a request costs no store read and other writes (pods,
 * leases) never throw the lists away. The embedded store delivers a write's watch event before the write's answer,
 * so a binding written by one request is in force for the next.
 */
export function storageLister(storage: ObjectStorage): RbacLister {
  interface KindCache {
    items: KubeObject[] | undefined;
    /** Bumped by every change seen; a list read across a change is not kept. */
    changes: number;
    watching: Promise<unknown> | undefined;
    watchUp: boolean;
  }
  const caches = new Map<RbacKind, KindCache>();
  const forget = (c: KindCache): void => {
    c.items = undefined;
    c.changes++;
  };
  return {
    async list(kind) {
      let c = caches.get(kind);
      if (!c) caches.set(kind, (c = { items: undefined, changes: 0, watching: undefined, watchUp: false }));
      if (c.items) return c.items;
      const def = defFor(RBAC_GROUP, RBAC_RESOURCES[kind]) as ResourceDef;
      const before = c.changes;
      const listed = await storage.list(def, undefined);
      const cache = c;
      // The watch starts from the listed revision, so no change after the list goes unseen; until it is up, nothing
      // is kept. A failed watch (compaction) forgets the list and is set up again by the next list.
      cache.watching ??= storage
        .watch(def, undefined, Number(listed.resourceVersion), (e) => e.type !== 'BOOKMARK' && forget(cache), () => {
          forget(cache);
          cache.watching = undefined;
          cache.watchUp = false;
        })
        .then(() => {
          cache.watchUp = true;
        })
        .catch(() => {
          cache.watching = undefined;
        });
      await cache.watching;
      if (cache.watchUp && cache.changes === before) cache.items = listed.items;
      return listed.items;
    },
  };
}

/** Reads the objects the Node authorizer decides about from the API server's storage. */
export function storageGetter(storage: ObjectStorage): ObjectGetter {
  return {
    async get(group, resource, namespace, name) {
      const def = defFor(group, resource);
      if (!def) return undefined;
      return storage.tryGet(def, def.namespaced ? namespace : undefined, name);
    },
    async list(group, resource) {
      const def = defFor(group, resource);
      if (!def) return [];
      return (await storage.list(def, undefined)).items;
    },
  };
}

/** The authorizer of `skiff control`: Node,RBAC over the server's own storage. */
export function createStorageAuthorizer(storage: ObjectStorage): Authorizer {
  return createAuthorizer({ lister: storageLister(storage), getter: storageGetter(storage) });
}

// --- 403 ---

/** Upstream's forbiddenMessage (responsewriters/errors.go). */
export function forbiddenMessage(attrs: Attributes): string {
  const user = JSON.stringify(attrs.user.name);
  if (!attrs.resourceRequest) return `User ${user} cannot ${attrs.verb} path ${JSON.stringify(attrs.path)}`;
  const resource = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  const scope = attrs.namespace ? `in the namespace ${JSON.stringify(attrs.namespace)}` : 'at the cluster scope';
  return `User ${user} cannot ${attrs.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(attrs.apiGroup)} ${scope}`;
}

/**
 * The 403 a refused request gets, as upstream's responsewriters.Forbidden + apierrors.NewForbidden:
 * `pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "default"`, with
 * `pods "web" is forbidden: ...` for a named object, `forbidden: User "bob" cannot get path "/x"` for other paths,
 * and the authorizers' reasons after a colon.
 */
export function forbiddenError(attrs: Attributes, reason?: string): ApiError {
  const msg = forbiddenMessage(attrs);
  const err = reason ? `${msg}: ${reason}` : msg;
  const gr = attrs.resourceRequest ? (attrs.apiGroup ? `${attrs.resource}.${attrs.apiGroup}` : attrs.resource) : '';
  let message: string;
  if (!gr) message = `forbidden: ${err}`;
  else if (!attrs.name) message = `${gr} is forbidden: ${err}`;
  else message = `${gr} ${JSON.stringify(attrs.name)} is forbidden: ${err}`;
  const details: { name?: string; group?: string; kind?: string } = {};
  if (attrs.resourceRequest && attrs.name) details.name = attrs.name;
  if (attrs.resourceRequest && attrs.apiGroup) details.group = attrs.apiGroup;
  if (attrs.resourceRequest && attrs.resource) details.kind = attrs.resource;
  return new ApiError(403, 'Forbidden', message, details);
}

/** The Status body of forbiddenError. */
export function forbiddenStatus(attrs: Attributes, reason?: string): Record<string, unknown> {
  return forbiddenError(attrs, reason).toStatus();
}

// --- Impersonation: upstream's WithImpersonation filter ---

/** Request headers as node's `req.headersDistinct` gives them (every value of a repeated header). */
export type DistinctHeaders = Record<string, string[] | undefined>;

/**
 * Applies Impersonate-User / -Group / -Uid / -Extra-* (`kubectl --as`, `--as-group`): the requester needs the
 * `impersonate` verb on users (or serviceaccounts), groups, uids and userextras; the request then runs as the
 * impersonated user, who is in system:authenticated as upstream adds it. Without those headers, `user` is returned.
 */
export async function impersonate(authorizer: Authorizer, user: UserInfo, headers: DistinctHeaders): Promise<UserInfo> {
  const one = (h: string): string | undefined => headers[h]?.[0];
  const name = one('impersonate-user');
  const groups = headers['impersonate-group'] ?? [];
  const uid = one('impersonate-uid');
  const extras: Array<[string, string]> = [];
  for (const [h, values] of Object.entries(headers)) {
    if (!h.toLowerCase().startsWith('impersonate-extra-')) continue;
    // As upstream: the header name lowercased, then unescaped (a key that does not unescape is taken as it is).
    const encoded = h.slice('impersonate-extra-'.length).toLowerCase();
    let key = encoded;
    try {
      key = decodeURIComponent(encoded);
    } catch {
      // not a valid escape: kept as sent
    }
    for (const v of values ?? []) extras.push([key, v]);
  }
  if (name === undefined) {
    if (groups.length > 0 || uid !== undefined || extras.length > 0) {
      throw new ApiError(500, 'InternalError', 'Internal error occurred: requested impersonation of groups, uid or extra without impersonating a user');
    }
    return user;
  }
  const check = async (attrs: Attributes): Promise<void> => {
    const d = await authorizer.authorize(attrs);
    if (!d.allowed) throw forbiddenError(attrs, d.reason);
  };
  let impersonatedGroups = [...groups];
  if (name.startsWith(SERVICE_ACCOUNT_PREFIX)) {
    const [ns = '', sa = ''] = name.slice(SERVICE_ACCOUNT_PREFIX.length).split(':');
    await check(resourceAttributes(user, { verb: 'impersonate', resource: 'serviceaccounts', namespace: ns, name: sa }));
    if (groups.length === 0) impersonatedGroups = serviceAccountGroups(ns);
  } else {
    await check(resourceAttributes(user, { verb: 'impersonate', resource: 'users', name }));
  }
  for (const g of groups) await check(resourceAttributes(user, { verb: 'impersonate', resource: 'groups', name: g }));
  if (uid !== undefined) await check(resourceAttributes(user, { verb: 'impersonate', group: 'authentication.k8s.io', resource: 'uids', name: uid }));
  for (const [key, value] of extras) {
    await check(resourceAttributes(user, { verb: 'impersonate', group: 'authentication.k8s.io', resource: 'userextras', subresource: key, name: value }));
  }
  if (name !== ANONYMOUS_USER.name) {
    if (!impersonatedGroups.some((g) => g === SYSTEM_AUTHENTICATED || g === SYSTEM_UNAUTHENTICATED)) impersonatedGroups.push(SYSTEM_AUTHENTICATED);
  } else if (!impersonatedGroups.includes(SYSTEM_UNAUTHENTICATED)) {
    impersonatedGroups.push(SYSTEM_UNAUTHENTICATED);
  }
  // No prototype: a key is whatever the client sent, "__proto__" included.
  const extra: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  for (const [key, value] of extras) (extra[key] ??= []).push(value);
  return { name, ...(uid !== undefined ? { uid } : {}), groups: impersonatedGroups, ...(extras.length > 0 ? { extra } : {}) };
}

// --- Access reviews: authorization.k8s.io/v1 ---

export const AUTHORIZATION_GROUP = 'authorization.k8s.io';
const REVIEW_RESOURCES = ['selfsubjectaccessreviews', 'subjectaccessreviews', 'localsubjectaccessreviews', 'selfsubjectrulesreviews'];
const REVIEW_KINDS: Record<string, string> = {
  selfsubjectaccessreviews: 'SelfSubjectAccessReview',
  subjectaccessreviews: 'SubjectAccessReview',
  localsubjectaccessreviews: 'LocalSubjectAccessReview',
  selfsubjectrulesreviews: 'SelfSubjectRulesReview',
};

/** Whether the request is a POST of an access review that handleAccessReview answers. */
export function isAccessReview(info: RequestInfo): info is ResourceRequest {
  return info.kind === 'resource' && info.group === AUTHORIZATION_GROUP && info.version === 'v1' && info.name === undefined && REVIEW_RESOURCES.includes(info.resource);
}

interface ReviewResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

interface ReviewSpec {
  resourceAttributes?: ReviewResourceAttributes | null;
  nonResourceAttributes?: { path?: string; verb?: string } | null;
  user?: string;
  groups?: string[];
  uid?: string;
  namespace?: string;
}

function invalidReview(kind: string, field: string, detail: string): ApiError {
  const message = `${field}: ${detail}`;
  return new ApiError(422, 'Invalid', `${kind}.${AUTHORIZATION_GROUP} "" is invalid: ${message}`, {
    group: AUTHORIZATION_GROUP,
    kind,
    causes: [{ reason: detail.startsWith('Required') ? 'FieldValueRequired' : 'FieldValueInvalid', message: detail, field }],
  });
}

function reviewAttributes(kind: string, user: UserInfo, spec: ReviewSpec): Attributes {
  const ra = spec.resourceAttributes ?? undefined;
  const nra = spec.nonResourceAttributes ?? undefined;
  if (ra && nra) throw invalidReview(kind, 'spec.nonResourceAttributes', 'Invalid value: "null": cannot be specified in combination with resourceAttributes');
  if (!ra && !nra) throw invalidReview(kind, 'spec.resourceAttributes', 'Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified');
  if (nra) return nonResourceAttributes(user, nra.verb ?? '', nra.path ?? '');
  const r = ra as ReviewResourceAttributes;
  return resourceAttributes(user, {
    verb: r.verb ?? '',
    group: r.group ?? '',
    version: r.version ?? '',
    resource: r.resource ?? '',
    subresource: r.subresource ?? '',
    namespace: r.namespace ?? '',
    name: r.name ?? '',
  });
}

/**
 * Answers a POST of an authorization.k8s.io/v1 review, as the requesting (possibly impersonated) user: a
 * SelfSubjectAccessReview (`kubectl auth can-i`) about that user, a SubjectAccessReview or LocalSubjectAccessReview
 * about the user in its spec, a SelfSubjectRulesReview (`kubectl auth can-i --list`) with the user's rules in a
 * namespace. Returns the review with its status filled in (201).
 */
export async function handleAccessReview(authorizer: Authorizer, user: UserInfo, info: ResourceRequest, body: unknown): Promise<Record<string, unknown>> {
  const kind = REVIEW_KINDS[info.resource] as string;
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest(`expected a ${kind} object`);
  const review = body as { kind?: string; apiVersion?: string; metadata?: Record<string, unknown>; spec?: ReviewSpec };
  if (review.kind !== undefined && review.kind !== kind) throw badRequest(`the body of the request was of kind ${JSON.stringify(review.kind)}, expected ${JSON.stringify(kind)}`);
  const spec: ReviewSpec = review.spec ?? {};
  const out = (status: Record<string, unknown>): Record<string, unknown> => ({
    kind,
    apiVersion: `${AUTHORIZATION_GROUP}/v1`,
    metadata: { creationTimestamp: null, ...(review.metadata ?? {}) },
    spec,
    status,
  });
  if (kind === 'SelfSubjectRulesReview') {
    const rules = await authorizer.rulesFor(user, spec.namespace ?? '');
    return out({ resourceRules: rules.resourceRules, nonResourceRules: rules.nonResourceRules, incomplete: rules.incomplete, ...(rules.evaluationError ? { evaluationError: rules.evaluationError } : {}) });
  }
  let subject = user;
  if (kind === 'SubjectAccessReview' || kind === 'LocalSubjectAccessReview') {
    if (!spec.user && !(spec.groups ?? []).length) throw invalidReview(kind, 'spec.user', 'Invalid value: "": at least one of user or group must be specified');
    subject = { name: spec.user ?? '', ...(spec.uid ? { uid: spec.uid } : {}), groups: [...(spec.groups ?? [])] };
  }
  if (kind === 'LocalSubjectAccessReview') {
    if (spec.nonResourceAttributes) throw invalidReview(kind, 'spec.nonResourceAttributes', 'Invalid value: "null": disallowed on this kind of request');
    const ns = spec.resourceAttributes?.namespace ?? '';
    if (ns !== (info.namespace ?? '')) throw badRequest(`spec.resourceAttributes.namespace must match namespace: ${info.namespace ?? ''}`);
  }
  const attrs = reviewAttributes(kind, subject, spec);
  const d = await authorizer.authorize(attrs);
  return out({ allowed: d.allowed, ...(d.denied ? { denied: true } : {}), ...(d.reason ? { reason: d.reason } : {}) });
}

/** handleAccessReview for a SelfSubjectAccessReview body, as `kubectl auth can-i` sends it. */
export function handleSelfSubjectAccessReview(authorizer: Authorizer, user: UserInfo, body: unknown): Promise<Record<string, unknown>> {
  const info: ResourceRequest = { kind: 'resource', verb: 'create', group: AUTHORIZATION_GROUP, version: 'v1', resource: 'selfsubjectaccessreviews', def: undefined, rest: [] };
  return handleAccessReview(authorizer, user, info, body);
}

// --- The per-request hook ---

/**
 * What the API server calls for each request, after authentication and before dispatch: impersonation, then the
 * authorization decision (a 403 ApiError when refused). Returns the user the request acts as.
 */
export async function authorizeRequest(
  authorizer: Authorizer,
  authenticated: UserInfo | undefined,
  req: { method: string; url: URL; headers: DistinctHeaders },
  info: RequestInfo,
): Promise<UserInfo> {
  const user = await impersonate(authorizer, authenticated ?? ANONYMOUS_USER, req.headers);
  const attrs = attributesFor(user, info, req.method, req.url.searchParams);
  const d = await authorizer.authorize(attrs);
  if (!d.allowed) throw forbiddenError(attrs, d.reason);
  return user;
}

