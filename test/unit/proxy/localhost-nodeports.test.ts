import { describe, expect, it } from 'vitest';
import { parseProxyFlags } from '../../../proxy/options.js';
import type { CommandRunner } from '../../../proxy/exec.js';
import { cleanupIptables, missingJumps } from '../../../proxy/iptables/proxier.js';
import { ensureRouteLocalnet, ROUTE_LOCALNET } from '../../../proxy/iptables/route-localnet.js';
import { JUMP_RULES, jumpRuleArgs, KUBE_FIREWALL, localhostNodePortsActive, renderCleanup, renderRules } from '../../../proxy/iptables/rules.js';
import { buildEndpointsMap, buildServicePortMap } from '../../../proxy/model.js';
import { endpointsFromV1 } from '../../../proxy/endpoints.js';
import { silentLogger } from '../../../lib/log.js';
import { eps, svc } from './fixtures.js';

const DROP_LOCALNET =
  '-A KUBE-FIREWALL -m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP';

function render(options: { localhostNodePorts: boolean; nodePortIPs?: string[] }) {
  return renderRules({
    services: buildServicePortMap([svc('np', { type: 'NodePort', clusterIP: '10.96.0.20', ports: [{ port: 80, nodePort: 30080 }] })]),
    endpoints: buildEndpointsMap([eps('np', ['10.244.1.2'], [{ port: 8080 }])].map(endpointsFromV1), 'node-a'),
    options,
  }).text;
}

describe('--iptables-localhost-nodeports', () => {
  it('is on by default, as upstream', () => {
    expect(parseProxyFlags([]).localhostNodePorts).toBe(true);
  });

  it('takes Go bool spellings, bare or with a value', () => {
    expect(parseProxyFlags(['--iptables-localhost-nodeports=false']).localhostNodePorts).toBe(false);
    expect(parseProxyFlags(['--iptables-localhost-nodeports=0']).localhostNodePorts).toBe(false);
    expect(parseProxyFlags(['--iptables-localhost-nodeports']).localhostNodePorts).toBe(true);
    expect(parseProxyFlags(['--iptables-localhost-nodeports=True']).localhostNodePorts).toBe(true);
  });

  it('rejects anything else with the flag named', () => {
    expect(() => parseProxyFlags(['--iptables-localhost-nodeports=maybe'])).toThrow(/--iptables-localhost-nodeports: invalid boolean "maybe"/);
  });
});

describe('localhost NodePorts in the rules', () => {
  it('are active when on and the NodePort addresses include loopback (none given: every address)', () => {
    expect(localhostNodePortsActive({ localhostNodePorts: true })).toBe(true);
    expect(localhostNodePortsActive({ localhostNodePorts: true, nodePortIPs: ['10.0.0.5', '127.0.0.1'] })).toBe(true);
    expect(localhostNodePortsActive({ localhostNodePorts: true, nodePortIPs: ['10.0.0.5'] })).toBe(false);
    expect(localhostNodePortsActive({ localhostNodePorts: false })).toBe(false);
  });

  it('send 127.0.0.0/8 to KUBE-NODEPORTS and drop outside traffic to it in KUBE-FIREWALL', () => {
    const text = render({ localhostNodePorts: true });
    expect(text).toContain('-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS');
    expect(text).not.toContain('! -d 127.0.0.0/8 -j KUBE-NODEPORTS');
    expect(text).toContain(`:${KUBE_FIREWALL} - [0:0]\n`);
    expect(text).toContain(`${DROP_LOCALNET}\n`);
    // The filter table's section holds the rule.
    expect(text.indexOf(DROP_LOCALNET)).toBeLessThan(text.indexOf('*nat'));
  });

  it('leave loopback out and write no KUBE-FIREWALL when off or when the addresses exclude loopback', () => {
    for (const text of [render({ localhostNodePorts: false }), render({ localhostNodePorts: true, nodePortIPs: ['10.0.0.5'] })]) {
      expect(text).not.toContain(KUBE_FIREWALL);
      expect(text).not.toMatch(/-d 127\.0\.0\.\d+ -j KUBE-NODEPORTS/);
    }
    expect(render({ localhostNodePorts: false })).toContain('-m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j KUBE-NODEPORTS');
  });

  it('jump to KUBE-FIREWALL from INPUT and OUTPUT without a comment, as upstream', () => {
    const jumps = JUMP_RULES.filter((j) => j.to === KUBE_FIREWALL);
    expect(jumps.map((j) => `${j.table} ${j.from} ${jumpRuleArgs(j).join(' ')}`)).toEqual(['filter INPUT -j KUBE-FIREWALL', 'filter OUTPUT -j KUBE-FIREWALL']);
    const save = '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j KUBE-FIREWALL\n-A OUTPUT -j KUBE-FIREWALL\nCOMMIT\n';
    expect(missingJumps(save).filter((j) => j.to === KUBE_FIREWALL)).toEqual([]);
  });

  it('are removed by the cleanup, chain included', async () => {
    expect(renderCleanup('', '*filter\n:KUBE-FIREWALL - [0:0]\nCOMMIT\n')).toBe('*filter\n:KUBE-FIREWALL - [0:0]\n-X KUBE-FIREWALL\nCOMMIT\n');
    const calls: string[] = [];
    const run: CommandRunner = async (cmd, args) => {
      calls.push(`${cmd} ${args.join(' ')}`);
      // Each jump exists once: the first delete succeeds, the second finds none.
      const seen = calls.filter((c) => c === `${cmd} ${args.join(' ')}`).length;
      return { exitCode: cmd === 'iptables' && seen > 1 ? 1 : 0, stdout: '', stderr: '' };
    };
    expect(await cleanupIptables(run)).toEqual([]);
    expect(calls).toContain('iptables -w -t filter -D INPUT -j KUBE-FIREWALL');
    expect(calls).toContain('iptables -w -t filter -D OUTPUT -j KUBE-FIREWALL');
  });
});

describe('ensureRouteLocalnet', () => {
  function runner(current: string): { run: CommandRunner; calls: string[] } {
    const calls: string[] = [];
    const run: CommandRunner = async (cmd, args) => {
      calls.push(`${cmd} ${args.join(' ')}`);
      return { exitCode: 0, stdout: args[0] === '-n' ? `${current}\n` : '', stderr: '' };
    };
    return { run, calls };
  }

  it('sets the sysctl when it is 0', async () => {
    const { run, calls } = runner('0');
    expect(await ensureRouteLocalnet(run, silentLogger())).toBe(true);
    expect(calls).toEqual([`sysctl -n ${ROUTE_LOCALNET}`, `sysctl -q -w ${ROUTE_LOCALNET}=1`]);
  });

  it('leaves it alone when it is already 1', async () => {
    const { run, calls } = runner('1');
    expect(await ensureRouteLocalnet(run, silentLogger())).toBe(false);
    expect(calls).toEqual([`sysctl -n ${ROUTE_LOCALNET}`]);
  });

  it('fails with the command named when sysctl cannot run', async () => {
    const run: CommandRunner = async () => ({ exitCode: 255, stdout: '', stderr: 'sysctl: permission denied' });
    await expect(ensureRouteLocalnet(run, silentLogger())).rejects.toThrow(/sysctl/);
  });
});
