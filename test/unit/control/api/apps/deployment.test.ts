// apps/v1 Deployment and ReplicaSet: upstream's defaults, validation messages and update rules.
import { describe, expect, it } from 'vitest';
import { parseDeployment, parseDeploymentUpdate, parseReplicaSet, replicaSetKind, parseKindUpdate } from '../../../../../control/api/index.js';
import { deployment, LABEL_VALUE, lines, must, PERCENT, workload } from './helpers.js';

describe('Deployment defaults', () => {
  it('fills in SetDefaults_Deployment and the pod template defaults', () => {
    const d = must(parseDeployment(deployment()));
    expect(d.spec).toMatchObject({
      replicas: 1,
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
    });
    expect(d.spec.template.spec).toMatchObject({ restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler', terminationGracePeriodSeconds: 30 });
    expect(d.spec.template.spec.containers[0]).toMatchObject({ imagePullPolicy: 'IfNotPresent', terminationMessagePolicy: 'File' });
    expect(d.metadata.namespace).toBe('default');
  });

  it('keeps explicit values, including zero replicas and a partial rolling update', () => {
    const d = must(
      parseDeployment(
        deployment((x) => {
          x.spec.replicas = 0;
          x.spec.revisionHistoryLimit = 0;
          x.spec.strategy = { rollingUpdate: { maxSurge: 1 } };
        }),
      ),
    );
    expect(d.spec.replicas).toBe(0);
    expect(d.spec.revisionHistoryLimit).toBe(0);
    expect(d.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: 1 } });
  });

  it('does not give Recreate a rolling update', () => {
    const d = must(parseDeployment(deployment((x) => (x.spec.strategy = { type: 'Recreate' }))));
    expect(d.spec.strategy).toEqual({ type: 'Recreate' });
  });
});

describe('Deployment validation', () => {
  const cases: Array<[string, (d: any) => void, string[]]> = [
    [
      'selector is required (and a missing one matches no labels)',
      (d) => delete d.spec.selector,
      ['spec.selector: Required value', 'spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`'],
    ],
    ['an empty selector is invalid', (d) => (d.spec.selector = {}), ['spec.selector: Invalid value: {}: empty selector is invalid for deployment']],
    [
      'selector must match the template labels',
      (d) => (d.spec.selector.matchLabels = { app: 'api' }),
      ['spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`'],
    ],
    [
      'matchExpressions operators',
      (d) => (d.spec.selector = { matchExpressions: [{ key: 'app', operator: 'In' }, { key: 'tier', operator: 'Exists', values: ['x'] }] }),
      [
        "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
        "spec.selector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
        'spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`',
      ],
    ],
    [
      'an unknown operator makes the selector unusable',
      (d) => (d.spec.selector = { matchExpressions: [{ key: 'app', operator: 'Equals', values: ['web'] }] }),
      [
        'spec.selector.matchExpressions[0].operator: Invalid value: "Equals": not a valid selector operator',
        'spec.selector: Invalid value: {"matchExpressions":[{"key":"app","operator":"Equals","values":["web"]}]}: invalid label selector',
      ],
    ],
    ['selector label values', (d) => (d.spec.selector.matchLabels = { app: '-web' }), [`spec.selector.matchLabels: Invalid value: "-web": ${LABEL_VALUE}`, 'spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`']],
    [
      'template restartPolicy must be Always',
      (d) => (d.spec.template.spec.restartPolicy = 'OnFailure'),
      ['spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: "Always"'],
    ],
    [
      'no activeDeadlineSeconds in templates',
      (d) => (d.spec.template.spec.activeDeadlineSeconds = 30),
      ['spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported'],
    ],
    ['the pod spec is validated', (d) => (d.spec.template.spec.containers[0].name = ''), ['spec.template.spec.containers[0].name: Required value']],
    ['template labels are validated', (d) => (d.spec.template.metadata.labels.tier = '-x'), [`spec.template.labels: Invalid value: "-x": ${LABEL_VALUE}`]],
    ['replicas non-negative', (d) => (d.spec.replicas = -1), ['spec.replicas: Invalid value: -1: must be greater than or equal to 0']],
    [
      'maxUnavailable and maxSurge cannot both be 0',
      (d) => (d.spec.strategy = { rollingUpdate: { maxUnavailable: 0, maxSurge: '0%' } }),
      ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0'],
    ],
    [
      'maxUnavailable at most 100%',
      (d) => (d.spec.strategy = { rollingUpdate: { maxUnavailable: '110%' } }),
      ['spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "110%": must not be greater than 100%'],
    ],
    ['percent syntax', (d) => (d.spec.strategy = { rollingUpdate: { maxSurge: 'half' } }), [`spec.strategy.rollingUpdate.maxSurge: Invalid value: "half": ${PERCENT}`]],
    ['negative surge', (d) => (d.spec.strategy = { rollingUpdate: { maxSurge: -1 } }), ['spec.strategy.rollingUpdate.maxSurge: Invalid value: -1: must be greater than or equal to 0']],
    [
      'Recreate takes no rollingUpdate',
      (d) => (d.spec.strategy = { type: 'Recreate', rollingUpdate: { maxSurge: 1 } }),
      ["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"],
    ],
    [
      'strategy type',
      (d) => (d.spec.strategy = { type: 'BlueGreen' }),
      ['spec.strategy: Unsupported value: {"type":"BlueGreen"}: supported values: "Recreate", "RollingUpdate"'],
    ],
    [
      'progressDeadlineSeconds above minReadySeconds',
      (d) => {
        d.spec.minReadySeconds = 600;
      },
      ['spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds'],
    ],
    ['revisionHistoryLimit non-negative', (d) => (d.spec.revisionHistoryLimit = -2), ['spec.revisionHistoryLimit: Invalid value: -2: must be greater than or equal to 0']],
    ['namespace required', (d) => (d.metadata.namespace = 'Prod'), [`metadata.namespace: Invalid value: "Prod": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`]],
    ['wrong kind', (d) => (d.kind = 'Deploy'), ['kind: Unsupported value: "Deploy": supported values: "Deployment"']],
  ];

  it.each(cases)('%s', (_rule, edit, want) => {
    expect(lines(parseDeployment(deployment(edit)))).toEqual(want);
  });

  it('warns about unknown fields, or rejects them when strict', () => {
    const d = deployment((x) => (x.spec.replica = 3));
    const r = parseDeployment(d);
    expect(r.ok && r.warnings).toEqual(['unknown field "spec.replica"']);
    expect(lines(parseDeployment(d, { strict: true }))).toEqual(['spec.replica: Invalid value: unknown field "spec.replica"']);
  });
});

describe('Deployment updates', () => {
  const old = must(parseDeployment(deployment()));

  it('allows changing the template and replicas', () => {
    const next = deployment((d) => {
      d.spec.replicas = 5;
      d.spec.template.spec.containers[0].image = 'nginx:1.27';
    });
    expect(lines(parseDeploymentUpdate(next, old))).toEqual([]);
  });

  it('rejects a changed selector: field is immutable', () => {
    const next = deployment((d) => {
      d.spec.selector.matchLabels.tier = 'front';
      d.spec.template.metadata.labels.tier = 'front';
    });
    expect(lines(parseDeploymentUpdate(next, old))).toEqual(['spec.selector: Invalid value: {"matchLabels":{"app":"web","tier":"front"}}: field is immutable']);
  });

  it('validates status counters', () => {
    const next = deployment((d) => (d.status = { replicas: 1, readyReplicas: 2, availableReplicas: 3 }));
    expect(lines(parseDeploymentUpdate(next, old))).toEqual([
      'status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas',
      'status.availableReplicas: Invalid value: 3: cannot be greater than status.replicas',
      'status.availableReplicas: Invalid value: 3: cannot be greater than readyReplicas',
    ]);
  });
});

describe('ReplicaSet', () => {
  it('defaults replicas to 1', () => {
    expect(must(parseReplicaSet(workload('ReplicaSet'))).spec.replicas).toBe(1);
  });

  it("reports an empty selector with upstream's (deployment) wording", () => {
    expect(lines(parseReplicaSet(workload('ReplicaSet', (d) => (d.spec.selector = {}))))).toEqual([
      'spec.selector: Invalid value: {}: empty selector is invalid for deployment',
    ]);
  });

  it('rejects strategy (a Deployment field)', () => {
    expect(lines(parseReplicaSet(workload('ReplicaSet', (d) => (d.spec.strategy = {})), { strict: true }))).toEqual([
      'spec.strategy: Invalid value: unknown field "spec.strategy"',
    ]);
  });

  it('keeps the selector immutable', () => {
    const old = must(parseReplicaSet(workload('ReplicaSet')));
    const next = workload('ReplicaSet', (d) => (d.spec.selector = { matchExpressions: [{ key: 'app', operator: 'Exists' }] }));
    expect(lines(parseKindUpdate(replicaSetKind, next, old))).toEqual([
      'spec.selector: Invalid value: {"matchExpressions":[{"key":"app","operator":"Exists"}]}: field is immutable',
    ]);
  });
});
