import { parseFieldSelector, SelectorError, type FieldRequirement } from '../../api/selectors.js';
import type { UserInfo } from '../authn.js';
import type { RequestInfo } from '../http/request-info.js';

/** The user every request nobody vouches for runs as, and its group (upstream's user.Anonymous / AllUnauthenticated). */
export const ANONYMOUS_USER: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

/**
 * What an authorizer decides on: upstream's authorizer.Attributes. A resource request names verb, API group, version,
 * resource, subresource, namespace and object name; a non-resource request a lowercase HTTP verb and a path.
 */
export interface Attributes {
  user: UserInfo;
  verb: string;
  resourceRequest: boolean;
  /** Non-resource requests: the URL path. */
  path: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  /** The request's field selector (list/watch), for authorizers that scope by it (the node authorizer). */
  fieldSelector?: FieldRequirement[];
}

/** Builds attributes for a resource request from plain values (SubjectAccessReviews, tests). */
export function resourceAttributes(
  user: UserInfo,
  a: { verb: string; group?: string; version?: string; resource: string; subresource?: string; namespace?: string; name?: string; fieldSelector?: FieldRequirement[] },
): Attributes {
  return {
    user,
    verb: a.verb,
    resourceRequest: true,
    path: '',
    apiGroup: a.group ?? '',
    apiVersion: a.version ?? '',
    resource: a.resource,
    subresource: a.subresource ?? '',
    namespace: a.namespace ?? '',
    name: a.name ?? '',
    ...(a.fieldSelector ? { fieldSelector: a.fieldSelector } : {}),
  };
}

export function nonResourceAttributes(user: UserInfo, verb: string, path: string): Attributes {
  return { user, verb, resourceRequest: false, path, apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '' };
}

/** The subresources of a namespace: /api/v1/namespaces/{name}/status and /finalize address the namespace itself. */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

/**
 * Upstream's RequestInfoFactory + GetAuthorizerAttributes: the verb a request needs (GET on a collection → list,
 * ?watch → watch, POST → create, PUT → update, PATCH → patch, DELETE on a collection → deletecollection; non-resource
 * requests use the lowercase HTTP method), a namespace object's own name as its namespace, and a list or watch with
 * `fieldSelector=metadata.name=X` as a request for object X.
 */
export function attributesFor(user: UserInfo, info: RequestInfo, method: string, query: URLSearchParams = new URLSearchParams()): Attributes {
  if (info.kind === 'nonresource') return nonResourceAttributes(user, method.toLowerCase(), info.path);
  let { resource, namespace, name, subresource } = info;
  // "/api/v1/namespaces/{ns}/status" parses as resource "status" in namespace {ns}; upstream reads it as the
  // namespace's status subresource.
  if (info.group === '' && namespace !== undefined && name === undefined && NAMESPACE_SUBRESOURCES.has(resource)) {
    subresource = resource;
    name = namespace;
    resource = 'namespaces';
  }
  // A namespace object is "in" itself, so a RoleBinding in namespace X can grant reading namespace X.
  if (info.group === '' && resource === 'namespaces' && name !== undefined && namespace === undefined) namespace = name;
  let fieldSelector: FieldRequirement[] | undefined;
  if (info.verb === 'list' || info.verb === 'watch' || info.verb === 'deletecollection') {
    try {
      fieldSelector = parseFieldSelector(query.get('fieldSelector') ?? '');
    } catch (err) {
      if (!(err instanceof SelectorError)) throw err;
      fieldSelector = [];
    }
    if (name === undefined && info.verb !== 'deletecollection') {
      const byName = fieldSelector.filter((r) => r.field === 'metadata.name' && r.operator === 'Equals');
      if (byName.length === 1 && isPathSegmentName(byName[0]!.value)) name = byName[0]!.value;
    }
  }
  return resourceAttributes(user, {
    verb: info.verb,
    group: info.group,
    version: info.version,
    resource,
    ...(subresource !== undefined ? { subresource } : {}),
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(fieldSelector ? { fieldSelector } : {}),
  });
}

/** Upstream's path.IsValidPathSegmentName: not "." or "..", no "/" or "%". */
function isPathSegmentName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('%');
}

/** "pods", "pods/log": the resource a rule has to name. */
export function combinedResource(attrs: Pick<Attributes, 'resource' | 'subresource'>): string {
  return attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
}
