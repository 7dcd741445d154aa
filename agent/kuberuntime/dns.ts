import type { Pod } from '../../control/api/index.js';
import type { ResolvConf } from '../../lib/resolvconf.js';

/**
 * A pod's /etc/resolv.conf, as the kubelet's pkg/kubelet/network/dns forms it (pure: the pod, the kubelet's DNS
 * settings and the node's resolver configuration in, the file's content and what to warn about out):
 *
 *   ClusterFirst (default)   the cluster DNS, search <ns>.svc.<domain> svc.<domain> <domain> + the node's, ndots:5;
 *                            hostNetwork pods, and nodes without --cluster-dns, get the node's configuration instead
 *   ClusterFirstWithHostNet  ClusterFirst, for hostNetwork pods too
 *   Default                  the node's configuration (--resolv-conf)
 *   None                     only spec.dnsConfig
 *
 * spec.dnsConfig is then merged: its nameservers and searches are appended (duplicates dropped), its options replace
 * options of the same name.
 */

export interface KubeletDns {
  /** --cluster-dns / clusterDNS: the DNS Service IPs. */
  clusterDNS: string[];
  /** --cluster-domain / clusterDomain. */
  clusterDomain: string;
}

/** Upstream's limits (pkg/apis/core/validation: MaxDNSNameservers, MaxDNSSearchPaths, MaxDNSSearchListChars). */
export const MAX_NAMESERVERS = 3;
export const MAX_SEARCH_PATHS = 32;
export const MAX_SEARCH_CHARS = 2048;

export interface PodDnsResult {
  conf: ResolvConf;
  /** Warning events for the pod: [reason, message]. */
  warnings: Array<[string, string]>;
}

type PodDnsType = 'cluster' | 'host' | 'none';

function dnsType(pod: Pod, dns: KubeletDns, warnings: PodDnsResult['warnings']): PodDnsType {
  const policy = pod.spec.dnsPolicy ?? 'ClusterFirst';
  const hostNetwork = pod.spec.hostNetwork === true;
  if (policy === 'None') return 'none';
  if (policy === 'Default') return 'host';
  if (policy === 'ClusterFirstWithHostNet' || (policy === 'ClusterFirst' && !hostNetwork)) {
    if (dns.clusterDNS.length === 0) {
      warnings.push(['MissingClusterDNS', `pod: "${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid ?? ''})". kubelet does not have ClusterDNS IP configured and cannot create Pod using "${policy}" policy. Falling back to "Default" policy.`]);
      return 'host';
    }
    return 'cluster';
  }
  // ClusterFirst with hostNetwork: the node's resolver.
  return 'host';
}

function unique(list: string[]): string[] {
  return [...new Set(list)];
}

/** Options by name (the part before ':'): later ones replace earlier ones of the same name, in first-seen order. */
function mergeOptions(base: string[], extra: Array<{ name?: string; value?: string }>): string[] {
  const byName = new Map<string, string>();
  for (const o of base) byName.set(o.split(':')[0] ?? o, o);
  for (const o of extra) {
    if (!o.name) continue;
    byName.set(o.name, o.value !== undefined && o.value !== '' ? `${o.name}:${o.value}` : o.name);
  }
  return [...byName.values()];
}

export function podResolvConf(pod: Pod, dns: KubeletDns, host: ResolvConf): PodDnsResult {
  const warnings: PodDnsResult['warnings'] = [];
  const type = dnsType(pod, dns, warnings);
  let conf: ResolvConf;
  if (type === 'cluster') {
    const domain = dns.clusterDomain;
    const ns = pod.metadata.namespace ?? 'default';
    // Without a cluster domain, only the node's search paths (as upstream).
    const own = domain ? [`${ns}.svc.${domain}`, `svc.${domain}`, domain] : [];
    conf = { nameservers: [...dns.clusterDNS], searches: [...own, ...host.searches], options: ['ndots:5'] };
  } else if (type === 'host') {
    conf = { nameservers: [...host.nameservers], searches: [...host.searches], options: [...host.options] };
  } else {
    conf = { nameservers: [], searches: [], options: [] };
  }
  const extra = pod.spec.dnsConfig;
  if (extra) {
    conf = {
      nameservers: [...conf.nameservers, ...(extra.nameservers ?? [])],
      searches: [...conf.searches, ...(extra.searches ?? [])],
      options: mergeOptions(conf.options, extra.options ?? []),
    };
  }
  conf.nameservers = unique(conf.nameservers);
  conf.searches = unique(conf.searches.map((s) => s.replace(/\.$/, '')).filter(Boolean));
  if (conf.nameservers.length > MAX_NAMESERVERS) {
    warnings.push(['DNSConfigForming', `Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: ${conf.nameservers.slice(0, MAX_NAMESERVERS).join(' ')}`]);
    conf.nameservers = conf.nameservers.slice(0, MAX_NAMESERVERS);
  }
  let searches = conf.searches.slice(0, MAX_SEARCH_PATHS);
  while (searches.join(' ').length > MAX_SEARCH_CHARS) searches = searches.slice(0, -1);
  if (searches.length < conf.searches.length) {
    warnings.push(['DNSConfigForming', `Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${searches.join(' ')}`]);
  }
  conf.searches = searches;
  return { conf, warnings };
}
