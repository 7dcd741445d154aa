import type { EndpointsMap, ServicePortMap } from './model.js';

/**
 * Which UDP conntrack entries must go after a sync (upstream's conntrack.CleanStaleEntries): UDP has no connection
 * end, so an entry DNATed to a removed endpoint would keep sending a client's packets into the void, and an entry
 * made while a service had no endpoints would keep the REJECT. Pure: old and new maps in, conntrack argument lists out.
 */
export function staleConntrackArgs(oldServices: ServicePortMap, oldEndpoints: EndpointsMap, services: ServicePortMap, endpoints: EndpointsMap): string[][] {
  const out: string[][] = [];
  const seen = new Set<string>();
  const add = (args: string[]): void => {
    const k = args.join(' ');
    if (seen.has(k)) return;
    seen.add(k);
    out.push(args);
  };
  // Endpoints that went away: delete flows DNATed to them, for every address of the service.
  for (const [name, old] of oldServices) {
    if (old.protocol !== 'UDP') continue;
    const now = new Set((endpoints.get(name) ?? []).map((e) => e.endpoint));
    for (const ep of oldEndpoints.get(name) ?? []) {
      if (now.has(ep.endpoint)) continue;
      for (const ip of [old.clusterIP, ...old.externalIPs, ...old.loadBalancerIPs]) add(['-D', '--orig-dst', ip, '--dst-nat', ep.ip, '-p', 'udp']);
      if (old.nodePort) add(['-D', '-p', 'udp', '--dport', String(old.nodePort), '--dst-nat', ep.ip]);
    }
  }
  // Services that had no endpoints and now have some: forget the flows that were being rejected.
  for (const [name, svc] of services) {
    if (svc.protocol !== 'UDP') continue;
    const had = (oldEndpoints.get(name) ?? []).length > 0 && oldServices.has(name);
    const has = (endpoints.get(name) ?? []).length > 0;
    if (had || !has) continue;
    for (const ip of [svc.clusterIP, ...svc.externalIPs, ...svc.loadBalancerIPs]) add(['-D', '--orig-dst', ip, '-p', 'udp']);
    if (svc.nodePort) add(['-D', '-p', 'udp', '--dport', String(svc.nodePort)]);
  }
  return out;
}

/** conntrack -D exits 1 when nothing matched; that is not a failure. */
export function conntrackNothingDeleted(stderr: string): boolean {
  return /0 flow entries have been deleted/.test(stderr);
}
