// The kubelet's sysctl admission: safe sysctls per kernel, --allowed-unsafe-sysctls patterns, and a rejected pod that
// is Failed with SysctlForbidden and never started.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent, type ClusterHooks } from '../../../agent/agent.js';
import { AgentConfigSchema, ConfigError, loadAgentConfig } from '../../../agent/options.js';
import { nodeSysctlAllowlist, safeSysctlAllowlist, SAFE_SYSCTLS, sysctlPatternError, SysctlAllowlist } from '../../../agent/sysctl-allowlist.js';
import { parsePod, type Pod, type PodStatus } from '../../../control/api/index.js';
import { silentLogger } from '../../../lib/log.js';
import { FakeRuntime } from './fake-runtime.js';

const V132 = [
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
];

function pod(sysctls: string[], spec: Record<string, unknown> = {}, name = 'web'): Pod {
  const r = parsePod({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `uid-${name}` },
    spec: { containers: [{ name: 'app', image: 'busybox:1.36' }], securityContext: { sysctls: sysctls.map((n) => ({ name: n, value: '1' })) }, ...spec },
  });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.pod;
}

describe('safe sysctls', () => {
  it('are upstream 1.32’s on a current kernel', () => {
    expect(safeSysctlAllowlist('6.1.0-18-amd64')).toEqual(V132);
    expect(SAFE_SYSCTLS.map((s) => s.name)).toEqual(V132);
  });

  it('leave out those the kernel does not namespace yet, or all with a requirement when the release is unreadable', () => {
    expect(safeSysctlAllowlist('4.5.0')).toEqual(V132.filter((n) => !['net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem'].includes(n)));
    expect(safeSysctlAllowlist('4.14.300')).not.toContain('net.ipv4.tcp_rmem');
    expect(safeSysctlAllowlist('4.15')).toContain('net.ipv4.tcp_rmem');
    expect(safeSysctlAllowlist('3.10.0-1160.el7.x86_64')).toEqual(V132.slice(0, 5));
    expect(safeSysctlAllowlist('3.16.0')).toEqual(V132.slice(0, 6));
    expect(safeSysctlAllowlist('weird')).toEqual(V132.slice(0, 5));
  });
});

describe('allowlist patterns', () => {
  it('refuses a pattern that is not a sysctl name or prefix, or not namespaced, with upstream’s messages', () => {
    expect(sysctlPatternError('kernel.msg*')).toBeUndefined();
    expect(sysctlPatternError('net.core.somaxconn')).toBeUndefined();
    expect(sysctlPatternError('net/core/somaxconn')).toBeUndefined();
    expect(sysctlPatternError('fs.mqueue.*')).toBeUndefined();
    expect(sysctlPatternError('net.*.x')).toBe(
      String.raw`sysctl "net.*.x" must have at most 253 characters and match regex ([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*([a-z0-9][-_a-z0-9]*)?[a-z0-9*]`,
    );
    expect(sysctlPatternError('kernel.panic')).toBe('the sysctls "kernel.panic" are not known to be namespaced');
    expect(sysctlPatternError('vm.*')).toBe('the sysctls "vm." are not known to be namespaced');
    expect(sysctlPatternError('*')).toBe('the sysctls "" are not known to be namespaced');
    expect(() => new SysctlAllowlist(['kernel.panic'])).toThrow('the sysctls "kernel.panic" are not known to be namespaced');
  });

  it('--allowed-unsafe-sysctls is comma-separated, checked, and also read from allowedUnsafeSysctls', async () => {
    expect((await loadAgentConfig(['--allowed-unsafe-sysctls', 'kernel.msg*, net.core.somaxconn'])).config.allowedUnsafeSysctls).toEqual(['kernel.msg*', 'net.core.somaxconn']);
    expect(AgentConfigSchema.parse({}).allowedUnsafeSysctls).toEqual([]);
    expect(AgentConfigSchema.parse({ allowedUnsafeSysctls: ['fs.mqueue.*'] }).allowedUnsafeSysctls).toEqual(['fs.mqueue.*']);
    const err = await loadAgentConfig(['--allowed-unsafe-sysctls', 'net.core.somaxconn,vm.swappiness']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe('--allowed-unsafe-sysctls: the sysctls "vm.swappiness" are not known to be namespaced');
  });
});

describe('sysctl admission', () => {
  const safe = nodeSysctlAllowlist([], '6.1.0');

  it('admits pods without sysctls and pods with only safe ones', () => {
    expect(safe.admit(pod([]))).toEqual({ admit: true });
    expect(safe.admit(pod(['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net/ipv4/tcp_keepalive_time']))).toEqual({ admit: true });
  });

  it('rejects an unsafe sysctl not allowed on the node, naming the first one', () => {
    expect(safe.admit(pod(['kernel.shm_rmid_forced', 'net.core.somaxconn', 'kernel.msgmax']))).toEqual({
      admit: false,
      reason: 'SysctlForbidden',
      message: 'forbidden sysctl: "net.core.somaxconn" not allowlisted',
    });
    // Slash-separated names are judged (and named) in their dotted form.
    expect(safe.admit(pod(['net/core/somaxconn']))).toMatchObject({ message: 'forbidden sysctl: "net.core.somaxconn" not allowlisted' });
    // A safe sysctl the kernel does not namespace is as unsafe as any.
    expect(nodeSysctlAllowlist([], '4.4.0').admit(pod(['net.ipv4.tcp_keepalive_time']))).toMatchObject({ admit: false, message: 'forbidden sysctl: "net.ipv4.tcp_keepalive_time" not allowlisted' });
  });

  it('admits unsafe sysctls the node allows, by name or prefix', () => {
    const w = nodeSysctlAllowlist(['kernel.msg*', 'net.core.somaxconn'], '6.1.0');
    expect(w.admit(pod(['kernel.msgmax', 'kernel.msgmnb', 'net.core.somaxconn', 'net.ipv4.ip_local_port_range']))).toEqual({ admit: true });
    expect(w.admit(pod(['net.core.rmem_max']))).toMatchObject({ admit: false, message: 'forbidden sysctl: "net.core.rmem_max" not allowlisted' });
    expect(nodeSysctlAllowlist(['net.*'], '6.1.0').admit(pod(['net.core.rmem_max']))).toEqual({ admit: true });
  });

  it('rejects a namespaced sysctl on a pod sharing that namespace with the host', () => {
    // The API server refuses these on create; a pod may still arrive with them (stored before that rule existed).
    const w = nodeSysctlAllowlist(['kernel.msg*'], '6.1.0');
    const p = pod(['net.ipv4.ip_local_port_range']);
    p.spec.hostNetwork = true;
    expect(w.admit(p)).toEqual({ admit: false, reason: 'SysctlForbidden', message: 'forbidden sysctl: "net.ipv4.ip_local_port_range" not allowed with host Net enabled' });
    const q = pod(['kernel.msgmax']);
    q.spec.hostIPC = true;
    expect(w.admit(q)).toMatchObject({ message: 'forbidden sysctl: "kernel.msgmax" not allowed with host IPC enabled' });
    const r = pod(['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range']);
    r.spec.hostNetwork = true;
    r.spec.hostIPC = false;
    expect(w.admit(r)).toMatchObject({ message: 'forbidden sysctl: "net.ipv4.ip_local_port_range" not allowed with host Net enabled' });
    // A host namespace the sysctl is not in does not matter.
    const s = pod(['kernel.shm_rmid_forced']);
    s.spec.hostNetwork = true;
    expect(w.admit(s)).toEqual({ admit: true });
  });
});

describe('the agent rejects a pod its sysctls forbid', () => {
  let root: string;
  let agent: Agent | undefined;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'skiff-sysctl-'));
  });
  afterEach(async () => {
    await agent?.stop();
    agent = undefined;
    await rm(root, { recursive: true, force: true });
  });

  async function until<T>(check: () => T | undefined | false, what: string): Promise<T> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const v = check();
      if (v !== undefined && v !== false) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('Failed with SysctlForbidden and upstream’s message, an event, nothing started; other pods run; the status is reported', async () => {
    const runtime = new FakeRuntime();
    const reported: Array<{ name: string; status: PodStatus }> = [];
    const apiPods: Pod[] = [];
    const cluster: ClusterHooks = {
      reportStatus: async (p, status) => {
        reported.push({ name: p.metadata.name, status });
        return true;
      },
      confirmDeletion: async () => undefined,
    };
    const config = AgentConfigSchema.parse({ rootDir: root, readOnlyPort: 0, nodeIP: '192.168.1.10', syncFrequency: '1h', allowedUnsafeSysctls: ['kernel.msg*'] });
    agent = new Agent(config, {
      runtime,
      logger: silentLogger(),
      nodeName: 'node1',
      relistPeriodMs: 30,
      kernelRelease: '6.1.0',
      cluster,
      extraSources: (onUpdate) => [
        {
          name: 'api',
          start: async () => onUpdate({ source: 'api', pods: apiPods, errors: [] }),
          stop: async () => undefined,
          hasSynced: () => true,
        },
      ],
    });
    apiPods.push(pod(['net.core.somaxconn'], { resources: {} }, 'bad'), pod(['kernel.msgmax', 'net.ipv4.tcp_rmem'], {}, 'good'));
    await agent.start();
    const bad = await until(() => agent?.findPod('default', 'bad')?.status?.phase === 'Failed' && agent.findPod('default', 'bad'), 'bad to be rejected');
    expect(bad.status).toEqual({
      phase: 'Failed',
      reason: 'SysctlForbidden',
      message: 'Pod was rejected: forbidden sysctl: "net.core.somaxconn" not allowlisted',
      qosClass: 'BestEffort',
      startTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    });
    await until(() => agent?.findPod('default', 'good')?.status?.phase === 'Running', 'good to run');
    // Nothing of the rejected pod was created, not even its sandbox.
    expect(runtime.calls.filter((c) => c.includes('uid-bad') && !c.startsWith('listPodContainers'))).toEqual([]);
    expect(runtime.latest('uid-bad', 'POD')).toBeUndefined();
    expect(runtime.latest('uid-good', 'app')?.state).toBe('running');
    expect(agent.events.list({ uid: 'uid-bad' }).map((e) => [e.type, e.reason, e.message])).toEqual([
      ['Warning', 'SysctlForbidden', 'forbidden sysctl: "net.core.somaxconn" not allowlisted'],
    ]);
    await until(() => reported.some((r) => r.name === 'bad' && r.status.reason === 'SysctlForbidden'), 'the rejection to be reported');
  });
});
