// String checks the networking.k8s.io validation uses beyond the shared ones in ../names.ts: wildcard hosts
// (apimachinery's IsWildcardDNS1123Subdomain) and "is this an IP address" (netutils.ParseIPSloppy).
import { isDNS1123Subdomain, maxLenError, regexError } from '../names.js';
import { ipFamilyOf } from '../core/common.js';

const dns1123LabelFmt = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const dns1123SubdomainFmt = `${dns1123LabelFmt}(\\.${dns1123LabelFmt})*`;
const wildcardSubdomainFmt = `\\*\\.${dns1123SubdomainFmt}`;
const wildcardSubdomainRe = new RegExp(`^${wildcardSubdomainFmt}$`);

/** A host such as "*.example.com": a single leading wildcard label, then a DNS subdomain. */
export function isWildcardDNS1123Subdomain(v: string): string[] {
  const errs: string[] = [];
  if (v.length > 253) errs.push(maxLenError(253));
  if (!wildcardSubdomainRe.test(v))
    errs.push(
      regexError(
        "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character",
        wildcardSubdomainFmt,
        '*.example.com',
      ),
    );
  return errs;
}

/** The reasons a host name (wildcard or precise) is not one. */
export function hostNameErrors(host: string): string[] {
  return host.includes('*') ? isWildcardDNS1123Subdomain(host) : isDNS1123Subdomain(host);
}

/** Whether the text parses as an IPv4 or IPv6 address. */
export const isIP = (v: string): boolean => ipFamilyOf(v) !== 0;
