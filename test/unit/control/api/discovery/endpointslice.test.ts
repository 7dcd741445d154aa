// discovery.k8s.io/v1 EndpointSlice: port defaults and address validation.
import { describe, expect, it } from 'vitest';
import { endpointSliceKind, parseEndpointSlice, parseKindUpdate } from '../../../../../control/api/index.js';
import { lines, must } from '../apps/helpers.js';

const slice = (edit: (s: any) => void = () => {}): any => {
  const s: any = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'web-abc12', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.1.0.5'], conditions: { ready: true }, nodeName: 'node-1' }],
    ports: [{ port: 80 }],
  };
  edit(s);
  return s;
};

describe('EndpointSlice', () => {
  it('defaults port name and protocol', () => {
    expect(must(parseEndpointSlice(slice())).ports).toEqual([{ name: '', protocol: 'TCP', port: 80 }]);
  });
  const cases: Array<[string, (s: any) => void, string[]]> = [
    ['addressType required', (s) => delete s.addressType, ['addressType: Required value']],
    ['addressType values', (s) => (s.addressType = 'IP'), ['addressType: Unsupported value: "IP": supported values: "FQDN", "IPv4", "IPv6"']],
    ['IPv4 addresses', (s) => (s.endpoints[0].addresses = ['fd00::1']), ['endpoints[0].addresses[0]: Invalid value: "fd00::1": must be a valid IPv4 address']],
    ['no loopback', (s) => (s.endpoints[0].addresses = ['127.0.0.1']), ['endpoints[0].addresses[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)']],
    ['at least one address', (s) => (s.endpoints[0].addresses = []), ['endpoints[0].addresses: Required value: must contain at least 1 address']],
    [
      'FQDN addresses',
      (s) => ((s.addressType = 'FQDN'), (s.endpoints[0].addresses = ['localhost'])),
      ['endpoints[0].addresses[0]: Invalid value: "localhost": should be a domain with at least two segments separated by dots'],
    ],
    ['port protocol', (s) => (s.ports[0].protocol = 'HTTP'), ['ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"']],
    ['duplicate port names', (s) => (s.ports = [{ name: 'http', port: 80 }, { name: 'http', port: 81 }]), ['ports[1].name: Duplicate value: "http"']],
  ];
  it.each(cases)('%s', (_rule, edit, want) => {
    expect(lines(parseEndpointSlice(slice(edit)))).toEqual(want);
  });
  it('keeps addressType immutable', () => {
    const old = must(parseEndpointSlice(slice()));
    expect(lines(parseKindUpdate(endpointSliceKind, slice((s) => ((s.addressType = 'IPv6'), (s.endpoints[0].addresses = ['fd00::5']))), old))).toEqual([
      'addressType: Invalid value: "IPv6": field is immutable',
    ]);
  });
});
