import { describe, expect, it } from 'vitest';
import { dockerSecurity, sandboxSysctls, seccompOptFromFile, seccompProfileRoot, SecurityConfigError, userWithGroup } from '../../../../agent/runtime/container-config.js';
import { c, makePod } from '../kuberuntime/fixtures.js';

/** The security context as Docker options, the way the kubelet with dockershim passed them. */

const ROOT = seccompProfileRoot('/var/lib/skiff');
const security = (spec: Record<string, unknown>) => {
  const pod = makePod(spec);
  return dockerSecurity(pod.spec.containers[0]!, pod, ROOT);
};

describe('dockerSecurity', () => {
  it('runs an empty security context Unconfined, as upstream without seccompDefault, and sets nothing else', () => {
    expect(security({ containers: [c('app')] })).toEqual({ hostConfig: { SecurityOpt: ['seccomp=unconfined'] } });
  });

  it('with seccompDefault, runs a container without a seccompProfile under Docker’s default (RuntimeDefault); a profile given still wins', () => {
    const pod = makePod({ containers: [c('app'), c('open', { securityContext: { seccompProfile: { type: 'Unconfined' } } })] });
    expect(dockerSecurity(pod.spec.containers[0]!, pod, ROOT, true)).toEqual({ hostConfig: {} });
    expect(dockerSecurity(pod.spec.containers[1]!, pod, ROOT, true).hostConfig.SecurityOpt).toEqual(['seccomp=unconfined']);
    const local = makePod({ securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: 'audit.json' } }, containers: [c('app')] });
    expect(dockerSecurity(local.spec.containers[0]!, local, ROOT, true).seccompProfilePath).toBe('/var/lib/skiff/seccomp/audit.json');
  });

  it('runs as runAsUser[:runAsGroup], the container’s winning over the pod’s', () => {
    expect(security({ securityContext: { runAsUser: 1000, runAsGroup: 3000 }, containers: [c('app')] }).user).toBe('1000:3000');
    expect(security({ securityContext: { runAsUser: 1000 }, containers: [c('app', { securityContext: { runAsUser: 2000 } })] }).user).toBe('2000');
  });

  it('leaves a runAsGroup without runAsUser to go with the image user, root when the image names none', () => {
    const s = security({ containers: [c('app', { securityContext: { runAsGroup: 5000 } })] });
    expect(s.user).toBeUndefined();
    expect(s.groupForImageUser).toBe(5000);
    expect(userWithGroup('', 5000)).toBe('0:5000');
    expect(userWithGroup('nobody', 5000)).toBe('nobody:5000');
    expect(userWithGroup('1000:1000', 5000)).toBe('1000:5000');
  });

  it('adds fsGroup, then the supplemental groups, as supplementary groups (GroupAdd)', () => {
    const s = security({ securityContext: { supplementalGroups: [4000, 5000], fsGroup: 2000 }, containers: [c('app')] });
    expect(s.hostConfig.GroupAdd).toEqual(['2000', '4000', '5000']);
    expect(security({ securityContext: { fsGroup: 0 }, containers: [c('app')] }).hostConfig.GroupAdd).toEqual(['0']);
  });

  it('sets no-new-privileges only for an explicit allowPrivilegeEscalation: false', () => {
    expect(security({ containers: [c('app', { securityContext: { allowPrivilegeEscalation: false } })] }).hostConfig.SecurityOpt).toEqual(['no-new-privileges', 'seccomp=unconfined']);
    expect(security({ containers: [c('app', { securityContext: { allowPrivilegeEscalation: true } })] }).hostConfig.SecurityOpt).toEqual(['seccomp=unconfined']);
  });

  it('maps seccompProfile: Unconfined → seccomp=unconfined, RuntimeDefault → Docker’s default, the container’s winning', () => {
    expect(security({ securityContext: { seccompProfile: { type: 'Unconfined' } }, containers: [c('app')] }).hostConfig.SecurityOpt).toEqual(['seccomp=unconfined']);
    expect(security({ securityContext: { seccompProfile: { type: 'RuntimeDefault' } }, containers: [c('app')] }).hostConfig.SecurityOpt).toBeUndefined();
    const s = security({
      securityContext: { seccompProfile: { type: 'Unconfined' } },
      containers: [c('app', { securityContext: { seccompProfile: { type: 'RuntimeDefault' }, allowPrivilegeEscalation: false } })],
    });
    expect(s.hostConfig.SecurityOpt).toEqual(['no-new-privileges']);
  });

  it('resolves a Localhost profile under <root-dir>/seccomp, refusing names that leave it', () => {
    const s = security({ containers: [c('app', { securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: 'profiles/audit.json' } } })] });
    expect(s.seccompProfilePath).toBe('/var/lib/skiff/seccomp/profiles/audit.json');
    expect(s.hostConfig.SecurityOpt).toBeUndefined();
    const pod = makePod({ containers: [c('app')] });
    const escaping = { ...pod.spec.containers[0]!, securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: '../../etc/x.json' } } };
    expect(() => dockerSecurity(escaping, pod, ROOT)).toThrow(SecurityConfigError);
    const unnamed = { ...pod.spec.containers[0]!, securityContext: { seccompProfile: { type: 'Localhost' } } };
    expect(() => dockerSecurity(unnamed, pod, ROOT)).toThrow('localhostProfile must be set if seccompProfile type is Localhost.');
  });

  it('passes a Localhost profile’s JSON compacted, refusing a file that is not JSON', () => {
    expect(seccompOptFromFile('/p.json', '{\n  "defaultAction": "SCMP_ACT_ALLOW"\n}\n')).toBe('seccomp={"defaultAction":"SCMP_ACT_ALLOW"}');
    expect(() => seccompOptFromFile('/p.json', 'nope')).toThrow(/cannot load seccomp profile "\/p.json"/);
  });
});

describe('sandboxSysctls', () => {
  it('gives the pod’s sysctls as Docker’s Sysctls map, none when unset', () => {
    expect(sandboxSysctls(makePod({ containers: [c('app')] }))).toBeUndefined();
    const pod = makePod({ securityContext: { sysctls: [{ name: 'net.ipv4.ip_local_port_range', value: '20000 30000' }, { name: 'kernel.shm_rmid_forced', value: '1' }] }, containers: [c('app')] });
    expect(sandboxSysctls(pod)).toEqual({ 'net.ipv4.ip_local_port_range': '20000 30000', 'kernel.shm_rmid_forced': '1' });
  });
});
