import { describe, expect, it } from 'vitest';
import type { LifecycleHandler } from '../../../../control/api/index.js';
import { hookHeaders, LIFECYCLE_USER_AGENT, runLifecycleHandler, type HookRunnerDeps, type HookTarget } from '../../../../agent/kuberuntime/lifecycle-hooks.js';
import type { ExecutorResult, ProbeExecutor } from '../../../../agent/prober/executor.js';
import type { HttpHeaderSpec } from '../../../../agent/prober/types.js';
import { c, makePod } from './fixtures.js';

interface Recorded {
  exec: Array<{ id: string; command: string[] }>;
  http: Array<{ url: string; headers: HttpHeaderSpec[] }>;
  sleeps: number[];
}

/** An executor and sleep answering from the test's script, recording what they were asked. */
function fakes(answers: { exec?: ExecutorResult | Error; http?: ExecutorResult | Error; sleepFinishes?: boolean } = {}): { deps: HookRunnerDeps; rec: Recorded } {
  const rec: Recorded = { exec: [], http: [], sleeps: [] };
  const settle = (a: ExecutorResult | Error | undefined): Promise<ExecutorResult> =>
    a instanceof Error ? Promise.reject(a) : Promise.resolve(a ?? { result: 'success', output: '' });
  const executor: ProbeExecutor = {
    exec: (id, command) => {
      rec.exec.push({ id, command });
      return settle(answers.exec);
    },
    httpGet: (url, headers) => {
      rec.http.push({ url, headers });
      return settle(answers.http);
    },
    tcp: () => Promise.reject(new Error('hooks never dial tcp')),
  };
  const sleep = async (ms: number): Promise<boolean> => {
    rec.sleeps.push(ms);
    return answers.sleepFinishes ?? true;
  };
  return { deps: { executor, sleep }, rec };
}

const pod = makePod({ containers: [c('app', { ports: [{ name: 'http', containerPort: 8080 }] })] });
const [app] = pod.spec.containers;
if (!app) throw new Error('the test pod has no container');
const target: HookTarget = { pod, container: app, containerId: 'cid', podIP: '10.88.0.7' };
const run = (deps: HookRunnerDeps, h: LifecycleHandler, t = target) => runLifecycleHandler(deps, h, t, new AbortController().signal);

describe('runLifecycleHandler: exec', () => {
  it('runs the command in the container and succeeds on exit 0', async () => {
    const { deps, rec } = fakes();
    expect(await run(deps, { exec: { command: ['sh', '-c', 'echo hi > /tmp/x'] } })).toEqual({ ok: true });
    expect(rec.exec).toEqual([{ id: 'cid', command: ['sh', '-c', 'echo hi > /tmp/x'] }]);
  });

  it("fails on a non-zero exit with upstream's message, output quoted", async () => {
    const { deps } = fakes({ exec: { result: 'failure', output: 'nope\n', exitCode: 3 } });
    expect(await run(deps, { exec: { command: ['sh', '-c', 'exit 3'] } })).toEqual({
      ok: false,
      message:
        'Exec lifecycle hook ([sh -c exit 3]) for Container "app" in Pod "web_default(uid-1)" failed - error: command \'sh -c exit 3\' exited with 3: nope\n, message: "nope\\n"',
    });
  });

  it('fails when the runtime cannot run the command at all', async () => {
    const { deps } = fakes({ exec: new Error('container cid is not running') });
    const out = await run(deps, { exec: { command: ['true'] } });
    expect(out).toEqual({ ok: false, message: expect.stringContaining('failed - error: container cid is not running, message: ""') });
  });
});

describe('runLifecycleHandler: httpGet', () => {
  it('defaults the host to the pod IP, resolves a named port and sends the lifecycle User-Agent', async () => {
    const { deps, rec } = fakes();
    expect(await run(deps, { httpGet: { path: 'hook', port: 'http', scheme: 'HTTP' } })).toEqual({ ok: true });
    expect(rec.http).toEqual([{ url: 'http://10.88.0.7:8080/hook', headers: [{ name: 'User-Agent', value: LIFECYCLE_USER_AGENT }] }]);
  });

  it("keeps the hook's own host, scheme, headers and User-Agent", async () => {
    const { deps, rec } = fakes();
    const headers = [
      { name: 'X-Token', value: 't' },
      { name: 'user-agent', value: 'mine' },
    ];
    await run(deps, { httpGet: { host: '127.0.0.1', port: 9443, scheme: 'HTTPS', path: '/stop', httpHeaders: headers } });
    expect(rec.http).toEqual([{ url: 'https://127.0.0.1:9443/stop', headers }]);
  });

  it('counts any answer as success, a 500 included, as upstream looks at no status code', async () => {
    const { deps } = fakes({ http: { result: 'failure', statusCode: 500, output: 'HTTP probe failed with statuscode: 500' } });
    expect(await run(deps, { httpGet: { path: '/', port: 80, scheme: 'HTTP' } })).toEqual({ ok: true });
  });

  it('fails when no answer came, with the path in the message', async () => {
    const { deps } = fakes({ http: { result: 'failure', output: 'Get "http://10.88.0.7:80/down": connect ECONNREFUSED 10.88.0.7:80' } });
    expect(await run(deps, { httpGet: { path: '/down', port: 80, scheme: 'HTTP' } })).toEqual({
      ok: false,
      message: 'HTTP lifecycle hook (/down) for Container "app" in Pod "web_default(uid-1)" failed - error: Get "http://10.88.0.7:80/down": connect ECONNREFUSED 10.88.0.7:80',
    });
  });

  it('fails without a request when the port name is unknown or the pod has no IP', async () => {
    const { deps, rec } = fakes();
    expect(await run(deps, { httpGet: { path: '/', port: 'nope', scheme: 'HTTP' } })).toMatchObject({ ok: false, message: expect.stringContaining('cannot find port "nope"') });
    expect(await run(deps, { httpGet: { path: '/', port: 80, scheme: 'HTTP' } }, { ...target, podIP: undefined })).toMatchObject({
      ok: false,
      message: expect.stringContaining('failed to find networking container'),
    });
    expect(rec.http).toEqual([]);
  });

  it('adds the lifecycle User-Agent only when the hook sets none', () => {
    expect(hookHeaders(undefined)).toEqual([{ name: 'User-Agent', value: 'kube-lifecycle/1.31' }]);
    expect(hookHeaders([{ name: 'USER-AGENT', value: 'x' }])).toEqual([{ name: 'USER-AGENT', value: 'x' }]);
  });
});

describe('runLifecycleHandler: sleep and unsupported handlers', () => {
  it('sleeps the given seconds', async () => {
    const { deps, rec } = fakes();
    expect(await run(deps, { sleep: { seconds: 7 } })).toEqual({ ok: true });
    expect(rec.sleeps).toEqual([7000]);
  });

  it('fails when the sleep is cut short', async () => {
    const { deps } = fakes({ sleepFinishes: false });
    expect(await run(deps, { sleep: { seconds: 7 } })).toEqual({
      ok: false,
      message: 'Sleep lifecycle hook (7) for Container "app" in Pod "web_default(uid-1)" failed - error: container terminated before sleep hook finished',
    });
  });

  it('cannot run tcpSocket: the API keeps it for old manifests only', async () => {
    const { deps, rec } = fakes();
    const out = await run(deps, { tcpSocket: { port: 80 } });
    expect(out).toMatchObject({ ok: false, message: expect.stringMatching(/^Cannot run handler: invalid handler: /) });
    expect(rec).toEqual({ exec: [], http: [], sleeps: [] });
  });
});
