import type { Readable } from 'node:stream';
import type { Container, Pod } from '../../control/api/index.js';

/** The container's state as the runtime reports it (upstream's ContainerState in kubecontainer). */
export type RuntimeContainerState = 'created' | 'running' | 'exited' | 'unknown';

/** One container the runtime has for a pod: the sandbox (name "POD") or an app/init container. */
export interface RuntimeContainer {
  id: string;
  /** The pod's container name, or "POD" for the sandbox. */
  name: string;
  podUid: string;
  podName: string;
  podNamespace: string;
  /** Restart count for app containers; creation attempt for sandboxes. */
  attempt: number;
  state: RuntimeContainerState;
  createdAt: Date;
  startedAt?: Date;
  finishedAt?: Date;
  exitCode?: number;
  /** "OOMKilled", "Error", "Completed" for exited containers. */
  reason?: string;
  /**
   * For exited containers: the termination message, what the container wrote to its terminationMessagePath (or, with
   * FallbackToLogsOnError after a failure, its last log lines); absent when empty.
   */
  message?: string;
  /** The image as the pod spec names it. */
  image: string;
  /** The image's ID (docker-pullable://... or sha256:...). */
  imageRef: string;
  /** Hash of the container spec it was created from: a changed spec means the container must be replaced. */
  specHash: string;
  /** For sandboxes: the pod IP on the pod network (or the host IP for hostNetwork pods). */
  ip?: string;
  /** For sandboxes: whether the pod uses the host network. */
  hostNetwork?: boolean;
  /** Whether this is an init container. */
  init?: boolean;
  /** Whether this is an ephemeral container (kubectl debug). */
  ephemeral?: boolean;
}

/** How a container is to be created, beyond its spec. */
export interface CreateContainerOptions {
  sandboxId: string;
  attempt: number;
  init: boolean;
  mounts: PodMounts;
  specHash: string;
  env?: Array<{ name: string; value: string }>;
  ephemeral?: boolean;
  /** The running container whose PID namespace this one joins (an ephemeral container's targetContainerName). */
  pidTargetId?: string;
  /** Host file bind-mounted at the container's terminationMessagePath, read back once the container has exited. */
  terminationMessageFile?: string;
}

export interface ExecResult {
  exitCode: number;
  output: string;
}

export interface LogOptions {
  tailLines?: number;
  follow?: boolean;
  timestamps?: boolean;
  sinceSeconds?: number;
}

/** Credentials for one registry, as Docker's X-Registry-Auth carries them (dockerode's `authconfig`). */
export interface RegistryAuth {
  username?: string;
  password?: string;
  email?: string;
  /** The registry host, e.g. `registry.example.com:5000`. */
  serveraddress?: string;
}

/** What the pod's data directory and volumes look like on the host, prepared before containers start. */
export interface PodMounts {
  /** Volume name → host path, bind-mounted (a memory-backed emptyDir is a tmpfs the agent mounted there). */
  volumes: Map<string, { hostPath: string }>;
  /** Host path of /etc/hosts written for the pod. */
  etcHosts?: string;
  /** Host path of /etc/resolv.conf written for the pod (its dnsPolicy); unset: the runtime's own. */
  resolvConf?: string;
}

/**
 * The container runtime as the agent sees it. The Docker implementation lives in agent/runtime/docker.ts; unit tests
 * use a fake. Every call is safe to retry.
 */
export interface ContainerRuntime {
  /** Every sandbox and container this node manages (or one pod's), running or not. */
  listPodContainers(podUid?: string): Promise<RuntimeContainer[]>;
  /** The runtime's version, e.g. "docker://20.10.24". */
  version(): Promise<string>;
  /** True when the image is present locally. */
  hasImage(image: string): Promise<boolean>;
  /** The user the image runs as (its Config.User: "", "1000", "nobody", "1000:1000" ...), for the runAsNonRoot check. */
  imageUser(image: string): Promise<string>;
  /** Pulls the image, with registry credentials when given (an imagePullSecrets entry matching its registry). */
  pullImage(image: string, auth?: RegistryAuth): Promise<void>;
  createSandbox(pod: Pod, attempt: number): Promise<string>;
  createContainer(pod: Pod, container: Container, opts: CreateContainerOptions): Promise<string>;
  startContainer(id: string): Promise<void>;
  /** SIGTERM (or the image's stop signal), then SIGKILL after graceSeconds. */
  stopContainer(id: string, graceSeconds: number): Promise<void>;
  removeContainer(id: string): Promise<void>;
  exec(containerId: string, cmd: string[], timeoutMs: number): Promise<ExecResult>;
  logs(containerId: string, opts: LogOptions): Promise<Readable>;
  /**
   * Calls `onChange` with a pod's UID whenever one of its containers changes state (start, die, destroy ...), so the
   * agent hears of changes at once instead of only at the next relist; `onReconnect` after the runtime came back
   * from being unreachable (a dockerd restart). Returns the function that stops watching.
   */
  watchChanges?(onChange: (podUid: string) => void, onReconnect?: () => void): () => void;
}
