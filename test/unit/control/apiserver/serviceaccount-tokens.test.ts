import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signJwt, verifyJwt } from '../../../../control/apiserver/serviceaccount/jwt.js';
import { checkClaims, issueToken, serviceAccountUser, type TokenLookup } from '../../../../control/apiserver/serviceaccount/tokens.js';

const keys = () => generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
const k1 = keys();
const k2 = keys();
const config = { issuer: 'https://issuer', audiences: ['https://issuer'], signingKeyPem: k1.privateKey, publicKeys: [createPublicKey(k1.publicKey)] };
const lookup: TokenLookup = {
  serviceAccount: async (_ns, name) => (name === 'default' ? { uid: 'sa-uid' } : undefined),
  pod: async (_ns, name) => (name === 'p' ? { uid: 'pod-uid', nodeName: 'n1', serviceAccountName: 'default' } : name === 'on-gone-node' ? { uid: 'pod-2', nodeName: 'gone', serviceAccountName: 'default' } : name === 'other-sa' ? { uid: 'pod-3', serviceAccountName: 'builder' } : undefined),
  secret: async () => undefined,
  node: async (name) => (name === 'n1' ? { uid: 'node-uid' } : undefined),
};
const NOW = 1_800_000_000_000;

describe('service account tokens', () => {
  it('signs RS256 tokens that verify with the key and no other', () => {
    const t = signJwt({ a: 1 }, k1.privateKey);
    expect(verifyJwt(t, [createPublicKey(k1.publicKey)])).toEqual({ a: 1 });
    expect(verifyJwt(t, [createPublicKey(k2.publicKey)])).toBeUndefined();
    expect(verifyJwt('a.b', [createPublicKey(k1.publicKey)])).toBeUndefined();
    expect(verifyJwt(`${t}x`, [createPublicKey(k1.publicKey)])).toBeUndefined();
  });

  it('issues bound tokens with upstream\'s claims', async () => {
    const tr = (await issueToken(config, lookup, 'default', 'default', { spec: { boundObjectRef: { kind: 'Pod', name: 'p', uid: 'pod-uid' }, expirationSeconds: 3600 } }, NOW)) as { status: { token: string; expirationTimestamp: string } };
    const claims = verifyJwt(tr.status.token, config.publicKeys) as Record<string, unknown>;
    expect(claims).toMatchObject({ iss: 'https://issuer', aud: ['https://issuer'], sub: 'system:serviceaccount:default:default', exp: NOW / 1000 + 3600, 'kubernetes.io': { namespace: 'default', serviceaccount: { name: 'default', uid: 'sa-uid' }, pod: { name: 'p', uid: 'pod-uid' }, node: { name: 'n1', uid: 'node-uid' } } });
    expect(tr.status.expirationTimestamp).toBe(new Date(NOW + 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    await expect(issueToken(config, lookup, 'default', 'default', { spec: { boundObjectRef: { kind: 'Pod', name: 'p', uid: 'other' } } }, NOW)).rejects.toThrow(/does not match the UID in record/);
    await expect(issueToken(config, lookup, 'default', 'default', { spec: { boundObjectRef: { kind: 'Node', name: 'n1' } } }, NOW)).rejects.toThrow(/supported values/);
  });

  it('names the pod\'s node by name alone when the Node is gone, and refuses a pod running as another account', async () => {
    const tr = (await issueToken(config, lookup, 'default', 'default', { spec: { boundObjectRef: { kind: 'Pod', name: 'on-gone-node' } } }, NOW)) as { status: { token: string } };
    expect((verifyJwt(tr.status.token, config.publicKeys) as Record<string, { node?: unknown }>)['kubernetes.io']?.node).toEqual({ name: 'gone' });
    await expect(issueToken(config, lookup, 'default', 'default', { spec: { boundObjectRef: { kind: 'Pod', name: 'other-sa' } } }, NOW)).rejects.toMatchObject({
      code: 400,
      message: 'cannot bind token for serviceaccount "default" to pod running with different serviceaccount name.',
    });
  });

  it('accepts claims only for its issuer and audiences, within their time window', () => {
    const base = { iss: 'https://issuer', aud: ['https://issuer'], sub: 'system:serviceaccount:ns:sa', exp: NOW / 1000 + 10, nbf: NOW / 1000, 'kubernetes.io': { namespace: 'ns', serviceaccount: { name: 'sa', uid: 'u' } } };
    expect(checkClaims(base, config, NOW)).toEqual({ namespace: 'ns', name: 'sa', uid: 'u' });
    expect(checkClaims({ ...base, iss: 'https://other' }, config, NOW)).toBeUndefined();
    expect(checkClaims({ ...base, aud: ['vault'] }, config, NOW)).toBeUndefined();
    expect(checkClaims({ ...base, exp: NOW / 1000 - 61 }, config, NOW)).toBeUndefined();
    expect(checkClaims({ ...base, sub: 'system:serviceaccount:ns:other' }, config, NOW)).toBeUndefined();
  });

  it('authenticates as the service account, with the bound pod, its node and the token id in extra (as upstream)', async () => {
    const tr = (await issueToken(config, lookup, 'default', 'default', { spec: { boundObjectRef: { kind: 'Pod', name: 'p', uid: 'pod-uid' } } }, NOW)) as { status: { token: string } };
    const claims = verifyJwt(tr.status.token, config.publicKeys) as { jti: string };
    const subject = checkClaims(claims, config, NOW);
    expect(subject).toEqual({ namespace: 'default', name: 'default', uid: 'sa-uid', pod: { name: 'p', uid: 'pod-uid' }, node: { name: 'n1', uid: 'node-uid' }, jti: claims.jti });
    expect(serviceAccountUser(subject as NonNullable<typeof subject>)).toEqual({
      name: 'system:serviceaccount:default:default',
      uid: 'sa-uid',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated'],
      extra: {
        'authentication.kubernetes.io/pod-name': ['p'],
        'authentication.kubernetes.io/pod-uid': ['pod-uid'],
        'authentication.kubernetes.io/credential-id': [`JTI=${claims.jti}`],
        'authentication.kubernetes.io/node-name': ['n1'],
        'authentication.kubernetes.io/node-uid': ['node-uid'],
      },
    });
    // A token without a jti or bound objects (a legacy Secret token): no extra at all.
    expect(serviceAccountUser({ namespace: 'ns', name: 'sa', uid: 'u' })).toEqual({ name: 'system:serviceaccount:ns:sa', uid: 'u', groups: ['system:serviceaccounts', 'system:serviceaccounts:ns', 'system:authenticated'] });
  });
});
