// apps/v1 StatefulSet, DaemonSet and ControllerRevision: defaults, validation messages and update rules.
import { describe, expect, it } from 'vitest';
import {
  controllerRevisionKind,
  daemonSetKind,
  parseControllerRevision,
  parseDaemonSet,
  parseKindUpdate,
  parseStatefulSet,
  statefulSetKind,
} from '../../../../../control/api/index.js';
import { LABEL, lines, must, workload } from './helpers.js';

const sts = (edit: (d: any) => void = () => {}) =>
  workload('StatefulSet', (d) => {
    d.spec.serviceName = 'web';
    edit(d);
  });
const ds = (edit: (d: any) => void = () => {}) => workload('DaemonSet', edit);

describe('StatefulSet', () => {
  it('fills in SetDefaults_StatefulSet', () => {
    const s = must(parseStatefulSet(sts()));
    expect(s.spec).toMatchObject({
      replicas: 1,
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      revisionHistoryLimit: 10,
      serviceName: 'web',
    });
  });

  it('defaults an explicit RollingUpdate partition but leaves OnDelete alone', () => {
    expect(must(parseStatefulSet(sts((d) => (d.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: {} })))).spec.updateStrategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { partition: 0 },
    });
    expect(must(parseStatefulSet(sts((d) => (d.spec.updateStrategy = { type: 'OnDelete' })))).spec.updateStrategy).toEqual({ type: 'OnDelete' });
  });

  it('defaults volume claim templates as PersistentVolumeClaims', () => {
    const s = must(
      parseStatefulSet(sts((d) => (d.spec.volumeClaimTemplates = [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }]))),
    );
    expect(s.spec.volumeClaimTemplates?.[0]).toEqual({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeMode: 'Filesystem' },
      status: { phase: 'Pending' },
    });
  });

  const cases: Array<[string, (d: any) => void, string[]]> = [
    ['names are DNS labels', (d) => (d.metadata.name = 'web.v1'), ['metadata.name: Invalid value: "web.v1": must not contain dots']],
    ['podManagementPolicy', (d) => (d.spec.podManagementPolicy = 'Serial'), ['spec.podManagementPolicy: Invalid value: "Serial": must be \'OrderedReady\' or \'Parallel\'']],
    [
      'updateStrategy type',
      (d) => (d.spec.updateStrategy = { type: 'Recreate' }),
      ['spec.updateStrategy: Invalid value: {"type":"Recreate"}: must be \'RollingUpdate\' or \'OnDelete\''],
    ],
    [
      'OnDelete takes no rollingUpdate',
      (d) => (d.spec.updateStrategy = { type: 'OnDelete', rollingUpdate: { partition: 1 } }),
      ['spec.updateStrategy.rollingUpdate: Invalid value: {"partition":1}: only allowed for updateStrategy \'RollingUpdate\''],
    ],
    [
      'partition non-negative, maxUnavailable not 0',
      (d) => (d.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { partition: -1, maxUnavailable: 0 } }),
      [
        'spec.updateStrategy.rollingUpdate.partition: Invalid value: -1: must be greater than or equal to 0',
        'spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: 0: cannot be 0',
      ],
    ],
    [
      'retention policy values',
      (d) => (d.spec.persistentVolumeClaimRetentionPolicy = { whenDeleted: 'Keep' }),
      ['spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value: "Keep": supported values: "Retain", "Delete"'],
    ],
    ['empty selector', (d) => (d.spec.selector = {}), ['spec.selector: Invalid value: {}: empty selector is invalid for statefulset']],
    [
      'restartPolicy Always',
      (d) => (d.spec.template.spec.restartPolicy = 'Never'),
      ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'],
    ],
    ['ordinals.start non-negative', (d) => (d.spec.ordinals = { start: -1 }), ['spec.ordinals.start: Invalid value: -1: must be greater than or equal to 0']],
  ];
  it.each(cases)('%s', (_rule, edit, want) => {
    expect(lines(parseStatefulSet(sts(edit)))).toEqual(want);
  });

  it('allows updating replicas, template, updateStrategy; forbids the rest', () => {
    const old = must(parseStatefulSet(sts()));
    const ok = sts((d) => {
      d.spec.replicas = 3;
      d.spec.template.spec.containers[0].image = 'nginx:2';
      d.spec.updateStrategy = { type: 'OnDelete' };
    });
    expect(lines(parseKindUpdate(statefulSetKind, ok, old))).toEqual([]);
    expect(lines(parseKindUpdate(statefulSetKind, sts((d) => (d.spec.serviceName = 'other')), old))).toEqual([
      "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    ]);
  });
});

describe('DaemonSet', () => {
  it('fills in SetDefaults_DaemonSet', () => {
    const d = must(parseDaemonSet(ds()));
    expect(d.spec).toMatchObject({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } }, revisionHistoryLimit: 10 });
  });

  const cases: Array<[string, (d: any) => void, string[]]> = [
    [
      'maxSurge with maxUnavailable',
      (d) => (d.spec.updateStrategy = { rollingUpdate: { maxSurge: 1 } }),
      ['spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: 1: may not be set when maxUnavailable is non-zero'],
    ],
    [
      'both zero',
      (d) => (d.spec.updateStrategy = { rollingUpdate: { maxUnavailable: 0 } }),
      ['spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0'],
    ],
    [
      'maxSurge at most 100%',
      (d) => (d.spec.updateStrategy = { rollingUpdate: { maxUnavailable: 0, maxSurge: '150%' } }),
      ['spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: "150%": must not be greater than 100%'],
    ],
    [
      'strategy type',
      (d) => (d.spec.updateStrategy = { type: 'Recreate' }),
      ['spec.updateStrategy: Unsupported value: {"type":"Recreate"}: supported values: "RollingUpdate", "OnDelete"'],
    ],
    [
      'selector must match',
      (d) => (d.spec.template.metadata.labels = { app: 'other' }),
      ['spec.template.metadata.labels: Invalid value: {"app":"other"}: `selector` does not match template `labels`'],
    ],
    ['empty selector', (d) => (d.spec.selector = {}), ['spec.selector: Invalid value: {}: empty selector is invalid for daemonset']],
    [
      'activeDeadlineSeconds',
      (d) => (d.spec.template.spec.activeDeadlineSeconds = 10),
      ['spec.template.spec.activeDeadlineSeconds: Invalid value: 10: activeDeadlineSeconds in DaemonSet is not Supported'],
    ],
    ['hostname in template', (d) => (d.spec.template.spec.hostname = 'A'), [`spec.template.spec.hostname: Invalid value: "A": ${LABEL}`]],
  ];
  it.each(cases)('%s', (_rule, edit, want) => {
    expect(lines(parseDaemonSet(ds(edit)))).toEqual(want);
  });

  it('keeps the selector immutable', () => {
    const old = must(parseDaemonSet(ds()));
    const next = ds((d) => {
      d.spec.selector.matchLabels = { app: 'web', v: '2' };
      d.spec.template.metadata.labels = { app: 'web', v: '2' };
    });
    expect(lines(parseKindUpdate(daemonSetKind, next, old))).toEqual(['spec.selector: Invalid value: {"matchLabels":{"app":"web","v":"2"}}: field is immutable']);
  });
});

describe('ControllerRevision', () => {
  const cr = (edit: (d: any) => void = () => {}) => {
    const d: any = { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'web-5d8f', namespace: 'default' }, data: { spec: {} }, revision: 2 };
    edit(d);
    return d;
  };
  it('requires data and a non-negative revision', () => {
    expect(lines(parseControllerRevision(cr((d) => delete d.data)))).toEqual(['data: Required value: data is mandatory']);
    expect(lines(parseControllerRevision(cr((d) => (d.revision = -1))))).toEqual(['revision: Invalid value: -1: must be greater than or equal to 0']);
  });
  it('keeps data immutable', () => {
    const old = must(parseControllerRevision(cr()));
    expect(lines(parseKindUpdate(controllerRevisionKind, cr((d) => (d.data = { spec: { x: 1 } })), old))).toEqual([
      'data: Invalid value: {"spec":{"x":1}}: field is immutable',
    ]);
  });
});
