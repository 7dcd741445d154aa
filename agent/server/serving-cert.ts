import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import forge from 'node-forge';

/**
 * The node server's serving certificate: --tls-cert-file/--tls-private-key-file when given, else a self-signed one
 * kept in <root-dir>/pki/kubelet.crt and kubelet.key, as the kubelet makes when it has none (CN <node>@<unix time>,
 * the node's name and addresses as SANs). A kept certificate is reused across restarts.
 */
export async function servingCertificate(opts: { certFile?: string; keyFile?: string; rootDir: string; nodeName: string; addresses: string[] }): Promise<{ cert: string; key: string }> {
  if (opts.certFile && opts.keyFile) return { cert: await readFile(opts.certFile, 'utf8'), key: await readFile(opts.keyFile, 'utf8') };
  const dir = join(opts.rootDir, 'pki');
  const certPath = join(dir, 'kubelet.crt');
  const keyPath = join(dir, 'kubelet.key');
  if (existsSync(certPath) && existsSync(keyPath)) return { cert: await readFile(certPath, 'utf8'), key: await readFile(keyPath, 'utf8') };
  const pair = selfSigned(opts.nodeName, opts.addresses);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(certPath, pair.cert, { mode: 0o644 });
  await writeFile(keyPath, pair.key, { mode: 0o600 });
  return pair;
}

export function selfSigned(nodeName: string, addresses: string[], days = 365): { cert: string; key: string } {
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKey);
  const serial = randomBytes(16);
  serial[0] = (serial[0] as number) & 0x7f;
  cert.serialNumber = serial.toString('hex');
  const now = new Date();
  cert.validity.notBefore = new Date(now.getTime() - 5 * 60 * 1000);
  cert.validity.notAfter = new Date(now.getTime() + days * 24 * 3600 * 1000);
  const subject = [{ name: 'commonName', value: `${nodeName}@${Math.floor(now.getTime() / 1000)}` }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  const names = [...new Set([nodeName, 'localhost', '127.0.0.1', ...addresses])];
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: names.map((n) => (isIP(n) ? { type: 7, ip: n } : { type: 2, value: n })) },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(keys.privateKey) as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keys.privateKey };
}
