import { findResource, type ResourceDef } from '../resources.js';
import { badRequest } from './status.js';

/** A percent-decoded path segment; a malformed escape ("%ZZ") is the client's error, as Go's URL parser makes it. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest(`invalid URL escape in path segment "${segment.length > 100 ? `${segment.slice(0, 100)}...` : segment}"`);
  }
}

/**
 * What a request is about, parsed from its method and path the way upstream's RequestInfoFactory does:
 * /api/v1/namespaces/{ns}/{resource}/{name}/{subresource} and /apis/{group}/{version}/...
 */
export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export interface ResourceRequest {
  kind: 'resource';
  verb: Verb;
  group: string;
  version: string;
  resource: string;
  def: ResourceDef | undefined;
  namespace?: string;
  name?: string;
  subresource?: string;
  /** Path segments after the subresource (proxy paths). */
  rest: string[];
}

export interface NonResourceRequest {
  kind: 'nonresource';
  path: string;
}

export type RequestInfo = ResourceRequest | NonResourceRequest;

export function parseRequestInfo(method: string, pathname: string, query: URLSearchParams): RequestInfo {
  const parts = pathname.split('/').filter(Boolean).map(decodeSegment);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 2) {
    group = '';
    version = parts[1] as string;
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    group = parts[1] as string;
    version = parts[2] as string;
    rest = parts.slice(3);
  } else {
    return { kind: 'nonresource', path: pathname };
  }
  if (rest.length === 0) return { kind: 'nonresource', path: pathname };

  let namespace: string | undefined;
  // "namespaces/{ns}/{resource}..." addresses a namespaced collection; "namespaces/{ns}" alone is the namespace object.
  // ...except "namespaces/{ns}/status" and "namespaces/{ns}/finalize", the namespace's own subresources.
  const namespaceSubresource = rest[0] === 'namespaces' && rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize') && group === '';
  if (rest[0] === 'namespaces' && rest.length >= 3 && !namespaceSubresource) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const resource = rest[0] as string;
  const name = rest[1];
  const subresource = rest[2];
  const tail = rest.slice(3);
  const isWatch = ['true', '1'].includes(query.get('watch') ?? '');
  let verb: Verb;
  switch (method) {
    case 'GET':
    case 'HEAD':
      verb = name === undefined ? (isWatch ? 'watch' : 'list') : isWatch ? 'watch' : 'get';
      break;
    case 'POST':
      verb = 'create';
      break;
    case 'PUT':
      verb = 'update';
      break;
    case 'PATCH':
      verb = 'patch';
      break;
    case 'DELETE':
      verb = name === undefined ? 'deletecollection' : 'delete';
      break;
    default:
      verb = 'get';
  }
  const def = findResource(group, version, resource);
  return {
    kind: 'resource',
    verb,
    group,
    version,
    resource,
    def,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(subresource !== undefined ? { subresource } : {}),
    rest: tail,
  };
}
