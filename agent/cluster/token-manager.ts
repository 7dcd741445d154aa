import { z } from 'zod';
import type { KubeClient } from '../../control/client/index.js';
import type { Logger } from '../../lib/log.js';
import { MAX_REFRESH_JITTER_MS, requiresRefresh, tokenExpired, type TokenValidity } from './token-refresh.js';

/** The TokenRequest spec the agent sends for a pod's projected token (boundObjectRef: the pod). */
export interface PodTokenRequest {
  audiences?: string[];
  expirationSeconds: number;
  boundObjectRef: { apiVersion: 'v1'; kind: 'Pod'; name: string; uid: string };
}

/** What the server answered: the token and its validity. */
export interface IssuedToken extends TokenValidity {
  token: string;
}

/** POST serviceaccounts/<name>/token, or a fake in tests. */
export type RequestToken = (namespace: string, serviceAccount: string, spec: PodTokenRequest) => Promise<IssuedToken>;

const TokenRequestResponse = z.object({
  spec: z.object({ expirationSeconds: z.number().int().positive().nullish() }).optional(),
  status: z.object({ token: z.string().min(1), expirationTimestamp: z.string() }),
});

/** The TokenRequest API through the agent's client; the answer is checked before the agent trusts it. */
export function clientTokenRequester(client: KubeClient): RequestToken {
  return async (namespace, serviceAccount, spec) => {
    const body = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: {}, spec };
    const raw = await client.create({ group: '', version: 'v1', resource: 'serviceaccounts' }, namespace, body as never, 'token', serviceAccount);
    const parsed = TokenRequestResponse.safeParse(raw);
    if (!parsed.success) throw new Error(`malformed TokenRequest response: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const expiresAtMs = Date.parse(parsed.data.status.expirationTimestamp);
    if (Number.isNaN(expiresAtMs)) throw new Error(`malformed TokenRequest response: status.expirationTimestamp: ${parsed.data.status.expirationTimestamp}`);
    return { token: parsed.data.status.token, expiresAtMs, expirationSeconds: parsed.data.spec?.expirationSeconds ?? spec.expirationSeconds };
  };
}

interface Cached extends IssuedToken {
  podUid: string;
  /** Drawn once per token, so the refresh point is fixed and tests can predict it. */
  jitterMs: number;
}

export interface TokenManagerOptions {
  request: RequestToken;
  logger: Logger;
  now?: () => number;
  /** A number in [0, 1) picking the refresh jitter (Math.random by default). */
  random?: () => number;
}

/** The cache key: non-confidential, safe to log (upstream's keyFunc: account, namespace, audiences, expiry, object). */
export function tokenCacheKey(namespace: string, serviceAccount: string, spec: PodTokenRequest): string {
  const ref = spec.boundObjectRef;
  return JSON.stringify([serviceAccount, namespace, spec.audiences ?? [], spec.expirationSeconds, ref.kind, ref.name, ref.uid]);
}

/**
 * The kubelet's token manager: service account tokens for the pods on this node, requested through the TokenRequest
 * API and cached per account, audiences, lifetime and pod. A cached token is handed out until it needs a refresh
 * (see token-refresh.ts); when a refresh fails the old token is kept while it is still valid. Tokens of a pod that
 * left the node are dropped, expired ones swept.
 */
export class ServiceAccountTokenManager {
  private readonly cache = new Map<string, Cached>();
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly opts: TokenManagerOptions) {
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
  }

  /** GetServiceAccountToken: the cached token, or a fresh one when it needs a refresh; throws when there is none. */
  async get(namespace: string, serviceAccount: string, spec: PodTokenRequest): Promise<string> {
    const key = tokenCacheKey(namespace, serviceAccount, spec);
    const cached = this.cache.get(key);
    if (cached && !requiresRefresh(cached, this.now(), cached.jitterMs)) return cached.token;
    let issued: IssuedToken;
    try {
      issued = await this.opts.request(namespace, serviceAccount, spec);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      if (!cached) throw new Error(`failed to fetch token: ${msg}`);
      if (tokenExpired(cached, this.now())) throw new Error(`token ${key} expired and refresh failed: ${msg}`);
      this.opts.logger.error({ cacheKey: key, err: msg }, "Couldn't update token");
      return cached.token;
    }
    this.cache.set(key, { ...issued, podUid: spec.boundObjectRef.uid, jitterMs: Math.floor(this.random() * (MAX_REFRESH_JITTER_MS / 1000)) * 1000 });
    return issued.token;
  }

  /** DeleteServiceAccountToken: the pod is gone, so are its tokens. */
  deletePod(podUid: string): void {
    for (const [k, t] of this.cache) if (t.podUid === podUid) this.cache.delete(k);
  }

  /** Drops expired tokens (upstream sweeps every minute; the agent does it on each pod's preparation). */
  cleanup(): void {
    const now = this.now();
    for (const [k, t] of this.cache) if (tokenExpired(t, now)) this.cache.delete(k);
  }

  /** How many tokens are cached (for tests and metrics). */
  get size(): number {
    return this.cache.size;
  }
}
