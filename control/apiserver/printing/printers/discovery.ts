import type { KindPrinter } from '../table.js';
import { ageCol, ageOf, arr, col, listWithMore, nameCol, nameOf, optInt, optStr, recs, str } from './common.js';

/** discovery.k8s.io/v1 EndpointSlices, as upstream's printEndpointSlice. */

export function formatDiscoveryPorts(ports: unknown): string {
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const p of recs(ports)) {
    if (list.length < max) {
      const port = optInt(p.port);
      const name = optStr(p.name);
      list.push(port !== undefined ? String(port) : name !== undefined ? name : '*');
    } else if (list.length === max) {
      more = true;
    }
    count++;
  }
  return listWithMore(list, more, count, max);
}

export function formatDiscoveryEndpoints(endpoints: unknown): string {
  const list: string[] = [];
  const max = 3;
  let more = false;
  let count = 0;
  for (const e of recs(endpoints)) {
    for (const a of arr(e.addresses)) {
      if (list.length < max) list.push(str(a));
      else if (list.length === max) more = true;
      count++;
    }
  }
  return listWithMore(list, more, count, max);
}

export const endpointSlicePrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('AddressType', 'string', 'addressType specifies the type of address carried by this EndpointSlice. All addresses in this slice must be the same type. This field is immutable after creation. The following address types are currently supported: * IPv4: Represents an IPv4 Address. * IPv6: Represents an IPv6 Address. * FQDN: Represents a Fully Qualified Domain Name.'),
    col('Ports', 'string', 'ports specifies the list of network ports exposed by each endpoint in this slice. Each port must have a unique name. When ports is empty, it indicates that there are no defined ports. When a port is defined with a nil port value, it indicates "all ports". Each slice may include a maximum of 100 ports.'),
    col('Endpoints', 'string', 'endpoints is a list of unique endpoints in this slice. Each slice may include a maximum of 1000 endpoints.'),
    ageCol(),
  ],
  cells: (o, now) => [nameOf(o), str(o.addressType), formatDiscoveryPorts(o.ports), formatDiscoveryEndpoints(o.endpoints), ageOf(o, now)],
};
