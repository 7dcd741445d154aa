import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { podResolvConf, type KubeletDns } from '../../../../agent/kuberuntime/dns.js';
import { managesResolvConf, writePodResolvConf } from '../../../../agent/kuberuntime/resolv-file.js';
import { formatResolvConf, parseResolvConf, type ResolvConf } from '../../../../lib/resolvconf.js';
import { c, makePod } from './fixtures.js';

const dns: KubeletDns = { clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local' };
const host: ResolvConf = { nameservers: ['192.168.1.1', '192.168.1.2'], searches: ['corp.example'], options: ['timeout:2', 'ndots:1'] };

describe('a pod resolv.conf per dnsPolicy (the kubelet pkg/kubelet/network/dns)', () => {
  it('ClusterFirst (the default): cluster DNS, namespace search paths then the node ones, ndots:5', () => {
    const pod = makePod({ containers: [c('app')] }, { namespace: 'shop' });
    const { conf, warnings } = podResolvConf(pod, dns, host);
    expect(conf).toEqual({ nameservers: ['10.96.0.10'], searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example'], options: ['ndots:5'] });
    expect(warnings).toEqual([]);
    expect(formatResolvConf(conf)).toBe('nameserver 10.96.0.10\nsearch shop.svc.cluster.local svc.cluster.local cluster.local corp.example\noptions ndots:5\n');
  });

  it('ClusterFirst on the host network uses the node resolver; ClusterFirstWithHostNet the cluster DNS', () => {
    expect(podResolvConf(makePod({ hostNetwork: true, containers: [c('app')] }), dns, host).conf).toEqual(host);
    expect(podResolvConf(makePod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet', containers: [c('app')] }), dns, host).conf.nameservers).toEqual(['10.96.0.10']);
  });

  it('Default: the node resolver configuration', () => {
    expect(podResolvConf(makePod({ dnsPolicy: 'Default', containers: [c('app')] }), dns, host).conf).toEqual(host);
  });

  it('None: only dnsConfig', () => {
    const pod = makePod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.2.3.4'], searches: ['a.example'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] }, containers: [c('app')] });
    expect(podResolvConf(pod, dns, host).conf).toEqual({ nameservers: ['1.2.3.4'], searches: ['a.example'], options: ['ndots:2', 'edns0'] });
  });

  it('dnsConfig is merged: nameservers and searches appended without duplicates, options replaced by name', () => {
    const pod = makePod({ dnsConfig: { nameservers: ['10.96.0.10', '9.9.9.9'], searches: ['cluster.local', 'extra.example'], options: [{ name: 'ndots', value: '3' }, { name: 'single-request' }] }, containers: [c('app')] });
    expect(podResolvConf(pod, dns, host).conf).toEqual({
      nameservers: ['10.96.0.10', '9.9.9.9'],
      searches: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example', 'extra.example'],
      options: ['ndots:3', 'single-request'],
    });
  });

  it('without --cluster-dns, ClusterFirst falls back to Default with a MissingClusterDNS warning', () => {
    const { conf, warnings } = podResolvConf(makePod({ containers: [c('app')] }), { clusterDNS: [], clusterDomain: 'cluster.local' }, host);
    expect(conf).toEqual(host);
    expect(warnings.map(([r]) => r)).toEqual(['MissingClusterDNS']);
    expect(warnings[0]?.[1]).toContain('Falling back to "Default" policy.');
  });

  it('more than three nameservers are cut with a DNSConfigForming warning', () => {
    const pod = makePod({ dnsConfig: { nameservers: ['1.1.1.1', '2.2.2.2', '3.3.3.3'] }, containers: [c('app')] });
    const { conf, warnings } = podResolvConf(pod, dns, host);
    expect(conf.nameservers).toEqual(['10.96.0.10', '1.1.1.1', '2.2.2.2']);
    expect(warnings[0]?.[0]).toBe('DNSConfigForming');
    expect(warnings[0]?.[1]).toContain('the applied nameserver line is: 10.96.0.10 1.1.1.1 2.2.2.2');
  });

  it('without a cluster domain only the node search paths remain', () => {
    expect(podResolvConf(makePod({ containers: [c('app')] }), { clusterDNS: ['10.96.0.10'], clusterDomain: '' }, host).conf.searches).toEqual(['corp.example']);
  });
});

describe('resolv.conf files', () => {
  let dir = '';
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('parses nameserver, search (last wins), domain and options, ignoring comments', () => {
    expect(parseResolvConf('# generated\ndomain old.example\nnameserver 1.1.1.1 ; x\nsearch a.example b.example\nsearch c.example\noptions ndots:2 rotate\nnameserver 8.8.8.8\n')).toEqual({
      nameservers: ['1.1.1.1', '8.8.8.8'],
      searches: ['c.example'],
      options: ['ndots:2', 'rotate'],
    });
  });

  it('the agent writes the pod file (loopback node resolvers dropped) only when it has something to say', async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-dns-'));
    const hostFile = join(dir, 'host-resolv.conf');
    writeFileSync(hostFile, 'nameserver 127.0.0.53\nnameserver 192.168.1.1\nsearch corp.example\n');
    const pod = makePod({ dnsPolicy: 'Default', containers: [c('app')] });
    const { path, warnings } = await writePodResolvConf(dir, pod, { clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local', resolvConf: hostFile });
    expect(warnings).toEqual([]);
    expect(readFileSync(path, 'utf8')).toBe('nameserver 192.168.1.1\nsearch corp.example\n');
    expect(managesResolvConf(pod, { clusterDNS: [], clusterDomain: '', resolvConf: hostFile })).toBe(false);
    expect(managesResolvConf(pod, { clusterDNS: ['10.96.0.10'], clusterDomain: '', resolvConf: hostFile })).toBe(true);
  });
});
