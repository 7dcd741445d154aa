import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayOf } from '../../../agent/runtime/pod-network.js';
import { resolverUpstream } from '../../../proxy/dns/forward.js';
import { ClusterDnsServer } from '../../../proxy/dns/server.js';
import { ClusterDnsView } from '../../../proxy/dns/view.js';
import { svc } from '../../unit/proxy/fixtures.js';
import { AgentProcess, eventually, execIn, freePodCidr, isRunningReady, podYaml, type PodWithStatus } from './harness.js';

/**
 * A real pod resolving cluster names: the agent runs with --cluster-dns set to its pod network's gateway (the node's
 * address on the bridge), where this test serves the cluster DNS on port 53, and writes the pod's resolv.conf for
 * dnsPolicy ClusterFirst; busybox nslookup inside the pod's container resolves a service by its short name.
 */


const docker = new Dockerode();
let agent: AgentProcess;
let gateway = '';
let server: ClusterDnsServer | undefined;

beforeAll(async () => {
  const cidr = await freePodCidr(docker);
  gateway = gatewayOf(cidr);
  agent = new AgentProcess({ docker, args: ['--cluster-dns', gateway, '--cluster-domain', 'cluster.local'] });
  agent.podCidr = cidr;
  await agent.start();
  const view = new ClusterDnsView('cluster.local');
  view.onServiceAdd(svc('web', { clusterIP: '10.96.0.20' }));
  // The gateway address exists once the agent has made its pod network.
  server = await eventually(async () => {
    const s = new ClusterDnsServer({ view, upstream: resolverUpstream([], 500), config: { domain: 'cluster.local', ttl: 30 }, host: gateway, port: 53 });
    await s.start();
    return s;
  }, `DNS server on ${gateway}:53`, 30_000);
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await agent?.cleanup();
});

describe('cluster DNS from a pod', () => {
  it('gets a ClusterFirst resolv.conf and resolves a service by its short name', async () => {
    agent.writeManifest('dns.yaml', podYaml('dns', `spec:\n  terminationGracePeriodSeconds: 0\n  containers:\n  - name: main\n    image: skiff/busybox:1.0\n    command: [sh, -c, 'sleep 3600']\n`));
    const pod = await agent.waitPod('dns', isRunningReady, 'running');
    const id = (pod as PodWithStatus).status.containerStatuses?.[0]?.containerID?.replace('docker://', '') ?? '';
    const resolv = (await execIn(docker, id, ['cat', '/etc/resolv.conf'])).out;
    expect(resolv).toContain(`nameserver ${gateway}\n`);
    expect(resolv).toMatch(/^search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local\b/m);
    expect(resolv).toContain('options ndots:5\n');
    const out = await eventually(async () => {
      const o = (await execIn(docker, id, ['nslookup', 'web'])).out;
      return /Address:\s*10\.96\.0\.20/.test(o) ? o : undefined;
    }, 'nslookup web inside the pod', 30_000);
    expect(out).toMatch(/Name:\s*web\.default\.svc\.cluster\.local/);
  });
});
