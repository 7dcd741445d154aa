import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeClient } from '../../../control/client/index.js';
import { silentLogger } from '../../../lib/log.js';
import type { CommandRunner } from '../../../proxy/exec.js';
import { connectInformers, createProvider, runProxy } from '../../../proxy/main.js';
import { cidrContains, masqueradeMark, nodePortIPs, parseProxyFlags } from '../../../proxy/options.js';
import { IptablesProxier } from '../../../proxy/iptables/proxier.js';
import { eps, svc } from './fixtures.js';

describe('parseProxyFlags', () => {
  it('reads kube-proxy flag names with defaults', () => {
    const c = parseProxyFlags(['--kubeconfig', '/k', '--proxy-mode', 'userspace', '--min-sync-period', '2s', '--iptables-sync-period', '1m', '--nodeport-addresses', '10.0.0.0/8, 192.168.0.0/16', '--cluster-cidr', '10.244.0.0/16', '--metrics-bind-address', '0.0.0.0:10249']);
    expect(c).toMatchObject({ kubeconfig: '/k', proxyMode: 'userspace', minSyncPeriodMs: 2000, syncPeriodMs: 60_000, nodePortAddresses: ['10.0.0.0/8', '192.168.0.0/16'], clusterCIDR: '10.244.0.0/16', metricsBindAddress: '0.0.0.0:10249', cleanup: false });
    expect(parseProxyFlags([])).toMatchObject({ proxyMode: 'iptables', minSyncPeriodMs: 1000, syncPeriodMs: 30_000, metricsBindAddress: '127.0.0.1:10249', masqueradeBit: 14 });
    expect(parseProxyFlags(['--cleanup']).cleanup).toBe(true);
  });
  it('says which flag is wrong', () => {
    expect(() => parseProxyFlags(['--proxy-mode', 'ipvs'])).toThrow(/--proxy-mode: "ipvs" is not supported/);
    expect(() => parseProxyFlags(['--min-sync-period', 'soon'])).toThrow(/--min-sync-period: invalid duration "soon"/);
    expect(() => parseProxyFlags(['--nodeport-addresses', '10.0.0.1'])).toThrow(/--nodeport-addresses: "10.0.0.1" is not an IPv4 CIDR/);
    expect(() => parseProxyFlags(['--min-sync-period', '1m', '--iptables-sync-period', '30s'])).toThrow(/must not exceed/);
    expect(() => parseProxyFlags(['--bogus'])).toThrow(/bogus/);
  });
  it('takes the Service range to route, which must be a network CIDR', () => {
    expect(parseProxyFlags([]).serviceClusterIPRange).toBe('10.96.0.0/12');
    expect(parseProxyFlags(['--service-cluster-ip-range', '10.100.0.0/16']).serviceClusterIPRange).toBe('10.100.0.0/16');
    expect(() => parseProxyFlags(['--service-cluster-ip-range', '10.96.0.1/12'])).toThrow(/--service-cluster-ip-range: "10.96.0.1\/12" is not an IPv4 network CIDR/);
    expect(() => parseProxyFlags(['--service-cluster-ip-range', '10.96.0.0'])).toThrow(/not an IPv4 network CIDR/);
    expect(() => parseProxyFlags(['--service-cluster-ip-range', '300.96.0.0/12'])).toThrow(/not an IPv4 network CIDR/);
  });
  it('helpers', () => {
    expect(masqueradeMark(14)).toBe('0x4000');
    expect(cidrContains('10.0.0.0/8', '10.1.2.3')).toBe(true);
    expect(cidrContains('10.0.0.0/8', '11.1.2.3')).toBe(false);
    const ifaces = { eth0: [{ address: '192.168.1.10', family: 'IPv4' }, { address: 'fe80::1', family: 'IPv6' }], lo: [{ address: '127.0.0.1', family: 'IPv4' }] } as never;
    expect(nodePortIPs(['192.168.0.0/16'], ifaces)).toEqual(['192.168.1.10']);
    expect(nodePortIPs([], ifaces)).toBeUndefined();
  });
});

describe('runProxy', () => {
  it('prints help and rejects bad flags with exit 2', async () => {
    expect(await runProxy(['--help'])).toBe(0);
    expect(await runProxy(['--proxy-mode', 'nope'])).toBe(2);
    expect(await runProxy([], { logger: silentLogger() })).toBe(2); // no API server
  });
  it('--cleanup runs the cleanup through the runner and exits', async () => {
    const calls: string[] = [];
    const run: CommandRunner = async (cmd, args) => {
      calls.push(`${cmd} ${args.join(' ')}`);
      return { exitCode: cmd === 'iptables' ? 1 : 0, stdout: cmd === 'iptables-save' ? '*nat\n:KUBE-SERVICES - [0:0]\nCOMMIT\n' : '', stderr: '' };
    };
    expect(await runProxy(['--cleanup'], { run, logger: silentLogger() })).toBe(0);
    expect(calls).toContain('iptables-save -t nat');
    expect(calls).toContain('iptables-restore -w --noflush');
    expect(calls.at(-1)).toBe('ip link del skiff-svc0');
  });
});

/** A tiny API server: lists, then streams watch events the test pushes. */
function fakeApiServer() {
  const lists: Record<string, unknown[]> = { services: [], endpoints: [] };
  const watchers: Record<string, ServerResponse[]> = { services: [], endpoints: [] };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const resource = url.pathname.split('/').at(-1) ?? '';
    if (url.searchParams.get('watch') === 'true') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      watchers[resource]?.push(res);
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ metadata: { resourceVersion: '1' }, items: lists[resource] ?? [] }));
  });
  return {
    server,
    lists,
    watching: (resource: string) => (watchers[resource] ?? []).length,
    push(resource: string, type: string, object: unknown) {
      for (const w of watchers[resource] ?? []) w.write(`${JSON.stringify({ type, object })}\n`);
    },
    close: () => {
      for (const ws of Object.values(watchers)) for (const w of ws) w.destroy();
      server.closeAllConnections();
      server.close();
    },
  };
}

let cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

describe('informers → proxier', () => {
  it('syncs what the API server lists, then follows watch events', async () => {
    const api = fakeApiServer();
    cleanups.push(api.close);
    const s = svc('web', { clusterIP: '10.96.0.10' });
    s.metadata.resourceVersion = '1';
    api.lists.services = [s];
    api.lists.endpoints = [eps('web', ['10.244.0.1'])];
    await new Promise<void>((r) => api.server.listen(0, '127.0.0.1', () => r()));
    const client = new KubeClient({ server: `http://127.0.0.1:${(api.server.address() as AddressInfo).port}` });
    const restores: string[] = [];
    const run: CommandRunner = async (cmd, _args, input) => {
      if (cmd === 'iptables-restore') restores.push(input ?? '');
      return { exitCode: 0, stdout: '', stderr: '' };
    };
    const cfg = parseProxyFlags(['--master', 'http://unused', '--min-sync-period', '0s']);
    const provider = createProvider(cfg, { run, logger: silentLogger(), registry: new Registry() });
    expect(provider).toBeInstanceOf(IptablesProxier);
    const inf = connectInformers(client, provider, silentLogger(), 'endpoints');
    cleanups.push(() => provider.stop(), () => inf.stop());
    provider.start();
    await inf.synced;
    const until = async (pred: () => boolean): Promise<void> => {
      const deadline = Date.now() + 5000;
      while (!pred()) {
        if (Date.now() > deadline) throw new Error('timed out');
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await until(() => restores.some((t) => t.includes('--to-destination 10.244.0.1:8080')));
    await until(() => api.watching('endpoints') > 0);
    const e2 = eps('web', ['10.244.0.1', '10.244.0.2']);
    e2.metadata.resourceVersion = '2';
    api.push('endpoints', 'MODIFIED', e2);
    await until(() => restores.some((t) => t.includes('--to-destination 10.244.0.2:8080')));
  });
});
