// networking.k8s.io/v1 NetworkPolicy: upstream's defaults (SetDefaults_NetworkPolicy, SetDefaults_NetworkPolicyPort)
// and ValidateNetworkPolicy / ValidateNetworkPolicyUpdate as of Kubernetes 1.32.
import { describe, expect, it } from 'vitest';
import { networkPolicyKind, parseKindUpdate, parseNetworkPolicy } from '../../../../../control/api/index.js';
import { lines, must, type Obj } from '../apps/helpers.js';

function policy(spec: Obj = {}, name = 'np'): Obj {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: 'default' }, spec };
}

const ingressFrom = (peer: Obj, ports?: Obj[]): Obj => ({ ingress: [{ from: [peer], ...(ports ? { ports } : {}) }] });
const egressTo = (peer: Obj, ports?: Obj[]): Obj => ({ egress: [{ to: [peer], ...(ports ? { ports } : {}) }] });
const errs = (spec: Obj): string[] => lines(parseNetworkPolicy(policy(spec)));

describe('NetworkPolicy defaults', () => {
  it('makes a policy with no rules an Ingress policy selecting every pod (default deny)', () => {
    const np = must(parseNetworkPolicy(policy()));
    expect(np.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress'] });
    expect(np.metadata.namespace).toBe('default');
  });

  it('adds Egress only when egress rules are present, and keeps policyTypes given', () => {
    expect(must(parseNetworkPolicy(policy({ egress: [{}] }))).spec.policyTypes).toEqual(['Ingress', 'Egress']);
    // An empty list is no rules (len == 0 upstream).
    expect(must(parseNetworkPolicy(policy({ egress: [] }))).spec.policyTypes).toEqual(['Ingress']);
    expect(must(parseNetworkPolicy(policy({ policyTypes: ['Egress'] }))).spec.policyTypes).toEqual(['Egress']);
    expect(must(parseNetworkPolicy(policy({ policyTypes: ['Egress'], egress: [{}] }))).spec.policyTypes).toEqual(['Egress']);
    // An explicitly empty list is defaulted too.
    expect(must(parseNetworkPolicy(policy({ policyTypes: [], ingress: [{}] }))).spec.policyTypes).toEqual(['Ingress']);
  });

  it('defaults a port protocol to TCP and leaves port and endPort as given', () => {
    const np = must(parseNetworkPolicy(policy(ingressFrom({ podSelector: { matchLabels: { app: 'web' } } }, [{ port: 80 }, { protocol: 'UDP', port: 53 }, {}, { port: 32000, endPort: 32768 }]))));
    expect(np.spec.ingress?.[0]?.ports).toEqual([
      { protocol: 'TCP', port: 80 },
      { protocol: 'UDP', port: 53 },
      { protocol: 'TCP' },
      { protocol: 'TCP', port: 32000, endPort: 32768 },
    ]);
  });
});

describe('NetworkPolicy validation', () => {
  it('accepts the usual peers: a podSelector, a namespaceSelector, both together, an ipBlock with except inside', () => {
    expect(errs(ingressFrom({ podSelector: { matchLabels: { role: 'frontend' } } }, [{ port: 80 }]))).toEqual([]);
    expect(errs(ingressFrom({ namespaceSelector: {} }))).toEqual([]);
    expect(errs(ingressFrom({ podSelector: { matchLabels: { role: 'frontend' } }, namespaceSelector: { matchLabels: { team: 'a' } } }))).toEqual([]);
    expect(errs(egressTo({ ipBlock: { cidr: '172.17.0.0/16', except: ['172.17.1.0/24'] } }, [{ protocol: 'SCTP', port: 'dns' }]))).toEqual([]);
    expect(errs(egressTo({ ipBlock: { cidr: '2001:db8::/32', except: ['2001:db8:1::/48'] } }))).toEqual([]);
    // ParseCIDRSloppy takes host bits and leading zeros.
    expect(errs(egressTo({ ipBlock: { cidr: '10.0.0.1/8', except: ['010.1.0.0/16'] } }))).toEqual([]);
    expect(errs({ ingress: [{}], egress: [{}], policyTypes: ['Ingress', 'Egress'] })).toEqual([]);
  });

  it('refuses a peer with nothing in it, and an ipBlock with another peer', () => {
    expect(errs(ingressFrom({}))).toEqual(['spec.ingress[0].from[0]: Required value: must specify a peer']);
    expect(errs(egressTo({ podSelector: {}, ipBlock: { cidr: '10.0.0.0/8' } }))).toEqual(['spec.egress[0].to[0]: Forbidden: may not specify both ipBlock and another peer']);
  });

  it('checks the ipBlock cidr and its except ranges', () => {
    const block = (ipBlock: Obj) => errs(ingressFrom({ ipBlock }));
    expect(block({})).toEqual(['spec.ingress[0].from[0].ipBlock.cidr: Required value']);
    expect(block({ cidr: '10.0.0.0' })).toEqual(['spec.ingress[0].from[0].ipBlock.cidr: Invalid value: "10.0.0.0": not a valid CIDR']);
    expect(block({ cidr: '192.168.0.0/24', except: ['192.168.0.0/16'] })).toEqual([
      'spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "192.168.0.0/16": must be a strict subset of `cidr`',
    ]);
    expect(block({ cidr: '192.168.0.0/16', except: ['192.168.0.0/16', '10.0.0.0/24', '192.168.5.0/24'] })).toEqual([
      'spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "192.168.0.0/16": must be a strict subset of `cidr`',
      'spec.ingress[0].from[0].ipBlock.except[1]: Invalid value: "10.0.0.0/24": must be a strict subset of `cidr`',
    ]);
    // Another family is never inside.
    expect(block({ cidr: '0.0.0.0/0', except: ['::/1'] })).toEqual(['spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "::/1": must be a strict subset of `cidr`']);
    // An except that does not parse ends the checks of the block.
    expect(block({ cidr: '10.0.0.0/8', except: ['11.0.0.0/16', 'nope', '12.0.0.0/16'] })).toEqual([
      'spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "11.0.0.0/16": must be a strict subset of `cidr`',
      'spec.ingress[0].from[0].ipBlock.except[1]: Invalid value: "nope": not a valid CIDR',
    ]);
  });

  it('checks ports: protocol, number range, names, and endPort', () => {
    const port = (p: Obj) => errs(egressTo({ podSelector: {} }, [p]));
    expect(port({ protocol: 'ICMP', port: 80 })).toEqual(['spec.egress[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"']);
    expect(port({ port: 0 })).toEqual(['spec.egress[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive']);
    expect(port({ port: 'HTTP' })).toEqual([
      'spec.egress[0].ports[0].port: Invalid value: "HTTP": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
      'spec.egress[0].ports[0].port: Invalid value: "HTTP": must contain at least one letter (a-z)',
    ]);
    // A JSON string is a name, even when it holds digits.
    expect(port({ port: '80' })).toEqual(['spec.egress[0].ports[0].port: Invalid value: "80": must contain at least one letter (a-z)']);
    expect(port({ port: 8080, endPort: 80 })).toEqual(['spec.egress[0].ports[0].endPort: Invalid value: 80: must be greater than or equal to `port`']);
    expect(port({ port: 80, endPort: 70000 })).toEqual(['spec.egress[0].ports[0].endPort: Invalid value: 70000: must be between 1 and 65535, inclusive']);
    expect(port({ port: 'http', endPort: 90 })).toEqual(['spec.egress[0].ports[0].endPort: Invalid value: 90: may not be specified when `port` is non-numeric']);
    expect(port({ endPort: 90 })).toEqual(['spec.egress[0].ports[0].endPort: Invalid value: 90: may not be specified when `port` is not specified']);
  });

  it('checks label selectors of the policy and of peers', () => {
    expect(errs({ podSelector: { matchExpressions: [{ key: 'app', operator: 'Equals', values: ['web'] }] } })).toEqual([
      'spec.podSelector.matchExpressions[0].operator: Invalid value: "Equals": not a valid selector operator',
    ]);
    expect(errs(ingressFrom({ namespaceSelector: { matchLabels: { team: 'a b' } } }))[0]).toMatch(/^spec\.ingress\[0\]\.from\[0\]\.namespaceSelector\.matchLabels: Invalid value: "a b": /);
  });

  it('checks policyTypes: known values, at most two', () => {
    expect(errs({ policyTypes: ['ingress'] })).toEqual(['spec.policyTypes[0]: Unsupported value: "ingress": supported values: "Ingress", "Egress"']);
    expect(errs({ policyTypes: ['Ingress', 'Egress', 'Ingress'] })).toEqual([
      'spec.policyTypes: Invalid value: []networking.PolicyType{"Ingress", "Egress", "Ingress"}: may not specify more than two policyTypes',
    ]);
  });

  it('checks the name as a DNS subdomain', () => {
    expect(lines(parseNetworkPolicy(policy({}, 'Bad_Name')))[0]).toMatch(/^metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
  });

  it('validates an update as a create', () => {
    const old = must(parseNetworkPolicy(policy()));
    expect(lines(parseKindUpdate(networkPolicyKind, policy({ ...egressTo({ ipBlock: { cidr: '10.0.0.0/8' } }) }), old))).toEqual([]);
    expect(lines(parseKindUpdate(networkPolicyKind, policy(egressTo({ ipBlock: { cidr: '10.0.0.0/33' } })), old))).toEqual([
      'spec.egress[0].to[0].ipBlock.cidr: Invalid value: "10.0.0.0/33": not a valid CIDR',
    ]);
  });
});
