// String checks the networking.k8s.io validation uses beyond the shared ones in ../names.ts: host names with or
// without a wildcard, and "is this an IP address" (netutils.ParseIPSloppy).
import { isDNS1123Subdomain, isWildcardDNS1123Subdomain } from '../names.js';
import { ipFamilyOf } from '../core/common.js';

/** The reasons a host name (wildcard or precise) is not one. */
export function hostNameErrors(host: string): string[] {
  return host.includes('*') ? isWildcardDNS1123Subdomain(host) : isDNS1123Subdomain(host);
}

/** Whether the text parses as an IPv4 or IPv6 address. */
export const isIP = (v: string): boolean => ipFamilyOf(v) !== 0;
