import { describe, expect, expectTypeOf, it } from 'vitest';
import { parsePod, Pod, PodSpec, Volume } from '../../../../control/api/index.js';
import { minimalPod, mustParse, podWith } from './helpers.js';

describe('Pod defaults (SetDefaults_Pod / _PodSpec)', () => {
  const pod = mustParse(minimalPod());

  it.each([
    ['metadata.namespace', pod.metadata.namespace, 'default'],
    ['spec.restartPolicy', pod.spec.restartPolicy, 'Always'],
    ['spec.dnsPolicy', pod.spec.dnsPolicy, 'ClusterFirst'],
    ['spec.terminationGracePeriodSeconds', pod.spec.terminationGracePeriodSeconds, 30],
    ['spec.schedulerName', pod.spec.schedulerName, 'default-scheduler'],
    ['spec.securityContext', pod.spec.securityContext, {}],
    ['spec.enableServiceLinks', pod.spec.enableServiceLinks, true],
    ['spec.hostNetwork', pod.spec.hostNetwork, false],
    ['spec.volumes', pod.spec.volumes, []],
    ['spec.initContainers', pod.spec.initContainers, []],
  ])('%s defaults to %j', (_field, got, want) => {
    expect(got).toEqual(want);
  });

  it('keeps explicit values, including a zero grace period', () => {
    const p = mustParse(
      podWith((x) => {
        x.metadata.namespace = 'kube-system';
        Object.assign(x.spec, {
          restartPolicy: 'Never',
          dnsPolicy: 'Default',
          terminationGracePeriodSeconds: 0,
          schedulerName: 'mine',
          enableServiceLinks: false,
          hostNetwork: true,
        });
      }),
    );
    expect(p.metadata.namespace).toBe('kube-system');
    expect(p.spec).toMatchObject({
      restartPolicy: 'Never',
      dnsPolicy: 'Default',
      terminationGracePeriodSeconds: 0,
      schedulerName: 'mine',
      enableServiceLinks: false,
      hostNetwork: true,
    });
  });

  it('treats an empty namespace like a missing one', () => {
    expect(mustParse(podWith((x) => (x.metadata.namespace = ''))).metadata.namespace).toBe('default');
  });

  it('treats YAML nulls as unset', () => {
    const p = mustParse(
      podWith((x) => {
        x.metadata.creationTimestamp = null;
        x.spec.volumes = null;
        x.spec.containers[0].resources = null;
      }),
    );
    expect(p.metadata.creationTimestamp).toBeUndefined();
    expect(p.spec.volumes).toEqual([]);
    expect(p.spec.containers[0]?.resources).toEqual({});
  });
});

describe('Container defaults (SetDefaults_Container)', () => {
  const container = (c: object) => mustParse(podWith((x) => Object.assign(x.spec.containers[0], c))).spec.containers[0];

  it.each([
    ['nginx', 'Always'],
    ['nginx:latest', 'Always'],
    ['registry.local:5000/nginx', 'Always'],
    ['registry.local:5000/nginx:latest', 'Always'],
    ['nginx:1.25', 'IfNotPresent'],
    ['registry.local:5000/team/nginx:1.25', 'IfNotPresent'],
    ['nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', 'IfNotPresent'],
    ['nginx:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', 'Always'],
  ])('image %s gets imagePullPolicy %s', (image, want) => {
    expect(container({ image })?.imagePullPolicy).toBe(want);
  });

  it('keeps an explicit imagePullPolicy', () => {
    expect(container({ image: 'nginx', imagePullPolicy: 'Never' })?.imagePullPolicy).toBe('Never');
  });

  it.each([
    ['terminationMessagePath', '/dev/termination-log'],
    ['terminationMessagePolicy', 'File'],
    ['env', []],
    ['volumeMounts', []],
    ['resources', {}],
  ] as const)('%s defaults to %j', (field, want) => {
    expect(container({})?.[field]).toEqual(want);
  });

  it('defaults ports[].protocol to TCP', () => {
    expect(container({ ports: [{ containerPort: 80 }, { containerPort: 53, protocol: 'UDP' }] })?.ports).toEqual([
      { containerPort: 80, protocol: 'TCP' },
      { containerPort: 53, protocol: 'UDP' },
    ]);
  });

  it('defaults requests to limits, key by key, on Pods', () => {
    const c = container({ resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m' } } });
    expect(c?.resources).toEqual({ limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m', memory: '128Mi' } });
  });

  it('defaults requests to limits for init containers too', () => {
    const p = mustParse(
      podWith((x) => (x.spec.initContainers = [{ name: 'init', image: 'busybox:1', resources: { limits: { cpu: 1 } } }])),
    );
    expect(p.spec.initContainers[0]?.resources).toEqual({ limits: { cpu: '1' }, requests: { cpu: '1' } });
  });

  it('does not default requests in a bare PodSpec (pod templates), as upstream', () => {
    const spec = PodSpec.parse({ containers: [{ name: 'a', image: 'x', resources: { limits: { cpu: '1' } } }] });
    expect(spec.containers[0]?.resources).toEqual({ limits: { cpu: '1' } });
  });

  it('mirrors containerPort into hostPort with hostNetwork', () => {
    const p = mustParse(
      podWith((x) => {
        x.spec.hostNetwork = true;
        x.spec.containers[0].ports = [{ containerPort: 8080 }];
      }),
    );
    expect(p.spec.containers[0]?.ports?.[0]?.hostPort).toBe(8080);
  });
});

describe('Probe defaults (SetDefaults_Probe / _HTTPGetAction)', () => {
  const probe = (p: object) =>
    mustParse(podWith((x) => (x.spec.containers[0].readinessProbe = p))).spec.containers[0]?.readinessProbe;

  it('fills timing, thresholds, scheme and path', () => {
    expect(probe({ httpGet: { port: 8080 } })).toEqual({
      httpGet: { port: 8080, path: '/', scheme: 'HTTP' },
      initialDelaySeconds: 0,
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    });
  });

  it('treats 0 as unset and keeps explicit values', () => {
    expect(probe({ tcpSocket: { port: 'http' }, timeoutSeconds: 0, periodSeconds: 5, successThreshold: 2, failureThreshold: 7 }))
      .toMatchObject({ timeoutSeconds: 1, periodSeconds: 5, successThreshold: 2, failureThreshold: 7 });
  });
});

describe('Volume defaults (SetDefaults_Volume and sources)', () => {
  const vol = (v: object) => Volume.parse({ name: 'v', ...v });

  it.each([
    ['no source', {}, { name: 'v', emptyDir: {} }],
    ['hostPath type', { hostPath: { path: '/srv' } }, { name: 'v', hostPath: { path: '/srv', type: '' } }],
    ['configMap defaultMode', { configMap: { name: 'cm' } }, { name: 'v', configMap: { name: 'cm', defaultMode: 420 } }],
    ['secret defaultMode', { secret: { secretName: 's' } }, { name: 'v', secret: { secretName: 's', defaultMode: 420 } }],
    ['downwardAPI defaultMode', { downwardAPI: {} }, { name: 'v', downwardAPI: { defaultMode: 420 } }],
    ['projected defaultMode', { projected: { sources: [] } }, { name: 'v', projected: { sources: [], defaultMode: 420 } }],
    ['explicit mode', { secret: { secretName: 's', defaultMode: 0o400 } }, { name: 'v', secret: { secretName: 's', defaultMode: 256 } }],
  ])('%s', (_what, input, want) => {
    expect(vol(input)).toEqual(want);
  });

  it('accepts sources Skiff does not run, without turning them into emptyDir', () => {
    expect(vol({ nfs: { server: 'nfs.local', path: '/export' } })).toEqual({ name: 'v', nfs: { server: 'nfs.local', path: '/export' } });
  });
});

describe('schemas', () => {
  it('Pod.parse applies the same defaults as parsePod', () => {
    expect(Pod.parse(minimalPod())).toEqual(mustParse(minimalPod()));
  });
});

describe('output types (checked by tsc)', () => {
  it('makes every defaulted field required', () => {
    type Spec = Pod['spec'];
    type C = Spec['containers'][number];
    type P = NonNullable<C['livenessProbe']>;
    expectTypeOf<Pod['metadata']['namespace']>().toEqualTypeOf<string>();
    expectTypeOf<Pod['metadata']['name']>().toEqualTypeOf<string>();
    expectTypeOf<Spec['restartPolicy']>().toEqualTypeOf<string>();
    expectTypeOf<Spec['dnsPolicy']>().toEqualTypeOf<string>();
    expectTypeOf<Spec['terminationGracePeriodSeconds']>().toEqualTypeOf<number>();
    expectTypeOf<Spec['schedulerName']>().toEqualTypeOf<string>();
    expectTypeOf<Spec['enableServiceLinks']>().toEqualTypeOf<boolean>();
    expectTypeOf<Spec['hostNetwork']>().toEqualTypeOf<boolean>();
    expectTypeOf<Spec['volumes']>().toBeArray();
    expectTypeOf<Spec['initContainers']>().toBeArray();
    expectTypeOf<C['imagePullPolicy']>().toEqualTypeOf<string>();
    expectTypeOf<C['terminationMessagePath']>().toEqualTypeOf<string>();
    expectTypeOf<C['env']>().toBeArray();
    expectTypeOf<C['volumeMounts']>().toBeArray();
    expectTypeOf<NonNullable<C['ports']>[number]['protocol']>().toEqualTypeOf<string>();
    expectTypeOf<P['timeoutSeconds']>().toEqualTypeOf<number>();
    expectTypeOf<P['initialDelaySeconds']>().toEqualTypeOf<number>();
    expectTypeOf<NonNullable<P['httpGet']>['scheme']>().toEqualTypeOf<string>();
    expectTypeOf<NonNullable<Volume['hostPath']>['type']>().toEqualTypeOf<string>();
    expectTypeOf<NonNullable<Volume['configMap']>['defaultMode']>().toEqualTypeOf<number>();
  });
});

describe('idempotence', () => {
  it('re-parsing a defaulted pod (as an API server re-reads stored objects) changes nothing', () => {
    const once = mustParse(
      podWith((x) => {
        x.spec.volumes = [{ name: 'data' }, { name: 'cfg', configMap: { name: 'cm' } }, { name: 'host', hostPath: { path: '/srv' } }];
        Object.assign(x.spec.containers[0], {
          ports: [{ containerPort: 80 }],
          resources: { limits: { cpu: 1 } },
          livenessProbe: { httpGet: { port: 80 } },
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        });
      }),
    );
    const twice = parsePod(JSON.parse(JSON.stringify(once)), { strict: true });
    expect(twice).toEqual({ ok: true, pod: once, warnings: [] });
  });
});
