// `skiff down`: stops what `skiff up` started and removes what Skiff created on this machine: the daemons (by their
// PID files), the pod containers of this node, the pod network (Docker removes its bridge and route with it), the
// proxy's iptables chains and the kernel settings it changed, the `skiff` kubeconfig context, a dockerd that `skiff up` started, and with --purge the
// data dir.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { LABEL_SKIFF_NODE } from '../agent/runtime/labels.js';
import { parseCommandFlags } from '../lib/command-flags.js';
import { removeNodePodNetworks } from '../agent/runtime/pod-network.js';
import { unmountUnder } from '../agent/kuberuntime/memory-volume.js';
import { restoreHostSysctls } from './host-sysctls.js';
import {
  CONTEXT_NAME,
  DAEMONS,
  DEFAULT_DATA_DIR,
  PACKAGE_ROOT,
  SKIFF_JS,
  type Daemon,
  dockerStateDir,
  isDaemonAlive,
  loadSettings,
  note,
  pidPath,
  readKubeconfigFile,
  readPidFile,
  removeFromKubeconfig,
  settingsPath,
  step,
  userKubeconfigPath,
  writeKubeconfigFile,
} from './up.js';

const DOWN_HELP = `Usage: skiff down [flags]

Stops what "skiff up" started (proxy, agent, control plane; SIGTERM, then SIGKILL after --grace-period) and removes
what Skiff created on this machine: this node's pod containers, the pod network and its bridge, the proxy's iptables
chains and its link for the Service and pod ranges (and the host's route_localnet, put back as skiff up found it), the "skiff" context in the kubeconfig, and a dockerd that "skiff up" itself started. The data dir (store,
certificates, logs) is kept unless --purge is given.

Flags:
  --data-dir DIR          The data dir given to skiff up (default ${DEFAULT_DATA_DIR})
  --kubeconfig PATH       kubeconfig to remove the "skiff" context from (default: the one skiff up wrote to)
  --purge                 Also remove the data dir
  --grace-period SECONDS  How long each daemon gets to stop after SIGTERM (default 20)
  -h, --help              Show this help`;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** SIGTERM, then SIGKILL after the grace period; only a PID that is still `skiff <daemon>` is signalled. */
async function stopDaemon(dataDir: string, d: Daemon, graceMs: number): Promise<void> {
  const file = pidPath(dataDir, d);
  const pid = readPidFile(file);
  if (pid === undefined || !isDaemonAlive(pid, d)) {
    step(`stopping skiff ${d}: not running`);
    await rm(file, { force: true });
    return;
  }
  step(`stopping skiff ${d} (pid ${pid})`);
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isDaemonAlive(pid, d) && Date.now() < deadline) await sleep(200);
  if (isDaemonAlive(pid, d)) {
    note(`still running after ${Math.round(graceMs / 1000)}s: SIGKILL`);
    process.kill(pid, 'SIGKILL');
    const killDeadline = Date.now() + 10_000;
    while (isDaemonAlive(pid, d) && Date.now() < killDeadline) await sleep(100);
  }
  await rm(file, { force: true });
}

function run(cmd: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((res) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SKIFF_LOG_FORMAT: 'json' } });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    child.once('error', (err) => res({ code: 127, output: err.message }));
    child.once('close', (code) => res({ code: code ?? 1, output }));
  });
}

/** A purge removes only a directory that `skiff up` made: never `/`, and only with Skiff's own files in it. */
export function looksLikeDataDir(dir: string, entries: string[]): boolean {
  if (resolve(dir) === '/') return false;
  const ours = new Set(['skiff-up.json', 'control', 'agent', 'run', 'logs', 'docker', 'agent.kubeconfig', 'proxy.kubeconfig']);
  return entries.includes('skiff-up.json') || (entries.length > 0 && entries.every((e) => ours.has(e)));
}

export async function runDown(argv: string[]): Promise<number> {
  const parsed = parseCommandFlags('down', () => DOWN_HELP, {
    args: argv,
    allowPositionals: false,
    options: {
      'data-dir': { type: 'string' },
      kubeconfig: { type: 'string' },
      purge: { type: 'boolean' },
      'grace-period': { type: 'string' },
    },
  });
  if ('exitCode' in parsed) return parsed.exitCode;
  const values: Record<string, string | boolean | undefined> = parsed.values;
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const graceSec = Number(str('grace-period') ?? 20);
  if (!Number.isFinite(graceSec) || graceSec < 0) {
    process.stderr.write(`skiff down: --grace-period: expected seconds, got "${str('grace-period')}"\n`);
    return 2;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('skiff down: needs root (Docker, iptables)\n');
    return 1;
  }
  const dataDir = resolve(str('data-dir') ?? DEFAULT_DATA_DIR);
  const saved = loadSettings(dataDir);
  if (!existsSync(settingsPath(dataDir))) note(`no ${settingsPath(dataDir)}: using the defaults of skiff up`);
  const nodeName = (saved.nodeName ?? hostname()).toLowerCase();
  // Before the node took its range from the control plane, `skiff up` saved the one it gave the agent.
  const legacyPodCIDR = (saved as { podCIDR?: string }).podCIDR;
  const kubeconfig = str('kubeconfig') ? userKubeconfigPath(str('kubeconfig')) : (saved.kubeconfig ?? userKubeconfigPath(undefined));
  let failures = 0;
  const warn = (msg: string): void => {
    failures++;
    note(`warning: ${msg}`);
  };

  // Reverse start order: the proxy and the agent stop before the API server they talk to.
  for (const d of [...DAEMONS].reverse()) {
    try {
      await stopDaemon(dataDir, d, graceSec * 1000);
    } catch (err) {
      warn(`stopping skiff ${d}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  const { default: Dockerode } = await import('dockerode');
  const docker = new Dockerode();
  let dockerUp = true;
  try {
    await docker.ping();
  } catch {
    dockerUp = false;
    warn('Docker does not answer: pod containers and the pod network are left as they are');
  }
  if (dockerUp) {
    step(`removing the pod containers of node ${nodeName}`);
    try {
      const containers = await docker.listContainers({ all: true, filters: { label: [`${LABEL_SKIFF_NODE}=${nodeName}`] } });
      // App containers first, then the sandboxes whose network namespaces they join.
      containers.sort((a, b) => Number(a.Labels?.['io.kubernetes.docker.type'] === 'podsandbox') - Number(b.Labels?.['io.kubernetes.docker.type'] === 'podsandbox'));
      for (const c of containers) {
        try {
          await docker.getContainer(c.Id).remove({ force: true, v: true });
        } catch (err) {
          if ((err as { statusCode?: number }).statusCode !== 404) warn(`removing container ${c.Names?.[0] ?? c.Id}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      note(`${containers.length} removed`);
    } catch (err) {
      warn(`listing containers: ${err instanceof Error ? err.message : String(err)}`);
    }
    step(`removing the pod network of node ${nodeName}`);
    try {
      const removed = await removeNodePodNetworks(docker, nodeName, legacyPodCIDR);
      note(removed.length ? `removed ${removed.join(', ')}` : 'none there');
    } catch (err) {
      warn(`removing the pod network: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  // The agent leaves its pods' memory-backed emptyDirs mounted when it stops, as the kubelet does; their pods are gone now.
  step("unmounting the pods' memory-backed volumes");
  try {
    const unmounted = await unmountUnder(join(dataDir, 'agent', 'pods'));
    note(unmounted.length ? `unmounted ${unmounted.length}` : 'none mounted');
  } catch (err) {
    warn(`unmounting: ${err instanceof Error ? err.message : String(err)}`);
  }

  step("removing the proxy's iptables rules and its link for the Service and pod ranges (skiff proxy --cleanup)");
  const cleanup = await run(process.execPath, [SKIFF_JS, 'proxy', '--cleanup']);
  if (cleanup.code !== 0) warn(`skiff proxy --cleanup exited with ${cleanup.code}: ${cleanup.output.trim().split('\n').slice(-3).join(' | ')}`);

  step('putting back the kernel settings the proxy changed');
  try {
    const changes = await restoreHostSysctls(dataDir);
    note(changes.length ? changes.join(', ') : 'none changed');
  } catch (err) {
    warn(`restoring sysctls: ${err instanceof Error ? err.message : String(err)}`);
  }

  step(`removing the "${CONTEXT_NAME}" context from ${kubeconfig}`);
  try {
    const current = await readKubeconfigFile(kubeconfig);
    const { config, changed } = removeFromKubeconfig(current);
    if (changed) await writeKubeconfigFile(kubeconfig, config);
    else note('not there');
  } catch (err) {
    warn(`updating ${kubeconfig}: ${err instanceof Error ? err.message : String(err)}`);
  }

  // A dockerd that `skiff up` started (scripts/ensure-docker.sh wrote its PID file) is ours to stop; one that was
  // already running (a system service) is left alone.
  const dockerPid = join(dockerStateDir(dataDir), 'dockerd.pid');
  if (existsSync(dockerPid)) {
    step(`stopping the dockerd that skiff up started (${dockerPid})`);
    const script = join(PACKAGE_ROOT, 'scripts', 'stop-docker.sh');
    const r = existsSync(script) ? await run('bash', [script, dockerPid]) : { code: 1, output: `${script} is missing` };
    for (const line of r.output.trim().split('\n')) if (line) note(line);
    if (r.code !== 0) warn(`stopping dockerd failed (${r.code})`);
  }

  if (values.purge) {
    step(`removing ${dataDir}`);
    const entries = existsSync(dataDir) ? readdirSync(dataDir) : [];
    if (!existsSync(dataDir)) note('not there');
    else if (!looksLikeDataDir(dataDir, entries)) warn(`${dataDir} does not look like a Skiff data dir (no skiff-up.json); not removing it`);
    else await rm(dataDir, { recursive: true, force: true });
  } else {
    step(`keeping ${dataDir} (store, certificates, logs); --purge removes it`);
  }
  step(failures ? `done, with ${failures} warning(s)` : 'done');
  return failures ? 1 : 0;
}
