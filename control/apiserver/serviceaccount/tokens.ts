import { randomUUID, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { bearerToken, CREDENTIAL_ID_KEY, type Authenticator, type UserInfo } from '../authn.js';
import { ApiError } from '../http/status.js';
import { signJwt, verifyJwt } from './jwt.js';
import { rfc3339 } from '../../api/time.js';

/**
 * Bound service account tokens, as upstream's TokenRequest API issues them (serviceaccounts/<name>/token) and its
 * service account authenticator accepts them: RS256 JWTs naming the account, the audiences, an expiry and the
 * object they are bound to; valid only while that account (and pod) still exist with the same uid.
 */

export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
export const MIN_EXPIRATION_SECONDS = 600;

export interface ObjectRef {
  kind: string;
  name: string;
  uid: string;
}

export interface TokenLookup {
  serviceAccount(namespace: string, name: string): Promise<{ uid: string } | undefined>;
  pod(namespace: string, name: string): Promise<{ uid: string; nodeName?: string; serviceAccountName?: string; deleting?: boolean } | undefined>;
  secret(namespace: string, name: string): Promise<{ uid: string } | undefined>;
  /** For a pod-bound token's node claim (its uid); a lookup without it leaves the claim at the node's name. */
  node?(name: string): Promise<{ uid: string } | undefined>;
}

export interface ServiceAccountTokenConfig {
  issuer: string;
  /** The API server's own audiences (upstream's --api-audiences; default: the issuer). */
  audiences: string[];
  signingKeyPem: string;
  publicKeys: KeyObject[];
  /** Upstream's --service-account-max-token-expiration (0: no limit). */
  maxExpirationSeconds?: number;
}

export const TokenRequestBody = z.object({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  spec: z
    .object({
      audiences: z.array(z.string()).nullable().optional(),
      expirationSeconds: z.number().int().nullable().optional(),
      boundObjectRef: z.object({ kind: z.string().optional(), apiVersion: z.string().optional(), name: z.string().optional(), uid: z.string().optional() }).nullable().optional(),
    })
    .default({}),
});

const invalid = (field: string, value: unknown, detail: string): ApiError =>
  new ApiError(422, 'Invalid', `TokenRequest.authentication.k8s.io "" is invalid: ${field}: Invalid value: ${JSON.stringify(value)}: ${detail}`, { kind: 'TokenRequest', group: 'authentication.k8s.io', causes: [{ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(value)}: ${detail}`, field }] });

/** POST serviceaccounts/<name>/token: the TokenRequest answered with a signed token. */
export async function issueToken(config: ServiceAccountTokenConfig, lookup: TokenLookup, namespace: string, saName: string, body: unknown, nowMs: number): Promise<Record<string, unknown>> {
  const parsed = TokenRequestBody.safeParse(body ?? {});
  if (!parsed.success) throw new ApiError(400, 'BadRequest', `invalid TokenRequest: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const spec = parsed.data.spec;
  const sa = await lookup.serviceAccount(namespace, saName);
  if (!sa) throw new ApiError(404, 'NotFound', `serviceaccounts "${saName}" not found`, { name: saName, kind: 'serviceaccounts' });
  let expirationSeconds = spec.expirationSeconds ?? 3600;
  if (expirationSeconds < MIN_EXPIRATION_SECONDS) throw invalid('spec.expirationSeconds', expirationSeconds, 'may not specify a duration less than 10 minutes');
  if (expirationSeconds > 2 ** 32) throw invalid('spec.expirationSeconds', expirationSeconds, 'may not specify a duration larger than 2^32 seconds');
  if (config.maxExpirationSeconds && expirationSeconds > config.maxExpirationSeconds) expirationSeconds = config.maxExpirationSeconds;
  const audiences = spec.audiences && spec.audiences.length ? spec.audiences : config.audiences;
  const claims: Record<string, unknown> = {};
  const k8s: Record<string, unknown> = { namespace, serviceaccount: { name: saName, uid: sa.uid } };
  const ref = spec.boundObjectRef;
  if (ref) {
    const name = ref.name ?? '';
    if (ref.kind === 'Pod') {
      const pod = await lookup.pod(namespace, name);
      if (!pod) throw new ApiError(404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' });
      if ((pod.serviceAccountName ?? '') !== saName) {
        throw new ApiError(400, 'BadRequest', `cannot bind token for serviceaccount "${saName}" to pod running with different serviceaccount name.`);
      }
      if (ref.uid && ref.uid !== pod.uid) throw new ApiError(409, 'Conflict', `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
      k8s.pod = { name, uid: pod.uid };
      // The pod's node, with its uid when the Node exists (its name alone otherwise), as upstream since 1.30.
      if (pod.nodeName) {
        const node = await lookup.node?.(pod.nodeName);
        k8s.node = { name: pod.nodeName, ...(node ? { uid: node.uid } : {}) };
      }
    } else if (ref.kind === 'Secret') {
      const secret = await lookup.secret(namespace, name);
      if (!secret) throw new ApiError(404, 'NotFound', `secrets "${name}" not found`, { name, kind: 'secrets' });
      k8s.secret = { name, uid: secret.uid };
    } else {
      throw invalid('spec.boundObjectRef.kind', ref.kind ?? '', 'supported values: "Pod", "Secret"');
    }
  }
  const iat = Math.floor(nowMs / 1000);
  const exp = iat + expirationSeconds;
  Object.assign(claims, { aud: audiences, exp, iat, iss: config.issuer, jti: randomUUID(), 'kubernetes.io': k8s, nbf: iat, sub: `system:serviceaccount:${namespace}:${saName}` });
  const token = signJwt(claims, config.signingKeyPem);
  return {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name: saName, namespace, creationTimestamp: null },
    spec: { audiences, expirationSeconds, boundObjectRef: ref ?? null },
    status: { token, expirationTimestamp: rfc3339(new Date(exp * 1000)) },
  };
}

interface Claims {
  iss?: unknown;
  aud?: unknown;
  exp?: unknown;
  nbf?: unknown;
  sub?: unknown;
  jti?: unknown;
  'kubernetes.io'?: {
    namespace?: string;
    serviceaccount?: { name?: string; uid?: string };
    pod?: { name?: string; uid?: string };
    secret?: { name?: string; uid?: string };
    node?: { name?: string; uid?: string };
  };
}

/** Who a token names: its service account, the objects it is bound to, and its id. */
export interface TokenSubject {
  namespace: string;
  name: string;
  uid: string;
  pod?: { name: string; uid: string };
  secret?: { name: string; uid: string };
  node?: { name: string; uid?: string };
  jti?: string;
}

/** Who a token's claims name, if they are acceptable now (issuer, audience, time window); the lookups come after. Pure. */
export function checkClaims(claims: Claims, config: Pick<ServiceAccountTokenConfig, 'issuer' | 'audiences'>, nowMs: number): TokenSubject | undefined {
  if (claims.iss !== config.issuer) return undefined;
  const aud = Array.isArray(claims.aud) ? claims.aud : typeof claims.aud === 'string' ? [claims.aud] : [];
  if (!aud.some((a) => config.audiences.includes(a as string))) return undefined;
  const now = Math.floor(nowMs / 1000);
  // A minute of leeway for clock skew, as upstream's validator allows.
  if (typeof claims.exp !== 'number' || claims.exp + 60 < now) return undefined;
  if (typeof claims.nbf === 'number' && claims.nbf - 60 > now) return undefined;
  const k = claims['kubernetes.io'];
  const ns = k?.namespace;
  const sa = k?.serviceaccount;
  if (!ns || !sa?.name || !sa.uid || claims.sub !== `system:serviceaccount:${ns}:${sa.name}`) return undefined;
  return {
    namespace: ns,
    name: sa.name,
    uid: sa.uid,
    ...(k?.pod?.name && k.pod.uid ? { pod: { name: k.pod.name, uid: k.pod.uid } } : {}),
    ...(k?.secret?.name && k.secret.uid ? { secret: { name: k.secret.name, uid: k.secret.uid } } : {}),
    ...(k?.node?.name ? { node: { name: k.node.name, ...(k.node.uid ? { uid: k.node.uid } : {}) } } : {}),
    ...(typeof claims.jti === 'string' && claims.jti !== '' ? { jti: claims.jti } : {}),
  };
}

/**
 * The user a token authenticates as, with upstream's extra: the pod it is bound to (name and uid), the node that pod
 * runs on, and the token's id as its credential id ("JTI=<jti>").
 */
export function serviceAccountUser(subject: TokenSubject): UserInfo {
  const { namespace, name, uid } = subject;
  const extra: Record<string, string[]> = {};
  if (subject.pod) {
    extra['authentication.kubernetes.io/pod-name'] = [subject.pod.name];
    extra['authentication.kubernetes.io/pod-uid'] = [subject.pod.uid];
  }
  if (subject.jti) extra[CREDENTIAL_ID_KEY] = [`JTI=${subject.jti}`];
  if (subject.node) {
    extra['authentication.kubernetes.io/node-name'] = [subject.node.name];
    if (subject.node.uid) extra['authentication.kubernetes.io/node-uid'] = [subject.node.uid];
  }
  return {
    name: `system:serviceaccount:${namespace}:${name}`,
    uid,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
    ...(Object.keys(extra).length > 0 ? { extra } : {}),
  };
}

/** upstream's service account token authenticator, for the bound tokens this server issues. */
export function serviceAccountTokenAuthenticator(config: ServiceAccountTokenConfig, lookup: TokenLookup, now: () => number = Date.now): Authenticator {
  return async (req) => {
    const token = bearerToken(req);
    // A JWT has three dot-separated parts; bootstrap and static tokens never look like that.
    if (!token || token.split('.').length !== 3) return undefined;
    const claims = verifyJwt(token, config.publicKeys);
    if (!claims) return undefined;
    const who = checkClaims(claims as Claims, config, now());
    if (!who) return undefined;
    const sa = await lookup.serviceAccount(who.namespace, who.name);
    if (!sa || sa.uid !== who.uid) return undefined;
    if (who.pod) {
      const pod = await lookup.pod(who.namespace, who.pod.name);
      if (!pod || pod.uid !== who.pod.uid) return undefined;
    }
    if (who.secret) {
      const secret = await lookup.secret(who.namespace, who.secret.name);
      if (!secret || secret.uid !== who.secret.uid) return undefined;
    }
    return serviceAccountUser(who);
  };
}
