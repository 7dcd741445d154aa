import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, eventually, isRunningReady, podYaml, type PodWithStatus } from './harness.js';

const status = (p: PodWithStatus, name: string) => p.status.containerStatuses?.find((c) => c.name === name);

/** Seconds since boot: the same clock on the host and in every container (no time namespaces), to 1/100 s. */
const uptime = (): number => Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
const read = (path: string): string | undefined => (existsSync(path) ? readFileSync(path, 'utf8') : undefined);

/**
 * The first field of a /proc/uptime line a container wrote to `path`, once the whole line is there: the shell creates
 * the file (empty) before cat writes it, and an empty read parsed as 0 s once made a 3 s gap read as -17228 s.
 */
const uptimeIn = (path: string): number | undefined => {
  const m = /^(\d+\.\d+) \d+\.\d+\n$/.exec(read(path) ?? '');
  return m ? Number(m[1]) : undefined;
};

/** The agent's events as its JSON log records them (one line per event, with its reason). */
function loggedEvents(agent: AgentProcess, podName: string): Array<{ reason: string; msg: string }> {
  const out: Array<{ reason: string; msg: string }> = [];
  for (const line of agent.logs().split('\n')) {
    if (!line.includes('"reason"')) continue;
    try {
      const e = JSON.parse(line) as { reason?: string; msg?: string; pod?: string };
      if (e.reason && e.pod?.endsWith(`/${podName}-${agent.nodeName}`)) out.push({ reason: e.reason, msg: e.msg ?? '' });
    } catch {
      // Not a JSON log line.
    }
  }
  return out;
}

describe('container lifecycle hooks', () => {
  const agent = new AgentProcess();
  // The containers write what they saw here (a hostPath); the test reads it from the host. Made in beforeAll: a suite
  // that -t filters out never runs its afterAll.
  let out = '';
  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'skiff-it-hooks-'));
    await agent.start();
  });
  afterAll(async () => {
    await agent.cleanup();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  const volume = (dir: string): string => `  volumes:\n  - {name: out, hostPath: {path: ${dir}, type: DirectoryOrCreate}}\n`;
  const mount = '    volumeMounts: [{name: out, mountPath: /out}]\n';

  it('runs postStart exec right after the start: the app sees what the hook wrote', async () => {
    const dir = join(out, 'poststart');
    agent.writeManifest(
      'poststart.yaml',
      podYaml(
        'poststart',
        `spec:
  terminationGracePeriodSeconds: 0
${volume(dir)}  containers:
  - name: app
    image: skiff/busybox:1.0
    command: [sh, -c, "while [ ! -f /tmp/from-hook ]; do sleep 0.1; done; cp /tmp/from-hook /out/app-saw; trap 'exit 0' TERM; while true; do sleep 0.2; done"]
${mount}    lifecycle:
      postStart:
        exec: {command: [sh, -c, "echo written-by-postStart > /tmp/from-hook"]}
`,
      ),
    );
    await agent.waitPod('poststart', isRunningReady, 'running and ready');
    await eventually(() => read(join(dir, 'app-saw')) === 'written-by-postStart\n', 'the app copied the file the hook wrote');
    expect(loggedEvents(agent, 'poststart').map((e) => e.reason)).not.toContain('FailedPostStartHook');
    agent.removeManifest('poststart.yaml');
  });

  it('kills and restarts the container when postStart fails, with FailedPostStartHook', async () => {
    agent.writeManifest(
      'badhook.yaml',
      podYaml(
        'badhook',
        `spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: skiff/busybox:1.0
    command: [sh, -c, "trap 'exit 0' TERM; while true; do sleep 0.2; done"]
    lifecycle:
      postStart:
        exec: {command: [sh, -c, "echo missing config >&2; exit 3"]}
`,
      ),
    );
    const pod = await agent.waitPod('badhook', (p) => (status(p, 'app')?.restartCount ?? 0) >= 1, 'restarted after the hook failed');
    // Killed by the agent (SIGTERM, which the app turns into exit 0), not crashed on its own.
    expect(status(pod, 'app')?.lastState?.terminated?.exitCode).toBe(0);
    const events = loggedEvents(agent, 'badhook');
    expect(events).toContainEqual({ reason: 'FailedPostStartHook', msg: 'PostStartHook failed' });
    expect(events).toContainEqual({ reason: 'Killing', msg: 'FailedPostStartHook' });
    expect(agent.logs()).toContain("command 'sh -c echo missing config >&2; exit 3' exited with 3: missing config");
    agent.removeManifest('badhook.yaml');
  });

  it('runs preStop exec and httpGet before SIGTERM when the pod is deleted', async () => {
    const dir = join(out, 'prestop');
    rmSync(dir, { recursive: true, force: true });
    // A CGI script for busybox httpd: the preStop httpGet calls it on the pod IP, by the port's name.
    writeFileSync(join(out, 'stop.cgi'), '#!/bin/sh\necho prestop-http >> /out/http-order\nprintf "Content-Type: text/plain\\r\\n\\r\\nok\\n"\n', { mode: 0o755 });
    agent.writeManifest(
      'prestop.yaml',
      podYaml(
        'prestop',
        `spec:
  terminationGracePeriodSeconds: 30
  volumes:
  - {name: out, hostPath: {path: ${dir}, type: DirectoryOrCreate}}
  - {name: cgi, hostPath: {path: ${out}, type: Directory}}
  containers:
  - name: execer
    image: skiff/busybox:1.0
    command: [sh, -c, "trap 'echo term >> /out/exec-order; exit 0' TERM; while true; do sleep 0.2; done"]
${mount}    lifecycle:
      preStop:
        exec: {command: [sh, -c, "echo prestop-exec >> /out/exec-order"]}
  - name: web
    image: skiff/busybox:1.0
    command: [sh, -c, "mkdir -p /www/cgi-bin && cp /cgi/stop.cgi /www/cgi-bin/stop && httpd -p 8080 -h /www && trap 'echo term >> /out/http-order; exit 0' TERM; while true; do sleep 0.2; done"]
    ports: [{name: hooks, containerPort: 8080}]
    # Ready once httpd listens, so the hook never races its start.
    readinessProbe: {tcpSocket: {port: hooks}, periodSeconds: 1}
    volumeMounts: [{name: out, mountPath: /out}, {name: cgi, mountPath: /cgi}]
    lifecycle:
      preStop:
        httpGet: {path: /cgi-bin/stop, port: hooks}
`,
      ),
    );
    await agent.waitPod('prestop', isRunningReady, 'running and ready');
    agent.removeManifest('prestop.yaml');
    await eventually(() => read(join(dir, 'exec-order')) === 'prestop-exec\nterm\n', 'the exec hook ran, then SIGTERM came');
    await eventually(() => read(join(dir, 'http-order')) === 'prestop-http\nterm\n', 'the HTTP hook ran, then SIGTERM came');
    await eventually(async () => (await agent.pod('prestop')) === undefined, 'the pod is gone');
    expect(loggedEvents(agent, 'prestop').map((e) => e.reason)).not.toContain('FailedPreStopHook');
  });

  it('holds SIGTERM back for a preStop sleep, within the grace period', async () => {
    const dir = join(out, 'sleep');
    agent.writeManifest(
      'sleeper.yaml',
      podYaml(
        'sleeper',
        `spec:
  terminationGracePeriodSeconds: 30
${volume(dir)}  containers:
  - name: app
    image: skiff/busybox:1.0
    command: [sh, -c, "trap 'cat /proc/uptime > /out/term; exit 0' TERM; while true; do sleep 0.2; done"]
${mount}    lifecycle:
      preStop:
        sleep: {seconds: 3}
`,
      ),
    );
    await agent.waitPod('sleeper', isRunningReady, 'running and ready');
    const removedAt = uptime();
    agent.removeManifest('sleeper.yaml');
    const term = await eventually(() => uptimeIn(join(dir, 'term')), 'SIGTERM after the sleep');
    // The agent notices the removal at or after removedAt; the sleep then runs its 3 s before SIGTERM.
    expect(term - removedAt).toBeGreaterThanOrEqual(3);
  });

  it('cuts a preStop off at the grace period, then SIGTERM, then SIGKILL after the 2 s minimum', async () => {
    const dir = join(out, 'cutoff');
    agent.writeManifest(
      'cutoff.yaml',
      podYaml(
        'cutoff',
        `spec:
  terminationGracePeriodSeconds: 3
${volume(dir)}  containers:
  - name: app
    image: skiff/busybox:1.0
    command: [sh, -c, "trap 'cat /proc/uptime > /out/term' TERM; while true; do sleep 0.2; done"]
${mount}    lifecycle:
      preStop:
        exec: {command: [sh, -c, "cat /proc/uptime > /out/prestop; sleep 600"]}
`,
      ),
    );
    await agent.waitPod('cutoff', isRunningReady, 'running and ready');
    const die = await agent.docker.getEvents({ filters: { event: ['die'], label: [`io.skiff.node=${agent.nodeName}`, `io.kubernetes.pod.name=cutoff-${agent.nodeName}`, 'io.kubernetes.container.name=app'] } });
    let exitCode: string | undefined;
    die.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        exitCode = (JSON.parse(line) as { Actor: { Attributes: Record<string, string> } }).Actor.Attributes.exitCode;
      }
    });
    try {
      agent.removeManifest('cutoff.yaml');
      const term = await eventually(() => uptimeIn(join(dir, 'term')), 'SIGTERM once the grace period ran out');
      const started = await eventually(() => uptimeIn(join(dir, 'prestop')), 'the preStop hook started');
      const gap = term - started;
      // The hook used the whole grace period (it began once the countdown had started, so a little less than 3 s
      // may be left between them), and was cut off long before its own 600 s.
      expect(gap).toBeGreaterThanOrEqual(2);
      expect(gap).toBeLessThan(600);
      // The app ignores SIGTERM: SIGKILL ends it.
      await eventually(() => exitCode, 'the app died');
      expect(exitCode).toBe('137');
    } finally {
      (die as unknown as { destroy(): void }).destroy();
    }
  });
});
