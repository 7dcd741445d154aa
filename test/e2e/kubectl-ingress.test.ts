import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane } from './control-harness.js';

const table = (out: string): string[][] => out.trim().split('\n').map((l) => l.trim().split(/\s{2,}/));

/** networking.k8s.io/v1 Ingresses and IngressClasses with the real kubectl against `skiff control`. */
describe('kubectl and networking.k8s.io/v1', () => {
  const cp = new ControlPlane();
  beforeAll(async () => {
    await cp.start();
  });
  afterAll(async () => {
    await cp.stop();
  });

  it('lists ingresses, ingressclasses and networkpolicies in api-resources', () => {
    const lines = cp.k(['api-resources', '--api-group=networking.k8s.io']).trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND$/);
    expect(lines.slice(1).map((l) => l.trim().split(/\s+/))).toEqual([
      ['ingressclasses', 'networking.k8s.io/v1', 'false', 'IngressClass'],
      ['ingresses', 'ing', 'networking.k8s.io/v1', 'true', 'Ingress'],
      ['networkpolicies', 'netpol', 'networking.k8s.io/v1', 'true', 'NetworkPolicy'],
    ]);
  });

  it('creates an ingress with kubectl create ingress and prints it with upstream columns', () => {
    expect(cp.k(['create', 'ingress', 'simple', '--rule=foo.com/bar=svc1:8080,tls=my-cert']).trim()).toBe('ingress.networking.k8s.io/simple created');
    const rows = table(cp.k(['get', 'ingress']));
    expect(rows[0]).toEqual(['NAME', 'CLASS', 'HOSTS', 'ADDRESS', 'PORTS', 'AGE']);
    // ADDRESS is empty: no controller has written a load balancer status.
    expect(rows[1]?.slice(0, 4)).toEqual(['simple', '<none>', 'foo.com', '80, 443']);
    expect(cp.k(['get', 'ing', 'simple', '-o', 'name']).trim()).toBe('ingress.networking.k8s.io/simple');
    const spec = JSON.parse(cp.k(['get', 'ingress', 'simple', '-o', 'json']));
    expect(spec.spec).toEqual({
      rules: [{ host: 'foo.com', http: { paths: [{ path: '/bar', pathType: 'Exact', backend: { service: { name: 'svc1', port: { number: 8080 } } } }] } }],
      tls: [{ hosts: ['foo.com'], secretName: 'my-cert' }],
    });
    expect(spec.status).toEqual({ loadBalancer: {} });
    expect(spec.metadata.generation).toBe(1);
  });

  it('writes the load balancer address through the status subresource only', () => {
    cp.k(['patch', 'ingress', 'simple', '--subresource=status', '--type=merge', '-p', '{"status":{"loadBalancer":{"ingress":[{"ip":"10.0.0.5"}]}}}']);
    expect(table(cp.k(['get', 'ingress', 'simple']))[1]?.slice(0, 5)).toEqual(['simple', '<none>', 'foo.com', '10.0.0.5', '80, 443']);
    // The main resource keeps the stored status.
    cp.k(['patch', 'ingress', 'simple', '--type=merge', '-p', '{"status":{"loadBalancer":{"ingress":[{"ip":"10.0.0.9"}]}}}']);
    expect(cp.k(['get', 'ingress', 'simple', '-o', 'jsonpath={.status.loadBalancer.ingress[*].ip}'])).toBe('10.0.0.5');
    const bad = cp.kubectl(['patch', 'ingress', 'simple', '--subresource=status', '--type=merge', '-p', '{"status":{"loadBalancer":{"ingress":[{"hostname":"10.0.0.7"}]}}}']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('status.loadBalancer.ingress[0].hostname: Invalid value: "10.0.0.7": must be a DNS name, not an IP address');
  });

  it('describes an ingress', () => {
    const out = cp.k(['describe', 'ingress', 'simple']);
    expect(out).toMatch(/^Name:\s+simple$/m);
    expect(out).toMatch(/^Namespace:\s+default$/m);
    expect(out).toMatch(/^Ingress Class:\s+<none>$/m);
    expect(out).toMatch(/^TLS:\s*\n\s+my-cert terminates foo\.com$/m);
    expect(out).toMatch(/^\s+foo\.com\s*\n\s+\/bar\s+svc1:8080 \(/m);
  });

  it('gives new ingresses the default IngressClass, created from YAML', () => {
    const file = cp.writeFile('ingressclass.yaml', [
      'apiVersion: networking.k8s.io/v1',
      'kind: IngressClass',
      'metadata:',
      '  name: nginx',
      '  annotations:',
      '    ingressclass.kubernetes.io/is-default-class: "true"',
      'spec:',
      '  controller: k8s.io/ingress-nginx',
      '  parameters:',
      '    apiGroup: k8s.example.com',
      '    kind: IngressParameters',
      '    name: external-lb',
      '',
    ].join('\n'));
    expect(cp.k(['create', '-f', file]).trim()).toBe('ingressclass.networking.k8s.io/nginx created');
    const rows = table(cp.k(['get', 'ingressclass']));
    expect(rows[0]).toEqual(['NAME', 'CONTROLLER', 'PARAMETERS', 'AGE']);
    expect(rows[1]?.slice(0, 3)).toEqual(['nginx', 'k8s.io/ingress-nginx', 'IngressParameters.k8s.example.com/external-lb']);
    expect(cp.k(['get', 'ingressclass', 'nginx', '-o', 'jsonpath={.spec.parameters.scope}'])).toBe('Cluster');

    cp.k(['create', 'ingress', 'defaulted', '--rule=bar.com/*=svc2:http']);
    expect(cp.k(['get', 'ingress', 'defaulted', '-o', 'jsonpath={.spec.ingressClassName}'])).toBe('nginx');
    expect(cp.k(['get', 'ingress', 'defaulted', '-o', 'jsonpath={.spec.rules[0].http.paths[0].pathType}'])).toBe('Prefix');
    // An ingress created before the default class existed keeps having none.
    expect(table(cp.k(['get', 'ingress', 'simple']))[1]?.[1]).toBe('<none>');

    const changed = cp.kubectl(['patch', 'ingressclass', 'nginx', '--type=merge', '-p', '{"spec":{"controller":"example.com/other"}}']);
    expect(changed.code).not.toBe(0);
    expect(changed.stderr).toContain('The IngressClass "nginx" is invalid: spec.controller: Invalid value: "example.com/other": field is immutable');
  });

  it('explains ingress fields', () => {
    const out = cp.k(['explain', 'ingress.spec.rules']);
    expect(out).toMatch(/^GROUP:\s+networking\.k8s\.io$/m);
    expect(out).toMatch(/^KIND:\s+Ingress$/m);
    expect(out).toMatch(/^VERSION:\s+v1$/m);
    expect(out).toMatch(/^FIELD: rules <\[\]Object>$/m);
    expect(out).toMatch(/^\s+host\s+<string>$/m);
    expect(out).toMatch(/^\s+http\s+<Object>$/m);
  });

  it('refuses an invalid ingress with 422 and upstream messages', () => {
    const file = cp.writeFile('bad-ingress.yaml', [
      'apiVersion: networking.k8s.io/v1',
      'kind: Ingress',
      'metadata:',
      '  name: bad',
      'spec:',
      '  rules:',
      '  - host: foo.com',
      '    http:',
      '      paths:',
      '      - path: bar',
      '        pathType: Prefix',
      '        backend:',
      '          service:',
      '            name: svc1',
      '            port:',
      '              number: 80',
      '',
    ].join('\n'));
    const bad = cp.kubectl(['create', '-f', file]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim()).toBe('The Ingress "bad" is invalid: spec.rules[0].http.paths[0].path: Invalid value: "bar": must be an absolute path');
    const ip = cp.kubectl(['create', 'ingress', 'byip', '--rule=1.2.3.4/=svc1:80']);
    expect(ip.code).not.toBe(0);
    expect(ip.stderr).toContain('spec.rules[0].host: Invalid value: "1.2.3.4": must be a DNS name, not an IP address');
    // The status code, as kubectl logs it at -v=6.
    const raw = cp.kubectl(['-v=6', 'create', '--raw', '/apis/networking.k8s.io/v1/namespaces/default/ingresses', '-f', cp.writeFile('empty.json', '{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"empty"},"spec":{}}')]);
    expect(raw.code).not.toBe(0);
    expect(raw.stderr).toMatch(/POST https:\/\/127\.0\.0\.1:\d+\/apis\/networking\.k8s\.io\/v1\/namespaces\/default\/ingresses 422 Unprocessable Entity/);
    expect(raw.stderr).toContain('The Ingress "empty" is invalid: spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified');
  });
});
