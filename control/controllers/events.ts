import type { KubeClient, KubeObject } from '../client/index.js';
import { rfc3339, type Obj } from './objects.js';

const EVENTS = { group: '', version: 'v1', resource: 'events' };

/**
 * client-go's EventRecorder, reduced: one core/v1 Event per call, named as upstream names them (<object>.<hex
 * nanoseconds>), written in the background — an event that cannot be written is dropped, never an error for the
 * sync that reported it.
 */
export class EventRecorder {
  private seq = 0n;

  constructor(
    private readonly client: KubeClient,
    private readonly component: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  event(obj: Obj, ref: { apiVersion: string; kind: string }, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const now = this.now();
    const stamp = (BigInt(now.getTime()) * 1_000_000n + (this.seq++ % 1_000_000n)).toString(16);
    const ts = rfc3339(now);
    const body: KubeObject = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${obj.metadata.name}.${stamp}`, namespace: obj.metadata.namespace ?? 'default' },
      involvedObject: {
        apiVersion: ref.apiVersion,
        kind: ref.kind,
        name: obj.metadata.name,
        ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
      },
      reason,
      message,
      type,
      source: { component: this.component },
      firstTimestamp: ts,
      lastTimestamp: ts,
      count: 1,
      reportingComponent: this.component,
      reportingInstance: '',
    };
    this.client.create(EVENTS, body.metadata.namespace, body).catch(() => undefined);
  }
}
