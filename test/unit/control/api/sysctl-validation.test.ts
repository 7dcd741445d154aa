// spec.securityContext.sysctls as upstream's API server validates them: name syntax (dots or slashes), required and
// duplicate names, and namespaced sysctls on pods sharing that namespace with the host.
import { describe, expect, it } from 'vitest';
import { cronJobKind, daemonSetKind, deploymentKind, jobKind, parseDeployment, parseJob, parseKind, ReplicationController, replicaSetKind, validateReplicationControllerUpdate, type FieldError } from '../../../../control/api/index.js';
import { validatePodUpdate } from '../../../../control/api/pod-update-validation.js';
import { isValidSysctlName, isValidSysctlPattern, normalizeSysctlName, sysctlNamespace } from '../../../../control/api/sysctl-validation.js';
import { deployment, lines, must, workload, type Obj } from './apps/helpers.js';
import { errorsOf, mustParse, podWith } from './helpers.js';

const REGEX = String.raw`^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$`;
const P = 'spec.securityContext.sysctls';

const withSysctls =
  (sysctls: Array<{ name?: string; value?: string }>, spec: Record<string, unknown> = {}) =>
  (p: { [k: string]: any }) => {
    p.spec.securityContext = { sysctls };
    Object.assign(p.spec, spec);
  };

describe('sysctl names', () => {
  it.each([
    ['kernel.shm_rmid_forced', true],
    ['net.ipv4.ip_local_port_range', true],
    ['net/ipv4/ip_local_port_range', true],
    ['net.ipv4.conf.eno2/100.rp_filter', true],
    ['net/ipv4/conf/eno2.100/rp_filter', true],
    ['a', true],
    ['net.ipv4.', false],
    ['.net', false],
    ['net..ipv4', false],
    ['Net.ipv4', false],
    ['net.ipv4_', false],
    ['net.ipv4.*', false],
    ['net ipv4', false],
    [`a.${'b'.repeat(251)}`, true],
    [`a.${'b'.repeat(252)}`, false],
  ])('%s valid: %s', (name, ok) => {
    expect(isValidSysctlName(name)).toBe(ok);
  });

  it('patterns may end in a star, names may not', () => {
    expect(isValidSysctlPattern('kernel.msg*')).toBe(true);
    expect(isValidSysctlPattern('net.*')).toBe(true);
    expect(isValidSysctlPattern('net/ipv4/*')).toBe(true);
    expect(isValidSysctlPattern('net.*.foo')).toBe(false);
    expect(isValidSysctlPattern('*')).toBe(true);
    expect(isValidSysctlName('net.*')).toBe(false);
  });

  it('normalizes slash-separated names to dots, swapping the separators', () => {
    expect(normalizeSysctlName('net/ipv4/conf/eno2.100/rp_filter')).toBe('net.ipv4.conf.eno2/100.rp_filter');
    expect(normalizeSysctlName('net.ipv4.conf.eno2/100.rp_filter')).toBe('net.ipv4.conf.eno2/100.rp_filter');
    expect(normalizeSysctlName('kernel')).toBe('kernel');
  });

  it('knows which namespace a sysctl or pattern is in', () => {
    expect(sysctlNamespace('net.core.somaxconn')).toEqual({ namespace: 'Net', nameOrPrefix: 'net.core.somaxconn', prefixed: false });
    expect(sysctlNamespace('net/core/somaxconn').namespace).toBe('Net');
    expect(sysctlNamespace('kernel.shm_rmid_forced').namespace).toBe('IPC');
    expect(sysctlNamespace('kernel.sem').namespace).toBe('IPC');
    expect(sysctlNamespace('kernel.msgmax').namespace).toBe('IPC');
    expect(sysctlNamespace('fs.mqueue.msg_max').namespace).toBe('IPC');
    expect(sysctlNamespace('kernel.msg*')).toEqual({ namespace: 'IPC', nameOrPrefix: 'kernel.msg', prefixed: true });
    expect(sysctlNamespace('net.*')).toEqual({ namespace: 'Net', nameOrPrefix: 'net.', prefixed: true });
    expect(sysctlNamespace('kernel.panic').namespace).toBe('');
    expect(sysctlNamespace('vm.swappiness').namespace).toBe('');
    expect(sysctlNamespace('net').namespace).toBe('');
    expect(sysctlNamespace('fs.mqueue').namespace).toBe('');
  });
});

describe('pod sysctls validation', () => {
  it('accepts valid sysctls, in either separator form', () => {
    expect(errorsOf(podWith(withSysctls([{ name: 'net.ipv4.ip_local_port_range', value: '1024 65535' }, { name: 'kernel/shm_rmid_forced', value: '1' }])))).toEqual([]);
  });

  it.each<[string, Array<{ name?: string; value?: string }>, Record<string, unknown>, string[]]>([
    ['an empty name', [{ name: '', value: '1' }], {}, [`${P}[0].name: Required value`]],
    ['a missing name', [{ value: '1' }], {}, [`${P}[0].name: Required value`]],
    ['a bad name', [{ name: 'net.ipv4..x', value: '1' }], {}, [`${P}[0].name: Invalid value: "net.ipv4..x": must have at most 253 characters and match regex ${REGEX}`]],
    ['an upper-case name', [{ name: 'Net.core.somaxconn', value: '1' }], {}, [`${P}[0].name: Invalid value: "Net.core.somaxconn": must have at most 253 characters and match regex ${REGEX}`]],
    ['a name too long', [{ name: `a.${'b'.repeat(252)}` }], {}, [`${P}[0].name: Invalid value: "a.${'b'.repeat(252)}": must have at most 253 characters and match regex ${REGEX}`]],
    [
      'a repeated name',
      [{ name: 'kernel.shm_rmid_forced', value: '1' }, { name: 'net.ipv4.tcp_syncookies', value: '1' }, { name: 'kernel.shm_rmid_forced', value: '0' }],
      {},
      [`${P}[2].name: Duplicate value: "kernel.shm_rmid_forced"`],
    ],
    [
      'a net sysctl with hostNetwork',
      [{ name: 'net.ipv4.ip_local_port_range', value: '1024 65535' }, { name: 'kernel.shm_rmid_forced', value: '1' }],
      { hostNetwork: true },
      [`${P}[0].name: Invalid value: "net.ipv4.ip_local_port_range": may not be specified when 'hostNetwork' is true`],
    ],
    ['a slash-separated net sysctl with hostNetwork', [{ name: 'net/core/somaxconn', value: '1' }], { hostNetwork: true }, [`${P}[0].name: Invalid value: "net/core/somaxconn": may not be specified when 'hostNetwork' is true`]],
    [
      'IPC sysctls with hostIPC',
      [{ name: 'kernel.shm_rmid_forced', value: '1' }, { name: 'kernel.msgmax', value: '1' }, { name: 'kernel.sem', value: '1' }, { name: 'fs.mqueue.msg_max', value: '1' }, { name: 'net.core.somaxconn', value: '1' }],
      { hostIPC: true },
      [
        `${P}[0].name: Invalid value: "kernel.shm_rmid_forced": may not be specified when 'hostIPC' is true`,
        `${P}[1].name: Invalid value: "kernel.msgmax": may not be specified when 'hostIPC' is true`,
        `${P}[2].name: Invalid value: "kernel.sem": may not be specified when 'hostIPC' is true`,
        `${P}[3].name: Invalid value: "fs.mqueue.msg_max": may not be specified when 'hostIPC' is true`,
      ],
    ],
    [
      'a repeated net sysctl with hostNetwork: both errors',
      [{ name: 'net.core.somaxconn', value: '1' }, { name: 'net.core.somaxconn', value: '2' }],
      { hostNetwork: true },
      [
        `${P}[0].name: Invalid value: "net.core.somaxconn": may not be specified when 'hostNetwork' is true`,
        `${P}[1].name: Duplicate value: "net.core.somaxconn"`,
        `${P}[1].name: Invalid value: "net.core.somaxconn": may not be specified when 'hostNetwork' is true`,
      ],
    ],
  ])('refuses %s', (_what, sysctls, spec, want) => {
    expect(errorsOf(podWith(withSysctls(sysctls, spec)))).toEqual(want);
  });

  it('lets a non-namespaced sysctl through (the agent decides on those) and a net sysctl with hostIPC', () => {
    expect(errorsOf(podWith(withSysctls([{ name: 'kernel.panic', value: '1' }], { hostNetwork: true, hostIPC: true })))).toEqual([]);
    expect(errorsOf(podWith(withSysctls([{ name: 'net.core.somaxconn', value: '1' }], { hostIPC: true })))).toEqual([]);
  });

  it('validates pod templates through the same rules', () => {
    const d = deployment((x) => {
      x.spec.template.spec.hostNetwork = true;
      x.spec.template.spec.securityContext = { sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }, { name: '' }] };
    });
    expect(lines(parseDeployment(d))).toEqual([
      `spec.template.spec.securityContext.sysctls[0].name: Invalid value: "net.ipv4.ip_unprivileged_port_start": may not be specified when 'hostNetwork' is true`,
      'spec.template.spec.securityContext.sysctls[1].name: Required value',
    ]);
  });

  it('keeps a pod that already had a host-namespaced sysctl updatable, as upstream does', () => {
    const old = mustParse(podWith((p) => (p.metadata.namespace = 'default')));
    // A pod stored before this rule existed.
    old.spec.hostNetwork = true;
    old.spec.securityContext = { sysctls: [{ name: 'net.core.somaxconn', value: '1' }] };
    const next = structuredClone(old);
    next.spec.containers[0]!.image = 'nginx:1.27';
    expect(validatePodUpdate(next, old)).toEqual([]);
    // Without such a sysctl before, the rule applies to the update too.
    const plain = structuredClone(old);
    plain.spec.securityContext = {};
    expect(validatePodUpdate(next, plain).map((e) => e.detail)).toContain("may not be specified when 'hostNetwork' is true");
  });
});

const mustRc = (o: Obj): Obj => ReplicationController.parse(o) as Obj;

describe('workload template updates with host-namespaced sysctls', () => {
  const NET = [{ name: 'net.core.somaxconn', value: '1' }];
  const DETAIL = "may not be specified when 'hostNetwork' is true";
  // Each kind's valid object, its pod template, and its update validation.
  type Case = [string, Obj, (o: Obj) => Obj, (next: Obj, old: Obj) => FieldError[]];
  const cases: Case[] = [
    ['Deployment', must(parseKind(deploymentKind, deployment())) as Obj, (o) => o.spec.template, (n, o) => deploymentKind.validateUpdate!(n as never, o as never)],
    ['ReplicaSet', must(parseKind(replicaSetKind, workload('ReplicaSet'))) as Obj, (o) => o.spec.template, (n, o) => replicaSetKind.validateUpdate!(n as never, o as never)],
    ['DaemonSet', must(parseKind(daemonSetKind, workload('DaemonSet'))) as Obj, (o) => o.spec.template, (n, o) => daemonSetKind.validateUpdate!(n as never, o as never)],
    [
      'Job',
      must(parseJob({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j', namespace: 'default', uid: '6f0b5d7e-3f43-4c4e-9a8e-0d7f2c1b9a11' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox:1.36' }] } } } })) as Obj,
      (o) => o.spec.template,
      (n, o) => jobKind.validateUpdate!(n as never, o as never),
    ],
    [
      'CronJob',
      must(parseKind(cronJobKind, { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'cj', namespace: 'default' }, spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox:1.36' }] } } } } } })) as Obj,
      (o) => o.spec.jobTemplate.spec.template,
      (n, o) => cronJobKind.validateUpdate!(n as never, o as never),
    ],
    [
      'ReplicationController',
      mustRc({ apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'rc', namespace: 'default' }, spec: { selector: { app: 'web' }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } } } }),
      (o) => o.spec.template,
      (n, o) => validateReplicationControllerUpdate(n as never, o as never),
    ],
  ];

  it.each(cases)('%s: an update may keep one its old template had; otherwise the rule applies', (_kind, valid, template, validateUpdate) => {
    const old = structuredClone(valid);
    template(old).spec.hostNetwork = true;
    template(old).spec.securityContext = { sysctls: NET };
    const next = structuredClone(old);
    template(next).spec.containers[0].image = 'busybox:1.37';
    expect(validateUpdate(next, old).map((e) => e.detail)).not.toContain(DETAIL);
    const before = structuredClone(valid);
    expect(validateUpdate(next, before).map((e) => e.detail)).toContain(DETAIL);
  });
});
