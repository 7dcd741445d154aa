import { ApiStatusError, type Informer, type KubeObject } from '../client/index.js';
import { Controller, type ControllerContext, type SyncResult } from './controller.js';
import { R, type Namespace } from './objects.js';

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
const DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

const CONFIGMAPS = { group: '', version: 'v1', resource: 'configmaps' };

/** The ConfigMap every namespace should hold; what an existing one lacks, if anything. Pure. */
export function desiredRootCaConfigMap(namespace: string, caPem: string, existing: ConfigMap | undefined): ConfigMap | undefined {
  const want = { 'ca.crt': caPem };
  if (existing && existing.data?.['ca.crt'] === caPem && existing.metadata.annotations?.['kubernetes.io/description'] === DESCRIPTION) return undefined;
  return {
    ...(existing ?? {}),
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { ...(existing?.metadata ?? {}), name: ROOT_CA_CONFIGMAP, namespace, annotations: { ...(existing?.metadata.annotations ?? {}), 'kubernetes.io/description': DESCRIPTION } },
    data: want,
  };
}

/**
 * upstream's root-ca-cert-publisher: keeps a kube-root-ca.crt ConfigMap with the cluster CA in every namespace, so
 * that pods (through their kube-api-access volume) can verify the API server.
 */
export class RootCaCertPublisher extends Controller {
  private readonly namespaces: Informer<Namespace>;
  private readonly configMaps: Informer<ConfigMap>;

  constructor(
    ctx: ControllerContext,
    private readonly caPem: string,
  ) {
    super('root-ca-cert-publisher', ctx);
    this.namespaces = this.watch<Namespace>(R.namespaces);
    this.configMaps = this.watch<ConfigMap>(CONFIGMAPS);
    this.namespaces.addHandlers({ onAdd: (n) => this.queue.add(n.metadata.name ?? ''), onUpdate: (_o, n) => this.queue.add(n.metadata.name ?? '') });
    const mine = (c: ConfigMap): void => {
      if (c.metadata.name === ROOT_CA_CONFIGMAP) this.queue.add(c.metadata.namespace ?? '');
    };
    this.configMaps.addHandlers({ onUpdate: (_o, c) => mine(c), onDelete: mine });
  }

  protected async sync(namespace: string): Promise<SyncResult> {
    const ns = this.namespaces.get(namespace);
    if (!ns || ns.metadata.deletionTimestamp || ns.status?.phase === 'Terminating') return;
    const existing = this.configMaps.get(`${namespace}/${ROOT_CA_CONFIGMAP}`);
    const desired = desiredRootCaConfigMap(namespace, this.caPem, existing);
    if (!desired) return;
    try {
      if (existing) await this.client.update(CONFIGMAPS, desired);
      else await this.client.create(CONFIGMAPS, namespace, desired);
    } catch (err) {
      // The namespace began terminating, or the cache lagged behind a create: the next event sets it right.
      if (err instanceof ApiStatusError && (err.code === 403 || err.code === 404 || err.code === 409)) return;
      throw err;
    }
  }
}
