import type { Pod } from '../../control/api/index.js';
import type { KubeClient } from '../../control/client/index.js';
import type { Logger } from '../../lib/log.js';
import type { EventRecorder } from '../events.js';
import type { EnvContext } from '../kuberuntime/env.js';
import { refreshObjectVolumes, type VolumeObjects } from '../kuberuntime/volumes.js';
import { ReferencedObjects } from './objects.js';
import { ServiceEnv } from './services.js';

export interface PodResourcesOptions {
  client: KubeClient;
  logger: Logger;
  rootDir: string;
  /** Pods to sync again because something they use changed. */
  resync(podUids: string[]): void;
  /** Where the kubelet's warnings about a pod go (skipped envFrom keys). */
  events(): EventRecorder;
  syncTimeoutMs?: number;
}

const fromApi = (pod: Pod): boolean => pod.metadata.annotations?.['kubernetes.io/config.source'] === 'api';

const decode = (data: Record<string, string> | undefined): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
  return out;
};

/**
 * What pods from the API server get from it besides their spec: ConfigMap and Secret data for env, envFrom and
 * volumes (watched per referenced object, see ReferencedObjects) and the service variables (one informer on all
 * services). Static pods are left as before: they cannot reference API objects.
 */
export class PodResources {
  readonly objects: ReferencedObjects;
  readonly services: ServiceEnv;

  constructor(private readonly opts: PodResourcesOptions) {
    this.objects = new ReferencedObjects({
      client: opts.client,
      logger: opts.logger,
      onChange: (uids, kind, namespace, name) => {
        opts.logger.debug?.({ object: `${kind}/${namespace}/${name}`, pods: uids.length }, 'referenced object changed');
        opts.resync(uids);
      },
      ...(opts.syncTimeoutMs !== undefined ? { syncTimeoutMs: opts.syncTimeoutMs } : {}),
    });
    this.services = new ServiceEnv(opts.client, opts.logger);
  }

  start(): void {
    this.services.start();
  }

  stop(): void {
    this.services.stop();
    this.objects.stop();
  }

  /** Before each sync of an API pod: watch what it references, and bring its mounted ConfigMaps/Secrets up to date. */
  async preparePod(pod: Pod): Promise<void> {
    if (!fromApi(pod)) return;
    await Promise.all([this.objects.registerPod(pod), this.services.waitForSync(this.opts.syncTimeoutMs)]);
    const updated = await refreshObjectVolumes(this.opts.rootDir, pod, this.volumeObjects(pod) as VolumeObjects);
    if (updated.length > 0) this.opts.logger.info({ pod: `${pod.metadata.namespace}/${pod.metadata.name}`, volumes: updated }, 'updated mounted configmap/secret volumes');
  }

  podGone(uid: string): void {
    this.objects.unregisterPod(uid);
  }

  envExtras(pod: Pod): Omit<EnvContext, 'pod' | 'podIP' | 'hostIP'> {
    if (!fromApi(pod)) return {};
    const ns = pod.metadata.namespace;
    return {
      serviceEnv: this.services.envFor(ns, pod.spec.enableServiceLinks !== false),
      configMap: (namespace, name) => {
        const cm = this.objects.get('configmaps', namespace, name) as { data?: Record<string, string> } | undefined;
        return cm ? { ...(cm.data ?? {}) } : undefined;
      },
      secret: (namespace, name) => {
        const s = this.objects.get('secrets', namespace, name) as { data?: Record<string, string> } | undefined;
        return s ? decode(s.data) : undefined;
      },
      invalidEnvFromKeys: (kind, name, keys) => {
        this.opts
          .events()
          .event(pod, 'Warning', 'InvalidEnvironmentVariableNames', `Keys [${keys.join(', ')}] from the EnvFrom ${kind} ${ns}/${name} were skipped since they are considered invalid environment variable names.`);
      },
    };
  }

  volumeObjects(pod: Pod): VolumeObjects | undefined {
    if (!fromApi(pod)) return undefined;
    return {
      configMap: (namespace, name) => this.objects.get('configmaps', namespace, name) as ReturnType<VolumeObjects['configMap']>,
      secret: (namespace, name) => this.objects.get('secrets', namespace, name) as ReturnType<VolumeObjects['secret']>,
    };
  }
}
