import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, execIn, idOf, podYaml, statusOf, type PodWithStatus } from './harness.js';

/** Security-context fields on the real Docker: runAsNonRoot, groups, no-new-privileges, seccomp, sysctls. */


const running = (p: PodWithStatus, name: string): boolean => statusOf(p, name)?.state?.running !== undefined;

describe('security context on Docker', () => {
  // net.core.somaxconn is namespaced but not safe: only this flag lets pods set it.
  const agent = new AgentProcess({ args: ['--allowed-unsafe-sysctls', 'net.core.somaxconn'] });
  beforeAll(async () => {
    // A Localhost seccomp profile under <root-dir>/seccomp that refuses mkdir, which Docker's default allows.
    mkdirSync(join(agent.rootDir, 'seccomp'), { recursive: true });
    writeFileSync(
      join(agent.rootDir, 'seccomp', 'no-mkdir.json'),
      JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] }, null, 2),
    );
    await agent.start();
  });
  afterAll(async () => {
    await agent.cleanup();
  });

  it('refuses runAsNonRoot with an image that runs as root, and runs it with runAsUser: 1000', async () => {
    agent.writeManifest(
      'nonroot.yaml',
      podYaml(
        'nonroot',
        `spec:
  terminationGracePeriodSeconds: 0
  securityContext: {runAsNonRoot: true}
  containers:
  - {name: refused, image: skiff/busybox:1.0, command: [sleep, '3600']}
  - {name: accepted, image: skiff/busybox:1.0, command: [sleep, '3600'], securityContext: {runAsUser: 1000}}
`,
      ),
    );
    const pod = await agent.waitPod('nonroot', (p) => running(p, 'accepted') && statusOf(p, 'refused')?.state?.waiting?.reason === 'CreateContainerConfigError', 'refused waiting, accepted running');
    const ref = `${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`;
    expect(statusOf(pod, 'refused')?.state?.waiting?.message).toBe(`container has runAsNonRoot and image will run as root (pod: "${ref}", container: refused)`);
    expect(statusOf(pod, 'refused')?.containerID).toBeUndefined();
    expect((await agent.containers()).filter((c) => c.Labels['io.kubernetes.container.name'] === 'refused')).toEqual([]);
    expect((await execIn(agent.docker, idOf(pod, 'accepted'), ['id', '-u'])).out.trim()).toBe('1000');
    // Still refused at later syncs.
    await new Promise((r) => setTimeout(r, 3000));
    expect(statusOf((await agent.pod('nonroot'))!, 'refused')?.state?.waiting?.reason).toBe('CreateContainerConfigError');
  });

  it('runs a container given runAsGroup alone as the image user with that group', async () => {
    agent.writeManifest(
      'grouponly.yaml',
      podYaml('grouponly', `spec:\n  terminationGracePeriodSeconds: 0\n  containers:\n  - {name: main, image: skiff/busybox:1.0, command: [sleep, '3600'], securityContext: {runAsGroup: 5000}}\n`),
    );
    const pod = await agent.waitPod('grouponly', (p) => running(p, 'main'), 'grouponly running');
    const ids = await execIn(agent.docker, idOf(pod, 'main'), ['sh', '-c', 'echo $(id -u) $(id -g)']);
    expect(ids.out.trim()).toBe('0 5000');
    // No seccompProfile anywhere: Unconfined (seccomp mode 0), as upstream's kubelet without seccompDefault.
    expect((await execIn(agent.docker, idOf(pod, 'main'), ['grep', '^Seccomp:', '/proc/self/status'])).out).toMatch(/^Seccomp:\s+0$/m);
    agent.removeManifest('grouponly.yaml');
  });

  it('applies fsGroup and supplementalGroups, no-new-privileges, seccomp profiles and sysctls', async () => {
    agent.writeManifest(
      'secctx.yaml',
      podYaml(
        'secctx',
        `spec:
  terminationGracePeriodSeconds: 0
  securityContext:
    runAsUser: 1000
    fsGroup: 2000
    supplementalGroups: [3000, 4000]
    seccompProfile: {type: Unconfined}
    sysctls:
    - {name: net.ipv4.ip_local_port_range, value: '20000 30000'}
    - {name: kernel.shm_rmid_forced, value: '1'}
  volumes:
  - {name: data, emptyDir: {}}
  - {name: info, downwardAPI: {defaultMode: 256, items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}}
  containers:
  - name: main
    image: skiff/busybox:1.0
    command: [sleep, '3600']
    securityContext: {allowPrivilegeEscalation: false}
    volumeMounts: [{name: data, mountPath: /data}, {name: info, mountPath: /info}]
  - {name: default-seccomp, image: skiff/busybox:1.0, command: [sleep, '3600'], securityContext: {seccompProfile: {type: RuntimeDefault}}}
  - {name: local-seccomp, image: skiff/busybox:1.0, command: [sleep, '3600'], securityContext: {seccompProfile: {type: Localhost, localhostProfile: no-mkdir.json}}}
  - {name: missing-seccomp, image: skiff/busybox:1.0, command: [sleep, '3600'], securityContext: {seccompProfile: {type: Localhost, localhostProfile: missing.json}}}
`,
      ),
    );
    const pod = await agent.waitPod(
      'secctx',
      (p) => ['main', 'default-seccomp', 'local-seccomp'].every((n) => running(p, n)) && statusOf(p, 'missing-seccomp')?.state?.waiting?.reason === 'CreateContainerError',
      'three running, missing-seccomp waiting',
    );
    const main = idOf(pod, 'main');
    const sh = async (id: string, script: string) => execIn(agent.docker, id, ['sh', '-c', script]);

    // fsGroup and the supplemental groups are the process's supplementary groups.
    expect((await sh(main, 'id -G')).out.trim().split(/\s+/)).toEqual(expect.arrayContaining(['2000', '3000', '4000']));
    // The emptyDir belongs to fsGroup with setgid: what the container writes there does too.
    expect((await sh(main, 'touch /data/f && stat -c "%g %A" /data && stat -c %g /data/f')).out.trim().split('\n')).toEqual(['2000 drwxrwsrwx', '2000']);
    // A read-only volume's files of mode 0400 belong to the fsGroup and are group-readable, so user 1000 reads them.
    expect((await sh(main, 'stat -L -c "%g %a" /info/labels && cat /info/labels >/dev/null && echo read')).out.trim().split('\n')).toEqual(['2000 440', 'read']);
    // allowPrivilegeEscalation: false → no_new_privs; the other containers keep the default.
    expect((await sh(main, 'grep NoNewPrivs /proc/self/status')).out).toMatch(/^NoNewPrivs:\s+1$/m);
    expect((await sh(idOf(pod, 'default-seccomp'), 'grep NoNewPrivs /proc/self/status')).out).toMatch(/^NoNewPrivs:\s+0$/m);
    // seccomp: the pod's Unconfined (mode 0), the container's RuntimeDefault (Docker's filter, mode 2), Localhost.
    expect((await sh(main, 'grep "^Seccomp:" /proc/self/status')).out).toMatch(/^Seccomp:\s+0$/m);
    expect((await sh(idOf(pod, 'default-seccomp'), 'grep "^Seccomp:" /proc/self/status')).out).toMatch(/^Seccomp:\s+2$/m);
    expect((await sh(idOf(pod, 'default-seccomp'), 'mkdir /tmp/d')).code).toBe(0);
    const local = await sh(idOf(pod, 'local-seccomp'), 'mkdir /tmp/d');
    expect(local.code).not.toBe(0);
    expect(local.out).toMatch(/Operation not permitted/);
    expect(statusOf(pod, 'missing-seccomp')?.state?.waiting?.message).toContain(`cannot load seccomp profile "${join(agent.rootDir, 'seccomp', 'missing.json')}"`);
    // The sysctls, set on the sandbox, are seen in the containers sharing its namespaces.
    expect((await sh(main, 'cat /proc/sys/net/ipv4/ip_local_port_range')).out.trim().split(/\s+/)).toEqual(['20000', '30000']);
    expect((await sh(main, 'cat /proc/sys/kernel/shm_rmid_forced')).out.trim()).toBe('1');

    const info = await agent.docker.getContainer(main).inspect();
    expect(info.HostConfig.GroupAdd).toEqual(['2000', '3000', '4000']);
    expect(info.HostConfig.SecurityOpt).toEqual(['no-new-privileges', 'seccomp=unconfined']);
  });

  it('rejects a pod asking for a sysctl the node does not allow (SysctlForbidden, nothing started), runs an allowed unsafe one', async () => {
    agent.writeManifest(
      'forbidden-sysctl.yaml',
      podYaml(
        'forbidden-sysctl',
        `spec:
  terminationGracePeriodSeconds: 0
  securityContext:
    sysctls:
    - {name: kernel.shm_rmid_forced, value: '1'}
    - {name: kernel.msgmax, value: '65536'}
  containers:
  - {name: main, image: skiff/busybox:1.0, command: [sleep, '3600']}
`,
      ),
    );
    agent.writeManifest(
      'unsafe-sysctl.yaml',
      podYaml(
        'unsafe-sysctl',
        `spec:
  terminationGracePeriodSeconds: 0
  securityContext:
    sysctls:
    - {name: net.core.somaxconn, value: '1024'}
  containers:
  - {name: main, image: skiff/busybox:1.0, command: [sleep, '3600']}
`,
      ),
    );
    const rejected = await agent.waitPod('forbidden-sysctl', (p) => p.status.phase === 'Failed', 'Failed');
    expect(rejected.status).toMatchObject({
      phase: 'Failed',
      reason: 'SysctlForbidden',
      message: 'Pod was rejected: forbidden sysctl: "kernel.msgmax" not allowlisted',
      qosClass: 'BestEffort',
    });
    const allowed = await agent.waitPod('unsafe-sysctl', (p) => running(p, 'main'), 'main running');
    expect((await execIn(agent.docker, idOf(allowed, 'main'), ['cat', '/proc/sys/net/core/somaxconn'])).out.trim()).toBe('1024');
    // Nothing of the rejected pod was created, not even its sandbox, and it stays so.
    await new Promise((r) => setTimeout(r, 2000));
    expect((await agent.containers()).filter((c) => c.Labels['io.kubernetes.pod.uid'] === rejected.metadata.uid)).toEqual([]);
    expect((await agent.pod('forbidden-sysctl'))?.status.reason).toBe('SysctlForbidden');
  });

  // This machine's kernel has no AppArmor (the agent reads /sys/module/apparmor/parameters/enabled, as the kubelet).
  it('on a host without AppArmor: rejects a RuntimeDefault profile (reason AppArmor, nothing started), runs Unconfined', async () => {
    agent.writeManifest(
      'apparmor-default.yaml',
      podYaml('apparmor-default', `spec:\n  terminationGracePeriodSeconds: 0\n  securityContext: {appArmorProfile: {type: RuntimeDefault}}\n  containers:\n  - {name: main, image: skiff/busybox:1.0, command: [sleep, '3600']}\n`),
    );
    agent.writeManifest(
      'apparmor-unconfined.yaml',
      podYaml(
        'apparmor-unconfined',
        `spec:\n  terminationGracePeriodSeconds: 0\n  containers:\n  - {name: main, image: skiff/busybox:1.0, command: [sleep, '3600'], securityContext: {appArmorProfile: {type: Unconfined}}}\n`,
      ),
    );
    const rejected = await agent.waitPod('apparmor-default', (p) => p.status.phase === 'Failed', 'Failed');
    expect(rejected.status).toMatchObject({
      phase: 'Failed',
      reason: 'AppArmor',
      message: 'Pod was rejected: Cannot enforce AppArmor: AppArmor is not enabled on the host',
    });
    const unconfined = await agent.waitPod('apparmor-unconfined', (p) => running(p, 'main'), 'main running');
    const info = await agent.docker.getContainer(idOf(unconfined, 'main')).inspect();
    expect(info.HostConfig.SecurityOpt).toEqual(['seccomp=unconfined', 'apparmor=unconfined']);
    await new Promise((r) => setTimeout(r, 2000));
    expect((await agent.containers()).filter((c) => c.Labels['io.kubernetes.pod.uid'] === rejected.metadata.uid)).toEqual([]);
    expect((await agent.pod('apparmor-default'))?.status.reason).toBe('AppArmor');
  });
});

describe('--seccomp-default on Docker', () => {
  const agent = new AgentProcess({ args: ['--seccomp-default'] });
  beforeAll(async () => {
    await agent.start();
  });
  afterAll(async () => {
    await agent.cleanup();
  });

  it('runs a container without a seccompProfile under the runtime default (mode 2), one with Unconfined without', async () => {
    agent.writeManifest(
      'seccomp-default.yaml',
      podYaml(
        'seccomp-default',
        `spec:
  terminationGracePeriodSeconds: 0
  containers:
  - {name: unset, image: skiff/busybox:1.0, command: [sleep, '3600']}
  - {name: open, image: skiff/busybox:1.0, command: [sleep, '3600'], securityContext: {seccompProfile: {type: Unconfined}}}
`,
      ),
    );
    const pod = await agent.waitPod('seccomp-default', (p) => running(p, 'unset') && running(p, 'open'), 'both running');
    const mode = async (name: string) => (await execIn(agent.docker, idOf(pod, name), ['grep', '^Seccomp:', '/proc/self/status'])).out;
    expect(await mode('unset')).toMatch(/^Seccomp:\s+2$/m);
    expect(await mode('open')).toMatch(/^Seccomp:\s+0$/m);
  });
});
