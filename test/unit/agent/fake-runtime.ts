import { Readable } from 'node:stream';
import type { Container, Pod } from '../../../control/api/index.js';
import type { ContainerRuntime, CreateContainerOptions, ExecResult, LogOptions, PodMounts, RegistryAuth, RuntimeContainer } from '../../../agent/runtime/runtime.js';

/** What a test can make the next call of a method do. */
type Method = keyof ContainerRuntime;

/** Extra bookkeeping the fake keeps beside each container. */
interface FakeContainer extends RuntimeContainer {
  sandboxId?: string;
  env?: Array<{ name: string; value: string }>;
  command?: string[];
  args?: string[];
  mounts?: PodMounts;
  /** The container whose PID namespace this one joined (an ephemeral container's target). */
  pidTargetId?: string;
  logs: string[];
}

/**
 * An in-memory ContainerRuntime: containers with Docker-like states, images, exec answers, and switches to make calls
 * fail (Docker down). Every list returns copies, so callers cannot mutate the fake's state behind its back.
 */
export class FakeRuntime implements ContainerRuntime {
  readonly containers = new Map<string, FakeContainer>();
  readonly images = new Set<string>();
  /** Images' configured users (Config.User); unset: none, i.e. root. */
  readonly imageUsers = new Map<string, string>();
  /** Every call, in order: `method:arg`. */
  readonly calls: string[] = [];
  /** When set, every call fails as if the daemon were unreachable. */
  down = false;
  /** Images whose pull fails. */
  readonly badImages = new Set<string>();
  /** Images in a private registry: the pull needs these credentials ("user:password"). */
  readonly privateImages = new Map<string, string>();
  /** The credentials each pull was given, in order. */
  readonly pullAuths: Array<{ image: string; auth?: RegistryAuth }> = [];
  /** One-shot failures: the next call of the method throws this error. */
  private readonly failNextCall = new Map<Method, Error>();
  /** Exec answers by container name (of the pod's container), default exit 0. */
  readonly execResults = new Map<string, ExecResult>();
  private seq = 0;
  private ipSeq = 1;

  constructor(
    private readonly now: () => number = Date.now,
    pauseImage = 'skiff/pause:3.10',
  ) {
    this.images.add(pauseImage);
  }

  failNext(method: Method, err = new Error(`${method} failed`)): void {
    this.failNextCall.set(method, err);
  }

  /** While set, stopContainer waits for it: a container slow to stop within its grace period. */
  holdStops: Promise<void> | undefined;

  private enter(method: Method, arg = ''): void {
    this.calls.push(arg ? `${method}:${arg}` : method);
    if (this.down) throw new Error('Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?');
    const err = this.failNextCall.get(method);
    if (err) {
      this.failNextCall.delete(method);
      throw err;
    }
  }

  /** Adds a container directly (a leftover from an earlier agent, or a fixture). */
  add(c: Partial<RuntimeContainer> & Pick<RuntimeContainer, 'name' | 'podUid'>): string {
    const id = c.id ?? this.newId();
    this.containers.set(id, {
      id,
      podName: 'p',
      podNamespace: 'default',
      attempt: 0,
      state: 'running',
      createdAt: new Date(this.now()),
      image: 'img',
      imageRef: 'sha256:img',
      specHash: '',
      logs: [],
      ...c,
    });
    return id;
  }

  private newId(): string {
    this.seq++;
    return `c${String(this.seq).padStart(4, '0')}${'0'.repeat(60)}`.slice(0, 64);
  }

  /** The newest instance of a pod's container by name (sandbox: "POD"). */
  latest(podUid: string, name: string): FakeContainer | undefined {
    return [...this.containers.values()]
      .filter((c) => c.podUid === podUid && c.name === name)
      .sort((a, b) => b.attempt - a.attempt || b.createdAt.getTime() - a.createdAt.getTime())[0];
  }

  /** Makes a running container exit with a code, as if its process ended. */
  exit(id: string, exitCode: number, reason?: string): void {
    const c = this.containers.get(id);
    if (!c) throw new Error(`no container ${id}`);
    c.state = 'exited';
    c.exitCode = exitCode;
    c.reason = reason ?? (exitCode === 0 ? 'Completed' : 'Error');
    c.finishedAt = new Date(this.now());
  }

  byPod(podUid: string): FakeContainer[] {
    return [...this.containers.values()].filter((c) => c.podUid === podUid);
  }

  async listPodContainers(podUid?: string): Promise<RuntimeContainer[]> {
    this.enter('listPodContainers', podUid);
    return [...this.containers.values()]
      .filter((c) => podUid === undefined || c.podUid === podUid)
      .map((c) => {
        const { sandboxId: _s, env: _e, command: _c, args: _a, mounts: _m, pidTargetId: _p, logs: _l, ...rc } = c;
        return structuredClone(rc);
      });
  }

  async version(): Promise<string> {
    this.enter('version');
    return 'fake://1.0.0';
  }

  async hasImage(image: string): Promise<boolean> {
    this.enter('hasImage', image);
    return this.images.has(image);
  }

  async imageUser(image: string): Promise<string> {
    this.enter('imageUser', image);
    if (!this.images.has(image)) throw new Error(`No such image: ${image}`);
    return this.imageUsers.get(image) ?? '';
  }

  async pullImage(image: string, auth?: RegistryAuth): Promise<void> {
    this.enter('pullImage', image);
    this.pullAuths.push({ image, ...(auth ? { auth } : {}) });
    if (this.badImages.has(image)) throw new Error(`pull access denied for ${image}`);
    const needs = this.privateImages.get(image);
    if (needs !== undefined && `${auth?.username}:${auth?.password}` !== needs) throw new Error(`unauthorized: authentication required for ${image}`);
    this.images.add(image);
  }

  async createSandbox(pod: Pod, attempt: number): Promise<string> {
    this.enter('createSandbox', pod.metadata.uid);
    const id = this.newId();
    const t = new Date(this.now());
    this.containers.set(id, {
      id,
      name: 'POD',
      podUid: pod.metadata.uid ?? '',
      podName: pod.metadata.name ?? '',
      podNamespace: pod.metadata.namespace,
      attempt,
      state: 'running',
      createdAt: t,
      startedAt: t,
      image: 'skiff/pause:3.10',
      imageRef: 'sha256:pause',
      specHash: '',
      hostNetwork: pod.spec.hostNetwork,
      ...(pod.spec.hostNetwork ? {} : { ip: `10.88.0.${++this.ipSeq}` }),
      logs: [],
    });
    return id;
  }

  async createContainer(
    pod: Pod,
    container: Container,
    opts: CreateContainerOptions,
  ): Promise<string> {
    this.enter('createContainer', container.name);
    if (!this.images.has(container.image)) throw new Error(`No such image: ${container.image}`);
    const id = this.newId();
    this.containers.set(id, {
      id,
      name: container.name,
      podUid: pod.metadata.uid ?? '',
      podName: pod.metadata.name ?? '',
      podNamespace: pod.metadata.namespace,
      attempt: opts.attempt,
      state: 'created',
      createdAt: new Date(this.now()),
      image: container.image,
      imageRef: `docker-pullable://${container.image.split(':')[0]}@sha256:${'ab'.repeat(32)}`,
      specHash: opts.specHash,
      init: opts.init,
      ...(opts.ephemeral ? { ephemeral: true } : {}),
      ...(opts.pidTargetId ? { pidTargetId: opts.pidTargetId } : {}),
      sandboxId: opts.sandboxId,
      ...(opts.env ? { env: opts.env } : {}),
      ...(container.command ? { command: container.command } : {}),
      ...(container.args ? { args: container.args } : {}),
      mounts: opts.mounts,
      logs: [],
    });
    return id;
  }

  async startContainer(id: string): Promise<void> {
    this.enter('startContainer', id);
    const c = this.containers.get(id);
    if (!c) throw new Error(`No such container: ${id}`);
    c.state = 'running';
    c.startedAt = new Date(this.now());
  }

  async stopContainer(id: string, graceSeconds: number): Promise<void> {
    this.enter('stopContainer', `${id}:${graceSeconds}`);
    await this.holdStops;
    const c = this.containers.get(id);
    if (!c) return;
    if (c.state === 'running' || c.state === 'created') {
      const wasRunning = c.state === 'running';
      c.state = 'exited';
      c.exitCode = wasRunning ? 137 : 128;
      c.reason = 'Error';
      c.finishedAt = new Date(this.now());
    }
  }

  async removeContainer(id: string): Promise<void> {
    this.enter('removeContainer', id);
    this.containers.delete(id);
  }

  async exec(containerId: string, cmd: string[], _timeoutMs: number): Promise<ExecResult> {
    this.enter('exec', `${containerId}:${cmd.join(' ')}`);
    const c = this.containers.get(containerId);
    if (!c || c.state !== 'running') throw new Error(`container ${containerId} is not running`);
    return this.execResults.get(c.name) ?? { exitCode: 0, output: '' };
  }

  async logs(containerId: string, _opts: LogOptions): Promise<Readable> {
    this.enter('logs', containerId);
    const c = this.containers.get(containerId);
    if (!c) throw new Error(`No such container: ${containerId}`);
    return Readable.from(c.logs.map((l) => `${l}\n`));
  }
}
