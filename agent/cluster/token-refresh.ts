/**
 * When a projected service account token must be replaced, as upstream's kubelet token manager decides it: pure
 * functions of the token's validity and the time, so tests drive them with any clock.
 */

/** A token is replaced after a day whatever its lifetime (upstream's maxTTL). */
export const MAX_TOKEN_AGE_MS = 24 * 60 * 60 * 1000;
/** Refreshes are spread over up to ten seconds so that many pods' tokens do not renew at once. */
export const MAX_REFRESH_JITTER_MS = 10_000;

/** What the decision needs of an issued token: when it expires and for how long it was issued. */
export interface TokenValidity {
  /** status.expirationTimestamp, in ms since the epoch. */
  expiresAtMs: number;
  /** spec.expirationSeconds as the server granted it (it may cap the request). */
  expirationSeconds: number;
}

/** When the token was issued: its expiry minus its granted lifetime. */
export const issuedAtMs = (t: TokenValidity): number => t.expiresAtMs - t.expirationSeconds * 1000;

/**
 * The moment from which the token needs a refresh: once it is older than 80% of its lifetime (within the last 20%
 * before expiry) or older than 24 hours, whichever comes first, brought forward by the jitter.
 */
export function refreshDueAtMs(t: TokenValidity, jitterMs: number): number {
  const byAge = issuedAtMs(t) + MAX_TOKEN_AGE_MS;
  const byLifetime = t.expiresAtMs - Math.floor((t.expirationSeconds * 20) / 100) * 1000;
  return Math.min(byAge, byLifetime) - jitterMs;
}

/**
 * requiresRefresh: past the refresh point, or the clock reads earlier than the token's issue time (the system time
 * leapt back, so the cached token's age cannot be trusted).
 */
export function requiresRefresh(t: TokenValidity, nowMs: number, jitterMs: number): boolean {
  return nowMs > refreshDueAtMs(t, jitterMs) || nowMs < issuedAtMs(t);
}

/** Past its expiry: no longer worth handing out even when a refresh failed. */
export const tokenExpired = (t: TokenValidity, nowMs: number): boolean => nowMs > t.expiresAtMs;
