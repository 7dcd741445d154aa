import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProbeExecutor, PROBE_USER_AGENT } from '../../../../agent/prober/executor.js';
import type { ExecResult } from '../../../../agent/runtime/runtime.js';

let server: http.Server;
let base: string;
let port: number;
const seen: http.IncomingHttpHeaders[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push(req.headers);
    switch (req.url) {
      case '/ok':
        res.end('fine');
        return;
      case '/fail':
        res.statusCode = 500;
        res.end('secret body');
        return;
      case '/elsewhere':
        res.writeHead(302, { location: 'http://probe-target.invalid/ok' });
        res.end('moved');
        return;
      case '/same':
        res.writeHead(302, { location: '/ok' });
        res.end();
        return;
      case '/same-fail':
        res.writeHead(301, { location: `${base}/fail` });
        res.end();
        return;
      case '/loop':
        res.writeHead(302, { location: '/loop' });
        res.end();
        return;
      case '/slow':
        // Never answers; the probe's deadline must end it.
        return;
      default:
        res.statusCode = 404;
        res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

const noExec = { exec: (): Promise<ExecResult> => Promise.reject(new Error('unused')) };

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

describe('httpGet', () => {
  const ex = createProbeExecutor(noExec);

  it('succeeds on 200 and sends kube-probe headers', async () => {
    seen.length = 0;
    const r = await ex.httpGet(`${base}/ok`, [{ name: 'X-Custom', value: 'a' }], 2000);
    expect(r).toEqual({ result: 'success', statusCode: 200, output: 'fine' });
    expect(seen[0]).toMatchObject({ 'user-agent': PROBE_USER_AGENT, accept: '*/*', 'x-custom': 'a' });
    expect(PROBE_USER_AGENT).toMatch(/^kube-probe\/1\.\d+$/);
  });

  it('lets the probe override User-Agent and Host', async () => {
    seen.length = 0;
    await ex.httpGet(`${base}/ok`, [{ name: 'User-Agent', value: 'mine' }, { name: 'Host', value: 'svc.local' }], 2000);
    expect(seen[0]).toMatchObject({ 'user-agent': 'mine', host: 'svc.local' });
  });

  it('fails on 500 without leaking the body', async () => {
    const r = await ex.httpGet(`${base}/fail`, [], 2000);
    expect(r).toEqual({ result: 'failure', statusCode: 500, output: 'HTTP probe failed with statuscode: 500' });
  });

  it('treats a redirect to another host as success with a warning, without following it', async () => {
    const r = await ex.httpGet(`${base}/elsewhere`, [], 2000);
    expect(r).toMatchObject({ result: 'success', warning: true });
    expect(r.output).toContain('moved');
  });

  it('follows redirects on the same host', async () => {
    expect(await ex.httpGet(`${base}/same`, [], 2000)).toEqual({ result: 'success', statusCode: 200, output: 'fine' });
    expect((await ex.httpGet(`${base}/same-fail`, [], 2000)).result).toBe('failure');
    const loop = await ex.httpGet(`${base}/loop`, [], 2000);
    expect(loop.result).toBe('failure');
    expect(loop.output).toContain('stopped after 10 redirects');
  });

  it('fails when the server does not answer in time', async () => {
    const t0 = Date.now();
    const r = await ex.httpGet(`${base}/slow`, [], 200);
    expect(r.result).toBe('failure');
    expect(r.output).toMatch(/deadline|timeout|closed/i);
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('fails when the connection is refused', async () => {
    const r = await ex.httpGet(`http://127.0.0.1:${await closedPort()}/ok`, [], 2000);
    expect(r.result).toBe('failure');
    expect(r.output).toContain('ECONNREFUSED');
  });
});

describe('tcp', () => {
  const ex = createProbeExecutor(noExec);

  it('succeeds when the port accepts', async () => {
    expect(await ex.tcp('127.0.0.1', port, 1000)).toEqual({ result: 'success', output: '' });
  });

  it('fails when refused', async () => {
    const r = await ex.tcp('127.0.0.1', await closedPort(), 1000);
    expect(r.result).toBe('failure');
    expect(r.output).toContain('ECONNREFUSED');
  });
  // No connect-timeout case: this sandbox's network answers SYNs for unroutable addresses, so it cannot be forced.
});

describe('exec', () => {
  function runtime(fn: (cmd: string[], timeoutMs: number) => Promise<ExecResult>) {
    return createProbeExecutor({ exec: (_id, cmd, timeoutMs) => fn(cmd, timeoutMs) });
  }

  it('maps exit codes', async () => {
    const ex = runtime(async (cmd) => ({ exitCode: cmd[0] === 'ok' ? 0 : 1, output: 'out' }));
    expect(await ex.exec('c1', ['ok'], 1000)).toEqual({ result: 'success', output: 'out', exitCode: 0 });
    expect(await ex.exec('c1', ['bad'], 1000)).toEqual({ result: 'failure', output: 'out', exitCode: 1 });
  });

  it("turns the runtime's timeout into a failure and other errors into a rejection", async () => {
    const timedOut = runtime(() => Promise.reject(new Error('command timed out after 1000ms')));
    expect((await timedOut.exec('c1', ['x'], 1000)).result).toBe('failure');
    const broken = runtime(() => Promise.reject(new Error('no such container')));
    await expect(broken.exec('c1', ['x'], 1000)).rejects.toThrow('no such container');
  });

  it('fails when the runtime ignores its timeout', async () => {
    const hung = runtime(() => new Promise<ExecResult>(() => {}));
    const r = await hung.exec('c1', ['sleep', '100'], 50);
    expect(r.result).toBe('failure');
    expect(r.output).toContain('timed out');
  });
});
