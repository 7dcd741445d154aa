// scheduling.k8s.io/v1 PriorityClass: preemptionPolicy default, value limits, reserved system- names, immutability.
import { describe, expect, it } from 'vitest';
import { parseKindUpdate, parsePriorityClass, priorityClassKind } from '../../../../../control/api/index.js';
import { lines, must } from '../apps/helpers.js';

const pc = (name: string, value: number, extra: Record<string, unknown> = {}): any => ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, ...extra });

describe('PriorityClass', () => {
  it('defaults preemptionPolicy', () => {
    expect(must(parsePriorityClass(pc('high', 1000))).preemptionPolicy).toBe('PreemptLowerPriority');
  });
  it('caps user-defined values at one billion', () => {
    expect(lines(parsePriorityClass(pc('high', 1000000000)))).toEqual([]);
    expect(lines(parsePriorityClass(pc('high', 1000000001)))).toEqual(['value: Forbidden: maximum allowed value of a user defined priority is 1000000000']);
  });
  it('reserves the system- prefix for the built-in classes', () => {
    expect(lines(parsePriorityClass(pc('system-cluster-critical', 2000000000)))).toEqual([]);
    expect(lines(parsePriorityClass(pc('system-custom', 10)))).toEqual([
      "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-custom is not a known system priority class",
    ]);
    expect(lines(parsePriorityClass(pc('system-node-critical', 5)))).toEqual([
      "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: value of system-node-critical PriorityClass must be 2000001000",
    ]);
  });
  it('validates preemptionPolicy', () => {
    expect(lines(parsePriorityClass(pc('low', 1, { preemptionPolicy: 'Sometimes' })))).toEqual([
      'preemptionPolicy: Unsupported value: "Sometimes": supported values: "PreemptLowerPriority", "Never"',
    ]);
  });
  it('is cluster-scoped', () => {
    expect(lines(parsePriorityClass({ ...pc('low', 1), metadata: { name: 'low', namespace: 'default' } }))).toEqual(['metadata.namespace: Forbidden: not allowed on this type']);
  });
  it('keeps value and preemptionPolicy on update', () => {
    const old = must(parsePriorityClass(pc('high', 1000)));
    expect(lines(parseKindUpdate(priorityClassKind, pc('high', 1000, { description: 'x', globalDefault: true }), old))).toEqual([]);
    expect(lines(parseKindUpdate(priorityClassKind, pc('high', 2000, { preemptionPolicy: 'Never' }), old))).toEqual([
      'value: Forbidden: may not be changed in an update.',
      'preemptionPolicy: Invalid value: "Never": field is immutable',
    ]);
  });
});
