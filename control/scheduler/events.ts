/**
 * Records core/v1 Events for the scheduler (FailedScheduling, Preempted, Scheduled) through client-go's event
 * correlator: the same reason and message for the same object bumps the count of one Event, many messages of one
 * reason are combined, and a pod that keeps failing is held to upstream's spam budget.
 */
import { RateLimiterClosedError, type KubeClient } from '../client/index.js';
import { EventCorrelator } from '../client/event-correlator.js';
import type { Logger } from '../../lib/log.js';
import type { SchedPod } from './types.js';

const events = { group: '', version: 'v1', resource: 'events' };

let seq = 0n;

/** "<name>.<hex nanoseconds>", as upstream names events. */
function eventName(name: string, now: Date): string {
  seq = (seq + 1n) % 1000n;
  return `${name}.${(BigInt(now.getTime()) * 1_000_000n + seq).toString(16)}`;
}

const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export class EventRecorder {
  private readonly correlator: EventCorrelator;

  constructor(
    private readonly client: KubeClient,
    private readonly component: string,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.correlator = new EventCorrelator({ now: () => this.now().getTime() });
  }

  async record(pod: SchedPod, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const ns = pod.metadata.namespace ?? 'default';
    const name = pod.metadata.name ?? '';
    const now = this.now();
    const ts = rfc3339(now);
    const involvedObject = { kind: 'Pod', apiVersion: 'v1', namespace: ns, name, ...(pod.metadata.uid ? { uid: pod.metadata.uid } : {}) };
    const c = this.correlator.correlate({ component: this.component, involvedObject, type, reason, message }, eventName(name, now));
    if (c.action === 'skip') return;
    if (c.action === 'patch') {
      try {
        await this.client.patch(events, ns, c.name, { count: c.count, lastTimestamp: ts, message: c.message }, 'merge');
        return;
      } catch {
        // The event expired or was removed: record a fresh one in its place.
      }
    }
    const evName = c.action === 'create' ? c.name : eventName(name, now);
    if (c.action === 'patch') this.correlator.recreated(c.key, evName);
    try {
      await this.client.create(events, ns, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: evName, namespace: ns },
        involvedObject: { ...involvedObject, ...(pod.metadata.resourceVersion ? { resourceVersion: pod.metadata.resourceVersion } : {}) },
        reason,
        message: c.message,
        type,
        source: { component: this.component },
        reportingComponent: this.component,
        firstTimestamp: ts,
        lastTimestamp: ts,
        count: 1,
      });
    } catch (err) {
      this.correlator.forget(c.key);
      // A client closed under a backlog of rate-limited requests: the scheduler is stopping.
      if (!(err instanceof RateLimiterClosedError)) this.logger.warn({ err, pod: `${ns}/${name}`, reason }, 'recording an event failed');
    }
  }
}
