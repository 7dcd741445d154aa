// The policy, rbac, coordination, discovery, scheduling and certificates strategies behind the generic REST layer.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseSelection, Rest, selects } from '../../../../../control/apiserver/rest.js';
import type { MemoryStore } from '../../../../../control/store/index.js';
import { ctx, def, freshRest, rejection } from './fixture.js';
import { bootstrapPolicyObjects } from '../../../../../control/apiserver/authz/bootstrap-policy.js';
import { formatFieldError, parseClusterRole, parseClusterRoleBinding } from '../../../../../control/api/index.js';


let store: MemoryStore;
let rest: Rest;
beforeEach(() => {
  ({ store, rest } = freshRest());
});
afterEach(async () => {
  await store.close();
});

describe('PodDisruptionBudget strategy', () => {
  it('refuses minAvailable with maxUnavailable and bumps generation on spec changes', async () => {
    const pdbs = def('poddisruptionbudgets', 'policy');
    const body = { metadata: { name: 'web' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'web' } } } };
    const created = await rest.create(pdbs, ctx('default'), body);
    expect(created.status).toEqual({ disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 });
    const updated = await rest.update(pdbs, ctx('default'), 'web', { ...body, spec: { ...body.spec, minAvailable: 2 } });
    expect(updated.metadata.generation).toBe(2);
    expect(await rejection(rest.update(pdbs, ctx('default'), 'web', { ...body, spec: { ...body.spec, maxUnavailable: 1 } }))).toBe(
      'PodDisruptionBudget.policy "web" is invalid: spec: Invalid value: {"minAvailable":1,"selector":{"matchLabels":{"app":"web"}},"maxUnavailable":1}: minAvailable and maxUnavailable cannot be both set',
    );
  });
});

describe('RBAC strategies', () => {
  const rbac = 'rbac.authorization.k8s.io';

  it('defaults binding groups and refuses a changed roleRef', async () => {
    const rbs = def('rolebindings', rbac);
    const body = { metadata: { name: 'read' }, subjects: [{ kind: 'User', name: 'jane' }], roleRef: { kind: 'Role', name: 'reader' } };
    const created = await rest.create(rbs, ctx('default'), body);
    expect(created.roleRef).toEqual({ apiGroup: rbac, kind: 'Role', name: 'reader' });
    expect(created.subjects).toEqual([{ kind: 'User', apiGroup: rbac, name: 'jane' }]);
    expect(created.metadata.generation).toBeUndefined();
    expect(await rejection(rest.update(rbs, ctx('default'), 'read', { ...body, roleRef: { kind: 'ClusterRole', name: 'view' } }))).toBe(
      `RoleBinding.${rbac} "read" is invalid: roleRef: Invalid value: {"apiGroup":"${rbac}","kind":"ClusterRole","name":"view"}: cannot change roleRef`,
    );
  });

  it('accepts every bootstrap ClusterRole and ClusterRoleBinding (so admins can edit them)', () => {
    const problems = bootstrapPolicyObjects().flatMap((o) => {
      const r = o.kind === 'ClusterRole' ? parseClusterRole(o, { strict: true }) : parseClusterRoleBinding(o, { strict: true });
      return r.ok ? [] : r.errors.map((e) => `${o.metadata.name}: ${formatFieldError(e)}`);
    });
    expect(problems).toEqual([]);
  });

  it('validates cluster role rules', async () => {
    const crs = def('clusterroles', rbac);
    await rest.create(crs, ctx(), { metadata: { name: 'system:metrics' }, rules: [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }] });
    expect(await rejection(rest.create(crs, ctx(), { metadata: { name: 'bad' }, rules: [{ resources: ['pods'] }] }))).toBe(
      `ClusterRole.${rbac} "bad" is invalid: [rules[0].verbs: Required value: verbs must contain at least one value, rules[0].apiGroups: Required value: resource rules must supply at least one api group]`,
    );
  });
});

describe('Lease, EndpointSlice, PriorityClass strategies', () => {
  it('stores leases as given', async () => {
    const leases = def('leases', 'coordination.k8s.io');
    const created = await rest.create(leases, ctx('kube-node-lease'), { metadata: { name: 'node-1' }, spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40 } });
    expect(created.spec).toEqual({ holderIdentity: 'node-1', leaseDurationSeconds: 40 });
  });

  it('defaults EndpointSlice ports and keeps addressType', async () => {
    const slices = def('endpointslices', 'discovery.k8s.io');
    const body = { metadata: { name: 'web-1' }, addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.1'] }], ports: [{ port: 80 }] };
    const created = await rest.create(slices, ctx('default'), body);
    expect(created.ports).toEqual([{ name: '', protocol: 'TCP', port: 80 }]);
    expect(created.metadata.generation).toBe(1);
    expect(await rejection(rest.update(slices, ctx('default'), 'web-1', { ...body, addressType: 'IPv6', endpoints: [{ addresses: ['fd00::1'] }] }))).toBe(
      'EndpointSlice.discovery.k8s.io "web-1" is invalid: addressType: Invalid value: "IPv6": field is immutable',
    );
  });

  it('defaults PriorityClass preemption and reserves system names', async () => {
    const pcs = def('priorityclasses', 'scheduling.k8s.io');
    const created = await rest.create(pcs, ctx(), { metadata: { name: 'high' }, value: 1000 });
    expect(created.preemptionPolicy).toBe('PreemptLowerPriority');
    expect(await rejection(rest.create(pcs, ctx(), { metadata: { name: 'system-mine' }, value: 1 }))).toBe(
      "PriorityClass.scheduling.k8s.io \"system-mine\" is invalid: metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class",
    );
  });
});

describe('CertificateSigningRequest strategy', () => {
  const CSR = `-----BEGIN CERTIFICATE REQUEST-----
MIGPMEMCAQAwEDEOMAwGA1UEAwwFYWxpY2UwKjAFBgMrZXADIQCCSrv6E8INRp1k
dpUcSFwILLL0JY4SuPEZks6CeLjh0KAAMAUGAytlcANBAHDnP/0q9mHKGyA3su4y
By1ltIpfWc3i8dgzOYV6dGbPgs+7N5w9IU0dg1BpkjGKpfIrwYxtUqyNR7dIlRph
GgM=
-----END CERTIFICATE REQUEST-----
`;
  it('keeps the spec on main updates and selects by spec.signerName', async () => {
    const csrs = def('certificatesigningrequests', 'certificates.k8s.io');
    const body = {
      metadata: { name: 'alice' },
      spec: { request: Buffer.from(CSR).toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'] },
    };
    const extra = { 'authentication.kubernetes.io/credential-id': ['X509SHA256=00ff'] };
    const created = await rest.create(csrs, { ...ctx(), user: { name: 'alice', uid: 'u-1', groups: ['devs', 'system:authenticated'], extra } }, {
      ...body,
      spec: { ...body.spec, username: 'admin', groups: ['system:masters'], extra: { forged: ['x'] } },
    });
    // The requester as authenticated, extra included (as upstream), whatever the body claimed.
    expect(created.spec).toMatchObject({ username: 'alice', uid: 'u-1', groups: ['devs', 'system:authenticated'], extra });
    expect((created.spec as { extra: Record<string, unknown> }).extra.forged).toBeUndefined();
    const updated = await rest.update(csrs, ctx(), 'alice', { ...body, metadata: { name: 'alice', labels: { a: 'b' } }, spec: { ...body.spec, usages: ['server auth'] } });
    expect((updated.spec as any).usages).toEqual(['client auth']);
    expect(updated.metadata.labels).toEqual({ a: 'b' });
    const sel = parseSelection(csrs, new URLSearchParams({ fieldSelector: 'spec.signerName=kubernetes.io/kube-apiserver-client' }));
    expect(selects(csrs, sel, created)).toBe(true);
    expect(await rejection(rest.create(csrs, ctx(), { ...body, metadata: { name: 'bob' }, spec: { ...body.spec, request: 'bm90IGEgY3Ny' } }))).toBe(
      'CertificateSigningRequest.certificates.k8s.io "bob" is invalid: spec.request: Invalid value: "bm90IGEgY3Ny": PEM block type must be CERTIFICATE REQUEST',
    );
  });
});
