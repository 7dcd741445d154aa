import { describe, expect, it } from 'vitest';
import { forbiddenNodeLabels, nodeRestrictionMessage } from '../../../../../control/apiserver/authz/node.js';
import { findResource, type ResourceDef } from '../../../../../control/apiserver/resources.js';
import type { KubeObject } from '../../../../../control/apiserver/storage/object-storage.js';

const n1 = { name: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };
const admin = { name: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] };
const nodes = findResource('', 'v1', 'nodes') as ResourceDef;
const node = (labels: Record<string, string>, taints?: Array<Record<string, string>>): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels }, spec: taints ? { taints } : {} });

describe('NodeRestriction: labels and taints a node sets on itself', () => {
  it('names kubernetes.io and k8s.io labels outside the kubelet\'s set, and node-restriction.kubernetes.io ones', () => {
    expect(forbiddenNodeLabels({ 'kubernetes.io/hostname': 'n1', 'kubernetes.io/os': 'linux', 'topology.kubernetes.io/zone': 'a', 'node.kubernetes.io/exclude-from-external-load-balancers': '', 'x.kubelet.kubernetes.io/y': '1', disktype: 'ssd', 'example.com/team': 'a' }, {})).toEqual([]);
    expect(forbiddenNodeLabels({ 'node-role.kubernetes.io/control-plane': '', 'node-restriction.kubernetes.io/pool': 'a', 'foo.k8s.io/bar': 'x', 'a.node-restriction.kubernetes.io/b': 'c' }, {})).toEqual(['a.node-restriction.kubernetes.io/b', 'foo.k8s.io/bar', 'node-restriction.kubernetes.io/pool', 'node-role.kubernetes.io/control-plane']);
    // Only what changes counts: an admin's label left as it is, not one the node removes.
    expect(forbiddenNodeLabels({ 'node-role.kubernetes.io/worker': '' }, { 'node-role.kubernetes.io/worker': '' })).toEqual([]);
    expect(forbiddenNodeLabels({}, { 'node-role.kubernetes.io/worker': '' })).toEqual(['node-role.kubernetes.io/worker']);
  });

  it('refuses such registrations and updates from the node, with upstream\'s words, and never an admin\'s', () => {
    expect(nodeRestrictionMessage(n1, 'create', nodes, node({ 'kubernetes.io/hostname': 'n1', disktype: 'ssd' }), undefined)).toBeUndefined();
    expect(nodeRestrictionMessage(n1, 'create', nodes, node({ 'node-role.kubernetes.io/control-plane': '' }), undefined)).toBe('node "n1" is not allowed to set the following labels: node-role.kubernetes.io/control-plane');
    // Registering with taints is the kubelet's --register-with-taints; changing them later is not allowed.
    expect(nodeRestrictionMessage(n1, 'create', nodes, node({}, [{ key: 'k', effect: 'NoSchedule' }]), undefined)).toBeUndefined();
    const old = node({ 'node-role.kubernetes.io/worker': '' }, [{ key: 'k', effect: 'NoSchedule' }]);
    expect(nodeRestrictionMessage(n1, 'update', nodes, node({ 'node-role.kubernetes.io/worker': '' }, []), old)).toBe('node "n1" is not allowed to modify taints');
    expect(nodeRestrictionMessage(n1, 'update', nodes, node({}, [{ key: 'k', effect: 'NoSchedule' }]), old)).toBe('node "n1" is not allowed to modify labels: node-role.kubernetes.io/worker');
    expect(nodeRestrictionMessage(n1, 'update', nodes, node({ 'node-role.kubernetes.io/worker': '', disktype: 'hdd' }, [{ key: 'k', effect: 'NoSchedule' }]), old)).toBeUndefined();
    expect(nodeRestrictionMessage(admin, 'update', nodes, node({}, []), old)).toBeUndefined();
  });
});
