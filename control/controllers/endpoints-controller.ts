import { hasStatusCode, type Informer } from '../client/index.js';
import { Controller, type ControllerContext, type SyncResult } from './controller.js';
import { endpointsLabels, endpointSubsets, MANAGED_BY, MANAGED_BY_LABEL, reconcileEndpointSlices, selectedPods, SERVICE_NAME_LABEL, type EndpointSlice, type EndpointSubset } from './endpoints.js';
import { jsonEqual, keyOf, R, sameStored, splitKey, type Obj, type Pod, type Service } from './objects.js';
import { matchesLabels, selectorFromSpec } from '../api/selectors.js';

interface EndpointsObj extends Obj {
  subsets?: EndpointSubset[];
}

/** Services whose selector matches the pod now or matched it before a change. */
function servicesForPod(services: Informer<Service>, pod: Pod, old?: Pod): string[] {
  const keys: string[] = [];
  for (const svc of services.list()) {
    if (svc.metadata.namespace !== pod.metadata.namespace || !svc.spec?.selector || Object.keys(svc.spec.selector).length === 0) continue;
    const reqs = selectorFromSpec({ matchLabels: svc.spec.selector });
    if (reqs === 'nothing') continue;
    if (matchesLabels(reqs, pod.metadata.labels) || (old && matchesLabels(reqs, old.metadata.labels))) keys.push(keyOf(svc));
  }
  return keys;
}

/** Pod changes that can change an endpoint: anything but a status heartbeat. */
function podMatters(old: Pod, pod: Pod): boolean {
  if (old.metadata.resourceVersion === pod.metadata.resourceVersion) return false;
  const view = (p: Pod) => ({
    labels: p.metadata.labels,
    ip: p.status?.podIP,
    ready: p.status?.conditions?.find((c) => c.type === 'Ready')?.status,
    phase: p.status?.phase,
    node: p.spec?.nodeName,
    deleting: !!p.metadata.deletionTimestamp,
    hostname: p.spec?.hostname,
    subdomain: p.spec?.subdomain,
  });
  return !jsonEqual(view(old), view(pod));
}

abstract class ServicePodController extends Controller {
  protected readonly services: Informer<Service>;
  protected readonly pods: Informer<Pod>;

  constructor(name: string, ctx: ControllerContext) {
    super(name, ctx);
    this.services = this.watch<Service>(R.services);
    this.pods = this.watch<Pod>(R.pods);
    this.services.addHandlers({
      onAdd: (s) => this.queue.add(keyOf(s)),
      onUpdate: (_o, s) => this.queue.add(keyOf(s)),
      onDelete: (s) => this.queue.add(keyOf(s)),
    });
    this.pods.addHandlers({
      onAdd: (p) => servicesForPod(this.services, p).forEach((k) => this.queue.add(k)),
      onUpdate: (o, p) => {
        if (podMatters(o, p)) servicesForPod(this.services, p, o).forEach((k) => this.queue.add(k));
      },
      onDelete: (p) => servicesForPod(this.services, p).forEach((k) => this.queue.add(k)),
    });
  }
}

/** upstream's EndpointsController: one Endpoints object per service with a selector, named after it. */
export class EndpointsController extends ServicePodController {
  private readonly endpoints: Informer<EndpointsObj>;

  constructor(ctx: ControllerContext) {
    super('endpoint', ctx);
    this.endpoints = this.watch<EndpointsObj>(R.endpoints);
    // Someone deleted or edited the Endpoints of a service we manage: put them back.
    this.endpoints.addHandlers({
      onDelete: (e) => {
        if (this.services.get(keyOf(e))) this.queue.add(keyOf(e));
      },
      onUpdate: (_o, e) => {
        if (this.services.get(keyOf(e))) this.queue.add(keyOf(e));
      },
    });
  }

  protected async sync(key: string): Promise<SyncResult> {
    const { namespace, name } = splitKey(key);
    const svc = this.services.get(key);
    if (!svc) {
      // The service is gone: so are its endpoints.
      try {
        await this.client.delete(R.endpoints, namespace, name);
      } catch (err) {
        if (!hasStatusCode(err, 404)) throw err;
      }
      return;
    }
    const pods = selectedPods(svc, this.pods.list());
    if (!pods) return;
    const subsets = endpointSubsets(svc, pods);
    const labels = endpointsLabels(svc);
    const current = this.endpoints.get(key);
    if (current && sameStored(current.subsets ?? [], subsets) && jsonEqual(current.metadata.labels ?? {}, labels)) return;
    const body: EndpointsObj = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace, labels }, subsets };
    if (!current) {
      try {
        await this.client.create(R.endpoints, namespace, body);
        return;
      } catch (err) {
        if (!hasStatusCode(err, 409)) throw err;
        const live = await this.client.get<EndpointsObj>(R.endpoints, namespace, name);
        await this.client.update(R.endpoints, { ...live, metadata: { ...live.metadata, labels }, subsets });
        return;
      }
    }
    await this.client.update(R.endpoints, { ...current, metadata: { ...current.metadata, labels }, subsets });
  }
}

/** upstream's EndpointSliceController: the slices of each service with a selector, owned by the service. */
export class EndpointSliceController extends ServicePodController {
  private readonly slices: Informer<EndpointSlice & Obj>;
  /**
   * What this controller last wrote per service (slice name → resourceVersion, or 'deleted'), as upstream's
   * EndpointSliceTracker: a sync waits until the cache shows those writes, or it would create the same slices twice.
   */
  private readonly written = new Map<string, Map<string, string>>();
  private readonly writtenAt = new Map<string, number>();

  constructor(ctx: ControllerContext) {
    super('endpointslice', ctx);
    this.slices = this.watch<EndpointSlice & Obj>(R.endpointslices);
    const wake = (s: EndpointSlice): void => {
      const svcName = s.metadata.labels?.[SERVICE_NAME_LABEL];
      if (svcName && s.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY) this.queue.add(`${s.metadata.namespace}/${svcName}`);
    };
    this.slices.addHandlers({ onUpdate: (_o, s) => wake(s), onDelete: wake });
  }

  protected async sync(key: string): Promise<SyncResult> {
    const { namespace, name } = splitKey(key);
    const svc = this.services.get(key);
    // A deleted service's slices go with it through their owner reference (the garbage collector).
    if (!svc || svc.metadata.deletionTimestamp) return;
    const pods = selectedPods(svc, this.pods.list());
    if (!pods) return;
    if (this.stale(key, namespace)) return { requeueAfterMs: 25 };
    const existing = this.slices
      .list()
      .filter((s) => s.metadata.namespace === namespace && s.metadata.labels?.[SERVICE_NAME_LABEL] === name && s.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY);
    const changes = reconcileEndpointSlices(svc, pods, existing);
    const written = new Map<string, string>();
    this.written.set(key, written);
    this.writtenAt.set(key, Date.now());
    for (const n of changes.delete) {
      try {
        await this.client.delete(R.endpointslices, namespace, n);
      } catch (err) {
        if (!hasStatusCode(err, 404)) throw err;
      }
      written.set(n, 'deleted');
    }
    for (const s of changes.update) {
      const out = await this.client.update(R.endpointslices, s as EndpointSlice & Obj);
      written.set(out.metadata.name ?? '', out.metadata.resourceVersion ?? '');
    }
    for (const s of changes.create) {
      const out = await this.client.create(R.endpointslices, namespace, s as EndpointSlice & Obj);
      written.set(out.metadata.name ?? '', out.metadata.resourceVersion ?? '');
    }
  }

  private stale(key: string, namespace: string | undefined): boolean {
    const written = this.written.get(key);
    if (!written) return false;
    // A write the cache never shows (someone else changed the slice meanwhile) stops counting after a while.
    if (Date.now() - (this.writtenAt.get(key) ?? 0) > 5000) {
      this.written.delete(key);
      return false;
    }
    for (const [name, rv] of written) {
      const cached = this.slices.get(`${namespace}/${name}`);
      const seen = rv === 'deleted' ? !cached : !!cached && Number(cached.metadata.resourceVersion) >= Number(rv);
      if (seen) written.delete(name);
    }
    if (written.size === 0) this.written.delete(key);
    return written.size > 0;
  }
}
