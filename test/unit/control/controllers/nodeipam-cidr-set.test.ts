import { describe, expect, it } from 'vitest';
import { CidrSet, CidrSetError, parseIPv4Cidr } from '../../../../control/controllers/nodeipam/cidr-set.js';

describe('node IPAM CIDR set', () => {
  it('hands out node subnets of the cluster CIDR in order, from the first', () => {
    const set = new CidrSet('10.244.0.0/16', 24);
    expect(set.size).toBe(256);
    expect([set.allocateNext(), set.allocateNext(), set.allocateNext()]).toEqual(['10.244.0.0/24', '10.244.1.0/24', '10.244.2.0/24']);
    expect(set.allocatedCount).toBe(3);
  });

  it('normalises the cluster CIDR to its network address', () => {
    const set = new CidrSet('10.244.7.9/16', 24);
    expect(set.clusterCidr).toBe('10.244.0.0/16');
    expect(set.allocateNext()).toBe('10.244.0.0/24');
  });

  it('skips subnets already occupied and reports exhaustion with undefined', () => {
    const set = new CidrSet('10.0.0.0/30', 31);
    set.occupy('10.0.0.0/31');
    expect(set.allocateNext()).toBe('10.0.0.2/31');
    expect(set.allocateNext()).toBeUndefined();
    expect(set.allocatedCount).toBe(2);
  });

  it('reuses a released subnet only after going round (round-robin from the last one given)', () => {
    const set = new CidrSet('192.168.0.0/22', 24);
    const a = set.allocateNext();
    set.allocateNext();
    set.release(a as string);
    expect(set.isAllocated(a as string)).toBe(false);
    expect(set.allocateNext()).toBe('192.168.2.0/24');
    expect(set.allocateNext()).toBe('192.168.3.0/24');
    expect(set.allocateNext()).toBe('192.168.0.0/24');
    expect(set.allocateNext()).toBeUndefined();
  });

  it('occupies every subnet a wider CIDR covers, and one subnet for a narrower one', () => {
    const set = new CidrSet('10.244.0.0/16', 24);
    set.occupy('10.244.0.0/23');
    expect(set.allocatedCount).toBe(2);
    set.occupy('10.244.5.128/25');
    expect(set.isAllocated('10.244.5.0/24')).toBe(true);
    expect(set.allocateNext()).toBe('10.244.2.0/24');
  });

  it('keeps the subnets a service CIDR overlaps out of the pool', () => {
    const set = new CidrSet('10.0.0.0/22', 24);
    expect(set.occupyOverlap('10.0.1.0/25')).toBe(true);
    expect(set.occupyOverlap('10.96.0.0/12')).toBe(false);
    expect([set.allocateNext(), set.allocateNext(), set.allocateNext()]).toEqual(['10.0.0.0/24', '10.0.2.0/24', '10.0.3.0/24']);
    const all = new CidrSet('10.100.0.0/16', 24);
    expect(all.occupyOverlap('10.96.0.0/12')).toBe(true);
    expect(all.allocateNext()).toBeUndefined();
  });

  it('refuses CIDRs outside the cluster CIDR and bad mask sizes', () => {
    const set = new CidrSet('10.244.0.0/16', 24);
    expect(set.contains('10.245.0.0/24')).toBe(false);
    expect(set.contains('10.0.0.0/8')).toBe(false);
    expect(set.contains('10.244.255.0/24')).toBe(true);
    expect(() => set.occupy('10.88.0.0/24')).toThrow(/outside the cluster CIDR 10.244.0.0\/16/);
    expect(() => new CidrSet('10.244.0.0/16', 8)).toThrow(CidrSetError);
    expect(() => new CidrSet('10.0.0.0/8', 28)).toThrow(/more than 2\^16 subnets/);
    expect(() => new CidrSet('10.244.0.0', 24)).toThrow(/invalid CIDR address: 10.244.0.0/);
    expect(() => parseIPv4Cidr('300.1.1.1/8')).toThrow(CidrSetError);
  });

  it('parses addresses into numbers that keep the high bit', () => {
    expect(parseIPv4Cidr('255.255.255.0/24')).toEqual({ base: 0xffffff00, prefix: 24 });
    const set = new CidrSet('240.0.0.0/4', 8);
    expect(set.allocateNext()).toBe('240.0.0.0/8');
    expect(set.size).toBe(16);
  });
});
