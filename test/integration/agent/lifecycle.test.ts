import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, eventually, isRunningReady, podYaml, type PodWithStatus } from './harness.js';

const status = (p: PodWithStatus, name: string) => p.status.containerStatuses?.find((c) => c.name === name);

/** The harness configures CrashLoopBackOff at 1 s doubling to 4 s, so restarts are quick but still visible. */
describe('restart policy, back-off and probes', () => {
  const agent = new AgentProcess();
  beforeAll(async () => {
    await agent.start();
  });
  afterAll(async () => {
    await agent.cleanup();
  });

  it('restarts a crashing container under Always, counting restarts and backing off (CrashLoopBackOff)', async () => {
    agent.writeManifest('crash.yaml', podYaml('crash', `spec:\n  terminationGracePeriodSeconds: 0\n  containers:\n  - name: c\n    image: skiff/busybox:1.0\n    command: [exit-with, '1']\n`));
    const seen = new Set<string>();
    const pod = await eventually(async () => {
      const p = await agent.pod('crash');
      const cs = p && status(p, 'c');
      if (cs?.state?.waiting?.reason) seen.add(cs.state.waiting.reason);
      return p && cs && cs.restartCount >= 3 && seen.has('CrashLoopBackOff') ? p : undefined;
    }, 'three restarts and CrashLoopBackOff', 90_000, 100);
    const cs = status(pod, 'c');
    expect(cs?.lastState?.terminated?.exitCode).toBe(1);
    expect(cs?.lastState?.terminated?.reason).toBe('Error');
    expect(pod.status.phase).toBe('Running');
    expect(agent.logs()).toMatch(/Back-off restarting failed container c/);
    // Only the newest dead instance is kept, as the kubelet's container GC does.
    await eventually(async () => {
      const dead = (await agent.containers()).filter((c) => c.Labels['io.kubernetes.pod.name'] === `crash-${agent.nodeName}` && c.Labels['io.kubernetes.container.name'] === 'c' && c.State === 'exited');
      return dead.length === 1;
    }, 'a single dead instance kept');
    const waiting = await agent.waitPod('crash', (p) => status(p, 'c')?.state?.waiting?.reason === 'CrashLoopBackOff', 'waiting in back-off');
    expect(status(waiting, 'c')?.state?.waiting?.message).toMatch(/^back-off \d+s restarting failed container=c pod=crash-/);
    agent.removeManifest('crash.yaml');
  });

  it('does not restart a container that succeeded under OnFailure: the pod Succeeds', async () => {
    agent.writeManifest('onfailure.yaml', podYaml('onfailure', `spec:\n  restartPolicy: OnFailure\n  containers:\n  - name: c\n    image: skiff/busybox:1.0\n    command: [exit-with, '0']\n`));
    const pod = await agent.waitPod('onfailure', (p) => p.status.phase === 'Succeeded', 'Succeeded');
    expect(status(pod, 'c')?.restartCount).toBe(0);
    expect(status(pod, 'c')?.state?.terminated?.reason).toBe('Completed');
    expect(pod.status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
  });

  it('restarts a failed container under OnFailure, and fails the pod under Never', async () => {
    agent.writeManifest('retry.yaml', podYaml('retry', `spec:\n  restartPolicy: OnFailure\n  containers:\n  - name: c\n    image: skiff/busybox:1.0\n    command: [exit-with, '2']\n`));
    agent.writeManifest('never.yaml', podYaml('never', `spec:\n  restartPolicy: Never\n  containers:\n  - name: c\n    image: skiff/busybox:1.0\n    command: [exit-with, '3']\n`));
    await agent.waitPod('retry', (p) => (status(p, 'c')?.restartCount ?? 0) >= 1, 'restarted');
    const never = await agent.waitPod('never', (p) => p.status.phase === 'Failed', 'Failed');
    expect(status(never, 'c')?.state?.terminated?.exitCode).toBe(3);
    expect(status(never, 'c')?.restartCount).toBe(0);
    // The sandbox of a finished pod is stopped; its dead containers stay as the pod's record.
    await eventually(async () => {
      const sandbox = (await agent.containers()).find((c) => c.Labels['io.kubernetes.pod.name'] === `never-${agent.nodeName}` && c.Labels['io.kubernetes.container.name'] === 'POD');
      return sandbox?.State === 'exited';
    }, 'sandbox of the failed pod stopped');
    agent.removeManifest('retry.yaml');
    agent.removeManifest('never.yaml');
    agent.removeManifest('onfailure.yaml');
  });

  it('restarts a container whose liveness probe fails, and keeps the pod Running', async () => {
    agent.writeManifest(
      'liveness.yaml',
      podYaml(
        'liveness',
        `spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: skiff/busybox:1.0
    command: [sh, -c, "touch /tmp/healthy; sleep 2; rm /tmp/healthy; trap 'exit 0' TERM; while true; do sleep 0.2; done"]
    livenessProbe:
      exec: {command: [cat, /tmp/healthy]}
      periodSeconds: 1
      failureThreshold: 1
`,
      ),
    );
    const pod = await agent.waitPod('liveness', (p) => (status(p, 'c')?.restartCount ?? 0) >= 1, 'restarted by liveness');
    expect(pod.status.phase).toBe('Running');
    expect(agent.logs()).toMatch(/Liveness probe failed/);
    expect(agent.logs()).toMatch(/Container c failed liveness probe, will be restarted/);
    agent.removeManifest('liveness.yaml');
  });

  it('takes a pod whose readiness probe fails out of Ready without restarting it', async () => {
    agent.writeManifest(
      'readiness.yaml',
      podYaml(
        'readiness',
        `spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: skiff/web:1.0
    readinessProbe:
      httpGet: {path: /ready, port: 80}
      periodSeconds: 1
    livenessProbe:
      tcpSocket: {port: 80}
      periodSeconds: 1
`,
      ),
    );
    // skiff/web answers 404 for /ready: the pod runs but is never Ready.
    const pod = await agent.waitPod('readiness', (p) => p.status.phase === 'Running' && (status(p, 'web')?.state?.running !== undefined), 'running');
    await eventually(() => /Readiness probe failed/.test(agent.logs()), 'a failed readiness probe');
    const later = await agent.pod('readiness');
    expect(later?.status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady' });
    expect(status(later!, 'web')?.ready).toBe(false);
    expect(status(later!, 'web')?.restartCount).toBe(0);
    expect(status(later!, 'web')?.containerID).toBe(status(pod, 'web')?.containerID);

    // Fixing the probe (a new spec: the static pod is recreated) makes it Ready.
    agent.writeManifest('readiness.yaml', podYaml('readiness', `spec:\n  terminationGracePeriodSeconds: 1\n  containers:\n  - name: web\n    image: skiff/web:1.0\n    readinessProbe:\n      httpGet: {path: /healthz, port: 80}\n      periodSeconds: 1\n`));
    await agent.waitPod('readiness', isRunningReady, 'Ready');
    agent.removeManifest('readiness.yaml');
  });

  it('holds liveness and readiness back until the startup probe passes', async () => {
    agent.writeManifest(
      'startup.yaml',
      podYaml(
        'startup',
        `spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: skiff/busybox:1.0
    command: [sh, -c, "sleep 3; touch /tmp/started; trap 'exit 0' TERM; while true; do sleep 0.2; done"]
    startupProbe:
      exec: {command: [cat, /tmp/started]}
      periodSeconds: 1
      failureThreshold: 30
    livenessProbe:
      exec: {command: [cat, /tmp/started]}
      periodSeconds: 1
      failureThreshold: 1
    readinessProbe:
      exec: {command: [cat, /tmp/started]}
      periodSeconds: 1
`,
      ),
    );
    const early = await agent.waitPod('startup', (p) => status(p, 'c')?.state?.running !== undefined, 'running');
    expect(status(early, 'c')?.started).toBe(false);
    expect(status(early, 'c')?.ready).toBe(false);
    const ready = await agent.waitPod('startup', isRunningReady, 'Ready after startup');
    expect(status(ready, 'c')?.started).toBe(true);
    // Liveness would have failed during the first 3 s had it run: no restart proves it was held back.
    expect(status(ready, 'c')?.restartCount).toBe(0);
    agent.removeManifest('startup.yaml');
  });
});
