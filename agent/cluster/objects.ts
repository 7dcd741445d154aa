import type { Pod } from '../../control/api/index.js';
import { Informer, type KubeClient, type KubeObject } from '../../control/client/index.js';
import type { Logger } from '../../lib/log.js';

export type ObjectKind = 'configmaps' | 'secrets';

const REFS: Record<ObjectKind, { group: string; version: string; resource: ObjectKind }> = {
  configmaps: { group: '', version: 'v1', resource: 'configmaps' },
  secrets: { group: '', version: 'v1', resource: 'secrets' },
};

/**
 * The ConfigMaps and Secrets a pod uses (env, envFrom, configMap/secret/projected volumes, imagePullSecrets), as
 * kind/name pairs.
 */
export function podObjectRefs(pod: Pod): Array<{ kind: ObjectKind; name: string }> {
  const out = new Map<string, { kind: ObjectKind; name: string }>();
  const add = (kind: ObjectKind, name: string | undefined): void => {
    if (name) out.set(`${kind}/${name}`, { kind, name });
  };
  for (const c of [...pod.spec.initContainers, ...pod.spec.containers, ...(pod.spec.ephemeralContainers ?? [])]) {
    for (const e of c.env ?? []) {
      add('configmaps', e.valueFrom?.configMapKeyRef?.name);
      add('secrets', e.valueFrom?.secretKeyRef?.name);
    }
    for (const e of c.envFrom ?? []) {
      add('configmaps', e.configMapRef?.name);
      add('secrets', e.secretRef?.name);
    }
  }
  for (const s of pod.spec.imagePullSecrets ?? []) add('secrets', s.name);
  for (const v of pod.spec.volumes ?? []) {
    add('configmaps', v.configMap?.name);
    add('secrets', v.secret?.secretName);
    for (const src of (v.projected?.sources ?? []) as Array<{ configMap?: { name?: string }; secret?: { name?: string } }>) {
      add('configmaps', src.configMap?.name);
      add('secrets', src.secret?.name);
    }
  }
  return [...out.values()];
}

interface Watch {
  informer: Informer;
  pods: Set<string>;
}

export interface ReferencedObjectsOptions {
  client: KubeClient;
  logger: Logger;
  /** An object some pods use was added, changed or deleted: these pods need a sync. */
  onChange(podUids: string[], kind: ObjectKind, namespace: string, name: string): void;
  /** How long a sync waits for a new watch's first list before going on without it. */
  syncTimeoutMs?: number;
}

/**
 * The kubelet's watch-based ConfigMap/Secret managers: one watch per object that a pod on this node references
 * (list+watch with fieldSelector metadata.name=<name> in the pod's namespace, what the Node authorizer allows a
 * node to read), kept while some pod on the node uses it and stopped when the last one goes. Each change re-syncs
 * the pods that use the object, so a pod waiting for a missing ConfigMap starts when it appears and mounted files
 * follow updates.
 */
export class ReferencedObjects {
  private readonly watches = new Map<string, Watch>();
  private readonly podKeys = new Map<string, Set<string>>();

  constructor(private readonly opts: ReferencedObjectsOptions) {}

  private static key(kind: ObjectKind, namespace: string, name: string): string {
    return `${kind}/${namespace}/${name}`;
  }

  /** Makes sure the pod's objects are watched (and its stale ones released); waits for new watches' first list. */
  async registerPod(pod: Pod): Promise<void> {
    const uid = pod.metadata.uid ?? '';
    const ns = pod.metadata.namespace;
    const wanted = new Set(podObjectRefs(pod).map((r) => ReferencedObjects.key(r.kind, ns, r.name)));
    const had = this.podKeys.get(uid) ?? new Set<string>();
    for (const key of had) if (!wanted.has(key)) this.release(key, uid);
    const pending: Informer[] = [];
    for (const key of wanted) {
      let w = this.watches.get(key);
      if (!w) {
        const [kind, namespace, name] = key.split('/') as [ObjectKind, string, string];
        w = { informer: this.startWatch(kind, namespace, name), pods: new Set() };
        this.watches.set(key, w);
      }
      w.pods.add(uid);
      if (!w.informer.hasSynced()) pending.push(w.informer);
    }
    if (wanted.size > 0) this.podKeys.set(uid, wanted);
    else this.podKeys.delete(uid);
    if (pending.length > 0) await this.waitSynced(pending);
  }

  /** The pod is gone from the node: drop its interest in every object. */
  unregisterPod(uid: string): void {
    for (const key of this.podKeys.get(uid) ?? []) this.release(key, uid);
    this.podKeys.delete(uid);
  }

  /** The object as last seen, or undefined when it does not exist (or is not watched yet). */
  get(kind: ObjectKind, namespace: string, name: string): KubeObject | undefined {
    return this.watches.get(ReferencedObjects.key(kind, namespace, name))?.informer.get(`${namespace}/${name}`);
  }

  /** How many objects are watched now (for tests and metrics). */
  get watchCount(): number {
    return this.watches.size;
  }

  stop(): void {
    for (const w of this.watches.values()) w.informer.stop();
    this.watches.clear();
    this.podKeys.clear();
  }

  private release(key: string, uid: string): void {
    const w = this.watches.get(key);
    if (!w) return;
    w.pods.delete(uid);
    if (w.pods.size === 0) {
      w.informer.stop();
      this.watches.delete(key);
    }
  }

  private startWatch(kind: ObjectKind, namespace: string, name: string): Informer {
    const informer = new Informer(this.opts.client, REFS[kind], {
      namespace,
      fieldSelector: `metadata.name=${name}`,
      onError: (err) => this.opts.logger.warn({ err: err.message, object: `${kind}/${namespace}/${name}` }, 'watch failed; relisting'),
    });
    const changed = (): void => {
      const w = this.watches.get(ReferencedObjects.key(kind, namespace, name));
      if (w && w.pods.size > 0) this.opts.onChange([...w.pods], kind, namespace, name);
    };
    informer.addHandlers({ onAdd: changed, onUpdate: changed, onDelete: changed });
    informer.start();
    return informer;
  }

  private async waitSynced(informers: Informer[]): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.opts.syncTimeoutMs ?? 5000);
      timer.unref?.();
    });
    await Promise.race([Promise.all(informers.map((i) => i.waitForSync())), timeout]);
    clearTimeout(timer);
  }
}
