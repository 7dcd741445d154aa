// autoscaling HorizontalPodAutoscaler: v2 defaults and validation, v1 <-> v2 conversion with round-trip annotations.
import { describe, expect, it } from 'vitest';
import {
  hpaV1ToV2,
  hpaV2ToV1,
  METRIC_SPECS_ANNOTATION,
  parseHorizontalPodAutoscaler,
  parseHorizontalPodAutoscalerV1,
} from '../../../../../control/api/index.js';
import { lines, must } from '../apps/helpers.js';

function hpa(edit: (h: any) => void = () => {}): any {
  const h: any = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web', namespace: 'default' },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 5 },
  };
  edit(h);
  return h;
}

describe('HPA v2 defaults', () => {
  it('defaults minReplicas and an 80% CPU utilization metric', () => {
    const h = must(parseHorizontalPodAutoscaler(hpa()));
    expect(h.spec.minReplicas).toBe(1);
    expect(h.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
    expect(h.spec.behavior).toBeUndefined();
  });

  it('completes a partly given behavior from the default scaling rules', () => {
    const h = must(parseHorizontalPodAutoscaler(hpa((x) => (x.spec.behavior = { scaleDown: { stabilizationWindowSeconds: 60 } }))));
    expect(h.spec.behavior).toEqual({
      scaleUp: {
        stabilizationWindowSeconds: 0,
        selectPolicy: 'Max',
        policies: [
          { type: 'Pods', value: 4, periodSeconds: 15 },
          { type: 'Percent', value: 100, periodSeconds: 15 },
        ],
      },
      scaleDown: { stabilizationWindowSeconds: 60, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
    });
  });
});

describe('HPA v2 validation', () => {
  const cases: Array<[string, (h: any) => void, string[]]> = [
    ['maxReplicas required', (h) => delete h.spec.maxReplicas, ['spec.maxReplicas: Invalid value: 0: must be greater than 0', 'spec.maxReplicas: Invalid value: 0: must be greater than or equal to `minReplicas`']],
    ['minReplicas at least 1', (h) => (h.spec.minReplicas = 0), ['spec.minReplicas: Invalid value: 0: must be greater than or equal to 1']],
    ['max >= min', (h) => (h.spec.minReplicas = 6), ['spec.maxReplicas: Invalid value: 5: must be greater than or equal to `minReplicas`']],
    ['scaleTargetRef', (h) => (h.spec.scaleTargetRef = { kind: 'Deployment', name: 'a/b' }), ["spec.scaleTargetRef.name: Invalid value: \"a/b\": may not contain '/'"]],
    [
      'metric type',
      (h) => (h.spec.metrics = [{ type: 'Cpu' }]),
      [
        'spec.metrics[0].type: Unsupported value: "Cpu": supported values: "ContainerResource", "External", "Object", "Pods", "Resource"',
        'spec.metrics[0].cpu: Required value: must populate information for the given metric source',
      ],
    ],
    [
      'resource target',
      (h) => (h.spec.metrics = [{ type: 'Resource', resource: { name: 'memory', target: { type: 'Utilization' } } }]),
      ['spec.metrics[0].resource.target.averageUtilization: Required value: must set either a target raw value or a target utilization'],
    ],
    [
      'utilization above 0',
      (h) => (h.spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 0 } } }]),
      ['spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0'],
    ],
    [
      'pods metric needs averageValue',
      (h) => (h.spec.metrics = [{ type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'Value', value: '10' } } }]),
      ['spec.metrics[0].pods.target.averageValue: Required value: must specify a positive target averageValue'],
    ],
    [
      'one source per metric',
      (h) =>
        (h.spec.metrics = [
          { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10' } }, external: { metric: { name: 'q' }, target: { type: 'Value', value: 1 } } },
        ]),
      ['spec.metrics[0].external: Forbidden: must populate the given metric source only'],
    ],
    [
      'target type',
      (h) => (h.spec.metrics = [{ type: 'External', external: { metric: { name: 'q' }, target: { type: 'Average', value: '-1' } } }]),
      [
        'spec.metrics[0].external.target.type: Invalid value: "Average": must be either Utilization, Value, or AverageValue',
        'spec.metrics[0].external.target.value: Invalid value: "-1": must be positive',
      ],
    ],
    [
      'scaling rules',
      (h) => (h.spec.behavior = { scaleUp: { selectPolicy: 'Fast', stabilizationWindowSeconds: 4000, policies: [{ type: 'Nodes', value: 0, periodSeconds: 3600 }] } }),
      [
        'spec.behavior.scaleUp.stabilizationWindowSeconds: Invalid value: 4000: must be less than or equal to 3600',
        'spec.behavior.scaleUp.selectPolicy: Unsupported value: "Fast": supported values: "Disabled", "Max", "Min"',
        'spec.behavior.scaleUp.policies[0].type: Unsupported value: "Nodes": supported values: "Percent", "Pods"',
        'spec.behavior.scaleUp.policies[0].value: Invalid value: 0: must be greater than zero',
        'spec.behavior.scaleUp.policies[0].periodSeconds: Invalid value: 3600: must be less than or equal to 1800',
      ],
    ],
  ];
  it.each(cases)('%s', (_rule, edit, want) => {
    expect(lines(parseHorizontalPodAutoscaler(hpa(edit)))).toEqual(want);
  });
});

describe('HPA v1 and conversion', () => {
  const v1 = (edit: (h: any) => void = () => {}): any => {
    const h: any = {
      apiVersion: 'autoscaling/v1',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'web', namespace: 'default' },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 4, targetCPUUtilizationPercentage: 50 },
    };
    edit(h);
    return h;
  };

  it('maps targetCPUUtilizationPercentage to a CPU Resource metric and back', () => {
    const v2 = must(parseHorizontalPodAutoscaler(hpaV1ToV2(must(parseHorizontalPodAutoscalerV1(v1())))));
    expect(v2.spec.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }]);
    expect(v2.spec.minReplicas).toBe(1);
    const back = hpaV2ToV1(v2);
    expect(back.spec).toEqual({ scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 4, targetCPUUtilizationPercentage: 50 });
    expect((back.metadata as any).annotations).toBeUndefined();
  });

  it('defaults a v1 object without a target to 80% CPU (through v2)', () => {
    const h = must(parseHorizontalPodAutoscalerV1(v1((x) => delete x.spec.targetCPUUtilizationPercentage)));
    expect(h.spec.targetCPUUtilizationPercentage).toBe(80);
  });

  it('validates v1 objects with the v2 rules (and v2 paths, as upstream)', () => {
    expect(lines(parseHorizontalPodAutoscalerV1(v1((x) => (x.spec.targetCPUUtilizationPercentage = 0))))).toEqual([
      'spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0',
    ]);
  });

  it('keeps v2-only metrics, behavior, current metrics and conditions in annotations across a v1 round trip', () => {
    const v2 = must(
      parseHorizontalPodAutoscaler(
        hpa((x) => {
          x.metadata.annotations = { owner: 'team-a' };
          x.spec.metrics = [
            { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10' } } },
            { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
          ];
          x.spec.behavior = { scaleDown: { stabilizationWindowSeconds: 30 } };
          x.status = {
            currentReplicas: 2,
            desiredReplicas: 3,
            currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 65, averageValue: '130m' } } }],
            conditions: [{ type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale' }],
          };
        }),
      ),
    );
    const asV1 = hpaV2ToV1(v2) as any;
    expect(asV1.spec.targetCPUUtilizationPercentage).toBe(70);
    expect(asV1.status).toEqual({ currentReplicas: 2, desiredReplicas: 3, currentCPUUtilizationPercentage: 65 });
    expect(JSON.parse(asV1.metadata.annotations[METRIC_SPECS_ANNOTATION])).toEqual([{ type: 'Pods', pods: { metricName: 'qps', targetAverageValue: '10' } }]);
    expect(asV1.metadata.annotations.owner).toBe('team-a');
    expect(Object.keys(asV1.metadata.annotations).sort()).toEqual([
      'autoscaling.alpha.kubernetes.io/behavior',
      'autoscaling.alpha.kubernetes.io/conditions',
      'autoscaling.alpha.kubernetes.io/current-metrics',
      'autoscaling.alpha.kubernetes.io/metrics',
      'owner',
    ]);
    const again = must(parseHorizontalPodAutoscaler(hpaV1ToV2(asV1)));
    expect(again.metadata.annotations).toEqual({ owner: 'team-a' });
    expect(again.spec).toEqual(v2.spec);
    expect(again.status).toEqual(v2.status);
  });
});
