// networking.k8s.io/v1 Ingress: schema defaults and upstream's ValidateIngressCreate / Update / StatusUpdate rules.
import { describe, expect, it } from 'vitest';
import { ingressCreateWarnings, ingressKind, parseIngress, parseKindUpdate } from '../../../../../control/api/index.js';
import { lines, must, type Obj } from '../apps/helpers.js';

const backend = (name = 'svc1', port: Obj = { number: 8080 }): Obj => ({ service: { name, port } });
const httpPath = (extra: Obj = {}): Obj => ({ path: '/bar', pathType: 'Prefix', backend: backend(), ...extra });

function ingress(edit: (i: Obj) => void = () => {}): Obj {
  const i: Obj = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'simple', namespace: 'default' },
    spec: { rules: [{ host: 'foo.com', http: { paths: [httpPath()] } }] },
  };
  edit(i);
  return i;
}

describe('Ingress defaults', () => {
  it('keeps the fields as given and adds an empty load balancer status', () => {
    const ing = must(parseIngress(ingress((i) => (i.spec.tls = [{ hosts: ['foo.com'], secretName: 'my-cert' }]))));
    expect(ing.spec).toEqual({
      rules: [{ host: 'foo.com', http: { paths: [{ path: '/bar', pathType: 'Prefix', backend: { service: { name: 'svc1', port: { number: 8080 } } } }] } }],
      tls: [{ hosts: ['foo.com'], secretName: 'my-cert' }],
    });
    expect(ing.spec.ingressClassName).toBeUndefined();
    expect(ing.status).toEqual({ loadBalancer: {} });
  });
  it('puts an ingress without a namespace in default', () => {
    expect(must(parseIngress(ingress((i) => delete i.metadata.namespace))).metadata.namespace).toBe('default');
  });
});

describe('Ingress validation', () => {
  it('accepts a rule with a host, a wildcard host, no host, and a default backend alone', () => {
    expect(lines(parseIngress(ingress()))).toEqual([]);
    expect(lines(parseIngress(ingress((i) => (i.spec.rules[0].host = '*.foo.com'))))).toEqual([]);
    expect(lines(parseIngress(ingress((i) => delete i.spec.rules[0].host)))).toEqual([]);
    expect(lines(parseIngress(ingress((i) => (i.spec = { defaultBackend: backend('web', { name: 'http' }) }))))).toEqual([]);
  });

  it('needs a default backend or rules', () => {
    expect(lines(parseIngress(ingress((i) => (i.spec = {}))))).toEqual([
      'spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified',
    ]);
  });

  it('requires pathType and allows only Exact, Prefix and ImplementationSpecific', () => {
    expect(lines(parseIngress(ingress((i) => delete i.spec.rules[0].http.paths[0].pathType)))).toEqual([
      'spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified',
    ]);
    expect(lines(parseIngress(ingress((i) => (i.spec.rules[0].http.paths[0].pathType = 'Regex'))))).toEqual([
      'spec.rules[0].http.paths[0].pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"',
    ]);
  });

  it('wants absolute, clean paths for Exact and Prefix; ImplementationSpecific may leave the path empty', () => {
    const withPath = (path: string | undefined, pathType = 'Prefix') => lines(parseIngress(ingress((i) => (i.spec.rules[0].http.paths[0] = httpPath({ path, pathType })))));
    expect(withPath('bar')).toEqual(['spec.rules[0].http.paths[0].path: Invalid value: "bar": must be an absolute path']);
    expect(withPath(undefined, 'Exact')).toEqual(['spec.rules[0].http.paths[0].path: Invalid value: "": must be an absolute path']);
    expect(withPath('/a//b')).toEqual(["spec.rules[0].http.paths[0].path: Invalid value: \"/a//b\": must not contain '//'"]);
    expect(withPath('/a/..')).toEqual(["spec.rules[0].http.paths[0].path: Invalid value: \"/a/..\": cannot end with '/..'"]);
    expect(withPath('/a%2Fb')).toEqual(["spec.rules[0].http.paths[0].path: Invalid value: \"/a%2Fb\": must not contain '%2F'"]);
    expect(withPath(undefined, 'ImplementationSpecific')).toEqual([]);
    expect(withPath('/a//b', 'ImplementationSpecific')).toEqual([]);
    expect(withPath('a', 'ImplementationSpecific')).toEqual(['spec.rules[0].http.paths[0].path: Invalid value: "a": must be an absolute path']);
  });

  it('wants a rule host to be a DNS name, optionally with one leading wildcard label, never an IP', () => {
    expect(lines(parseIngress(ingress((i) => (i.spec.rules[0].host = '1.2.3.4'))))).toEqual([
      'spec.rules[0].host: Invalid value: "1.2.3.4": must be a DNS name, not an IP address',
    ]);
    expect(lines(parseIngress(ingress((i) => (i.spec.rules[0].host = 'Foo.com'))))).toEqual([
      "spec.rules[0].host: Invalid value: \"Foo.com\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    ]);
    expect(lines(parseIngress(ingress((i) => (i.spec.rules[0].host = 'foo.*.com'))))).toEqual([
      "spec.rules[0].host: Invalid value: \"foo.*.com\": a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    ]);
  });

  it('requires paths in an http rule', () => {
    expect(lines(parseIngress(ingress((i) => (i.spec.rules[0].http = {}))))).toEqual(['spec.rules[0].http.paths: Required value']);
  });

  it('wants exactly one of a service and a resource backend', () => {
    const b = (x: Obj) => lines(parseIngress(ingress((i) => (i.spec.rules[0].http.paths[0].backend = x))));
    expect(b({})).toEqual(['spec.rules[0].http.paths[0].backend: Invalid value: "": resource or service backend is required']);
    expect(b({ ...backend(), resource: { kind: 'Bucket', name: 'b' } })).toEqual([
      'spec.rules[0].http.paths[0].backend: Invalid value: "": cannot set both resource and service backends',
    ]);
    expect(b({ resource: { apiGroup: 'example.com', kind: 'Bucket', name: 'b' } })).toEqual([]);
    expect(b({ resource: { name: 'a/b' } })).toEqual([
      'spec.rules[0].http.paths[0].backend.resource.kind: Required value',
      "spec.rules[0].http.paths[0].backend.resource.name: Invalid value: \"a/b\": may not contain '/'",
    ]);
  });

  it('wants a service backend with a DNS-1035 name and a port number or name, not both', () => {
    const b = (x: Obj) => lines(parseIngress(ingress((i) => (i.spec.rules[0].http.paths[0].backend = x))));
    expect(b({ service: { name: 'svc', port: { name: 'http' } } })).toEqual([]);
    expect(b({ service: { name: 'svc' } })).toEqual(['spec.rules[0].http.paths[0].backend: Required value: port name or number is required']);
    expect(b({ service: { name: 'svc', port: { name: 'http', number: 80 } } })).toEqual([
      'spec.rules[0].http.paths[0].backend: Invalid value: "": cannot set both port name & port number',
    ]);
    expect(b({ service: { name: 'svc', port: { number: 70000 } } })).toEqual([
      'spec.rules[0].http.paths[0].backend.service.port.number: Invalid value: 70000: must be between 1 and 65535, inclusive',
    ]);
    expect(b({ service: { name: 'svc', port: { name: 'Http' } } })).toEqual([
      'spec.rules[0].http.paths[0].backend.service.port.name: Invalid value: "Http": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
    ]);
    expect(b({ service: { port: { number: 80 } } })).toEqual(['spec.rules[0].http.paths[0].backend.service.name: Required value']);
    expect(b({ service: { name: '1svc', port: { number: 80 } } })[0]).toMatch(/^spec\.rules\[0\]\.http\.paths\[0\]\.backend\.service\.name: Invalid value: "1svc": a DNS-1035 label must consist of/);
  });

  it('checks TLS hosts and secret names', () => {
    expect(lines(parseIngress(ingress((i) => (i.spec.tls = [{ hosts: ['*.foo.com', 'foo.com'], secretName: 'my-cert' }]))))).toEqual([]);
    const errs = lines(parseIngress(ingress((i) => (i.spec.tls = [{ hosts: ['foo_bar'], secretName: 'My_Cert' }]))));
    expect(errs).toHaveLength(2);
    expect(errs[0]).toMatch(/^spec\.tls\[0\]\.hosts\[0\]: Invalid value: "foo_bar": a lowercase RFC 1123 subdomain/);
    expect(errs[1]).toMatch(/^spec\.tls\[0\]\.secretName: Invalid value: "My_Cert": a lowercase RFC 1123 subdomain/);
  });

  it('checks the class name and that the deprecated annotation agrees with it', () => {
    expect(lines(parseIngress(ingress((i) => (i.spec.ingressClassName = 'Nginx'))))[0]).toMatch(/^spec\.ingressClassName: Invalid value: "Nginx": a lowercase RFC 1123 subdomain/);
    expect(lines(parseIngress(ingress((i) => {
      i.spec.ingressClassName = 'nginx';
      i.metadata.annotations = { 'kubernetes.io/ingress.class': 'traefik' };
    })))).toEqual(['annotations.kubernetes.io/ingress.class: Invalid value: "traefik": must match `ingressClassName` when both are specified']);
  });

  it('warns about the deprecated class annotation on create', () => {
    const ing = must(parseIngress(ingress((i) => (i.metadata.annotations = { 'kubernetes.io/ingress.class': 'nginx' }))));
    expect(ingressCreateWarnings(ing)).toEqual([`annotation "kubernetes.io/ingress.class" is deprecated, please use 'spec.ingressClassName' instead`]);
    expect(ingressCreateWarnings(must(parseIngress(ingress())))).toEqual([]);
  });
});

describe('Ingress updates', () => {
  it('keeps allowing an invalid secret name that is already stored, but not a new one', () => {
    const bad = ingress((i) => (i.spec.tls = [{ secretName: 'Bad_Name' }]));
    const stored = ingressKind.schema.parse(bad);
    expect(lines(parseKindUpdate(ingressKind, bad, stored))).toEqual([]);
    const good = must(parseIngress(ingress()));
    expect(lines(parseKindUpdate(ingressKind, bad, good))[0]).toMatch(/^spec\.tls\[0\]\.secretName: Invalid value: "Bad_Name"/);
  });

  it('checks the load balancer status: IPs and DNS host names', () => {
    const old = must(parseIngress(ingress()));
    const withStatus = (points: Obj[]) => ({ ...ingress(), status: { loadBalancer: { ingress: points } } });
    expect(lines(parseKindUpdate(ingressKind, withStatus([{ ip: '10.0.0.1' }, { hostname: 'lb.example.com', ports: [{ port: 80, protocol: 'TCP' }] }]), old))).toEqual([]);
    expect(lines(parseKindUpdate(ingressKind, withStatus([{ ip: '10.0.0.300' }, { hostname: '10.0.0.1' }]), old))).toEqual([
      'status.loadBalancer.ingress[0].ip: Invalid value: "10.0.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
      'status.loadBalancer.ingress[1].hostname: Invalid value: "10.0.0.1": must be a DNS name, not an IP address',
    ]);
  });
});
