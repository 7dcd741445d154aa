import { readFile } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import Dockerode from 'dockerode';
import { fallsBackToLogs, terminationMessage } from '../kuberuntime/termination-message.js';
import type { Container, Pod } from '../../control/api/index.js';
import type { Logger } from '../../lib/log.js';
import * as L from './labels.js';
import { dockerResources, dockerSecurity, sandboxSysctls, seccompOptFromFile, SecurityConfigError, userWithGroup } from './container-config.js';
import type {
  ContainerRuntime,
  CreateContainerOptions,
  ExecResult,
  LogOptions,
  RegistryAuth,
  RuntimeContainer,
  RuntimeContainerState,
} from './runtime.js';

export interface DockerRuntimeOptions {
  docker: Dockerode;
  nodeName: string;
  /** The docker network that holds pod IPs (see pod-network.ts). */
  networkName: string;
  /** The sandbox image (built locally by `skiff images build`). */
  pauseImage: string;
  logger: Logger;
  /** Where Localhost seccomp profiles live (<root-dir>/seccomp); unset, Localhost profiles are refused. */
  seccompProfileRoot?: string;
  /** The agent's seccompDefault: containers without a seccompProfile get RuntimeDefault instead of Unconfined. */
  seccompDefault?: boolean;
}

/** Docker's HTTP status codes that mean "nothing to do": already stopped, already gone. */
function statusOf(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null && 'statusCode' in err) {
    const code = (err as { statusCode: unknown }).statusCode;
    return typeof code === 'number' ? code : undefined;
  }
  return undefined;
}

function mapState(status: string | undefined): RuntimeContainerState {
  switch (status) {
    case 'created':
      return 'created';
    case 'running':
    case 'paused':
    case 'restarting':
      return 'running';
    case 'exited':
    case 'dead':
    case 'removing':
      return 'exited';
    default:
      return 'unknown';
  }
}

/** Docker reports "0001-01-01T00:00:00Z" for times that never happened. */
function dockerTime(s: string | undefined): Date | undefined {
  if (!s || s.startsWith('0001-')) return undefined;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/**
 * The container runtime on the Docker Engine API: one pause sandbox per pod holding its network and IPC namespaces,
 * every app container joined to it with `container:<sandbox>`, dockershim's names and labels.
 */
/**
 * A container's PID namespace, as dockershim chose it: the host's (hostPID), the sandbox's, where the pause process is
 * PID 1 (shareProcessNamespace), an ephemeral container's target's (only when the pod shares neither, as the
 * kubelet's TARGET mode), or its own.
 */
function pidMode(pod: Pod, sandbox: string, targetId: string | undefined): { PidMode?: string } {
  if (pod.spec.hostPID === true) return { PidMode: 'host' };
  if (pod.spec.shareProcessNamespace === true) return { PidMode: sandbox };
  return targetId ? { PidMode: `container:${targetId}` } : {};
}

export class DockerRuntime implements ContainerRuntime {
  readonly docker: Dockerode;
  private readonly opts: DockerRuntimeOptions;
  /** Inspect results keyed by id+state: a container's details only change when its state does. */
  private readonly inspectCache = new Map<string, RuntimeContainer>();

  constructor(opts: DockerRuntimeOptions) {
    this.opts = opts;
    this.docker = opts.docker;
  }

  async version(): Promise<string> {
    const v = await this.docker.version();
    return `docker://${v.Version}`;
  }

  async listPodContainers(podUid?: string): Promise<RuntimeContainer[]> {
    const label = [`${L.LABEL_SKIFF_NODE}=${this.opts.nodeName}`];
    if (podUid) label.push(`${L.LABEL_POD_UID}=${podUid}`);
    const infos = await this.docker.listContainers({ all: true, filters: { label } });
    const seen = new Set<string>();
    const out = await Promise.all(
      infos.map(async (info) => {
        const key = `${info.Id}/${info.State}`;
        seen.add(key);
        const cached = this.inspectCache.get(key);
        if (cached) return cached;
        const c = await this.inspect(info.Id);
        if (c && c.state !== 'unknown') this.inspectCache.set(key, c);
        return c;
      }),
    );
    if (!podUid) {
      for (const key of this.inspectCache.keys()) if (!seen.has(key)) this.inspectCache.delete(key);
    }
    return out.filter((c): c is RuntimeContainer => c !== undefined);
  }

  private async inspect(id: string): Promise<RuntimeContainer | undefined> {
    let info: Dockerode.ContainerInspectInfo;
    try {
      info = await this.docker.getContainer(id).inspect();
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
    const labels = info.Config.Labels ?? {};
    const state = mapState(info.State.Status);
    const sandbox = labels[L.LABEL_DOCKER_TYPE] === L.TYPE_SANDBOX;
    const hostNetwork = labels[L.LABEL_SKIFF_HOST_NETWORK] === 'true';
    let ip: string | undefined;
    if (sandbox) {
      const nets = info.NetworkSettings.Networks ?? {};
      ip = hostNetwork ? undefined : nets[this.opts.networkName]?.IPAddress || undefined;
    }
    const exitCode = state === 'exited' ? info.State.ExitCode : undefined;
    let reason: string | undefined;
    if (state === 'exited') reason = info.State.OOMKilled ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error';
    const message = state === 'exited' && !sandbox ? await this.terminationMessageOf(info, exitCode, reason) : undefined;
    return {
      id: info.Id,
      name: labels[L.LABEL_CONTAINER_NAME] ?? '',
      podUid: labels[L.LABEL_POD_UID] ?? '',
      podName: labels[L.LABEL_POD_NAME] ?? '',
      podNamespace: labels[L.LABEL_POD_NAMESPACE] ?? '',
      attempt: Number(labels[L.LABEL_SKIFF_ATTEMPT] ?? labels[L.LABEL_RESTART_COUNT] ?? 0),
      state,
      createdAt: new Date(info.Created),
      startedAt: dockerTime(info.State.StartedAt),
      finishedAt: state === 'exited' ? dockerTime(info.State.FinishedAt) : undefined,
      exitCode,
      reason,
      ...(message ? { message } : {}),
      image: labels[L.LABEL_SKIFF_IMAGE] ?? info.Config.Image,
      imageRef: info.Image,
      specHash: labels[L.LABEL_CONTAINER_HASH] ?? '',
      ip,
      hostNetwork,
      init: labels[L.LABEL_SKIFF_INIT] === 'true',
      ...(labels[L.LABEL_SKIFF_EPHEMERAL] === 'true' ? { ephemeral: true } : {}),
    };
  }

  /**
   * An exited container's termination message: the host file mounted at its terminationMessagePath (the path is in
   * its labels), or its last log lines under FallbackToLogsOnError. Read once per exited instance (inspect results
   * are cached by state), while the container and the pod's directory exist.
   */
  private async terminationMessageOf(info: Dockerode.ContainerInspectInfo, exitCode: number | undefined, reason: string | undefined): Promise<string> {
    const labels = info.Config.Labels ?? {};
    const path = labels[L.LABEL_TERMINATION_MESSAGE_PATH];
    const fallback = fallsBackToLogs(labels[L.LABEL_TERMINATION_MESSAGE_POLICY], exitCode, reason);
    let file: Buffer | undefined;
    const source = path ? info.Mounts?.find((m) => m.Destination === path)?.Source : undefined;
    if (source) {
      try {
        file = await readFile(source);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return `Error on reading termination log ${source}: ${(err as Error).message}`;
      }
    }
    return terminationMessage(file, fallback, async (tail) => {
      const buf = await this.docker.getContainer(info.Id).logs({ stdout: true, stderr: true, follow: false, tail });
      return info.Config.Tty ? buf : demuxBuffer(buf);
    });
  }

  watchChanges(onChange: (podUid: string) => void, onReconnect?: () => void): () => void {
    let stopped = false;
    let lost = false;
    let stream: NodeJS.ReadableStream | undefined;
    let retry: NodeJS.Timeout | undefined;
    const connect = (): void => {
      if (stopped) return;
      this.docker.getEvents({ filters: { type: ['container'], label: [`${L.LABEL_SKIFF_NODE}=${this.opts.nodeName}`] } }, (err, s) => {
        if (stopped) {
          (s as unknown as { destroy?: () => void } | undefined)?.destroy?.();
          return;
        }
        if (err || !s) {
          // dockerd is away: the relist loop notices that too; try again shortly.
          lost = true;
          retry = setTimeout(connect, 1000);
          return;
        }
        stream = s;
        if (lost) {
          lost = false;
          onReconnect?.();
        }
        let buffered = '';
        s.on('data', (chunk: Buffer) => {
          buffered += chunk.toString('utf8');
          let nl: number;
          while ((nl = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, nl);
            buffered = buffered.slice(nl + 1);
            try {
              const e = JSON.parse(line) as { Actor?: { Attributes?: Record<string, string> } };
              const uid = e.Actor?.Attributes?.[L.LABEL_POD_UID];
              if (uid) onChange(uid);
            } catch {
              // A partial or foreign line: the relist covers anything missed.
            }
          }
        });
        const again = (): void => {
          lost = true;
          if (!stopped) retry = setTimeout(connect, 1000);
        };
        s.on('end', again);
        s.on('error', again);
      });
    };
    connect();
    return () => {
      stopped = true;
      clearTimeout(retry);
      (stream as unknown as { destroy?: () => void } | undefined)?.destroy?.();
    };
  }

  async hasImage(image: string): Promise<boolean> {
    try {
      await this.docker.getImage(image).inspect();
      return true;
    } catch (err) {
      if (statusOf(err) === 404) return false;
      throw err;
    }
  }

  async imageUser(image: string): Promise<string> {
    const info = await this.docker.getImage(image).inspect();
    return info.Config?.User ?? '';
  }

  async pullImage(image: string, auth?: RegistryAuth): Promise<void> {
    const stream = await this.docker.pull(image, auth ? { authconfig: auth } : {});
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve()));
    });
  }

  private podLabels(pod: Pod): Record<string, string> {
    return {
      [L.LABEL_POD_NAME]: pod.metadata.name ?? '',
      [L.LABEL_POD_NAMESPACE]: pod.metadata.namespace,
      [L.LABEL_POD_UID]: pod.metadata.uid ?? '',
      [L.LABEL_SKIFF_NODE]: this.opts.nodeName,
      [L.LABEL_SKIFF_POD_SOURCE]: pod.metadata.annotations?.['kubernetes.io/config.source'] ?? 'api',
      [L.LABEL_GRACE_PERIOD]: String(pod.spec.terminationGracePeriodSeconds),
    };
  }

  /** Creates with a name; a leftover of the same name (a crash between create and record) is removed first. */
  private async createNamed(options: Dockerode.ContainerCreateOptions): Promise<string> {
    try {
      return (await this.docker.createContainer(options)).id;
    } catch (err) {
      if (statusOf(err) !== 409 || !options.name) throw err;
      this.opts.logger.warn({ name: options.name }, 'removing a stale container with the same name');
      await this.docker.getContainer(options.name).remove({ force: true, v: true });
      return (await this.docker.createContainer(options)).id;
    }
  }

  async createSandbox(pod: Pod, attempt: number): Promise<string> {
    const hostNetwork = pod.spec.hostNetwork === true;
    const sysctls = sandboxSysctls(pod);
    const portBindings: Record<string, Array<{ HostPort: string; HostIp?: string }>> = {};
    const exposed: Record<string, Record<string, never>> = {};
    if (!hostNetwork) {
      for (const c of pod.spec.containers) {
        for (const p of c.ports ?? []) {
          if (!p.hostPort) continue;
          const key = `${p.containerPort}/${(p.protocol ?? 'TCP').toLowerCase()}`;
          exposed[key] = {};
          (portBindings[key] ??= []).push({ HostPort: String(p.hostPort), ...(p.hostIP ? { HostIp: p.hostIP } : {}) });
        }
      }
    }
    const id = await this.createNamed({
      name: L.sandboxName(pod.metadata.name ?? '', pod.metadata.namespace, pod.metadata.uid ?? '', attempt),
      Image: this.opts.pauseImage,
      Hostname: hostNetwork ? undefined : (pod.spec.hostname ?? pod.metadata.name),
      Labels: {
        ...this.podLabels(pod),
        [L.LABEL_DOCKER_TYPE]: L.TYPE_SANDBOX,
        [L.LABEL_CONTAINER_NAME]: L.SANDBOX_CONTAINER_NAME,
        [L.LABEL_SKIFF_ATTEMPT]: String(attempt),
        [L.LABEL_SKIFF_HOST_NETWORK]: String(hostNetwork),
      },
      ExposedPorts: exposed,
      HostConfig: {
        NetworkMode: hostNetwork ? 'host' : this.opts.networkName,
        // The sandbox holds the namespaces its containers join: the host's when the pod asks for them.
        IpcMode: pod.spec.hostIPC === true ? 'host' : 'shareable',
        ...(pod.spec.hostPID === true ? { PidMode: 'host' } : {}),
        PortBindings: portBindings,
        // spec.hostAliases: Docker writes them into the sandbox's /etc/hosts, the file every app container of the pod
        // shares through the sandbox's network namespace (also on the host network, where it is a copy of the node's).
        ...(hostAliasEntries(pod).length > 0 ? { ExtraHosts: hostAliasEntries(pod) } : {}),
        RestartPolicy: { Name: 'no' },
        // The pod's sysctls go on the sandbox, whose network and IPC namespaces its containers join.
        ...(sysctls ? { Sysctls: sysctls } : {}),
      },
    });
    try {
      await this.docker.getContainer(id).start();
    } catch (err) {
      // A sandbox that never started is of no use and would linger in "created": remove it, the next sync retries.
      await this.removeContainer(id).catch(() => undefined);
      throw err;
    }
    return id;
  }

  async createContainer(
    pod: Pod,
    container: Container,
    opts: CreateContainerOptions,
  ): Promise<string> {
    const binds: string[] = [];
    for (const m of container.volumeMounts ?? []) {
      const vol = opts.mounts.volumes.get(m.name);
      if (!vol) throw new Error(`volume "${m.name}" is not prepared`);
      const source = m.subPath ? `${vol.hostPath}/${m.subPath}` : vol.hostPath;
      binds.push(`${source}:${m.mountPath}${m.readOnly ? ':ro' : ''}`);
    }
    if (opts.mounts.etcHosts && !pod.spec.hostNetwork) binds.push(`${opts.mounts.etcHosts}:/etc/hosts`);
    if (opts.terminationMessageFile && container.terminationMessagePath) binds.push(`${opts.terminationMessageFile}:${container.terminationMessagePath}`);
    // The pod's resolver follows its dnsPolicy (every container of the pod shares the one file, as dockershim's).
    if (opts.mounts.resolvConf) binds.push(`${opts.mounts.resolvConf}:/etc/resolv.conf`);
    const sandbox = `container:${opts.sandboxId}`;
    const security = dockerSecurity(container, pod, this.opts.seccompProfileRoot, this.opts.seccompDefault);
    if (security.seccompProfilePath) {
      const path = security.seccompProfilePath;
      const content = await readFile(path, 'utf8').catch((err: unknown) => {
        throw new SecurityConfigError(`cannot load seccomp profile ${JSON.stringify(path)}: ${err instanceof Error ? err.message : String(err)}`);
      });
      security.hostConfig.SecurityOpt = [...(security.hostConfig.SecurityOpt ?? []), seccompOptFromFile(path, content)];
    }
    const options: Dockerode.ContainerCreateOptions = {
      name: L.containerName(container.name, pod.metadata.name ?? '', pod.metadata.namespace, pod.metadata.uid ?? '', opts.attempt),
      Image: container.image,
      Entrypoint: container.command && container.command.length > 0 ? container.command : undefined,
      Cmd: container.args && container.args.length > 0 ? container.args : undefined,
      Env: (opts.env ?? []).map((e) => `${e.name}=${e.value}`),
      WorkingDir: container.workingDir || undefined,
      Tty: container.tty ?? false,
      OpenStdin: container.stdin ?? false,
      StdinOnce: container.stdinOnce ?? false,
      User: security.groupForImageUser !== undefined ? userWithGroup(await this.imageUser(container.image), security.groupForImageUser) : security.user,
      Labels: {
        ...this.podLabels(pod),
        [L.LABEL_DOCKER_TYPE]: L.TYPE_CONTAINER,
        [L.LABEL_CONTAINER_NAME]: container.name,
        [L.LABEL_SANDBOX_ID]: opts.sandboxId,
        [L.LABEL_CONTAINER_HASH]: opts.specHash,
        [L.LABEL_RESTART_COUNT]: String(opts.attempt),
        [L.LABEL_SKIFF_ATTEMPT]: String(opts.attempt),
        [L.LABEL_SKIFF_INIT]: String(opts.init),
        ...(opts.ephemeral ? { [L.LABEL_SKIFF_EPHEMERAL]: 'true' } : {}),
        [L.LABEL_SKIFF_IMAGE]: container.image,
        ...(container.terminationMessagePath ? { [L.LABEL_TERMINATION_MESSAGE_PATH]: container.terminationMessagePath } : {}),
        ...(container.terminationMessagePolicy ? { [L.LABEL_TERMINATION_MESSAGE_POLICY]: container.terminationMessagePolicy } : {}),
      },
      HostConfig: {
        NetworkMode: sandbox,
        IpcMode: sandbox,
        ...pidMode(pod, sandbox, opts.pidTargetId),
        Binds: binds,
        RestartPolicy: { Name: 'no' },
        ...dockerResources(container),
        ...security.hostConfig,
      },
    };
    return this.createNamed(options);
  }

  async startContainer(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).start();
    } catch (err) {
      if (statusOf(err) === 304) return;
      throw err;
    }
  }

  async stopContainer(id: string, graceSeconds: number): Promise<void> {
    try {
      await this.docker.getContainer(id).stop({ t: Math.max(0, Math.floor(graceSeconds)) });
    } catch (err) {
      const code = statusOf(err);
      if (code === 304 || code === 404) return;
      throw err;
    }
  }

  async removeContainer(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (err) {
      const code = statusOf(err);
      // 409: removal already in progress; 404: already gone.
      if (code === 404 || code === 409) return;
      throw err;
    }
  }

  async exec(containerId: string, cmd: string[], timeoutMs: number): Promise<ExecResult> {
    const exec = await this.docker.getContainer(containerId).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const sink = new PassThrough();
    const chunks: Buffer[] = [];
    sink.on('data', (c: Buffer) => chunks.push(c));
    this.docker.modem.demuxStream(stream, sink, sink);
    let timer: NodeJS.Timeout | undefined;
    const finished = new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', resolve);
    });
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([finished, timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      stream.destroy();
      throw new Error(`command timed out after ${timeoutMs}ms`);
    }
    const info = await exec.inspect();
    return { exitCode: info.ExitCode ?? -1, output: Buffer.concat(chunks).toString('utf8') };
  }

  async logs(containerId: string, opts: LogOptions): Promise<Readable> {
    const container = this.docker.getContainer(containerId);
    const info = await container.inspect();
    const base = {
      stdout: true,
      stderr: true,
      timestamps: opts.timestamps ?? false,
      ...(opts.tailLines !== undefined ? { tail: opts.tailLines } : {}),
      ...(opts.sinceSeconds !== undefined ? { since: Math.floor(Date.now() / 1000) - opts.sinceSeconds } : {}),
    };
    const out = new PassThrough();
    if (opts.follow) {
      const stream = await container.logs({ ...base, follow: true });
      if (info.Config.Tty) stream.pipe(out);
      else {
        this.docker.modem.demuxStream(stream, out, out);
        stream.on('end', () => out.end());
        stream.on('error', (e) => out.destroy(e));
      }
      out.on('close', () => (stream as Readable).destroy());
      return out;
    }
    const buf = await container.logs({ ...base, follow: false });
    if (info.Config.Tty) {
      out.end(buf);
      return out;
    }
    out.end(demuxBuffer(buf));
    return out;
  }
}

/**
 * spec.hostAliases as Docker's ExtraHosts ("host:ip"): one entry per IP with its hostnames tab-separated, so that the
 * line Docker writes ("<ip>\t<host>\t<host>") is the one upstream's kubelet writes for it.
 */
export function hostAliasEntries(pod: Pod): string[] {
  return (pod.spec.hostAliases ?? []).filter((a) => a.ip && (a.hostnames ?? []).length > 0).map((a) => `${(a.hostnames ?? []).join('\t')}:${a.ip}`);
}

/** Docker's multiplexed log format: 8-byte header (stream, 0, 0, 0, size32be) before each frame. */
export function demuxBuffer(buf: Buffer): Buffer {
  const parts: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const size = buf.readUInt32BE(i + 4);
    parts.push(buf.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  return Buffer.concat(parts);
}
