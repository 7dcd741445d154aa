// Printers for policy, RBAC, certificates, coordination, discovery and scheduling kinds, and the API server's
// default NAME/CREATED AT table that upstream serves for kinds without a printer (roles, limit ranges).
import { describe, expect, it } from 'vitest';
import { certificateSigningRequestPrinter } from '../../../../../control/apiserver/printing/printers/certificates.js';
import { leasePrinter } from '../../../../../control/apiserver/printing/printers/coordination.js';
import { createdAtPrinter } from '../../../../../control/apiserver/printing/printers/default.js';
import { endpointSlicePrinter } from '../../../../../control/apiserver/printing/printers/discovery.js';
import { podDisruptionBudgetPrinter } from '../../../../../control/apiserver/printing/printers/policy.js';
import { clusterRoleBindingPrinter, roleBindingPrinter } from '../../../../../control/apiserver/printing/printers/rbac.js';
import { canonicalQuantity } from '../../../../../control/apiserver/printing/printers/quantity.js';
import { priorityClassPrinter } from '../../../../../control/apiserver/printing/printers/scheduling.js';
import type { KindPrinter } from '../../../../../control/apiserver/printing/table.js';
import { ago, DAY, HOUR, MIN, NOW, obj } from './fixtures.js';

function columns(p: KindPrinter): Array<[string, string, number]> {
  return p.columns.map((c) => [c.name, c.type, c.priority]);
}

describe('pod disruption budgets', () => {
  it('min available / max unavailable as IntOrString, N/A when unset', () => {
    expect(columns(podDisruptionBudgetPrinter)).toEqual([
      ['Name', 'string', 0],
      ['Min Available', 'string', 0],
      ['Max Unavailable', 'string', 0],
      ['Allowed Disruptions', 'integer', 0],
      ['Age', 'string', 0],
    ]);
    const pdb = (name: string, spec: Record<string, unknown>, allowed: number) => obj('PodDisruptionBudget', 'policy/v1', { name, namespace: 'ns1', creationTimestamp: ago(-1.9) }, { spec, status: { disruptionsAllowed: allowed } });
    expect(podDisruptionBudgetPrinter.cells(pdb('pdb1', { minAvailable: 22 }, 5), NOW)).toEqual(['pdb1', '22', 'N/A', 5, '0s']);
    expect(podDisruptionBudgetPrinter.cells(pdb('pdb2', { maxUnavailable: 11 }, 5), NOW)).toEqual(['pdb2', 'N/A', '11', 5, '0s']);
    expect(podDisruptionBudgetPrinter.cells(pdb('pdb3', { maxUnavailable: '25%' }, 0), NOW)).toEqual(['pdb3', 'N/A', '25%', 0, '0s']);
  });
});

describe('role bindings', () => {
  const subjects = [
    { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'user-name' },
    { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'group-name' },
    { kind: 'ServiceAccount', name: 'service-account-name', namespace: 'service-account-namespace' },
  ];

  it.each([
    ['RoleBinding', roleBindingPrinter],
    ['ClusterRoleBinding', clusterRoleBindingPrinter],
  ] as const)('%s', (kind, printer) => {
    expect(columns(printer)).toEqual([
      ['Name', 'string', 0],
      ['Role', 'string', 0],
      ['Age', 'string', 0],
      ['Users', 'string', 1],
      ['Groups', 'string', 1],
      ['ServiceAccounts', 'string', 1],
    ]);
    const binding = (name: string, subs: unknown[]) => obj(kind, 'rbac.authorization.k8s.io/v1', { name, creationTimestamp: ago(-1.9) }, { roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'role-name' }, subjects: subs });
    expect(printer.cells(binding('binding1', [{ kind: 'User', name: 'system:kube-controller-manager' }]), NOW)).toEqual(['binding1', 'Role/role-name', '0s', 'system:kube-controller-manager', '', '']);
    expect(printer.cells(binding('binding2', subjects), NOW)).toEqual(['binding2', 'Role/role-name', '0s', 'user-name', 'group-name', 'service-account-namespace/service-account-name']);
    expect(printer.cells(binding('binding3', [...subjects, { kind: 'User', name: 'second' }]), NOW)[3]).toBe('user-name, second');
  });
});

describe('certificate signing requests', () => {
  const csr = (name: string, spec: Record<string, unknown>, status: Record<string, unknown> = {}) => obj('CertificateSigningRequest', 'certificates.k8s.io/v1', { name, creationTimestamp: ago(-1.9) }, { spec, status });

  it('columns', () => {
    expect(columns(certificateSigningRequestPrinter)).toEqual([
      ['Name', 'string', 0],
      ['Age', 'string', 0],
      ['SignerName', 'string', 0],
      ['Requestor', 'string', 0],
      ['RequestedDuration', 'string', 0],
      ['Condition', 'string', 0],
    ]);
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>, unknown[]]>([
    ['no spec or status', {}, {}, ['csr1', '0s', '<none>', '', '<none>', 'Pending']],
    ['approved', { username: 'CSR Requestor' }, { conditions: [{ type: 'Approved', status: 'True' }] }, ['csr1', '0s', '<none>', 'CSR Requestor', '<none>', 'Approved']],
    ['signer name', { username: 'CSR Requestor', signerName: 'example.com/test-signer' }, { conditions: [{ type: 'Approved', status: 'True' }] }, ['csr1', '0s', 'example.com/test-signer', 'CSR Requestor', '<none>', 'Approved']],
    ['expiration seconds', { username: 'CSR Requestor', signerName: 'example.com/test-signer', expirationSeconds: 7 * 24 * 3600 + 3600 }, { conditions: [{ type: 'Approved', status: 'True' }] }, ['csr1', '0s', 'example.com/test-signer', 'CSR Requestor', '7d1h', 'Approved']],
    ['issued', { username: 'CSR Requestor' }, { conditions: [{ type: 'Approved', status: 'True' }], certificate: 'Y2VydA==' }, ['csr1', '0s', '<none>', 'CSR Requestor', '<none>', 'Approved,Issued']],
    ['denied', { username: 'CSR Requestor' }, { conditions: [{ type: 'Denied', status: 'True' }] }, ['csr1', '0s', '<none>', 'CSR Requestor', '<none>', 'Denied']],
    ['denied wins over approved; failed is added', { username: 'u' }, { conditions: [{ type: 'Approved', status: 'True' }, { type: 'Denied', status: 'True' }, { type: 'Failed', status: 'True' }] }, ['csr1', '0s', '<none>', 'u', '<none>', 'Denied,Failed']],
    ['kubelet client', { username: 'system:node:worker-1', signerName: 'kubernetes.io/kube-apiserver-client-kubelet', expirationSeconds: 86400 }, {}, ['csr1', '0s', 'kubernetes.io/kube-apiserver-client-kubelet', 'system:node:worker-1', '24h', 'Pending']],
  ])('%s', (_n, spec, status, expected) => {
    expect(certificateSigningRequestPrinter.cells(csr('csr1', spec, status), NOW)).toEqual(expected);
  });
});

describe('leases, priority classes, endpoint slices', () => {
  it('lease holder', () => {
    expect(columns(leasePrinter)).toEqual([
      ['Name', 'string', 0],
      ['Holder', 'string', 0],
      ['Age', 'string', 0],
    ]);
    expect(leasePrinter.cells(obj('Lease', 'coordination.k8s.io/v1', { name: 'kube-scheduler', namespace: 'kube-system', creationTimestamp: ago(2 * DAY) }, { spec: { holderIdentity: 'cp-1_6c1f', leaseDurationSeconds: 15 } }), NOW)).toEqual(['kube-scheduler', 'cp-1_6c1f', '2d']);
    expect(leasePrinter.cells(obj('Lease', 'coordination.k8s.io/v1', { name: 'free' }, { spec: {} }), NOW)).toEqual(['free', '', '5m']);
  });

  it('priority class', () => {
    expect(columns(priorityClassPrinter)).toEqual([
      ['Name', 'string', 0],
      ['Value', 'integer', 0],
      ['Global-Default', 'boolean', 0],
      ['Age', 'string', 0],
      ['PreemptionPolicy', 'string', 0],
    ]);
    expect(priorityClassPrinter.cells(obj('PriorityClass', 'scheduling.k8s.io/v1', { name: 'system-node-critical', creationTimestamp: ago(HOUR) }, { value: 2000001000, preemptionPolicy: 'PreemptLowerPriority' }), NOW)).toEqual([
      'system-node-critical',
      2000001000,
      false,
      '60m',
      'PreemptLowerPriority',
    ]);
    expect(priorityClassPrinter.cells(obj('PriorityClass', 'scheduling.k8s.io/v1', { name: 'low' }, { value: -5, globalDefault: true, preemptionPolicy: 'Never' }), NOW)).toEqual(['low', -5, true, '5m', 'Never']);
  });

  it('endpoint slice ports and endpoints', () => {
    expect(columns(endpointSlicePrinter)).toEqual([
      ['Name', 'string', 0],
      ['AddressType', 'string', 0],
      ['Ports', 'string', 0],
      ['Endpoints', 'string', 0],
      ['Age', 'string', 0],
    ]);
    const slice = (ports: unknown, endpoints: unknown) => obj('EndpointSlice', 'discovery.k8s.io/v1', { name: 'web-abc12', creationTimestamp: ago(45) }, { addressType: 'IPv4', ports, endpoints });
    expect(endpointSlicePrinter.cells(slice([{ name: 'http', protocol: 'TCP', port: 8080 }], [{ addresses: ['10.244.1.5'] }, { addresses: ['10.244.2.7'] }]), NOW)).toEqual(['web-abc12', 'IPv4', '8080', '10.244.1.5,10.244.2.7', '45s']);
    expect(endpointSlicePrinter.cells(slice(undefined, undefined), NOW)).toEqual(['web-abc12', 'IPv4', '<unset>', '<unset>', '45s']);
    expect(endpointSlicePrinter.cells(slice([{ name: 'a' }, {}, { port: 1 }, { port: 2 }, { port: 3 }], [{ addresses: ['1.1.1.1', '2.2.2.2'] }, { addresses: ['3.3.3.3', '4.4.4.4'] }]), NOW)).toEqual([
      'web-abc12',
      'IPv4',
      'a,*,1 + 2 more...',
      '1.1.1.1,2.2.2.2,3.3.3.3 + 1 more...',
      '45s',
    ]);
  });
});

describe('kinds upstream serves with the default table (roles, cluster roles, limit ranges)', () => {
  it('prints NAME and CREATED AT in RFC 3339', () => {
    expect(createdAtPrinter.columns.map((c) => [c.name, c.type, c.format, c.priority])).toEqual([
      ['Name', 'string', 'name', 0],
      ['Created At', 'date', '', 0],
    ]);
    expect(createdAtPrinter.cells(obj('ClusterRole', 'rbac.authorization.k8s.io/v1', { name: 'admin', creationTimestamp: '2026-11-02T08:15:42Z' }), NOW)).toEqual(['admin', '2026-11-02T08:15:42Z']);
    expect(createdAtPrinter.cells(obj('LimitRange', 'v1', { name: 'limits', creationTimestamp: ago(10 * MIN) }), NOW)).toEqual(['limits', '2026-11-30T11:50:00Z']);
  });
});

describe('quantities print in canonical form (resource.Quantity.String)', () => {
  it.each<[string | number, string]>([
    ['1Gi', '1Gi'],
    ['1024Mi', '1Gi'],
    ['1000Mi', '1000Mi'],
    ['0.5Gi', '512Mi'],
    ['1536Mi', '1536Mi'],
    ['1.5Gi', '1536Mi'],
    ['512', '512'],
    ['1Ki', '1Ki'],
    ['1023Ki', '1023Ki'],
    ['0.5Ki', '512'],
    ['1.5', '1500m'],
    ['1500m', '1500m'],
    ['2000m', '2'],
    ['1000', '1k'],
    ['1500', '1500'],
    ['2000000', '2M'],
    ['100m', '100m'],
    ['0.1', '100m'],
    ['0', '0'],
    ['0.0', '0'],
    ['0Gi', '0'],
    ['1e3', '1e3'],
    ['10e3', '10e3'],
    ['1E6', '1e6'],
    ['1E', '1E'],
    ['5G', '5G'],
    ['-1Gi', '-1Gi'],
    ['-0.5', '-500m'],
    ['0.0000000001', '1n'],
    ['1.0000000001', '1000000001n'],
    [0.5, '500m'],
    [4, '4'],
    ['12Mi', '12Mi'],
    ['2.5G', '2500M'],
  ])('%s → %s', (input, expected) => {
    expect(canonicalQuantity(input)).toBe(expected);
  });

  it('leaves text that is not a quantity alone', () => {
    expect(canonicalQuantity('lots')).toBeUndefined();
    expect(canonicalQuantity('1Gb')).toBeUndefined();
  });
});
