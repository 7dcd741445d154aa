// certificates.k8s.io/v1: CertificateSigningRequest.
export {
  CertificateSigningRequest,
  CertificateSigningRequestCondition,
  CertificateSigningRequestSpec,
  CertificateSigningRequestStatus,
  type CSRUpdateOptions,
  KEY_USAGES,
  LEGACY_UNKNOWN_SIGNER_NAME,
  certificateSigningRequestKind,
  csrError,
  parseCertificateSigningRequest,
  validateCertificateSigningRequest,
  validateCertificateSigningRequestUpdate,
  validateSignerName,
} from './csr.js';
