/**
 * resolv.conf(5), read and written: the pieces the kubelet and the cluster DNS use (nameserver, search, options).
 * Other lines (domain, sortlist, comments) are ignored, as upstream's kubelet does when it builds a pod's file.
 */

export interface ResolvConf {
  nameservers: string[];
  searches: string[];
  options: string[];
}

export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (!line) continue;
    const [key, ...fields] = line.split(/\s+/);
    if (key === 'nameserver' && fields[0]) out.nameservers.push(fields[0]);
    // The last search line wins (resolv.conf(5)); "domain" is the older single-entry form.
    else if (key === 'search') out.searches = fields.filter((f) => f !== '.');
    else if (key === 'domain' && fields[0] && out.searches.length === 0) out.searches = [fields[0]];
    else if (key === 'options') out.options.push(...fields);
  }
  return out;
}

export function formatResolvConf(c: ResolvConf): string {
  // The order dockershim's rewriteResolvFile wrote: nameservers, search, options.
  const lines: string[] = c.nameservers.map((ns) => `nameserver ${ns}`);
  if (c.searches.length) lines.push(`search ${c.searches.join(' ')}`);
  if (c.options.length) lines.push(`options ${c.options.join(' ')}`);
  return `${lines.join('\n')}\n`;
}
