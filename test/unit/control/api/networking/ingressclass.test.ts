// networking.k8s.io/v1 IngressClass: the parameters scope default, the controller rules, immutability, scope rules.
import { describe, expect, it } from 'vitest';
import { ingressClassKind, isDefaultIngressClass, parseIngressClass, parseKindUpdate } from '../../../../../control/api/index.js';
import { lines, must, type Obj } from '../apps/helpers.js';

const ic = (spec: Obj, metadata: Obj = { name: 'nginx' }): Obj => ({ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata, spec });

describe('IngressClass defaults', () => {
  it('scopes a parameters reference to the cluster when no scope is given', () => {
    const c = must(parseIngressClass(ic({ controller: 'example.com/ingress', parameters: { apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'external-lb' } })));
    expect(c.spec.parameters).toEqual({ apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'external-lb', scope: 'Cluster' });
    expect(must(parseIngressClass(ic({ controller: 'example.com/ingress' }))).spec.parameters).toBeUndefined();
  });
  it('recognises the default-class annotation only when it is "true"', () => {
    expect(isDefaultIngressClass(must(parseIngressClass(ic({ controller: 'a.io/b' }, { name: 'x', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } }))))).toBe(true);
    expect(isDefaultIngressClass(must(parseIngressClass(ic({ controller: 'a.io/b' }, { name: 'x', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'false' } }))))).toBe(false);
  });
});

describe('IngressClass validation', () => {
  it('requires a controller that is a domain-prefixed path of at most 250 bytes', () => {
    expect(lines(parseIngressClass(ic({})))).toEqual(['spec.controller: Required value']);
    expect(lines(parseIngressClass(ic({ controller: 'nginx' })))).toEqual(['spec.controller: Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")']);
    expect(lines(parseIngressClass(ic({ controller: 'example.com/' })))).toEqual(['spec.controller: Invalid value: "example.com/": must be a domain-prefixed path (such as "acme.io/foo")']);
    expect(lines(parseIngressClass(ic({ controller: 'Example.com/x' })))[0]).toMatch(/^spec\.controller: Invalid value: "Example\.com": a lowercase RFC 1123 subdomain/);
    expect(lines(parseIngressClass(ic({ controller: 'example.com/a b' })))).toEqual([
      "spec.controller: Invalid value: \"a b\": Invalid path (regex used for validation is '[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+')",
    ]);
    expect(lines(parseIngressClass(ic({ controller: `example.com/${'x'.repeat(250)}` })))).toEqual(['spec.controller: Too long: may not be more than 250 bytes']);
    expect(lines(parseIngressClass(ic({ controller: 'k8s.io/ingress-nginx' })))).toEqual([]);
  });

  it('checks the parameters reference and its scope', () => {
    const params = (p: Obj) => lines(parseIngressClass(ic({ controller: 'k8s.io/ingress-nginx', parameters: p })));
    expect(params({ kind: 'ConfigMap', name: 'cfg', scope: 'Namespace', namespace: 'ingress' })).toEqual([]);
    expect(params({})).toEqual(['spec.parameters.kind: Required value', 'spec.parameters.name: Required value']);
    expect(params({ kind: 'K', name: 'n', scope: 'Global' })).toEqual(['spec.parameters.scope: Unsupported value: "Global": supported values: "Cluster", "Namespace"']);
    expect(params({ kind: 'K', name: 'n', scope: 'Namespace' })).toEqual(["spec.parameters.namespace: Required value: `parameters.scope` is set to 'Namespace'"]);
    expect(params({ kind: 'K', name: 'n', namespace: 'ns' })).toEqual(["spec.parameters.namespace: Forbidden: `parameters.scope` is set to 'Cluster'"]);
    expect(params({ apiGroup: 'Bad_Group', kind: 'K', name: 'n' })[0]).toMatch(/^spec\.parameters\.apiGroup: Invalid value: "Bad_Group": a lowercase RFC 1123 subdomain/);
  });

  it('is cluster-scoped', () => {
    expect(lines(parseIngressClass(ic({ controller: 'a.io/b' }, { name: 'x', namespace: 'default' })))).toEqual(['metadata.namespace: Forbidden: not allowed on this type']);
  });

  it('keeps the controller on update', () => {
    const old = must(parseIngressClass(ic({ controller: 'k8s.io/ingress-nginx' })));
    expect(lines(parseKindUpdate(ingressClassKind, ic({ controller: 'k8s.io/ingress-nginx', parameters: { kind: 'K', name: 'n' } }), old))).toEqual([]);
    expect(lines(parseKindUpdate(ingressClassKind, ic({ controller: 'example.com/other' }), old))).toEqual(['spec.controller: Invalid value: "example.com/other": field is immutable']);
  });
});
