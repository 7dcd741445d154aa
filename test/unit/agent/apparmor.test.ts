// The kubelet's AppArmor handling: host detection, the profile each container runs with, the admit handler (reason
// AppArmor, upstream's message) and dockershim's SecurityOpt for the profile.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AppArmorAdmitHandler, appArmorProfileFor, appArmorRequired, appArmorSecurityOpt, hostAppArmorEnabled, validateAppArmor } from '../../../agent/apparmor.js';
import { dockerSecurity } from '../../../agent/runtime/container-config.js';
import type { Pod } from '../../../control/api/index.js';
import { c, makePod } from './kuberuntime/fixtures.js';

const A = 'container.apparmor.security.beta.kubernetes.io/';
const NOT_ENABLED = 'Cannot enforce AppArmor: AppArmor is not enabled on the host';

describe('hostAppArmorEnabled', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-apparmor-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const securityfs = join(dir, 'securityfs-apparmor');
  const enabledParam = join(dir, 'enabled');

  it('needs the securityfs directory and an enabled parameter starting with Y', () => {
    expect(hostAppArmorEnabled({ securityfs, enabledParam })).toBe(false);
    mkdirSync(securityfs);
    expect(hostAppArmorEnabled({ securityfs, enabledParam })).toBe(false);
    writeFileSync(enabledParam, 'N\n');
    expect(hostAppArmorEnabled({ securityfs, enabledParam })).toBe(false);
    writeFileSync(enabledParam, 'Y\n');
    expect(hostAppArmorEnabled({ securityfs, enabledParam })).toBe(true);
  });

  it('reads this machine’s kernel by default (a boolean whatever the host)', () => {
    expect(typeof hostAppArmorEnabled()).toBe('boolean');
  });
});

describe('the profile of a container', () => {
  it('is its own field, else its annotation, else the pod’s field', () => {
    const pod = makePod(
      {
        securityContext: { appArmorProfile: { type: 'RuntimeDefault' } },
        containers: [c('own', { securityContext: { appArmorProfile: { type: 'Unconfined' } } }), c('annotated'), c('plain')],
      },
      { annotations: { [`${A}own`]: 'localhost/ignored', [`${A}annotated`]: 'localhost/legacy' } },
    );
    const [own, annotated, plain] = pod.spec.containers;
    expect(appArmorProfileFor(pod, own!)).toEqual({ type: 'Unconfined' });
    expect(appArmorProfileFor(pod, annotated!)).toEqual({ type: 'Localhost', localhostProfile: 'legacy' });
    expect(appArmorProfileFor(pod, plain!)).toEqual({ type: 'RuntimeDefault' });
    expect(appArmorProfileFor(makePod({ containers: [c('x')] }), c('x') as never)).toBeUndefined();
  });
});

describe('AppArmor admission', () => {
  const pod = (spec: Record<string, unknown>, annotations?: Record<string, string>): Pod => makePod(spec, annotations ? { annotations } : {});

  it('needs AppArmor for any profile but Unconfined, in a pod or container field or an annotation', () => {
    expect(appArmorRequired(pod({ containers: [c('a')] }))).toBe(false);
    expect(appArmorRequired(pod({ securityContext: { appArmorProfile: { type: 'Unconfined' } }, containers: [c('a')] }))).toBe(false);
    expect(appArmorRequired(pod({ securityContext: { appArmorProfile: { type: 'RuntimeDefault' } }, containers: [c('a')] }))).toBe(true);
    expect(appArmorRequired(pod({ initContainers: [c('i', { securityContext: { appArmorProfile: { type: 'Localhost', localhostProfile: 'p' } } })], containers: [c('a')] }))).toBe(true);
    expect(appArmorRequired(pod({ containers: [c('a')] }, { [`${A}a`]: 'unconfined' }))).toBe(false);
    expect(appArmorRequired(pod({ containers: [c('a')] }, { [`${A}a`]: 'runtime/default' }))).toBe(true);
  });

  it('rejects such a pod on a host without AppArmor with upstream’s reason and message; admits it where AppArmor is on', () => {
    const confined = pod({ containers: [c('a', { securityContext: { appArmorProfile: { type: 'RuntimeDefault' } } })] });
    expect(new AppArmorAdmitHandler(false).admit(confined)).toEqual({ admit: false, reason: 'AppArmor', message: NOT_ENABLED });
    expect(new AppArmorAdmitHandler(true).admit(confined)).toEqual({ admit: true });
    const byAnnotation = pod({ containers: [c('a')] }, { [`${A}a`]: 'localhost/x' });
    expect(new AppArmorAdmitHandler(false).admit(byAnnotation)).toEqual({ admit: false, reason: 'AppArmor', message: NOT_ENABLED });
  });

  it('admits Unconfined and profile-less pods on any host, and a pod already running without a check', () => {
    const unconfined = pod({ securityContext: { appArmorProfile: { type: 'Unconfined' } }, containers: [c('a')] });
    expect(new AppArmorAdmitHandler(false).admit(unconfined)).toEqual({ admit: true });
    expect(new AppArmorAdmitHandler(false).admit(pod({ containers: [c('a')] }))).toEqual({ admit: true });
    const confined = pod({ securityContext: { appArmorProfile: { type: 'RuntimeDefault' } }, containers: [c('a')] });
    expect(new AppArmorAdmitHandler(false).admit({ ...confined, status: { phase: 'Running' } })).toEqual({ admit: true });
    expect(new AppArmorAdmitHandler(false).admit({ ...confined, status: { phase: 'Pending' } }).admit).toBe(false);
  });

  it('refuses an empty Localhost name from an annotation where AppArmor is on', () => {
    const p = pod({ containers: [c('a')] }, { [`${A}a`]: 'localhost/' });
    expect(validateAppArmor(p, true)).toBe('invalid empty AppArmor profile name: &{"Localhost" %!q(*string="")}');
    expect(new AppArmorAdmitHandler(true).admit(p)).toMatchObject({ admit: false, reason: 'AppArmor' });
  });
});

describe('AppArmor as Docker options', () => {
  const opts = (spec: Record<string, unknown>, annotations?: Record<string, string>) => {
    const p = makePod(spec, annotations ? { annotations } : {});
    // seccompDefault, so that the seccomp option (Unconfined without it) leaves AppArmor's alone.
    return dockerSecurity(p.spec.containers[0]!, p, undefined, true).hostConfig.SecurityOpt;
  };

  it('Unconfined → apparmor=unconfined, Localhost → apparmor=<name>, RuntimeDefault or none → Docker’s default (no option)', () => {
    expect(opts({ securityContext: { appArmorProfile: { type: 'Unconfined' } }, containers: [c('a')] })).toEqual(['apparmor=unconfined']);
    expect(opts({ containers: [c('a', { securityContext: { appArmorProfile: { type: 'Localhost', localhostProfile: 'k8s-deny-write' } } })] })).toEqual(['apparmor=k8s-deny-write']);
    expect(opts({ securityContext: { appArmorProfile: { type: 'RuntimeDefault' } }, containers: [c('a')] })).toBeUndefined();
    expect(opts({ containers: [c('a')] })).toBeUndefined();
  });

  it('lets the container’s field win over the pod’s, and reads the annotation before the pod’s field', () => {
    expect(
      opts({ securityContext: { appArmorProfile: { type: 'Localhost', localhostProfile: 'pod' } }, containers: [c('a', { securityContext: { appArmorProfile: { type: 'Unconfined' } } })] }),
    ).toEqual(['apparmor=unconfined']);
    expect(opts({ securityContext: { appArmorProfile: { type: 'RuntimeDefault' } }, containers: [c('a')] }, { [`${A}a`]: 'localhost/legacy' })).toEqual(['apparmor=legacy']);
    const p = makePod({ containers: [c('a', { securityContext: { allowPrivilegeEscalation: false, appArmorProfile: { type: 'Unconfined' } } })] });
    expect(appArmorSecurityOpt(p, p.spec.containers[0]!)).toBe('apparmor=unconfined');
    expect(dockerSecurity(p.spec.containers[0]!, p).hostConfig.SecurityOpt).toEqual(['no-new-privileges', 'seccomp=unconfined', 'apparmor=unconfined']);
  });
});
