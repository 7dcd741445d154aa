import { describe, expect, it } from 'vitest';
import {
  formatFieldError,
  ObjectMeta,
  parsePod,
  PodList,
  PodSpec,
  Status,
  validateObjectMeta,
  validatePodSpec,
  type FieldError,
} from '../../../../control/api/index.js';
import { errorsOf, minimalPod, podWith } from './helpers.js';

describe('parsePod: apiVersion and kind', () => {
  it.each([
    ['missing apiVersion', (p: any) => delete p.apiVersion, ['apiVersion: Required value']],
    ['missing kind', (p: any) => delete p.kind, ['kind: Required value']],
    ['wrong apiVersion', (p: any) => (p.apiVersion = 'apps/v1'), ['apiVersion: Unsupported value: "apps/v1": supported values: "v1"']],
    ['wrong kind', (p: any) => (p.kind = 'Deployment'), ['kind: Unsupported value: "Deployment": supported values: "Pod"']],
  ])('%s', (_what, edit, want) => {
    expect(errorsOf(podWith(edit))).toEqual(want);
  });

  it('rejects input that is not an object', () => {
    expect(parsePod('kind: Pod')).toEqual({
      ok: false,
      errors: [{ type: 'FieldValueInvalid', field: '<root>', value: 'kind: Pod', detail: 'must be an object' }],
    });
  });
});

describe('parsePod: unknown fields', () => {
  const withUnknown = podWith((p) => {
    p.spec.foo = 1;
    p.spec.containers[0].imagePullPolicyy = 'Always';
    p.metadata.labelz = {};
  });

  it('warns and ignores them by default, with upstream warning text', () => {
    const r = parsePod(withUnknown);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.warnings).toEqual([
      'unknown field "metadata.labelz"',
      'unknown field "spec.containers[0].imagePullPolicyy"',
      'unknown field "spec.foo"',
    ]);
    expect(r.pod.spec).not.toHaveProperty('foo');
  });

  it('rejects them with strict: true, with upstream strict-decoding text', () => {
    expect(errorsOf(withUnknown, { strict: true })).toEqual([
      'metadata.labelz: Invalid value: unknown field "metadata.labelz"',
      'spec.containers[0].imagePullPolicyy: Invalid value: unknown field "spec.containers[0].imagePullPolicyy"',
      'spec.foo: Invalid value: unknown field "spec.foo"',
    ]);
  });

  it('reports unknown fields alone: the strict decoding error comes before validation, as upstream', () => {
    const r = parsePod(
      podWith((p) => {
        p.spec.foo = 1;
        p.spec.restartPolicy = 'Sometimes';
      }),
      { strict: true },
    );
    expect(r.ok ? [] : r.errors.map((e) => e.field)).toEqual(['spec.foo']);
  });

  it('does not flag fields inside deliberately open objects (securityContext, affinity)', () => {
    const r = parsePod(
      podWith((p) => {
        p.spec.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } };
        p.spec.containers[0].securityContext = { capabilities: { add: ['NET_ADMIN'] }, seccompProfile: { type: 'RuntimeDefault' } };
      }),
      { strict: true },
    );
    expect(r.ok && r.warnings).toEqual([]);
  });

  it('reports a __proto__ key as an unknown field rather than obeying it', () => {
    const input = JSON.parse('{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},"spec":{"__proto__":{"restartPolicy":"Never"},"containers":[{"name":"web","image":"nginx:1"}]}}');
    const r = parsePod(input);
    expect(r.ok && r.warnings).toEqual(['unknown field "spec.__proto__"']);
    expect(r.ok && r.pod.spec.restartPolicy).toBe('Always');
  });

  it('treats map keys (labels) as data, not fields', () => {
    expect(errorsOf(podWith((p) => (p.metadata.labels = { anything: 'x' })), { strict: true })).toEqual([]);
  });
});

describe('parsePod: wrong JSON types', () => {
  it('reports the path and value of each mistyped field', () => {
    const r = parsePod(
      podWith((p) => {
        p.spec.containers[0].ports = [{ containerPort: '80' }];
        p.spec.hostNetwork = 'yes';
      }),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => [e.type, e.field, e.value])).toEqual([
      ['FieldValueInvalid', 'spec.containers[0].ports[0].containerPort', '80'],
      ['FieldValueInvalid', 'spec.hostNetwork', 'yes'],
    ]);
  });
});

describe('formatFieldError', () => {
  it.each<[FieldError, string]>([
    [{ type: 'FieldValueRequired', field: 'spec.containers[0].image', value: '' }, 'spec.containers[0].image: Required value'],
    [{ type: 'FieldValueRequired', field: 'metadata.name', detail: 'name or generateName is required' }, 'metadata.name: Required value: name or generateName is required'],
    [{ type: 'FieldValueInvalid', field: 'x', value: 3, detail: 'must be 1' }, 'x: Invalid value: 3: must be 1'],
    [{ type: 'FieldValueInvalid', field: 'x', value: 'a"b' }, 'x: Invalid value: "a\\"b"'],
    [{ type: 'FieldValueInvalid', field: 'x', value: null }, 'x: Invalid value: null'],
    [{ type: 'FieldValueNotSupported', field: 'x', value: 'y', detail: 'supported values: "a"' }, 'x: Unsupported value: "y": supported values: "a"'],
    [{ type: 'FieldValueDuplicate', field: 'x', value: 'web' }, 'x: Duplicate value: "web"'],
    [{ type: 'FieldValueForbidden', field: 'x', value: '', detail: 'nope' }, 'x: Forbidden: nope'],
    [{ type: 'FieldValueTooLong', field: 'x', value: 'long', detail: 'must have at most 3 bytes' }, 'x: Too long: must have at most 3 bytes'],
    [{ type: 'FieldValueNotFound', field: 'x', value: 'data' }, 'x: Not found: "data"'],
  ])('%j', (e, want) => {
    expect(formatFieldError(e)).toBe(want);
  });
});

describe('validateObjectMeta', () => {
  it('forbids a namespace on cluster-scoped objects', () => {
    const meta = ObjectMeta.parse({ name: 'node-1', namespace: 'default' });
    expect(validateObjectMeta(meta, { namespaced: false }).map(formatFieldError)).toEqual([
      'metadata.namespace: Forbidden: not allowed on this type',
    ]);
  });

  it('requires a namespace on namespaced objects', () => {
    const meta = ObjectMeta.parse({ name: 'x' });
    expect(validateObjectMeta(meta, { namespaced: true }, 'item.metadata').map(formatFieldError)).toEqual([
      'item.metadata.namespace: Required value',
    ]);
  });

  it('checks owner references', () => {
    const meta = ObjectMeta.parse({ name: 'x', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs' }] });
    expect(validateObjectMeta(meta, { namespaced: false }).map(formatFieldError)).toEqual([
      'metadata.ownerReferences.uid: Invalid value: "": must not be empty',
    ]);
  });
});

describe('validatePodSpec', () => {
  it('uses the given field path, for pod templates', () => {
    const spec = PodSpec.parse({ containers: [{ name: 'web' }] });
    expect(validatePodSpec(spec, 'spec.template.spec').map(formatFieldError)).toEqual([
      'spec.template.spec.containers[0].image: Required value',
    ]);
  });
});

describe('PodList and Status', () => {
  it('parses a PodList, defaulting its items', () => {
    const list = PodList.parse({ apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: '42' }, items: [minimalPod()] });
    expect(list.metadata.resourceVersion).toBe('42');
    expect(list.items[0]?.spec.restartPolicy).toBe('Always');
  });

  it('parses a metav1 Status with causes', () => {
    const status = Status.parse({
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      message: 'Pod "web" is invalid',
      reason: 'Invalid',
      details: { name: 'web', kind: 'Pod', causes: [{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.containers[0].image' }] },
      code: 422,
    });
    expect(status.details?.causes?.[0]?.field).toBe('spec.containers[0].image');
    expect(Status.safeParse({ kind: 'Status', apiVersion: 'v1', status: 'Maybe' }).success).toBe(false);
  });
});
