import type { IncomingMessage } from 'node:http';
import { userInfoStatus, type Authenticator } from './authn.js';
import type { RequestInfo } from './http/request-info.js';
import { badRequest } from './http/status.js';

/**
 * POST authentication.k8s.io/v1 tokenreviews: what the API server's own authenticators make of a bearer token, so
 * node agents (webhook token authentication) accept the same tokens the API server does.
 */

export function isTokenReview(info: RequestInfo): boolean {
  return info.kind === 'resource' && info.group === 'authentication.k8s.io' && info.version === 'v1' && info.resource === 'tokenreviews' && info.name === undefined;
}

export async function reviewToken(authenticate: Authenticator | undefined, body: unknown): Promise<Record<string, unknown>> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('expected a TokenReview object');
  const review = body as { kind?: string; metadata?: Record<string, unknown>; spec?: { token?: unknown; audiences?: unknown } };
  if (review.kind !== undefined && review.kind !== 'TokenReview') throw badRequest(`the body of the request was of kind ${JSON.stringify(review.kind)}, expected "TokenReview"`);
  const token = review.spec?.token;
  const spec = review.spec ?? {};
  const out = (status: Record<string, unknown>): Record<string, unknown> => ({
    kind: 'TokenReview',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { creationTimestamp: null, ...(review.metadata ?? {}) },
    spec,
    status,
  });
  if (typeof token !== 'string' || token === '') return out({ user: {}, error: 'token is required' });
  // Only the token counts: a request with nothing but this Authorization header.
  const probe = { headers: { authorization: `Bearer ${token}` }, socket: {} } as unknown as IncomingMessage;
  const user = await authenticate?.(probe);
  if (!user) return out({ user: {} });
  return out({ authenticated: true, user: userInfoStatus(user) });
}
