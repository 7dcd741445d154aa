// The NetworkPolicy printer, as upstream's printNetworkPolicy: NAME POD-SELECTOR AGE.
import { describe, expect, it } from 'vitest';
import { networkPolicyPrinter } from '../../../../../control/apiserver/printing/printers/networking.js';
import { PRINTERS } from '../../../../../control/apiserver/printing/printers/index.js';
import { ago, HOUR, NOW, obj } from './fixtures.js';

const np = (spec: Record<string, unknown>) =>
  obj('NetworkPolicy', 'networking.k8s.io/v1', { name: 'deny-all', namespace: 'default', creationTimestamp: ago(2 * HOUR) }, { spec });

describe('network policies', () => {
  it('has upstream columns and is registered for networking.k8s.io', () => {
    expect(networkPolicyPrinter.columns.map((c) => [c.name, c.type, c.priority])).toEqual([
      ['Name', 'string', 0],
      ['Pod-Selector', 'string', 0],
      ['Age', 'string', 0],
    ]);
    expect(PRINTERS.find(([g, k]) => g === 'networking.k8s.io' && k === 'NetworkPolicy')?.[2]).toBe(networkPolicyPrinter);
  });

  it('shows <none> for an empty pod selector', () => {
    expect(networkPolicyPrinter.cells(np({ podSelector: {}, policyTypes: ['Ingress'] }), NOW)).toEqual(['deny-all', '<none>', '120m']);
  });

  it('shows the pod selector as a label selector string, labels and expressions sorted by key', () => {
    expect(networkPolicyPrinter.cells(np({ podSelector: { matchLabels: { app: 'web' } } }), NOW)[1]).toBe('app=web');
    const sel = { matchLabels: { tier: 'db' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'qa'] }, { key: 'canary', operator: 'DoesNotExist' }] };
    expect(networkPolicyPrinter.cells(np({ podSelector: sel }), NOW)[1]).toBe('!canary,env in (prod,qa),tier=db');
  });
});
