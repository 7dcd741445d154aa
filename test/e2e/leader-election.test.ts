import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, freePort } from '../integration/agent/harness.js';
import { ControlPlane, ROOT, SKIFF } from './control-harness.js';

/** A `skiff control --only scheduler,controller-manager` process against the harness's API server. */
class Standby {
  output = '';
  readonly child: ChildProcess;
  constructor(
    readonly name: string,
    kubeconfig: string,
    readonly metricsPort: number,
  ) {
    const logFile = join(ROOT, '.tmp', 'e2e-logs', `standby-${name}-${metricsPort}.log`);
    mkdirSync(dirname(logFile), { recursive: true });
    this.child = spawn(
      process.execPath,
      [
        SKIFF, 'control', '--only', 'scheduler,controller-manager', '--kubeconfig', kubeconfig,
        '--leader-elect-lease-duration', '4s', '--leader-elect-renew-deadline', '3s', '--leader-elect-retry-period', '500ms',
        '--metrics-bind-address', `127.0.0.1:${metricsPort}`,
      ],
      { env: { ...process.env, SKIFF_LOG_FORMAT: 'json' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const append = (d: Buffer): void => {
      this.output += d.toString();
      appendFileSync(logFile, d);
    };
    this.child.stdout?.on('data', append);
    this.child.stderr?.on('data', append);
  }

  /** How many terms of leadership this process began for a lease. */
  terms(lease: string): number {
    return this.output.split('\n').filter((l) => l.includes('"leading: starting"') && l.includes(`"lease":"${lease}"`)).length;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    if (!this.alive) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.kill(signal);
    await exited;
  }
}

function skiff(args: string[]): { code: number; stderr: string } {
  const r = spawnSync(process.execPath, [SKIFF, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status ?? -1, stderr: r.stderr };
}

describe('scheduler and controller manager with leader election (real processes)', () => {
  const cp = new ControlPlane();
  const standbys: Standby[] = [];

  beforeAll(async () => {
    await cp.start(['--only', 'apiserver']);
    // A node the scheduler can bind to (no agent: its status is written as a kubelet would).
    cp.k(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'sim-1', labels: { 'kubernetes.io/hostname': 'sim-1' } } }) });
    const status = { status: { capacity: { cpu: '4', memory: '8Gi', pods: '110' }, allocatable: { cpu: '4', memory: '8Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'simulated' }] } };
    cp.k(['patch', 'node', 'sim-1', '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]);
    for (const name of ['a', 'b']) standbys.push(new Standby(name, cp.kubeconfig, await freePort()));
  }, 120_000);

  afterAll(async () => {
    for (const s of standbys) await s.kill('SIGKILL');
    await cp.stop();
  });

  const holder = (lease: string): string => cp.k(['get', 'lease', lease, '-n', 'kube-system', '-o', 'jsonpath={.spec.holderIdentity}']);
  const leaderOf = (lease: string): Standby | undefined => standbys.find((s) => s.alive && s.terms(lease) > 0);

  it('refuses --only without an API server and no kubeconfig, and unknown components', () => {
    const noKubeconfig = skiff(['control', '--only', 'scheduler']);
    expect(noKubeconfig.code).toBe(2);
    expect(noKubeconfig.stderr).toMatch(/--kubeconfig is required/);
    const bogus = skiff(['control', '--only', 'apiserver,etcd']);
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toMatch(/unknown component\(s\) "etcd"/);
    const badTiming = skiff(['control', '--leader-elect-lease-duration', '5s', '--leader-elect-renew-deadline', '10s']);
    expect(badTiming.code).toBe(2);
    expect(badTiming.stderr).toMatch(/lease-duration must be greater than --leader-elect-renew-deadline/);
  });

  it('runs exactly one scheduler and one controller manager, and they do their work', async () => {
    for (const lease of ['kube-scheduler', 'kube-controller-manager']) {
      await eventually(() => holder(lease) !== '', `a holder of ${lease}`, 60_000);
      await eventually(() => leaderOf(lease), `a process leading ${lease}`, 30_000);
    }
    cp.k(['create', 'deployment', 'web', '--image=skiff/busybox', '--replicas=2']);
    await eventually(() => {
      const nodes = cp.k(['get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].spec.nodeName}']).trim().split(/\s+/).filter(Boolean);
      return nodes.length === 2 && nodes.every((n) => n === 'sim-1');
    }, 'the deployment\'s two pods bound to sim-1', 60_000);
    // The other process stood by the whole time.
    for (const lease of ['kube-scheduler', 'kube-controller-manager']) {
      expect(standbys.filter((s) => s.terms(lease) > 0)).toHaveLength(1);
    }
    const events = cp.k(['get', 'events', '-n', 'kube-system', '--field-selector', 'reason=LeaderElection', '-o', 'jsonpath={.items[*].message}']);
    expect(events).toMatch(/became leader/);
  });

  it('hands over within the lease duration when the holder is killed, and the new one schedules', async () => {
    const old = leaderOf('kube-scheduler') as Standby;
    const transitions = Number(cp.k(['get', 'lease', 'kube-scheduler', '-n', 'kube-system', '-o', 'jsonpath={.spec.leaseTransitions}']) || '0');
    const oldHolder = holder('kube-scheduler');
    await old.kill('SIGKILL');
    const next = standbys.find((s) => s !== old) as Standby;
    await eventually(() => next.terms('kube-scheduler') > 0, 'the standby to take over the scheduler lease', 30_000);
    expect(holder('kube-scheduler')).not.toBe(oldHolder);
    expect(Number(cp.k(['get', 'lease', 'kube-scheduler', '-n', 'kube-system', '-o', 'jsonpath={.spec.leaseTransitions}']))).toBe(transitions + 1);
    cp.k(['run', 'after-failover', '--image=skiff/busybox', '--restart=Never']);
    await eventually(() => cp.k(['get', 'pod', 'after-failover', '-o', 'jsonpath={.spec.nodeName}']) === 'sim-1', 'the pod created after the failover to be bound', 60_000);
    // The survivor serves its own metrics, scheduler ones included; the controllers' once it leads them too (the
    // killed process may have held that lease as well, taken over on its own schedule).
    await eventually(() => next.terms('kube-controller-manager') > 0, 'the survivor to lead the controller manager', 30_000);
    const metrics = await (await fetch(`http://127.0.0.1:${next.metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/scheduler_schedule_attempts_total\{result="scheduled"/);
    expect(metrics).toMatch(/workqueue_adds_total/);
  });

  it('releases its leases when stopped gracefully', async () => {
    const last = standbys.find((s) => s.alive) as Standby;
    await eventually(() => last.terms('kube-controller-manager') > 0, 'the survivor to lead the controller manager too', 30_000);
    await last.kill('SIGTERM');
    expect(last.child.exitCode).toBe(0);
    expect(holder('kube-scheduler')).toBe('');
    expect(holder('kube-controller-manager')).toBe('');
  });

  it('serves the API server\'s request metrics to an admin', () => {
    const text = cp.k(['get', '--raw', '/metrics']);
    expect(text).toMatch(/apiserver_request_total\{[^}]*verb="LIST"[^}]*resource="pods"[^}]*code="200"\}/);
    expect(text).toMatch(/apiserver_request_duration_seconds_bucket/);
    // The embedded store's, under etcd's names: it leads its group of one and has fsynced its WAL.
    expect(text).toMatch(/^etcd_server_is_leader 1$/m);
    expect(text).toMatch(/^etcd_disk_wal_fsync_duration_seconds_count [1-9]\d*$/m);
  });
});
