import { describe, expect, it } from 'vitest';
import type { Obj, Pod } from '../../../../control/controllers/objects.js';
import { formatAmount, podCounts, quotaUsed, resourcesFor, type ResourceQuota } from '../../../../control/controllers/resourcequota.js';

const NOW = new Date('2026-01-01T00:10:00Z');
const pod = (name: string, o: { req?: Record<string, string>; lim?: Record<string, string>; phase?: string; deadline?: number; init?: Record<string, string>; priorityClass?: string } = {}): Pod => ({
  metadata: { name, namespace: 'default' },
  spec: {
    containers: [{ name: 'c', resources: { ...(o.req ? { requests: o.req } : {}), ...(o.lim ? { limits: o.lim } : {}) } }],
    ...(o.init ? { initContainers: [{ name: 'i', resources: { requests: o.init } }] } : {}),
    ...(o.deadline !== undefined ? { activeDeadlineSeconds: o.deadline } : {}),
    ...(o.priorityClass ? { priorityClassName: o.priorityClass } : {}),
  },
  status: { phase: o.phase ?? 'Running' },
});
const quota = (hard: Record<string, string>, scopes?: string[]): ResourceQuota => ({ metadata: { name: 'q', namespace: 'default' }, spec: { hard, ...(scopes ? { scopes } : {}) } });
const podsListed = (items: Obj[]) => [{ group: '', resource: 'pods', items }];

describe('quotaUsed', () => {
  it('sums pod requests and limits in canonical quantities', () => {
    const used = quotaUsed(
      quota({ pods: '10', 'requests.cpu': '4', cpu: '4', 'requests.memory': '1Gi', memory: '1Gi', 'limits.memory': '2Gi', 'count/pods': '10' }),
      podsListed([pod('a', { req: { cpu: '250m', memory: '128Mi' }, lim: { memory: '256Mi' } }), pod('b', { req: { cpu: '1', memory: '128Mi' } }), pod('c')]),
      NOW,
    );
    expect(used).toEqual({ pods: '3', 'count/pods': '3', 'requests.cpu': '1250m', cpu: '1250m', 'requests.memory': '256Mi', memory: '256Mi', 'limits.memory': '256Mi' });
  });

  it('an init container larger than the app containers sets the request', () => {
    expect(quotaUsed(quota({ 'requests.cpu': '4' }), podsListed([pod('a', { req: { cpu: '100m' }, init: { cpu: '2' } })]), NOW)).toEqual({ 'requests.cpu': '2' });
  });

  it('finished pods and pods past their deletion grace period do not count', () => {
    const gone: Pod = { ...pod('d'), metadata: { name: 'd', deletionTimestamp: '2026-01-01T00:09:00Z', deletionGracePeriodSeconds: 30 } };
    const going: Pod = { ...pod('e'), metadata: { name: 'e', deletionTimestamp: '2026-01-01T00:09:50Z', deletionGracePeriodSeconds: 30 } };
    expect(podCounts(gone, NOW)).toBe(false);
    expect(podCounts(going, NOW)).toBe(true);
    expect(quotaUsed(quota({ pods: '9' }), podsListed([pod('a', { phase: 'Succeeded' }), pod('b', { phase: 'Failed' }), pod('c'), gone, going]), NOW)).toEqual({ pods: '2' });
  });

  const scoped: Array<{ name: string; scopes: string[]; want: string }> = [
    { name: 'BestEffort', scopes: ['BestEffort'], want: '1' },
    { name: 'NotBestEffort', scopes: ['NotBestEffort'], want: '2' },
    { name: 'Terminating', scopes: ['Terminating'], want: '1' },
    { name: 'NotTerminating', scopes: ['NotTerminating'], want: '2' },
    { name: 'Terminating and NotBestEffort', scopes: ['Terminating', 'NotBestEffort'], want: '1' },
  ];
  for (const c of scoped) {
    it(`scope ${c.name}`, () => {
      const pods = [pod('a'), pod('b', { req: { cpu: '1' } }), pod('c', { req: { cpu: '1' }, deadline: 30 })];
      expect(quotaUsed(quota({ pods: '9' }, c.scopes), podsListed(pods), NOW)).toEqual({ pods: c.want });
    });
  }

  it('PriorityClass scope selector', () => {
    const q: ResourceQuota = { metadata: { name: 'q' }, spec: { hard: { pods: '9' }, scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In', values: ['high'] }] } } };
    expect(quotaUsed(q, podsListed([pod('a', { priorityClass: 'high' }), pod('b', { priorityClass: 'low' }), pod('c')]), NOW)).toEqual({ pods: '1' });
  });

  it('services, claims and object counts', () => {
    const listed = [
      { group: '', resource: 'services', items: [{ metadata: { name: 's1' }, spec: { type: 'NodePort', ports: [{ port: 1 }, { port: 2 }] } }, { metadata: { name: 's2' }, spec: { type: 'LoadBalancer', ports: [{ port: 1 }] } }, { metadata: { name: 's3' }, spec: {} }] },
      { group: '', resource: 'persistentvolumeclaims', items: [{ metadata: { name: 'c1' }, spec: { storageClassName: 'fast', resources: { requests: { storage: '1Gi' } } } }, { metadata: { name: 'c2' }, spec: { resources: { requests: { storage: '512Mi' } } } }] },
      { group: '', resource: 'configmaps', items: [{ metadata: { name: 'a' } }, { metadata: { name: 'b' } }] },
      { group: 'apps', resource: 'deployments', items: [{ metadata: { name: 'd' } }] },
    ];
    const q = quota({ services: '9', 'services.nodeports': '9', 'services.loadbalancers': '9', persistentvolumeclaims: '9', 'requests.storage': '10Gi', 'fast.storageclass.storage.k8s.io/requests.storage': '5Gi', configmaps: '9', 'count/configmaps': '9', 'count/deployments.apps': '9', secrets: '9' });
    expect(quotaUsed(q, listed, NOW)).toEqual({
      services: '3',
      'services.nodeports': '3',
      'services.loadbalancers': '1',
      persistentvolumeclaims: '2',
      'requests.storage': '1536Mi',
      'fast.storageclass.storage.k8s.io/requests.storage': '1Gi',
      configmaps: '2',
      'count/configmaps': '2',
      'count/deployments.apps': '1',
      secrets: '0',
    });
    expect(resourcesFor(q.spec?.hard ?? {}).map((r) => `${r.group}/${r.resource}`).sort()).toEqual(['/configmaps', '/persistentvolumeclaims', '/secrets', '/services', 'apps/deployments']);
  });

  it('formats sums as upstream prints quantities', () => {
    expect(formatAmount('requests.cpu', { value: 2000, binary: false })).toBe('2');
    expect(formatAmount('limits.cpu', { value: 2500, binary: false })).toBe('2500m');
    expect(formatAmount('requests.memory', { value: 3 * 2 ** 30, binary: true })).toBe('3Gi');
    expect(formatAmount('requests.memory', { value: 2e9, binary: false })).toBe('2G');
    expect(formatAmount('requests.memory', { value: 1500, binary: false })).toBe('1500');
    expect(formatAmount('pods', { value: 0, binary: false })).toBe('0');
  });
});
