import type { IncomingMessage } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { TLSSocket } from 'node:tls';
import { createHash, timingSafeEqual } from 'node:crypto';

/** Who is asking: upstream's user.Info. */
export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  /** What the authenticator adds beyond name and groups (upstream's user.Info extra), by key. */
  extra?: Record<string, string[]>;
}

/** The extra key naming the credential a request was authenticated with (upstream's user.CredentialIDKey). */
export const CREDENTIAL_ID_KEY = 'authentication.kubernetes.io/credential-id';

/**
 * A user as authentication.k8s.io's UserInfo reads (SelfSubjectReview, TokenReview): extra only when there is any,
 * its keys in order, as Go encodes a map.
 */
export function userInfoStatus(user: UserInfo): Record<string, unknown> {
  const keys = Object.keys(user.extra ?? {}).sort();
  return {
    username: user.name,
    ...(user.uid ? { uid: user.uid } : {}),
    groups: user.groups,
    ...(keys.length > 0 ? { extra: Object.fromEntries(keys.map((k) => [k, [...(user.extra?.[k] ?? [])]])) } : {}),
  };
}

/** Answers synchronously when it can (certificates, static tokens), or after a lookup (bootstrap tokens). */
export type Authenticator = (req: IncomingMessage) => UserInfo | undefined | Promise<UserInfo | undefined>;

/**
 * Client certificates verified against the cluster CA: CN is the user, each O a group, as upstream's x509
 * authenticator. Every authenticated user is also in system:authenticated, and carries the certificate's SHA-256
 * (of its DER bytes) as its credential id, as upstream's since Kubernetes 1.32 (`kubectl auth whoami` shows it).
 */
export function certificateAuthenticator(): Authenticator {
  // The peer certificate is fixed for the life of a TLS connection, and getPeerCertificate() decodes it into a fresh
  // object on every call (a large share of a small request's CPU): decode once per connection.
  const byConnection = new WeakMap<TLSSocket, UserInfo | null>();
  return (req) => {
    const socket = req.socket as TLSSocket;
    if (typeof socket.getPeerCertificate !== 'function' || !socket.authorized) return undefined;
    let user = byConnection.get(socket);
    if (user === undefined) {
      user = userOfCertificate(socket.getPeerCertificate());
      byConnection.set(socket, user);
    }
    return user ?? undefined;
  };
}

function userOfCertificate(cert: ReturnType<TLSSocket['getPeerCertificate']> | undefined): UserInfo | null {
  if (!cert || !cert.subject) return null;
  const cn = cert.subject.CN;
  if (!cn) return null;
  const o = cert.subject.O;
  const groups = Array.isArray(o) ? o : o ? [o] : [];
  const user: UserInfo = { name: Array.isArray(cn) ? (cn[0] as string) : cn, groups: [...groups, 'system:authenticated'] };
  if (cert.raw) user.extra = { [CREDENTIAL_ID_KEY]: [`X509SHA256=${createHash('sha256').update(cert.raw).digest('hex')}`] };
  return user;
}

interface TokenEntry {
  token: string;
  user: UserInfo;
}

/** Parses a --token-auth-file: CSV lines `token,user,uid,"group1,group2"`. */
export function parseTokenFile(text: string): TokenEntry[] {
  const out: TokenEntry[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const fields: string[] = [];
    const re = /"([^"]*)"|([^,]*)/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(line)) !== null) {
      fields.push(m[1] ?? m[2] ?? '');
      if (re.lastIndex >= line.length) break;
      re.lastIndex++;
    }
    const [token, name, uid, groups] = fields;
    if (!token || !name) throw new Error(`token file line ${i + 1}: expected token,user,uid[,"groups"]`);
    out.push({ token, user: { name, ...(uid ? { uid } : {}), groups: [...(groups ? groups.split(',').map((g) => g.trim()).filter(Boolean) : []), 'system:authenticated'] } });
  }
  return out;
}

export async function tokenFileAuthenticator(path: string): Promise<Authenticator> {
  const entries = parseTokenFile(await readFile(path, 'utf8'));
  return staticTokenAuthenticator(entries);
}

export function staticTokenAuthenticator(entries: TokenEntry[]): Authenticator {
  return (req) => {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) return undefined;
    const presented = Buffer.from(m[1] as string);
    for (const e of entries) {
      const known = Buffer.from(e.token);
      if (known.length === presented.length && timingSafeEqual(known, presented)) return e.user;
    }
    return undefined;
  };
}

/** Tries each authenticator in turn; the first that recognises the request wins. */
export function unionAuthenticator(list: Authenticator[]): Authenticator {
  return async (req) => {
    for (const a of list) {
      const u = await a(req);
      if (u) return u;
    }
    return undefined;
  };
}

/** The bearer token of a request, if any. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return m ? m[1] : undefined;
}
