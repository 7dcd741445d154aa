import { ApiStatusError, type KubeClient, type KubeObject } from '../client.js';
import type { LeaderElectionRecord } from './record.js';
import type { LeaseLock } from './elector.js';
import { rfc3339 } from '../../api/time.js';

const LEASES = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases' };
const EVENTS = { group: '', version: 'v1', resource: 'events' };

interface LeaseObject extends KubeObject {
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
}

/** client-go's LeaseLock: the election lives in a coordination.k8s.io/v1 Lease (kube-system/kube-scheduler, ...). */
export class KubeLeaseLock implements LeaseLock {
  private last: LeaseObject | undefined;
  private seq = 0;

  constructor(
    private readonly client: KubeClient,
    private readonly namespace: string,
    private readonly name: string,
    private readonly identity: string,
    /** The component named as the source of events (kube-scheduler's is "default-scheduler"). */
    private readonly eventSource?: string,
  ) {}

  describe(): string {
    return `${this.namespace}/${this.name}`;
  }

  async get(): Promise<{ record: LeaderElectionRecord; resourceVersion: string } | undefined> {
    try {
      const lease = await this.client.get<LeaseObject>(LEASES, this.namespace, this.name);
      this.last = lease;
      const s = lease.spec ?? {};
      return {
        record: {
          holderIdentity: s.holderIdentity ?? '',
          leaseDurationSeconds: s.leaseDurationSeconds ?? 0,
          ...(s.acquireTime ? { acquireTime: s.acquireTime } : {}),
          ...(s.renewTime ? { renewTime: s.renewTime } : {}),
          leaseTransitions: s.leaseTransitions ?? 0,
        },
        resourceVersion: lease.metadata.resourceVersion ?? '',
      };
    } catch (err) {
      if (err instanceof ApiStatusError && err.code === 404) return undefined;
      throw err;
    }
  }

  async create(record: LeaderElectionRecord): Promise<void> {
    this.last = await this.client.create<LeaseObject>(LEASES, this.namespace, {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.name, namespace: this.namespace },
      spec: { ...record },
    });
  }

  async update(record: LeaderElectionRecord, resourceVersion: string): Promise<void> {
    const base: LeaseObject = this.last ?? { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.name, namespace: this.namespace } };
    this.last = await this.client.update<LeaseObject>(LEASES, { ...base, metadata: { ...base.metadata, resourceVersion }, spec: { ...record } });
  }

  recordEvent(message: string): void {
    const lease = this.last;
    if (!lease) return;
    const nowMs = Date.now();
    const ts = rfc3339(new Date(nowMs));
    const event: KubeObject = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${this.name}.${(BigInt(nowMs) * 1_000_000n + BigInt(this.seq++ % 1_000_000)).toString(16)}`, namespace: this.namespace },
      involvedObject: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', name: this.name, namespace: this.namespace, uid: lease.metadata.uid, resourceVersion: lease.metadata.resourceVersion },
      reason: 'LeaderElection',
      message,
      type: 'Normal',
      source: { component: this.eventSource ?? this.name },
      firstTimestamp: ts,
      lastTimestamp: ts,
      count: 1,
      reportingComponent: this.eventSource ?? this.name,
      reportingInstance: this.identity,
    };
    this.client.create(EVENTS, this.namespace, event).catch(() => undefined);
  }
}
