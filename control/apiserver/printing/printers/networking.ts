import type { KindPrinter } from '../table.js';
import { ageCol, ageOf, arr, col, formatLabelSelector, nameCol, nameOf, optStr, rec, recs, spec, status, str } from './common.js';

/** networking.k8s.io/v1 Ingresses, IngressClasses and NetworkPolicies, as upstream's printIngress, printIngressClass and printNetworkPolicy. */

/** The first three rule hosts, then how many rules more; "*" when no rule names a host. */
export function formatIngressHosts(rules: unknown): string {
  const all = recs(rules);
  const max = 3;
  const hosts: string[] = [];
  let more = false;
  for (const rule of all) {
    if (hosts.length === max) more = true;
    if (!more && str(rule.host) !== '') hosts.push(str(rule.host));
  }
  if (hosts.length === 0) return '*';
  return more ? `${hosts.join(',')} + ${all.length - max} more...` : hosts.join(',');
}

/** The load balancer's IPs (else host names), sorted and deduplicated; the API server prints tables wide. */
function ingressAddress(lb: unknown): string {
  const set = new Set<string>();
  for (const ing of recs(rec(lb).ingress)) {
    if (str(ing.ip) !== '') set.add(str(ing.ip));
    else if (str(ing.hostname) !== '') set.add(str(ing.hostname));
  }
  return [...set].sort().join(',');
}

export const ingressPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Class', 'string', 'The name of the IngressClass resource that should be used for additional configuration'),
    col('Hosts', 'string', 'Hosts that incoming requests are matched against before the ingress rule'),
    col('Address', 'string', 'Address is a list containing ingress points for the load-balancer'),
    col('Ports', 'string', 'Ports of TLS configurations that open'),
    ageCol(),
  ],
  cells: (o, now) => {
    const sp = spec(o);
    const className = optStr(sp.ingressClassName) ?? '<none>';
    const ports = arr(sp.tls).length > 0 ? '80, 443' : '80';
    return [nameOf(o), className, formatIngressHosts(sp.rules), ingressAddress(status(o).loadBalancer), ports, ageOf(o, now)];
  },
};

export const ingressClassPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Controller', 'string', 'Controller that is responsible for handling this class'),
    col('Parameters', 'string', 'A reference to a resource with additional parameters'),
    ageCol(),
  ],
  cells: (o, now) => {
    const sp = spec(o);
    let parameters = '<none>';
    if (sp.parameters !== undefined && sp.parameters !== null) {
      const p = rec(sp.parameters);
      const group = optStr(p.apiGroup);
      parameters = `${str(p.kind)}${group !== undefined ? `.${group}` : ''}/${str(p.name)}`;
    }
    return [nameOf(o), str(sp.controller), parameters, ageOf(o, now)];
  },
};

/** NAME POD-SELECTOR AGE: the selector as a label selector string, "<none>" when it selects every pod. */
export const networkPolicyPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Pod-Selector', 'string', 'The pods the policy applies to, by label; an empty selector picks every pod in the namespace'),
    ageCol(),
  ],
  cells: (o, now) => [nameOf(o), formatLabelSelector(spec(o).podSelector), ageOf(o, now)],
};
