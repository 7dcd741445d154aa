/**
 * The userspace proxy's load balancer (upstream's LoadBalancerRR): true round robin over a service port's ready
 * endpoints, with ClientIP affinity that remembers a client's endpoint for `affinitySeconds` after its last use.
 */
interface Affinity {
  endpoint: string;
  lastUsed: number;
}

interface State {
  endpoints: string[];
  index: number;
  affinitySeconds: number;
  affinity: Map<string, Affinity>;
}

export class RoundRobin {
  private readonly services = new Map<string, State>();

  constructor(private readonly now: () => number = Date.now) {}

  private state(name: string): State {
    let s = this.services.get(name);
    if (!s) this.services.set(name, (s = { endpoints: [], index: 0, affinitySeconds: 0, affinity: new Map() }));
    return s;
  }

  setAffinity(name: string, affinitySeconds: number): void {
    const s = this.state(name);
    if (s.affinitySeconds !== affinitySeconds) s.affinity.clear();
    s.affinitySeconds = affinitySeconds;
  }

  /** Replaces the endpoints ("ip:port"); an unchanged set keeps its place in the rotation. */
  setEndpoints(name: string, endpoints: string[]): void {
    const s = this.state(name);
    const next = [...new Set(endpoints)].sort();
    if (next.length === s.endpoints.length && next.every((e, i) => e === s.endpoints[i])) return;
    s.endpoints = next;
    s.index = 0;
    for (const [client, a] of s.affinity) if (!next.includes(a.endpoint)) s.affinity.delete(client);
  }

  delete(name: string): void {
    this.services.delete(name);
  }

  endpoints(name: string): string[] {
    return this.services.get(name)?.endpoints ?? [];
  }

  /**
   * The endpoint for a new connection from `clientIP`: the client's remembered one while affinity holds (unless
   * `resetAffinity`, after that endpoint failed), else the next in turn.
   */
  next(name: string, clientIP: string, resetAffinity = false): string | undefined {
    const s = this.services.get(name);
    if (!s || s.endpoints.length === 0) return undefined;
    const now = this.now();
    if (s.affinitySeconds > 0 && !resetAffinity) {
      const a = s.affinity.get(clientIP);
      if (a && now - a.lastUsed < s.affinitySeconds * 1000 && s.endpoints.includes(a.endpoint)) {
        a.lastUsed = now;
        return a.endpoint;
      }
    }
    const endpoint = s.endpoints[s.index % s.endpoints.length]!;
    s.index = (s.index + 1) % s.endpoints.length;
    if (s.affinitySeconds > 0) s.affinity.set(clientIP, { endpoint, lastUsed: now });
    return endpoint;
  }
}
