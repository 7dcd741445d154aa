// Protobuf bodies of networking.k8s.io/v1 kinds, as client-go encodes them (every non-pointer scalar present, zero or
// not), decoded to the JSON form upstream's encoding/json would give.
import { describe, expect, it } from 'vitest';
import { decodeKubeProtobuf, encodeKubeProtobuf } from '../../../../../control/apiserver/protobuf/index.js';
import { parseIngress, parseIngressClass, parseNetworkPolicy } from '../../../../../control/api/index.js';

describe('networking.k8s.io/v1 protobuf bodies', () => {
  it('decodes an Ingress: the embedded rule value inlined, omitempty zeros dropped, pathType kept', () => {
    const body = encodeKubeProtobuf('networking.k8s.io/v1', 'Ingress', {
      metadata: { name: 'simple', namespace: 'default' },
      spec: {
        rules: [
          {
            host: 'foo.com',
            ingressRuleValue: { http: { paths: [{ path: '/bar', pathType: 'Exact', backend: { service: { name: 'svc1', port: { name: '', number: 8080 } } } }] } },
          },
        ],
        tls: [{ hosts: ['foo.com'], secretName: 'my-cert' }],
      },
      status: { loadBalancer: {} },
    });
    const decoded = decodeKubeProtobuf(body);
    expect(decoded.kind).toBe('Ingress');
    expect(decoded.object).toMatchObject({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      spec: {
        rules: [{ host: 'foo.com', http: { paths: [{ path: '/bar', pathType: 'Exact', backend: { service: { name: 'svc1', port: { number: 8080 } } } }] } }],
        tls: [{ hosts: ['foo.com'], secretName: 'my-cert' }],
      },
    });
    const port = (decoded.object as any).spec.rules[0].http.paths[0].backend.service.port;
    expect(port).toEqual({ number: 8080 });
    expect(parseIngress(decoded.object).ok).toBe(true);
  });

  it('decodes an IngressClass: apiGroup renamed, the controller and parameters kept', () => {
    const body = encodeKubeProtobuf('networking.k8s.io/v1', 'IngressClass', {
      metadata: { name: 'nginx', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } },
      spec: { controller: 'k8s.io/ingress-nginx', parameters: { aPIGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'external-lb', scope: 'Cluster' } },
    });
    const decoded = decodeKubeProtobuf(body);
    expect((decoded.object as any).spec).toEqual({
      controller: 'k8s.io/ingress-nginx',
      parameters: { apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'external-lb', scope: 'Cluster' },
    });
    expect(parseIngressClass(decoded.object).ok).toBe(true);
  });

  it('keeps a deliberately empty pointer (apiGroup "") and drops an unset controller', () => {
    const body = encodeKubeProtobuf('networking.k8s.io/v1', 'IngressClass', {
      metadata: { name: 'x' },
      spec: { controller: '', parameters: { aPIGroup: '', kind: 'ConfigMap', name: 'cfg', scope: 'Cluster' } },
    });
    expect((decodeKubeProtobuf(body).object as any).spec).toEqual({ parameters: { apiGroup: '', kind: 'ConfigMap', name: 'cfg', scope: 'Cluster' } });
  });

  it('decodes a NetworkPolicy: the port protocol and endPort pointers and the ipBlock cidr kept, empty selectors as {}', () => {
    const body = encodeKubeProtobuf('networking.k8s.io/v1', 'NetworkPolicy', {
      metadata: { name: 'np', namespace: 'default' },
      spec: {
        podSelector: {},
        ingress: [{ ports: [{ protocol: 'TCP', port: { type: 0, intVal: 80 } }], from: [{ podSelector: { matchLabels: { app: 'web' } }, namespaceSelector: {} }] }],
        egress: [{ ports: [{ protocol: 'UDP', port: { type: 0, intVal: 32000 }, endPort: 32768 }], to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }] }],
        policyTypes: ['Ingress', 'Egress'],
      },
    });
    const decoded = decodeKubeProtobuf(body);
    expect((decoded.object as any).spec).toEqual({
      podSelector: {},
      ingress: [{ ports: [{ protocol: 'TCP', port: 80 }], from: [{ podSelector: { matchLabels: { app: 'web' } }, namespaceSelector: {} }] }],
      egress: [{ ports: [{ protocol: 'UDP', port: 32000, endPort: 32768 }], to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }] }],
      policyTypes: ['Ingress', 'Egress'],
    });
    expect(parseNetworkPolicy(decoded.object).ok).toBe(true);
  });

  it('keeps an empty ipBlock cidr, so the policy is refused as upstream refuses it', () => {
    const body = encodeKubeProtobuf('networking.k8s.io/v1', 'NetworkPolicy', {
      metadata: { name: 'np', namespace: 'default' },
      spec: { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '' } }] }] },
    });
    const obj = decodeKubeProtobuf(body).object as any;
    expect(obj.spec.egress[0].to[0].ipBlock).toEqual({ cidr: '' });
    const r = parseNetworkPolicy(obj);
    expect(r.ok ? [] : r.errors.map((e) => e.field)).toEqual(['spec.egress[0].to[0].ipBlock.cidr']);
  });
});
