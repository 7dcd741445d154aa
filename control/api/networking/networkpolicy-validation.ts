// Upstream's NetworkPolicy validation (pkg/apis/networking/validation, Kubernetes 1.32): ValidateNetworkPolicy and
// ValidateNetworkPolicyUpdate over ValidateNetworkPolicySpec: the pod selector, each rule's ports and peers (exactly
// one kind of peer, except that a podSelector and a namespaceSelector may go together; an ipBlock goes alone, its
// except ranges strictly inside its cidr) and the policy types.
import { child, forbidden, index, invalid, notSupported, required, type FieldError } from '../errors.js';
import { validateObjectMeta } from '../meta.js';
import { isValidPortName, isValidPortNum } from '../names.js';
import { validateLabelSelector } from '../apps/common.js';
import { cidrFamilyOf } from '../core/common.js';
import { NETWORK_POLICY_PROTOCOLS, NETWORK_POLICY_TYPES, type IPBlock, type NetworkPolicy, type NetworkPolicyPeer, type NetworkPolicyPort, type NetworkPolicySpec } from './networkpolicy.js';

/** 1.32 says this for any cidr or except value that does not parse (the longer CIDR message came with 1.33). */
const NOT_A_CIDR = 'not a valid CIDR';

/** A parsed CIDR as Go's net.ParseCIDR gives it: the masked address (4 or 16 bytes), the prefix and the mask's width. */
interface ParsedCIDR {
  net: number[];
  prefix: number;
  width: 32 | 128;
}

function ipv4Bytes(s: string): number[] {
  return s.split('.').map(Number);
}

function ipv6Bytes(s: string): number[] {
  let text = s;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tail.push(...ipv4Bytes(text.slice(lastColon + 1)));
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const groups = (g: string | undefined) => (g ? g.split(':').map((h) => parseInt(h, 16)) : []);
  const left = groups(head);
  const right = groups(rest);
  const words = rest === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const bytes = words.flatMap((w) => [w >> 8, w & 0xff]);
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes;
}

/** netutils.ParseCIDRSloppy, on top of the shared cidrFamilyOf check (leading zeros in IPv4 octets allowed). */
function parseCIDR(value: string): ParsedCIDR | undefined {
  const family = cidrFamilyOf(value);
  if (family === 0 || value.includes('%')) return undefined;
  const slash = value.indexOf('/');
  const bytes = family === 4 ? ipv4Bytes(value.slice(0, slash)) : ipv6Bytes(value.slice(0, slash));
  const prefix = Number(value.slice(slash + 1));
  return { net: maskBytes(bytes, prefix), prefix, width: family === 4 ? 32 : 128 };
}

function maskBytes(bytes: number[], prefix: number): number[] {
  return bytes.map((b, i) => {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    return b & ((0xff << (8 - bits)) & 0xff);
  });
}

/** An IPv4-mapped IPv6 address as its 4 bytes, as Go's To4 does. */
function to4(bytes: number[]): number[] | undefined {
  if (bytes.length === 4) return bytes;
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return mapped ? bytes.slice(12) : undefined;
}

/** net.IPNet.Contains: both sides IPv4 (mapped addresses counting as IPv4) or both IPv6, equal under the mask. */
function contains(outer: ParsedCIDR, ip: number[]): boolean {
  const nn = to4(outer.net) ?? outer.net;
  const prefix = nn.length === 4 && outer.width === 128 ? Math.max(0, outer.prefix - 96) : outer.prefix;
  const addr = to4(ip) ?? ip;
  if (addr.length !== nn.length) return false;
  const masked = maskBytes(addr, prefix);
  return masked.every((b, i) => b === nn[i]);
}

/** ValidateIPBlock as of 1.32: a cidr is required and must parse; each except must parse and lie strictly inside. */
export function validateIPBlock(block: IPBlock, path: string): FieldError[] {
  const cidrPath = child(path, 'cidr');
  if (block.cidr === '') return [required(cidrPath)];
  const outer = parseCIDR(block.cidr);
  if (!outer) return [invalid(cidrPath, block.cidr, NOT_A_CIDR)];
  const errs: FieldError[] = [];
  const except = block.except ?? [];
  for (let i = 0; i < except.length; i++) {
    const value = except[i] as string;
    const p = index(child(path, 'except'), i);
    const inner = parseCIDR(value);
    // Upstream stops at the first except that does not parse.
    if (!inner) return [...errs, invalid(p, value, NOT_A_CIDR)];
    if (!contains(outer, inner.net) || outer.prefix >= inner.prefix) errs.push(invalid(p, value, 'must be a strict subset of `cidr`'));
  }
  return errs;
}

/** ValidateNetworkPolicyPort: a known protocol; a port number in range (with an endPort not below it) or a port name. */
export function validateNetworkPolicyPort(port: NetworkPolicyPort, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!(NETWORK_POLICY_PROTOCOLS as readonly string[]).includes(port.protocol)) errs.push(notSupported(child(path, 'protocol'), port.protocol, NETWORK_POLICY_PROTOCOLS));
  const endPath = child(path, 'endPort');
  if (port.port === undefined) {
    if (port.endPort !== undefined) errs.push(invalid(endPath, port.endPort, 'may not be specified when `port` is not specified'));
  } else if (typeof port.port === 'number') {
    for (const m of isValidPortNum(port.port)) errs.push(invalid(child(path, 'port'), port.port, m));
    if (port.endPort !== undefined) {
      if (port.endPort < port.port) errs.push(invalid(endPath, port.endPort, 'must be greater than or equal to `port`'));
      for (const m of isValidPortNum(port.endPort)) errs.push(invalid(endPath, port.endPort, m));
    }
  } else {
    if (port.endPort !== undefined) errs.push(invalid(endPath, port.endPort, 'may not be specified when `port` is non-numeric'));
    for (const m of isValidPortName(port.port)) errs.push(invalid(child(path, 'port'), port.port, m));
  }
  return errs;
}

/** ValidateNetworkPolicyPeer: at least one selector or an ipBlock; an ipBlock with nothing else. */
export function validateNetworkPolicyPeer(peer: NetworkPolicyPeer, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let peers = 0;
  if (peer.podSelector) {
    peers++;
    errs.push(...validateLabelSelector(peer.podSelector, child(path, 'podSelector')));
  }
  if (peer.namespaceSelector) {
    peers++;
    errs.push(...validateLabelSelector(peer.namespaceSelector, child(path, 'namespaceSelector')));
  }
  if (peer.ipBlock) {
    peers++;
    errs.push(...validateIPBlock(peer.ipBlock, child(path, 'ipBlock')));
  }
  if (peers === 0) errs.push(required(path, 'must specify a peer'));
  else if (peers > 1 && peer.ipBlock) errs.push(forbidden(path, 'may not specify both ipBlock and another peer'));
  return errs;
}

/** ValidateNetworkPolicySpec. */
export function validateNetworkPolicySpec(spec: NetworkPolicySpec, path = 'spec'): FieldError[] {
  const errs = validateLabelSelector(spec.podSelector, child(path, 'podSelector'));
  (spec.ingress ?? []).forEach((rule, i) => {
    const p = index(child(path, 'ingress'), i);
    (rule.ports ?? []).forEach((port, j) => errs.push(...validateNetworkPolicyPort(port, index(child(p, 'ports'), j))));
    (rule.from ?? []).forEach((peer, j) => errs.push(...validateNetworkPolicyPeer(peer, index(child(p, 'from'), j))));
  });
  (spec.egress ?? []).forEach((rule, i) => {
    const p = index(child(path, 'egress'), i);
    (rule.ports ?? []).forEach((port, j) => errs.push(...validateNetworkPolicyPort(port, index(child(p, 'ports'), j))));
    (rule.to ?? []).forEach((peer, j) => errs.push(...validateNetworkPolicyPeer(peer, index(child(p, 'to'), j))));
  });
  const types = spec.policyTypes ?? [];
  const typesPath = child(path, 'policyTypes');
  if (types.length > NETWORK_POLICY_TYPES.length) {
    // Go prints the slice with %#v: []networking.PolicyType{"Ingress", "Egress", "Ingress"}.
    const shown = `[]networking.PolicyType{${types.map((t) => JSON.stringify(t)).join(', ')}}`;
    errs.push({ ...invalid(typesPath, types, 'may not specify more than two policyTypes'), goValue: shown });
    return errs;
  }
  types.forEach((t, i) => {
    if (!(NETWORK_POLICY_TYPES as readonly string[]).includes(t)) errs.push(notSupported(index(typesPath, i), t, NETWORK_POLICY_TYPES));
  });
  return errs;
}

/** ValidateNetworkPolicy: metadata (a DNS subdomain name, namespaced) and the spec. */
export function validateNetworkPolicy(np: NetworkPolicy): FieldError[] {
  return [...validateObjectMeta(np.metadata, { namespaced: true }), ...validateNetworkPolicySpec(np.spec)];
}

/**
 * ValidateNetworkPolicyUpdate: the spec is validated as on create (the REST layer checks the metadata update).
 * Upstream lets an update keep label values its old pod selector already had invalid; Skiff never stored such a
 * selector, so strict validation is the same thing here.
 */
export function validateNetworkPolicyUpdate(np: NetworkPolicy, _old: NetworkPolicy): FieldError[] {
  return validateNetworkPolicy(np);
}
