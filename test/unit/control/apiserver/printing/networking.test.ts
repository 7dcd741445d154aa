// Printers for networking.k8s.io/v1 Ingresses and IngressClasses, as upstream's printIngress and printIngressClass.
import { describe, expect, it } from 'vitest';
import { formatIngressHosts, ingressClassPrinter, ingressPrinter } from '../../../../../control/apiserver/printing/printers/networking.js';
import { PRINTERS } from '../../../../../control/apiserver/printing/printers/index.js';
import { ago, HOUR, NOW, obj } from './fixtures.js';

const ing = (spec: Record<string, unknown>, status: Record<string, unknown> = { loadBalancer: {} }) =>
  obj('Ingress', 'networking.k8s.io/v1', { name: 'simple', namespace: 'default', creationTimestamp: ago(5 * HOUR) }, { spec, status });
const rule = (host?: string) => ({ ...(host ? { host } : {}), http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 's', port: { number: 80 } } } }] } });

describe('ingresses', () => {
  it('has upstream columns', () => {
    expect(ingressPrinter.columns.map((c) => [c.name, c.type, c.priority])).toEqual([
      ['Name', 'string', 0],
      ['Class', 'string', 0],
      ['Hosts', 'string', 0],
      ['Address', 'string', 0],
      ['Ports', 'string', 0],
      ['Age', 'string', 0],
    ]);
    expect(PRINTERS.filter(([g]) => g === 'networking.k8s.io').map(([, k]) => k)).toEqual(['Ingress', 'IngressClass', 'NetworkPolicy']);
  });

  it('shows <none> for no class, the hosts, an empty address and port 80 without TLS', () => {
    expect(ingressPrinter.cells(ing({ rules: [rule('foo.com')] }), NOW)).toEqual(['simple', '<none>', 'foo.com', '', '80', '5h']);
  });

  it('shows the class, 80, 443 with TLS, and the load balancer addresses sorted, IPs before host names of the same point', () => {
    const status = { loadBalancer: { ingress: [{ ip: '10.0.0.2' }, { hostname: 'lb.example.com' }, { ip: '10.0.0.1', hostname: 'ignored.example.com' }, { ip: '10.0.0.2' }] } };
    expect(ingressPrinter.cells(ing({ ingressClassName: 'nginx', rules: [rule('foo.com')], tls: [{ secretName: 'cert' }] }, status), NOW)).toEqual([
      'simple',
      'nginx',
      'foo.com',
      '10.0.0.1,10.0.0.2,lb.example.com',
      '80, 443',
      '5h',
    ]);
  });

  it('lists at most three hosts, and * when no rule names one', () => {
    expect(formatIngressHosts(undefined)).toBe('*');
    expect(formatIngressHosts([rule()])).toBe('*');
    expect(formatIngressHosts([rule('a.com'), rule(), rule('b.com')])).toBe('a.com,b.com');
    expect(formatIngressHosts([rule('a.com'), rule('b.com'), rule('c.com')])).toBe('a.com,b.com,c.com');
    expect(formatIngressHosts([rule('a.com'), rule('b.com'), rule('c.com'), rule('d.com'), rule('e.com')])).toBe('a.com,b.com,c.com + 2 more...');
  });
});

describe('ingress classes', () => {
  const ic = (spec: Record<string, unknown>) => obj('IngressClass', 'networking.k8s.io/v1', { name: 'nginx', creationTimestamp: ago(30) }, { spec });
  it('has upstream columns', () => {
    expect(ingressClassPrinter.columns.map((c) => c.name)).toEqual(['Name', 'Controller', 'Parameters', 'Age']);
  });
  it('shows the controller and the parameters as kind[.group]/name, <none> without', () => {
    expect(ingressClassPrinter.cells(ic({ controller: 'k8s.io/ingress-nginx' }), NOW)).toEqual(['nginx', 'k8s.io/ingress-nginx', '<none>', '30s']);
    expect(ingressClassPrinter.cells(ic({ controller: 'example.com/lb', parameters: { apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'external-lb', scope: 'Cluster' } }), NOW)).toEqual([
      'nginx',
      'example.com/lb',
      'IngressParameters.k8s.example.com/external-lb',
      '30s',
    ]);
    expect(ingressClassPrinter.cells(ic({ controller: 'example.com/lb', parameters: { kind: 'ConfigMap', name: 'cfg', scope: 'Namespace', namespace: 'x' } }), NOW)[2]).toBe('ConfigMap/cfg');
  });
});
