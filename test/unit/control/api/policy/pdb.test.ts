// policy/v1 PodDisruptionBudget validation.
import { describe, expect, it } from 'vitest';
import { parsePodDisruptionBudget, parseKindUpdate, podDisruptionBudgetKind } from '../../../../../control/api/index.js';
import { lines, must, PERCENT } from '../apps/helpers.js';

function pdb(edit: (p: any) => void = () => {}): any {
  const p: any = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'default' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } } };
  edit(p);
  return p;
}

describe('PodDisruptionBudget', () => {
  it('accepts minAvailable or maxUnavailable, as a number or percentage', () => {
    expect(lines(parsePodDisruptionBudget(pdb()))).toEqual([]);
    expect(lines(parsePodDisruptionBudget(pdb((p) => ((p.spec = { maxUnavailable: '30%', selector: {} })))))).toEqual([]);
    expect(must(parsePodDisruptionBudget(pdb())).spec.unhealthyPodEvictionPolicy).toBeUndefined();
  });

  const cases: Array<[string, (p: any) => void, string[]]> = [
    [
      'not both minAvailable and maxUnavailable',
      (p) => (p.spec.maxUnavailable = 1),
      ['spec: Invalid value: {"minAvailable":2,"selector":{"matchLabels":{"app":"web"}},"maxUnavailable":1}: minAvailable and maxUnavailable cannot be both set'],
    ],
    ['non-negative', (p) => (p.spec.minAvailable = -1), ['spec.minAvailable: Invalid value: -1: must be greater than or equal to 0']],
    ['percent syntax', (p) => (p.spec.minAvailable = '50'), [`spec.minAvailable: Invalid value: "50": ${PERCENT}`]],
    ['at most 100%', (p) => (p.spec.minAvailable = '101%'), ['spec.minAvailable: Invalid value: "101%": must not be greater than 100%']],
    [
      'unhealthyPodEvictionPolicy',
      (p) => (p.spec.unhealthyPodEvictionPolicy = 'Never'),
      ['spec.unhealthyPodEvictionPolicy: Unsupported value: "Never": supported values: "AlwaysAllow", "IfHealthyBudget"'],
    ],
    [
      'selector syntax',
      (p) => (p.spec.selector = { matchExpressions: [{ key: 'app', operator: 'NotIn' }] }),
      ["spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"],
    ],
  ];
  it.each(cases)('%s', (_rule, edit, want) => {
    expect(lines(parsePodDisruptionBudget(pdb(edit)))).toEqual(want);
  });

  it('allows spec changes on update and validates status counters', () => {
    const old = must(parsePodDisruptionBudget(pdb()));
    expect(lines(parseKindUpdate(podDisruptionBudgetKind, pdb((p) => (p.spec.minAvailable = '50%')), old))).toEqual([]);
    expect(lines(parseKindUpdate(podDisruptionBudgetKind, pdb((p) => (p.status = { disruptionsAllowed: -1 })), old))).toEqual([
      'status.disruptionsAllowed: Invalid value: -1: must be greater than or equal to 0',
    ]);
  });
});
