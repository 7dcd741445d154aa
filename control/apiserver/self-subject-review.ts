import { isPlainObject } from '../api/decode.js';
import { userInfoStatus, type UserInfo } from './authn.js';
import type { RequestInfo } from './http/request-info.js';
import { badRequest } from './http/status.js';
import { rfc3339 } from './rest.js';

/**
 * POST authentication.k8s.io/v1 selfsubjectreviews (`kubectl auth whoami`): who the API server takes the caller
 * for, after impersonation, as upstream answers it (201, the user in status.userInfo, nothing stored).
 */

export function isSelfSubjectReview(info: RequestInfo): boolean {
  return info.kind === 'resource' && info.group === 'authentication.k8s.io' && info.version === 'v1' && info.resource === 'selfsubjectreviews' && info.name === undefined;
}

export function reviewSelfSubject(user: UserInfo, body: unknown, now: Date): Record<string, unknown> {
  if (!isPlainObject(body)) throw badRequest('expected a SelfSubjectReview object');
  if (body.kind !== undefined && body.kind !== 'SelfSubjectReview') {
    throw badRequest(`the body of the request was of kind ${JSON.stringify(body.kind)}, expected "SelfSubjectReview"`);
  }
  const metadata = isPlainObject(body.metadata) ? body.metadata : {};
  return {
    kind: 'SelfSubjectReview',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { ...metadata, creationTimestamp: rfc3339(now) },
    status: { userInfo: userInfoStatus(user) },
  };
}
