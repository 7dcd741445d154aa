import { describe, expect, it } from 'vitest';
import { containerEnv, EnvError, expandCommand, expandVars, type EnvContext } from '../../../../agent/kuberuntime/env.js';
import { nodeCapacity } from '../../../../agent/node-capacity.js';
import type { Pod } from '../../../../control/api/index.js';
import { c, makePod } from './fixtures.js';

const vars: Record<string, string> = { A: 'alpha', B: 'beta', EMPTY: '' };
const lookup = (n: string): string | undefined => vars[n];

describe('expandVars (upstream third_party/forked/golang/expansion)', () => {
  it('reads the node allocatable for limits.* when the container sets no limit (requests stay 0)', () => {
    const env = [
      ['CPU_LIMIT', 'limits.cpu', undefined],
      ['MEM_LIMIT_MI', 'limits.memory', '1Mi'],
      ['CPU_REQ', 'requests.cpu', undefined],
    ].map(([name, resource, divisor]) => ({ name, valueFrom: { resourceFieldRef: { resource, ...(divisor ? { divisor } : {}) } } }));
    const pod = makePod({ containers: [c('app', { env })] });
    expect(envOf(pod, { nodeAllocatable: { cpu: '6', memory: '2Gi' } })).toEqual({ CPU_LIMIT: '6', MEM_LIMIT_MI: '2048', CPU_REQ: '0' });
  });

  it('by default reads for a missing limit what the agent posts as the Node\'s allocatable', () => {
    const env = [
      ['CPU_LIMIT', 'limits.cpu', undefined],
      ['MEM_LIMIT', 'limits.memory', '1Ki'],
      ['DISK_LIMIT', 'limits.ephemeral-storage', undefined],
    ].map(([name, resource, divisor]) => ({ name, valueFrom: { resourceFieldRef: { resource, ...(divisor ? { divisor } : {}) } } }));
    const node = nodeCapacity(110);
    expect(envOf(makePod({ containers: [c('app', { env })] }))).toEqual({ CPU_LIMIT: node.cpu, MEM_LIMIT: node.memory?.replace(/Ki$/, ''), DISK_LIMIT: node['ephemeral-storage'] });
  });

  it.each([
    ['$(A)', 'alpha'],
    ['x-$(A)-$(B)-y', 'x-alpha-beta-y'],
    ['$(EMPTY)|', '|'],
    ['$(UNDEFINED)', '$(UNDEFINED)'],
    ['$$(A)', '$(A)'],
    ['$$$(A)', '$alpha'],
    ['$$', '$'],
    ['a$$b', 'a$b'],
    ['$', '$'],
    ['tail$', 'tail$'],
    ['$A', '$A'],
    ['$(A', '$(A'],
    // An unclosed reference is kept as written and the rest is still expanded.
    ['$(A $$', '$(A $'],
    ['$()', '$()'],
    ['no refs', 'no refs'],
    ['', ''],
    ['ünïcødé $(A) ✓', 'ünïcødé alpha ✓'],
  ])('%j → %j', (input, out) => {
    expect(expandVars(input, lookup)).toBe(out);
  });
});

function ctx(pod: Pod, extra: Partial<EnvContext> = {}): EnvContext {
  return { pod, podIP: '10.88.0.5', hostIP: '192.168.1.10', ...extra };
}
const envOf = (pod: Pod, extra: Partial<EnvContext> = {}) => Object.fromEntries(containerEnv(pod.spec.containers[0]!, ctx(pod, extra)).map((e) => [e.name, e.value]));

describe('containerEnv', () => {
  it('expands references to variables defined earlier, not later', () => {
    const pod = makePod({
      containers: [
        c('app', {
          env: [
            { name: 'FIRST', value: 'one' },
            { name: 'REF', value: '$(FIRST)-$(LATER)' },
            { name: 'LATER', value: 'two' },
            { name: 'ESC', value: '$$(FIRST)' },
          ],
        }),
      ],
    });
    expect(envOf(pod)).toEqual({ FIRST: 'one', REF: 'one-$(LATER)', LATER: 'two', ESC: '$(FIRST)' });
  });

  it('puts service variables first; the container env overrides them and may reference them', () => {
    const pod = makePod({ containers: [c('app', { env: [{ name: 'DB_SERVICE_HOST', value: 'override' }, { name: 'URL', value: 'http://$(DB_SERVICE_PORT)' }] })] });
    const out = containerEnv(pod.spec.containers[0]!, ctx(pod, { serviceEnv: [{ name: 'DB_SERVICE_HOST', value: '10.0.0.1' }, { name: 'DB_SERVICE_PORT', value: '5432' }] }));
    expect(out).toEqual([
      { name: 'DB_SERVICE_HOST', value: 'override' },
      { name: 'DB_SERVICE_PORT', value: '5432' },
      { name: 'URL', value: 'http://5432' },
    ]);
  });

  it('resolves fieldRef values', () => {
    const pod = makePod(
      {
        nodeName: 'node-1',
        serviceAccountName: 'robot',
        containers: [
          c('app', {
            env: [
              ['NODE', 'spec.nodeName'],
              ['SA', 'spec.serviceAccountName'],
              ['POD_IP', 'status.podIP'],
              ['HOST_IP', 'status.hostIP'],
              // The pod's metadata as downwardAPI files read it (downward-api.test.ts has every path).
              ['NAME', 'metadata.name'],
              ['TIER', "metadata.labels['tier']"],
            ].map(([name, fieldPath]) => ({ name, valueFrom: { fieldRef: { fieldPath } } })),
          }),
        ],
      },
      { namespace: 'prod', labels: { tier: 'web' }, annotations: { 'example.com/note': 'hi' } },
    );
    expect(envOf(pod)).toEqual({
      NODE: 'node-1',
      SA: 'robot',
      POD_IP: '10.88.0.5',
      HOST_IP: '192.168.1.10',
      NAME: 'web',
      TIER: 'web',
    });
  });

  it('refuses a fieldRef path it does not know (validation keeps them out of stored pods)', () => {
    const pod = makePod({ containers: [c('app', { env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] })] });
    const ref = pod.spec.containers[0]?.env?.[0]?.valueFrom?.fieldRef;
    if (ref) ref.fieldPath = 'spec.hostname';
    expect(() => envOf(pod)).toThrow(new EnvError('unsupported fieldPath: spec.hostname'));
  });

  it('a fieldRef value can be referenced by a later variable', () => {
    const pod = makePod({ containers: [c('app', { env: [{ name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }, { name: 'ADDR', value: '$(IP):8080' }] })] });
    expect(envOf(pod).ADDR).toBe('10.88.0.5:8080');
  });

  it('resolves resourceFieldRef with and without a divisor, rounding up', () => {
    const env = [
      ['CPU_LIMIT', 'limits.cpu', undefined],
      ['CPU_LIMIT_M', 'limits.cpu', '1m'],
      ['CPU_REQ', 'requests.cpu', undefined],
      ['MEM_LIMIT', 'limits.memory', undefined],
      ['MEM_LIMIT_MI', 'limits.memory', '1Mi'],
      ['MEM_REQ_KI', 'requests.memory', '1Ki'],
    ].map(([name, resource, divisor]) => ({ name, valueFrom: { resourceFieldRef: { resource, ...(divisor ? { divisor } : {}) } } }));
    const pod = makePod({ containers: [c('app', { env, resources: { limits: { cpu: '1500m', memory: '128Mi' }, requests: { cpu: '250m', memory: '1000' } } })] });
    expect(envOf(pod)).toEqual({
      CPU_LIMIT: '2',
      CPU_LIMIT_M: '1500',
      CPU_REQ: '1',
      MEM_LIMIT: String(128 * 1024 * 1024),
      MEM_LIMIT_MI: '128',
      MEM_REQ_KI: '1',
    });
  });

  it.each([
    ['configMapKeyRef', { configMapKeyRef: { name: 'cm', key: 'k' } }, 'configmap "cm" key "k" not found'],
    ['secretKeyRef', { secretKeyRef: { name: 's', key: 'k' } }, 'secret "s" key "k" not found'],
  ])('a %s is an error in static mode', (_kind, valueFrom, message) => {
    const pod = makePod({ containers: [c('app', { env: [{ name: 'X', valueFrom }] })] });
    expect(() => envOf(pod)).toThrow(EnvError);
    expect(() => envOf(pod)).toThrow(message);
  });

  it.each([
    ['configMapKeyRef', { configMapKeyRef: { name: 'cm', key: 'k', optional: true } }],
    ['secretKeyRef', { secretKeyRef: { name: 's', key: 'k', optional: true } }],
  ])('an optional %s that cannot be found is left out', (_kind, valueFrom) => {
    const pod = makePod({ containers: [c('app', { env: [{ name: 'X', valueFrom }, { name: 'Y', value: '$(X)' }] })] });
    expect(envOf(pod)).toEqual({ Y: '$(X)' });
  });

  it('looks ConfigMap and Secret keys up when the agent can', () => {
    const pod = makePod(
      {
        containers: [
          c('app', {
            env: [
              { name: 'C', valueFrom: { configMapKeyRef: { name: 'cm', key: 'k' } } },
              { name: 'S', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
            ],
          }),
        ],
      },
      { namespace: 'team' },
    );
    const asked: string[] = [];
    const out = envOf(pod, {
      configMapKey: (ns, name, key) => (asked.push(`cm ${ns}/${name}/${key}`), 'from-cm'),
      secretKey: (ns, name, key) => (asked.push(`secret ${ns}/${name}/${key}`), 'from-secret'),
    });
    expect(out).toEqual({ C: 'from-cm', S: 'from-secret' });
    expect(asked).toEqual(['cm team/cm/k', 'secret team/s/k']);
  });

  it.each([
    ['configMapRef', { configMapRef: { name: 'cm' } }],
    ['secretRef', { secretRef: { name: 's' } }],
  ])('envFrom %s is an error in static mode, naming it', (kind, from) => {
    const pod = makePod({ containers: [c('app', { envFrom: [from] })] });
    expect(() => envOf(pod)).toThrow(new RegExp(`envFrom ${kind}`));
  });
});

describe('expandCommand', () => {
  it('expands $(VAR) in command and args against the container env, leaving unknown ones', () => {
    const pod = makePod({ containers: [c('app', { command: ['sh', '-c', 'echo $(MSG)'], args: ['$(MSG)', '$$(MSG)', '$(NOPE)'] })] });
    const out = expandCommand(pod.spec.containers[0]!, [{ name: 'MSG', value: 'hello' }]);
    expect(out.command).toEqual(['sh', '-c', 'echo hello']);
    expect(out.args).toEqual(['hello', '$(MSG)', '$(NOPE)']);
    // The input is not changed.
    expect(pod.spec.containers[0]?.args).toEqual(['$(MSG)', '$$(MSG)', '$(NOPE)']);
  });

  it('leaves a container without command or args as it is', () => {
    const pod = makePod({ containers: [c('app')] });
    const out = expandCommand(pod.spec.containers[0]!, []);
    expect(out.command).toBeUndefined();
    expect(out.args).toBeUndefined();
  });
});
