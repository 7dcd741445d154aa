import { randomBytes } from 'node:crypto';
import forge from 'node-forge';

/**
 * The pure side of certificate signing requests: reading a PEM CSR, upstream's checks on what a node may ask for,
 * and signing with the cluster CA.
 */

export const KUBELET_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client-kubelet';
export const APISERVER_CLIENT_SIGNER = 'kubernetes.io/kube-apiserver-client';
export const KUBELET_SERVING_SIGNER = 'kubernetes.io/kubelet-serving';
export const LEGACY_UNKNOWN_SIGNER = 'kubernetes.io/legacy-unknown';

export interface ParsedCsr {
  commonName: string;
  organizations: string[];
  dnsNames: string[];
  ipAddresses: string[];
  emailAddresses: string[];
  uris: string[];
  publicKeyPem: string;
  /** The subject attributes as forge holds them, for copying into the certificate. */
  subject: forge.pki.CertificateField[];
}

export class CsrError extends Error {}

/** spec.request: base64 (as JSON carries []byte) of a PEM "CERTIFICATE REQUEST". */
export function parseCsr(requestBase64: string): ParsedCsr {
  let csr: forge.pki.CertificateSigningRequest;
  try {
    csr = forge.pki.certificationRequestFromPem(Buffer.from(requestBase64, 'base64').toString('utf8'));
  } catch (err) {
    throw new CsrError(`unable to parse csr: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!csr.verify()) throw new CsrError('the CSR signature does not verify');
  const attr = (short: string): string[] => csr.subject.attributes.filter((a) => a.shortName === short || a.name === (short === 'CN' ? 'commonName' : 'organizationName')).map((a) => String(a.value));
  const parsed: ParsedCsr = {
    commonName: attr('CN')[0] ?? '',
    organizations: attr('O'),
    dnsNames: [],
    ipAddresses: [],
    emailAddresses: [],
    uris: [],
    publicKeyPem: forge.pki.publicKeyToPem(csr.publicKey as forge.pki.rsa.PublicKey),
    subject: csr.subject.attributes.map((a) => ({ ...a })),
  };
  const ext = (csr.getAttribute({ name: 'extensionRequest' }) as { extensions?: Array<{ name: string; altNames?: Array<{ type: number; value?: string; ip?: string }> }> } | null)?.extensions ?? [];
  for (const e of ext) {
    if (e.name !== 'subjectAltName') continue;
    for (const n of e.altNames ?? []) {
      if (n.type === 2 && n.value) parsed.dnsNames.push(n.value);
      else if (n.type === 7 && n.ip) parsed.ipAddresses.push(n.ip);
      else if (n.type === 1 && n.value) parsed.emailAddresses.push(n.value);
      else if (n.type === 6 && n.value) parsed.uris.push(n.value);
    }
  }
  return parsed;
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');

/** The usage sets upstream accepts for a kubelet client certificate (key encipherment only matters for RSA keys). */
const KUBELET_CLIENT_USAGES = [['digital signature', 'key encipherment', 'client auth'], ['digital signature', 'client auth'], ['key encipherment', 'digital signature', 'client auth']];

/** Why a CSR is not a well-formed node client certificate request; undefined when it is (upstream's isNodeClientCert). */
export function nodeClientProblem(csr: ParsedCsr, usages: readonly string[]): string | undefined {
  if (!sameSet(csr.organizations, ['system:nodes'])) return 'subject organization is not system:nodes';
  if (csr.dnsNames.length || csr.ipAddresses.length || csr.emailAddresses.length || csr.uris.length) return 'DNS, email, IP or URI subjectAltNames are not allowed';
  if (!csr.commonName.startsWith('system:node:')) return 'subject common name does not begin with system:node:';
  if (!KUBELET_CLIENT_USAGES.some((u) => sameSet(u, usages))) return `usages did not match [${KUBELET_CLIENT_USAGES[0]!.join(' ')}]`;
  return undefined;
}

/** Why a signer will not sign this request; undefined when it will. */
export function signerProblem(signerName: string, csr: ParsedCsr, usages: readonly string[]): string | undefined {
  switch (signerName) {
    case KUBELET_CLIENT_SIGNER:
      return nodeClientProblem(csr, usages);
    case KUBELET_SERVING_SIGNER:
      if (!sameSet(csr.organizations, ['system:nodes'])) return 'subject organization is not system:nodes';
      if (!csr.commonName.startsWith('system:node:')) return 'subject common name does not begin with system:node:';
      if (csr.emailAddresses.length || csr.uris.length) return 'email and URI subjectAltNames are not allowed';
      if (!usages.includes('server auth') || usages.some((u) => !['digital signature', 'key encipherment', 'server auth'].includes(u))) return 'usages must be server auth with digital signature and optionally key encipherment';
      return undefined;
    case APISERVER_CLIENT_SIGNER:
      if (!usages.includes('client auth') || usages.some((u) => !['digital signature', 'key encipherment', 'client auth'].includes(u))) return 'usages must include client auth and only digital signature or key encipherment besides';
      return undefined;
    case LEGACY_UNKNOWN_SIGNER:
      return undefined;
    default:
      return `signer ${signerName} is not handled by this signer`;
  }
}

export const KNOWN_SIGNERS = [KUBELET_CLIENT_SIGNER, APISERVER_CLIENT_SIGNER, KUBELET_SERVING_SIGNER, LEGACY_UNKNOWN_SIGNER];

/** Issues the certificate a CSR asks for, signed by the CA, valid for `durationMs` (backdated 5 minutes for skew). */
export function signCsr(csr: ParsedCsr, usages: readonly string[], ca: { cert: string; key: string }, durationMs: number, nowMs: number): string {
  const caCert = forge.pki.certificateFromPem(ca.cert);
  const caKey = forge.pki.privateKeyFromPem(ca.key);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(csr.publicKeyPem);
  const serial = randomBytes(16);
  serial[0] = (serial[0] as number) & 0x7f;
  cert.serialNumber = serial.toString('hex');
  cert.validity.notBefore = new Date(nowMs - 5 * 60_000);
  cert.validity.notAfter = new Date(Math.min(nowMs + durationMs, caCert.validity.notAfter.getTime()));
  cert.setSubject(csr.subject);
  cert.setIssuer(caCert.subject.attributes);
  const extensions: Array<Record<string, unknown>> = [{ name: 'basicConstraints', cA: false, critical: true }];
  // Each usage extension only when the request names one of its usages, as Go's x509 leaves out an empty one: a key
  // usage with no bit set is malformed (RFC 5280), and TLS stacks refuse the certificate (OpenSSL: "invalid
  // certificate"), e.g. the one issued for the usual user request, `usages: [client auth]`.
  const digitalSignature = usages.includes('digital signature');
  const keyEncipherment = usages.includes('key encipherment');
  if (digitalSignature || keyEncipherment) extensions.push({ name: 'keyUsage', critical: true, digitalSignature, keyEncipherment });
  const serverAuth = usages.includes('server auth');
  const clientAuth = usages.includes('client auth');
  if (serverAuth || clientAuth) extensions.push({ name: 'extKeyUsage', serverAuth, clientAuth });
  const alt = [...csr.dnsNames.map((v) => ({ type: 2, value: v })), ...csr.ipAddresses.map((ip) => ({ type: 7, ip }))];
  if (alt.length) extensions.push({ name: 'subjectAltName', altNames: alt });
  cert.setExtensions(extensions);
  cert.sign(caKey as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}
