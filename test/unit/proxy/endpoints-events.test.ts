import { describe, expect, it } from 'vitest';
import type { EndpointSlice } from '../../../control/api/discovery/endpointslice.js';
import type { ServiceEndpoints } from '../../../proxy/endpoints.js';
import { EndpointsEventHandlers } from '../../../proxy/endpoints-events.js';
import { eps } from './fixtures.js';

/** Records what each event turns into: service key → its endpoints' IPs, or undefined when it has none left. */
class Recorder extends EndpointsEventHandlers {
  readonly seen: Array<[string, string[] | undefined]> = [];
  protected setEndpoints(key: string, ep: ServiceEndpoints | undefined): void {
    this.seen.push([key, ep?.groups.flatMap((g) => g.addresses.map((a) => a.ip))]);
  }
}

const slice = (name: string, ip: string, service = 'web'): EndpointSlice =>
  ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: 'prod', ...(service ? { labels: { 'kubernetes.io/service-name': service } } : {}) },
    addressType: 'IPv4',
    endpoints: [{ addresses: [ip] }],
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  }) as EndpointSlice;

describe('EndpointsEventHandlers (the proxiers and the cluster DNS view)', () => {
  it('turns Endpoints events into the endpoints of their service', () => {
    const r = new Recorder();
    r.onEndpointsAdd(eps('web', ['10.244.0.1']));
    r.onEndpointsUpdate(undefined, eps('web', ['10.244.0.1', '10.244.0.2']));
    r.onEndpointsDelete(eps('web', []));
    expect(r.seen).toEqual([
      ['default/web', ['10.244.0.1']],
      ['default/web', ['10.244.0.1', '10.244.0.2']],
      ['default/web', undefined],
    ]);
  });

  it('turns EndpointSlice events into the merged endpoints of their service, and ignores slices of no service', () => {
    const r = new Recorder();
    r.onEndpointSliceAdd(slice('web-a', '10.244.0.1'));
    r.onEndpointSliceUpdate(undefined, slice('web-b', '10.244.0.2'));
    r.onEndpointSliceAdd(slice('loose', '10.244.0.9', ''));
    r.onEndpointSliceDelete(slice('web-a', '10.244.0.1'));
    r.onEndpointSliceDelete(slice('web-b', '10.244.0.2'));
    expect(r.seen).toEqual([
      ['prod/web', ['10.244.0.1']],
      ['prod/web', ['10.244.0.1', '10.244.0.2']],
      ['prod/web', ['10.244.0.2']],
      ['prod/web', undefined],
    ]);
  });
});
