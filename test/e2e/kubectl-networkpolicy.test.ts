import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlPlane } from './control-harness.js';

const table = (out: string): string[][] => out.trim().split('\n').map((l) => l.trim().split(/\s{2,}/));

/** networking.k8s.io/v1 NetworkPolicies with the real kubectl against `skiff control`: stored and served, not enforced. */
describe('kubectl and networking.k8s.io/v1 NetworkPolicy', () => {
  const cp = new ControlPlane();
  beforeAll(async () => {
    await cp.start();
  });
  afterAll(async () => {
    await cp.stop();
  });

  it('applies a default-deny policy and one allowing port 80 from selected pods of selected namespaces', () => {
    const deny = cp.writeFile('deny.yaml', [
      'apiVersion: networking.k8s.io/v1',
      'kind: NetworkPolicy',
      'metadata:',
      '  name: default-deny',
      'spec:',
      '  podSelector: {}',
      '',
    ].join('\n'));
    expect(cp.k(['apply', '-f', deny]).trim()).toBe('networkpolicy.networking.k8s.io/default-deny created');
    const allow = cp.writeFile('allow.yaml', [
      'apiVersion: networking.k8s.io/v1',
      'kind: NetworkPolicy',
      'metadata:',
      '  name: allow-web',
      'spec:',
      '  podSelector:',
      '    matchLabels:',
      '      app: web',
      '  ingress:',
      '  - from:',
      '    - podSelector:',
      '        matchLabels:',
      '          role: frontend',
      '      namespaceSelector:',
      '        matchLabels:',
      '          team: shop',
      '    ports:',
      '    - port: 80',
      '',
    ].join('\n'));
    expect(cp.k(['apply', '-f', allow]).trim()).toBe('networkpolicy.networking.k8s.io/allow-web created');
    // Applied again, nothing changes (policyTypes, defaulted by the server, is not in the manifest).
    expect(cp.k(['apply', '-f', deny]).trim()).toBe('networkpolicy.networking.k8s.io/default-deny unchanged');

    const denySpec = JSON.parse(cp.k(['get', 'networkpolicy', 'default-deny', '-o', 'json'])).spec;
    expect(denySpec).toEqual({ podSelector: {}, policyTypes: ['Ingress'] });
    const allowSpec = JSON.parse(cp.k(['get', 'networkpolicy', 'allow-web', '-o', 'json'])).spec;
    expect(allowSpec).toEqual({
      podSelector: { matchLabels: { app: 'web' } },
      ingress: [{ from: [{ podSelector: { matchLabels: { role: 'frontend' } }, namespaceSelector: { matchLabels: { team: 'shop' } } }], ports: [{ port: 80, protocol: 'TCP' }] }],
      policyTypes: ['Ingress'],
    });
  });

  it('lists policies with upstream columns under the short name', () => {
    const rows = table(cp.k(['get', 'netpol']));
    expect(rows[0]).toEqual(['NAME', 'POD-SELECTOR', 'AGE']);
    expect(rows.slice(1).map((r) => r.slice(0, 2))).toEqual([
      ['allow-web', 'app=web'],
      ['default-deny', '<none>'],
    ]);
    expect(cp.k(['get', 'netpol', 'allow-web', '-o', 'name']).trim()).toBe('networkpolicy.networking.k8s.io/allow-web');
  });

  it('describes a policy', () => {
    const out = cp.k(['describe', 'networkpolicy', 'allow-web']);
    expect(out).toMatch(/^Name:\s+allow-web$/m);
    expect(out).toMatch(/^Namespace:\s+default$/m);
    expect(out).toMatch(/^\s+PodSelector:\s+app=web$/m);
    expect(out).toMatch(/^\s+Allowing ingress traffic:$/m);
    expect(out).toMatch(/^\s+To Port: 80\/TCP$/m);
    expect(out).toMatch(/^\s+NamespaceSelector: team=shop$/m);
    expect(out).toMatch(/^\s+PodSelector: role=frontend$/m);
    expect(out).toMatch(/^\s+Policy Types: Ingress$/m);
    const deny = cp.k(['describe', 'netpol', 'default-deny']);
    expect(deny).toMatch(/^\s+PodSelector:\s+<none> \(Allowing the specific traffic to all pods in this namespace\)$/m);
    expect(deny).toMatch(/^\s+<none> \(Selected pods are isolated for ingress connectivity\)$/m);
  });

  it('explains networkpolicy fields', () => {
    const out = cp.k(['explain', 'networkpolicy.spec.ingress']);
    expect(out).toMatch(/^GROUP:\s+networking\.k8s\.io$/m);
    expect(out).toMatch(/^KIND:\s+NetworkPolicy$/m);
    expect(out).toMatch(/^VERSION:\s+v1$/m);
    expect(out).toMatch(/^FIELD: ingress <\[\]Object>$/m);
    expect(out).toMatch(/^\s+from\s+<\[\]Object>$/m);
    expect(out).toMatch(/^\s+ports\s+<\[\]Object>$/m);
  });

  it('refuses an invalid policy with 422 and upstream messages', () => {
    const file = cp.writeFile('bad-netpol.yaml', [
      'apiVersion: networking.k8s.io/v1',
      'kind: NetworkPolicy',
      'metadata:',
      '  name: bad',
      'spec:',
      '  podSelector: {}',
      '  egress:',
      '  - to:',
      '    - ipBlock:',
      '        cidr: 192.168.0.0/24',
      '        except:',
      '        - 10.0.0.0/24',
      '',
    ].join('\n'));
    const bad = cp.kubectl(['apply', '-f', file]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim()).toBe(
      'The NetworkPolicy "bad" is invalid: spec.egress[0].to[0].ipBlock.except[0]: Invalid value: "10.0.0.0/24": must be a strict subset of `cidr`',
    );
    const raw = cp.kubectl([
      '-v=6',
      'create',
      '--raw',
      '/apis/networking.k8s.io/v1/namespaces/default/networkpolicies',
      '-f',
      cp.writeFile('both.json', JSON.stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'both' }, spec: { podSelector: {}, ingress: [{ from: [{ podSelector: {}, ipBlock: { cidr: '10.0.0.0/8' } }] }] } })),
    ]);
    expect(raw.code).not.toBe(0);
    expect(raw.stderr).toMatch(/POST https:\/\/127\.0\.0\.1:\d+\/apis\/networking\.k8s\.io\/v1\/namespaces\/default\/networkpolicies 422 Unprocessable Entity/);
    expect(raw.stderr).toContain('The NetworkPolicy "both" is invalid: spec.ingress[0].from[0]: Forbidden: may not specify both ipBlock and another peer');
    expect(cp.kubectl(['get', 'netpol', 'bad']).code).not.toBe(0);
  });

  it('patches a policy: lists are replaced whole, egress rules turn a new policy into an egress one', () => {
    cp.k(['patch', 'netpol', 'allow-web', '--type=strategic', '-p', '{"spec":{"ingress":[{"ports":[{"port":443}]}]}}']);
    const spec = JSON.parse(cp.k(['get', 'netpol', 'allow-web', '-o', 'json'])).spec;
    expect(spec.ingress).toEqual([{ ports: [{ port: 443, protocol: 'TCP' }] }]);
    cp.k(['create', '-f', cp.writeFile('egress.json', JSON.stringify({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'egress' }, spec: { podSelector: {}, egress: [{ ports: [{ port: 53, protocol: 'UDP' }] }] } }))]);
    expect(cp.k(['get', 'netpol', 'egress', '-o', 'jsonpath={.spec.policyTypes}'])).toBe('["Ingress","Egress"]');
    expect(cp.k(['delete', 'netpol', 'egress']).trim()).toBe('networkpolicy.networking.k8s.io "egress" deleted');
  });
});
