import { Informer, type KubeClient, type KubeObject } from '../../control/client/index.js';
import type { Logger } from '../../lib/log.js';

const SERVICES = { group: '', version: 'v1', resource: 'services' };

interface ServicePort {
  name?: string;
  port?: number;
  protocol?: string;
}

export interface ServiceLike extends KubeObject {
  spec?: { clusterIP?: string; ports?: ServicePort[] };
}

const envName = (s: string): string => s.replace(/-/g, '_').toUpperCase();

const isIPSet = (svc: ServiceLike): boolean => {
  const ip = svc.spec?.clusterIP ?? '';
  return ip !== '' && ip !== 'None';
};

const joinHostPort = (host: string, port: number): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/** Upstream's envvars.FromServices: FOO_SERVICE_HOST/PORT, named ports, and the Docker-link FOO_PORT_80_TCP... set. */
export function serviceEnvVars(services: ServiceLike[]): Array<{ name: string; value: string }> {
  const out: Array<{ name: string; value: string }> = [];
  for (const svc of services) {
    if (!isIPSet(svc)) continue;
    const ports = svc.spec?.ports ?? [];
    const ip = svc.spec?.clusterIP as string;
    const prefix = envName(svc.metadata.name ?? '');
    out.push({ name: `${prefix}_SERVICE_HOST`, value: ip });
    if (ports.length === 0) continue;
    const portVar = `${prefix}_SERVICE_PORT`;
    out.push({ name: portVar, value: String(ports[0]?.port ?? 0) });
    for (const p of ports) if (p.name) out.push({ name: `${portVar}_${envName(p.name)}`, value: String(p.port ?? 0) });
    ports.forEach((p, i) => {
      const protocol = p.protocol || 'TCP';
      const port = p.port ?? 0;
      const url = `${protocol.toLowerCase()}://${joinHostPort(ip, port)}`;
      if (i === 0) out.push({ name: `${prefix}_PORT`, value: url });
      const pp = `${prefix}_PORT_${port}_${protocol.toUpperCase()}`;
      out.push({ name: pp, value: url }, { name: `${pp}_PROTO`, value: protocol.toLowerCase() }, { name: `${pp}_PORT`, value: String(port) }, { name: `${pp}_ADDR`, value: ip });
    });
  }
  return out;
}

/**
 * The services a pod's environment describes, as the kubelet's getServiceEnvVarMap picks them: the `kubernetes`
 * service of the default namespace always, and with enableServiceLinks every other service of the pod's namespace.
 * Sorted by name, so a pod's environment does not depend on the informer's order.
 */
export function servicesForPod(all: ServiceLike[], namespace: string, enableServiceLinks: boolean): ServiceLike[] {
  const picked = new Map<string, ServiceLike>();
  for (const svc of all) {
    if (!isIPSet(svc)) continue;
    const name = svc.metadata.name ?? '';
    if (svc.metadata.namespace === 'default' && name === 'kubernetes') {
      if (!picked.has(name)) picked.set(name, svc);
    } else if (svc.metadata.namespace === namespace && enableServiceLinks) {
      picked.set(name, svc);
    }
  }
  return [...picked.values()].sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
}

/** Every Service in the cluster through one informer (the kubelet's service lister), for pods' service variables. */
export class ServiceEnv {
  private readonly informer: Informer<ServiceLike>;

  constructor(client: KubeClient, logger: Logger) {
    this.informer = new Informer<ServiceLike>(client, SERVICES, {
      onError: (err) => logger.warn({ err: err.message }, 'service watch failed; relisting'),
    });
  }

  start(): void {
    this.informer.start();
  }

  stop(): void {
    this.informer.stop();
  }

  hasSynced(): boolean {
    return this.informer.hasSynced();
  }

  /** Waits for the first list, at most timeoutMs (a pod started before then gets the services known so far). */
  async waitForSync(timeoutMs = 5000): Promise<void> {
    if (this.informer.hasSynced()) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.informer.waitForSync(), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }

  envFor(namespace: string, enableServiceLinks: boolean): Array<{ name: string; value: string }> {
    return serviceEnvVars(servicesForPod(this.informer.list(), namespace, enableServiceLinks));
  }
}
