// The client identities `skiff up` gives the daemons it starts on the control-plane machine, as kubeadm does for its
// own node: the agent is the node (CN system:node:<nodeName>, O system:nodes, so the Node authorizer and
// NodeRestriction apply to it) and the proxy is system:kube-proxy (bound to system:node-proxier). Each gets a
// kubeconfig of its own under the data dir, with its certificate signed by the cluster CA and embedded.
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { signClientCert, type KeyPairPem } from '../control/apiserver/pki.js';
import { loadKubeconfig } from '../control/client/index.js';

export interface ComponentIdentity {
  /** The kubeconfig's user and context name. */
  name: string;
  commonName: string;
  organizations: string[];
}

export const nodeIdentity = (nodeName: string): ComponentIdentity => ({ name: `system:node:${nodeName}`, commonName: `system:node:${nodeName}`, organizations: ['system:nodes'] });
export const proxyIdentity = (): ComponentIdentity => ({ name: 'system:kube-proxy', commonName: 'system:kube-proxy', organizations: [] });

export const agentKubeconfigPath = (dataDir: string): string => join(dataDir, 'agent.kubeconfig');
export const proxyKubeconfigPath = (dataDir: string): string => join(dataDir, 'proxy.kubeconfig');

/** "CN=system:node:n1\nO=system:nodes" (node's X509Certificate.subject) → its CN and O values. */
export function subjectOf(certPem: string): { commonName: string; organizations: string[] } {
  const lines = new X509Certificate(certPem).subject.split('\n');
  const values = (key: string): string[] => lines.filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1));
  return { commonName: values('CN')[0] ?? '', organizations: values('O') };
}

/** A kubeconfig (as an object) for one identity, with the CA and the client certificate embedded. */
export function componentKubeconfig(server: string, caPem: string, id: ComponentIdentity, pair: KeyPairPem, cluster = 'skiff'): Record<string, unknown> {
  const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server, 'certificate-authority-data': b64(caPem) } }],
    users: [{ name: id.name, user: { 'client-certificate-data': b64(pair.cert), 'client-key-data': b64(pair.key) } }],
    contexts: [{ name: `${id.name}@${cluster}`, context: { cluster, user: id.name } }],
    'current-context': `${id.name}@${cluster}`,
    preferences: {},
  };
}

/**
 * Makes sure `path` holds a kubeconfig for `id` on `server`, signed by the cluster CA in `caDir` (ca.crt, ca.key).
 * An existing one is kept when it points at that server, trusts that CA and carries that subject and a certificate
 * the CA issued that is still valid; anything else is replaced. Returns whether it was written.
 */
export async function ensureComponentKubeconfig(path: string, caDir: string, server: string, id: ComponentIdentity, now: Date = new Date()): Promise<boolean> {
  const ca: KeyPairPem = { cert: await readFile(join(caDir, 'ca.crt'), 'utf8'), key: await readFile(join(caDir, 'ca.key'), 'utf8') };
  if (existsSync(path)) {
    try {
      const conn = await loadKubeconfig(path);
      if (conn.server === server && conn.ca?.trim() === ca.cert.trim() && conn.cert && conn.key) {
        const cert = new X509Certificate(conn.cert);
        const subject = subjectOf(conn.cert);
        const fresh = Date.parse(cert.validTo) > now.getTime() + 24 * 3600_000;
        if (fresh && cert.checkIssued(new X509Certificate(ca.cert)) && subject.commonName === id.commonName && subject.organizations.join(',') === id.organizations.join(',')) return false;
      }
    } catch {
      // unreadable: replaced below
    }
  }
  const pair = signClientCert(ca, id.commonName, id.organizations);
  const tmp = `${path}.skiff-${process.pid}.tmp`;
  await writeFile(tmp, stringifyYaml(componentKubeconfig(server, ca.cert, id, pair)), { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
  return true;
}
