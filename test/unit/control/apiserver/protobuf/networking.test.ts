// Protobuf bodies of networking.k8s.io/v1 kinds, as client-go encodes them (every non-pointer scalar present, zero or
// not), decoded to the JSON form upstream's encoding/json would give.
import { describe, expect, it } from 'vitest';
import { decodeKubeProtobuf, encodeKubeProtobuf } from '../../../../../control/apiserver/protobuf/index.js';
import { parseIngress, parseIngressClass } from '../../../../../control/api/index.js';

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
});
