import type { KindPrinter } from '../table.js';
import { humanDuration } from '../table.js';
import { ageCol, ageOf, col, nameCol, nameOf, optInt, recs, spec, status, str } from './common.js';

/** certificates.k8s.io/v1 CertificateSigningRequests, as upstream's printCertificateSigningRequest. */

export function csrCondition(st: Record<string, unknown>): string {
  let approved = false;
  let denied = false;
  let failed = false;
  for (const c of recs(st.conditions)) {
    if (c.type === 'Approved') approved = true;
    else if (c.type === 'Denied') denied = true;
    else if (c.type === 'Failed') failed = true;
  }
  let s = denied ? 'Denied' : approved ? 'Approved' : 'Pending';
  if (failed) s += ',Failed';
  if (str(st.certificate).length > 0) s += ',Issued';
  return s;
}

export const certificateSigningRequestPrinter: KindPrinter = {
  columns: [
    nameCol(),
    ageCol(),
    col('SignerName', 'string', 'Requested signer for the request. It is a qualified name in the form: `scope-hostname.io/name`. If empty, it will be defaulted:\n 1. If it\'s a kubelet client certificate, it is assigned\n    "kubernetes.io/kube-apiserver-client-kubelet".\n 2. If it\'s a kubelet serving certificate, it is assigned\n    "kubernetes.io/kubelet-serving".\n 3. Otherwise, it is assigned "kubernetes.io/legacy-unknown".\nDistribution of trust for signers happens out of band. You can select on this field using `spec.signerName`.'),
    col('Requestor', 'string', 'Base64-encoded PKCS#10 CSR data'),
    col('RequestedDuration', 'string', 'expirationSeconds is the requested duration of validity of the issued certificate. The certificate signer may issue a certificate with a different validity duration so a client must check the delta between the notBefore and and notAfter fields in the issued certificate to determine the actual duration.\n\nThe v1.22+ in-tree implementations of the well-known Kubernetes signers will honor this field as long as the requested duration is not greater than the maximum duration they will honor per the --cluster-signing-duration CLI flag to the Kubernetes controller manager.\n\nCertificate signers may not honor this field for various reasons:\n\n  1. Old signer that is unaware of the field (such as the in-tree\n     implementations prior to v1.22)\n  2. Signer whose configured maximum is shorter than the requested duration\n  3. Signer whose configured minimum is longer than the requested duration\n\nThe minimum valid value for expirationSeconds is 600, i.e. 10 minutes.'),
    col('Condition', 'string', 'Conditions applied to the request. Known conditions are "Approved", "Denied", and "Failed".'),
  ],
  cells: (o, now) => {
    const sp = spec(o);
    const signerName = str(sp.signerName) || '<none>';
    const expiration = optInt(sp.expirationSeconds);
    const requestedDuration = expiration === undefined ? '<none>' : humanDuration(expiration * 1000);
    return [nameOf(o), ageOf(o, now), signerName, str(sp.username), requestedDuration, csrCondition(status(o))];
  },
};
