import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect, createServer, type Server } from 'node:net';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserspaceProxier } from '../../../proxy/userspace/proxier.js';
import { eps, svc } from '../../unit/proxy/fixtures.js';

/**
 * The userspace proxier's listeners on loopback only (127.0.0.0/8), without iptables: backends answer with their
 * name on 127.0.0.2-4, clients connect to the listener directly.
 */

const BACKENDS = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
const DEAD = '127.0.0.5'; // nothing listens there
const ECHO = '127.0.0.6'; // echoes every byte back
const servers: Server[] = [];
const udpServers: ReturnType<typeof createSocket>[] = [];
let port = 0;
let udpPort = 0;
const registry = new Registry();
const proxier = new UserspaceProxier({ run: async () => ({ exitCode: 0, stdout: '', stderr: '' }), nodeName: 'n', listenIP: '127.0.0.1', noIptables: true, registry, minSyncPeriodMs: 0 });

function listenOn(host: string, p: number): Promise<number> {
  const s = createServer((c) => c.end(`${host}\n`));
  servers.push(s);
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen(p, host, () => resolve((s.address() as { port: number }).port));
  });
}

/** Connects, reads to the end; "RESET"/"ERR" on failure. */
function ask(p: number, localAddress = '127.0.0.1'): Promise<string> {
  return new Promise((resolve) => {
    const c = connect({ host: '127.0.0.1', port: p, localAddress });
    let out = '';
    c.on('data', (d) => (out += String(d)));
    c.on('end', () => resolve(out.trim()));
    c.on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNRESET' ? 'RESET' : `ERR ${e.code}`));
  });
}

function askUDP(p: number): Promise<string> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => {
      s.close();
      resolve('timeout');
    }, 2000);
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      resolve(String(m));
    });
    s.send('q', p, '127.0.0.1');
  });
}

async function update(fn: () => void): Promise<void> {
  fn();
  await proxier.sync();
}

beforeAll(async () => {
  port = await listenOn(BACKENDS[0]!, 0);
  for (const b of BACKENDS.slice(1)) await listenOn(b, port);
  // UDP echo servers naming themselves.
  for (const b of BACKENDS.slice(0, 2)) {
    const s = createSocket('udp4');
    udpServers.push(s);
    await new Promise<void>((r) => s.bind(udpPort, b, () => r()));
    udpPort = s.address().port;
    s.on('message', (_m, r) => s.send(`udp ${b}`, r.port, r.address));
  }
  const echo = createServer((c) => c.pipe(c).on('error', () => c.destroy()));
  servers.push(echo);
  await new Promise<void>((r) => echo.listen(0, ECHO, () => r()));
  proxier.onServiceAdd(svc('echo', { clusterIP: '10.96.0.14' }));
  proxier.onEndpointsAdd(eps('echo', [ECHO], [{ port: (echo.address() as { port: number }).port }]));
  proxier.onServiceAdd(svc('web', { clusterIP: '10.96.0.10' }));
  proxier.onEndpointsAdd(eps('web', BACKENDS, [{ port }]));
  proxier.onServiceAdd(svc('sticky', { clusterIP: '10.96.0.11', affinity: 60 }));
  proxier.onEndpointsAdd(eps('sticky', BACKENDS, [{ port }]));
  proxier.onServiceAdd(svc('flaky', { clusterIP: '10.96.0.12' }));
  proxier.onEndpointsAdd(eps('flaky', [DEAD, BACKENDS[0]!, BACKENDS[1]!], [{ port }]));
  proxier.onServiceAdd(svc('empty', { clusterIP: '10.96.0.13' }));
  proxier.onServiceAdd(svc('dns', { clusterIP: '10.96.0.53', ports: [{ port: 53, protocol: 'UDP' }] }));
  proxier.onEndpointsAdd(eps('dns', BACKENDS.slice(0, 2), [{ port: udpPort, protocol: 'UDP' }]));
  proxier.onServicesSynced();
  proxier.onEndpointsSynced();
  expect(await proxier.sync()).toBe(true);
});

afterAll(async () => {
  await proxier.stop();
  for (const s of servers) s.close();
  for (const s of udpServers) s.close();
});

describe('userspace proxier listeners (loopback)', () => {
  it('round-robins exactly: 300 connections, 100 each, in turn', async () => {
    const p = proxier.proxyPort('default/web')!;
    const got: string[] = [];
    for (let i = 0; i < 300; i++) got.push(await ask(p));
    for (const b of BACKENDS) expect(got.filter((g) => g === b)).toHaveLength(100);
    for (let i = 3; i < 300; i++) expect(got[i]).toBe(got[i - 3]);
  });

  it('sends nothing to a removed endpoint', async () => {
    await update(() => proxier.onEndpointsUpdate(undefined, eps('web', BACKENDS.slice(0, 2), [{ port }])));
    const p = proxier.proxyPort('default/web')!;
    const got = await Promise.all(Array.from({ length: 20 }, () => ask(p)));
    expect(got).not.toContain(BACKENDS[2]);
    expect(new Set(got)).toEqual(new Set(BACKENDS.slice(0, 2)));
  });

  it('pins a client with ClientIP affinity, other clients still rotate', async () => {
    const p = proxier.proxyPort('default/sticky')!;
    const a = await Promise.all(Array.from({ length: 10 }, () => ask(p, '127.0.0.1')));
    expect(new Set(a).size).toBe(1);
    const b = await ask(p, '127.0.0.9');
    const c = await ask(p, '127.0.0.10');
    expect(new Set([a[0], b, c]).size).toBe(3);
  });

  it('retries a failed connect on the next endpoint', async () => {
    const p = proxier.proxyPort('default/flaky')!;
    const before = (await registry.getSingleMetricAsString('kubeproxy_userspace_endpoint_dial_failures_total')).match(/ (\d+)$/m)?.[1];
    const got: string[] = [];
    for (let i = 0; i < 9; i++) got.push(await ask(p));
    expect(got.every((g) => g === BACKENDS[0] || g === BACKENDS[1])).toBe(true);
    const after = (await registry.getSingleMetricAsString('kubeproxy_userspace_endpoint_dial_failures_total')).match(/ (\d+)$/m)?.[1];
    // Every third turn lands on the dead endpoint; the retry takes the next turn, so 3 or 4 failures in 9.
    expect(Number(after) - Number(before)).toBeGreaterThanOrEqual(3);
    expect(Number(after) - Number(before)).toBeLessThanOrEqual(4);
  });

  it('refuses at once when there are no endpoints', async () => {
    const t0 = Date.now();
    expect(await ask(proxier.proxyPort('default/empty')!)).toMatch(/RESET|^$/);
    expect(Date.now() - t0).toBeLessThan(500);
  });

  it('relays UDP round robin, one flow per client socket', async () => {
    const p = proxier.proxyPort('default/dns')!;
    const got: string[] = [];
    for (let i = 0; i < 6; i++) got.push(await askUDP(p));
    expect(got.filter((g) => g === 'udp 127.0.0.2')).toHaveLength(3);
    expect(got.filter((g) => g === 'udp 127.0.0.3')).toHaveLength(3);
  });

  it('relays a large exchange intact both ways to a client that reads late (backpressure)', async () => {
    const p = proxier.proxyPort('default/echo')!;
    const sent = randomBytes(16 * 1024 * 1024);
    const got = await new Promise<Buffer>((resolve, reject) => {
      const c = connect({ host: '127.0.0.1', port: p });
      const chunks: Buffer[] = [];
      let n = 0;
      c.pause();
      c.on('data', (d: Buffer) => {
        chunks.push(d);
        n += d.length;
        if (n >= sent.length) {
          c.destroy();
          resolve(Buffer.concat(chunks));
        }
      });
      c.on('error', reject);
      c.write(sent);
      // Nothing is read for a while: the echo's replies pile up in the proxy, which must stop reading them meanwhile.
      setTimeout(() => c.resume(), 300);
    });
    expect(got.length).toBe(sent.length);
    expect(got.equals(sent)).toBe(true);
  });

  it('closes the listener of a deleted service', async () => {
    const p = proxier.proxyPort('default/empty')!;
    await update(() => proxier.onServiceDelete(svc('empty', { clusterIP: '10.96.0.13' })));
    expect(proxier.proxyPort('default/empty')).toBeUndefined();
    expect(await ask(p)).toMatch(/ECONNREFUSED/);
  });
});
