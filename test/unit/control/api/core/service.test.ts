// Service defaults (SetDefaults_Service + the registry's clusterIP/ipFamily bookkeeping) and ValidateService(Update).
import { describe, expect, it } from 'vitest';
import {
  formatFieldError,
  prepareServiceForCreate,
  prepareServiceForUpdate,
  Service,
  validateService,
  validateServiceIPFamilyPolicy,
  validateServiceStatus,
  validateServiceUpdate,
} from '../../../../../control/api/index.js';
import { clone, decode, DNS1035, errorsOf, IP, LABEL, LABEL_VALUE, PORT_RANGE, updateErrorsOf, type Json } from './helpers.js';

const svc = (spec: Json, meta: Json = {}): Json => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default', ...meta }, spec });
const created = (spec: Json) => prepareServiceForCreate(decode(Service, svc(spec)));
const createErrors = (spec: Json, meta: Json = {}) => errorsOf(Service, (s) => validateService(prepareServiceForCreate(s)), svc(spec, meta));

describe('Service defaults', () => {
  const cases: Array<{ name: string; spec: Json; want: Json }> = [
    {
      name: 'ClusterIP with TCP ports, targetPort = port, single-stack IPv4',
      spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
      want: {
        type: 'ClusterIP',
        sessionAffinity: 'None',
        internalTrafficPolicy: 'Cluster',
        ipFamilyPolicy: 'SingleStack',
        ipFamilies: ['IPv4'],
        ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
      },
    },
    { name: 'targetPort 0 is unset', spec: { ports: [{ port: 81, targetPort: 0 }] }, want: { ports: [{ port: 81, protocol: 'TCP', targetPort: 81 }] } },
    { name: 'a named targetPort stays', spec: { ports: [{ port: 80, targetPort: 'http', protocol: 'UDP' }] }, want: { ports: [{ port: 80, protocol: 'UDP', targetPort: 'http' }] } },
    {
      name: 'NodePort gets externalTrafficPolicy Cluster',
      spec: { type: 'NodePort', ports: [{ port: 80 }] },
      want: { type: 'NodePort', externalTrafficPolicy: 'Cluster', internalTrafficPolicy: 'Cluster' },
    },
    {
      name: 'LoadBalancer also gets allocateLoadBalancerNodePorts',
      spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
      want: { externalTrafficPolicy: 'Cluster', allocateLoadBalancerNodePorts: true },
    },
    { name: 'ClusterIP with externalIPs is externally accessible', spec: { externalIPs: ['1.2.3.4'], ports: [{ port: 80 }] }, want: { externalTrafficPolicy: 'Cluster' } },
    {
      name: 'ClientIP affinity gets the 3 hour timeout',
      spec: { sessionAffinity: 'ClientIP', ports: [{ port: 80 }] },
      want: { sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } } },
    },
    { name: 'affinity None drops a config', spec: { sessionAffinityConfig: { clientIP: { timeoutSeconds: 5 } }, ports: [{ port: 80 }] }, want: { sessionAffinity: 'None' } },
    { name: 'clusterIP fills clusterIPs', spec: { clusterIP: '10.96.0.10', ports: [{ port: 53 }] }, want: { clusterIPs: ['10.96.0.10'], ipFamilies: ['IPv4'] } },
    { name: 'an IPv6 clusterIP gives IPv6', spec: { clusterIP: 'fd00::a', ports: [{ port: 53 }] }, want: { clusterIPs: ['fd00::a'], ipFamilies: ['IPv6'] } },
    {
      name: 'headless with a selector is single-stack',
      spec: { clusterIP: 'None', selector: { app: 'db' } },
      want: { clusterIPs: ['None'], ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4'] },
    },
    {
      name: 'headless without a selector requires dual-stack, as upstream',
      spec: { clusterIP: 'None' },
      want: { clusterIPs: ['None'], ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'] },
    },
    { name: 'ExternalName has no internalTrafficPolicy or families', spec: { type: 'ExternalName', externalName: 'example.com' }, want: { sessionAffinity: 'None' } },
  ];
  it.each(cases)('$name', ({ spec, want }) => {
    const s = created(spec);
    expect(s.spec).toMatchObject(want);
    expect(s.status).toEqual({ loadBalancer: {} });
  });

  it('leaves ExternalName services without ClusterIP-only fields', () => {
    const s = created({ type: 'ExternalName', externalName: 'example.com' });
    expect(s.spec.internalTrafficPolicy).toBeUndefined();
    expect(s.spec.ipFamilyPolicy).toBeUndefined();
    expect(s.spec.ipFamilies).toBeUndefined();
    expect(s.spec.externalTrafficPolicy).toBeUndefined();
  });

  it('defaults the ipMode of load balancer ingress with an IP', () => {
    const s = decode(Service, { ...svc({ type: 'LoadBalancer', ports: [{ port: 80 }] }), status: { loadBalancer: { ingress: [{ ip: '1.2.3.4' }, { hostname: 'lb.example.com' }] } } });
    expect(s.status?.loadBalancer.ingress).toEqual([{ ip: '1.2.3.4', ipMode: 'VIP' }, { hostname: 'lb.example.com' }]);
  });
});

describe('Service validation', () => {
  const cases: Array<{ rule: string; spec: Json; meta?: Json; want: string[] }> = [
    { rule: 'a valid service', spec: { selector: { app: 'web' }, ports: [{ port: 80 }] }, want: [] },
    { rule: 'name is a DNS-1035 label', spec: { ports: [{ port: 80 }] }, meta: { name: '1web' }, want: [`metadata.name: Invalid value: "1web": ${DNS1035}`] },
    { rule: 'ports required', spec: {}, want: ['spec.ports: Required value'] },
    { rule: 'headless needs no ports', spec: { clusterIP: 'None' }, want: [] },
    { rule: 'port range', spec: { ports: [{ port: 70000 }] }, want: [`spec.ports[0].port: Invalid value: 70000: ${PORT_RANGE}`, `spec.ports[0].targetPort: Invalid value: 70000: ${PORT_RANGE}`] },
    { rule: 'port required', spec: { ports: [{ name: 'a', port: 0, targetPort: 80 }] }, want: [`spec.ports[0].port: Invalid value: 0: ${PORT_RANGE}`] },
    {
      rule: 'names required with several ports',
      spec: { ports: [{ port: 80 }, { port: 443, name: 'https' }] },
      want: ['spec.ports[0].name: Required value'],
    },
    {
      rule: 'port names are DNS labels and unique',
      spec: { ports: [{ port: 80, name: 'Web' }, { port: 81, name: 'x' }, { port: 82, name: 'x' }] },
      want: [`spec.ports[0].name: Invalid value: "Web": ${LABEL}`, 'spec.ports[2].name: Duplicate value: "x"'],
    },
    { rule: 'protocol', spec: { ports: [{ port: 80, protocol: 'tcp' }] }, want: ['spec.ports[0].protocol: Unsupported value: "tcp": supported values: "SCTP", "TCP", "UDP"'] },
    {
      rule: 'named targetPort syntax',
      spec: { ports: [{ port: 80, targetPort: 'HTTP' }] },
      want: [
        'spec.ports[0].targetPort: Invalid value: "HTTP": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
        'spec.ports[0].targetPort: Invalid value: "HTTP": must contain at least one letter (a-z)',
      ],
    },
    {
      rule: 'duplicate (protocol, port)',
      spec: { ports: [{ port: 80, name: 'a' }, { port: 80, name: 'b' }] },
      want: ['spec.ports[1]: Duplicate value: {"port":80,"protocol":"TCP"}'],
    },
    { rule: 'same port, other protocol', spec: { ports: [{ port: 53, name: 'a' }, { port: 53, name: 'b', protocol: 'UDP' }] }, want: [] },
    { rule: 'selector syntax', spec: { selector: { app: '-x' }, ports: [{ port: 80 }] }, want: [`spec.selector: Invalid value: "-x": ${LABEL_VALUE}`] },
    { rule: 'type', spec: { type: 'Internal', ports: [{ port: 80 }] }, want: ['spec.type: Unsupported value: "Internal": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"'] },
    {
      rule: 'sessionAffinity',
      spec: { sessionAffinity: 'Cookie', ports: [{ port: 80 }] },
      want: ['spec.sessionAffinity: Unsupported value: "Cookie": supported values: "ClientIP", "None"'],
    },
    {
      rule: 'ClientIP timeout range',
      spec: { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 90000 } }, ports: [{ port: 80 }] },
      want: ['spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 90000: must be greater than 0 and less than 86400'],
    },
    { rule: 'clusterIP must be an IP', spec: { clusterIP: '10.0.0.300', ports: [{ port: 80 }] }, want: [`spec.clusterIPs[0]: Invalid value: "10.0.0.300": ${IP}`] },
    {
      rule: 'clusterIPs[0] must match clusterIP',
      spec: { clusterIP: '10.0.0.1', clusterIPs: ['10.0.0.2'], ports: [{ port: 80 }] },
      want: ['spec.clusterIPs: Invalid value: ["10.0.0.2"]: first value must match `clusterIP`'],
    },
    {
      rule: 'clusterIPs without clusterIP',
      spec: { clusterIPs: ['10.0.0.2'], ports: [{ port: 80 }] },
      want: ['spec.clusterIPs: Invalid value: ["10.0.0.2"]: must be empty when `clusterIP` is not specified'],
    },
    {
      rule: 'two IPs of one family',
      spec: { clusterIP: '10.0.0.1', clusterIPs: ['10.0.0.1', '10.0.0.2'], ipFamilyPolicy: 'RequireDualStack', ports: [{ port: 80 }] },
      want: ['spec.clusterIPs: Invalid value: ["10.0.0.1","10.0.0.2"]: may specify no more than one IP for each IP family'],
    },
    {
      rule: 'family must match the IP',
      spec: { clusterIP: '10.0.0.1', ipFamilies: ['IPv6'], ports: [{ port: 80 }] },
      want: ['spec.clusterIPs[0]: Invalid value: "10.0.0.1": expected an IPv6 value as indicated by `ipFamilies[0]`'],
    },
    {
      rule: 'ipFamilyPolicy values',
      spec: { ipFamilyPolicy: 'DualStack', ports: [{ port: 80 }] },
      want: ['spec.ipFamilyPolicy: Unsupported value: "DualStack": supported values: "PreferDualStack", "RequireDualStack", "SingleStack"'],
    },
    {
      rule: 'headless NodePort',
      spec: { type: 'NodePort', clusterIP: 'None', ports: [{ port: 80 }] },
      want: ['spec.clusterIPs[0]: Invalid value: "None": may not be set to \'None\' for NodePort services'],
    },
    {
      rule: 'headless LoadBalancer',
      spec: { type: 'LoadBalancer', clusterIP: 'None', ports: [{ port: 80 }] },
      want: ['spec.clusterIPs[0]: Invalid value: "None": may not be set to \'None\' for LoadBalancer services'],
    },
    {
      rule: 'nodePort on ClusterIP',
      spec: { ports: [{ port: 80, nodePort: 30000 }] },
      want: ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"],
    },
    {
      rule: 'duplicate nodePort',
      spec: { type: 'NodePort', ports: [{ port: 80, name: 'a', nodePort: 30000 }, { port: 81, name: 'b', nodePort: 30000 }] },
      want: ['spec.ports[1].nodePort: Duplicate value: 30000'],
    },
    { rule: 'externalName required', spec: { type: 'ExternalName' }, want: ['spec.externalName: Required value'] },
    { rule: 'externalName may end in a dot', spec: { type: 'ExternalName', externalName: 'db.example.com.' }, want: [] },
    {
      rule: 'clusterIP on ExternalName',
      spec: { type: 'ExternalName', externalName: 'x.example.com', clusterIP: '10.0.0.1' },
      want: ['spec.clusterIPs: Forbidden: may not be set for ExternalName services'],
    },
    {
      rule: 'externalTrafficPolicy only for external services',
      spec: { externalTrafficPolicy: 'Local', ports: [{ port: 80 }] },
      want: ['spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services'],
    },
    {
      rule: 'externalTrafficPolicy values',
      spec: { type: 'NodePort', externalTrafficPolicy: 'Global', ports: [{ port: 80 }] },
      want: ['spec.externalTrafficPolicy: Unsupported value: "Global": supported values: "Cluster", "Local"'],
    },
    {
      rule: 'internalTrafficPolicy values',
      spec: { internalTrafficPolicy: 'Node', ports: [{ port: 80 }] },
      want: ['spec.internalTrafficPolicy: Unsupported value: "Node": supported values: "Cluster", "Local"'],
    },
    {
      rule: 'loadBalancerSourceRanges only for LoadBalancer',
      spec: { loadBalancerSourceRanges: ['10.0.0.0/8'], ports: [{ port: 80 }] },
      want: ["spec.LoadBalancerSourceRanges: Forbidden: may only be used when `type` is 'LoadBalancer'"],
    },
    {
      rule: 'loadBalancerSourceRanges are CIDRs',
      spec: { type: 'LoadBalancer', loadBalancerSourceRanges: ['10.0.0.0'], ports: [{ port: 80 }] },
      want: ['spec.LoadBalancerSourceRanges[0]: Invalid value: "10.0.0.0": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'],
    },
    {
      rule: 'externalIPs may not be loopback',
      spec: { externalIPs: ['127.0.0.1'], ports: [{ port: 80 }] },
      want: ['spec.externalIPs[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)'],
    },
    {
      rule: 'loadBalancerClass only for LoadBalancer',
      spec: { loadBalancerClass: 'example.com/lb', ports: [{ port: 80 }] },
      want: ["spec.loadBalancerClass: Forbidden: may only be used when `type` is 'LoadBalancer'"],
    },
  ];
  it.each(cases)('$rule', ({ spec, meta, want }) => {
    expect(createErrors(spec, meta)).toEqual(want);
  });
});

describe('Service ipFamilyPolicy and status', () => {
  it('refuses SingleStack with two families or two IPs', () => {
    const s = created({ ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4', 'IPv6'], clusterIP: '10.0.0.1', clusterIPs: ['10.0.0.1', 'fd00::1'], ports: [{ port: 80 }] });
    expect(validateServiceIPFamilyPolicy(s).map(formatFieldError)).toEqual([
      'spec.ipFamilyPolicy: Invalid value: "SingleStack": must be \'RequireDualStack\' or \'PreferDualStack\' when multiple cluster IPs are specified',
      'spec.ipFamilyPolicy: Invalid value: "SingleStack": must be \'RequireDualStack\' or \'PreferDualStack\' when multiple IP families are specified',
    ]);
    expect(validateService(s)).toEqual([]);
  });

  it('validates load balancer status', () => {
    const lb = decode(Service, { ...svc({ type: 'LoadBalancer', ports: [{ port: 80 }] }), status: { loadBalancer: { ingress: [{ ip: '1.2.3.4', ipMode: 'Direct' }, { hostname: '1.2.3.4' }] } } });
    expect(validateServiceStatus(lb).map(formatFieldError)).toEqual([
      'status.loadBalancer.ingress[0].ipMode: Unsupported value: "Direct": supported values: "Proxy", "VIP"',
      'status.loadBalancer.ingress[1].hostname: Invalid value: "1.2.3.4": must be a DNS name, not an IP address',
    ]);
    const plain = decode(Service, { ...svc({ ports: [{ port: 80 }] }), status: { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } } });
    expect(validateServiceStatus(plain).map(formatFieldError)).toEqual([
      "status.loadBalancer.ingress: Forbidden: may only be used when `spec.type` is 'LoadBalancer'",
    ]);
  });
});

describe('Service update', () => {
  const stored = (spec: Json): Json => {
    const s = prepareServiceForCreate(decode(Service, svc(spec)));
    return JSON.parse(JSON.stringify(s));
  };
  const upd = (spec: Json, old: Json) =>
    updateErrorsOf(Service, validateServiceUpdate, svc(spec), old, (n, o) => prepareServiceForUpdate(n, o));

  it('keeps an allocated clusterIP when the client leaves it out (kubectl apply)', () => {
    const old = stored({ clusterIP: '10.96.0.20', ports: [{ port: 80 }] });
    const next = prepareServiceForUpdate(decode(Service, svc({ ports: [{ port: 8080 }] })), decode(Service, old));
    expect(next.spec.clusterIP).toBe('10.96.0.20');
    expect(next.spec.clusterIPs).toEqual(['10.96.0.20']);
    expect(next.spec.ipFamilies).toEqual(['IPv4']);
    expect(validateServiceUpdate(next, decode(Service, old))).toEqual([]);
  });

  it('keeps allocated nodePorts by port name', () => {
    const old = stored({ type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080 }] });
    const next = prepareServiceForUpdate(decode(Service, svc({ type: 'NodePort', ports: [{ name: 'http', port: 8080 }] })), decode(Service, old));
    expect(next.spec.ports?.[0]?.nodePort).toBe(30080);
  });

  it('refuses to change clusterIP', () => {
    const old = stored({ clusterIP: '10.96.0.20', ports: [{ port: 80 }] });
    expect(upd({ clusterIP: '10.96.0.21', clusterIPs: ['10.96.0.21'], ports: [{ port: 80 }] }, old)).toEqual([
      'spec.clusterIPs[0]: Invalid value: ["10.96.0.21"]: may not change once set',
    ]);
  });

  it('refuses to turn a service headless', () => {
    const old = stored({ clusterIP: '10.96.0.20', ports: [{ port: 80 }] });
    expect(upd({ clusterIP: 'None', clusterIPs: ['None'], ports: [{ port: 80 }] }, old)).toEqual([
      'spec.clusterIPs[0]: Invalid value: ["None"]: may not change once set',
    ]);
  });

  it('refuses to change the primary ipFamily', () => {
    const old = stored({ clusterIP: '10.96.0.20', ports: [{ port: 80 }] });
    expect(upd({ clusterIP: '10.96.0.20', ipFamilies: ['IPv6'], ports: [{ port: 80 }] }, old)).toEqual([
      'spec.ipFamilies[0]: Invalid value: ["IPv6"]: may not change once set',
      'spec.clusterIPs[0]: Invalid value: "10.96.0.20": expected an IPv6 value as indicated by `ipFamilies[0]`',
    ]);
  });

  it('allows ClusterIP -> NodePort -> ClusterIP, dropping type-dependent fields', () => {
    const old = stored({ clusterIP: '10.96.0.20', ports: [{ port: 80 }] });
    const np = prepareServiceForUpdate(decode(Service, svc({ type: 'NodePort', ports: [{ port: 80, nodePort: 30001 }] })), decode(Service, old));
    expect(validateServiceUpdate(np, decode(Service, old))).toEqual([]);
    expect(np.spec.externalTrafficPolicy).toBe('Cluster');
    const back = prepareServiceForUpdate(decode(Service, clone({ ...JSON.parse(JSON.stringify(np)), spec: { ...JSON.parse(JSON.stringify(np.spec)), type: 'ClusterIP' } })), np);
    expect(back.spec.externalTrafficPolicy).toBeUndefined();
    expect(back.spec.ports?.[0]?.nodePort).toBeUndefined();
    expect(validateServiceUpdate(back, np)).toEqual([]);
  });

  it('allows switching to ExternalName, wiping the cluster IP fields it was given back', () => {
    const old = decode(Service, stored({ clusterIP: '10.96.0.20', ports: [{ port: 80 }] }));
    const next = prepareServiceForUpdate(decode(Service, { ...JSON.parse(JSON.stringify(old)), spec: { ...JSON.parse(JSON.stringify(old.spec)), type: 'ExternalName', externalName: 'x.example.com' } }), old);
    expect(next.spec.clusterIP).toBeUndefined();
    expect(next.spec.ipFamilies).toBeUndefined();
    expect(validateServiceUpdate(next, old)).toEqual([]);
  });
});
