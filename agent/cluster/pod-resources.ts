import type { Pod } from '../../control/api/index.js';
import type { KubeClient } from '../../control/client/index.js';
import type { Logger } from '../../lib/log.js';
import type { EventRecorder } from '../events.js';
import type { EnvContext } from '../kuberuntime/env.js';
import { podTokenProjections } from '../kuberuntime/volume-payload.js';
import { refreshPodVolumes, type VolumeObjects } from '../kuberuntime/volumes.js';
import { podPullSecrets, type PodPullSecrets, type PullSecret } from '../kuberuntime/pull-secrets.js';
import { ReferencedObjects } from './objects.js';
import { ServiceEnv } from './services.js';
import { clientTokenRequester, ServiceAccountTokenManager, type RequestToken } from './token-manager.js';

export interface PodResourcesOptions {
  client: KubeClient;
  logger: Logger;
  rootDir: string;
  /** Pods to sync again because something they use changed. */
  resync(podUids: string[]): void;
  /** Where the kubelet's warnings about a pod go (skipped envFrom keys). */
  events(): EventRecorder;
  syncTimeoutMs?: number;
  /** The TokenRequest API (tests pass a fake); default: through the client. */
  requestToken?: RequestToken;
}

const fromApi = (pod: Pod): boolean => pod.metadata.annotations?.['kubernetes.io/config.source'] === 'api';

/** A pod's token projection as the per-pod results are keyed: audience and lifetime. */
const projectionKey = (p: { audience?: string; expirationSeconds: number }): string => `${p.audience ?? ''}|${p.expirationSeconds}`;

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
  readonly tokens: ServiceAccountTokenManager;
  /** Per pod, the token (or why there is none) for each of its token projections, as of its last preparation. */
  private readonly podTokens = new Map<string, Map<string, { token: string } | { error: string }>>();

  constructor(private readonly opts: PodResourcesOptions) {
    this.tokens = new ServiceAccountTokenManager({ request: opts.requestToken ?? clientTokenRequester(opts.client), logger: opts.logger });
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

  /**
   * Before each sync of an API pod: watch what it references, get (or refresh) its service account tokens, and bring
   * its mounted ConfigMaps, Secrets, downward API files and projected tokens up to date. Periodic resyncs make this
   * the kubelet's periodic remount, so tokens are rewritten before they expire.
   */
  async preparePod(pod: Pod): Promise<void> {
    if (!fromApi(pod)) return;
    await Promise.all([this.objects.registerPod(pod), this.services.waitForSync(this.opts.syncTimeoutMs), this.prepareTokens(pod)]);
    const updated = await refreshPodVolumes(this.opts.rootDir, pod, this.volumeObjects(pod) as VolumeObjects);
    if (updated.length > 0) this.opts.logger.info({ pod: `${pod.metadata.namespace}/${pod.metadata.name}`, volumes: updated }, 'updated mounted volumes');
  }

  /** Fetches through the token manager every token the pod's projected volumes ask for. */
  private async prepareTokens(pod: Pod): Promise<void> {
    const uid = pod.metadata.uid ?? '';
    const projections = podTokenProjections(pod);
    if (projections.length === 0) {
      this.podTokens.delete(uid);
      return;
    }
    this.tokens.cleanup();
    const serviceAccount = pod.spec.serviceAccountName || 'default';
    const results = new Map<string, { token: string } | { error: string }>();
    await Promise.all(
      projections.map(async (p) => {
        try {
          const token = await this.tokens.get(pod.metadata.namespace, serviceAccount, {
            ...(p.audience ? { audiences: [p.audience] } : {}),
            expirationSeconds: p.expirationSeconds,
            boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name ?? '', uid },
          });
          results.set(projectionKey(p), { token });
        } catch (err) {
          const error = err instanceof Error ? err.message : String(err);
          this.opts.logger.warn({ pod: `${pod.metadata.namespace}/${pod.metadata.name}`, serviceAccount, err: error }, 'cannot get a service account token');
          results.set(projectionKey(p), { error });
        }
      }),
    );
    this.podTokens.set(uid, results);
  }

  podGone(uid: string): void {
    this.objects.unregisterPod(uid);
    this.tokens.deletePod(uid);
    this.podTokens.delete(uid);
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

  /** The pod's imagePullSecrets as last seen by their watches; one not (yet) seen counts as unreadable. */
  pullSecrets(pod: Pod): PodPullSecrets | undefined {
    if (!fromApi(pod)) return undefined;
    return podPullSecrets(pod, (namespace, name) => this.objects.get('secrets', namespace, name) as PullSecret | undefined);
  }

  volumeObjects(pod: Pod): VolumeObjects | undefined {
    if (!fromApi(pod)) return undefined;
    return {
      configMap: (namespace, name) => this.objects.get('configmaps', namespace, name) as ReturnType<VolumeObjects['configMap']>,
      secret: (namespace, name) => this.objects.get('secrets', namespace, name) as ReturnType<VolumeObjects['secret']>,
      serviceAccountToken: (p, projection) => {
        const result = this.podTokens.get(p.metadata.uid ?? '')?.get(projectionKey(projection));
        if (!result) throw new Error('failed to fetch token: not requested yet');
        if ('error' in result) throw new Error(result.error);
        return result.token;
      },
    };
  }
}
