import { describe, expect, it } from 'vitest';
import { issuedAtMs, refreshDueAtMs, requiresRefresh, tokenExpired } from '../../../../agent/cluster/token-refresh.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const s = (n: number): number => n * 1000;
const h = (n: number): number => n * 3600_000;

describe('service account token refresh decisions (upstream token manager)', () => {
  const hour = { expiresAtMs: T0 + h(1), expirationSeconds: 3600 };

  it('keeps a one-hour token until 80% of its lifetime, then refreshes', () => {
    expect(issuedAtMs(hour)).toBe(T0);
    expect(refreshDueAtMs(hour, 0)).toBe(T0 + s(2880));
    expect(requiresRefresh(hour, T0, 0)).toBe(false);
    expect(requiresRefresh(hour, T0 + s(2880), 0)).toBe(false);
    expect(requiresRefresh(hour, T0 + s(2881), 0)).toBe(true);
  });

  it('brings the refresh forward by the jitter', () => {
    expect(requiresRefresh(hour, T0 + s(2875), 0)).toBe(false);
    expect(requiresRefresh(hour, T0 + s(2875), s(10))).toBe(true);
  });

  it('refreshes a long-lived token after 24 hours, well before 80% of its lifetime', () => {
    const year = { expiresAtMs: T0 + h(24 * 365), expirationSeconds: 24 * 365 * 3600 };
    expect(refreshDueAtMs(year, 0)).toBe(T0 + h(24));
    expect(requiresRefresh(year, T0 + h(23), 0)).toBe(false);
    expect(requiresRefresh(year, T0 + h(24) + 1, 0)).toBe(true);
  });

  it('refreshes when the clock reads earlier than the token was issued (a time leap)', () => {
    expect(requiresRefresh(hour, T0 - 1, 0)).toBe(true);
  });

  it('counts a token expired only after its expiry', () => {
    expect(tokenExpired(hour, T0 + h(1))).toBe(false);
    expect(tokenExpired(hour, T0 + h(1) + 1)).toBe(true);
  });
});
