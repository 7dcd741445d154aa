import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildEndpointsMap, buildServicePortMap } from '../../../proxy/model.js';
import { EndpointSliceTracker, endpointsFromV1, type ServiceEndpoints } from '../../../proxy/endpoints.js';
import {
  base32,
  endpointChainName,
  failedJumpCheck,
  failedRestoreLine,
  JUMP_RULES,
  jumpRuleText,
  portProtoHash,
  probability,
  renderCleanup,
  renderRules,
  serviceChainName,
  serviceExternalChainName,
  serviceFirewallChainName,
  ServiceRulesCache,
  type RenderOptions,
} from '../../../proxy/iptables/rules.js';
import { eps, svc } from './fixtures.js';
import type { Endpoints, Service } from '../../../control/api/core/index.js';
import type { EndpointSlice } from '../../../control/api/discovery/endpointslice.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Compares with test/unit/proxy/golden/<name>.txt; UPDATE_GOLDEN=1 rewrites the file. */
function golden(name: string, text: string): void {
  const file = join(here, 'golden', `${name}.txt`);
  if (process.env.UPDATE_GOLDEN || !existsSync(file)) writeFileSync(file, text);
  expect(text).toBe(readFileSync(file, 'utf8'));
}

function render(services: Service[], endpoints: Endpoints[], options: Partial<RenderOptions> = {}, extra: { changed?: Set<string>; existing?: string[] } = {}) {
  return renderRules({
    services: buildServicePortMap(services),
    endpoints: buildEndpointsMap(endpoints.map(endpointsFromV1), 'node-a'),
    options,
    ...(extra.changed ? { changedServices: extra.changed } : {}),
    ...(extra.existing ? { existingNatChains: extra.existing } : {}),
  });
}

describe('chain names', () => {
  it('hash like upstream (sha256, base32, 16 chars)', () => {
    // Values seen on real clusters.
    expect(serviceChainName('default/kubernetes:https', 'TCP')).toBe('KUBE-SVC-NPX46M4PTMTKRN6Y');
    expect(serviceChainName('kube-system/kube-dns:dns', 'UDP')).toBe('KUBE-SVC-TCOU7JCQXEZGVUNU');
    expect(serviceChainName('kube-system/kube-dns:dns-tcp', 'tcp')).toBe('KUBE-SVC-ERIFXISQEP7F7OF4');
    expect(serviceChainName('default/nginx', 'tcp')).toBe('KUBE-SVC-2CMXP7HKUVJN7L6M');
    expect(portProtoHash('a', 'tcp')).toHaveLength(16);
    expect(endpointChainName('ns/svc:p', 'tcp', '10.0.0.1:80')).toMatch(/^KUBE-SEP-[A-Z2-7]{16}$/);
    expect(endpointChainName('ns/svc:p', 'tcp', '10.0.0.1:80').length).toBeLessThanOrEqual(28);
  });
  it('base32 matches RFC 4648 vectors', () => {
    expect(base32(Buffer.from('foobar'))).toBe('MZXW6YTBOI======');
    expect(base32(Buffer.from('f'))).toBe('MY======');
  });
  it('probability has ten decimals', () => {
    expect(probability(3)).toBe('0.3333333333');
    expect(probability(2)).toBe('0.5000000000');
  });
});

describe('renderRules golden files', () => {
  it('ClusterIP service with two endpoints', () => {
    golden('clusterip', render([svc('web', { clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80 }] })], [eps('web', ['10.244.1.2', '10.244.1.3'], [{ name: 'http', port: 8080 }])]).text);
  });
  it('NodePort service', () => {
    golden(
      'nodeport',
      render([svc('np', { type: 'NodePort', clusterIP: '10.96.0.20', ports: [{ port: 80, nodePort: 30080 }] })], [eps('np', ['10.244.1.2'], [{ port: 8080 }])], { clusterCIDR: '10.244.0.0/16' }).text,
    );
  });
  it('NodePort with externalTrafficPolicy Local', () => {
    golden(
      'nodeport-local',
      render(
        [svc('loc', { type: 'NodePort', clusterIP: '10.96.0.21', ports: [{ port: 80, nodePort: 30081 }], externalTrafficPolicy: 'Local' })],
        [eps('loc', [{ ip: '10.244.1.2', nodeName: 'node-a' }, { ip: '10.244.2.2', nodeName: 'node-b' }], [{ port: 8080 }])],
        { clusterCIDR: '10.244.0.0/16', nodePortIPs: ['192.168.1.10'] },
      ).text,
    );
  });
  it('ClientIP session affinity', () => {
    golden('affinity', render([svc('sticky', { clusterIP: '10.96.0.30', affinity: 600 })], [eps('sticky', ['10.244.1.2', '10.244.1.3'])]).text);
  });
  it('no endpoints: REJECT in filter KUBE-SERVICES, nothing in nat', () => {
    const r = render([svc('empty', { type: 'NodePort', clusterIP: '10.96.0.40', ports: [{ port: 80, nodePort: 30090 }], externalIPs: ['192.168.1.50'] })], []);
    golden('no-endpoints', r.text);
    expect(r.text).toContain('-A KUBE-SERVICES -m comment --comment "default/empty has no endpoints" -m tcp -p tcp -d 10.96.0.40 --dport 80 -j REJECT');
    expect(r.text).not.toContain('KUBE-SVC-');
  });
  it('many endpoints: probabilities 1/(n-i)', () => {
    const ips = Array.from({ length: 5 }, (_, i) => `10.244.3.${i + 1}`);
    const r = render([svc('many', { clusterIP: '10.96.0.50', ports: [{ port: 53, protocol: 'UDP' }] })], [eps('many', ips, [{ port: 5353, protocol: 'UDP' }])]);
    golden('many-endpoints', r.text);
    const probs = [...r.text.matchAll(/--probability (\S+)/g)].map((m) => m[1]);
    expect(probs).toEqual(['0.2000000000', '0.2500000000', '0.3333333333', '0.5000000000']);
    // The chances multiply out to 1/n each.
    let rest = 1;
    for (const p of probs.map(Number)) {
      expect(rest * p).toBeCloseTo(0.2, 8);
      rest *= 1 - p;
    }
    expect(rest).toBeCloseTo(0.2, 8);
  });
});

describe('renderRules golden files: load balancers, traffic policies, cluster DNS', () => {
  it('LoadBalancer with loadBalancerSourceRanges: a KUBE-FW chain, KUBE-PROXY-FIREWALL drops the rest', () => {
    const r = render(
      [svc('lb', { type: 'LoadBalancer', clusterIP: '10.96.0.60', ports: [{ port: 80, nodePort: 30100 }], lbIPs: ['203.0.113.10'], sourceRanges: ['198.51.100.0/24', ' 192.168.1.0/24 '] })],
      [eps('lb', ['10.244.1.2', '10.244.1.3'])],
      { clusterCIDR: '10.244.0.0/16', nodeIP: '192.168.1.10' },
    );
    golden('loadbalancer-source-ranges', r.text);
    const fw = serviceFirewallChainName('default/lb', 'tcp');
    expect(r.text).toContain(`-A KUBE-SERVICES -m comment --comment "default/lb loadbalancer IP" -m tcp -p tcp -d 203.0.113.10 --dport 80 -j ${fw}`);
    expect(r.text).toContain(`-A ${fw} -m comment --comment "default/lb loadbalancer IP" -s 198.51.100.0/24 -j ${serviceExternalChainName('default/lb', 'tcp')}`);
    // The node's own range admits the LB IP as a source.
    expect(r.text).toContain(`-A ${fw} -m comment --comment "default/lb loadbalancer IP" -s 203.0.113.10 -j`);
    expect(r.text).toContain(`-A KUBE-PROXY-FIREWALL -m comment --comment "default/lb traffic not accepted by ${fw}" -m tcp -p tcp -d 203.0.113.10 --dport 80 -j DROP`);
    // The NodePort is not subject to the source ranges.
    expect(r.text).toContain(`-A KUBE-NODEPORTS -m comment --comment default/lb -m tcp -p tcp --dport 30100 -j ${serviceExternalChainName('default/lb', 'tcp')}`);
  });
  it('LoadBalancer with externalTrafficPolicy Local, external IPs, and internalTrafficPolicy Local', () => {
    golden(
      'loadbalancer-local',
      render(
        [
          svc('lbl', { type: 'LoadBalancer', clusterIP: '10.96.0.61', ports: [{ port: 443, nodePort: 30443 }], lbIPs: ['203.0.113.11'], externalIPs: ['192.168.1.99'], externalTrafficPolicy: 'Local' }),
          svc('itp', { clusterIP: '10.96.0.62', internalTrafficPolicy: 'Local' }),
        ],
        [
          eps('lbl', [{ ip: '10.244.1.2', nodeName: 'node-a' }, { ip: '10.244.2.2', nodeName: 'node-b' }], [{ port: 8443 }]),
          eps('itp', [{ ip: '10.244.2.3', nodeName: 'node-b' }]),
        ],
        { clusterCIDR: '10.244.0.0/16' },
      ).text,
    );
  });
  it('the cluster DNS rules come first in KUBE-SERVICES', () => {
    const r = render(
      [svc('kube-dns', { ns: 'kube-system', clusterIP: '10.96.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53 }] })],
      [],
      { clusterDNS: { serviceIP: '10.96.0.10', address: '0.0.0.0', port: 10053 } },
    );
    golden('cluster-dns', r.text);
    const nat = r.text.slice(r.text.indexOf('*nat'));
    const lines = nat.split('\n').filter((l) => l.startsWith('-A KUBE-SERVICES'));
    expect(lines.slice(0, 2)).toEqual([
      '-A KUBE-SERVICES -m comment --comment "skiff cluster DNS" -m udp -p udp -d 10.96.0.10/32 --dport 53 -j REDIRECT --to-ports 10053',
      '-A KUBE-SERVICES -m comment --comment "skiff cluster DNS" -m tcp -p tcp -d 10.96.0.10/32 --dport 53 -j REDIRECT --to-ports 10053',
    ]);
    const dnat = render([], [], { clusterDNS: { serviceIP: '10.96.0.10', address: '10.88.0.1', port: 53 } });
    expect(dnat.text).toContain('-d 10.96.0.10/32 --dport 53 -j DNAT --to-destination 10.88.0.1:53');
  });
  it("sends the node's own UDP queries to the DNS server's loopback socket, first", () => {
    const r = render([], [], { clusterDNS: { serviceIP: '10.96.0.10', address: '0.0.0.0', port: 10053, loopbackPort: 41000 } });
    const lines = r.text.split('\n').filter((l) => l.startsWith('-A KUBE-SERVICES'));
    expect(lines.slice(0, 3)).toEqual([
      '-A KUBE-SERVICES -m comment --comment "skiff cluster DNS" -m addrtype --src-type LOCAL -m udp -p udp -d 10.96.0.10/32 --dport 53 -j REDIRECT --to-ports 41000',
      '-A KUBE-SERVICES -m comment --comment "skiff cluster DNS" -m udp -p udp -d 10.96.0.10/32 --dport 53 -j REDIRECT --to-ports 10053',
      '-A KUBE-SERVICES -m comment --comment "skiff cluster DNS" -m tcp -p tcp -d 10.96.0.10/32 --dport 53 -j REDIRECT --to-ports 10053',
    ]);
    // A server on one address answers from it: DNAT alone is enough.
    expect(render([], [], { clusterDNS: { serviceIP: '10.96.0.10', address: '10.88.0.1', port: 53, loopbackPort: 41000 } }).text).not.toContain('41000');
  });
});

describe('EndpointSlices', () => {
  const slice = (name: string, endpoints: EndpointSlice['endpoints'], service = 'web'): EndpointSlice =>
    ({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': service } },
      addressType: 'IPv4',
      endpoints,
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    }) as EndpointSlice;
  const web = [svc('web', { clusterIP: '10.96.0.70', ports: [{ name: 'http', port: 80 }] })];
  const renderSlices = (slices: EndpointSlice[]) => {
    const tracker = new EndpointSliceTracker();
    let merged: ServiceEndpoints | undefined;
    for (const s of slices) {
      const r = tracker.set(s);
      if (r?.key === 'default/web') merged = r.endpoints;
    }
    return renderRules({ services: buildServicePortMap(web), endpoints: buildEndpointsMap(merged ? [merged] : [], 'node-a') }).text;
  };
  const dnatTargets = (text: string): string[] => [...text.matchAll(/--to-destination (\S+)/g)].map((m) => m[1] as string).sort();

  it('merges the slices of a service and keeps ready endpoints only', () => {
    const text = renderSlices([
      slice('web-a', [{ addresses: ['10.244.0.1'], conditions: { ready: true } }, { addresses: ['10.244.0.2'], conditions: { ready: false, serving: false } }]),
      slice('web-b', [{ addresses: ['10.244.0.3'] }]), // no conditions: ready
      slice('other', [{ addresses: ['10.244.0.9'] }], 'other'),
    ]);
    expect(dnatTargets(text)).toEqual(['10.244.0.1:8080', '10.244.0.3:8080']);
  });

  it('ready endpoints win over serving-terminating ones; with no ready ones, serving-terminating ones are used', () => {
    const terminating = { addresses: ['10.244.0.5'], conditions: { ready: false, serving: true, terminating: true } };
    expect(dnatTargets(renderSlices([slice('w', [terminating, { addresses: ['10.244.0.6'], conditions: { ready: true } }])]))).toEqual(['10.244.0.6:8080']);
    expect(dnatTargets(renderSlices([slice('w', [terminating, { addresses: ['10.244.0.7'], conditions: { ready: false, serving: false, terminating: true } }])]))).toEqual(['10.244.0.5:8080']);
  });

  it('forgets a deleted slice', () => {
    const tracker = new EndpointSliceTracker();
    tracker.set(slice('web-a', [{ addresses: ['10.244.0.1'] }]));
    tracker.set(slice('web-b', [{ addresses: ['10.244.0.2'] }]));
    expect(tracker.delete(slice('web-a', []))?.endpoints?.groups.flatMap((g) => g.addresses.map((a) => a.ip))).toEqual(['10.244.0.2']);
    expect(tracker.delete(slice('web-b', []))).toEqual({ key: 'default/web', endpoints: undefined });
    expect(tracker.set({ ...slice('x', []), metadata: { name: 'x', namespace: 'default' } } as EndpointSlice)).toBeUndefined();
  });
});

describe('renderRules behaviour', () => {
  const services = [svc('a', { clusterIP: '10.96.0.1' }), svc('b', { clusterIP: '10.96.0.2' })];
  const endpoints = [eps('a', ['10.244.0.1']), eps('b', ['10.244.0.2'])];

  it('a partial sync writes only the changed services chains but all of KUBE-SERVICES', () => {
    const full = render(services, endpoints);
    const partial = render(services, endpoints, {}, { changed: new Set(['default/b']) });
    const chainA = serviceChainName('default/a', 'tcp');
    const chainB = serviceChainName('default/b', 'tcp');
    expect(full.text).toContain(`:${chainA} - [0:0]`);
    expect(partial.text).not.toContain(`:${chainA} - [0:0]`);
    expect(partial.text).not.toContain(`-A ${chainA} `);
    expect(partial.text).toContain(`-j ${chainA}`); // still jumped to from KUBE-SERVICES
    expect(partial.text).toContain(`:${chainB} - [0:0]`);
    expect(partial.activeNatChains).toEqual(full.activeNatChains);
    expect(partial.natRulesTotal).toBe(full.natRulesTotal);
    expect(partial.natRules).toBeLessThan(full.natRules);
  });

  it('a partial sync leaves out the shared chains that did not change since the last sync', () => {
    const first = render(services, endpoints);
    // b's endpoints change but not whether it has any: KUBE-SERVICES and the filter chains stay as they were.
    const moved = [eps('a', ['10.244.0.1']), eps('b', ['10.244.0.2', '10.244.0.3'])];
    const partial = renderRules({
      services: buildServicePortMap(services),
      endpoints: buildEndpointsMap(moved.map(endpointsFromV1), 'node-a'),
      changedServices: new Set(['default/b']),
      previousShared: first.shared,
    });
    expect(partial.text).not.toContain(':KUBE-SERVICES');
    expect(partial.text).not.toContain('-A KUBE-SERVICES');
    expect(partial.text).not.toContain('*filter');
    expect(partial.text).toContain(`:${serviceChainName('default/b', 'tcp')} - [0:0]`);
    // b losing its endpoints changes KUBE-SERVICES (and the filter table's REJECT): both are written again, whole.
    const gone = renderRules({
      services: buildServicePortMap(services),
      endpoints: buildEndpointsMap([endpointsFromV1(eps('a', ['10.244.0.1']))], 'node-a'),
      changedServices: new Set(['default/b']),
      previousShared: first.shared,
    });
    expect(gone.text).toContain(':KUBE-SERVICES - [0:0]');
    expect(gone.text).toContain(`-A KUBE-SERVICES -m comment --comment "default/a cluster IP"`);
    expect(gone.text).toContain('default/b has no endpoints');
  });

  it('deletes stale service chains and leaves foreign ones alone', () => {
    const r = render(services, endpoints, {}, { existing: ['KUBE-SVC-AAAAAAAAAAAAAAAA', 'KUBE-SEP-BBBBBBBBBBBBBBBB', 'DOCKER', serviceChainName('default/a', 'tcp')] });
    expect(r.deletedNatChains).toEqual(['KUBE-SEP-BBBBBBBBBBBBBBBB', 'KUBE-SVC-AAAAAAAAAAAAAAAA']);
    expect(r.text).toContain('-X KUBE-SVC-AAAAAAAAAAAAAAAA');
    expect(r.text).not.toContain('DOCKER');
  });

  it('masquerade-all marks every ClusterIP packet', () => {
    const r = render(services, endpoints, { masqueradeAll: true });
    expect(r.text).toContain(`-A ${serviceChainName('default/a', 'tcp')} -m comment --comment "default/a cluster IP" -m tcp -p tcp -d 10.96.0.1 --dport 80 -j KUBE-MARK-MASQ`);
  });

  it('skips headless and ExternalName services', () => {
    const r = render([svc('h', { clusterIP: 'None' }), { ...svc('x'), spec: { ...svc('x').spec, type: 'ExternalName' } } as Service], []);
    expect(r.text).not.toContain('has no endpoints');
  });

  it('renders the same text for the same input whatever the order', () => {
    expect(render([...services].reverse(), [...endpoints].reverse()).text).toBe(render(services, endpoints).text);
  });
});

describe('the rendering cache', () => {
  const services = [
    svc('a', { clusterIP: '10.96.0.1' }),
    svc('b', { type: 'NodePort', clusterIP: '10.96.0.2', ports: [{ name: 'http', port: 80, nodePort: 30002 }, { name: 'dns', port: 53, protocol: 'UDP' }] }),
    svc('c', { clusterIP: '10.96.0.3', affinity: 600 }),
    svc('d', { type: 'LoadBalancer', clusterIP: '10.96.0.4', ports: [{ port: 443, nodePort: 30443 }], lbIPs: ['203.0.113.4'], sourceRanges: ['198.51.100.0/24'], externalTrafficPolicy: 'Local' }),
  ];
  const endpoints = [
    eps('a', ['10.244.0.1']),
    eps('b', ['10.244.0.2', '10.244.0.3'], [{ name: 'http', port: 8080 }, { name: 'dns', port: 53, protocol: 'UDP' }]),
    eps('c', ['10.244.0.4', '10.244.0.5']),
    eps('d', [{ ip: '10.244.0.6', nodeName: 'node-a' }, { ip: '10.244.1.6', nodeName: 'node-b' }], [{ port: 8443 }]),
  ];
  const options: Partial<RenderOptions> = { clusterCIDR: '10.244.0.0/16', nodeIP: '198.51.100.9', clusterDNS: { serviceIP: '10.96.0.10', address: '0.0.0.0', port: 10053 } };
  const maps = (s: Service[], e: Endpoints[]) => ({ services: buildServicePortMap(s), endpoints: buildEndpointsMap(e.map(endpointsFromV1), 'node-a') });
  /** Everything but the count of rendered service ports, which is what the cache changes. */
  const comparable = (r: ReturnType<typeof renderRules>) => ({ ...r, renderedServicePorts: undefined });

  it('renders every service port once, then reuses them all; the text is what a render without cache gives', () => {
    const cache = new ServiceRulesCache();
    const first = renderRules({ ...maps(services, endpoints), options, cache });
    expect(first.renderedServicePorts).toBe(5);
    const uncached = renderRules({ ...maps(services, endpoints), options });
    expect(comparable(first)).toEqual(comparable(uncached));
    // The same objects again (as the proxier passes them), and equal ones built afresh: nothing is rendered.
    const m = maps(services, endpoints);
    const again = renderRules({ ...m, options, cache });
    expect(renderRules({ ...m, options, cache }).renderedServicePorts).toBe(0);
    expect(again.text).toBe(uncached.text);
  });

  it('re-renders only the service port whose endpoints changed, and the result equals a full render', () => {
    const cache = new ServiceRulesCache();
    const before = renderRules({ ...maps(services, endpoints), options, cache });
    const moved = [...endpoints.slice(0, 2), eps('c', ['10.244.0.4', '10.244.0.7']), endpoints[3]!];
    const full = renderRules({ ...maps(services, moved), options, cache });
    expect(full.renderedServicePorts).toBe(1);
    expect(comparable(full)).toEqual(comparable(renderRules({ ...maps(services, moved), options })));
    expect(full.text).toContain('--to-destination 10.244.0.7:8080');
    // A partial sync of that change, from the cache, is the partial sync rendered from scratch.
    const partialInput = { ...maps(services, moved), options, changedServices: new Set(['default/c']), previousShared: before.shared, existingNatChains: before.activeNatChains };
    const cache2 = new ServiceRulesCache();
    renderRules({ ...maps(services, endpoints), options, cache: cache2 });
    const partial = renderRules({ ...partialInput, cache: cache2 });
    expect(partial.renderedServicePorts).toBe(1);
    expect(comparable(partial)).toEqual(comparable(renderRules(partialInput)));
    // The endpoint that went away: its chain is deleted, the new one declared.
    expect(partial.deletedNatChains).toEqual([endpointChainName('default/c', 'tcp', '10.244.0.5:8080')]);
    expect(partial.text).toContain(`:${endpointChainName('default/c', 'tcp', '10.244.0.7:8080')} - [0:0]`);
    expect(partial.text).not.toContain(serviceChainName('default/a', 'tcp'));
  });

  it('re-renders a changed Service, forgets a deleted one, and starts over when the options change', () => {
    const cache = new ServiceRulesCache();
    renderRules({ ...maps(services, endpoints), options, cache });
    const changed = [services[0]!, { ...services[1]!, spec: { ...services[1]!.spec, externalIPs: ['192.168.1.50'] } } as Service, services[2]!];
    const r = renderRules({ ...maps(changed, endpoints), options, cache });
    // b has two ports: both rendered again; d is gone.
    expect(r.renderedServicePorts).toBe(2);
    expect(comparable(r)).toEqual(comparable(renderRules({ ...maps(changed, endpoints), options })));
    expect(r.text).not.toContain('default/d');
    // d back: rendered again (its chunk was forgotten).
    expect(renderRules({ ...maps(services, endpoints), options, cache }).renderedServicePorts).toBe(3);
    const masqAll = renderRules({ ...maps(services, endpoints), options: { ...options, masqueradeAll: true }, cache });
    expect(masqAll.renderedServicePorts).toBe(5);
    expect(comparable(masqAll)).toEqual(comparable(renderRules({ ...maps(services, endpoints), options: { ...options, masqueradeAll: true } })));
  });
});

describe('jump checks in the restore text', () => {
  const services = [svc('a', { clusterIP: '10.96.0.1' }), svc('b', { clusterIP: '10.96.0.2' })];
  const endpoints = [eps('a', ['10.244.0.1']), eps('b', ['10.244.0.2'])];
  const input = { services: buildServicePortMap(services), endpoints: buildEndpointsMap(endpoints.map(endpointsFromV1), 'node-a') };

  it('checks every jump of each table it writes, after the declarations and before any rule', () => {
    const plain = renderRules(input);
    const r = renderRules({ ...input, checkJumps: 'inline' });
    const lines = r.text.split('\n');
    // Only -C lines were added; the rules are the same.
    expect(lines.filter((l) => !l.startsWith('-C ')).join('\n')).toBe(plain.text);
    for (const table of ['filter', 'nat'] as const) {
      const start = lines.indexOf(`*${table}`);
      const end = lines.indexOf('COMMIT', start);
      const section = lines.slice(start + 1, end);
      const checks = section.filter((l) => l.startsWith('-C '));
      expect(checks).toHaveLength(JUMP_RULES.filter((j) => j.table === table).length);
      const first = section.findIndex((l) => l.startsWith('-C '));
      expect(section.slice(0, first).every((l) => l.startsWith(':'))).toBe(true);
      expect(section.slice(first, first + checks.length).every((l) => l.startsWith('-C '))).toBe(true);
    }
    // As iptables-save prints the jumps: the same text iptables-restore reads back.
    expect(r.text).toContain('\n-C PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\n');
    expect(r.text).toContain('\n-C OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\n');
    expect(r.text).toContain('\n-C INPUT -j KUBE-FIREWALL\n');
  });

  it('or checks them in sections of their own, before the rules (iptables-nft)', () => {
    const plain = renderRules(input);
    const r = renderRules({ ...input, checkJumps: 'separate' });
    const checks = (table: 'filter' | 'nat') => JUMP_RULES.filter((j) => j.table === table).map((j) => `-C ${jumpRuleText(j)}\n`).join('');
    expect(r.text).toBe(`*filter\n${checks('filter')}COMMIT\n*nat\n${checks('nat')}COMMIT\n${plain.text}`);
  });

  it('a partial sync that leaves the filter table alone checks the nat jumps only', () => {
    const cache = new ServiceRulesCache();
    const full = renderRules({ ...input, cache, checkJumps: 'inline' });
    const moved = { ...input, endpoints: buildEndpointsMap([eps('a', ['10.244.0.9']), eps('b', ['10.244.0.2'])].map(endpointsFromV1), 'node-a') };
    const partial = renderRules({ ...moved, cache, checkJumps: 'inline', changedServices: new Set(['default/a']), previousShared: full.shared, existingNatChains: full.activeNatChains });
    expect(partial.text).not.toContain('*filter');
    expect(partial.text.split('\n').filter((l) => l.startsWith('-C '))).toHaveLength(JUMP_RULES.filter((j) => j.table === 'nat').length);
  });

  it('tells a failed jump check from other failures, in either layout', () => {
    const inline = '*nat\n:KUBE-SERVICES - [0:0]\n-C PREROUTING -j KUBE-SERVICES\n-A KUBE-SERVICES -j RETURN\nCOMMIT\n';
    expect(failedJumpCheck('iptables-restore: line 3 failed', inline)).toBe('-C PREROUTING -j KUBE-SERVICES');
    expect(failedJumpCheck('iptables-restore: line 4 failed', inline)).toBeUndefined();
    expect(failedJumpCheck('iptables-restore: line 5 failed', inline)).toBeUndefined();
    const separate = '*nat\n-C PREROUTING -j KUBE-SERVICES\n-C OUTPUT -j KUBE-SERVICES\nCOMMIT\n*nat\n:KUBE-SERVICES - [0:0]\nCOMMIT\n';
    // iptables-nft reports a check naming a deleted chain at the section's COMMIT.
    expect(failedJumpCheck("Chain 'KUBE-SERVICES' does not exist\nError occurred at line: 4\n", separate)).toBe('-C PREROUTING -j KUBE-SERVICES; -C OUTPUT -j KUBE-SERVICES');
    expect(failedJumpCheck('iptables-restore: line 7 failed', separate)).toBeUndefined();
    expect(failedJumpCheck('Another app is currently holding the xtables lock.', separate)).toBeUndefined();
  });

  it('finds the line iptables-restore reports as failed, as the legacy and nft backends word it', () => {
    const text = '*nat\n:KUBE-SERVICES - [0:0]\n-C PREROUTING -j KUBE-SERVICES\n-A KUBE-SERVICES -j RETURN\nCOMMIT\n';
    expect(failedRestoreLine('iptables-restore: line 3 failed\n', text)).toBe('-C PREROUTING -j KUBE-SERVICES');
    expect(failedRestoreLine('iptables-nft-restore: line 4 failed: Bad rule (does a matching rule exist in that chain?).', text)).toBe('-A KUBE-SERVICES -j RETURN');
    expect(failedRestoreLine('iptables-restore: line 1 failed', text)).toBe('*nat');
    expect(failedRestoreLine("iptables-restore v1.8.9 (nf_tables): Chain 'KUBE-SERVICES' does not exist\nError occurred at line: 3\n", text)).toBe('-C PREROUTING -j KUBE-SERVICES');
    expect(failedRestoreLine('iptables-restore: line 40 failed', text)).toBeUndefined();
    expect(failedRestoreLine('Another app is currently holding the xtables lock.', text)).toBeUndefined();
  });
});

describe('renderCleanup', () => {
  it('flushes and deletes only KUBE chains', () => {
    const nat = '*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-X - [0:0]\n:DOCKER - [0:0]\n:KUBE-MARK-MASQ - [0:0]\nCOMMIT\n';
    const filter = '*filter\n:INPUT ACCEPT [0:0]\n:KUBE-FORWARD - [0:0]\nCOMMIT\n';
    expect(renderCleanup(nat, filter)).toBe(
      '*filter\n:KUBE-FORWARD - [0:0]\n-X KUBE-FORWARD\nCOMMIT\n*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n:KUBE-SVC-X - [0:0]\n-X KUBE-SERVICES\n-X KUBE-MARK-MASQ\n-X KUBE-SVC-X\nCOMMIT\n',
    );
    expect(renderCleanup('*nat\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n', '')).toBe('');
  });
});
