import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import forge from 'node-forge';
import { stringify as toYaml } from 'yaml';
import type { Logger } from '../../lib/log.js';
import { KubeClient, loadKubeconfig, type KubeObject } from '../../control/client/index.js';

const CSRS = { group: 'certificates.k8s.io', version: 'v1', resource: 'certificatesigningrequests' };
export const KUBELET_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client-kubelet';

interface Csr extends KubeObject {
  status?: { certificate?: string; conditions?: Array<{ type: string; status?: string; reason?: string; message?: string }> };
}

/** A PEM CSR for this node's client identity (CN=system:node:<name>, O=system:nodes), and its RSA key. */
export function nodeClientCsr(nodeName: string): { csrPem: string; keyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(publicKey);
  csr.setSubject([
    { name: 'organizationName', value: 'system:nodes' },
    { name: 'commonName', value: `system:node:${nodeName}` },
  ]);
  csr.sign(forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return { csrPem: forge.pki.certificationRequestToPem(csr), keyPem: privateKey };
}

export interface TlsBootstrapOptions {
  bootstrapKubeconfig: string;
  /** Where the node's own kubeconfig goes; nothing happens when it exists already. */
  kubeconfig: string;
  /** Directory for the issued certificate and key (kubelet's <root-dir>/pki). */
  certDir: string;
  nodeName: string;
  logger: Logger;
  pollMs?: number;
  timeoutMs?: number;
}

/**
 * The kubelet's TLS bootstrap: with the join token of --bootstrap-kubeconfig, asks the cluster for a client
 * certificate through a CertificateSigningRequest, waits until it is approved and issued, and writes --kubeconfig
 * with it, so that the node acts under its own identity (system:node:<name>) from then on.
 */
export async function bootstrapClientCertificate(opts: TlsBootstrapOptions): Promise<void> {
  if (existsSync(opts.kubeconfig)) return;
  const conn = await loadKubeconfig(opts.bootstrapKubeconfig);
  const client = new KubeClient(conn, `skiff-agent/${opts.nodeName} (bootstrap)`);
  try {
    const { csrPem, keyPem } = nodeClientCsr(opts.nodeName);
    const name = `node-csr-${randomBytes(12).toString('base64url')}`;
    opts.logger.info({ csr: name, server: conn.server }, 'requesting a client certificate (TLS bootstrap)');
    await client.create<Csr>(CSRS, undefined, {
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { name },
      spec: { request: Buffer.from(csrPem).toString('base64'), signerName: KUBELET_CLIENT_SIGNER, usages: ['digital signature', 'key encipherment', 'client auth'] },
    } as KubeObject);
    const deadline = Date.now() + (opts.timeoutMs ?? 15 * 60_000);
    let said = false;
    let certPem: string | undefined;
    for (;;) {
      const csr = await client.get<Csr>(CSRS, undefined, name);
      const refused = (csr.status?.conditions ?? []).find((c) => (c.type === 'Denied' || c.type === 'Failed') && c.status !== 'False');
      if (refused) throw new Error(`the certificate signing request ${name} was ${refused.type.toLowerCase()}: ${refused.reason ?? ''} ${refused.message ?? ''}`.trim());
      if (csr.status?.certificate) {
        certPem = Buffer.from(csr.status.certificate, 'base64').toString('utf8');
        break;
      }
      if (!said) {
        opts.logger.info({ csr: name }, 'waiting for the certificate signing request to be approved and issued');
        said = true;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the certificate signing request ${name} (approve it with: kubectl certificate approve ${name})`);
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 1000));
    }
    await mkdir(opts.certDir, { recursive: true, mode: 0o700 });
    const certPath = join(opts.certDir, 'kubelet-client.crt');
    const keyPath = join(opts.certDir, 'kubelet-client.key');
    await writeFile(certPath, certPem, { mode: 0o644 });
    await writeFile(keyPath, keyPem, { mode: 0o600 });
    const kubeconfig = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'default-cluster', cluster: { server: conn.server, ...(conn.ca ? { 'certificate-authority-data': Buffer.from(conn.ca).toString('base64') } : {}) } }],
      users: [{ name: 'default-auth', user: { 'client-certificate': certPath, 'client-key': keyPath } }],
      contexts: [{ name: 'default-context', context: { cluster: 'default-cluster', user: 'default-auth', namespace: 'default' } }],
      'current-context': 'default-context',
    };
    // Written whole or not at all: a half-written kubeconfig would stop the next start from bootstrapping again.
    const tmp = `${opts.kubeconfig}.tmp`;
    await writeFile(tmp, toYaml(kubeconfig), { mode: 0o600 });
    await rename(tmp, opts.kubeconfig);
    opts.logger.info({ kubeconfig: opts.kubeconfig }, 'client certificate issued; node kubeconfig written');
  } finally {
    client.close();
  }
}
