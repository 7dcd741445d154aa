import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/** The few parts of JWS/JWT that service account tokens need: RS256, compact form, a key id per signing key. */

const b64url = (buf: Buffer | string): string => Buffer.from(buf).toString('base64url');

/** Upstream's key id: the unpadded base64url SHA-256 of the DER public key. */
export function keyId(publicKey: KeyObject): string {
  return b64url(createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest());
}

export function signJwt(claims: Record<string, unknown>, privateKeyPem: string): string {
  const key = createPrivateKey(privateKeyPem);
  const header = { alg: 'RS256', kid: keyId(createPublicKey(key)) };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${b64url(sign('sha256', Buffer.from(input), key))}`;
}

/** The claims of a token signed by one of the keys; undefined for anything else (never throws on bad input). */
export function verifyJwt(token: string, publicKeys: readonly KeyObject[]): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) return undefined;
  const [h, c, s] = parts as [string, string, string];
  let header: { alg?: unknown; kid?: unknown };
  let claims: unknown;
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as { alg?: unknown; kid?: unknown };
    claims = JSON.parse(Buffer.from(c, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (header.alg !== 'RS256' || !claims || typeof claims !== 'object' || Array.isArray(claims)) return undefined;
  const signature = Buffer.from(s, 'base64url');
  const candidates = typeof header.kid === 'string' ? publicKeys.filter((k) => keyId(k) === header.kid) : publicKeys;
  for (const key of candidates.length ? candidates : publicKeys) {
    try {
      if (verify('sha256', Buffer.from(`${h}.${c}`), key, signature)) return claims as Record<string, unknown>;
    } catch {
      // a key of another type: try the next
    }
  }
  return undefined;
}
