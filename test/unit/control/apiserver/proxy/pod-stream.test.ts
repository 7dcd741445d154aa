import { describe, expect, it } from 'vitest';
import { nodeStreamPath } from '../../../../../control/apiserver/proxy/pod-stream.js';
import { reviewToken } from '../../../../../control/apiserver/token-review.js';
import { staticTokenAuthenticator } from '../../../../../control/apiserver/authn.js';
import type { PodLike } from '../../../../../control/apiserver/proxy/pod-log.js';

const pod = (containers: string[]): PodLike => ({ metadata: { name: 'web', namespace: 'default' }, spec: { nodeName: 'n1', containers: containers.map((name) => ({ name })) } });

describe('nodeStreamPath', () => {
  it("turns kubectl's exec query into the node's /exec URL with input/output/error/tty", () => {
    const q = new URLSearchParams('command=sh&command=-c&command=exit 3&stdin=true&stdout=true&stderr=true&container=app');
    expect(nodeStreamPath('exec', 'default', pod(['app', 'side']), q)).toBe('/exec/default/web/app?command=sh&command=-c&command=exit+3&input=1&output=1&error=1');
    expect(nodeStreamPath('attach', 'default', pod(['only']), new URLSearchParams('stdout=true&tty=true&stderr=true'))).toBe('/attach/default/web/only?output=1&tty=1');
  });

  it('maps port-forward ports and checks the container and the command', () => {
    expect(nodeStreamPath('portforward', 'ns 1', pod(['a', 'b']), new URLSearchParams('ports=80&ports=443'))).toBe('/portForward/ns%201/web?port=80&port=443');
    expect(() => nodeStreamPath('exec', 'default', pod(['a', 'b']), new URLSearchParams('command=ls&stdout=true'))).toThrow(/a container name must be specified for pod web, choose one of: \[a b\]/);
    expect(() => nodeStreamPath('exec', 'default', pod(['a']), new URLSearchParams('stdout=true'))).toThrow('you must specify a command');
  });
});

describe('reviewToken', () => {
  const authn = staticTokenAuthenticator([{ token: 't0k', user: { name: 'bob', uid: '5', groups: ['devs', 'system:authenticated'] } }]);
  it('says who a known token belongs to, and that an unknown one is not authenticated', async () => {
    expect((await reviewToken(authn, { kind: 'TokenReview', spec: { token: 't0k' } })).status).toEqual({ authenticated: true, user: { username: 'bob', uid: '5', groups: ['devs', 'system:authenticated'] } });
    expect((await reviewToken(authn, { spec: { token: 'nope' } })).status).toEqual({ user: {} });
    await expect(reviewToken(authn, { kind: 'Pod' })).rejects.toThrow(/expected "TokenReview"/);
  });

  it('gives the user\'s extra as the authenticator found it (a service account token\'s pod and id)', async () => {
    const extra = { 'authentication.kubernetes.io/pod-name': ['web'], 'authentication.kubernetes.io/credential-id': ['JTI=j-1'] };
    const sa = staticTokenAuthenticator([{ token: 'sa', user: { name: 'system:serviceaccount:ns:app', groups: ['system:authenticated'], extra } }]);
    expect((await reviewToken(sa, { spec: { token: 'sa' } })).status).toEqual({
      authenticated: true,
      user: { username: 'system:serviceaccount:ns:app', groups: ['system:authenticated'], extra: { 'authentication.kubernetes.io/credential-id': ['JTI=j-1'], 'authentication.kubernetes.io/pod-name': ['web'] } },
    });
  });
});
