import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../lib/log.js';
import { chainAdmission, namespaceLifecycle } from '../../control/apiserver/admission/namespace-lifecycle.js';
import { certificateAuthenticator } from '../../control/apiserver/authn.js';
import { createStorageAuthorizer, rbacEscalationAdmission, storageLister, ensureBootstrapPolicy, nodeRestrictionAdmission } from '../../control/apiserver/authz/index.js';
import { ensureSystemNamespaces } from '../../control/apiserver/bootstrap.js';
import { ensureClusterPki, kubeconfigYaml, signClientCert, type ClusterPki } from '../../control/apiserver/pki.js';
import { ApiServer } from '../../control/apiserver/server.js';
import { ObjectStorage } from '../../control/apiserver/storage/object-storage.js';
import { MemoryStore } from '../../control/store/index.js';

/**
 * Test-only: an in-process API server with TLS, client-certificate authentication, the Node,RBAC authorizer and the
 * admission plugins that read the requester (NodeRestriction, RBAC escalation), wired as `skiff control` wires them.
 */

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
  const authorizer = createStorageAuthorizer(storage);
  const server = new ApiServer({
    store,
    logger: silentLogger(),
    tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert },
    authenticate,
    authorizer,
    admission: chainAdmission([
      namespaceLifecycle(storage),
      nodeRestrictionAdmission(),
      rbacEscalationAdmission({ lister: storageLister(storage), authorize: (a) => authorizer.authorize(a) }),
    ]),
  });
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
