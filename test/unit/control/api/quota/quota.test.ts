import { describe, expect, it } from 'vitest';
import {
  add,
  formatAmount,
  lessThanOrEqual,
  mask,
  prettyPrint,
  quotaEvaluatorFor,
  quotaMatches,
  quotaScopes,
  subtract,
  subtractNonNegative,
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

  it('requires every container to state cpu/memory a quota tracks, naming them as upstream does', () => {
    const ev = quotaEvaluatorFor('', 'pods');
    const p = pod({ containers: [{ name: 'web', resources: { requests: { cpu: '1' } } }, { name: 'side' }] });
    expect(ev.constraints(['requests.cpu', 'limits.memory', 'pods'], p)).toBe('must specify limits.memory for: side,web; requests.cpu for: side');
    expect(ev.constraints(['pods', 'count/pods'], p)).toBeUndefined();
  });

  it('counts services, node ports and load balancers', () => {
    const ev = quotaEvaluatorFor('', 'services');
    expect(ev.usage({ metadata: {}, spec: { type: 'NodePort', ports: [{}, {}] } }, now)).toEqual({ 'count/services': '1', services: '1', 'services.nodeports': '2', 'services.loadbalancers': '0' });
    expect(ev.usage({ metadata: {}, spec: { type: 'LoadBalancer', ports: [{}] } }, now)['services.loadbalancers']).toBe('1');
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

  it('matches a quota only on resources it tracks and every scope it has', () => {
    const ev = quotaEvaluatorFor('', 'pods');
    const bestEffort = pod({ containers: [{ name: 'a' }] });
    const burstable = pod({ containers: [{ name: 'a', resources: { requests: { cpu: '1' } } }], priorityClassName: 'high' });
    expect(quotaMatches(ev, ['configmaps'], [], bestEffort, now)).toBe(false);
    expect(quotaMatches(ev, ['pods'], quotaScopes({ scopes: ['BestEffort'] }), bestEffort, now)).toBe(true);
    expect(quotaMatches(ev, ['pods'], quotaScopes({ scopes: ['BestEffort'] }), burstable, now)).toBe(false);
    const byClass = quotaScopes({ scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In', values: ['high'] }] } });
    expect(quotaMatches(ev, ['pods'], byClass, burstable, now)).toBe(true);
    expect(quotaMatches(ev, ['pods'], byClass, bestEffort, now)).toBe(false);
  });
});
