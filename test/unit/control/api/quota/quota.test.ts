import { describe, expect, it } from 'vitest';
import {
  add,
  formatAmount,
  lessThanOrEqual,
  mask,
  podCountsForQuota,
  prettyPrint,
  quotaEvaluatorFor,
  quotaMatches,
  quotaScopes,
  quotaUsed,
  resourcesToList,
  subtract,
  subtractNonNegative,
  type ScopeSelector,
} from '../../../../../control/api/quota/index.js';

const now = new Date('2026-01-01T00:00:00Z');
const pod = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ metadata: { name: 'p' }, spec, ...extra });

describe('quota resource lists', () => {
  it('adds in the format of the first non-zero operand, as Quantity.Add prints', () => {
    expect(add({ memory: '512Mi' }, { memory: '512Mi' })).toEqual({ memory: '1Gi' });
    expect(add({ cpu: '1' }, { cpu: '500m' })).toEqual({ cpu: '1500m' });
    expect(add({ cpu: '0' }, { cpu: '250m' })).toEqual({ cpu: '250m' });
    expect(add({ memory: '0' }, { memory: '128Mi' })).toEqual({ memory: '128Mi' });
    expect(add({ pods: '2' }, { services: '1' })).toEqual({ pods: '2', services: '1' });
  });

  it('subtracts, floored at zero when asked', () => {
    expect(subtract({ cpu: '1' }, { cpu: '1500m' })).toEqual({ cpu: '-500m' });
    expect(subtractNonNegative({ cpu: '1', pods: '1' }, { cpu: '1500m' })).toEqual({ cpu: '0', pods: '1' });
  });

  it('compares only what both lists name, and reports what is over', () => {
    expect(lessThanOrEqual({ pods: '4', cpu: '1' }, { pods: '3' })).toEqual({ allowed: false, exceeded: ['pods'] });
    expect(lessThanOrEqual({ 'requests.memory': '1Gi' }, { 'requests.memory': '1024Mi' }).allowed).toBe(true);
  });

  it('prints sorted name=quantity pairs with canonical quantities', () => {
    expect(prettyPrint({ pods: '1', 'requests.cpu': '0.5', 'limits.memory': '1024Mi' })).toBe('limits.memory=1Gi,pods=1,requests.cpu=500m');
    expect(prettyPrint(mask({ a: '1', b: '2' }, ['b', 'c']))).toBe('b=2');
  });

  it('formats exact amounts in each format', () => {
    expect(formatAmount(1536n * 1024n * 1024n * 1_000_000_000n, 'BinarySI')).toBe('1536Mi');
    expect(formatAmount(1500n * 1_000_000_000n, 'BinarySI')).toBe('1500');
    expect(formatAmount(2_000_000_000_000n, 'DecimalSI')).toBe('2k');
  });
});

describe('quota evaluators', () => {
  it('charges a pod its object count, pods, and requests and limits by their quota names', () => {
    const usage = quotaEvaluatorFor('', 'pods').usage(
      pod({
        containers: [
          { name: 'a', resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '200m', memory: '128Mi' } } },
          { name: 'b', resources: { requests: { cpu: '300m', 'example.com/gpu': '1' } } },
        ],
        initContainers: [{ name: 'i', resources: { requests: { cpu: '1' } } }],
      }),
      now,
    );
    expect(usage).toEqual({
      'count/pods': '1',
      pods: '1',
      cpu: '1',
      'requests.cpu': '1',
      memory: '64Mi',
      'requests.memory': '64Mi',
      'limits.cpu': '200m',
      'limits.memory': '128Mi',
      'requests.example.com/gpu': '1',
    });
  });

  it('stops charging compute for finished pods but keeps counting them', () => {
    const usage = quotaEvaluatorFor('', 'pods').usage(pod({ containers: [{ name: 'a', resources: { requests: { cpu: '1' } } }] }, { status: { phase: 'Succeeded' } }), now);
    expect(usage).toEqual({ 'count/pods': '1' });
  });

  it('stops charging pods whose deletion grace period ran out, but not pods deleted without one', () => {
    const deleted = (deletionTimestamp: string, deletionGracePeriodSeconds?: number) => ({
      metadata: { name: 'p', deletionTimestamp, ...(deletionGracePeriodSeconds !== undefined ? { deletionGracePeriodSeconds } : {}) },
      spec: {},
    });
    expect(podCountsForQuota(deleted('2025-12-31T23:59:00Z', 30), now)).toBe(false);
    expect(podCountsForQuota(deleted('2025-12-31T23:59:50Z', 30), now)).toBe(true);
    expect(podCountsForQuota(deleted('2025-12-31T23:00:00Z'), now)).toBe(true);
    expect(podCountsForQuota({ metadata: {}, status: { phase: 'Failed' } }, now)).toBe(false);
  });

  it('requires every container to state cpu/memory a quota tracks, naming them as upstream does', () => {
    const ev = quotaEvaluatorFor('', 'pods');
    const p = pod({ containers: [{ name: 'web', resources: { requests: { cpu: '1' } } }, { name: 'side' }] });
    expect(ev.constraints(['requests.cpu', 'limits.memory', 'pods'], p)).toBe('must specify limits.memory for: side,web; requests.cpu for: side');
    expect(ev.constraints(['pods', 'count/pods'], p)).toBeUndefined();
  });

  it('counts services, node ports and load balancers', () => {
    const ev = quotaEvaluatorFor('', 'services');
    expect(ev.usage({ metadata: {}, spec: { type: 'NodePort', ports: [{}, {}] } }, now)).toEqual({ 'count/services': '1', services: '1', 'services.nodeports': '2', 'services.loadbalancers': '0' });
    expect(ev.usage({ metadata: {}, spec: { type: 'LoadBalancer', ports: [{}] } }, now)).toMatchObject({ 'services.nodeports': '1', 'services.loadbalancers': '1' });
    expect(ev.usage({ metadata: {}, spec: { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ports: [{ nodePort: 30001 }, {}] } }, now)['services.nodeports']).toBe('1');
    expect(ev.usage({ metadata: {}, spec: { ports: [{}] } }, now)).toMatchObject({ 'services.nodeports': '0', 'services.loadbalancers': '0' });
    expect(ev.handles('update')).toBe(true);
  });

  it('counts claims by storage class', () => {
    const ev = quotaEvaluatorFor('', 'persistentvolumeclaims');
    expect(ev.usage({ metadata: {}, spec: { storageClassName: 'fast', resources: { requests: { storage: '1Gi' } } } }, now)).toEqual({
      'count/persistentvolumeclaims': '1',
      persistentvolumeclaims: '1',
      'requests.storage': '1Gi',
      'fast.storageclass.storage.k8s.io/persistentvolumeclaims': '1',
      'fast.storageclass.storage.k8s.io/requests.storage': '1Gi',
    });
  });

  it('counts any other kind by count/<resource>.<group>, with the legacy names for core kinds', () => {
    expect(quotaEvaluatorFor('apps', 'deployments').usage({ metadata: {} }, now)).toEqual({ 'count/deployments.apps': '1' });
    expect(quotaEvaluatorFor('', 'configmaps').usage({ metadata: {} }, now)).toEqual({ 'count/configmaps': '1', configmaps: '1' });
    expect(quotaEvaluatorFor('', 'configmaps').handles('update')).toBe(false);
  });

  it('matches a quota only on resources it tracks', () => {
    const ev = quotaEvaluatorFor('', 'pods');
    expect(quotaMatches(ev, ['configmaps'], [], pod({}), now)).toBe(false);
    expect(quotaMatches(ev, ['configmaps', 'requests.example.com/gpu'], [], pod({}), now)).toBe(true);
  });

  describe('scopes', () => {
    const bestEffort = pod({ containers: [{ name: 'a' }] });
    const burstable = pod({ containers: [{ name: 'a', resources: { requests: { cpu: '1' } } }], priorityClassName: 'high' });
    const terminating = pod({ containers: [{ name: 'a', resources: { requests: { cpu: '1' } } }], activeDeadlineSeconds: 30, priorityClassName: 'low' });
    const cases: Array<{ scopes: string[]; matching: string[] }> = [
      { scopes: ['BestEffort'], matching: ['bestEffort'] },
      { scopes: ['NotBestEffort'], matching: ['burstable', 'terminating'] },
      { scopes: ['Terminating'], matching: ['terminating'] },
      { scopes: ['NotTerminating'], matching: ['bestEffort', 'burstable'] },
      { scopes: ['Terminating', 'NotBestEffort'], matching: ['terminating'] },
      { scopes: ['PriorityClass'], matching: ['burstable', 'terminating'] },
    ];
    const pods = { bestEffort, burstable, terminating };
    for (const c of cases) {
      it(`a quota scoped ${c.scopes.join(' and ')} covers the pods matching every scope`, () => {
        const ev = quotaEvaluatorFor('', 'pods');
        const covered = Object.entries(pods).filter(([, p]) => quotaMatches(ev, ['pods'], quotaScopes({ scopes: c.scopes }), p, now));
        expect(covered.map(([n]) => n)).toEqual(c.matching);
      });
    }

    it('selects pods by priority class with In, NotIn, Exists and DoesNotExist', () => {
      const ev = quotaEvaluatorFor('', 'pods');
      const covered = (expr: ScopeSelector): string[] =>
        Object.entries(pods)
          .filter(([, p]) => quotaMatches(ev, ['pods'], quotaScopes({ scopeSelector: { matchExpressions: [expr] } }), p, now))
          .map(([n]) => n);
      expect(covered({ scopeName: 'PriorityClass', operator: 'In', values: ['high'] })).toEqual(['burstable']);
      expect(covered({ scopeName: 'PriorityClass', operator: 'NotIn', values: ['high'] })).toEqual(['bestEffort', 'terminating']);
      expect(covered({ scopeName: 'PriorityClass', operator: 'Exists' })).toEqual(['burstable', 'terminating']);
      expect(covered({ scopeName: 'PriorityClass', operator: 'DoesNotExist' })).toEqual(['bestEffort']);
    });

    it('covers only pods: a scoped quota never covers services, claims or counted kinds', () => {
      const scopes = quotaScopes({ scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'DoesNotExist' }] } });
      expect(quotaMatches(quotaEvaluatorFor('', 'services'), ['services'], scopes, { metadata: {}, spec: {} }, now)).toBe(false);
      expect(quotaMatches(quotaEvaluatorFor('', 'persistentvolumeclaims'), ['persistentvolumeclaims'], scopes, { metadata: {}, spec: {} }, now)).toBe(false);
      expect(quotaMatches(quotaEvaluatorFor('', 'configmaps'), ['configmaps'], scopes, { metadata: {} }, now)).toBe(false);
      expect(quotaMatches(quotaEvaluatorFor('', 'configmaps'), ['configmaps'], [], { metadata: {} }, now)).toBe(true);
    });
  });
});

describe('quota status.used', () => {
  const cpuPod = (cpu: string, extra: Record<string, unknown> = {}) => pod({ containers: [{ name: 'a', resources: { requests: { cpu, memory: '128Mi' }, limits: { memory: '256Mi' } } }] }, extra);

  it('sums what every listed object counts for, as the quota names it, with zero for what nothing uses', () => {
    const hard = { pods: '10', 'count/pods': '10', 'requests.cpu': '4', 'requests.memory': '1Gi', 'limits.memory': '2Gi', 'limits.cpu': '4' };
    const items = [cpuPod('250m'), cpuPod('1'), pod({ containers: [{ name: 'a' }] }), cpuPod('2', { status: { phase: 'Succeeded' } })];
    expect(quotaUsed(hard, [], undefined, [{ group: '', resource: 'pods', items }], now)).toEqual({
      pods: '3',
      'count/pods': '4',
      'requests.cpu': '1250m',
      'requests.memory': '256Mi',
      'limits.memory': '512Mi',
      'limits.cpu': '0',
    });
  });

  it('counts only the pods under every scope of the quota', () => {
    const items = [pod({ containers: [{ name: 'a' }] }), cpuPod('1'), cpuPod('1', { spec: { activeDeadlineSeconds: 30, containers: [{ name: 'a', resources: { requests: { cpu: '1' } } }] } })];
    expect(quotaUsed({ pods: '9' }, quotaScopes({ scopes: ['NotBestEffort', 'NotTerminating'] }), undefined, [{ group: '', resource: 'pods', items }], now)).toEqual({ pods: '1' });
  });

  it('counts services, claims and other kinds, lists only what the quota tracks, and keeps what no evaluator tracks', () => {
    const hard = {
      services: '9',
      'services.nodeports': '9',
      'services.loadbalancers': '9',
      persistentvolumeclaims: '9',
      'requests.storage': '10Gi',
      'fast.storageclass.storage.k8s.io/requests.storage': '5Gi',
      configmaps: '9',
      'count/configmaps': '9',
      'count/deployments.apps': '9',
      secrets: '9',
      'example.com/widgets': '9',
    };
    const resources = resourcesToList(hard);
    expect(resources.map((r) => `${r.group}/${r.resource}`).sort()).toEqual(['/configmaps', '/persistentvolumeclaims', '/secrets', '/services', 'apps/deployments']);
    const items: Record<string, unknown[]> = {
      '/services': [{ metadata: {}, spec: { type: 'NodePort', ports: [{}, {}] } }, { metadata: {}, spec: { type: 'LoadBalancer', ports: [{}] } }, { metadata: {}, spec: {} }],
      '/persistentvolumeclaims': [{ metadata: {}, spec: { storageClassName: 'fast', resources: { requests: { storage: '1Gi' } } } }, { metadata: {}, spec: { resources: { requests: { storage: '512Mi' } } } }],
      '/configmaps': [{ metadata: {} }, { metadata: {} }],
      'apps/deployments': [{ metadata: {} }],
    };
    const listed = resources.map((r) => ({ ...r, items: (items[`${r.group}/${r.resource}`] ?? []) as Array<{ metadata: object }> }));
    expect(quotaUsed(hard, [], { 'example.com/widgets': '3', gone: '1' }, listed, now)).toEqual({
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
      'example.com/widgets': '3',
    });
  });
});
