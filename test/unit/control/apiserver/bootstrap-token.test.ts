import { describe, expect, it } from 'vitest';
import { bootstrapTokenSecret, bootstrapTokenUser, type TokenSecret } from '../../../../control/apiserver/bootstrap-token.js';

const NOW = Date.parse('2026-11-30T12:00:00Z');
const secret = (over: Partial<Record<string, string>> = {}, expiration = new Date(NOW + 3600_000)): TokenSecret => {
  const s = bootstrapTokenSecret('abcdef', '0123456789abcdef', { expiration }) as unknown as TokenSecret;
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) delete s.data![k];
    else s.data![k] = Buffer.from(v).toString('base64');
  }
  return s;
};

describe('bootstrap tokens', () => {
  it('authenticates a valid token as system:bootstrap:<id> with the bootstrappers groups', () => {
    expect(bootstrapTokenUser('abcdef.0123456789abcdef', secret(), NOW)).toEqual({
      name: 'system:bootstrap:abcdef',
      groups: ['system:bootstrappers', 'system:bootstrappers:kubeadm:default-node-token', 'system:authenticated'],
    });
  });

  it('rejects a wrong secret, an expired token, a token not meant for authentication, and malformed tokens', () => {
    expect(bootstrapTokenUser('abcdef.0123456789abcdee', secret(), NOW)).toBeUndefined();
    expect(bootstrapTokenUser('abcdef.0123456789abcdef', secret({}, new Date(NOW - 1)), NOW)).toBeUndefined();
    expect(bootstrapTokenUser('abcdef.0123456789abcdef', secret({ 'usage-bootstrap-authentication': undefined }), NOW)).toBeUndefined();
    expect(bootstrapTokenUser('ABCDEF.0123456789abcdef', secret(), NOW)).toBeUndefined();
    expect(bootstrapTokenUser('abcdef.0123456789abcdef', { ...secret(), type: 'Opaque' }, NOW)).toBeUndefined();
    expect(bootstrapTokenUser('abcdef.0123456789abcdef', undefined, NOW)).toBeUndefined();
  });

  it('never lets extra groups outside system:bootstrappers:* through', () => {
    const u = bootstrapTokenUser('abcdef.0123456789abcdef', secret({ 'auth-extra-groups': 'system:masters,system:bootstrappers:team' }), NOW);
    expect(u?.groups).toEqual(['system:bootstrappers', 'system:bootstrappers:team', 'system:authenticated']);
  });
});
