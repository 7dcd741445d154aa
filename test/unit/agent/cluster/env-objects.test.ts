import { describe, expect, it } from 'vitest';
import { containerEnv, EnvError, type EnvContext } from '../../../../agent/kuberuntime/env.js';
import { podObjectRefs } from '../../../../agent/cluster/objects.js';
import { c, makePod } from '../kuberuntime/fixtures.js';

const cms: Record<string, Record<string, string>> = { cm: { A: 'a', 'bad key': 'x', '1st': 'y', 'ok.key': 'z' } };
const secrets: Record<string, Record<string, string>> = { s: { k: 'v' } };

function envOf(container: Record<string, unknown>, extra: Partial<EnvContext> = {}): { env: Record<string, string>; invalid: string[] } {
  const pod = makePod({ containers: [c('app', container)] }, { namespace: 'team' });
  const invalid: string[] = [];
  const env = containerEnv(pod.spec.containers[0]!, {
    pod,
    configMap: (_ns, name) => cms[name],
    secret: (_ns, name) => secrets[name],
    invalidEnvFromKeys: (kind, name, keys) => invalid.push(`${kind}/${name}: ${keys.join(',')}`),
    ...extra,
  });
  return { env: Object.fromEntries(env.map((e) => [e.name, e.value])), invalid };
}

describe('ConfigMaps and Secrets in env (cluster mode)', () => {
  it('takes envFrom with a prefix, skips invalid keys with a report, and lets env win', () => {
    const { env, invalid } = envOf({
      envFrom: [{ configMapRef: { name: 'cm' }, prefix: 'P_' }, { secretRef: { name: 's' } }, { configMapRef: { name: 'cm' } }],
      env: [{ name: 'A', value: 'mine' }, { name: 'REF', value: '$(P_A)-$(k)' }],
    });
    expect(env).toEqual({ P_A: 'a', P_1st: 'y', 'P_ok.key': 'z', k: 'v', A: 'mine', 'ok.key': 'z', REF: 'a-v' });
    expect(invalid).toEqual(['configMap/cm: P_bad key', 'configMap/cm: 1st,bad key']);
  });

  it('uses upstream messages for missing objects and keys, and honours optional', () => {
    const err = (container: Record<string, unknown>): string => {
      try {
        envOf(container);
      } catch (e) {
        expect(e).toBeInstanceOf(EnvError);
        return (e as Error).message;
      }
      return '';
    };
    expect(err({ env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'A' } } }] })).toBe('configmap "nope" not found');
    expect(err({ env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cm', key: 'zz' } } }] })).toBe("couldn't find key zz in ConfigMap team/cm");
    expect(err({ env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'nope', key: 'k' } } }] })).toBe('secret "nope" not found');
    expect(err({ env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 's', key: 'zz' } } }] })).toBe("couldn't find key zz in Secret team/s");
    expect(err({ envFrom: [{ secretRef: { name: 'nope' } }] })).toBe('secret "nope" not found');
    const { env } = envOf({
      envFrom: [{ configMapRef: { name: 'nope', optional: true } }],
      env: [
        { name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'A', optional: true } } },
        { name: 'Y', valueFrom: { secretKeyRef: { name: 's', key: 'zz', optional: true } } },
        { name: 'Z', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
      ],
    });
    expect(env).toEqual({ Z: 'v' });
  });

  it('lists what a pod references, for the per-object watches', () => {
    const pod = makePod({
      initContainers: [c('init', { envFrom: [{ secretRef: { name: 's1' } }] })],
      containers: [c('app', { env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cm1', key: 'k' } } }], envFrom: [{ configMapRef: { name: 'cm1' } }] })],
      volumes: [
        { name: 'a', configMap: { name: 'cm2' } },
        { name: 'b', secret: { secretName: 's2' } },
        { name: 'c', projected: { sources: [{ configMap: { name: 'cm3' } }, { secret: { name: 's3' } }] } },
      ],
    });
    expect(podObjectRefs(pod).map((r) => `${r.kind}/${r.name}`).sort()).toEqual(['configmaps/cm1', 'configmaps/cm2', 'configmaps/cm3', 'secrets/s1', 'secrets/s2', 'secrets/s3']);
  });
});
