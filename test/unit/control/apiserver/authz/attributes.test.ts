import { describe, expect, it } from 'vitest';
import { attributesFor, combinedResource } from '../../../../../control/apiserver/authz/attributes.js';
import { parseRequestInfo } from '../../../../../control/apiserver/http/request-info.js';
import { bob } from './helpers.js';

const attrs = (method: string, url: string) => {
  const u = new URL(url, 'https://x');
  return attributesFor(bob, parseRequestInfo(method, u.pathname, u.searchParams), method, u.searchParams);
};

describe('authorizer attributes from a request', () => {
  it('maps methods to verbs as upstream', () => {
    expect(attrs('GET', '/api/v1/namespaces/default/pods')).toMatchObject({ verb: 'list', resourceRequest: true, apiGroup: '', apiVersion: 'v1', resource: 'pods', namespace: 'default', name: '' });
    expect(attrs('GET', '/api/v1/namespaces/default/pods?watch=true')).toMatchObject({ verb: 'watch' });
    expect(attrs('GET', '/api/v1/namespaces/default/pods/web')).toMatchObject({ verb: 'get', name: 'web' });
    expect(attrs('HEAD', '/api/v1/namespaces/default/pods/web')).toMatchObject({ verb: 'get' });
    expect(attrs('POST', '/apis/apps/v1/namespaces/default/deployments')).toMatchObject({ verb: 'create', apiGroup: 'apps', resource: 'deployments' });
    expect(attrs('PUT', '/apis/apps/v1/namespaces/default/deployments/web/scale')).toMatchObject({ verb: 'update', subresource: 'scale', name: 'web' });
    expect(attrs('PATCH', '/api/v1/nodes/n1/status')).toMatchObject({ verb: 'patch', resource: 'nodes', subresource: 'status', namespace: '' });
    expect(attrs('DELETE', '/api/v1/namespaces/default/pods/web')).toMatchObject({ verb: 'delete' });
    expect(attrs('DELETE', '/api/v1/namespaces/default/pods')).toMatchObject({ verb: 'deletecollection' });
  });

  it('names subresources as resource/subresource', () => {
    const a = attrs('GET', '/api/v1/namespaces/default/pods/web/log');
    expect(a).toMatchObject({ verb: 'get', resource: 'pods', subresource: 'log' });
    expect(combinedResource(a)).toBe('pods/log');
  });

  it('puts a namespace object in its own namespace, and reads its subresources as upstream', () => {
    expect(attrs('GET', '/api/v1/namespaces/team')).toMatchObject({ resource: 'namespaces', name: 'team', namespace: 'team' });
    expect(attrs('PUT', '/api/v1/namespaces/team/finalize')).toMatchObject({ resource: 'namespaces', subresource: 'finalize', name: 'team', namespace: 'team', verb: 'update' });
    expect(attrs('GET', '/api/v1/namespaces')).toMatchObject({ resource: 'namespaces', name: '', namespace: '', verb: 'list' });
  });

  it('takes the name of a list or watch from a metadata.name field selector', () => {
    expect(attrs('GET', '/api/v1/nodes?fieldSelector=metadata.name%3Dn1&watch=1')).toMatchObject({ verb: 'watch', name: 'n1' });
    expect(attrs('GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dn1').fieldSelector).toEqual([{ field: 'spec.nodeName', operator: 'Equals', value: 'n1' }]);
    expect(attrs('GET', '/api/v1/nodes?fieldSelector=metadata.name!%3Dn1')).toMatchObject({ name: '' });
    expect(attrs('GET', '/api/v1/nodes?fieldSelector=%3D%3D%3D')).toMatchObject({ name: '', fieldSelector: [] });
  });

  it('gives non-resource requests the lowercase method and the path', () => {
    expect(attrs('GET', '/healthz')).toMatchObject({ resourceRequest: false, verb: 'get', path: '/healthz' });
    expect(attrs('POST', '/logs')).toMatchObject({ verb: 'post', path: '/logs' });
    expect(attrs('GET', '/apis/apps/v1')).toMatchObject({ resourceRequest: false, path: '/apis/apps/v1' });
  });
});
