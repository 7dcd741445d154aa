import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { CommandResult, CommandRunner } from '../../../proxy/exec.js';
import { cleanupIptables, IptablesProxier, isNftSave, missingJumps } from '../../../proxy/iptables/proxier.js';
import { JUMP_RULES, serviceChainName } from '../../../proxy/iptables/rules.js';
import { BoundedFrequencyRunner } from '../../../proxy/runner.js';
import { staleConntrackArgs } from '../../../proxy/conntrack.js';
import { buildEndpointsMap, buildServicePortMap } from '../../../proxy/model.js';
import { endpointsFromV1 } from '../../../proxy/endpoints.js';
import { eps, svc } from './fixtures.js';

interface Call {
  cmd: string;
  args: string[];
  input?: string;
  at: number;
}

/**
 * Records commands; iptables -C always says "missing"; iptables-restore fails while `failRestores` > 0, stops at its
 * first jump check (as iptables-restore reports it) while `missingJumps` > 0, iptables-save fails while `failSaves`.
 */
class FakeIptables {
  calls: Call[] = [];
  failRestores = 0;
  missingJumps = 0;
  failSaves = false;
  natSave = '*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n';
  filterSave = '*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n';
  run: CommandRunner = async (cmd, args, input) => {
    this.calls.push({ cmd, args, ...(input !== undefined ? { input } : {}), at: Date.now() });
    const ok = (stdout = ''): CommandResult => ({ exitCode: 0, stdout, stderr: '' });
    if (cmd === 'iptables-save' && this.failSaves) return { exitCode: 4, stdout: '', stderr: 'iptables-save: permission denied' };
    if (cmd === 'iptables-save') return ok(args.includes('nat') ? this.natSave : args.includes('filter') ? this.filterSave : this.filterSave + this.natSave);
    if (cmd === 'iptables-restore') {
      if (this.failRestores > 0) {
        this.failRestores--;
        return { exitCode: 1, stdout: '', stderr: 'iptables-restore: line 3 failed' };
      }
      const check = (input ?? '').split('\n').findIndex((l) => l.startsWith('-C '));
      if (this.missingJumps > 0 && check >= 0) {
        this.missingJumps--;
        return { exitCode: 1, stdout: '', stderr: `iptables-restore: line ${check + 1} failed` };
      }
      return ok();
    }
    if (cmd === 'iptables' && (args.includes('-C') || args.includes('-D'))) return { exitCode: 1, stdout: '', stderr: 'Bad rule' };
    if (cmd === 'conntrack') return { exitCode: 1, stdout: '', stderr: 'conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.' };
    return ok();
  };
  restores(): Call[] {
    return this.calls.filter((c) => c.cmd === 'iptables-restore');
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

let proxiers: IptablesProxier[] = [];
afterEach(async () => {
  for (const p of proxiers) await p.stop();
  proxiers = [];
});

function make(fake: FakeIptables, o: { minSyncPeriodMs?: number; syncPeriodMs?: number; registry?: Registry } = {}) {
  const registry = o.registry ?? new Registry();
  const p = new IptablesProxier({ run: fake.run, nodeName: 'node-a', registry, minSyncPeriodMs: o.minSyncPeriodMs ?? 0, syncPeriodMs: o.syncPeriodMs ?? 60_000, retryBaseMs: 20 });
  proxiers.push(p);
  return { p, registry };
}

describe('IptablesProxier', () => {
  it('waits for both informers, then does a full sync with jumps and one restore', async () => {
    const fake = new FakeIptables();
    const { p } = make(fake);
    p.start();
    p.onServiceAdd(svc('web', { clusterIP: '10.96.0.10' }));
    p.onEndpointsAdd(eps('web', ['10.244.0.1']));
    p.onServicesSynced();
    await sleep(30);
    expect(fake.restores()).toHaveLength(0);
    p.onEndpointsSynced();
    await until(() => fake.restores().length === 1, 'first restore');
    // Every jump ensured: chain created, checked, inserted at the top.
    const inserts = fake.calls.filter((c) => c.cmd === 'iptables' && c.args.includes('-I'));
    expect(inserts).toHaveLength(JUMP_RULES.length);
    expect(inserts[0]!.args).toEqual(['-w', '-t', 'filter', '-I', 'INPUT', '1', '-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'kubernetes externally-visible service portals', '-j', 'KUBE-EXTERNAL-SERVICES']);
    const restore = fake.restores()[0]!;
    expect(restore.args).toEqual(['-w', '--noflush', '--counters']);
    expect(restore.input).toContain(`:${serviceChainName('default/web', 'tcp')} - [0:0]`);
    expect(p.history.at(-1)).toMatchObject({ full: true, ok: true });
  });

  it('rewrites only the changed service between full syncs', async () => {
    const fake = new FakeIptables();
    const { p } = make(fake);
    p.onServiceAdd(svc('a', { clusterIP: '10.96.0.1' }));
    p.onServiceAdd(svc('b', { clusterIP: '10.96.0.2' }));
    p.onEndpointsAdd(eps('a', ['10.244.0.1']));
    p.onEndpointsAdd(eps('b', ['10.244.0.2']));
    p.onServicesSynced();
    p.onEndpointsSynced();
    p.start();
    await until(() => fake.restores().length === 1, 'first restore');
    const before = fake.calls.length;
    p.onEndpointsUpdate(undefined, eps('b', ['10.244.0.2', '10.244.0.3']));
    await until(() => fake.restores().length === 2, 'partial restore');
    const text = fake.restores()[1]!.input!;
    expect(p.history.at(-1)).toMatchObject({ full: false, ok: true });
    expect(text).toContain(`:${serviceChainName('default/b', 'tcp')} - [0:0]`);
    expect(text).not.toContain(`:${serviceChainName('default/a', 'tcp')} - [0:0]`);
    // A partial sync neither re-checks jumps nor reads the tables, and renders b's rules only.
    expect(fake.calls.slice(before).map((c) => c.cmd)).toEqual(['iptables-restore']);
    expect(p.history.at(-1)?.result?.renderedServicePorts).toBe(1);
    // A full resync with nothing changed renders nothing anew, and writes every chain still.
    p.forceFullSync();
    await until(() => fake.restores().length === 3, 'full restore');
    expect(p.history.at(-1)).toMatchObject({ full: true, ok: true, result: { renderedServicePorts: 0 } });
    expect(fake.restores()[2]!.input).toContain(`:${serviceChainName('default/a', 'tcp')} - [0:0]`);
    // Only the newest report keeps the restore text; older ones keep their figures.
    expect(p.history.at(-1)?.result?.text).toBe(fake.restores()[2]!.input);
    expect(p.history.slice(0, -1).map((r) => r.result?.text)).toEqual(['', '']);
    expect(p.history.at(-2)?.result?.renderedServicePorts).toBe(1);
  });

  it('later syncs, full or partial, run one iptables-restore and nothing else; its text checks every jump', async () => {
    const fake = new FakeIptables();
    const { p } = make(fake);
    p.onServiceAdd(svc('a'));
    p.onEndpointsAdd(eps('a', ['10.244.0.1']));
    p.onServicesSynced();
    p.onEndpointsSynced();
    await p.syncProxyRules();
    const before = fake.calls.length;
    p.forceFullSync();
    expect(await p.syncProxyRules()).toMatchObject({ full: true, ok: true });
    p.onEndpointsUpdate(undefined, eps('a', ['10.244.0.7']));
    expect(await p.syncProxyRules()).toMatchObject({ full: false, ok: true });
    await p.idle();
    const calls = fake.calls.slice(before);
    expect(calls.map((c) => c.cmd)).toEqual(['iptables-restore', 'iptables-restore']);
    const checks = (c: Call) => (c.input ?? '').split('\n').filter((l) => l.startsWith('-C '));
    // The full sync checks every jump; the partial one writes only the nat table, and checks its jumps.
    expect(checks(calls[0]!)).toHaveLength(JUMP_RULES.length);
    expect(checks(calls[1]!)).toHaveLength(JUMP_RULES.filter((j) => j.table === 'nat').length);
    expect(calls[1]!.input).not.toContain('*filter');
  });

  it('a restore stopped by a jump check puts the jumps back and rewrites every chain in the same sync', async () => {
    const fake = new FakeIptables();
    const { p, registry } = make(fake);
    p.onServiceAdd(svc('a', { clusterIP: '10.96.0.1' }));
    p.onServiceAdd(svc('b', { clusterIP: '10.96.0.2' }));
    p.onEndpointsAdd(eps('a', ['10.244.0.1']));
    p.onEndpointsAdd(eps('b', ['10.244.0.2']));
    p.onServicesSynced();
    p.onEndpointsSynced();
    await p.syncProxyRules();
    // Someone flushed the tables: the next (partial) sync's restore stops at a jump check.
    fake.missingJumps = 1;
    p.onEndpointsUpdate(undefined, eps('a', ['10.244.0.7']));
    const before = fake.calls.length;
    expect(await p.syncProxyRules()).toMatchObject({ full: true, ok: true });
    const calls = fake.calls.slice(before);
    const restores = calls.map((c, i) => (c.cmd === 'iptables-restore' ? i : -1)).filter((i) => i >= 0);
    expect(restores).toHaveLength(2);
    // Then one iptables-save; the fake's save shows no jump, so all of them go back before the second restore.
    const save = calls.findIndex((c) => c.cmd === 'iptables-save');
    expect(save).toBeGreaterThan(restores[0]!);
    expect(calls.slice(save, restores[1]).filter((c) => c.args.includes('-I'))).toHaveLength(JUMP_RULES.length);
    // The second restore is a full one: b's chains, which did not change, are written again.
    expect(calls[restores[1]!]!.input).toContain(`:${serviceChainName('default/b', 'tcp')} - [0:0]`);
    expect(calls[restores[1]!]!.input).toContain('10.244.0.7:8080');
    // Noticing a flush is no restore failure.
    expect(await registry.metrics()).toMatch(/^kubeproxy_sync_proxy_rules_iptables_restore_failures_total 0$/m);
    // And the next sync is back to one restore.
    const after = fake.calls.length;
    p.forceFullSync();
    await p.syncProxyRules();
    expect(fake.calls.slice(after).map((c) => c.cmd)).toEqual(['iptables-restore']);
  });

  it('puts the jump checks where they cost least for the backend the first iptables-save shows', async () => {
    expect(isNftSave('# Generated by iptables-nft-save v1.8.9 (nf_tables) on Mon Nov 30 16:46:08 2026\n*nat\n')).toBe(true);
    expect(isNftSave('# Generated by iptables-save v1.8.9 on Mon Nov 30 16:46:08 2026\n*nat\n')).toBe(false);
    for (const [header, separate] of [
      ['# Generated by iptables-nft-save v1.8.9 (nf_tables) on Mon Nov 30 16:46:08 2026\n', true],
      ['# Generated by iptables-save v1.8.9 on Mon Nov 30 16:46:08 2026\n', false],
    ] as const) {
      const fake = new FakeIptables();
      fake.natSave = header + fake.natSave;
      fake.filterSave = '';
      const { p } = make(fake);
      p.onServiceAdd(svc('a'));
      p.onServicesSynced();
      p.onEndpointsSynced();
      await p.syncProxyRules();
      p.forceFullSync();
      await p.syncProxyRules();
      for (const r of fake.restores()) expect(r.input!.startsWith('*filter\n-C ')).toBe(separate);
    }
  });

  it('a jump check that fails right after the jumps were put back is a failure, retried with backoff', async () => {
    const fake = new FakeIptables();
    const { p } = make(fake);
    p.onServiceAdd(svc('a'));
    p.onServicesSynced();
    p.onEndpointsSynced();
    fake.missingJumps = 1;
    // The first sync reads the tables and puts the jumps back before restoring: a failed check then is no flush.
    expect(await p.syncProxyRules()).toMatchObject({ full: true, ok: false });
    expect(fake.restores()).toHaveLength(1);
    expect(String(p.history.at(-1)?.error)).toMatch(/jump missing: -C /);
    fake.missingJumps = 1;
    expect(await p.syncProxyRules()).toMatchObject({ full: true, ok: false });
    // Once the checks pass, all is well.
    expect(await p.syncProxyRules()).toMatchObject({ full: true, ok: true });
  });

  it('a failed iptables-save fails the sync, and the retry reads the tables again', async () => {
    const fake = new FakeIptables();
    const { p } = make(fake);
    p.onServiceAdd(svc('a'));
    p.onServicesSynced();
    p.onEndpointsSynced();
    fake.failSaves = true;
    expect(await p.syncProxyRules()).toMatchObject({ full: true, ok: false });
    expect(fake.restores()).toHaveLength(0);
    fake.failSaves = false;
    const before = fake.calls.length;
    expect(await p.syncProxyRules()).toMatchObject({ full: true, ok: true });
    const calls = fake.calls.slice(before);
    expect(calls.findIndex((c) => c.cmd === 'iptables-save')).toBeLessThan(calls.findIndex((c) => c.cmd === 'iptables-restore'));
  });

  it('ignores updates that change nothing the rules depend on', async () => {
    const fake = new FakeIptables();
    const { p } = make(fake);
    p.onServiceAdd(svc('a'));
    p.onEndpointsAdd(eps('a', ['10.244.0.1']));
    p.onServicesSynced();
    p.onEndpointsSynced();
    p.start();
    await until(() => fake.restores().length === 1, 'first restore');
    const s = svc('a');
    s.metadata.labels = { changed: 'yes' };
    s.metadata.resourceVersion = '2';
    p.onServiceUpdate(undefined, s);
    await sleep(50);
    expect(fake.restores()).toHaveLength(1);
  });

  it('keeps syncs min-sync-period apart', async () => {
    const fake = new FakeIptables();
    const { p } = make(fake, { minSyncPeriodMs: 300 });
    p.onServiceAdd(svc('a'));
    p.onServicesSynced();
    p.onEndpointsSynced();
    p.start();
    await until(() => fake.restores().length === 1, 'first restore');
    for (let i = 2; i < 6; i++) {
      p.onEndpointsUpdate(undefined, eps('a', Array.from({ length: i }, (_, j) => `10.244.0.${j + 1}`)));
      await sleep(20);
    }
    await until(() => fake.restores().some((r) => r.input?.includes('10.244.0.5:8080')), 'the last change synced');
    await sleep(400);
    const restores = fake.restores();
    // Four changes within ~80 ms: one more sync (two if the machine stalls), never closer than min-sync-period.
    expect(restores.length).toBeGreaterThanOrEqual(2);
    expect(restores.length).toBeLessThanOrEqual(3);
    for (let i = 1; i < restores.length; i++) expect(restores[i]!.at - restores[i - 1]!.at).toBeGreaterThanOrEqual(290);
    expect(restores.at(-1)!.input).toContain('--to-destination 10.244.0.5:8080');
  });

  it('does a full resync every sync period', async () => {
    const fake = new FakeIptables();
    const { p } = make(fake, { syncPeriodMs: 150 });
    p.onServiceAdd(svc('a'));
    p.onServicesSynced();
    p.onEndpointsSynced();
    p.start();
    await until(() => fake.restores().length >= 3, 'periodic syncs', 3000);
    expect(p.history.slice(0, 3).every((r) => r.full && r.ok)).toBe(true);
  });

  it('retries failed restores with a full sync and counts the failures', async () => {
    const fake = new FakeIptables();
    fake.failRestores = 2;
    const { p, registry } = make(fake);
    p.onServiceAdd(svc('a'));
    p.onEndpointsAdd(eps('a', ['10.244.0.1']));
    p.onServicesSynced();
    p.onEndpointsSynced();
    p.start();
    await until(() => p.history.some((r) => r.ok), 'a successful sync');
    expect(p.history.map((r) => r.ok)).toEqual([false, false, true]);
    expect(p.history.every((r) => r.full)).toBe(true);
    const text = await registry.metrics();
    expect(text).toMatch(/^kubeproxy_sync_proxy_rules_iptables_restore_failures_total 2$/m);
    expect(text).toMatch(/^kubeproxy_sync_proxy_rules_duration_seconds_count 3$/m);
    expect(text).toMatch(/^kubeproxy_sync_proxy_rules_iptables_total\{table="nat"\} \d+$/m);
  });

  it('counts a failed partial sync and recovers with a full one that still has the change', async () => {
    const fake = new FakeIptables();
    const { p, registry } = make(fake);
    p.onServiceAdd(svc('a'));
    p.onEndpointsAdd(eps('a', ['10.244.0.1']));
    p.onServicesSynced();
    p.onEndpointsSynced();
    p.start();
    await until(() => fake.restores().length === 1, 'first restore');
    fake.failRestores = 1;
    p.onEndpointsUpdate(undefined, eps('a', ['10.244.0.9']));
    await until(() => fake.restores().length === 3, 'retry');
    expect(p.history.map((r) => [r.full, r.ok])).toEqual([
      [true, true],
      [false, false],
      [true, true],
    ]);
    expect(fake.restores()[2]!.input).toContain('10.244.0.9:8080');
    expect(await registry.metrics()).toMatch(/^kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total 1$/m);
  });

  it('reads the jumps from one iptables-save (as iptables-save prints them) and checks only the missing ones', () => {
    const save = [
      '*filter',
      ':OUTPUT ACCEPT [0:0]',
      '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      'COMMIT',
      '*nat',
      '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
      'COMMIT',
      '',
    ].join('\n');
    const missing = missingJumps(save);
    expect(missing).toHaveLength(JUMP_RULES.length - 2);
    expect(missing.some((j) => j.table === 'filter' && j.from === 'OUTPUT' && j.to === 'KUBE-SERVICES')).toBe(false);
    expect(missing.some((j) => j.table === 'nat' && j.from === 'POSTROUTING')).toBe(false);
    // The same rule in the other table does not count.
    expect(missingJumps(save.replace('*nat', '*mangle')).some((j) => j.table === 'nat' && j.from === 'POSTROUTING')).toBe(true);
  });

  it('deletes stale chains found by iptables-save on a full sync', async () => {
    const fake = new FakeIptables();
    fake.natSave = '*nat\n:KUBE-SVC-OLDOLDOLDOLDOLD1 - [0:0]\n:DOCKER - [0:0]\nCOMMIT\n';
    const { p } = make(fake);
    p.onServicesSynced();
    p.onEndpointsSynced();
    await p.syncProxyRules();
    const text = fake.restores()[0]!.input!;
    expect(text).toContain('-X KUBE-SVC-OLDOLDOLDOLDOLD1');
    expect(text).not.toContain('DOCKER');
  });

  it('deletes UDP conntrack entries of removed endpoints', async () => {
    const fake = new FakeIptables();
    const { p } = make(fake);
    const dns = svc('dns', { clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] });
    p.onServiceAdd(dns);
    p.onEndpointsAdd(eps('dns', ['10.244.0.1', '10.244.0.2'], [{ name: 'dns', port: 53, protocol: 'UDP' }]));
    p.onServicesSynced();
    p.onEndpointsSynced();
    await p.syncProxyRules();
    p.onEndpointsUpdate(undefined, eps('dns', ['10.244.0.1'], [{ name: 'dns', port: 53, protocol: 'UDP' }]));
    await p.syncProxyRules();
    const ct = fake.calls.filter((c) => c.cmd === 'conntrack').map((c) => c.args);
    expect(ct).toContainEqual(['-D', '--orig-dst', '10.96.0.10', '--dst-nat', '10.244.0.2', '-p', 'udp']);
    expect(ct.some((a) => a.includes('10.244.0.1'))).toBe(false);
  });
});

describe('staleConntrackArgs', () => {
  it('clears REJECTed flows when a UDP service gets its first endpoint, and NodePort flows of removed endpoints', () => {
    const s = [svc('u', { type: 'NodePort', clusterIP: '10.96.0.7', ports: [{ port: 53, protocol: 'UDP', nodePort: 30053 }] })];
    const none = buildEndpointsMap([], 'n');
    const one = buildEndpointsMap([endpointsFromV1(eps('u', ['10.244.0.5'], [{ port: 53, protocol: 'UDP' }]))], 'n');
    const sm = buildServicePortMap(s);
    expect(staleConntrackArgs(sm, none, sm, one)).toEqual([
      ['-D', '--orig-dst', '10.96.0.7', '-p', 'udp'],
      ['-D', '-p', 'udp', '--dport', '30053'],
    ]);
    expect(staleConntrackArgs(sm, one, sm, none)).toEqual([
      ['-D', '--orig-dst', '10.96.0.7', '--dst-nat', '10.244.0.5', '-p', 'udp'],
      ['-D', '-p', 'udp', '--dport', '30053', '--dst-nat', '10.244.0.5'],
    ]);
    // TCP services need nothing.
    const t = buildServicePortMap([svc('u', { clusterIP: '10.96.0.7' })]);
    expect(staleConntrackArgs(t, buildEndpointsMap([endpointsFromV1(eps('u', ['10.244.0.5']))], 'n'), t, none)).toEqual([]);
  });
});

describe('cleanupIptables', () => {
  it('deletes the jumps, then flushes and deletes only KUBE chains', async () => {
    const fake = new FakeIptables();
    fake.natSave = '*nat\n:OUTPUT ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n:KUBE-SEP-AAAAAAAAAAAAAAAA - [0:0]\n:DOCKER - [0:0]\nCOMMIT\n';
    fake.filterSave = '*filter\n:KUBE-FORWARD - [0:0]\nCOMMIT\n';
    expect(await cleanupIptables(fake.run)).toEqual([]);
    expect(fake.calls.filter((c) => c.args.includes('-D'))).toHaveLength(JUMP_RULES.length + 4);
    const text = fake.restores()[0]!.input!;
    expect(text).toContain('-X KUBE-SEP-AAAAAAAAAAAAAAAA');
    expect(text).toContain('-X KUBE-FORWARD');
    expect(text).not.toContain('DOCKER');
  });
});

describe('BoundedFrequencyRunner', () => {
  it('coalesces requests, respects the minimum interval and never overlaps', async () => {
    const starts: number[] = [];
    let running = 0;
    let overlap = false;
    const r = new BoundedFrequencyRunner(
      async () => {
        if (running++) overlap = true;
        starts.push(Date.now());
        await sleep(30);
        running--;
      },
      100,
      10_000,
    );
    r.start();
    await sleep(5);
    for (let i = 0; i < 10; i++) {
      r.run();
      await sleep(10);
    }
    await sleep(250);
    await r.stop();
    expect(overlap).toBe(false);
    // Ten requests over ~100 ms: a handful of runs at most, each at least 100 ms after the one before.
    expect(starts.length).toBeGreaterThanOrEqual(2);
    expect(starts.length).toBeLessThanOrEqual(5);
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(95);
  });

  it('runs periodically at the maximum interval', async () => {
    let n = 0;
    const r = new BoundedFrequencyRunner(async () => void n++, 0, 50);
    r.start();
    await sleep(180);
    await r.stop();
    expect(n).toBeGreaterThanOrEqual(3);
  });
});

describe('IptablesProxier with localhost NodePorts', () => {
  function makeLocal(fake: FakeIptables, render: { localhostNodePorts: boolean; nodePortIPs?: string[] }) {
    const p = new IptablesProxier({ run: fake.run, nodeName: 'node-a', registry: new Registry(), minSyncPeriodMs: 0, syncPeriodMs: 60_000, retryBaseMs: 20, render });
    proxiers.push(p);
    return p;
  }
  const sysctls = (fake: FakeIptables) => fake.calls.filter((c) => c.cmd === 'sysctl').map((c) => c.args.join(' '));

  it('sets route_localnet before its first restore, once, and writes the KUBE-FIREWALL rule', async () => {
    const fake = new FakeIptables();
    const p = makeLocal(fake, { localhostNodePorts: true });
    p.onServiceAdd(svc('np', { type: 'NodePort', clusterIP: '10.96.0.20', ports: [{ port: 80, nodePort: 30080 }] }));
    p.onEndpointsAdd(eps('np', ['10.244.1.2'], [{ port: 8080 }]));
    p.onServicesSynced();
    p.onEndpointsSynced();
    p.start();
    await until(() => fake.restores().length === 1, 'first restore');
    // The fake's sysctl prints nothing, i.e. not "1": the proxy writes it.
    expect(sysctls(fake)).toEqual(['-n net.ipv4.conf.all.route_localnet', '-q -w net.ipv4.conf.all.route_localnet=1']);
    const firstSysctl = fake.calls.findIndex((c) => c.cmd === 'sysctl');
    expect(firstSysctl).toBeLessThan(fake.calls.findIndex((c) => c.cmd === 'iptables-restore'));
    expect(fake.restores()[0]!.input).toContain('-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections"');
    p.forceFullSync();
    await until(() => fake.restores().length === 2, 'second restore');
    expect(sysctls(fake)).toHaveLength(2);
  });

  it('leaves route_localnet alone when off, or when the NodePort addresses exclude loopback', async () => {
    for (const render of [{ localhostNodePorts: false }, { localhostNodePorts: true, nodePortIPs: ['10.0.0.5'] }]) {
      const fake = new FakeIptables();
      const p = makeLocal(fake, render);
      p.onServicesSynced();
      p.onEndpointsSynced();
      p.start();
      await until(() => fake.restores().length === 1, 'first restore');
      expect(sysctls(fake)).toEqual([]);
    }
  });
});
