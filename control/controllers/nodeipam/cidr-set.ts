/**
 * The pod ranges of a cluster CIDR, cut into node-sized subnets (upstream's nodeipam/ipam/cidrset): a bitmap of
 * subnets handed out, allocated round-robin from the last one given, so a range released by a deleted node is not
 * reused at once. IPv4 only, as Skiff's pod network. Pure: no I/O, no clock.
 */

export class CidrSetError extends Error {}

/** Upstream's limit: a cluster CIDR holds at most 2^16 node subnets. */
const MAX_SUBNET_BITS = 16;

/** "10.244.3.0/24" → [address as a 32-bit number, prefix length]; an error that names the value otherwise. */
export function parseIPv4Cidr(cidr: string): { base: number; prefix: number } {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr.trim());
  const octets = m ? m.slice(1, 5).map(Number) : [];
  const prefix = m ? Number(m[5]) : NaN;
  if (!m || octets.some((o) => o > 255) || prefix > 32) throw new CidrSetError(`invalid CIDR address: ${cidr}`);
  const addr = octets.reduce((a, o) => a * 256 + o, 0);
  return { base: prefix === 0 ? 0 : addr - (addr % 2 ** (32 - prefix)), prefix };
}

export function formatIPv4Cidr(base: number, prefix: number): string {
  return `${[24, 16, 8, 0].map((s) => Math.floor(base / 2 ** s) % 256).join('.')}/${prefix}`;
}

export class CidrSet {
  readonly clusterCidr: string;
  readonly nodeMaskSize: number;
  private readonly base: number;
  private readonly prefix: number;
  private readonly used: Uint8Array;
  private usedCount = 0;
  private nextCandidate = 0;

  constructor(clusterCidr: string, nodeMaskSize: number) {
    const { base, prefix } = parseIPv4Cidr(clusterCidr);
    if (!Number.isInteger(nodeMaskSize) || nodeMaskSize < prefix || nodeMaskSize > 32) {
      throw new CidrSetError(`node CIDR mask size ${nodeMaskSize} must be between the cluster CIDR's (${prefix}) and 32`);
    }
    if (nodeMaskSize - prefix > MAX_SUBNET_BITS) {
      throw new CidrSetError(`a node CIDR mask size of ${nodeMaskSize} cuts ${clusterCidr} into more than 2^${MAX_SUBNET_BITS} subnets: use a larger cluster mask or a smaller node mask`);
    }
    this.base = base;
    this.prefix = prefix;
    this.clusterCidr = formatIPv4Cidr(base, prefix);
    this.nodeMaskSize = nodeMaskSize;
    this.used = new Uint8Array(2 ** (nodeMaskSize - prefix));
  }

  /** How many node subnets the cluster CIDR holds. */
  get size(): number {
    return this.used.length;
  }

  get allocatedCount(): number {
    return this.usedCount;
  }

  private subnet(i: number): string {
    return formatIPv4Cidr(this.base + i * 2 ** (32 - this.nodeMaskSize), this.nodeMaskSize);
  }

  /** The next free subnet, or undefined when every one is taken (upstream's ErrCIDRRangeNoCIDRsRemaining). */
  allocateNext(): string | undefined {
    if (this.usedCount >= this.used.length) return undefined;
    for (let k = 0; k < this.used.length; k++) {
      const i = (this.nextCandidate + k) % this.used.length;
      if (this.used[i]) continue;
      this.used[i] = 1;
      this.usedCount++;
      this.nextCandidate = (i + 1) % this.used.length;
      return this.subnet(i);
    }
    return undefined;
  }

  /** The subnet indexes a CIDR covers within the cluster CIDR; an error when it lies (partly) outside. */
  private indexes(cidr: string): [number, number] {
    const { base, prefix } = parseIPv4Cidr(cidr);
    const clusterSize = 2 ** (32 - this.prefix);
    if (prefix < this.prefix || base < this.base || base >= this.base + clusterSize) throw new CidrSetError(`CIDR ${cidr} is outside the cluster CIDR ${this.clusterCidr}`);
    const step = 2 ** (32 - this.nodeMaskSize);
    const first = Math.floor((base - this.base) / step);
    const span = prefix >= this.nodeMaskSize ? 1 : 2 ** (this.nodeMaskSize - prefix);
    return [first, first + span - 1];
  }

  /** Marks the subnets a CIDR covers as used (a node's range found at start, a reserved range). */
  occupy(cidr: string): void {
    const [first, last] = this.indexes(cidr);
    for (let i = first; i <= last; i++) {
      if (!this.used[i]) this.usedCount++;
      this.used[i] = 1;
    }
  }

  /** Frees the subnets a CIDR covers (a deleted node's range). */
  release(cidr: string): void {
    const [first, last] = this.indexes(cidr);
    for (let i = first; i <= last; i++) {
      if (this.used[i]) this.usedCount--;
      this.used[i] = 0;
    }
  }

  isAllocated(cidr: string): boolean {
    const [first, last] = this.indexes(cidr);
    for (let i = first; i <= last; i++) if (!this.used[i]) return false;
    return true;
  }

  /**
   * Marks as used whatever part of the cluster CIDR another range overlaps (the service CIDR, as upstream's
   * filterOutServiceRange), so that no node gets pod addresses that are also service IPs. Returns whether any did.
   */
  occupyOverlap(cidr: string): boolean {
    const other = parseIPv4Cidr(cidr);
    const clusterSize = 2 ** (32 - this.prefix);
    const otherSize = 2 ** (32 - other.prefix);
    if (other.base + otherSize <= this.base || other.base >= this.base + clusterSize) return false;
    this.occupy(other.prefix <= this.prefix ? this.clusterCidr : formatIPv4Cidr(other.base, other.prefix));
    return true;
  }

  /** Whether a CIDR lies within the cluster CIDR. */
  contains(cidr: string): boolean {
    try {
      this.indexes(cidr);
      return true;
    } catch {
      return false;
    }
  }
}
