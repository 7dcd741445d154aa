import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../../../control/apiserver/http/status.js';
import {
  decodeKubeProtobuf,
  encodeKubeProtobuf,
  formatDuration,
  formatTime,
  isKubeProtobuf,
  KUBE_PROTOBUF_MAGIC,
  KubeProtobufError,
  lookupKind,
} from '../../../../../control/apiserver/protobuf/index.js';
import { kubeRoot } from '../../../../../control/apiserver/protobuf/registry.js';
import { FIXTURES } from './fixtures.js';

/** A client-go style body around raw message bytes. */
function envelope(apiVersion: string, kind: string, raw: Uint8Array, extra: Record<string, unknown> = {}): Buffer {
  const unknown = kubeRoot().lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');
  return Buffer.concat([KUBE_PROTOBUF_MAGIC, unknown.encode(unknown.fromObject({ typeMeta: { apiVersion, kind }, raw, ...extra })).finish()]);
}

function decodeError(body: Buffer): KubeProtobufError {
  try {
    decodeKubeProtobuf(body);
  } catch (err) {
    expect(err).toBeInstanceOf(KubeProtobufError);
    return err as KubeProtobufError;
  }
  throw new Error('decoded without error');
}

describe('bodies captured from kubectl', () => {
  it.each(FIXTURES.map((f) => [f.command, f] as const))('%s', (_cmd, f) => {
    const decoded = decodeKubeProtobuf(Buffer.from(f.body, 'base64'));
    expect(decoded.object).toEqual(f.expected);
    expect(decoded.apiVersion).toBe(f.expected['apiVersion']);
    expect(decoded.kind).toBe(f.expected['kind']);
  });

  it('keeps deliberate zeros of pointer fields and drops omitempty zeros', () => {
    const dep = FIXTURES.find((f) => f.name === 'deployment');
    const obj = decodeKubeProtobuf(Buffer.from(dep?.body ?? '', 'base64')).object as { spec: Record<string, unknown> };
    expect(obj.spec['replicas']).toBe(0);
    expect(obj.spec).not.toHaveProperty('minReadySeconds');
    expect(obj.spec).not.toHaveProperty('paused');
    const pc = FIXTURES.find((f) => f.name === 'priorityclass');
    expect(decodeKubeProtobuf(Buffer.from(pc?.body ?? '', 'base64')).object).toMatchObject({ value: 0 });
  });
});

describe('conversion to the JSON form', () => {
  it('inlines embedded structs, and converts IntOrString, Quantity, Time, bytes and int64', () => {
    const body = encodeKubeProtobuf('v1', 'Pod', {
      metadata: {
        name: 'p',
        creationTimestamp: { seconds: 1_700_000_000, nanos: 5 },
        deletionGracePeriodSeconds: 0,
        managedFields: [{ manager: 'kubectl', operation: 'Update', fieldsType: 'FieldsV1', fieldsV1: { Raw: Buffer.from('{"f:metadata":{}}') } }],
      },
      spec: {
        activeDeadlineSeconds: 5_000_000_000,
        containers: [
          {
            name: 'c',
            image: 'i',
            stdin: false,
            livenessProbe: { handler: { httpGet: { path: '/h', port: { type: 1, strVal: 'http' } } }, periodSeconds: 0 },
            readinessProbe: { handler: { tcpSocket: { port: { type: 0, intVal: 8080 } } } },
            resources: { limits: { cpu: { string: '250m' } } },
            env: [{ name: 'A', valueFrom: { configMapKeyRef: { localObjectReference: { name: 'cm' }, key: 'k', optional: false } } }],
          },
        ],
        volumes: [{ name: 'v', volumeSource: { emptyDir: { sizeLimit: { string: '1Gi' } } } }],
      },
    });
    expect(decodeKubeProtobuf(body).object).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'p',
        creationTimestamp: '2023-11-14T22:13:20Z',
        deletionGracePeriodSeconds: 0,
        managedFields: [{ manager: 'kubectl', operation: 'Update', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': {} } }],
      },
      spec: {
        activeDeadlineSeconds: 5_000_000_000,
        containers: [
          {
            name: 'c',
            image: 'i',
            livenessProbe: { httpGet: { path: '/h', port: 'http' } },
            readinessProbe: { tcpSocket: { port: 8080 } },
            resources: { limits: { cpu: '250m' } },
            env: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'cm', key: 'k', optional: false } } }],
          },
        ],
        volumes: [{ name: 'v', emptyDir: { sizeLimit: '1Gi' } }],
      },
    });
  });

  it('MicroTime keeps microseconds; a type kubectl never prints keeps numeric zeros and drops empty strings', () => {
    const body = encodeKubeProtobuf('coordination.k8s.io/v1', 'Lease', {
      metadata: { name: 'l', namespace: 'kube-node-lease' },
      spec: { holderIdentity: '', leaseDurationSeconds: 0, acquireTime: { seconds: 1_700_000_000, nanos: 123_456_789 }, leaseTransitions: 0 },
    });
    expect(decodeKubeProtobuf(body).object).toEqual({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'l', namespace: 'kube-node-lease' },
      spec: { leaseDurationSeconds: 0, acquireTime: '2023-11-14T22:13:20.123456Z', leaseTransitions: 0 },
    });
  });

  it('a zero Time is null, as Go prints it', () => {
    const body = encodeKubeProtobuf('v1', 'Namespace', { metadata: { name: 'n', creationTimestamp: {} } });
    expect(decodeKubeProtobuf(body).object).toEqual({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n', creationTimestamp: null } });
  });

  it('RawExtension holds JSON or a nested protobuf object', () => {
    const nested = encodeKubeProtobuf('v1', 'ConfigMap', { metadata: { name: 'inner' }, data: { a: 'b' } });
    const json = encodeKubeProtobuf('apps/v1', 'ControllerRevision', { metadata: { name: 'r' }, data: { raw: Buffer.from('{"spec":{"x":1}}') }, revision: 3 });
    expect(decodeKubeProtobuf(json).object).toEqual({ apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'r' }, data: { spec: { x: 1 } }, revision: 3 });
    const proto = encodeKubeProtobuf('apps/v1', 'ControllerRevision', { metadata: { name: 'r' }, data: { raw: nested }, revision: 1 });
    expect(decodeKubeProtobuf(proto).object['data']).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'inner' }, data: { a: 'b' } });
  });

  it('HorizontalPodAutoscaler autoscaling/v2, Scale, Eviction and SelfSubjectAccessReview', () => {
    const hpa = encodeKubeProtobuf('autoscaling/v2', 'HorizontalPodAutoscaler', {
      metadata: { name: 'h' },
      spec: {
        scaleTargetRef: { kind: 'Deployment', name: 'd', apiVersion: 'apps/v1' },
        minReplicas: 1,
        maxReplicas: 4,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }],
        behavior: { scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } },
      },
    });
    expect(decodeKubeProtobuf(hpa).object).toMatchObject({
      spec: { metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }], behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } },
    });
    const scale = encodeKubeProtobuf('autoscaling/v1', 'Scale', { metadata: { name: 'd', namespace: 'n', resourceVersion: '9' }, spec: { replicas: 0 } });
    expect(decodeKubeProtobuf(scale).object).toEqual({ apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'd', namespace: 'n', resourceVersion: '9' }, spec: { replicas: 0 } });
    const eviction = encodeKubeProtobuf('policy/v1', 'Eviction', { metadata: { name: 'p', namespace: 'n' }, deleteOptions: { gracePeriodSeconds: 0, preconditions: { uid: 'u' } } });
    expect(decodeKubeProtobuf(eviction).object).toEqual({
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: 'p', namespace: 'n' },
      deleteOptions: { gracePeriodSeconds: 0, preconditions: { uid: 'u' } },
    });
    const ssar = encodeKubeProtobuf('authorization.k8s.io/v1', 'SelfSubjectAccessReview', {
      spec: { resourceAttributes: { verb: 'get', resource: 'pods', namespace: '' } },
      status: { allowed: false, denied: false, reason: '' },
    });
    expect(decodeKubeProtobuf(ssar).object).toEqual({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { verb: 'get', resource: 'pods' } },
      status: { allowed: false },
    });
  });

  it('renames the few fields whose proto name differs from the JSON one', () => {
    const body = encodeKubeProtobuf('authentication.k8s.io/v1', 'TokenRequest', { spec: { boundObjectRef: { kind: 'Pod', name: 'p', uID: 'u1' } } });
    expect(decodeKubeProtobuf(body).object['spec']).toEqual({ boundObjectRef: { kind: 'Pod', name: 'p', uid: 'u1' } });
  });

  it('formats Durations as Go does', () => {
    const cases: Array<[bigint, string]> = [
      [0n, '0s'],
      [1n, '1ns'],
      [1100n, '1.1µs'],
      [2_200_000n, '2.2ms'],
      [1_500_000_000n, '1.5s'],
      [90_000_000_000n, '1m30s'],
      [3_600_000_000_000n, '1h0m0s'],
      [93_784_500_000_000n, '26h3m4.5s'],
      [-1_500_000_000n, '-1.5s'],
    ];
    for (const [nanos, text] of cases) expect(formatDuration(nanos)).toBe(text);
    expect(formatTime(0)).toBe('1970-01-01T00:00:00Z');
  });

  it('knows which kinds it has a schema for', () => {
    for (const [v, k] of [
      ['v1', 'Namespace'], ['v1', 'Secret'], ['v1', 'LimitRange'], ['v1', 'Event'], ['v1', 'Binding'], ['v1', 'DeleteOptions'],
      ['apps/v1', 'StatefulSet'], ['apps/v1', 'DaemonSet'], ['apps/v1', 'ReplicaSet'], ['batch/v1', 'CronJob'],
      ['autoscaling/v1', 'HorizontalPodAutoscaler'], ['autoscaling/v2', 'HorizontalPodAutoscaler'], ['policy/v1', 'PodDisruptionBudget'],
      ['rbac.authorization.k8s.io/v1', 'ClusterRoleBinding'], ['scheduling.k8s.io/v1', 'PriorityClass'], ['events.k8s.io/v1', 'Event'],
      ['authentication.k8s.io/v1', 'TokenRequest'], ['authorization.k8s.io/v1', 'SelfSubjectRulesReview'], ['networking.k8s.io/v1', 'Ingress'],
      ['discovery.k8s.io/v1', 'EndpointSlice'], ['certificates.k8s.io/v1', 'CertificateSigningRequest'], ['coordination.k8s.io/v1', 'Lease'],
    ] as const) {
      expect(lookupKind(v, k)?.name, `${v} ${k}`).toBe(k);
    }
    expect(lookupKind('v1', 'Deployment')).toBeUndefined();
    expect(lookupKind('apps/v1beta1', 'Deployment')).toBeUndefined();
    expect(lookupKind('v1', 'PodSpec.NodeSelectorEntry')).toBeUndefined();
  });

  it('recognises the media type', () => {
    expect(isKubeProtobuf('application/vnd.kubernetes.protobuf')).toBe(true);
    expect(isKubeProtobuf('application/vnd.kubernetes.protobuf; charset=binary')).toBe(true);
    expect(isKubeProtobuf('application/vnd.kubernetes.protobuf;stream=watch')).toBe(true);
    expect(isKubeProtobuf('application/json')).toBe(false);
    expect(isKubeProtobuf(undefined)).toBe(false);
  });
});

describe('malformed input is a clear 400, never a crash', () => {
  it('rejects bodies without the magic', () => {
    for (const body of [Buffer.alloc(0), Buffer.from('k8s'), Buffer.from('{"kind":"Pod"}'), Buffer.from([0x6b, 0x38, 0x73, 0x01, 0x0a])]) {
      const err = decodeError(body);
      expect(err).toBeInstanceOf(ApiError);
      expect(err.code).toBe(400);
      expect(err.reason).toBe('BadRequest');
      expect(err.message).toMatch(/does not appear to be a protobuf message/);
    }
  });

  it('rejects a broken envelope, a missing kind and an unknown kind', () => {
    expect(decodeError(Buffer.concat([KUBE_PROTOBUF_MAGIC, Buffer.from([0x0a, 0x50, 0x01])])).message).toMatch(/unable to decode the protobuf envelope/);
    expect(decodeError(envelope('v1', '', new Uint8Array())).message).toMatch(/Kind' is missing/);
    expect(decodeError(envelope('', 'Pod', new Uint8Array())).message).toMatch(/apiVersion' is missing/);
    expect(decodeError(envelope('example.com/v1', 'Widget', new Uint8Array())).message).toBe('no kind "Widget" is registered for version "example.com/v1" in scheme "skiff protobuf"');
    expect(decodeError(envelope('v1', 'Deployment', new Uint8Array())).message).toMatch(/no kind "Deployment"/);
  });

  it('rejects a broken object inside a good envelope', () => {
    const err = decodeError(envelope('v1', 'ConfigMap', Buffer.from([0x0a, 0xff, 0xff, 0x03])));
    expect(err.message).toMatch(/^unable to decode ConfigMap \(v1\) from protobuf: /);
    const badRaw = encodeKubeProtobuf('apps/v1', 'ControllerRevision', { data: { raw: Buffer.from([0xff, 0x00]) } });
    expect(decodeError(badRaw).message).toMatch(/unable to convert ControllerRevision/);
  });

  it('refuses encodings it does not speak with 415, and takes JSON inside the envelope', () => {
    const gz = decodeError(envelope('v1', 'ConfigMap', new Uint8Array([1]), { contentEncoding: 'gzip' }));
    expect(gz.code).toBe(415);
    const yaml = decodeError(envelope('v1', 'ConfigMap', new Uint8Array([1]), { contentType: 'application/yaml' }));
    expect(yaml.code).toBe(415);
    const json = envelope('v1', 'ConfigMap', Buffer.from('{"metadata":{"name":"j"},"data":{"a":"b"}}'), { contentType: 'application/json' });
    expect(decodeKubeProtobuf(json)).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'j' }, data: { a: 'b' } } });
  });

  it('survives random and mutated bodies', () => {
    let seed = 42;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const samples = FIXTURES.map((f) => Buffer.from(f.body, 'base64'));
    for (let i = 0; i < 600; i++) {
      let body: Buffer;
      if (i % 3 === 0) {
        body = Buffer.concat([KUBE_PROTOBUF_MAGIC, Buffer.from(Array.from({ length: rand(64) }, () => rand(256)))]);
      } else {
        body = Buffer.from(samples[rand(samples.length)] as Buffer);
        for (let j = 0; j < 1 + rand(4); j++) body[4 + rand(body.length - 4)] = rand(256);
        if (i % 3 === 2) body = body.subarray(0, 4 + rand(body.length - 4));
      }
      try {
        const out = decodeKubeProtobuf(body);
        expect(typeof out.kind).toBe('string');
        JSON.stringify(out.object);
      } catch (err) {
        expect(err).toBeInstanceOf(KubeProtobufError);
      }
    }
  });
});
