// discovery.k8s.io/v1 EndpointSlice with SetDefaults_EndpointPort and upstream's ValidateEndpointSlice.
import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import { child, duplicate, index, invalid, key, notSupported, required, type FieldError } from '../errors.js';
import { validateLabels, validateObjectMeta } from '../meta.js';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue } from '../names.js';
import { int, type KindDef, loose, NamespacedMeta, parseKind, type ParseOptions, type ParseResult, StringMap, validateImmutableField } from '../apps/common.js';

export const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];
const PORT_PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const MAX_TOPOLOGY_LABELS = 16;
const MAX_ADDRESSES = 100;
const MAX_PORTS = 20000;
const MAX_ENDPOINTS = 1000;
const MAX_ZONE_HINTS = 8;
const MAX_NODE_HINTS = 8;

export const Endpoint = z.object({
  addresses: z.array(z.string()).default([]),
  conditions: z.object({ ready: z.boolean().optional(), serving: z.boolean().optional(), terminating: z.boolean().optional() }).optional(),
  hostname: z.string().optional(),
  targetRef: loose().optional(),
  deprecatedTopology: StringMap.optional(),
  nodeName: z.string().optional(),
  zone: z.string().optional(),
  hints: z
    .object({
      forZones: z.array(z.object({ name: z.string().default('') })).optional(),
      forNodes: z.array(z.object({ name: z.string().default('') })).optional(),
    })
    .optional(),
});
export type Endpoint = z.output<typeof Endpoint>;

export const EndpointPort = z.object({
  name: z.string().default(''),
  protocol: z.string().default('TCP'),
  port: int().optional(),
  appProtocol: z.string().optional(),
});
export type EndpointPort = z.output<typeof EndpointPort>;

export const EndpointSlice = z.object({
  apiVersion: z.literal('discovery.k8s.io/v1'),
  kind: z.literal('EndpointSlice'),
  metadata: NamespacedMeta.prefault({}),
  addressType: z.string().default(''),
  endpoints: z.array(Endpoint).default([]),
  ports: z.array(EndpointPort).optional(),
});
export type EndpointSlice = z.output<typeof EndpointSlice>;

const tooMany = (path: string, n: number, max: number): FieldError => invalid(path, n, `must have at most ${max} items`);

function nonSpecialIP(ip: string, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const v4 = isIPv4(ip);
  const lower = ip.toLowerCase();
  if (ip === '0.0.0.0' || lower === '::') errs.push(invalid(path, ip, `may not be unspecified (${ip})`));
  if ((v4 && ip.startsWith('127.')) || lower === '::1') errs.push(invalid(path, ip, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
  if ((v4 && ip.startsWith('169.254.')) || /^fe[89ab][0-9a-f]:/.test(lower))
    errs.push(invalid(path, ip, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
  if ((v4 && ip.startsWith('224.0.0.')) || lower.startsWith('ff02:'))
    errs.push(invalid(path, ip, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
  return errs;
}

function fullyQualifiedDomainName(name: string, path: string): FieldError[] {
  if (name === '') return [required(path)];
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  const sub = isDNS1123Subdomain(n);
  if (sub.length > 0) return [invalid(path, n, sub.join(','))];
  const labels = n.split('.');
  if (labels.length < 2) return [invalid(path, n, 'should be a domain with at least two segments separated by dots')];
  for (const l of labels) {
    const e = isDNS1123Label(l);
    if (e.length > 0) return [invalid(path, l, e.join(','))];
  }
  return [];
}

function validateEndpoints(endpoints: Endpoint[], addressType: string, path: string): FieldError[] {
  if (endpoints.length > MAX_ENDPOINTS) return [tooMany(path, endpoints.length, MAX_ENDPOINTS)];
  const errs: FieldError[] = [];
  endpoints.forEach((ep, i) => {
    const ip = index(path, i);
    const ap = child(ip, 'addresses');
    if (ep.addresses.length === 0) errs.push(required(ap, 'must contain at least 1 address'));
    else if (ep.addresses.length > MAX_ADDRESSES) errs.push(tooMany(ap, ep.addresses.length, MAX_ADDRESSES));
    ep.addresses.forEach((a, j) => {
      const p = index(ap, j);
      if (addressType === 'IPv4') errs.push(...(isIPv4(a) ? nonSpecialIP(a, p) : [invalid(p, a, 'must be a valid IPv4 address')]));
      else if (addressType === 'IPv6') errs.push(...(isIPv6(a) ? nonSpecialIP(a, p) : [invalid(p, a, 'must be a valid IPv6 address')]));
      else if (addressType === 'FQDN') errs.push(...fullyQualifiedDomainName(a, p));
    });
    if (ep.nodeName !== undefined) errs.push(...isDNS1123Subdomain(ep.nodeName).map((m) => invalid(child(ip, 'nodeName'), ep.nodeName, m)));
    const tp = child(ip, 'deprecatedTopology');
    const topo = ep.deprecatedTopology ?? {};
    if (Object.keys(topo).length > MAX_TOPOLOGY_LABELS) errs.push(tooMany(tp, Object.keys(topo).length, MAX_TOPOLOGY_LABELS));
    errs.push(...validateLabels(ep.deprecatedTopology, tp));
    if ('topology.kubernetes.io/zone' in topo)
      errs.push({ type: 'FieldValueInvalid', field: key(tp, 'topology.kubernetes.io/zone'), detail: 'reserved key was not removed in conversion' });
    if (ep.hostname !== undefined) errs.push(...isDNS1123Label(ep.hostname).map((m) => invalid(child(ip, 'hostname'), ep.hostname, m)));
    if (ep.hints) {
      const hp = child(ip, 'hints');
      for (const [member, max] of [['forZones', MAX_ZONE_HINTS], ['forNodes', MAX_NODE_HINTS]] as const) {
        const list = ep.hints[member] ?? [];
        const lp = child(hp, member);
        if (list.length > max) {
          errs.push(tooMany(lp, list.length, max));
          continue;
        }
        const seen = new Set<string>();
        list.forEach((h, k) => {
          const np = child(index(lp, k), 'name');
          if (seen.has(h.name)) errs.push(duplicate(np, h.name));
          else seen.add(h.name);
          const msgs = member === 'forZones' ? isValidLabelValue(h.name) : isDNS1123Subdomain(h.name);
          errs.push(...msgs.map((m) => invalid(np, h.name, m)));
        });
      }
    }
  });
  return errs;
}

function validatePorts(ports: EndpointPort[], path: string): FieldError[] {
  if (ports.length > MAX_PORTS) return [tooMany(path, ports.length, MAX_PORTS)];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const ip = index(path, i);
    if (p.name !== '') errs.push(...isDNS1123Label(p.name).map((m) => invalid(child(ip, 'name'), p.name, m)));
    if (names.has(p.name)) errs.push(duplicate(child(ip, 'name'), p.name));
    else names.add(p.name);
    if (p.protocol === '') errs.push(required(child(ip, 'protocol')));
    else if (!PORT_PROTOCOLS.includes(p.protocol)) errs.push(notSupported(child(ip, 'protocol'), p.protocol, PORT_PROTOCOLS));
    if (p.appProtocol !== undefined) errs.push(...isQualifiedName(p.appProtocol).map((m) => invalid(child(ip, 'appProtocol'), p.appProtocol, m)));
  });
  return errs;
}

export function validateEndpointSlice(es: EndpointSlice): FieldError[] {
  const errs = validateObjectMeta(es.metadata, { namespaced: true });
  if (es.addressType === '') errs.push(required('addressType'));
  else if (!ADDRESS_TYPES.includes(es.addressType)) errs.push(notSupported('addressType', es.addressType, ADDRESS_TYPES));
  errs.push(...validateEndpoints(es.endpoints, es.addressType, 'endpoints'));
  errs.push(...validatePorts(es.ports ?? [], 'ports'));
  return errs;
}

export function validateEndpointSliceUpdate(es: EndpointSlice, old: EndpointSlice): FieldError[] {
  return [...validateEndpointSlice(es), ...validateImmutableField(es.addressType, old.addressType, 'addressType')];
}

export const endpointSliceKind: KindDef<typeof EndpointSlice> = {
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  schema: EndpointSlice,
  namespaced: true,
  validate: validateEndpointSlice,
  validateUpdate: validateEndpointSliceUpdate,
};

export const parseEndpointSlice = (input: unknown, opts?: ParseOptions): ParseResult<EndpointSlice> => parseKind(endpointSliceKind, input, opts);

