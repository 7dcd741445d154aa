// ReplicationController, ResourceQuota, LimitRange and PersistentVolumeClaim: defaults and upstream's validation lines.
import { describe, expect, it } from 'vitest';
import {
  canonicalQuantity,
  LimitRange,
  PersistentVolumeClaim,
  ReplicationController,
  ResourceQuota,
  validateLimitRange,
  validatePersistentVolumeClaim,
  validatePersistentVolumeClaimUpdate,
  validateReplicationController,
  validateReplicationControllerStatus,
  validateResourceQuota,
  validateResourceQuotaUpdate,
} from '../../../../../control/api/index.js';
import { decode, errorsOf, SUBDOMAIN, updateErrorsOf, type Json } from './helpers.js';

const meta = { name: 'x', namespace: 'default' };
const template = (labels: Json = { app: 'web' }, spec: Json = {}): Json => ({
  metadata: { labels },
  spec: { containers: [{ name: 'web', image: 'nginx:1.25' }], ...spec },
});
const rc = (spec: Json, m: Json = meta): Json => ({ apiVersion: 'v1', kind: 'ReplicationController', metadata: m, spec });

describe('ReplicationController', () => {
  it('defaults replicas to 1, selector and labels to the template labels', () => {
    const r = decode(ReplicationController, rc({ template: template() }));
    expect(r.spec.replicas).toBe(1);
    expect(r.spec.selector).toEqual({ app: 'web' });
    expect(r.metadata.labels).toEqual({ app: 'web' });
    expect(r.spec.template?.spec.restartPolicy).toBe('Always');
    expect(r.spec.template?.spec.dnsPolicy).toBe('ClusterFirst');
    expect(r.spec.template?.spec.containers[0]?.imagePullPolicy).toBe('IfNotPresent');
    // SetDefaults_Pod, not SetDefaults_PodSpec, sets enableServiceLinks: templates do not get it.
    expect(r.spec.template?.spec.enableServiceLinks).toBeUndefined();
  });

  it('keeps an explicit selector, labels and replicas: 0', () => {
    const r = decode(ReplicationController, rc({ replicas: 0, selector: { app: 'web' }, template: template({ app: 'web', tier: 'fe' }) }, { ...meta, labels: { team: 'a' } }));
    expect(r.spec.replicas).toBe(0);
    expect(r.spec.selector).toEqual({ app: 'web' });
    expect(r.metadata.labels).toEqual({ team: 'a' });
  });

  const cases: Array<{ rule: string; spec: Json; want: string[] }> = [
    { rule: 'valid', spec: { replicas: 3, template: template() }, want: [] },
    { rule: 'template required', spec: { selector: { app: 'web' } }, want: ['spec.template: Required value'] },
    { rule: 'selector required', spec: { template: template({}) }, want: ['spec.selector: Required value'] },
    {
      rule: 'selector must match template labels',
      spec: { selector: { app: 'db' }, template: template() },
      want: ['spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`'],
    },
    { rule: 'replicas not negative', spec: { replicas: -1, template: template() }, want: ['spec.replicas: Invalid value: -1: must be greater than or equal to 0'] },
    { rule: 'minReadySeconds not negative', spec: { minReadySeconds: -5, template: template() }, want: ['spec.minReadySeconds: Invalid value: -5: must be greater than or equal to 0'] },
    {
      rule: 'restartPolicy Always only',
      spec: { template: template({ app: 'web' }, { restartPolicy: 'OnFailure' }) },
      want: ['spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: "Always"'],
    },
    {
      rule: 'no activeDeadlineSeconds',
      spec: { template: template({ app: 'web' }, { activeDeadlineSeconds: 10 }) },
      want: ['spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicationController is not Supported'],
    },
    {
      rule: 'the template is a valid pod spec',
      spec: { template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'Web', image: 'nginx' }] } } },
      want: [
        "spec.template.spec.containers[0].name: Invalid value: \"Web\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
      ],
    },
    { rule: 'containers required', spec: { template: { metadata: { labels: { app: 'web' } }, spec: {} } }, want: ['spec.template.spec.containers: Required value'] },
  ];
  it.each(cases)('$rule', ({ spec, want }) => expect(errorsOf(ReplicationController, validateReplicationController, rc(spec))).toEqual(want));

  it('validates status counts', () => {
    expect(validateReplicationControllerStatus({ replicas: 2, readyReplicas: 3, availableReplicas: 1 }).map((e) => `${e.field}: ${e.detail}`)).toEqual([
      'status.readyReplicas: cannot be greater than status.replicas',
    ]);
  });
});

const quota = (spec: Json): Json => ({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: meta, spec });

describe('ResourceQuota', () => {
  const cases: Array<{ rule: string; spec: Json; want: string[] }> = [
    { rule: 'valid', spec: { hard: { pods: '10', 'requests.cpu': '4', 'limits.memory': '8Gi', 'count/deployments.apps': '5', 'gold.storageclass.storage.k8s.io/requests.storage': '10Gi' } }, want: [] },
    { rule: 'standard names only', spec: { hard: { widgets: '1' } }, want: ['spec.hard[widgets]: Invalid value: "widgets": must be a standard resource type or fully qualified', 'spec.hard[widgets]: Invalid value: "widgets": must be a standard resource for quota'] },
    { rule: 'not negative', spec: { hard: { 'requests.cpu': '-1' } }, want: ['spec.hard[requests.cpu]: Invalid value: "-1": must be greater than or equal to 0'] },
    { rule: 'object counts are whole', spec: { hard: { pods: '1.5' } }, want: ['spec.hard[pods]: Invalid value: "1500m": must be an integer'] },
    { rule: 'scopes', spec: { hard: { pods: '5' }, scopes: ['BestEffort'] }, want: [] },
    { rule: 'unsupported scope', spec: { scopes: ['Everything'] }, want: ['spec.scopes: Invalid value: ["Everything"]: unsupported scope'] },
    { rule: 'scope not valid for the resource', spec: { hard: { 'requests.cpu': '1' }, scopes: ['BestEffort'] }, want: ['spec.scopes: Invalid value: ["BestEffort"]: unsupported scope applied to resource'] },
    { rule: 'conflicting scopes', spec: { scopes: ['Terminating', 'NotTerminating'] }, want: ['spec.scopes: Invalid value: ["Terminating","NotTerminating"]: conflicting scopes'] },
    {
      rule: 'scope selector operators',
      spec: { scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In' }] } },
      want: ["spec.scopeSelector.matchExpressions.values: Required value: must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"],
    },
  ];
  it.each(cases)('$rule', ({ spec, want }) => expect(errorsOf(ResourceQuota, validateResourceQuota, quota(spec))).toEqual(want));

  it('keeps its scopes', () => {
    expect(updateErrorsOf(ResourceQuota, validateResourceQuotaUpdate, quota({ scopes: ['NotBestEffort'] }), quota({ scopes: ['BestEffort'] }))).toEqual([
      'spec.scopes: Invalid value: ["NotBestEffort"]: field is immutable',
    ]);
    expect(updateErrorsOf(ResourceQuota, validateResourceQuotaUpdate, quota({ hard: { pods: '20' } }), quota({ hard: { pods: '10' } }))).toEqual([]);
  });
});

const limits = (items: Json): Json => ({ apiVersion: 'v1', kind: 'LimitRange', metadata: meta, spec: { limits: items } });

describe('canonical quantities', () => {
  it.each([
    ['0.5', '500m'],
    ['1000m', '1'],
    ['1500', '1500'],
    ['2000', '2k'],
    ['1.5Gi', '1536Mi'],
    ['0.5Gi', '512Mi'],
    ['1024', '1024'],
    ['512Ki', '512Ki'],
    ['100', '100'],
    ['1e3', '1e3'],
    ['1.1Ki', '1126400m'],
    ['-0.5', '-500m'],
    ['0.0000000001', '1n'],
    [4, '4'],
  ])('%s -> %s', (input, want) => expect(canonicalQuantity(input)).toBe(want));
});

describe('LimitRange', () => {
  it('fills container defaults from max and min', () => {
    const lr = decode(LimitRange, limits([{ type: 'Container', max: { cpu: '2' }, min: { memory: '64Mi' }, default: { memory: '256Mi' } }]));
    expect(lr.spec.limits[0]).toEqual({
      type: 'Container',
      max: { cpu: '2' },
      min: { memory: '64Mi' },
      default: { cpu: '2', memory: '256Mi' },
      defaultRequest: { cpu: '2', memory: '256Mi' },
    });
    expect(decode(LimitRange, limits([{ type: 'Pod', max: { cpu: '4' } }])).spec.limits[0]).toEqual({ type: 'Pod', max: { cpu: '4' } });
  });

  const cases: Array<{ rule: string; items: Json; want: string[] }> = [
    { rule: 'valid', items: [{ type: 'Container', default: { cpu: '500m' }, defaultRequest: { cpu: '100m' }, max: { cpu: '1' } }], want: [] },
    { rule: 'type', items: [{ type: 'Deployment' }], want: ['spec.limits[0].type: Invalid value: "Deployment": must be a standard limit type or fully qualified'] },
    { rule: 'duplicate type', items: [{ type: 'Pod' }, { type: 'Pod' }], want: ['spec.limits[1].type: Duplicate value: "Pod"'] },
    { rule: 'no defaults for Pod', items: [{ type: 'Pod', default: { cpu: '1' } }], want: ["spec.limits[0].default: Forbidden: may not be specified when `type` is 'Pod'"] },
    {
      rule: 'container resources',
      items: [{ type: 'Container', max: { pods: '1' } }],
      // default and defaultRequest were filled from max, and are checked as well
      want: [
        'spec.limits[0].max[pods]: Invalid value: "pods": must be a standard resource for containers',
        'spec.limits[0].default[pods]: Invalid value: "pods": must be a standard resource for containers',
        'spec.limits[0].defaultRequest[pods]: Invalid value: "pods": must be a standard resource for containers',
      ],
    },
    { rule: 'min <= max', items: [{ type: 'Pod', min: { cpu: '2' }, max: { cpu: '1' } }], want: ['spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1'] },
    {
      rule: 'default request <= default',
      items: [{ type: 'Container', default: { cpu: '100m' }, defaultRequest: { cpu: '200m' } }],
      want: ['spec.limits[0].defaultRequest[cpu]: Invalid value: "200m": default request value 200m is greater than default limit value 100m'],
    },
    // Quantities are quoted canonically, as Quantity.String() prints them.
    { rule: 'ratio >= 1', items: [{ type: 'Container', maxLimitRequestRatio: { cpu: '0.5' } }], want: ['spec.limits[0].maxLimitRequestRatio[cpu]: Invalid value: "500m": ratio 500m is less than 1'] },
    {
      rule: 'min <= max, canonical units',
      items: [{ type: 'Container', min: { memory: '2048Mi' }, max: { memory: '1.5Gi' } }],
      want: [
        'spec.limits[0].min[memory]: Invalid value: "2Gi": min value 2Gi is greater than max value 1536Mi',
        'spec.limits[0].defaultRequest[memory]: Invalid value: "1536Mi": min value 2Gi is greater than default request value 1536Mi',
        'spec.limits[0].default[memory]: Invalid value: "2Gi": min value 2Gi is greater than default value 1536Mi',
      ],
    },
    {
      rule: 'PVC limits need storage',
      items: [{ type: 'PersistentVolumeClaim', max: { cpu: '1' } }],
      want: ['spec.limits[0].limits: Required value: either minimum or maximum storage value is required, but neither was provided'],
    },
  ];
  it.each(cases)('$rule', ({ items, want }) => expect(errorsOf(LimitRange, validateLimitRange, limits(items))).toEqual(want));
});

const pvc = (spec: Json, status?: Json): Json => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: meta, spec, ...(status ? { status } : {}) });
const claim = { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } };

describe('PersistentVolumeClaim', () => {
  it('defaults volumeMode to Filesystem', () => {
    expect(decode(PersistentVolumeClaim, pvc(claim)).spec.volumeMode).toBe('Filesystem');
  });

  const cases: Array<{ rule: string; spec: Json; want: string[] }> = [
    { rule: 'valid', spec: { ...claim, storageClassName: 'local-path' }, want: [] },
    { rule: 'access modes required', spec: { resources: claim.resources }, want: ['spec.accessModes: Required value: at least 1 access mode is required'] },
    {
      rule: 'access mode values',
      spec: { ...claim, accessModes: ['ReadWriteSometimes'] },
      want: ['spec.accessModes: Unsupported value: "ReadWriteSometimes": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"'],
    },
    { rule: 'ReadWriteOncePod alone', spec: { ...claim, accessModes: ['ReadWriteOncePod', 'ReadOnlyMany'] }, want: ['spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes'] },
    { rule: 'storage request required', spec: { accessModes: ['ReadWriteOnce'] }, want: ['spec.resources[storage]: Required value'] },
    { rule: 'storage request positive', spec: { ...claim, resources: { requests: { storage: '0' } } }, want: ['spec.resources[storage]: Invalid value: "0": must be greater than zero'] },
    { rule: 'storage class name', spec: { ...claim, storageClassName: 'Fast_SSD' }, want: [`spec.storageClassName: Invalid value: "Fast_SSD": ${SUBDOMAIN}`] },
    { rule: 'volume mode', spec: { ...claim, volumeMode: 'Raw' }, want: ['spec.volumeMode: Unsupported value: "Raw": supported values: "Block", "Filesystem"'] },
  ];
  it.each(cases)('$rule', ({ spec, want }) => expect(errorsOf(PersistentVolumeClaim, validatePersistentVolumeClaim, pvc(spec))).toEqual(want));

  it('is immutable but for growth of a bound claim and setting volumeName once', () => {
    const bound = { phase: 'Bound', capacity: { storage: '1Gi' } };
    const grow = { ...claim, resources: { requests: { storage: '2Gi' } } };
    expect(updateErrorsOf(PersistentVolumeClaim, validatePersistentVolumeClaimUpdate, pvc(grow, bound), pvc(claim, bound))).toEqual([]);
    expect(updateErrorsOf(PersistentVolumeClaim, validatePersistentVolumeClaimUpdate, pvc(grow), pvc(claim))).toEqual([
      'spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims',
    ]);
    expect(updateErrorsOf(PersistentVolumeClaim, validatePersistentVolumeClaimUpdate, pvc({ ...claim, volumeName: 'pv-1' }), pvc(claim))).toEqual([]);
    expect(updateErrorsOf(PersistentVolumeClaim, validatePersistentVolumeClaimUpdate, pvc({ ...claim, volumeName: 'pv-2' }), pvc({ ...claim, volumeName: 'pv-1' }))).toEqual([
      'spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims',
    ]);
    const shrink = { ...claim, resources: { requests: { storage: '512Mi' } } };
    expect(updateErrorsOf(PersistentVolumeClaim, validatePersistentVolumeClaimUpdate, pvc(shrink, bound), pvc(claim, bound))).toEqual([
      'spec.resources.requests.storage: Forbidden: field can not be less than status.capacity',
    ]);
  });
});
