import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { KubeClient } from '../../control/client/index.js';

/**
 * Who may use the node server, as the kubelet decides it: client certificates signed by --client-ca-file, bearer
 * tokens checked with a TokenReview (webhook authentication), then a SubjectAccessReview for the node resource
 * (webhook authorization). Decisions are cached for a while, as upstream's webhook caches do (allowed 5 min, denied
 * 30 s; tokens 2 min).
 */

export interface NodeUser {
  name: string;
  uid?: string;
  groups: string[];
}

export interface NodeRequestAttributes {
  verb: string;
  resource: 'nodes';
  subresource: string;
  name: string;
}

const isSubpath = (path: string, prefix: string): boolean => {
  const p = prefix.replace(/\/$/, '');
  return path === p || path.startsWith(`${p}/`);
};

/**
 * Upstream's node authorizer attributes: the HTTP method as the verb (POST create, GET get, PUT update, PATCH patch,
 * DELETE delete), resource nodes with the node's name, subresource stats for /stats, metrics for /metrics, log for
 * /logs, and proxy for everything else (/exec, /attach, /portForward, /containerLogs, /pods ...).
 */
export function nodeRequestAttributes(method: string, path: string, nodeName: string): NodeRequestAttributes {
  const verbs: Record<string, string> = { POST: 'create', GET: 'get', HEAD: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };
  const subresource = isSubpath(path, '/stats') ? 'stats' : isSubpath(path, '/metrics') ? 'metrics' : isSubpath(path, '/logs') ? 'log' : 'proxy';
  return { verb: verbs[method] ?? '', resource: 'nodes', subresource, name: nodeName };
}

export function forbiddenMessage(user: NodeUser, a: NodeRequestAttributes): string {
  return `Forbidden (user=${user.name}, verb=${a.verb}, resource=${a.resource}, subresource=${a.subresource})`;
}

/** The user a verified client certificate names: CN the user, each O a group. */
export function certificateUser(req: IncomingMessage): NodeUser | undefined {
  const socket = req.socket as TLSSocket;
  if (typeof socket.getPeerCertificate !== 'function' || !socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  const cn = cert?.subject?.CN;
  if (!cn) return undefined;
  const o = cert.subject.O;
  const groups = Array.isArray(o) ? o : o ? [o] : [];
  return { name: Array.isArray(cn) ? (cn[0] as string) : cn, groups: [...groups, 'system:authenticated'] };
}

export function bearerToken(req: IncomingMessage): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return m?.[1];
}

export interface NodeAuthOptions {
  nodeName: string;
  /** The API server for TokenReviews and SubjectAccessReviews; without one only certificates count, and they may do anything. */
  client?: KubeClient;
  now?: () => number;
}

interface Cached<T> {
  value: T;
  until: number;
}

const TOKEN_REVIEWS = { group: 'authentication.k8s.io', version: 'v1', resource: 'tokenreviews' };
const SUBJECT_ACCESS_REVIEWS = { group: 'authorization.k8s.io', version: 'v1', resource: 'subjectaccessreviews' };

export class NodeAuth {
  private readonly tokens = new Map<string, Cached<NodeUser | undefined>>();
  private readonly decisions = new Map<string, Cached<boolean>>();
  private readonly now: () => number;

  constructor(private readonly opts: NodeAuthOptions) {
    this.now = opts.now ?? (() => Date.now());
  }

  /** The user behind the request, or undefined (401). */
  async authenticate(req: IncomingMessage): Promise<NodeUser | undefined> {
    const fromCert = certificateUser(req);
    if (fromCert) return fromCert;
    const token = bearerToken(req);
    if (!token || !this.opts.client) return undefined;
    const hit = this.tokens.get(token);
    if (hit && hit.until > this.now()) return hit.value;
    const review = (await this.opts.client.create(TOKEN_REVIEWS, undefined, {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      metadata: {},
      spec: { token },
    } as never)) as { status?: { authenticated?: boolean; user?: { username?: string; uid?: string; groups?: string[] } } };
    const u = review.status?.authenticated ? review.status.user : undefined;
    const user = u?.username ? { name: u.username, ...(u.uid ? { uid: u.uid } : {}), groups: u.groups ?? [] } : undefined;
    if (this.tokens.size > 10_000) this.tokens.clear();
    this.tokens.set(token, { value: user, until: this.now() + 120_000 });
    return user;
  }

  /** Whether the user may make this request of the node (403 when not). */
  async authorize(user: NodeUser, a: NodeRequestAttributes): Promise<boolean> {
    const client = this.opts.client;
    if (!client) return true;
    const key = JSON.stringify([user.name, user.uid ?? '', [...user.groups].sort(), a.verb, a.subresource, a.name]);
    const hit = this.decisions.get(key);
    if (hit && hit.until > this.now()) return hit.value;
    const review = (await client.create(SUBJECT_ACCESS_REVIEWS, undefined, {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      metadata: {},
      spec: {
        user: user.name,
        groups: user.groups,
        ...(user.uid ? { uid: user.uid } : {}),
        resourceAttributes: { verb: a.verb, version: 'v1', resource: a.resource, subresource: a.subresource, name: a.name },
      },
    } as never)) as { status?: { allowed?: boolean } };
    const allowed = review.status?.allowed === true;
    if (this.decisions.size > 10_000) this.decisions.clear();
    this.decisions.set(key, { value: allowed, until: this.now() + (allowed ? 300_000 : 30_000) });
    return allowed;
  }
}
