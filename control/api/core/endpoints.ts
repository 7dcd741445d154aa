// core/v1 Endpoints (and the ObjectReference they and Events point with): SetDefaults_Endpoints and ValidateEndpoints.
import { z } from 'zod';
import { child, index, invalid, notSupported, required, type FieldError } from '../errors.js';
import { nameIsDNSSubdomain, ObjectMeta, validateObjectMeta } from '../meta.js';
import { isQualifiedName, isValidPortNum } from '../names.js';
import { dns1123Label } from '../validation-util.js';
import { validateIP, validateNonSpecialIP } from './common.js';

const int = () => z.number().int();

export const ObjectReference = z.object({
  kind: z.string().optional(),
  namespace: z.string().optional(),
  name: z.string().optional(),
  uid: z.string().optional(),
  apiVersion: z.string().optional(),
  resourceVersion: z.string().optional(),
  fieldPath: z.string().optional(),
});
export type ObjectReference = z.output<typeof ObjectReference>;

export const EndpointAddress = z.object({
  ip: z.string().default(''),
  hostname: z.string().optional(),
  nodeName: z.string().optional(),
  targetRef: ObjectReference.optional(),
});
export type EndpointAddress = z.output<typeof EndpointAddress>;

export const EndpointPort = z.object({
  name: z.string().optional(),
  port: int().default(0),
  protocol: z.string().optional().transform((v) => v || 'TCP'),
  appProtocol: z.string().optional(),
});
export type EndpointPort = z.output<typeof EndpointPort>;

export const EndpointSubset = z.object({
  addresses: z.array(EndpointAddress).optional(),
  notReadyAddresses: z.array(EndpointAddress).optional(),
  ports: z.array(EndpointPort).optional(),
});
export type EndpointSubset = z.output<typeof EndpointSubset>;

export const Endpoints = z.object({
  apiVersion: z.literal('v1'),
  kind: z.literal('Endpoints'),
  metadata: ObjectMeta.prefault({}),
  subsets: z.array(EndpointSubset).optional(),
});
export type Endpoints = z.output<typeof Endpoints>;

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

function validateEndpointAddress(a: EndpointAddress, path: string): FieldError[] {
  const errs = validateIP(a.ip, child(path, 'ip'));
  if (a.hostname) errs.push(...dns1123Label(a.hostname, child(path, 'hostname')));
  if (a.nodeName !== undefined) errs.push(...nameIsDNSSubdomain(a.nodeName, false).map((m) => invalid(child(path, 'nodeName'), a.nodeName, m)));
  errs.push(...validateNonSpecialIP(a.ip, child(path, 'ip')));
  return errs;
}

function validateEndpointPort(p: EndpointPort, requireName: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (requireName && !p.name) errs.push(required(child(path, 'name')));
  else if (p.name) errs.push(...dns1123Label(p.name, child(path, 'name')));
  errs.push(...isValidPortNum(p.port).map((m) => invalid(child(path, 'port'), p.port, m)));
  if (!p.protocol) errs.push(required(child(path, 'protocol')));
  else if (!PROTOCOLS.includes(p.protocol)) errs.push(notSupported(child(path, 'protocol'), p.protocol, PROTOCOLS));
  if (p.appProtocol !== undefined) errs.push(...isQualifiedName(p.appProtocol).map((m) => invalid(child(path, 'appProtocol'), p.appProtocol, m)));
  return errs;
}

/** ValidateEndpoints (create and update alike). */
export function validateEndpoints(ep: Endpoints): FieldError[] {
  const errs = validateObjectMeta(ep.metadata, { namespaced: true });
  (ep.subsets ?? []).forEach((ss, i) => {
    const p = index('subsets', i);
    const addrs = ss.addresses ?? [];
    const notReady = ss.notReadyAddresses ?? [];
    if (addrs.length === 0 && notReady.length === 0) errs.push(required(p, 'must specify `addresses` or `notReadyAddresses`'));
    addrs.forEach((a, j) => errs.push(...validateEndpointAddress(a, index(child(p, 'addresses'), j))));
    notReady.forEach((a, j) => errs.push(...validateEndpointAddress(a, index(child(p, 'notReadyAddresses'), j))));
    const ports = ss.ports ?? [];
    ports.forEach((port, j) => errs.push(...validateEndpointPort(port, ports.length > 1, index(child(p, 'ports'), j))));
  });
  return errs;
}
