import { parsePod, type Pod } from '../../control/api/index.js';
import { Informer, type KubeClient, type KubeObject } from '../../control/client/index.js';
import type { Logger } from '../../lib/log.js';
import type { PodSource, SourceError, SourceListener } from '../config/types.js';

const PODS = { group: '', version: 'v1', resource: 'pods' };

/** Marks a pod in the API as the mirror of a static pod; its value is the static pod's config hash. */
export const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

/** What the agent acts on in an API pod: all of it but the status and the metadata that every write changes. */
export function podIntent(obj: KubeObject): KubeObject {
  const { status: _status, ...rest } = obj;
  const { resourceVersion: _rv, managedFields: _mf, ...metadata } = obj.metadata;
  return { ...rest, metadata };
}

type Decoded = { pod: Pod } | { error: SourceError };

/**
 * The API pods decoded (defaults, validation) for the agent and kept between pushes: a pod is decoded again only
 * when its intent (podIntent) changed, so that the status updates of a burst of pods cost neither a decode of every
 * pod nor a new desired set, which would sync every pod again.
 */
export class ApiPodDecoder {
  private readonly entries = new Map<string, { resourceVersion: string; intent: string; decoded: Decoded }>();
  private decodedOnce = false;

  /** The set to push, in the order given; `changed` is false when it is the same as the previous call's. */
  decode(objs: KubeObject[]): { pods: Pod[]; errors: SourceError[]; changed: boolean } {
    const pods: Pod[] = [];
    const errors: SourceError[] = [];
    const seen = new Set<string>();
    // The first set is news even when empty: it tells that the API source has answered.
    let changed = !this.decodedOnce;
    this.decodedOnce = true;
    for (const obj of objs) {
      const key = obj.metadata.uid || `${obj.metadata.namespace}/${obj.metadata.name}`;
      seen.add(key);
      const resourceVersion = obj.metadata.resourceVersion ?? '';
      let entry = this.entries.get(key);
      // The same version of the object is the same pod: no need to look into it (every event lists every pod).
      if (!entry || !resourceVersion || entry.resourceVersion !== resourceVersion) {
        const intent = podIntent(obj);
        const text = JSON.stringify(intent);
        if (entry?.intent !== text) {
          entry = { resourceVersion, intent: text, decoded: decodeApiPod(intent) };
          changed = true;
        } else {
          entry = { ...entry, resourceVersion };
        }
        this.entries.set(key, entry);
      }
      if ('pod' in entry.decoded) pods.push(entry.decoded.pod);
      else errors.push(entry.decoded.error);
    }
    for (const key of [...this.entries.keys()]) {
      if (seen.has(key)) continue;
      this.entries.delete(key);
      changed = true;
    }
    return { pods, errors, changed };
  }
}

function decodeApiPod(obj: KubeObject): Decoded {
  const parsed = parsePod({ ...obj, apiVersion: 'v1', kind: 'Pod' });
  if (!parsed.ok) {
    return { error: { origin: `api pod ${obj.metadata.namespace}/${obj.metadata.name}`, message: `pod "${obj.metadata.name}" cannot run: ${parsed.errors.map((e) => e.field).join(', ')}` } };
  }
  const pod = parsed.pod;
  pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), 'kubernetes.io/config.source': 'api' };
  return { pod };
}

/**
 * The API server as a pod source (the kubelet's "api" source): the pods bound to this node, watched through an
 * informer with fieldSelector spec.nodeName=<node>. Every change pushes the complete set, like the other sources.
 */
export class ApiPodSource implements PodSource {
  readonly name = 'api';
  private readonly informer: Informer;
  private readonly decoder = new ApiPodDecoder();

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
    const decoded = this.decoder.decode(this.informer.list().filter((obj) => !obj.metadata.annotations?.[MIRROR_ANNOTATION]));
    // Status writes (the agent's own, mostly) change nothing the agent acts on: no new set to merge and sync.
    if (!decoded.changed) return;
    this.opts.onUpdate({ source: this.name, pods: decoded.pods, errors: decoded.errors, origins: decoded.pods.map((p) => `api pod ${p.metadata.namespace}/${p.metadata.name}`) });
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
