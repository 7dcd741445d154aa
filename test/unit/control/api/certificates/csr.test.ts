// certificates.k8s.io/v1 CertificateSigningRequest: PEM CSR checks, signer names, usages, conditions.
import { describe, expect, it } from 'vitest';
import {
  certificateSigningRequestKind,
  csrError,
  formatFieldError,
  parseCertificateSigningRequest,
  parseKindUpdate,
  validateCertificateSigningRequestUpdate,
} from '../../../../../control/api/index.js';
import { lines, must } from '../apps/helpers.js';

// openssl req -new -key <P-256 key> -subj "/CN=system:node:worker-1/O=system:nodes"
const EC_CSR = `-----BEGIN CERTIFICATE REQUEST-----
MIHxMIGYAgEAMDYxHTAbBgNVBAMMFHN5c3RlbTpub2RlOndvcmtlci0xMRUwEwYD
VQQKDAxzeXN0ZW06bm9kZXMwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARWwYkM
r0KlGdEtoqkGA/sZABMzmyMRappcmaNCUXY9K0X+5z9uRPaWNoC+BOm7KClFvyf9
p6OIjU8DgxZA1bPuoAAwCgYIKoZIzj0EAwIDSAAwRQIhAM+sGlY7G7ClAzkC3Adu
ZkZZAAav6ZflOzauz6X3wpTPAiBUShvdRsxVPpQ26NhJBa84R2aFnwMn0SUQksix
IA+NgA==
-----END CERTIFICATE REQUEST-----
`;
// openssl req -new -key <Ed25519 key> -subj "/CN=alice"
const ED_CSR = `-----BEGIN CERTIFICATE REQUEST-----
MIGPMEMCAQAwEDEOMAwGA1UEAwwFYWxpY2UwKjAFBgMrZXADIQCCSrv6E8INRp1k
dpUcSFwILLL0JY4SuPEZks6CeLjh0KAAMAUGAytlcANBAHDnP/0q9mHKGyA3su4y
By1ltIpfWc3i8dgzOYV6dGbPgs+7N5w9IU0dg1BpkjGKpfIrwYxtUqyNR7dIlRph
GgM=
-----END CERTIFICATE REQUEST-----
`;
const b64 = (s: string) => Buffer.from(s).toString('base64');

const csr = (edit: (c: any) => void = () => {}): any => {
  const c: any = {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name: 'node-csr-abc' },
    spec: { request: b64(EC_CSR), signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'] },
  };
  edit(c);
  return c;
};

describe('CertificateSigningRequest', () => {
  it('accepts valid ECDSA and Ed25519 requests', () => {
    expect(lines(parseCertificateSigningRequest(csr()))).toEqual([]);
    expect(csrError(ED_CSR)).toBeUndefined();
  });

  it('detects a tampered request', () => {
    expect(csrError(EC_CSR.replace('MIHxMIGYAgEAMDYxHTAbBgNVBAMMFHN5c3Rl', 'MIHxMIGYAgEAMDYxHTAbBgNVBAMMFHN5c3Ru'))).toBe('x509: ECDSA verification failure');
  });

  const cases: Array<[string, (c: any) => void, string[]]> = [
    ['request must be a CSR', (c) => (c.spec.request = b64('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')), [`spec.request: Invalid value: "${b64('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')}": PEM block type must be CERTIFICATE REQUEST`]],
    ['usages required', (c) => delete c.spec.usages, ['spec.usages: Required value']],
    [
      'known usages, no duplicates',
      (c) => (c.spec.usages = ['client auth', 'magic', 'client auth']),
      [
        'spec.usages[1]: Unsupported value: "magic": supported values: "any", "cert sign", "client auth", "code signing", "content commitment", "crl sign", "data encipherment", "decipher only", "digital signature", "email protection", "encipher only", "ipsec end system", "ipsec tunnel", "ipsec user", "key agreement", "key encipherment", "microsoft sgc", "netscape sgc", "ocsp signing", "s/mime", "server auth", "signing", "timestamping"',
        'spec.usages[2]: Duplicate value: "client auth"',
      ],
    ],
    ['signerName required', (c) => (c.spec.signerName = ''), ['spec.signerName: Required value']],
    [
      'signerName form',
      (c) => (c.spec.signerName = 'my-signer'),
      ["spec.signerName: Invalid value: \"my-signer\": must be a fully qualified domain and path of the form 'example.com/signer-name'"],
    ],
    ['signerName domain', (c) => (c.spec.signerName = 'local/signer'), ['spec.signerName: Invalid value: "local": should be a domain with at least two segments separated by dots']],
    ['legacy signer', (c) => (c.spec.signerName = 'kubernetes.io/legacy-unknown'), ['spec.signerName: Invalid value: "kubernetes.io/legacy-unknown": the legacy signerName is not allowed via this API version']],
    ['expiration at least 10 minutes', (c) => (c.spec.expirationSeconds = 60), ['spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 600 seconds (10 minutes)']],
    [
      'Approved and Denied exclude each other',
      (c) => (c.status = { conditions: [{ type: 'Approved' }, { type: 'Denied' }] }),
      ['status.conditions[1].type: Invalid value: "Denied": Approved and Denied conditions are mutually exclusive'],
    ],
    [
      'Approved, Denied and Failed are only ever True',
      (c) => (c.status = { conditions: [{ type: 'Failed', status: 'False' }, { type: 'Ready', status: 'Maybe' }] }),
      [
        'status.conditions[0].status: Unsupported value: "False": supported values: "True"',
        'status.conditions[1].status: Unsupported value: "Maybe": supported values: "False", "True", "Unknown"',
      ],
    ],
    [
      'the certificate must be PEM',
      (c) => (c.status = { certificate: b64('not pem') }),
      ['status.certificate: Invalid value: "<certificate data>": must contain at least one CERTIFICATE PEM block'],
    ],
  ];
  it.each(cases)('%s', (_rule, edit, want) => {
    expect(lines(parseCertificateSigningRequest(csr(edit)))).toEqual(want);
  });

  it('follows the subresource rules for approvals and certificates', () => {
    const old = must(parseCertificateSigningRequest(csr()));
    const approved = csr((c) => (c.status = { conditions: [{ type: 'Approved', reason: 'OK' }] }));
    expect(validateCertificateSigningRequestUpdate(must(parseCertificateSigningRequest(approved)), old).map(formatFieldError)).toEqual([
      'status.conditions: Forbidden: updates may not add a condition of type "Approved"',
    ]);
    expect(validateCertificateSigningRequestUpdate(must(parseCertificateSigningRequest(approved)), old, { allowSettingApprovalConditions: true })).toEqual([]);
    const CERT = b64('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const issued = must(parseCertificateSigningRequest(csr((c) => (c.status = { certificate: CERT }))));
    expect(validateCertificateSigningRequestUpdate(issued, old).map(formatFieldError)).toEqual(['status.certificate: Forbidden: updates may not set certificate content']);
    expect(validateCertificateSigningRequestUpdate(issued, old, { allowSettingCertificate: true })).toEqual([]);
    const reissued = must(parseCertificateSigningRequest(csr((c) => (c.status = { certificate: b64('-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n') }))));
    expect(validateCertificateSigningRequestUpdate(reissued, issued, { allowSettingCertificate: true }).map(formatFieldError)).toEqual([
      'status.certificate: Forbidden: updates may not modify existing certificate content',
    ]);
  });

  it('defaults condition status to True and keeps approvals on update', () => {
    const old = must(parseCertificateSigningRequest(csr((c) => (c.status = { conditions: [{ type: 'Approved', reason: 'AutoApproved' }] }))));
    expect(old.status?.conditions?.[0]?.status).toBe('True');
    expect(lines(parseKindUpdate(certificateSigningRequestKind, csr((c) => (c.status = { conditions: [] })), old))).toEqual([
      'status.conditions: Forbidden: updates may not remove a condition of type "Approved"',
    ]);
  });
});
