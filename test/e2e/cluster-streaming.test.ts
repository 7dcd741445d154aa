import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signClientCert } from '../../control/apiserver/pki.js';
import { AgentProcess, eventually, freePort } from '../integration/agent/harness.js';
import { ControlPlane } from './control-harness.js';

/**
 * The node server (TLS on --port) and the streaming subresources: kubectl exec, attach and port-forward through the
 * API server to a real agent on Docker, and the node server's own authentication (client certificates, tokens via
 * TokenReview), authorization (SubjectAccessReview: 401/403) and resource usage endpoints.
 */
describe('kubectl exec, attach and port-forward through the API server to the node server', () => {
  const cp = new ControlPlane();
  let agent: AgentProcess;
  const children: ChildProcess[] = [];
  const token = 'skiff-streaming-test-token';
  const pki = (): string => join(cp.dir, 'data', 'pki');
  const running = (pod: string): Promise<boolean> =>
    eventually(() => cp.kubectl(['get', 'pod', pod, '-o', 'jsonpath={.status.phase}']).stdout === 'Running', `pod ${pod} Running`, 90_000);
  const background = (args: string[], env: Record<string, string> = {}): { child: ChildProcess; out: () => string } => {
    const child = spawn('kubectl', args, { env: { ...process.env, KUBECONFIG: cp.kubeconfig, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    return { child, out: () => out };
  };
  const stop = async (child: ChildProcess): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    process.kill(child.pid as number, 'SIGKILL');
    await exited;
  };
  /** A request straight to the node server, as a client certificate or a token holder (or nobody). */
  const nodeGet = (path: string, auth: { cert?: string; key?: string; token?: string } = {}): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: agent.securePort,
          path,
          method: 'GET',
          rejectUnauthorized: false,
          ...(auth.cert ? { cert: auth.cert, key: auth.key } : {}),
          headers: auth.token ? { Authorization: `Bearer ${auth.token}` } : {},
        },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });

  beforeAll(async () => {
    const tokens = cp.writeFile('tokens.csv', `${token},streaming-admin,1001,"system:masters"\nviewer-token,viewer,1002\n`);
    await cp.start(['--token-auth-file', tokens]);
    agent = new AgentProcess({ args: ['--kubeconfig', cp.kubeconfig, '--address', '0.0.0.0', '--client-ca-file', join(pki(), 'ca.crt')] });
    await agent.start();
    await eventually(() => cp.k(['get', 'node', agent.nodeName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']) === 'True', 'node Ready');
    cp.k(['run', 'web', '--image=skiff/web:1.0']);
    await running('web');
  });
  afterAll(async () => {
    for (const c of children) await stop(c);
    await agent?.cleanup();
    await cp.stop();
  });

  it('reports the node server port (--port) as the kubelet endpoint', () => {
    expect(cp.k(['get', 'node', agent.nodeName, '-o', 'jsonpath={.status.daemonEndpoints.kubeletEndpoint.Port}'])).toBe(String(agent.securePort));
  });

  it('runs kubectl exec and passes the exit code on', () => {
    expect(cp.k(['exec', 'web', '--', 'echo', 'hi'])).toBe('hi\n');
    const r = cp.kubectl(['exec', 'web', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toContain('err\n');
    expect(r.stderr).toContain('command terminated with exit code 3');
  });

  it('feeds stdin to kubectl exec -i until it closes', () => {
    const r = cp.kubectl(['exec', '-i', 'web', '--', 'sh', '-c', 'cat; echo "[end]"'], { input: 'line one\nline two\n' });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('line one\nline two\n[end]\n');
  });

  it('gives kubectl exec -t a terminal', () => {
    // script(1) gives kubectl a terminal of its own, so it asks for a TTY in the container.
    const r = spawnSync('script', ['-qec', 'kubectl exec -it web -- sh -c "tty; stty size"', '/dev/null'], {
      env: { ...process.env, KUBECONFIG: cp.kubeconfig, COLUMNS: '100', LINES: '30' },
      encoding: 'utf8',
      timeout: 60_000,
      input: '',
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\/dev\/pts\/\d+/);
  });

  it('refuses exec in a container the pod does not have', () => {
    const r = cp.kubectl(['exec', 'web', '-c', 'nope', '--', 'true']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('container nope is not valid for pod web');
  });

  it('attaches to a running container and streams its output', async () => {
    cp.k(['run', 'ticker', '--image=skiff/busybox:1.0', '--', 'sh', '-c', 'i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.3; done']);
    await running('ticker');
    const { child, out } = background(['attach', 'ticker']);
    await eventually(() => (out().match(/tick \d+/g) ?? []).length >= 3, `kubectl attach to print ticks (got ${JSON.stringify(out())})`, 30_000);
    const ticks = (out().match(/tick (\d+)/g) ?? []).map((t) => Number(t.split(' ')[1]));
    for (let i = 1; i < ticks.length; i++) expect(ticks[i]).toBe((ticks[i - 1] as number) + 1);
    await stop(child);
    cp.k(['delete', 'pod', 'ticker', '--wait=false']);
  });

  it('attaches stdin with kubectl run -i to a container that keeps stdin open', () => {
    const r = cp.kubectl(['run', 'echoer', '-i', '--image=skiff/busybox:1.0', '--restart=Never', '--', 'sh', '-c', 'read line; echo "got $line"'], { input: 'hello\n' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('got hello');
    cp.k(['delete', 'pod', 'echoer', '--wait=false']);
  });

  it('adds a debugging container with kubectl debug: it runs in the pod beside the others, sees its target\'s processes, and is attached to', async () => {
    // A pod of its own: its debugging containers stay in it (the node's stats list them, for one).
    cp.k(['run', 'debugged', '--image=skiff/web:1.0']);
    await running('debugged');
    const app = (): string => cp.k(['get', 'pod', 'debugged', '-o', 'jsonpath={.status.containerStatuses[0].containerID} {.status.containerStatuses[0].restartCount}']);
    const before = app();
    // Without -i: kubectl adds the container and returns; its output is in its logs, its end in the pod's status.
    const added = cp.kubectl(['debug', 'debugged', '--image=skiff/busybox:1.0', '--container=dbg', '--target=debugged', '--', 'sh', '-c', 'tr "\\0" " " </proc/1/cmdline; echo; hostname']);
    expect(added.code, added.stderr).toBe(0);
    await eventually(() => cp.k(['get', 'pod', 'debugged', '-o', 'jsonpath={.status.ephemeralContainerStatuses[?(@.name=="dbg")].state.terminated.exitCode}']) === '0', 'dbg terminated with 0', 90_000);
    // In the target's PID namespace (its PID 1 is the web server) and the pod's UTS namespace (the pod's hostname).
    expect(cp.k(['logs', 'debugged', '-c', 'dbg'])).toMatch(/web-server.*\ndebugged\n$/);
    expect(cp.k(['get', 'pod', 'debugged', '-o', 'jsonpath={.status.ephemeralContainerStatuses[0].restartCount} {.status.ephemeralContainerStatuses[0].ready}'])).toBe('0 false');
    // The pod's own container went on as it was, and the pod stayed Running.
    expect(app()).toBe(before);
    expect(cp.k(['get', 'pod', 'debugged', '-o', 'jsonpath={.status.phase}'])).toBe('Running');
    expect(cp.k(['describe', 'pod', 'debugged'])).toMatch(/Ephemeral Containers:\n\s+dbg:/);

    // With -i: kubectl waits for the container to run and attaches to it by name; what it reads comes back while
    // stdin is open (without stdinOnce, the attach ends with the client's stdin, as upstream's runtimes end it).
    const child = spawn('kubectl', ['debug', 'debugged', '-i', '--image=skiff/busybox:1.0', '--container=dbg2', '--', 'sh', '-c', 'while read line; do echo "got $line"; done'], {
      env: { ...process.env, KUBECONFIG: cp.kubeconfig },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    await eventually(() => out.includes("If you don't see a command prompt"), `kubectl debug -i to attach (got ${JSON.stringify(out)})`, 90_000);
    child.stdin.write('hello\n');
    await eventually(() => out.includes('got hello'), `the debug container's answer (got ${JSON.stringify(out)})`, 30_000);
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    child.stdin.end();
    expect(await exited).toBe(0);
    // Both stay in the pod, in the order they were added.
    const pod = JSON.parse(cp.k(['get', 'pod', 'debugged', '-o', 'json'])) as { spec: { ephemeralContainers: { name: string }[] } };
    expect(pod.spec.ephemeralContainers.map((c) => c.name)).toEqual(['dbg', 'dbg2']);
    cp.k(['delete', 'pod', 'debugged', '--wait=false']);
  });

  it('forwards a local port to the pod with kubectl port-forward', async () => {
    const local = await freePort();
    const { child, out } = background(['port-forward', 'pod/web', `${local}:80`]);
    await eventually(() => out().includes(`Forwarding from 127.0.0.1:${local} -> 80`), `port-forward to listen (got ${JSON.stringify(out())})`, 30_000);
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`http://127.0.0.1:${local}/`, { signal: AbortSignal.timeout(10_000) });
      expect(await res.text()).toBe('web\n');
    }
    expect(child.exitCode).toBeNull();
    await stop(child);
  });

  it('carries large outputs whole through exec and port-forward', async () => {
    const out = cp.kubectl(['exec', 'web', '--', 'sh', '-c', "head -c 900000 /dev/zero | tr '\\0' a"]);
    expect([out.code, out.stdout.length, /^a+$/.test(out.stdout)]).toEqual([0, 900000, true]);
    cp.k(['run', 'files', '--image=skiff/busybox:1.0', '--', 'sh', '-c', "mkdir /www && head -c 3000000 /dev/zero | tr '\\0' b > /www/big && exec httpd -f -p 8080 -h /www"]);
    await running('files');
    const local = await freePort();
    const { child, out: pfOut } = background(['port-forward', 'pod/files', `${local}:8080`]);
    await eventually(() => pfOut().includes(`Forwarding from 127.0.0.1:${local} -> 8080`), `port-forward to listen (got ${JSON.stringify(pfOut())})`, 30_000);
    const body = await eventually(async () => {
      const res = await fetch(`http://127.0.0.1:${local}/big`, { signal: AbortSignal.timeout(20_000) });
      return res.ok ? await res.text() : undefined;
    }, 'the big file through port-forward', 60_000);
    expect([body.length, /^b+$/.test(body)]).toEqual([3000000, true]);
    await stop(child);
    cp.k(['delete', 'pod', 'files', '--wait=false']);
  });

  it('speaks SPDY/3.1 to a kubectl that does not use WebSockets (as kubectl before 1.30 does)', async () => {
    const env = { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false', KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' };
    expect(cp.k(['exec', 'web', '--', 'echo', 'hi over spdy'], { env })).toBe('hi over spdy\n');
    const failed = cp.kubectl(['exec', 'web', '--', 'sh', '-c', 'echo err >&2; exit 4'], { env });
    expect([failed.code, failed.stderr.includes('err\n')]).toEqual([4, true]);
    const piped = cp.kubectl(['exec', '-i', 'web', '--', 'sh', '-c', 'cat; echo "[end]"'], { input: 'a\nb\n', env });
    expect([piped.code, piped.stdout]).toEqual([0, 'a\nb\n[end]\n']);
    const local = await freePort();
    const { child, out } = background(['port-forward', 'pod/web', `${local}:80`], env);
    await eventually(() => out().includes(`Forwarding from 127.0.0.1:${local} -> 80`), `port-forward to listen (got ${JSON.stringify(out())})`, 30_000);
    const res = await fetch(`http://127.0.0.1:${local}/`, { signal: AbortSignal.timeout(10_000) });
    expect(await res.text()).toBe('web\n');
    await stop(child);
  });

  it('reports a port nothing listens on in the pod through kubectl port-forward', async () => {
    const local = await freePort();
    const { child, out } = background(['port-forward', 'pod/web', `${local}:81`]);
    await eventually(() => out().includes(`Forwarding from 127.0.0.1:${local} -> 81`), `port-forward to listen (got ${JSON.stringify(out())})`, 30_000);
    await fetch(`http://127.0.0.1:${local}/`, { signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
    await eventually(() => /error forwarding port 81 to pod web, uid [0-9a-f-]+: .*ECONNREFUSED/.test(out()), `the forwarding error (got ${JSON.stringify(out())})`, 30_000);
    await stop(child);
  });

  it('refuses exec, attach and port-forward to a user who may not create pods/exec, pods/attach, pods/portforward', () => {
    const kubeconfig = cp.writeFile(
      'viewer.kubeconfig',
      `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:${cp.port}\n    certificate-authority: ${join(pki(), 'ca.crt')}\nusers:\n- name: viewer\n  user:\n    token: viewer-token\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: viewer\ncurrent-context: c\n`,
    );
    const env = { KUBECONFIG: kubeconfig };
    // The viewer may read pods (kubectl reads the pod first), nothing more.
    cp.k(['create', 'role', 'pod-reader', '--verb=get,list', '--resource=pods']);
    cp.k(['create', 'rolebinding', 'viewer-reads', '--role=pod-reader', '--user=viewer']);
    const exec = cp.kubectl(['exec', 'web', '--', 'true'], { env });
    expect(exec.code).not.toBe(0);
    expect(exec.stderr).toContain('User "viewer" cannot create resource "pods/exec" in API group "" in the namespace "default"');
    expect(cp.kubectl(['attach', 'web'], { env }).stderr).toContain('User "viewer" cannot create resource "pods/attach" in API group "" in the namespace "default"');
    const pf = cp.kubectl(['port-forward', 'pod/web', '0:80', '--pod-running-timeout=5s'], { env });
    expect(pf.code).not.toBe(0);
    expect(pf.stderr + pf.stdout).toContain('cannot create resource "pods/portforward"');
  });

  it('answers 401 without credentials and 403 to a user without nodes/proxy on the node server', async () => {
    const anonymous = await nodeGet('/pods');
    expect(anonymous).toEqual({ status: 401, body: 'Unauthorized' });
    const ca = { cert: readFileSync(join(pki(), 'ca.crt'), 'utf8'), key: readFileSync(join(pki(), 'ca.key'), 'utf8') };
    const alice = signClientCert(ca, 'alice', ['developers']);
    const forbidden = await nodeGet('/pods', alice);
    expect(forbidden).toEqual({ status: 403, body: `Forbidden (user=alice, verb=get, resource=nodes, subresource=proxy)` });
    const stats = await nodeGet('/stats/summary', alice);
    expect(stats.body).toBe('Forbidden (user=alice, verb=get, resource=nodes, subresource=stats)');
    const wrongToken = await nodeGet('/pods', { token: 'not-a-token' });
    expect(wrongToken.status).toBe(401);
    // A token the API server knows is accepted through a TokenReview; its user may then use the node.
    const withToken = await nodeGet('/pods', { token });
    expect(withToken.status).toBe(200);
    expect((JSON.parse(withToken.body) as { kind: string }).kind).toBe('PodList');
  });

  it('proxies nodes/{name}/proxy to the node server, and cuts container logs at limitBytes', async () => {
    const s = JSON.parse(cp.k(['get', '--raw', `/api/v1/nodes/${agent.nodeName}/proxy/stats/summary`])) as { node: { nodeName: string } };
    expect(s.node.nodeName).toBe(agent.nodeName);
    expect(cp.k(['get', '--raw', `/api/v1/nodes/${agent.nodeName}/proxy/healthz`])).toBe('ok');
    cp.k(['run', 'talker', '--image=skiff/busybox:1.0', '--', 'sh', '-c', 'echo 0123456789; sleep 3600']);
    await running('talker');
    await eventually(() => cp.k(['logs', 'talker']) === '0123456789\n', 'the log line');
    expect(cp.k(['logs', 'talker', '--limit-bytes=4'])).toBe('0123');
    const admin = { cert: readFileSync(join(pki(), 'admin.crt'), 'utf8'), key: readFileSync(join(pki(), 'admin.key'), 'utf8') };
    expect(await nodeGet('/containerLogs/default/talker/talker?limitBytes=6', admin)).toEqual({ status: 200, body: '012345' });
    cp.k(['delete', 'pod', 'talker', '--wait=false']);
  });

  it('shows the last run of a crashing container with kubectl logs --previous, and says why a container that never ran has no log', async () => {
    cp.k(['run', 'crasher', '--image=skiff/busybox:1.0', '--', 'sh', '-c', 'echo ran; exit 3']);
    // Backing off before its next start: only the dead instance is there, and both kubectl logs and --previous read it.
    await eventually(() => cp.k(['get', 'pod', 'crasher', '-o', 'jsonpath={.status.containerStatuses[0].state.waiting.reason}']) === 'CrashLoopBackOff', 'crasher backing off', 90_000);
    expect(cp.k(['logs', 'crasher', '--previous'])).toBe('ran\n');
    expect(cp.k(['logs', 'crasher'])).toBe('ran\n');
    cp.k(['run', 'neverran', '--image=skiff/does-not-exist:1', '--image-pull-policy=Never']);
    await eventually(() => cp.k(['get', 'pod', 'neverran', '-o', 'jsonpath={.status.containerStatuses[0].state.waiting.reason}']) === 'ErrImageNeverPull', 'neverran waiting', 90_000);
    const logs = cp.kubectl(['logs', 'neverran']);
    expect(logs.code).not.toBe(0);
    expect(logs.stderr).toContain('container "neverran" in pod "neverran" is waiting to start: ErrImageNeverPull');
    const previous = cp.kubectl(['logs', 'neverran', '--previous']);
    expect(previous.stderr).toContain('previous terminated container "neverran" in pod "neverran" not found');
    cp.k(['delete', 'pod', 'crasher', 'neverran', '--wait=false']);
  });

  it('serves /stats/summary and /metrics/resource with upstream shapes', async () => {
    const admin = { cert: readFileSync(join(pki(), 'admin.crt'), 'utf8'), key: readFileSync(join(pki(), 'admin.key'), 'utf8') };
    const res = await nodeGet('/stats/summary', admin);
    expect(res.status).toBe(200);
    const s = JSON.parse(res.body) as {
      node: { nodeName: string; cpu: { usageCoreNanoSeconds: number }; memory: { workingSetBytes: number } };
      pods: Array<{ podRef: { name: string; namespace: string; uid: string }; containers: Array<{ name: string; cpu: { usageCoreNanoSeconds: number }; memory: { workingSetBytes: number } }>; cpu: object; memory: object }>;
    };
    expect(s.node.nodeName).toBe(agent.nodeName);
    expect(s.node.cpu.usageCoreNanoSeconds).toBeGreaterThan(0);
    expect(s.node.memory.workingSetBytes).toBeGreaterThan(0);
    const web = s.pods.find((p) => p.podRef.name === 'web');
    expect(web?.podRef.namespace).toBe('default');
    expect(web?.podRef.uid).toBe(cp.k(['get', 'pod', 'web', '-o', 'jsonpath={.metadata.uid}']));
    expect(web?.containers.map((c) => c.name)).toEqual(['web']);
    expect(web?.containers[0]?.cpu.usageCoreNanoSeconds).toBeGreaterThan(0);
    expect(web?.containers[0]?.memory.workingSetBytes).toBeGreaterThan(0);
    const metrics = await nodeGet('/metrics/resource', admin);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^node_cpu_usage_seconds_total [\d.e+]+ \d+$/m);
    expect(metrics.body).toMatch(/^node_memory_working_set_bytes \d+ \d+$/m);
    expect(metrics.body).toMatch(/^container_cpu_usage_seconds_total\{container="web",namespace="default",pod="web"\} [\d.e+-]+ \d+$/m);
    expect(metrics.body).toMatch(/^container_memory_working_set_bytes\{container="web",namespace="default",pod="web"\} \d+ \d+$/m);
    expect(metrics.body).toMatch(/^pod_memory_working_set_bytes\{namespace="default",pod="web"\} \d+ \d+$/m);
    expect(metrics.body).toContain('# TYPE container_cpu_usage_seconds_total counter');
    // The node server counts its requests as the kubelet does; the exec sessions of earlier tests are among them.
    const own = await nodeGet('/metrics', admin);
    expect(own.body).toMatch(/^kubelet_http_requests_total\{method="GET",path="exec",server_type="readwrite",long_running="true"\} [1-9]\d*$/m);
  });
});
