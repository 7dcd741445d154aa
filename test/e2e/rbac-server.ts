import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../lib/log.js';
import { chainAdmission, namespaceLifecycle } from '../../control/apiserver/admission/namespace-lifecycle.js';
import { certificateAuthenticator, type Authenticator, type UserInfo } from '../../control/apiserver/authn.js';
import { authorizeRequest, createStorageAuthorizer, rbacEscalationAdmission, storageLister, ensureBootstrapPolicy, handleAccessReview, isAccessReview, nodeRestrictionAdmission, type Authorizer } from '../../control/apiserver/authz/index.js';
import { ensureSystemNamespaces } from '../../control/apiserver/bootstrap.js';
import { parseRequestInfo } from '../../control/apiserver/http/request-info.js';
import { ApiError } from '../../control/apiserver/http/status.js';
import { decodeKubeProtobuf, isKubeProtobuf } from '../../control/apiserver/protobuf/index.js';
import { ensureClusterPki, kubeconfigYaml, signClientCert, type ClusterPki } from '../../control/apiserver/pki.js';
import { ApiServer, decodeBody } from '../../control/apiserver/server.js';
import { ObjectStorage } from '../../control/apiserver/storage/object-storage.js';
import { MemoryStore } from '../../control/store/index.js';

/**
 * Test-only: an in-process API server with TLS, client-certificate authentication and the Node,RBAC authorizer
 * composed around ApiServer's request handler, until server.ts takes the authorization hook itself. Mirrors the
 * wiring described for `skiff control`: authorize after authentication, answer access reviews, NodeRestriction in
 * admission.
 */

type Handle = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

const PUBLIC_PATH = /^\/(healthz|livez|readyz|version)\/?$/;

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const body = Buffer.concat(chunks);
  // kubectl's typed clients (auth can-i) send protobuf.
  if (isKubeProtobuf(req.headers['content-type'])) {
    const decoded = decodeKubeProtobuf(body);
    return { apiVersion: decoded.apiVersion, kind: decoded.kind, ...decoded.object };
  }
  return decodeBody(body, req.headers['content-type'] ?? 'application/json');
}

/** Puts authorization in front of the server's handler (ApiServer.listen calls `this.handle`). */
export function withAuthorization(server: ApiServer, authorizer: Authorizer, authenticate: Authenticator, requestUser: AsyncLocalStorage<UserInfo>): void {
  const target = server as unknown as { handle: Handle };
  const original = target.handle.bind(server);
  target.handle = async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://apiserver');
    const method = req.method ?? 'GET';
    const authenticated = await authenticate(req);
    // Nobody vouches for the request: the server answers 401 (or the public endpoints) itself.
    if (!authenticated && !PUBLIC_PATH.test(url.pathname)) return original(req, res);
    const info = parseRequestInfo(method, url.pathname, url.searchParams);
    const user = await authorizeRequest(authorizer, authenticated, { method, url, headers: req.headersDistinct }, info);
    if (isAccessReview(info)) {
      if (method !== 'POST') throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource (${method})`);
      const review = await handleAccessReview(authorizer, user, info, await readJson(req));
      const text = JSON.stringify(review);
      res.writeHead(201, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    return requestUser.run(user, () => original(req, res));
  };
}

export interface RbacTestServer {
  dir: string;
  port: number;
  pki: ClusterPki;
  server: ApiServer;
  /** A kubeconfig for the admin (system:masters). */
  adminKubeconfig: string;
  /** A kubeconfig with a client certificate for `user` in `groups`, signed by the cluster CA. */
  kubeconfigFor(user: string, groups: string[]): string;
  /** Client certificate and key for direct HTTPS requests. */
  credentials(user: string, groups: string[]): { cert: string; key: string; ca: string };
  stop(): Promise<void>;
}

export async function startRbacServer(): Promise<RbacTestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-rbac-'));
  const pki = await ensureClusterPki(join(dir, 'pki'), { serverNames: ['localhost', '127.0.0.1'], serverUrl: 'https://127.0.0.1:0' });
  const store = new MemoryStore();
  const storage = new ObjectStorage(store);
  const authenticate = certificateAuthenticator();
  // The user a request acts as, for NodeRestriction (server.ts would put it in the RequestContext instead).
  const requestUser = new AsyncLocalStorage<UserInfo>();
  const authorizer = createStorageAuthorizer(storage);
  const server = new ApiServer({
    store,
    logger: silentLogger(),
    tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert },
    authenticate,
    admission: chainAdmission([
      namespaceLifecycle(storage),
      nodeRestrictionAdmission(() => requestUser.getStore()),
      rbacEscalationAdmission({ lister: storageLister(storage), authorize: (a) => authorizer.authorize(a), userOf: () => requestUser.getStore() }),
    ]),
  });
  withAuthorization(server, authorizer, authenticate, requestUser);
  await ensureSystemNamespaces(server.rest);
  await ensureBootstrapPolicy(server.storage);
  const port = await server.listen(0, '127.0.0.1');
  const creds = new Map<string, { cert: string; key: string; ca: string }>();
  const credentials = (user: string, groups: string[]): { cert: string; key: string; ca: string } => {
    const k = `${user}|${groups.join(',')}`;
    let c = creds.get(k);
    if (!c) {
      const pair = signClientCert(pki.ca, user, groups);
      c = { ...pair, ca: pki.ca.cert };
      creds.set(k, c);
    }
    return c;
  };
  const kubeconfigFor = (user: string, groups: string[]): string => {
    const c = credentials(user, groups);
    const safe = `${user}-${groups.join('-')}`.replace(/[^a-zA-Z0-9_-]/g, '_');
    const certPath = join(dir, `${safe}.crt`);
    const keyPath = join(dir, `${safe}.key`);
    writeFileSync(certPath, c.cert);
    writeFileSync(keyPath, c.key, { mode: 0o600 });
    const path = join(dir, `${safe}.kubeconfig`);
    writeFileSync(path, kubeconfigYaml({ server: `https://127.0.0.1:${port}`, caPath: pki.paths.caCert, certPath, keyPath, user: safe }));
    return path;
  };
  const adminKubeconfig = join(dir, 'admin.kubeconfig');
  writeFileSync(adminKubeconfig, kubeconfigYaml({ server: `https://127.0.0.1:${port}`, caPath: pki.paths.caCert, certPath: pki.paths.adminCert, keyPath: pki.paths.adminKey }));
  return {
    dir,
    port,
    pki,
    server,
    adminKubeconfig,
    kubeconfigFor,
    credentials,
    async stop() {
      await server.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
