import { describe, expect, it } from 'vitest';
import { ServiceAccountTokenManager, type PodTokenRequest, type RequestToken } from '../../../../agent/cluster/token-manager.js';
import type { Logger } from '../../../../lib/log.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const silent = { info() {}, warn() {}, error() {}, debug() {}, child: () => silent } as unknown as Logger;

/** A fake TokenRequest API: numbered tokens valid for what was asked, failing on demand; it records each call. */
function fakeApi(clock: { now: number }) {
  const calls: Array<{ namespace: string; sa: string; spec: PodTokenRequest }> = [];
  let failing: string | undefined;
  const request: RequestToken = async (namespace, sa, spec) => {
    calls.push({ namespace, sa, spec });
    if (failing) throw new Error(failing);
    return { token: `tok-${calls.length}`, expiresAtMs: clock.now + spec.expirationSeconds * 1000, expirationSeconds: spec.expirationSeconds };
  };
  return { request, calls, fail: (msg: string | undefined) => (failing = msg) };
}

const spec = (uid: string, extra: Partial<PodTokenRequest> = {}): PodTokenRequest => ({ expirationSeconds: 3600, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: `pod-${uid}`, uid }, ...extra });

describe('the service account token manager', () => {
  const setup = () => {
    const clock = { now: T0 };
    const api = fakeApi(clock);
    const m = new ServiceAccountTokenManager({ request: api.request, logger: silent, now: () => clock.now, random: () => 0 });
    return { clock, api, m };
  };

  it('requests a pod-bound token once and serves it from the cache until it needs a refresh', async () => {
    const { clock, api, m } = setup();
    expect(await m.get('ns', 'default', spec('u1'))).toBe('tok-1');
    expect(api.calls[0]).toEqual({ namespace: 'ns', sa: 'default', spec: spec('u1') });
    clock.now = T0 + 2880_000;
    expect(await m.get('ns', 'default', spec('u1'))).toBe('tok-1');
    expect(api.calls).toHaveLength(1);
    clock.now = T0 + 2881_000;
    expect(await m.get('ns', 'default', spec('u1'))).toBe('tok-2');
    expect(api.calls).toHaveLength(2);
  });

  it('caches per audience, lifetime and pod', async () => {
    const { api, m } = setup();
    await m.get('ns', 'default', spec('u1'));
    await m.get('ns', 'default', spec('u1', { audiences: ['vault'] }));
    await m.get('ns', 'default', spec('u1', { expirationSeconds: 7200 }));
    await m.get('ns', 'default', spec('u2'));
    await m.get('ns', 'default', spec('u1', { audiences: ['vault'] }));
    expect(api.calls).toHaveLength(4);
    expect(m.size).toBe(4);
  });

  it('keeps the old token when a refresh fails while it is valid, and fails once it expired', async () => {
    const { clock, api, m } = setup();
    await m.get('ns', 'default', spec('u1'));
    api.fail('connection refused');
    clock.now = T0 + 3000_000;
    expect(await m.get('ns', 'default', spec('u1'))).toBe('tok-1');
    clock.now = T0 + 3601_000;
    await expect(m.get('ns', 'default', spec('u1'))).rejects.toThrow(/expired and refresh failed: connection refused/);
    await expect(m.get('ns', 'default', spec('u9'))).rejects.toThrow('failed to fetch token: connection refused');
  });

  it('drops the tokens of a deleted pod, and expired tokens on cleanup', async () => {
    const { clock, api, m } = setup();
    await m.get('ns', 'default', spec('u1'));
    await m.get('ns', 'default', spec('u1', { audiences: ['vault'] }));
    await m.get('ns', 'default', spec('u2', { expirationSeconds: 600 }));
    m.deletePod('u1');
    expect(m.size).toBe(1);
    await m.get('ns', 'default', spec('u1'));
    expect(api.calls).toHaveLength(4);
    clock.now = T0 + 601_000;
    m.cleanup();
    expect(m.size).toBe(1);
  });
});
