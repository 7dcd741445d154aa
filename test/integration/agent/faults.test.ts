import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImages } from '../../../images/build.js';
import { AgentProcess, eventually, isRunningReady, podYaml, type PodWithStatus } from './harness.js';
import { podCidrFreeEverywhere, PrivateDockerd } from './private-dockerd.js';

/**
 * Faults around the agent: the agent itself restarting, containers changed behind its back, and Docker restarting.
 * The agent keeps no state of its own about containers: everything it needs is in Docker's labels.
 */

const LONG = 180_000;

const web = (name: string, labels = 'app: web') =>
  podYaml(
    name,
    `  labels: {${labels}}
spec:
  containers:
  - name: web
    image: skiff/web:1.0
    ports: [{containerPort: 80}]
    readinessProbe:
      httpGet: {path: /healthz, port: 80}
      periodSeconds: 1
`,
  );

const sleeper = (name: string, labels = 'app: sleeper') =>
  podYaml(
    name,
    `  labels: {${labels}}
spec:
  containers:
  - name: main
    image: skiff/busybox:1.0
    command: [exit-with, '0', '3600']
  terminationGracePeriodSeconds: 2
`,
  );

/**
 * Crashes (crash-after 1) on its first two runs, then runs for good: a container whose restartCount is 2 and stays 2.
 * The run count lives in an emptyDir, which outlives container restarts. Backticks, not $(...), so the agent's
 * $(VAR) expansion of commands leaves the script alone.
 */
const flaky = (name: string) =>
  podYaml(
    name,
    `spec:
  restartPolicy: Always
  containers:
  - name: flaky
    image: skiff/busybox:1.0
    command: [sh, -c, 'n=\`cat /state/n 2>/dev/null || echo 0\`; n=\`expr $n + 1\`; echo $n > /state/n; if [ $n -le 2 ]; then exec crash-after 1; fi; exec exit-with 0 3600']
    volumeMounts: [{name: state, mountPath: /state}]
  volumes:
  - name: state
    emptyDir: {}
  terminationGracePeriodSeconds: 2
`,
  );

async function httpGet(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return res.text();
}

const short = (id: string | undefined): string => (id ?? '').replace('docker://', '');

interface Snapshot {
  /** Every container of the agent in Docker: id → name/state, sorted by id. */
  containers: Array<{ id: string; name: string; state: string }>;
  /** pod name → container name → restartCount and container id, from /pods. */
  statuses: Record<string, Record<string, { restartCount: number; id: string }>>;
  uids: Record<string, string>;
}

const running = (cs: Snapshot['containers']): Snapshot['containers'] =>
  cs.filter((c) => c.state === 'running').sort((a, b) => a.id.localeCompare(b.id));

function statusesOf(pods: PodWithStatus[]): Snapshot['statuses'] {
  const out: Snapshot['statuses'] = {};
  for (const p of pods) {
    const per: Record<string, { restartCount: number; id: string }> = {};
    for (const cs of p.status.containerStatuses ?? []) per[cs.name] = { restartCount: cs.restartCount, id: short(cs.containerID) };
    out[p.metadata.name ?? ''] = per;
  }
  return out;
}

/**
 * Waits until the given pods are Running (ready when they have a readiness probe), and Docker holds exactly one
 * sandbox and one instance of each container per pod, all running, the very ones /pods reports. Returns a snapshot.
 */
async function settled(agent: AgentProcess, names: string[], what: string, timeoutMs = LONG): Promise<Snapshot> {
  return eventually(
    async () => {
      const pods = await agent.pods();
      const ours = names.map((n) => pods.find((p) => p.metadata.name === `${n}-${agent.nodeName}`));
      if (ours.some((p) => !p || !isRunningReady(p))) return undefined;
      // No pod listed twice.
      const fullNames = pods.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
      if (new Set(fullNames).size !== fullNames.length) throw new Error(`duplicate pods in /pods: ${fullNames.join(', ')}`);
      const containers = await agent.containers();
      const uids: Record<string, string> = {};
      for (const p of ours as PodWithStatus[]) {
        const uid = p.metadata.uid ?? '';
        uids[p.metadata.name ?? ''] = uid;
        const mine = containers.filter((c) => c.Labels['io.kubernetes.pod.uid'] === uid);
        const sandboxes = mine.filter((c) => c.Labels['io.kubernetes.container.name'] === 'POD');
        if (sandboxes.length !== 1 || sandboxes[0]?.State !== 'running') return undefined;
        // One running instance per container; at most one dead one besides (upstream keeps the last dead instance).
        const apps = mine.filter((c) => c.Labels['io.kubernetes.container.name'] !== 'POD');
        for (const spec of p.spec.containers) {
          const all = apps.filter((c) => c.Labels['io.kubernetes.container.name'] === spec.name);
          const running = all.filter((c) => c.State === 'running');
          if (running.length !== 1 || all.length - running.length > 1) return undefined;
        }
        if (apps.some((c) => !p.spec.containers.some((s) => s.name === c.Labels['io.kubernetes.container.name']))) return undefined;
        for (const cs of p.status.containerStatuses ?? []) {
          if (!cs.state?.running || !apps.some((c) => c.Id === short(cs.containerID))) return undefined;
        }
      }
      // Nothing else of this agent: no orphans of pods it does not run.
      const known = new Set(Object.values(uids));
      const others = pods.filter((p) => !names.some((n) => p.metadata.name === `${n}-${agent.nodeName}`)).map((p) => p.metadata.uid);
      for (const c of containers) {
        const uid = c.Labels['io.kubernetes.pod.uid'] ?? '';
        if (!known.has(uid) && !others.includes(uid)) return undefined;
      }
      return {
        containers: containers
          .filter((c) => known.has(c.Labels['io.kubernetes.pod.uid'] ?? '') && c.State !== 'removing')
          .map((c) => ({ id: c.Id, name: c.Names[0] ?? '', state: c.State }))
          .sort((a, b) => a.id.localeCompare(b.id)),
        statuses: statusesOf(ours as PodWithStatus[]),
        uids,
      };
    },
    `${what} (${names.join(', ')})`,
    timeoutMs,
  );
}

/** The agent's last log lines, its pods' statuses and its containers, for a failure message. */
async function diagnose(agent: AgentProcess): Promise<string> {
  const pods = await agent.pods().catch((e: Error) => e.message);
  const containers = await agent.containers().catch(() => []);
  return [
    `agent log (tail):\n${agent.logs().split('\n').slice(-40).join('\n')}`,
    `pods: ${JSON.stringify(typeof pods === 'string' ? pods : pods.map((p) => ({ name: p.metadata.name, status: p.status })))}`,
    `containers:\n${containers.map((c) => `${c.Id.slice(0, 12)} ${c.Names[0]} ${c.State} ${c.Status}`).join('\n')}`,
  ].join('\n');
}

/** The agent's process exists (it did not crash) and answers. */
async function agentAlive(agent: AgentProcess): Promise<boolean> {
  const pid = agent.pid;
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return (await fetch(`${agent.baseUrl}/healthz`, { signal: AbortSignal.timeout(5000) })).ok;
}

describe('agent restart adopts running pods', () => {
  const agent = new AgentProcess();
  const pods = ['web', 'sleeper', 'flaky'];
  let version = 1;

  beforeAll(async () => {
    await agent.start();
    agent.writeManifest('web.yaml', web('web'));
    agent.writeManifest('sleeper.yaml', sleeper('sleeper', `app: sleeper, version: v${version}`));
    agent.writeManifest('flaky.yaml', flaky('flaky'));
    await agent.waitPod('flaky', (p) => p.status.containerStatuses?.[0]?.restartCount === 2 && p.status.phase === 'Running', 'restarted twice', LONG);
    const snap = await settled(agent, pods, 'pods settled');
    expect(snap.statuses[`flaky-${agent.nodeName}`]?.flaky?.restartCount).toBe(2);
  }, 300_000);

  afterAll(async () => {
    await agent.cleanup();
  });

  it.each(['SIGTERM', 'SIGKILL'] as const)(
    'after %s, runs on with the same containers and restart counts, and still applies manifest changes',
    async (signal) => {
      const before = await settled(agent, pods, 'pods settled before the restart');
      expect(before.statuses[`flaky-${agent.nodeName}`]?.flaky?.restartCount).toBe(2);

      const code = await agent.kill(signal);
      if (signal === 'SIGTERM') expect(code).toBe(0);
      // Stopping the agent stops no pod.
      const whileDown = (await agent.containers()).map((c) => ({ id: c.Id, name: c.Names[0] ?? '', state: c.State }));
      expect(running(whileDown)).toEqual(running(before.containers));

      await agent.start();
      // /pods only shows container ids after the new agent synced each pod: these must be the old ones.
      const after = await eventually(
        async () => {
          const s = await settled(agent, pods, 'pods settled after the restart', 5_000).catch(() => undefined);
          return s && JSON.stringify(s.statuses) === JSON.stringify(before.statuses) ? s : undefined;
        },
        `the same containers and restart counts in /pods after ${signal} (before: ${JSON.stringify(before.statuses)})`,
        LONG,
      );
      expect(after.uids).toEqual(before.uids);
      expect(after.statuses).toEqual(before.statuses);
      // No container created, none stopped or removed. (A dead instance kept from before may be garbage-collected:
      // that is housekeeping, not a change to what runs.)
      expect(running(after.containers)).toEqual(running(before.containers));
      const beforeIds = new Set(before.containers.map((c) => c.id));
      expect(after.containers.filter((c) => !beforeIds.has(c.id))).toEqual([]);

      // Still managing: a changed manifest replaces its pod, and only that one.
      version++;
      agent.writeManifest('sleeper.yaml', sleeper('sleeper', `app: sleeper, version: v${version}`));
      const changed = await agent.waitPod('sleeper', (p) => p.metadata.uid !== before.uids[`sleeper-${agent.nodeName}`] && p.status.phase === 'Running', 'recreated after the manifest change', LONG);
      expect(changed.metadata.labels?.version).toBe(`v${version}`);
      const final = await eventually(
        async () => {
          const s = await settled(agent, pods, 'pods settled after the manifest change', 5_000).catch(() => undefined);
          // settled() rejects containers of unknown pods, so the old sleeper's are gone too.
          return s && s.uids[`sleeper-${agent.nodeName}`] === changed.metadata.uid ? s : undefined;
        },
        'old sleeper containers removed, new sleeper settled',
        LONG,
      );
      const untouched = (s: Snapshot) => running(s.containers).filter((c) => !c.name.includes('_sleeper-'));
      expect(untouched(final)).toEqual(untouched(before));
      expect(final.statuses[`web-${agent.nodeName}`]).toEqual(before.statuses[`web-${agent.nodeName}`]);
      expect(final.statuses[`flaky-${agent.nodeName}`]).toEqual(before.statuses[`flaky-${agent.nodeName}`]);
    },
    400_000,
  );
});

describe('containers removed or stopped behind the agent’s back', () => {
  const agent = new AgentProcess();
  let stoppedId = '';
  const uidOf = () => agent.pod('victim').then((p) => p?.metadata.uid ?? '');

  async function current(): Promise<{ pod: PodWithStatus; sandbox: Dockerode.ContainerInfo; app: Dockerode.ContainerInfo }> {
    const snap = await settled(agent, ['victim'], 'victim settled');
    const pod = (await agent.pod('victim')) as PodWithStatus;
    const mine = (await agent.containers()).filter((c) => c.Labels['io.kubernetes.pod.uid'] === snap.uids[`victim-${agent.nodeName}`]);
    const sandbox = mine.find((c) => c.Labels['io.kubernetes.container.name'] === 'POD') as Dockerode.ContainerInfo;
    const app = mine.find((c) => c.Labels['io.kubernetes.container.name'] === 'web' && c.State === 'running') as Dockerode.ContainerInfo;
    return { pod, sandbox, app };
  }

  async function answers(pod: PodWithStatus): Promise<void> {
    expect(pod.status.podIP).toBeTruthy();
    expect(await eventually(() => httpGet(`http://${pod.status.podIP}/`).catch(() => undefined), 'pod answers on its IP', 30_000)).toBe(`victim-${agent.nodeName}\n`);
  }

  beforeAll(async () => {
    await agent.start();
    agent.writeManifest('victim.yaml', web('victim'));
    await current();
  }, 300_000);

  afterAll(async () => {
    await agent.cleanup();
  });

  it('brings back an app container removed with docker rm -f', async () => {
    const before = await current();
    await agent.docker.getContainer(before.app.Id).remove({ force: true });
    const pod = await agent.waitPod('victim', (p) => isRunningReady(p) && short(p.status.containerStatuses?.[0]?.containerID) !== before.app.Id, 'a new web container', LONG);
    const after = await current();
    expect(after.pod.metadata.uid).toBe(before.pod.metadata.uid);
    expect(after.app.Id).not.toBe(before.app.Id);
    expect(after.sandbox.Id).toBe(before.sandbox.Id);
    await answers(pod);
  });

  it('restarts an app container stopped with docker stop, counting the restart', async () => {
    const before = await current();
    const count = before.pod.status.containerStatuses?.[0]?.restartCount ?? -1;
    await agent.docker.getContainer(before.app.Id).stop({ t: 10 });
    const pod = await agent.waitPod('victim', (p) => isRunningReady(p) && p.status.containerStatuses?.[0]?.restartCount === count + 1, `restartCount ${count + 1}`, LONG);
    const cs = pod.status.containerStatuses?.[0];
    expect(short(cs?.containerID)).not.toBe(before.app.Id);
    stoppedId = before.app.Id;
    const after = await current();
    expect(after.sandbox.Id).toBe(before.sandbox.Id);
    expect(after.app.Labels['annotation.io.kubernetes.container.restartCount']).toBe(String(count + 1));
    await answers(pod);
  });

  it('reports the stopped instance in lastState once the new one runs', async () => {
    expect(stoppedId).toBeTruthy();
    // Upstream keeps the last dead instance (containerGC's MaxPerPodContainer=1) and reports it as lastState; a few
    // syncs later it must still be there. settled() waits until /pods shows the restarted container running.
    await settled(agent, ['victim'], 'victim settled after the restart');
    const pod = (await agent.pod('victim')) as PodWithStatus;
    const last = pod.status.containerStatuses?.[0]?.lastState?.terminated;
    // docker stop is SIGTERM: web-server exits 0.
    expect(last?.containerID).toBe(`docker://${stoppedId}`);
    expect(last?.exitCode).toBe(0);
    expect(last?.reason).toBe('Completed');
  });

  it('gives the pod a new sandbox and new containers when its sandbox is removed with docker rm -f', async () => {
    const before = await current();
    const count = before.pod.status.containerStatuses?.[0]?.restartCount ?? -1;
    await agent.docker.getContainer(before.sandbox.Id).remove({ force: true });
    await eventually(
      async () => {
        const now = await current();
        return now.sandbox.Id !== before.sandbox.Id && now.app.Id !== before.app.Id ? now : undefined;
      },
      'a new sandbox and a new app container',
      LONG,
    );
    const after = await current();
    expect(after.pod.metadata.uid).toBe(await uidOf());
    expect(after.app.Labels['io.kubernetes.sandbox.id']).toBe(after.sandbox.Id);
    expect(after.app.HostConfig.NetworkMode).toBe(`container:${after.sandbox.Id}`);
    // With no sandbox left at all, upstream's podSandboxChanged returns attempt 0 ("No sandbox for pod can be
    // found"): the name k8s_POD_..._0 is free again. The app container is a restart of the old one.
    expect(after.sandbox.Labels['io.skiff.attempt']).toBe('0');
    expect(after.sandbox.Names[0]).toBe(`/k8s_POD_victim-${agent.nodeName}_default_${after.pod.metadata.uid}_0`);
    expect(after.pod.status.containerStatuses?.[0]?.restartCount).toBe(count + 1);
    await answers(after.pod);
  });

  it('gives the pod a new sandbox (next attempt) and new containers when its sandbox is stopped', async () => {
    const before = await current();
    const attempt = Number(before.sandbox.Labels['io.skiff.attempt']);
    const count = before.pod.status.containerStatuses?.[0]?.restartCount ?? -1;
    await agent.docker.getContainer(before.sandbox.Id).stop({ t: 10 });
    await eventually(
      async () => {
        const now = await current();
        return now.sandbox.Id !== before.sandbox.Id && now.app.Id !== before.app.Id ? now : undefined;
      },
      'a new sandbox and a new app container',
      LONG,
    );
    const after = await current();
    expect(after.sandbox.Labels['io.skiff.attempt']).toBe(String(attempt + 1));
    expect(after.sandbox.Names[0]).toBe(`/k8s_POD_victim-${agent.nodeName}_default_${after.pod.metadata.uid}_${attempt + 1}`);
    expect(after.app.Labels['io.kubernetes.sandbox.id']).toBe(after.sandbox.Id);
    expect(after.pod.status.containerStatuses?.[0]?.restartCount).toBe(count + 1);
    await answers(after.pod);
  });
});

describe('dockerd restart (a private dockerd)', () => {
  let dockerd: PrivateDockerd | undefined;
  let agent: AgentProcess | undefined;
  let bridge: string | undefined;

  beforeAll(async () => {
    dockerd = new PrivateDockerd();
    await dockerd.start();
    await buildImages({ docker: dockerd.docker });
    agent = new AgentProcess({ docker: dockerd.docker, runtimeEndpoint: dockerd.endpoint });
    agent.podCidr = await podCidrFreeEverywhere([new Dockerode(), dockerd.docker]);
    await agent.start();
    // /healthz answers before the agent has created its pod network; wait for the network itself.
    const d = dockerd;
    const name = `skiff-${agent.podCidr.replace(/[./]/g, '-')}`;
    const net = await eventually(async () => (await d.docker.getNetwork(name).inspect()) as { Id: string }, `pod network ${name}`, 60_000);
    bridge = `br-${net.Id.slice(0, 12)}`;
  }, 400_000);

  afterAll(async () => {
    const d = dockerd;
    if (!d) return;
    try {
      if (agent) {
        // Removing the containers and the pod network needs the daemon up.
        if (!d.running) await d.start().catch(() => undefined);
        await agent.cleanup();
      }
    } finally {
      await d.cleanup();
      // Should the daemon have been unable to remove it, the network's bridge would outlive it in the kernel.
      if (bridge && existsSync(`/sys/class/net/${bridge}`)) spawnSync('ip', ['link', 'delete', bridge], { stdio: 'ignore' });
    }
    expect(d.mountsUnder()).toEqual([]);
    expect(existsSync(d.dir)).toBe(false);
    if (bridge) expect(existsSync(`/sys/class/net/${bridge}`)).toBe(false);
  }, 180_000);

  it('brings every pod back after dockerd stops and starts again', async () => {
    const a = agent as AgentProcess;
    const d = dockerd as PrivateDockerd;
    a.writeManifest('web.yaml', web('web'));
    a.writeManifest('sleeper.yaml', sleeper('sleeper'));
    const before = await settled(a, ['web', 'sleeper'], 'pods settled on the private dockerd');
    // The agent's own pod network works without the daemon's iptables rules: the host reaches the pod by IP.
    const webBefore = (await a.pod('web')) as PodWithStatus;
    expect(webBefore.status.podIP?.startsWith(a.podCidr.split('.').slice(0, 3).join('.'))).toBe(true);
    expect(await httpGet(`http://${webBefore.status.podIP}/`)).toBe(`web-${a.nodeName}\n`);

    const oldPid = d.pid;
    await d.stop();
    expect(d.running).toBe(false);
    await eventually(() => /cannot list containers/.test(a.logs()), 'the agent notices that Docker is gone', 60_000);
    expect(await agentAlive(a)).toBe(true);

    await d.start();
    expect(d.pid).not.toBe(oldPid);
    // First every pod runs again: Docker stopped every container on shutdown, so the running ones are new.
    await eventually(
      async () => {
        const pods = await a.pods();
        const ours = ['web', 'sleeper'].map((n) => pods.find((p) => p.metadata.name === `${n}-${a.nodeName}`));
        if (ours.some((p) => !p || !isRunningReady(p))) return undefined;
        const live = new Set((await a.containers(false)).map((c) => c.Id));
        const ids = ours.flatMap((p) => (p?.status.containerStatuses ?? []).map((cs) => short(cs.containerID)));
        return ids.every((id) => live.has(id) && !before.containers.some((b) => b.id === id));
      },
      'every pod running and ready again on new containers',
      LONG,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${await diagnose(a)}`);
    });
    // Then nothing is duplicated: one running sandbox per pod and one running instance per container. Dead
    // instances must be gone too, except those Docker itself refuses to remove after a restart (overlay2's "device or
    // resource busy"): the agent must have tried, and said so.
    const all = await eventually(
      async () => {
        const list = (await d.docker.listContainers({ all: true })).filter((c) => c.Labels['io.skiff.node'] === a.nodeName);
        const running = list.filter((c) => c.State === 'running');
        if (running.length !== 4 || running.filter((c) => c.Labels['io.kubernetes.container.name'] === 'POD').length !== 2) return undefined;
        // Kept on purpose: each container's newest dead instance, its lastState (as the kubelet's container GC keeps it).
        const lastStates = new Set((await a.pods()).flatMap((p) => (p.status.containerStatuses ?? []).map((cs) => short(cs.lastState?.terminated?.containerID))));
        const dead = list.filter((c) => c.State !== 'running' && !lastStates.has(c.Id));
        return dead.every((c) => a.logs().includes(`"container":"${c.Id}"`) && /cannot remove a dead container yet/.test(a.logs())) ? list : undefined;
      },
      'one running sandbox per pod, one running instance per container, no unexplained leftovers',
      60_000,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${await diagnose(a)}`);
    });
    expect(/container runtime is back/.test(a.logs())).toBe(true);
    const uids = new Set(all.filter((c) => c.State === 'running').map((c) => c.Labels['io.kubernetes.pod.uid']));
    expect([...uids].sort()).toEqual(Object.values(before.uids).sort());
    const nets = (await d.docker.listNetworks()).filter((n) => n.Name.startsWith('skiff-'));
    expect(nets.map((n) => n.Name)).toEqual([`skiff-${a.podCidr.replace(/[./]/g, '-')}`]);
    expect(await agentAlive(a)).toBe(true);
    expect(a.logs()).not.toMatch(/"level":(50|60)[^\n]*(uncaught|unhandled)/i);

    const webAfter = (await a.pod('web')) as PodWithStatus;
    expect(await eventually(() => httpGet(`http://${webAfter.status.podIP}/`).catch(() => undefined), 'web answers on its IP again', 30_000)).toBe(`web-${a.nodeName}\n`);
  }, 400_000);
});
