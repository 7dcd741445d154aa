import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildEndpointsMap, buildServicePortMap } from '../../../proxy/model.js';
import {
  base32,
  endpointChainName,
  portProtoHash,
  probability,
  renderCleanup,
  renderRules,
  serviceChainName,
  type RenderOptions,
} from '../../../proxy/iptables/rules.js';
import { eps, svc } from './fixtures.js';
import type { Endpoints, Service } from '../../../control/api/core/index.js';

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
    endpoints: buildEndpointsMap(endpoints, 'node-a'),
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
