// certificates.k8s.io/v1 CertificateSigningRequest with upstream's defaults and validation
// (pkg/apis/certificates/validation): the request must be a PEM CSR whose signature verifies, signerName is a
// domain-qualified path, usages are known key usages, and Approved/Denied conditions are exclusive.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { child, duplicate, forbidden, index, invalid, notSupported, required, tooLong, type FieldError } from '../errors.js';
import { ObjectMeta, validateObjectMeta } from '../meta.js';
import { isDNS1123Label, isDNS1123Subdomain } from '../names.js';
import { int, type KindDef, parseKind, type ParseOptions, type ParseResult } from '../apps/common.js';

export const KEY_USAGES = [
  'signing',
  'digital signature',
  'content commitment',
  'key encipherment',
  'key agreement',
  'data encipherment',
  'cert sign',
  'crl sign',
  'encipher only',
  'decipher only',
  'any',
  'server auth',
  'client auth',
  'code signing',
  'email protection',
  's/mime',
  'ipsec end system',
  'ipsec tunnel',
  'ipsec user',
  'timestamping',
  'ocsp signing',
  'microsoft sgc',
  'netscape sgc',
];
const SORTED_USAGES = [...KEY_USAGES].sort();
export const LEGACY_UNKNOWN_SIGNER_NAME = 'kubernetes.io/legacy-unknown';

export const CertificateSigningRequestCondition = z.object({
  type: z.string().default(''),
  // SetDefaults_CertificateSigningRequestCondition.
  status: z.string().optional().transform((s) => s || 'True'),
  reason: z.string().optional(),
  message: z.string().optional(),
  lastUpdateTime: z.string().nullable().optional(),
  lastTransitionTime: z.string().nullable().optional(),
});

export const CertificateSigningRequestSpec = z.object({
  /** Base64 (as JSON encodes []byte) of a PEM "CERTIFICATE REQUEST" block. */
  request: z.string().default(''),
  signerName: z.string().default(''),
  expirationSeconds: int().optional(),
  usages: z.array(z.string()).optional(),
  username: z.string().optional(),
  uid: z.string().optional(),
  groups: z.array(z.string()).optional(),
  extra: z.record(z.string(), z.array(z.string())).optional(),
});
export type CertificateSigningRequestSpec = z.output<typeof CertificateSigningRequestSpec>;

export const CertificateSigningRequestStatus = z.object({
  conditions: z.array(CertificateSigningRequestCondition).optional(),
  certificate: z.string().optional(),
});
export type CertificateSigningRequestStatus = z.output<typeof CertificateSigningRequestStatus>;

export const CertificateSigningRequest = z.object({
  apiVersion: z.literal('certificates.k8s.io/v1'),
  kind: z.literal('CertificateSigningRequest'),
  metadata: ObjectMeta.prefault({}),
  spec: CertificateSigningRequestSpec.prefault({}),
  status: CertificateSigningRequestStatus.optional(),
});
export type CertificateSigningRequest = z.output<typeof CertificateSigningRequest>;

// ---------------- PEM / DER ----------------

/** The first PEM block of `text`: its type and DER bytes (Go's pem.Decode). */
export function decodePem(text: string): { type: string; der: Buffer } | undefined {
  const m = /-----BEGIN ([^-\r\n]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!m) return undefined;
  const body = (m[2] ?? '').split(/\r?\n/).filter((l) => l !== '' && !l.includes(':'));
  return { type: m[1] ?? '', der: Buffer.from(body.join(''), 'base64') };
}

interface TLV {
  tag: number;
  start: number; // of the whole element
  contentStart: number;
  end: number;
}

function readTLV(buf: Buffer, off: number): TLV {
  if (off + 2 > buf.length) throw new Error('x509: malformed certificate request');
  const tag = buf[off] as number;
  let len = buf[off + 1] as number;
  let p = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > buf.length) throw new Error('x509: malformed certificate request');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[p + i] as number);
    p += n;
  }
  if (p + len > buf.length) throw new Error('x509: malformed certificate request');
  return { tag, start: off, contentStart: p, end: p + len };
}

function children(buf: Buffer, parent: TLV): TLV[] {
  const out: TLV[] = [];
  for (let off = parent.contentStart; off < parent.end; ) {
    const t = readTLV(buf, off);
    out.push(t);
    off = t.end;
  }
  return out;
}

function oidText(bytes: Buffer): string {
  const parts: number[] = [];
  let v = 0;
  bytes.forEach((b, i) => {
    v = v * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      if (parts.length === 0 && i >= 0) {
        parts.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      } else parts.push(v);
      v = 0;
    }
  });
  return parts.join('.');
}

const SIGNATURE_HASHES: Record<string, { hash: string | null; family: 'RSA' | 'ECDSA' | 'Ed25519' }> = {
  '1.2.840.113549.1.1.5': { hash: 'sha1', family: 'RSA' },
  '1.2.840.113549.1.1.11': { hash: 'sha256', family: 'RSA' },
  '1.2.840.113549.1.1.12': { hash: 'sha384', family: 'RSA' },
  '1.2.840.113549.1.1.13': { hash: 'sha512', family: 'RSA' },
  '1.2.840.10045.4.3.2': { hash: 'sha256', family: 'ECDSA' },
  '1.2.840.10045.4.3.3': { hash: 'sha384', family: 'ECDSA' },
  '1.2.840.10045.4.3.4': { hash: 'sha512', family: 'ECDSA' },
  '1.3.101.112': { hash: null, family: 'Ed25519' },
};

/**
 * certificates.ParseCSR + CheckSignature: the request is a PEM "CERTIFICATE REQUEST" whose self-signature verifies.
 * Returns the reason it is not, or undefined.
 */
export function csrError(pemText: string): string | undefined {
  const block = decodePem(pemText);
  if (!block || block.type !== 'CERTIFICATE REQUEST') return 'PEM block type must be CERTIFICATE REQUEST';
  try {
    const der = block.der;
    const outer = readTLV(der, 0);
    if (outer.tag !== 0x30) throw new Error('x509: malformed certificate request');
    const [info, algo, sig] = children(der, outer);
    if (!info || !algo || !sig || info.tag !== 0x30 || algo.tag !== 0x30 || sig.tag !== 0x03) throw new Error('x509: malformed certificate request');
    const infoParts = children(der, info);
    const spki = infoParts[2];
    if (!spki || spki.tag !== 0x30) throw new Error('x509: malformed certificate request');
    const oid = children(der, algo)[0];
    if (!oid || oid.tag !== 0x06) throw new Error('x509: malformed certificate request');
    const alg = SIGNATURE_HASHES[oidText(der.subarray(oid.contentStart, oid.end))];
    let key: KeyObject;
    try {
      key = createPublicKey({ key: der.subarray(spki.start, spki.end), format: 'der', type: 'spki' });
    } catch {
      return 'x509: unsupported public key algorithm';
    }
    if (!alg) return 'x509: cannot verify signature: algorithm unimplemented';
    const signature = der.subarray(sig.contentStart + 1, sig.end);
    const ok = verify(alg.hash, der.subarray(info.start, info.end), key, signature);
    if (!ok) return alg.family === 'RSA' ? 'crypto/rsa: verification error' : `x509: ${alg.family} verification failure`;
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

// ---------------- validation ----------------

/** ValidateSignerName: "<fully qualified domain>/<path>". */
export function validateSignerName(path: string, signerName: string): FieldError[] {
  if (signerName === '') return [required(path)];
  const segments = signerName.split('/');
  if (segments.length !== 2) return [invalid(path, signerName, "must be a fully qualified domain and path of the form 'example.com/signer-name'")];
  const [domain, rest] = segments as [string, string];
  const errs: FieldError[] = [];
  if (domain.length > 253) errs.push(tooLong(path, 253));
  const domainLabels = domain.split('.');
  for (const lbl of domainLabels) {
    const e = isDNS1123Label(lbl);
    if (e.length > 0) {
      errs.push(...e.map((m) => invalid(path, domain, `validating label ${JSON.stringify(lbl)}: ${m}`)));
      break;
    }
  }
  if (domainLabels.length < 2) errs.push(invalid(path, domain, 'should be a domain with at least two segments separated by dots'));
  for (const lbl of rest.split('.')) {
    const e = isDNS1123Subdomain(lbl);
    if (e.length > 0) {
      errs.push(...e.map((m) => invalid(path, rest, `validating component ${JSON.stringify(lbl)}: ${m}`)));
      break;
    }
  }
  if (signerName.length > 253 + 253 + 1) errs.push(tooLong(path, 253 + 253 + 1));
  return errs;
}

const TRUE_CONDITION_TYPES = ['Approved', 'Denied', 'Failed'];

function validateConditions(conditions: CertificateSigningRequestStatus['conditions'], path: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  let approved = false;
  let denied = false;
  (conditions ?? []).forEach((c, i) => {
    const cp = index(path, i);
    if (c.type === '') errs.push(required(child(cp, 'type')));
    const allowed = TRUE_CONDITION_TYPES.includes(c.type) ? ['True'] : ['False', 'True', 'Unknown'];
    if (c.status === '') errs.push(required(child(cp, 'status')));
    else if (!allowed.includes(c.status)) errs.push(notSupported(child(cp, 'status'), c.status, allowed));
    if (c.type === 'Approved') {
      approved = true;
      if (denied) errs.push(invalid(child(cp, 'type'), c.type, 'Approved and Denied conditions are mutually exclusive'));
    } else if (c.type === 'Denied') {
      denied = true;
      if (approved) errs.push(invalid(child(cp, 'type'), c.type, 'Approved and Denied conditions are mutually exclusive'));
    }
    if (seen.has(c.type)) errs.push(duplicate(child(cp, 'type'), c.type));
    seen.add(c.type);
  });
  return errs;
}

function decodeBase64(s: string): string | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s.replace(/\s+/g, ''))) return undefined;
  return Buffer.from(s, 'base64').toString('latin1');
}

export function validateCertificateSigningRequest(
  csr: CertificateSigningRequest,
  opts: { allowLegacySigner?: boolean; allowArbitraryCertificate?: boolean } = {},
): FieldError[] {
  // Upstream accepts any name for CSRs.
  const errs = validateObjectMeta(csr.metadata, { namespaced: false, nameFn: () => [] });
  const spec = csr.spec;
  const pem = decodeBase64(spec.request);
  const reqErr = pem === undefined ? 'illegal base64 data' : csrError(pem);
  if (reqErr !== undefined) errs.push(invalid('spec.request', spec.request, reqErr));
  const usages = spec.usages ?? [];
  if (usages.length === 0) errs.push(required('spec.usages'));
  usages.forEach((u, i) => {
    if (!KEY_USAGES.includes(u)) errs.push(notSupported(index('spec.usages', i), u, SORTED_USAGES));
  });
  const seen = new Set<string>();
  usages.forEach((u, i) => {
    if (seen.has(u)) errs.push(duplicate(index('spec.usages', i), u));
    seen.add(u);
  });
  if (!opts.allowLegacySigner && spec.signerName === LEGACY_UNKNOWN_SIGNER_NAME)
    errs.push(invalid('spec.signerName', spec.signerName, 'the legacy signerName is not allowed via this API version'));
  else errs.push(...validateSignerName('spec.signerName', spec.signerName));
  if (spec.expirationSeconds !== undefined && spec.expirationSeconds < 600)
    errs.push(invalid('spec.expirationSeconds', spec.expirationSeconds, 'may not specify a duration less than 600 seconds (10 minutes)'));
  errs.push(...validateConditions(csr.status?.conditions, 'status.conditions'));
  const cert = csr.status?.certificate;
  if (cert !== undefined && cert !== '' && !opts.allowArbitraryCertificate) {
    const text = decodeBase64(cert);
    const block = text === undefined ? undefined : decodePem(text);
    if (!block || block.type !== 'CERTIFICATE') errs.push(invalid('status.certificate', '<certificate data>', 'must contain at least one CERTIFICATE PEM block'));
  }
  return errs;
}

export interface CSRUpdateOptions {
  /** The /approval subresource may add or change Approved and Denied conditions. */
  allowSettingApprovalConditions?: boolean;
  /** The /status subresource may set status.certificate (once). */
  allowSettingCertificate?: boolean;
}

const conditionsOf = (csr: CertificateSigningRequest, type: string) => (csr.status?.conditions ?? []).filter((c) => c.type === type);

/** validateCertificateSigningRequestUpdate: no removing Approved/Denied/Failed, approvals and certificate as the subresource allows. */
export function validateCertificateSigningRequestUpdate(csr: CertificateSigningRequest, old: CertificateSigningRequest, opts: CSRUpdateOptions = {}): FieldError[] {
  const cert = csr.status?.certificate ?? '';
  const oldCert = old.status?.certificate ?? '';
  const errs = validateCertificateSigningRequest(csr, {
    allowLegacySigner: old.spec.signerName === LEGACY_UNKNOWN_SIGNER_NAME,
    allowArbitraryCertificate: cert === oldCert,
  });
  for (const t of ['Approved', 'Denied', 'Failed'])
    if (conditionsOf(csr, t).length < conditionsOf(old, t).length)
      errs.push(forbidden('status.conditions', `updates may not remove a condition of type ${JSON.stringify(t)}`));
  if (!opts.allowSettingApprovalConditions) {
    for (const t of ['Approved', 'Denied']) {
      const now = conditionsOf(csr, t);
      const before = conditionsOf(old, t);
      if (now.length > before.length) errs.push(forbidden('status.conditions', `updates may not add a condition of type ${JSON.stringify(t)}`));
      else if (now.length === before.length && JSON.stringify(now) !== JSON.stringify(before))
        errs.push(forbidden('status.conditions', `updates may not modify a condition of type ${JSON.stringify(t)}`));
    }
  }
  if (cert !== oldCert) {
    if (!opts.allowSettingCertificate) errs.push(forbidden('status.certificate', 'updates may not set certificate content'));
    else if (oldCert !== '') errs.push(forbidden('status.certificate', 'updates may not modify existing certificate content'));
  }
  return errs;
}

export const certificateSigningRequestKind: KindDef<typeof CertificateSigningRequest> = {
  apiVersion: 'certificates.k8s.io/v1',
  kind: 'CertificateSigningRequest',
  schema: CertificateSigningRequest,
  namespaced: false,
  validate: (c) => validateCertificateSigningRequest(c),
  // The API server's main resource keeps the stored status, so a status change here comes from a status write; the
  // generic REST layer has no separate /approval handling yet, so status writes may also approve or deny.
  validateUpdate: (csr, old) => validateCertificateSigningRequestUpdate(csr, old, { allowSettingApprovalConditions: true, allowSettingCertificate: true }),
};

export const parseCertificateSigningRequest = (input: unknown, opts?: ParseOptions): ParseResult<CertificateSigningRequest> =>
  parseKind(certificateSigningRequestKind, input, opts);
