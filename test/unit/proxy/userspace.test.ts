import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../lib/log.js';
import type { CommandRunner } from '../../../proxy/exec.js';
import { createProvider } from '../../../proxy/main.js';
import { parseProxyFlags } from '../../../proxy/options.js';
import { UserspaceProxier } from '../../../proxy/userspace/proxier.js';
import { RoundRobin } from '../../../proxy/userspace/roundrobin.js';
import { renderUserspaceRules } from '../../../proxy/userspace/rules.js';

describe('RoundRobin', () => {
  it('takes turns exactly, keeping its place when the endpoint set is unchanged', () => {
    const rr = new RoundRobin();
    rr.setEndpoints('s', ['10.0.0.3:80', '10.0.0.1:80', '10.0.0.2:80']);
    const picks = Array.from({ length: 6 }, () => rr.next('s', '1.1.1.1'));
    expect(picks).toEqual(['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80', '10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80']);
    rr.next('s', 'x');
    rr.setEndpoints('s', ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80']);
    expect(rr.next('s', 'x')).toBe('10.0.0.2:80');
    rr.setEndpoints('s', ['10.0.0.1:80', '10.0.0.3:80']);
    expect([rr.next('s', 'x'), rr.next('s', 'x'), rr.next('s', 'x')]).toEqual(['10.0.0.1:80', '10.0.0.3:80', '10.0.0.1:80']);
    expect(rr.next('other', 'x')).toBeUndefined();
    rr.setEndpoints('s', []);
    expect(rr.next('s', 'x')).toBeUndefined();
  });

  it('pins clients with ClientIP affinity until the timeout, a reset, or the endpoint goes', () => {
    let now = 0;
    const rr = new RoundRobin(() => now);
    rr.setAffinity('s', 10);
    rr.setEndpoints('s', ['10.0.0.1:80', '10.0.0.2:80']);
    const a = rr.next('s', 'A');
    const b = rr.next('s', 'B');
    expect(a).not.toBe(b);
    for (let i = 0; i < 5; i++) {
      now += 9000; // each use extends the affinity
      expect(rr.next('s', 'A')).toBe(a);
    }
    now += 10_001;
    rr.next('s', 'A'); // expired: takes a turn
    expect(rr.next('s', 'A', true)).toBeDefined();
    // Endpoint removal forgets the clients pinned to it.
    const pinned = rr.next('s', 'C')!;
    rr.setEndpoints('s', ['10.0.0.1:80', '10.0.0.2:80'].filter((e) => e !== pinned));
    expect(rr.next('s', 'C')).not.toBe(pinned);
  });
});

describe('renderUserspaceRules', () => {
  it('redirects ClusterIPs, external IPs and NodePorts to the listeners', () => {
    const text = renderUserspaceRules([
      { name: 'default/web:http', protocol: 'TCP', clusterIP: '10.96.0.10', port: 80, nodePort: 30080, externalIPs: [], proxyPort: 40001 },
      { name: 'kube-system/dns:dns', protocol: 'UDP', clusterIP: '10.96.0.53', port: 53, nodePort: 0, externalIPs: ['192.168.1.9'], proxyPort: 40002 },
    ]);
    expect(text).toBe(
      [
        '*nat',
        ':KUBE-PORTALS-CONTAINER - [0:0]',
        ':KUBE-PORTALS-HOST - [0:0]',
        ':KUBE-NODEPORT-CONTAINER - [0:0]',
        ':KUBE-NODEPORT-HOST - [0:0]',
        '-A KUBE-PORTALS-CONTAINER -m comment --comment default/web:http -p tcp -m tcp -d 10.96.0.10/32 --dport 80 -j REDIRECT --to-ports 40001',
        '-A KUBE-PORTALS-HOST -m comment --comment default/web:http -p tcp -m tcp -d 10.96.0.10/32 --dport 80 -j REDIRECT --to-ports 40001',
        '-A KUBE-NODEPORT-CONTAINER -m comment --comment default/web:http -p tcp -m tcp --dport 30080 -j REDIRECT --to-ports 40001',
        '-A KUBE-NODEPORT-HOST -m comment --comment default/web:http -p tcp -m tcp --dport 30080 -j REDIRECT --to-ports 40001',
        '-A KUBE-PORTALS-CONTAINER -m comment --comment kube-system/dns:dns -p udp -m udp -d 10.96.0.53/32 --dport 53 -j REDIRECT --to-ports 40002',
        '-A KUBE-PORTALS-HOST -m comment --comment kube-system/dns:dns -p udp -m udp -d 10.96.0.53/32 --dport 53 -j REDIRECT --to-ports 40002',
        '-A KUBE-PORTALS-CONTAINER -m comment --comment kube-system/dns:dns -p udp -m udp -d 192.168.1.9/32 --dport 53 -j REDIRECT --to-ports 40002',
        '-A KUBE-PORTALS-HOST -m comment --comment kube-system/dns:dns -p udp -m udp -d 192.168.1.9/32 --dport 53 -j REDIRECT --to-ports 40002',
        'COMMIT',
        '',
      ].join('\n'),
    );
    expect(renderUserspaceRules([{ name: 'a/b', protocol: 'TCP', clusterIP: '10.96.0.1', port: 80, nodePort: 0, externalIPs: [], proxyPort: 1 }], '10.0.0.5')).toContain('-j DNAT --to-destination 10.0.0.5:1');
  });

  it("sends the node's own traffic (the OUTPUT chains) to the listener's loopback socket when it has one", () => {
    const udp = { name: 'a/u', protocol: 'UDP' as const, clusterIP: '10.96.0.7', port: 53, nodePort: 30053, externalIPs: [], proxyPort: 40002, loopbackPort: 40003 };
    const lines = renderUserspaceRules([udp]).split('\n');
    expect(lines.filter((l) => / KUBE-(PORTALS|NODEPORT)-HOST /.test(l)).every((l) => l.endsWith('--to-ports 40003'))).toBe(true);
    expect(lines.filter((l) => / KUBE-(PORTALS|NODEPORT)-CONTAINER /.test(l)).every((l) => l.endsWith('--to-ports 40002'))).toBe(true);
    expect(lines.filter((l) => l.startsWith('-A '))).toHaveLength(4);
    // A listener on one address is DNATed to: replies leave from that address, from the node too.
    expect(renderUserspaceRules([udp], '10.0.0.5')).not.toContain('40003');
  });
});

describe('the cluster DNS in userspace mode', () => {
  const portal = { name: 'kube-system/kube-dns:dns', protocol: 'UDP' as const, clusterIP: '10.96.0.10', port: 53, nodePort: 0, externalIPs: [], proxyPort: 40002 };

  it("sends the node's own UDP queries to the DNS server's loopback socket when it has one", () => {
    const rules = renderUserspaceRules([], '0.0.0.0', { serviceIP: '10.96.0.10', address: '0.0.0.0', port: 10053, loopbackPort: 41000 })
      .split('\n')
      .filter((l) => l.startsWith('-A '));
    expect(rules.map((l) => `${l.split(' ')[1]} ${/-p (\w+)/.exec(l)?.[1]} ${l.split(' ').at(-1)}`)).toEqual([
      'KUBE-PORTALS-CONTAINER udp 10053',
      'KUBE-PORTALS-HOST udp 41000',
      'KUBE-PORTALS-CONTAINER tcp 10053',
      'KUBE-PORTALS-HOST tcp 10053',
    ]);
  });

  it('sends UDP and TCP port 53 of the DNS Service IP to the DNS server, before any Service portal', () => {
    const lines = renderUserspaceRules([portal], '0.0.0.0', { serviceIP: '10.96.0.10', address: '0.0.0.0', port: 10053 }).split('\n');
    const rules = lines.filter((l) => l.startsWith('-A '));
    expect(rules.slice(0, 4)).toEqual([
      '-A KUBE-PORTALS-CONTAINER -m comment --comment "skiff cluster DNS" -p udp -m udp -d 10.96.0.10/32 --dport 53 -j REDIRECT --to-ports 10053',
      '-A KUBE-PORTALS-HOST -m comment --comment "skiff cluster DNS" -p udp -m udp -d 10.96.0.10/32 --dport 53 -j REDIRECT --to-ports 10053',
      '-A KUBE-PORTALS-CONTAINER -m comment --comment "skiff cluster DNS" -p tcp -m tcp -d 10.96.0.10/32 --dport 53 -j REDIRECT --to-ports 10053',
      '-A KUBE-PORTALS-HOST -m comment --comment "skiff cluster DNS" -p tcp -m tcp -d 10.96.0.10/32 --dport 53 -j REDIRECT --to-ports 10053',
    ]);
    // The kube-dns Service's own portal is still there, after them.
    expect(rules[4]).toBe('-A KUBE-PORTALS-CONTAINER -m comment --comment kube-system/kube-dns:dns -p udp -m udp -d 10.96.0.10/32 --dport 53 -j REDIRECT --to-ports 40002');
    // A DNS server on one address is DNATed to, whatever the listeners' address.
    const dnat = renderUserspaceRules([], '0.0.0.0', { serviceIP: '10.96.0.10', address: '10.88.0.1', port: 53 });
    expect(dnat).toContain('-A KUBE-PORTALS-HOST -m comment --comment "skiff cluster DNS" -p tcp -m tcp -d 10.96.0.10/32 --dport 53 -j DNAT --to-destination 10.88.0.1:53');
    expect(renderUserspaceRules([portal])).not.toContain('cluster DNS');
  });

  it('skiff proxy --proxy-mode userspace --cluster-dns writes the redirect, with no Service at all', async () => {
    const restores: string[] = [];
    const run: CommandRunner = async (cmd, _args, input) => {
      if (cmd === 'iptables-restore') restores.push(input ?? '');
      return { exitCode: 0, stdout: '', stderr: '' };
    };
    const cfg = parseProxyFlags(['--master', 'http://unused', '--proxy-mode', 'userspace', '--cluster-dns', '10.96.0.10', '--dns-port', '10053']);
    const provider = createProvider(cfg, { run, logger: silentLogger(), registry: new Registry() });
    expect(provider).toBeInstanceOf(UserspaceProxier);
    const p = provider as UserspaceProxier;
    p.onServicesSynced();
    p.onEndpointsSynced();
    try {
      expect(await p.sync()).toBe(true);
    } finally {
      await p.stop();
    }
    expect(restores).toHaveLength(1);
    expect(restores[0]).toContain('-A KUBE-PORTALS-CONTAINER -m comment --comment "skiff cluster DNS" -p udp -m udp -d 10.96.0.10/32 --dport 53 -j REDIRECT --to-ports 10053');
    expect(restores[0]).toContain('-A KUBE-PORTALS-HOST -m comment --comment "skiff cluster DNS" -p tcp -m tcp -d 10.96.0.10/32 --dport 53 -j REDIRECT --to-ports 10053');
  });
});
