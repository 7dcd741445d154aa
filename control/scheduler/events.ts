/**
 * Records core/v1 Events for the scheduler (FailedScheduling, Preempted), aggregating repeats as client-go's event
 * correlator does: the same reason and message for the same object bumps the count of one Event.
 */
import type { KubeClient } from '../client/index.js';
import type { Logger } from '../../lib/log.js';
import type { SchedPod } from './types.js';

const events = { group: '', version: 'v1', resource: 'events' };

let seq = 0n;

const podId = (pod: SchedPod): string => pod.metadata.uid ?? `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name ?? ''}`;

/** "<name>.<hex nanoseconds>", as upstream names events. */
function eventName(name: string, now: Date): string {
  seq = (seq + 1n) % 1000n;
  return `${name}.${(BigInt(now.getTime()) * 1_000_000n + seq).toString(16)}`;
}

export class EventRecorder {
  /** Per pod, per reason and message: the Event recorded, so repeats bump its count. */
  private readonly seen = new Map<string, Map<string, { name: string; count: number }>>();

  constructor(
    private readonly client: KubeClient,
    private readonly component: string,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async record(pod: SchedPod, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const ns = pod.metadata.namespace ?? 'default';
    const name = pod.metadata.name ?? '';
    const id = podId(pod);
    const key = `${reason}\u0000${message}`;
    const ts = this.now().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const prior = this.seen.get(id)?.get(key);
    try {
      if (prior) {
        prior.count++;
        await this.client.patch(events, ns, prior.name, { count: prior.count, lastTimestamp: ts }, 'merge');
        return;
      }
    } catch {
      // The event expired or was removed: record a fresh one.
      this.seen.get(id)?.delete(key);
    }
    const evName = eventName(name, this.now());
    try {
      await this.client.create(events, ns, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: evName, namespace: ns },
        involvedObject: { kind: 'Pod', apiVersion: 'v1', namespace: ns, name, ...(pod.metadata.uid ? { uid: pod.metadata.uid } : {}), ...(pod.metadata.resourceVersion ? { resourceVersion: pod.metadata.resourceVersion } : {}) },
        reason,
        message,
        type,
        source: { component: this.component },
        reportingComponent: this.component,
        firstTimestamp: ts,
        lastTimestamp: ts,
        count: 1,
      });
      if (this.seen.size > 10_000) this.seen.clear();
      let forPod = this.seen.get(id);
      if (!forPod) this.seen.set(id, (forPod = new Map()));
      forPod.set(key, { name: evName, count: 1 });
    } catch (err) {
      this.logger.warn({ err, pod: `${ns}/${name}`, reason }, 'recording an event failed');
    }
  }

  /** Forget a pod's events (it was bound or deleted). */
  forget(pod: SchedPod): void {
    this.seen.delete(podId(pod));
  }
}
