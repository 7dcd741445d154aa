import { X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import { nodeClientCsr } from '../../../../agent/cluster/tls-bootstrap.js';
import { nodeClientProblem, parseCsr, signCsr, signerProblem } from '../../../../control/controllers/certificates/csr.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const USAGES = ['digital signature', 'key encipherment', 'client auth'];

function csrWith(cn: string, orgs: string[], dns: string[] = []): string {
  const keys = forge.pki.rsa.generateKeyPair(1024);
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = keys.publicKey;
  csr.setSubject([...orgs.map((o) => ({ name: 'organizationName', value: o })), { name: 'commonName', value: cn }]);
  if (dns.length) csr.setAttributes([{ name: 'extensionRequest', extensions: [{ name: 'subjectAltName', altNames: dns.map((d) => ({ type: 2, value: d })) }] }]);
  csr.sign(keys.privateKey, forge.md.sha256.create());
  return b64(forge.pki.certificationRequestToPem(csr));
}

describe('certificate signing requests', () => {
  it('accepts what the agent asks for as a node client certificate', () => {
    const { csrPem } = nodeClientCsr('n1');
    const parsed = parseCsr(b64(csrPem));
    expect(parsed).toMatchObject({ commonName: 'system:node:n1', organizations: ['system:nodes'] });
    expect(nodeClientProblem(parsed, USAGES)).toBeUndefined();
    expect(nodeClientProblem(parsed, ['client auth', 'digital signature'])).toBeUndefined();
  });

  it.each([
    ['another organization', csrWith('system:node:n1', ['system:masters']), USAGES, /organization is not system:nodes/],
    ['an extra organization', csrWith('system:node:n1', ['system:nodes', 'system:masters']), USAGES, /organization is not system:nodes/],
    ['a user name', csrWith('alice', ['system:nodes']), USAGES, /common name does not begin with system:node:/],
    ['SANs', csrWith('system:node:n1', ['system:nodes'], ['evil.example']), USAGES, /subjectAltNames are not allowed/],
    ['server auth', csrWith('system:node:n1', ['system:nodes']), ['digital signature', 'server auth'], /usages did not match/],
  ])('refuses a node client request with %s', (_what, request, usages, problem) => {
    expect(nodeClientProblem(parseCsr(request), usages)).toMatch(problem);
  });

  it('knows which signers it serves', () => {
    const { csrPem } = nodeClientCsr('n2');
    const parsed = parseCsr(b64(csrPem));
    expect(signerProblem('kubernetes.io/kube-apiserver-client-kubelet', parsed, USAGES)).toBeUndefined();
    expect(signerProblem('example.com/other', parsed, USAGES)).toMatch(/not handled/);
  });

  it('rejects what is not a PEM CSR', () => {
    expect(() => parseCsr(b64('not a csr'))).toThrow(/unable to parse csr/);
  });

  it('issues a certificate that verifies against the CA', () => {
    const ca = testCa();
    const parsed = parseCsr(b64(nodeClientCsr('n3').csrPem));
    const now = Date.now();
    const pem = signCsr(parsed, USAGES, ca, 3600_000, now);
    const cert = new X509Certificate(pem);
    expect(cert.verify(new X509Certificate(ca.cert).publicKey)).toBe(true);
    expect(cert.checkIssued(new X509Certificate(ca.cert))).toBe(true);
    expect(cert.subject).toContain('CN=system:node:n3');
    expect(Date.parse(cert.validTo) - now).toBeLessThanOrEqual(3600_000);
    expect(cert.keyUsage).toContain('1.3.6.1.5.5.7.3.2'); // client auth
    expect(forge.pki.certificateFromPem(pem).getExtension('keyUsage')).toMatchObject({ digitalSignature: true, keyEncipherment: true });
  });

  it('issues a well-formed certificate for a request of client auth alone, with no (empty) key usage', () => {
    const ca = testCa();
    const pem = signCsr(parseCsr(csrWith('alice', ['dev'])), ['client auth'], ca, 3600_000, Date.now());
    const cert = new X509Certificate(pem);
    // OpenSSL marks a certificate with an empty key usage invalid, and then finds no issuer for it.
    expect(cert.checkIssued(new X509Certificate(ca.cert))).toBe(true);
    expect(forge.pki.certificateFromPem(pem).getExtension('keyUsage')).toBeNull();
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
  });
});

/** A self-signed CA for the signer to sign with. */
function testCa(): { cert: string; key: string } {
  const caKeys = forge.pki.rsa.generateKeyPair(1024);
  const caCert = forge.pki.createCertificate();
  caCert.publicKey = caKeys.publicKey;
  caCert.serialNumber = '01';
  caCert.validity.notBefore = new Date(Date.now() - 60_000);
  caCert.validity.notAfter = new Date(Date.now() + 10 * 365 * 86400_000);
  caCert.setSubject([{ name: 'commonName', value: 'test-ca' }]);
  caCert.setIssuer([{ name: 'commonName', value: 'test-ca' }]);
  caCert.setExtensions([{ name: 'basicConstraints', cA: true }]);
  caCert.sign(caKeys.privateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(caCert), key: forge.pki.privateKeyToPem(caKeys.privateKey) };
}
