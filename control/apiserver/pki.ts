import { generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname, networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import { join } from 'node:path';
import forge from 'node-forge';

/**
 * The cluster's certificates, created once in the data dir the way kubeadm lays them out: a CA, the API server's
 * serving certificate (with every name and address clients use as SANs) and an admin client certificate
 * (CN=kubernetes-admin, O=system:masters), plus an admin kubeconfig shaped like the notes' example.
 */
export interface KeyPairPem {
  cert: string;
  key: string;
}

export interface ClusterPki {
  dir: string;
  ca: KeyPairPem;
  server: KeyPairPem;
  admin: KeyPairPem;
  paths: { caCert: string; caKey: string; serverCert: string; serverKey: string; adminCert: string; adminKey: string; kubeconfig: string };
}

function rsaKey(): { privateKey: string; publicKey: string } {
  // Node's native generator is fast; node-forge only signs.
  return generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
}

function serial(): string {
  // Positive 128-bit serial, as RFC 5280 recommends.
  const b = randomBytes(16);
  b[0] = (b[0] as number) & 0x7f;
  return b.toString('hex');
}

interface CertRequest {
  commonName: string;
  organizations?: string[];
  isCA?: boolean;
  serverNames?: string[];
  clientAuth?: boolean;
  serverAuth?: boolean;
  days: number;
}

function sign(req: CertRequest, issuer: { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey } | undefined): KeyPairPem {
  const keys = rsaKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKey);
  cert.serialNumber = serial();
  const now = new Date();
  cert.validity.notBefore = new Date(now.getTime() - 5 * 60 * 1000);
  cert.validity.notAfter = new Date(now.getTime() + req.days * 24 * 3600 * 1000);
  const subject: forge.pki.CertificateField[] = [{ name: 'commonName', value: req.commonName }];
  for (const o of req.organizations ?? []) subject.push({ name: 'organizationName', value: o });
  cert.setSubject(subject);
  cert.setIssuer(issuer ? issuer.cert.subject.attributes : subject);
  const extensions: Array<Record<string, unknown>> = [
    { name: 'basicConstraints', cA: req.isCA === true, critical: true },
    { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: !req.isCA, keyCertSign: req.isCA === true },
  ];
  if (!req.isCA) extensions.push({ name: 'extKeyUsage', serverAuth: req.serverAuth === true, clientAuth: req.clientAuth === true });
  if (req.serverNames?.length) {
    extensions.push({ name: 'subjectAltName', altNames: req.serverNames.map((n) => (isIP(n) ? { type: 7, ip: n } : { type: 2, value: n })) });
  }
  extensions.push({ name: 'subjectKeyIdentifier' });
  cert.setExtensions(extensions);
  const privateKey = forge.pki.privateKeyFromPem(keys.privateKey) as forge.pki.rsa.PrivateKey;
  cert.sign(issuer ? issuer.key : privateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keys.privateKey };
}

/** Signs a client certificate with the cluster CA (node certificates, CSR signing). */
export function signClientCert(ca: KeyPairPem, commonName: string, organizations: string[], days = 365): KeyPairPem {
  return sign({ commonName, organizations, clientAuth: true, days }, { cert: forge.pki.certificateFromPem(ca.cert), key: forge.pki.privateKeyFromPem(ca.key) as forge.pki.rsa.PrivateKey });
}

/** The names and addresses the API server answers on: localhost, this host, the `kubernetes` service names. */
export function defaultServerNames(serviceIP = '10.96.0.1', extra: string[] = []): string[] {
  const names = new Set(['localhost', '127.0.0.1', hostname(), 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', serviceIP, ...extra]);
  for (const addrs of Object.values(networkInterfaces())) for (const a of addrs ?? []) if (a.family === 'IPv4') names.add(a.address);
  return [...names];
}

export function kubeconfigYaml(opts: { server: string; caPath: string; certPath: string; keyPath: string; cluster?: string; user?: string; context?: string }): string {
  const cluster = opts.cluster ?? 'skiff';
  const user = opts.user ?? 'skiff-admin';
  const context = opts.context ?? 'skiff';
  return `apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority: ${opts.caPath}
    server: ${opts.server}
  name: ${cluster}
contexts:
- context:
    cluster: ${cluster}
    user: ${user}
  name: ${context}
current-context: ${context}
preferences: {}
users:
- name: ${user}
  user:
    client-certificate: ${opts.certPath}
    client-key: ${opts.keyPath}
`;
}

/** Loads the PKI from `dir`, creating whatever is missing. Idempotent: existing certificates are kept. */
export async function ensureClusterPki(dir: string, opts: { serverNames: string[]; serverUrl: string }): Promise<ClusterPki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const paths = {
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'apiserver.crt'),
    serverKey: join(dir, 'apiserver.key'),
    adminCert: join(dir, 'admin.crt'),
    adminKey: join(dir, 'admin.key'),
    kubeconfig: join(dir, 'admin.kubeconfig'),
  };
  const load = async (cert: string, key: string): Promise<KeyPairPem | undefined> =>
    existsSync(cert) && existsSync(key) ? { cert: await readFile(cert, 'utf8'), key: await readFile(key, 'utf8') } : undefined;
  const save = async (pair: KeyPairPem, cert: string, key: string): Promise<KeyPairPem> => {
    await writeFile(cert, pair.cert, { mode: 0o644 });
    await writeFile(key, pair.key, { mode: 0o600 });
    return pair;
  };
  const ca = (await load(paths.caCert, paths.caKey)) ?? (await save(sign({ commonName: 'skiff-ca', isCA: true, days: 3650 }, undefined), paths.caCert, paths.caKey));
  const issuer = { cert: forge.pki.certificateFromPem(ca.cert), key: forge.pki.privateKeyFromPem(ca.key) as forge.pki.rsa.PrivateKey };
  let server = await load(paths.serverCert, paths.serverKey);
  // A server certificate missing a name it must answer on is replaced, so new addresses work after a restart.
  if (server) {
    const san = new X509Certificate(server.cert).subjectAltName ?? '';
    if (opts.serverNames.some((n) => !san.includes(n))) server = undefined;
  }
  server ??= await save(sign({ commonName: 'kube-apiserver', serverNames: opts.serverNames, serverAuth: true, days: 365 }, issuer), paths.serverCert, paths.serverKey);
  const admin =
    (await load(paths.adminCert, paths.adminKey)) ??
    (await save(sign({ commonName: 'kubernetes-admin', organizations: ['system:masters'], clientAuth: true, days: 365 }, issuer), paths.adminCert, paths.adminKey));
  await writeFile(paths.kubeconfig, kubeconfigYaml({ server: opts.serverUrl, caPath: paths.caCert, certPath: paths.adminCert, keyPath: paths.adminKey }), { mode: 0o600 });
  return { dir, ca, server, admin, paths };
}

/**
 * The service account signing key pair (kubeadm's sa.key / sa.pub), created once: tokens stay valid across restarts
 * as long as the key is kept.
 */
export async function ensureServiceAccountKey(dir: string): Promise<{ privateKey: string; publicKey: string; paths: { key: string; pub: string } }> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const paths = { key: join(dir, 'sa.key'), pub: join(dir, 'sa.pub') };
  if (existsSync(paths.key) && existsSync(paths.pub)) return { privateKey: await readFile(paths.key, 'utf8'), publicKey: await readFile(paths.pub, 'utf8'), paths };
  const keys = rsaKey();
  await writeFile(paths.key, keys.privateKey, { mode: 0o600 });
  await writeFile(paths.pub, keys.publicKey, { mode: 0o644 });
  return { privateKey: keys.privateKey, publicKey: keys.publicKey, paths };
}
