import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, eventually, execIn, freePort, idOf, podYaml, type PodWithStatus } from './harness.js';



describe('pod spec on Docker', () => {
  const agent = new AgentProcess();
  // Made in beforeAll, not when the suite is collected: a suite that -t filters out never runs its afterAll.
  let hostDir = '';
  beforeAll(async () => {
    hostDir = mkdtempSync(join(tmpdir(), 'skiff-it-hostpath-'));
    await agent.start();
  });
  afterAll(async () => {
    await agent.cleanup();
    if (hostDir) rmSync(hostDir, { recursive: true, force: true });
  });

  it('runs init containers in order, then app containers with command, args, env, workingDir, resources and volumes', async () => {
    const out = join(hostDir, 'data');
    agent.writeManifest(
      'full.yaml',
      podYaml(
        'full',
        `spec:
  terminationGracePeriodSeconds: 0
  volumes:
  - {name: shared, emptyDir: {}}
  - {name: host, hostPath: {path: ${out}, type: DirectoryOrCreate}}
  - {name: mem, emptyDir: {medium: Memory}}
  initContainers:
  - name: init-1
    image: skiff/busybox:1.0
    command: [sh, -c, 'echo one >> /shared/order']
    volumeMounts: [{name: shared, mountPath: /shared}]
  - name: init-2
    image: skiff/busybox:1.0
    command: [sh, -c, 'echo two >> /shared/order']
    volumeMounts: [{name: shared, mountPath: /shared}]
  containers:
  - name: main
    image: skiff/busybox:1.0
    command: [sh, -c]
    args: ['echo "$(GREETING) from $POD_NAME" > /host/out; cat /shared/order >> /host/out; pwd >> /host/out; echo "$MSG" >> /host/out; grep " /mem " /proc/mounts >> /host/out; exec sleep 3600']
    workingDir: /tmp
    env:
    - {name: GREETING, value: hello}
    - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: MSG, value: "$(GREETING) world"}
    resources:
      limits: {cpu: 500m, memory: 64Mi}
      requests: {cpu: 250m, memory: 32Mi}
    volumeMounts:
    - {name: shared, mountPath: /shared}
    - {name: host, mountPath: /host}
    - {name: mem, mountPath: /mem}
  - name: sidecar
    image: skiff/busybox:1.0
    command: [sleep, '3600']
    volumeMounts: [{name: shared, mountPath: /data, readOnly: true}]
`,
      ),
    );
    const pod = await agent.waitPod('full', (p) => p.status.phase === 'Running' && (p.status.containerStatuses ?? []).every((c) => c.state?.running), 'running');
    const lines = await eventually(() => {
      try {
        const text = readFileSync(join(out, 'out'), 'utf8');
        return text.includes('/mem') ? text.trim().split('\n') : undefined;
      } catch {
        return undefined;
      }
    }, 'output file');
    expect(lines.slice(0, 5)).toEqual([`hello from full-${agent.nodeName}`, 'one', 'two', '/tmp', 'hello world']);
    expect(lines[5]).toMatch(/^tmpfs \/mem tmpfs/);

    expect(pod.status.qosClass).toBe('Burstable');
    expect(pod.status.initContainerStatuses?.map((s) => [s.name, s.state?.terminated?.reason, s.state?.terminated?.exitCode])).toEqual([
      ['init-1', 'Completed', 0],
      ['init-2', 'Completed', 0],
    ]);
    expect(pod.status.conditions?.find((c) => c.type === 'Initialized')?.status).toBe('True');

    const main = await agent.docker.getContainer(idOf(pod, 'main')).inspect();
    expect(main.HostConfig.CpuQuota).toBe(50_000);
    expect(main.HostConfig.CpuPeriod).toBe(100_000);
    expect(main.HostConfig.CpuShares).toBe(256);
    expect(main.HostConfig.Memory).toBe(64 * 1024 * 1024);
    expect(main.Config.WorkingDir).toBe('/tmp');

    // The sidecar shares the emptyDir (read-only), the network and the IPC namespace through the sandbox.
    const sidecar = idOf(pod, 'sidecar');
    expect((await execIn(agent.docker, sidecar, ['cat', '/data/order'])).out).toBe('one\ntwo\n');
    expect((await execIn(agent.docker, sidecar, ['touch', '/data/x'])).code).not.toBe(0);
    const host1 = (await execIn(agent.docker, sidecar, ['hostname'])).out.trim();
    const host2 = (await execIn(agent.docker, idOf(pod, 'main'), ['hostname'])).out.trim();
    expect(host1).toBe(`full-${agent.nodeName}`);
    expect(host2).toBe(host1);
    const ipc = async (id: string) => (await execIn(agent.docker, id, ['readlink', '/proc/1/ns/ipc'])).out.trim();
    expect(await ipc(sidecar)).toBe(await ipc(idOf(pod, 'main')));
  });

  it('mounts a memory-backed emptyDir once for the pod: its containers share it, it outlives a restart, sizeLimit sizes it, and it is unmounted when the pod goes', async () => {
    agent.writeManifest(
      'mem.yaml',
      podYaml(
        'mem',
        `spec:
  terminationGracePeriodSeconds: 0
  securityContext: {fsGroup: 2345}
  volumes:
  - {name: mem, emptyDir: {medium: Memory, sizeLimit: 8Mi}}
  containers:
  - name: writer
    image: skiff/busybox:1.0
    command: [sh, -c, 'if [ -f /mem/x ]; then echo again >> /mem/x; else echo first > /mem/x; fi; exec sleep 3600']
    volumeMounts: [{name: mem, mountPath: /mem}]
  - name: reader
    image: skiff/busybox:1.0
    command: [sleep, '3600']
    volumeMounts: [{name: mem, mountPath: /shared}]
`,
      ),
    );
    const pod = await agent.waitPod('mem', (p) => (p.status.containerStatuses ?? []).filter((c) => c.state?.running).length === 2, 'running');
    const reader = idOf(pod, 'reader');
    expect(await eventually(async () => ((await execIn(agent.docker, reader, ['cat', '/shared/x'])).out === 'first\n' ? 'first' : undefined), 'the reader sees the writer\'s file')).toBe('first');
    // One tmpfs on the host, in the pod's directory, of sizeLimit, group-owned by fsGroup.
    const hostDir = join(agent.rootDir, 'pods', pod.metadata.uid ?? '', 'volumes', 'kubernetes.io~empty-dir', 'mem');
    const mounts = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4] === hostDir);
    expect(mounts()).toHaveLength(1);
    expect(mounts()[0]).toMatch(/ - tmpfs tmpfs .*size=8192k/);
    expect((await execIn(agent.docker, reader, ['stat', '-c', '%g %a', '/shared'])).out.trim()).toBe('2345 2777');
    // The writer's restart finds its file.
    await agent.docker.getContainer(idOf(pod, 'writer')).kill();
    await agent.waitPod('mem', (p) => (p.status.containerStatuses?.find((c) => c.name === 'writer')?.restartCount ?? 0) >= 1, 'writer restarted');
    expect(await eventually(async () => ((await execIn(agent.docker, reader, ['cat', '/shared/x'])).out === 'first\nagain\n' ? 'again' : undefined), 'the restarted writer appends')).toBe('again');
    agent.removeManifest('mem.yaml');
    await eventually(async () => (await agent.pod('mem')) === undefined && mounts().length === 0, 'the pod gone and its tmpfs unmounted');
  });

  it('runs a hostNetwork pod in the node network namespace', async () => {
    const port = await freePort();
    agent.writeManifest(
      'hostnet.yaml',
      podYaml('hostnet', `spec:\n  hostNetwork: true\n  terminationGracePeriodSeconds: 1\n  containers:\n  - name: web\n    image: skiff/web:1.0\n    env: [{name: PORT, value: '${port}'}]\n`),
    );
    const pod = await agent.waitPod('hostnet', (p) => p.status.phase === 'Running', 'running');
    expect(pod.status.podIP).toBe(pod.status.hostIP);
    const text = await eventually(async () => {
      const res = await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined);
      return res?.ok ? res.text() : undefined;
    }, 'web on the host network');
    expect(text.trim().length).toBeGreaterThan(0);
    const sandbox = (await agent.containers()).find((c) => c.Labels['io.kubernetes.pod.name'] === `hostnet-${agent.nodeName}` && c.Labels['io.kubernetes.container.name'] === 'POD');
    expect(sandbox?.HostConfig.NetworkMode).toBe('host');
    agent.removeManifest('hostnet.yaml');
    await eventually(async () => (await agent.pod('hostnet')) === undefined, 'hostnet removed');
  });

  it('shares the host\'s PID and IPC namespaces with hostPID and hostIPC, and the pod\'s own PID namespace with shareProcessNamespace', async () => {
    const ns = (kind: string): string => readlinkSync(`/proc/self/ns/${kind}`);
    const nsOf = async (id: string, kind: string): Promise<string> => (await execIn(agent.docker, id, ['readlink', `/proc/self/ns/${kind}`])).out.trim();
    const sleeper = (name: string): string => `  - name: ${name}\n    image: skiff/busybox:1.0\n    command: [sh, -c, "trap 'exit 0' TERM; while true; do sleep 0.5; done"]\n`;
    agent.writeManifest('hostns.yaml', podYaml('hostns', `spec:\n  hostPID: true\n  hostIPC: true\n  terminationGracePeriodSeconds: 1\n  containers:\n${sleeper('c')}`));
    agent.writeManifest('sharedpid.yaml', podYaml('sharedpid', `spec:\n  shareProcessNamespace: true\n  terminationGracePeriodSeconds: 1\n  containers:\n${sleeper('a')}${sleeper('b')}`));
    const running = (p: PodWithStatus): boolean => p.status.phase === 'Running' && (p.status.containerStatuses ?? []).every((c) => c.state?.running);
    const host = await agent.waitPod('hostns', running, 'running');
    const shared = await agent.waitPod('sharedpid', running, 'running');

    expect([await nsOf(idOf(host, 'c'), 'pid'), await nsOf(idOf(host, 'c'), 'ipc')]).toEqual([ns('pid'), ns('ipc')]);
    // One PID namespace for the pod, not the host's, with the sandbox's pause process as PID 1.
    const [a, b] = [await nsOf(idOf(shared, 'a'), 'pid'), await nsOf(idOf(shared, 'b'), 'pid')];
    expect(a).toBe(b);
    expect(a).not.toBe(ns('pid'));
    const pid1 = (await execIn(agent.docker, idOf(shared, 'a'), ['cat', '/proc/1/cmdline'])).out;
    expect(pid1).toMatch(/pause/);
    agent.removeManifest('hostns.yaml');
    agent.removeManifest('sharedpid.yaml');
    await eventually(async () => (await agent.pod('hostns')) === undefined && (await agent.pod('sharedpid')) === undefined, 'both removed');
  });

  it('stops containers with SIGTERM and kills those that ignore it after the grace period', async () => {
    agent.writeManifest(
      'grace.yaml',
      podYaml(
        'grace',
        `spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: polite
    image: skiff/busybox:1.0
    command: [sh, -c, "trap 'exit 0' TERM; while true; do sleep 0.2; done"]
  - name: stubborn
    image: skiff/busybox:1.0
    command: [sh, -c, "trap '' TERM; while true; do sleep 0.2; done"]
`,
      ),
    );
    await agent.waitPod('grace', (p) => (p.status.containerStatuses ?? []).every((c) => c.state?.running), 'running');
    const events = await agent.docker.getEvents({ filters: { event: ['die'], label: [`io.skiff.node=${agent.nodeName}`, `io.kubernetes.pod.name=grace-${agent.nodeName}`] } });
    const exits = new Map<string, string>();
    events.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        const e = JSON.parse(line) as { Actor: { Attributes: Record<string, string> } };
        exits.set(e.Actor.Attributes['io.kubernetes.container.name'] ?? '', e.Actor.Attributes.exitCode ?? '');
      }
    });
    agent.removeManifest('grace.yaml');
    await eventually(() => exits.has('polite') && exits.has('stubborn') && exits.has('POD'), 'all three containers died');
    (events as unknown as { destroy(): void }).destroy();
    expect(exits.get('polite')).toBe('0');
    expect(exits.get('stubborn')).toBe('137');
  });

  it('reports a hostPath that fails its type check as FailedMount and runs nothing', async () => {
    const file = join(hostDir, 'a-file');
    writeFileSync(file, 'x');
    agent.writeManifest(
      'badmount.yaml',
      podYaml('badmount', `spec:\n  volumes: [{name: v, hostPath: {path: ${file}, type: Directory}}]\n  containers:\n  - name: c\n    image: skiff/busybox:1.0\n    volumeMounts: [{name: v, mountPath: /v}]\n`),
    );
    const pod = await agent.waitPod('badmount', (p) => p.status.containerStatuses?.[0]?.state?.waiting?.message?.includes('is not a directory') === true, 'waiting on the mount');
    expect(pod.status.phase).toBe('Pending');
    expect(agent.logs()).toMatch(/FailedMount/);
    agent.removeManifest('badmount.yaml');
    await eventually(async () => (await agent.pod('badmount')) === undefined, 'badmount removed');
  });
});

describe('image pull policy against a local registry', () => {
  const agent = new AgentProcess();
  let dir = '';
  let registry: ChildProcess | undefined;
  let image = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-it-registry-'));
    const port = await freePort();
    writeFileSync(
      join(dir, 'config.yml'),
      `version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: ${join(dir, 'data')}}, delete: {enabled: true}}\nhttp: {addr: 127.0.0.1:${port}}\n`,
    );
    registry = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
    await eventually(async () => (await fetch(`http://127.0.0.1:${port}/v2/`).catch(() => undefined))?.ok, 'registry up', 30_000);
    // 127.0.0.0/8 registries are insecure by default in dockerd, so plain HTTP works without daemon configuration.
    image = `127.0.0.1:${port}/skiff-it/web:v1`;
    await agent.docker.getImage('skiff/web:1.0').tag({ repo: `127.0.0.1:${port}/skiff-it/web`, tag: 'v1' });
    const push = await agent.docker.getImage(image).push({ authconfig: { username: '', password: '', serveraddress: `127.0.0.1:${port}` } });
    await new Promise<void>((resolve, reject) => agent.docker.modem.followProgress(push, (err: Error | null) => (err ? reject(err) : resolve())));
    await agent.docker.getImage(image).remove();
    await agent.start();
  });
  afterAll(async () => {
    await agent.cleanup();
    await agent.docker.getImage(image).remove({ force: true }).catch(() => undefined);
    registry?.kill('SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('pulls a missing image with IfNotPresent, and re-pulls with Always', async () => {
    expect(await agent.docker.getImage(image).inspect().catch(() => undefined)).toBeUndefined();
    agent.writeManifest('pulled.yaml', podYaml('pulled', `spec:\n  terminationGracePeriodSeconds: 1\n  containers:\n  - name: web\n    image: ${image}\n`));
    const pod = await agent.waitPod('pulled', (p) => p.status.phase === 'Running', 'running from the pulled image');
    expect(pod.spec.containers[0]?.imagePullPolicy).toBe('IfNotPresent');
    expect(agent.logs()).toMatch(/Successfully pulled image/);
    const pulls = (agent.logs().match(/Pulling image/g) ?? []).length;
    agent.writeManifest('always.yaml', podYaml('always', `spec:\n  terminationGracePeriodSeconds: 1\n  containers:\n  - name: web\n    image: ${image}\n    imagePullPolicy: Always\n`));
    await agent.waitPod('always', (p) => p.status.phase === 'Running', 'running with Always');
    expect((agent.logs().match(/Pulling image/g) ?? []).length).toBe(pulls + 1);
  });

  it('waits with ErrImageNeverPull for a missing image under Never, and ErrImagePull/ImagePullBackOff for one no registry has', async () => {
    agent.writeManifest('never.yaml', podYaml('never', `spec:\n  containers:\n  - name: c\n    image: skiff/does-not-exist:1\n    imagePullPolicy: Never\n`));
    const never = await agent.waitPod('never', (p) => p.status.containerStatuses?.[0]?.state?.waiting?.reason === 'ErrImageNeverPull', 'ErrImageNeverPull');
    expect(never.status.phase).toBe('Pending');
    const missing = image.replace('web:v1', 'missing:v1');
    agent.writeManifest('missing.yaml', podYaml('missing', `spec:\n  containers:\n  - name: c\n    image: ${missing}\n`));
    const reasons = new Set<string>();
    await eventually(async () => {
      const r = (await agent.pod('missing'))?.status.containerStatuses?.[0]?.state?.waiting?.reason;
      if (r) reasons.add(r);
      return reasons.has('ErrImagePull') && reasons.has('ImagePullBackOff');
    }, 'ErrImagePull then ImagePullBackOff', 60_000, 100);
  });
});
