import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { bearerToken, type Authenticator, type UserInfo } from './authn.js';
import { rfc3339 } from '../api/time.js';

/**
 * Bootstrap tokens, as upstream's (kubeadm's join tokens): "<id>.<secret>" backed by a Secret
 * kube-system/bootstrap-token-<id> of type bootstrap.kubernetes.io/token. A valid token authenticates as
 * system:bootstrap:<id> in the group system:bootstrappers (plus the Secret's auth-extra-groups), which may only ask
 * for a node client certificate.
 */

export const BOOTSTRAP_TOKEN_SECRET_TYPE = 'bootstrap.kubernetes.io/token';
export const BOOTSTRAP_TOKEN_PATTERN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
export const BOOTSTRAPPERS_GROUP = 'system:bootstrappers';
/** The group kubeadm gives its join tokens, which its RBAC bindings name. */
export const DEFAULT_NODE_TOKEN_GROUP = 'system:bootstrappers:kubeadm:default-node-token';

export interface TokenSecret {
  type?: string;
  metadata: { name?: string; deletionTimestamp?: string };
  data?: Record<string, string>;
}

const decode = (secret: TokenSecret, key: string): string | undefined => {
  const v = secret.data?.[key];
  return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
};

/** Who a presented token is, judged against its Secret at `nowMs`; undefined for anything not valid. Pure. */
export function bootstrapTokenUser(token: string, secret: TokenSecret | undefined, nowMs: number): UserInfo | undefined {
  const m = BOOTSTRAP_TOKEN_PATTERN.exec(token);
  if (!m || !secret) return undefined;
  const [, id, presentedSecret] = m as unknown as [string, string, string];
  if (secret.type !== BOOTSTRAP_TOKEN_SECRET_TYPE || secret.metadata.name !== `bootstrap-token-${id}` || secret.metadata.deletionTimestamp) return undefined;
  if (decode(secret, 'token-id') !== id) return undefined;
  const known = Buffer.from(decode(secret, 'token-secret') ?? '');
  const presented = Buffer.from(presentedSecret);
  if (known.length !== presented.length || !timingSafeEqual(known, presented)) return undefined;
  if (decode(secret, 'usage-bootstrap-authentication') !== 'true') return undefined;
  const expiration = decode(secret, 'expiration');
  if (expiration) {
    const at = Date.parse(expiration);
    if (Number.isNaN(at) || at <= nowMs) return undefined;
  }
  const extra = (decode(secret, 'auth-extra-groups') ?? '')
    .split(',')
    .map((g) => g.trim())
    // Only bootstrapper groups may be added: a token must never make its holder an admin.
    .filter((g) => g.startsWith(`${BOOTSTRAPPERS_GROUP}:`));
  return { name: `system:bootstrap:${id}`, groups: [BOOTSTRAPPERS_GROUP, ...extra, 'system:authenticated'] };
}

/** upstream's --enable-bootstrap-token-auth: looks the token's Secret up for each request that carries one. */
export function bootstrapTokenAuthenticator(lookup: (secretName: string) => Promise<TokenSecret | undefined>, now: () => number = Date.now): Authenticator {
  return async (req: IncomingMessage) => {
    const token = bearerToken(req);
    const m = token ? BOOTSTRAP_TOKEN_PATTERN.exec(token) : null;
    if (!token || !m) return undefined;
    return bootstrapTokenUser(token, await lookup(`bootstrap-token-${m[1]}`), now());
  };
}

/** A new token's Secret, as `kubeadm token create` writes it. */
export function bootstrapTokenSecret(id: string, secret: string, opts: { expiration?: Date; description?: string }): Record<string, unknown> {
  const data: Record<string, string> = {
    'token-id': id,
    'token-secret': secret,
    'usage-bootstrap-authentication': 'true',
    'usage-bootstrap-signing': 'true',
    'auth-extra-groups': DEFAULT_NODE_TOKEN_GROUP,
    ...(opts.expiration ? { expiration: rfc3339(opts.expiration) } : {}),
    ...(opts.description ? { description: opts.description } : {}),
  };
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `bootstrap-token-${id}`, namespace: 'kube-system' },
    type: BOOTSTRAP_TOKEN_SECRET_TYPE,
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  };
}
