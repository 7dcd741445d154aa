import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EphemeralContainer, formatFieldError, parsePod, type Container, type Pod } from '../../../../control/api/index.js';
import { containerSpecHash } from '../../../../agent/kuberuntime/hash.js';
import type { RuntimeContainer } from '../../../../agent/runtime/runtime.js';
import { computePodActions, type ActionInputs, type PodActions } from '../../../../agent/kuberuntime/actions.js';
import { Backoff, DEFAULT_CRASHLOOP_BACKOFF } from '../../../../agent/kuberuntime/backoff.js';
import { PodSyncer, type PodSyncerDeps } from '../../../../agent/kuberuntime/sync.js';
import { MemoryEventRecorder } from '../../../../agent/events.js';
import { FakeRuntime } from '../fake-runtime.js';
import { silentLogger } from '../../../../lib/log.js';
import { generatePodStatus, type StatusInputs } from '../../../../agent/status/generate.js';
import type { PodStatus } from '../../../../control/api/index.js';

export const NOW = Date.parse('2026-01-01T12:00:00Z');
export const UID = 'uid-1';

/** A pod through parsePod, so every default applies (restartPolicy Always, imagePullPolicy, requests from limits ...). */
export function makePod(spec: Record<string, unknown>, meta: Record<string, unknown> = {}): Pod {
  const r = parsePod({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', uid: UID, ...meta }, spec });
  if (!r.ok) throw new Error(`invalid test pod:\n${r.errors.map(formatFieldError).join('\n')}`);
  return r.pod;
}

/**
 * The pod as its ephemeralcontainers subresource leaves it: the same pod (UID) with these ephemeral containers added.
 * Added after parsing, as the API server adds them to a pod that exists, so create-time validation never sees them.
 */
export function withEphemeral(pod: Pod, ...containers: Array<Record<string, unknown>>): Pod {
  const out = structuredClone(pod);
  out.spec.ephemeralContainers = [...(pod.spec.ephemeralContainers ?? []), ...containers.map((x) => EphemeralContainer.parse(x))];
  return out;
}

export const c = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ name, image: 'busybox:1.36', ...extra });

let seq = 0;
const nextId = (): string => `id${++seq}`;

/** A running sandbox with a pod IP. */
export function sandbox(o: Partial<RuntimeContainer> = {}): RuntimeContainer {
  return {
    id: nextId(),
    name: 'POD',
    podUid: UID,
    podName: 'web',
    podNamespace: 'default',
    attempt: 0,
    state: 'running',
    createdAt: new Date(NOW - 60_000),
    startedAt: new Date(NOW - 60_000),
    image: 'skiff/pause:3.10',
    imageRef: 'sha256:pause',
    specHash: '',
    ip: '10.88.0.7',
    ...o,
  };
}

function specOf(pod: Pod, name: string): Container | undefined {
  return [...pod.spec.containers, ...pod.spec.initContainers, ...(pod.spec.ephemeralContainers ?? [])].find((x) => x.name === name);
}

/** A container instance whose spec hash matches the pod's container of that name. */
export function ctr(pod: Pod, name: string, o: Partial<RuntimeContainer> = {}): RuntimeContainer {
  const spec = specOf(pod, name);
  const init = pod.spec.initContainers.some((x) => x.name === name);
  const ephemeral = (pod.spec.ephemeralContainers ?? []).some((x) => x.name === name);
  const attempt = o.attempt ?? 0;
  return {
    id: nextId(),
    name,
    podUid: UID,
    podName: 'web',
    podNamespace: 'default',
    attempt,
    state: 'running',
    createdAt: new Date(NOW - 50_000 + attempt * 1000),
    startedAt: new Date(NOW - 50_000 + attempt * 1000),
    image: spec?.image ?? 'busybox:1.36',
    imageRef: 'docker-pullable://busybox@sha256:1234',
    specHash: spec ? containerSpecHash(spec) : '',
    ...(init ? { init: true } : {}),
    ...(ephemeral ? { ephemeral: true } : {}),
    ...o,
  };
}

export function exited(pod: Pod, name: string, exitCode: number, o: Partial<RuntimeContainer> = {}): RuntimeContainer {
  const attempt = o.attempt ?? 0;
  return ctr(pod, name, {
    state: 'exited',
    exitCode,
    reason: exitCode === 0 ? 'Completed' : 'Error',
    finishedAt: new Date(NOW - 40_000 + attempt * 1000),
    ...o,
  });
}

/** computePodActions with every probe passing and no back-off, unless `over` says otherwise. */
export function compute(pod: Pod, runtime: RuntimeContainer[], over: Partial<ActionInputs> = {}): PodActions {
  return computePodActions({
    pod,
    runtime,
    now: NOW,
    backoffRemaining: () => 0,
    backoffDelay: () => 0,
    liveness: () => 'success',
    startup: () => 'success',
    ...over,
  });
}

/** generatePodStatus with every container ready and started, unless `over` says otherwise. */
export function status(pod: Pod, runtime: RuntimeContainer[], over: Partial<StatusInputs> = {}): PodStatus {
  return generatePodStatus({
    pod,
    runtime,
    ready: () => true,
    started: () => true,
    waiting: new Map(),
    hostIP: '192.168.1.10',
    now: new Date(NOW),
    ...over,
  });
}

/**
 * A PodSyncer for tests: the given runtime, directory, events and time, with the pause image, the default back-offs,
 * probes that have no verdict and a silent logger unless `deps` says otherwise.
 */
/** A PodSyncer on a FakeRuntime with these images, a fresh root dir, and one clock (`clock.now`) that a test moves. */
export interface SyncRig {
  root: string;
  clock: { now: number };
  runtime: FakeRuntime;
  events: MemoryEventRecorder;
  syncer: PodSyncer;
}

export async function syncRig(dirPrefix: string, start: number, images: readonly string[]): Promise<SyncRig> {
  const root = await mkdtemp(join(tmpdir(), dirPrefix));
  const clock = { now: start };
  const runtime = new FakeRuntime(() => clock.now);
  for (const image of images) runtime.images.add(image);
  const events = new MemoryEventRecorder('node1', silentLogger(), () => new Date(clock.now));
  const syncer = testSyncer({ runtime, rootDir: root, events, now: () => clock.now });
  return { root, clock, runtime, events, syncer };
}

export function testSyncer(deps: Pick<PodSyncerDeps, 'runtime' | 'rootDir' | 'events' | 'now'> & Partial<PodSyncerDeps>): PodSyncer {
  return new PodSyncer({
    pauseImage: 'skiff/pause:3.10',
    crashBackoff: new Backoff(DEFAULT_CRASHLOOP_BACKOFF),
    pullBackoff: new Backoff(DEFAULT_CRASHLOOP_BACKOFF),
    probes: { result: () => 'unknown' },
    logger: silentLogger(),
    ...deps,
  });
}
