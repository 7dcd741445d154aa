import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, execIn, idOf, podYaml, statusOf, type PodWithStatus } from './harness.js';

/**
 * Pod spec fields the kubelet acts on beyond running containers: termination messages, activeDeadlineSeconds and
 * hostAliases, on the real Docker.
 */



describe('pod spec fields on Docker: termination messages, activeDeadlineSeconds, hostAliases', () => {
  const agent = new AgentProcess();
  beforeAll(async () => {
    await agent.start();
  });
  afterAll(async () => {
    await agent.cleanup();
  });

  it('reports what a container wrote to its terminationMessagePath, and it stays once the container restarted', async () => {
    agent.writeManifest(
      'msg.yaml',
      podYaml(
        'msg',
        `spec:
  terminationGracePeriodSeconds: 0
  restartPolicy: OnFailure
  containers:
  - name: default-path
    image: skiff/busybox:1.0
    command: [sh, -c, 'printf "all done" > /dev/termination-log']
  - name: custom-path
    image: skiff/busybox:1.0
    terminationMessagePath: /tmp/why
    command: [sh, -c, 'echo "failed: bad config" > /tmp/why; exit 3']
`,
      ),
    );
    const pod = await agent.waitPod(
      'msg',
      (p) => statusOf(p, 'default-path')?.state?.terminated !== undefined && (statusOf(p, 'custom-path')?.restartCount ?? 0) >= 1 && statusOf(p, 'custom-path')?.lastState?.terminated !== undefined,
      'both terminated, custom-path restarted',
    );
    expect(statusOf(pod, 'default-path')?.state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed', message: 'all done' });
    // The restarted one keeps its previous run's message in lastState.
    expect(statusOf(pod, 'custom-path')?.lastState?.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(statusOf(pod, 'custom-path')?.lastState?.terminated?.message).toBe('failed: bad config\n');
    agent.removeManifest('msg.yaml');
  });

  it('falls back to the last log lines with FallbackToLogsOnError when a failed container wrote no message', async () => {
    agent.writeManifest(
      'fallback.yaml',
      podYaml(
        'fallback',
        `spec:
  terminationGracePeriodSeconds: 0
  restartPolicy: Never
  containers:
  - name: failing
    image: skiff/busybox:1.0
    terminationMessagePolicy: FallbackToLogsOnError
    command: [sh, -c, 'i=0; while [ $i -lt 100 ]; do echo "line $i"; i=$((i+1)); done; echo "boom"; exit 1']
  - name: succeeding
    image: skiff/busybox:1.0
    terminationMessagePolicy: FallbackToLogsOnError
    command: [sh, -c, 'echo "not a message"']
`,
      ),
    );
    const pod = await agent.waitPod('fallback', (p) => p.status.phase === 'Failed', 'failed');
    const message = statusOf(pod, 'failing')?.state?.terminated?.message ?? '';
    // The last 80 lines: "line 21" .. "line 99" and "boom".
    const lines = message.trimEnd().split('\n');
    expect(lines).toHaveLength(80);
    expect(lines[0]).toBe('line 21');
    expect(lines.at(-1)).toBe('boom');
    // A successful exit does not fall back: no message.
    expect(statusOf(pod, 'succeeding')?.state?.terminated?.exitCode).toBe(0);
    expect(statusOf(pod, 'succeeding')?.state?.terminated?.message).toBeUndefined();
    agent.removeManifest('fallback.yaml');
  });

  it('fails a pod past its activeDeadlineSeconds with DeadlineExceeded, stops its containers and never restarts them', async () => {
    agent.writeManifest(
      'deadline.yaml',
      podYaml(
        'deadline',
        `spec:
  activeDeadlineSeconds: 3
  terminationGracePeriodSeconds: 1
  containers:
  - name: sleeper
    image: skiff/busybox:1.0
    command: [sh, -c, "trap 'exit 0' TERM; while true; do sleep 0.2; done"]
`,
      ),
    );
    await agent.waitPod('deadline', (p) => statusOf(p, 'sleeper')?.state?.running !== undefined, 'running');
    const pod = await agent.waitPod('deadline', (p) => p.status.phase === 'Failed', 'failed', 30_000);
    expect(pod.status.reason).toBe('DeadlineExceeded');
    expect(pod.status.message).toBe('Pod was active on the node longer than the specified deadline');
    expect(statusOf(pod, 'sleeper')?.state?.terminated).toBeDefined();
    expect(pod.status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'PodFailed' });
    const podName = `deadline-${agent.nodeName}`;
    const mine = async () => (await agent.containers()).filter((c) => c.Labels['io.kubernetes.pod.name'] === podName);
    const stopped = async () => (await mine()).every((c) => c.State !== 'running');
    expect(await stopped()).toBe(true);
    // Later syncs (the pod worker wakes for back-offs, relists...) start nothing again: still one instance, stopped.
    const again = await agent.waitPod('deadline', (p) => p.status.phase === 'Failed', 'still failed');
    expect(statusOf(again, 'sleeper')?.restartCount).toBe(0);
    expect((await mine()).filter((c) => c.Labels['io.kubernetes.container.name'] === 'sleeper')).toHaveLength(1);
    expect(await stopped()).toBe(true);
    agent.removeManifest('deadline.yaml');
  });

  it('adds hostAliases to the /etc/hosts of every container of the pod, also on the host network', async () => {
    const aliases = `  hostAliases:
  - ip: 10.1.2.3
    hostnames: [foo.remote, bar.remote]
  - ip: 127.0.0.1
    hostnames: [foo.local]
`;
    const sleeper = (name: string): string => `  - name: ${name}\n    image: skiff/busybox:1.0\n    command: [sh, -c, "trap 'exit 0' TERM; while true; do sleep 0.5; done"]\n`;
    agent.writeManifest('aliases.yaml', podYaml('aliases', `spec:\n  terminationGracePeriodSeconds: 1\n${aliases}  containers:\n${sleeper('a')}${sleeper('b')}`));
    agent.writeManifest('aliases-host.yaml', podYaml('aliases-host', `spec:\n  hostNetwork: true\n  terminationGracePeriodSeconds: 1\n${aliases}  containers:\n${sleeper('a')}`));
    const running = (p: PodWithStatus): boolean => p.status.phase === 'Running' && (p.status.containerStatuses ?? []).every((c) => c.state?.running);
    const pod = await agent.waitPod('aliases', running, 'running');
    const hostPod = await agent.waitPod('aliases-host', running, 'running');
    for (const [p, name] of [
      [pod, 'a'],
      [pod, 'b'],
      [hostPod, 'a'],
    ] as const) {
      const hosts = (await execIn(agent.docker, idOf(p, name), ['cat', '/etc/hosts'])).out;
      expect(hosts).toContain('10.1.2.3\tfoo.remote\tbar.remote\n');
      expect(hosts).toContain('127.0.0.1\tfoo.local\n');
    }
    // The pod's own name still resolves to its IP, and the aliases resolve as written.
    const hosts = (await execIn(agent.docker, idOf(pod, 'a'), ['cat', '/etc/hosts'])).out;
    expect(hosts).toContain(`${pod.status.podIP}\taliases-${agent.nodeName}`);
    expect((await execIn(agent.docker, idOf(pod, 'a'), ['ping', '-c1', '-W1', 'bar.remote'])).out).toContain('(10.1.2.3)');
    agent.removeManifest('aliases.yaml');
    agent.removeManifest('aliases-host.yaml');
  });
});
