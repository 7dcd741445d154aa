import type { Pod, PodStatus } from '../../control/api/index.js';
import { ApiStatusError, type KubeClient, type KubeObject } from '../../control/client/index.js';
import type { Logger } from '../../lib/log.js';
import { MIRROR_ANNOTATION, type ApiPodSource } from './api-source.js';

const PODS = { group: '', version: 'v1', resource: 'pods' };
const HASH = 'kubernetes.io/config.hash';

/**
 * Mirror pods: every static pod this node runs has a copy in the API (annotated kubernetes.io/config.mirror with
 * its config hash) so `kubectl get pods` shows it; a mirror deleted by someone is created again, a mirror whose static
 * pod changed or went away is replaced or removed. Level-triggered: each sync compares the whole sets.
 */
export class MirrorPods {
  private running = false;
  private again = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly source: ApiPodSource,
    private readonly nodeName: string,
    private readonly staticPods: () => Pod[],
    private readonly logger: Logger,
    /** Called after a mirror was created, so the pod's status gets written onto it. */
    private readonly onCreated: (pod: Pod) => void = () => undefined,
  ) {}

  start(periodMs = 10_000): void {
    this.source.onChange(() => this.sync());
    this.timer = setInterval(() => this.sync(), periodMs);
    this.timer.unref();
    this.sync();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Runs one reconciliation, folding requests that arrive meanwhile into one more. */
  sync(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.reconcile()
      .catch((err: unknown) => this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'mirror pod sync failed'))
      .finally(() => {
        this.running = false;
        if (this.again) {
          this.again = false;
          this.sync();
        }
      });
  }

  private async reconcile(): Promise<void> {
    const mirrors = this.source.mirrors();
    const wanted = new Map(this.staticPods().map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, p]));
    for (const [key, mirror] of mirrors) {
      const pod = wanted.get(key);
      if (pod && mirror.metadata.annotations?.[MIRROR_ANNOTATION] === pod.metadata.annotations?.[HASH] && !mirror.metadata.deletionTimestamp) continue;
      await this.deleteMirror(mirror);
    }
    for (const [key, pod] of wanted) {
      const existing = mirrors.get(key);
      if (existing && existing.metadata.annotations?.[MIRROR_ANNOTATION] === pod.metadata.annotations?.[HASH]) continue;
      await this.createMirror(pod);
    }
  }

  private async createMirror(pod: Pod): Promise<void> {
    const annotations = { ...(pod.metadata.annotations ?? {}), [MIRROR_ANNOTATION]: pod.metadata.annotations?.[HASH] ?? '' };
    const mirror: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: pod.metadata.name,
        namespace: pod.metadata.namespace,
        ...(pod.metadata.labels ? { labels: pod.metadata.labels } : {}),
        annotations,
      },
      spec: { ...pod.spec, nodeName: this.nodeName },
    };
    try {
      await this.client.create(PODS, pod.metadata.namespace, mirror);
      this.logger.info({ pod: `${pod.metadata.namespace}/${pod.metadata.name}` }, 'created mirror pod');
      this.onCreated(pod);
    } catch (err) {
      // A conflict means it exists (made by an earlier sync that raced this one): the next sync compares again.
      if (!(err instanceof ApiStatusError && err.code === 409)) throw err;
    }
  }

  private async deleteMirror(mirror: KubeObject): Promise<void> {
    try {
      await this.client.delete(PODS, mirror.metadata.namespace, mirror.metadata.name ?? '', { gracePeriodSeconds: 0, preconditions: { uid: mirror.metadata.uid ?? '' } });
    } catch (err) {
      if (!(err instanceof ApiStatusError && (err.code === 404 || err.code === 409))) throw err;
    }
  }

  /** The mirror pod of this static pod as the watch has it, if it is the mirror of the pod's current config. */
  mirrorOf(pod: Pod): KubeObject | undefined {
    const mirror = this.source.mirrors().get(`${pod.metadata.namespace}/${pod.metadata.name}`);
    return mirror && mirror.metadata.annotations?.[MIRROR_ANNOTATION] === pod.metadata.annotations?.[HASH] ? mirror : undefined;
  }

  /** Writes a static pod's status onto its mirror pod, returning the updated mirror; undefined while there is none. */
  async reportStatus(pod: Pod, status: PodStatus): Promise<KubeObject | undefined> {
    if (!this.mirrorOf(pod)) return undefined;
    try {
      return await this.client.patch(PODS, pod.metadata.namespace, pod.metadata.name ?? '', { status }, 'merge', 'status');
    } catch (err) {
      if (err instanceof ApiStatusError && err.code === 404) return undefined;
      throw err;
    }
  }
}
