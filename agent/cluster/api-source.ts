import { parsePod, type Pod } from '../../control/api/index.js';
import { Informer, type KubeClient, type KubeObject } from '../../control/client/index.js';
import type { Logger } from '../../lib/log.js';
import type { PodSource, SourceError, SourceListener } from '../config/types.js';

const PODS = { group: '', version: 'v1', resource: 'pods' };

/** Marks a pod in the API as the mirror of a static pod; its value is the static pod's config hash. */
export const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

/**
 * The API server as a pod source (the kubelet's "api" source): the pods bound to this node, watched through an
 * informer with fieldSelector spec.nodeName=<node>. Every change pushes the complete set, like the other sources.
 */
export class ApiPodSource implements PodSource {
  readonly name = 'api';
  private readonly informer: Informer;

  constructor(
    private readonly opts: { client: KubeClient; nodeName: string; logger: Logger; onUpdate: SourceListener },
  ) {
    this.informer = new Informer(opts.client, PODS, {
      fieldSelector: `spec.nodeName=${opts.nodeName}`,
      onError: (err) => opts.logger.warn({ err: err.message }, 'pod watch failed; relisting'),
    });
    const push = (): void => this.push();
    this.informer.addHandlers({ onAdd: push, onUpdate: push, onDelete: push });
  }

  private push(): void {
    if (!this.informer.hasSynced()) return;
    const pods: Pod[] = [];
    const errors: SourceError[] = [];
    for (const obj of this.informer.list()) {
      // Mirror pods stand for this node's static pods in the API; running them would run those pods twice.
      if (obj.metadata.annotations?.[MIRROR_ANNOTATION]) continue;
      const parsed = parsePod({ ...obj, apiVersion: 'v1', kind: 'Pod' });
      const origin = `api pod ${obj.metadata.namespace}/${obj.metadata.name}`;
      if (!parsed.ok) {
        errors.push({ origin, message: `pod "${obj.metadata.name}" cannot run: ${parsed.errors.map((e) => e.field).join(', ')}` });
        continue;
      }
      const pod = parsed.pod;
      pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), 'kubernetes.io/config.source': 'api' };
      pods.push(pod);
    }
    this.opts.onUpdate({ source: this.name, pods, errors, origins: pods.map((p) => `api pod ${p.metadata.namespace}/${p.metadata.name}`) });
  }

  async start(): Promise<void> {
    this.informer.start();
    await this.informer.waitForSync();
    this.push();
  }

  async stop(): Promise<void> {
    this.informer.stop();
  }

  hasSynced(): boolean {
    return this.informer.hasSynced();
  }

  /** The mirror pods of this node in the API, keyed namespace/name. */
  mirrors(): Map<string, KubeObject> {
    const out = new Map<string, KubeObject>();
    for (const obj of this.informer.list()) if (obj.metadata.annotations?.[MIRROR_ANNOTATION]) out.set(`${obj.metadata.namespace}/${obj.metadata.name}`, obj);
    return out;
  }

  /** Calls `fn` whenever the pods bound to this node change (mirror pods included). */
  onChange(fn: () => void): void {
    this.informer.addHandlers({ onAdd: fn, onUpdate: fn, onDelete: fn });
  }

  /** The pod as the API server has it now (for status updates and final deletion). */
  current(namespace: string, name: string): KubeObject | undefined {
    return this.informer.get(`${namespace}/${name}`);
  }
}
