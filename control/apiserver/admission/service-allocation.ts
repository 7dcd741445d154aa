import { randomInt } from 'node:crypto';
import { ApiError } from '../http/status.js';
import type { ResourceDef } from '../resources.js';
import type { Admission } from '../rest.js';
import type { KubeObject } from '../storage/object-storage.js';

/**
 * ClusterIP and NodePort allocation for Services, as upstream's service REST storage does: a free address from
 * --service-cluster-ip-range (the first address is the `kubernetes` service's), a free port from
 * --service-node-port-range for NodePort and LoadBalancer ports, never two services with the same one.
 *
 * The allocation table lives in memory and is rebuilt from the stored Services at start; one control process owns it.
 */

export function parseCidr(cidr: string): { base: number; size: number } {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m) throw new Error(`invalid CIDR "${cidr}": expected an IPv4 CIDR such as 10.96.0.0/12`);
  const octets = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  if (octets.some((o) => o > 255) || bits < 8 || bits > 30) throw new Error(`invalid CIDR "${cidr}"`);
  const addr = (((octets[0] as number) << 24) >>> 0) + ((octets[1] as number) << 16) + ((octets[2] as number) << 8) + (octets[3] as number);
  const size = 2 ** (32 - bits);
  return { base: addr - (addr % size), size };
}

export const ipToString = (n: number): string => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');

export function ipToNumber(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const o = m.slice(1).map(Number);
  if (o.some((x) => x > 255)) return undefined;
  return (((o[0] as number) << 24) >>> 0) + ((o[1] as number) << 16) + ((o[2] as number) << 8) + (o[3] as number);
}

export function parsePortRange(range: string): { min: number; max: number } {
  const m = /^(\d+)-(\d+)$/.exec(range);
  const min = Number(m?.[1]);
  const max = Number(m?.[2]);
  if (!m || min < 1 || max > 65535 || min > max) throw new Error(`invalid port range "${range}": expected e.g. 30000-32767`);
  return { min, max };
}

interface ServiceSpec {
  type?: string;
  clusterIP?: string;
  clusterIPs?: string[];
  ports?: Array<{ name?: string; port?: number; nodePort?: number; protocol?: string }>;
}

const needsNodePorts = (type: string | undefined): boolean => type === 'NodePort' || type === 'LoadBalancer';

function invalidService(name: string, field: string, value: unknown, detail: string): ApiError {
  const text = `${field}: Invalid value: ${JSON.stringify(value)}: ${detail}`;
  return new ApiError(422, 'Invalid', `Service "${name}" is invalid: ${text}`, { name, kind: 'Service', causes: [{ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(value)}: ${detail}`, field }] });
}

export class ServiceAllocator {
  readonly range: { base: number; size: number };
  readonly ports: { min: number; max: number };
  private readonly ips = new Set<number>();
  private readonly nodePorts = new Set<string>();
  /** Allocation is read-modify-write: one admission at a time. */
  private lock: Promise<void> = Promise.resolve();

  constructor(serviceCidr: string, nodePortRange: string) {
    this.range = parseCidr(serviceCidr);
    this.ports = parsePortRange(nodePortRange);
  }

  /** The first usable address of the range, reserved for the `kubernetes` service. */
  get kubernetesServiceIP(): string {
    return ipToString(this.range.base + 1);
  }

  /** Marks what existing services hold (at start). */
  observe(svc: KubeObject): void {
    const spec = (svc.spec ?? {}) as ServiceSpec;
    const ip = spec.clusterIP && spec.clusterIP !== 'None' ? ipToNumber(spec.clusterIP) : undefined;
    if (ip !== undefined) this.ips.add(ip);
    for (const p of spec.ports ?? []) if (p.nodePort) this.nodePorts.add(`${p.protocol ?? 'TCP'}/${p.nodePort}`);
  }

  private release(spec: ServiceSpec): void {
    const ip = spec.clusterIP ? ipToNumber(spec.clusterIP) : undefined;
    if (ip !== undefined) this.ips.delete(ip);
    for (const p of spec.ports ?? []) if (p.nodePort) this.nodePorts.delete(`${p.protocol ?? 'TCP'}/${p.nodePort}`);
  }

  private allocateIP(name: string, requested: string | undefined): string {
    const first = this.range.base + 1;
    const last = this.range.base + this.range.size - 2;
    if (requested) {
      const n = ipToNumber(requested);
      if (n === undefined) throw invalidService(name, 'spec.clusterIPs', [requested], 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)');
      if (n < first || n > last) throw invalidService(name, 'spec.clusterIPs', [requested], `failed to allocate IP ${requested}: the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${ipToString(this.range.base)}/${32 - Math.log2(this.range.size)}`);
      if (this.ips.has(n)) throw invalidService(name, 'spec.clusterIPs', [requested], `failed to allocate IP ${requested}: provided IP is already allocated`);
      this.ips.add(n);
      return requested;
    }
    const span = last - first + 1;
    if (this.ips.size >= span) throw new ApiError(500, 'InternalError', 'Internal error occurred: failed to allocate a serviceIP: range is full');
    // Dynamic addresses come from above the lower band, which stays free for addresses users ask for (upstream's
    // ServiceIPStaticSubrange); random probing keeps allocation O(1) on average.
    const band = Math.min(Math.max(16, Math.floor(span / 16)), 256);
    const pick = (lo: number): string | undefined => {
      for (let tries = 0; tries < 64; tries++) {
        const n = lo + randomInt(last - lo + 1);
        if (n > first && !this.ips.has(n)) {
          this.ips.add(n);
          return ipToString(n);
        }
      }
      return undefined;
    };
    const upper = pick(Math.min(first + band, last));
    if (upper) return upper;
    for (let n = first + 1; n <= last; n++) {
      if (!this.ips.has(n)) {
        this.ips.add(n);
        return ipToString(n);
      }
    }
    throw new ApiError(500, 'InternalError', 'Internal error occurred: failed to allocate a serviceIP: range is full');
  }

  private allocateNodePort(name: string, index: number, protocol: string, requested: number | undefined): number {
    if (requested) {
      const key = `${protocol}/${requested}`;
      if (requested < this.ports.min || requested > this.ports.max) {
        throw invalidService(name, `spec.ports[${index}].nodePort`, requested, `provided port is not in the valid range. The range of valid ports is ${this.ports.min}-${this.ports.max}`);
      }
      if (this.nodePorts.has(key)) throw invalidService(name, `spec.ports[${index}].nodePort`, requested, 'provided port is already allocated');
      this.nodePorts.add(key);
      return requested;
    }
    const span = this.ports.max - this.ports.min + 1;
    // As for IPs: dynamic ports come from above a lower band kept for ports users ask for (ServiceNodePortStaticSubrange).
    const band = Math.min(Math.max(16, Math.floor(span / 32)), 128);
    const lo = Math.min(this.ports.min + band, this.ports.max);
    for (let tries = 0; tries < 256; tries++) {
      const p = lo + randomInt(this.ports.max - lo + 1);
      const key = `${protocol}/${p}`;
      if (!this.nodePorts.has(key)) {
        this.nodePorts.add(key);
        return p;
      }
    }
    for (let p = this.ports.min; p <= this.ports.max; p++) {
      const key = `${protocol}/${p}`;
      if (!this.nodePorts.has(key)) {
        this.nodePorts.add(key);
        return p;
      }
    }
    throw new ApiError(500, 'InternalError', 'Internal error occurred: failed to allocate a nodePort: range is full');
  }

  private async exclusive<T>(fn: () => T): Promise<T> {
    const previous = this.lock;
    let done!: () => void;
    this.lock = new Promise((r) => (done = r));
    await previous;
    try {
      return fn();
    } finally {
      done();
    }
  }

  /** The admission plugin: fills spec.clusterIP(s) and nodePorts on create and type changes, frees them on delete. */
  admission(): Admission {
    return {
      rollback: async (op, def, obj, old) => {
        if (def.group !== '' || def.kind !== 'Service') return;
        await this.exclusive(() => {
          const spec = (obj.spec ?? {}) as ServiceSpec;
          const before = (old?.spec ?? {}) as ServiceSpec;
          const held = new Set((before.ports ?? []).map((p) => `${p.protocol ?? 'TCP'}/${p.nodePort}`));
          if (op === 'create') this.release(spec);
          else for (const p of spec.ports ?? []) if (p.nodePort && !held.has(`${p.protocol ?? 'TCP'}/${p.nodePort}`)) this.nodePorts.delete(`${p.protocol ?? 'TCP'}/${p.nodePort}`);
        });
      },
      admit: async (op, def: ResourceDef, obj, old, ctx) => {
        if (def.group !== '' || def.kind !== 'Service') return;
        const name = obj.metadata.name ?? '';
        await this.exclusive(() => {
          const spec = ((obj.spec ??= {}) as ServiceSpec);
          if (op === 'delete') {
            if (!ctx.dryRun) this.release(spec);
            return;
          }
          const before = (old?.spec ?? {}) as ServiceSpec;
          const taken: Array<() => void> = [];
          try {
            if (op === 'create' && spec.type !== 'ExternalName' && spec.clusterIP !== 'None') {
              const requested = spec.clusterIP || spec.clusterIPs?.[0] || undefined;
              const ip = this.allocateIP(name, requested);
              taken.push(() => this.ips.delete(ipToNumber(ip) as number));
              spec.clusterIP = ip;
              spec.clusterIPs = [ip];
            } else if (op === 'create' && spec.clusterIP === 'None') {
              spec.clusterIPs = ['None'];
            }
            const oldPorts = new Map((before.ports ?? []).map((p) => [`${p.protocol ?? 'TCP'}/${p.nodePort}`, p.nodePort]));
            const keep = new Set<string>();
            (spec.ports ?? []).forEach((p, i) => {
              if (!needsNodePorts(spec.type)) {
                delete p.nodePort;
                return;
              }
              const protocol = p.protocol ?? 'TCP';
              const key = `${protocol}/${p.nodePort}`;
              if (p.nodePort && oldPorts.has(key)) {
                keep.add(key);
                return;
              }
              const port = this.allocateNodePort(name, i, protocol, p.nodePort || undefined);
              taken.push(() => this.nodePorts.delete(`${protocol}/${port}`));
              p.nodePort = port;
            });
            if (op === 'update') {
              for (const key of oldPorts.keys()) if (!keep.has(key) && !key.endsWith('/undefined')) this.nodePorts.delete(key);
            }
            if (ctx.dryRun) for (const undo of taken) undo();
          } catch (err) {
            for (const undo of taken) undo();
            throw err;
          }
        });
      },
    };
  }
}
