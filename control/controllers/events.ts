import type { KubeClient, KubeObject } from '../client/index.js';
import { EventCorrelator } from '../client/event-correlator.js';
import { EventNamer } from '../client/event-name.js';
import { rfc3339, type Obj } from './objects.js';

const EVENTS = { group: '', version: 'v1', resource: 'events' };

/**
 * client-go's EventRecorder: core/v1 Events named as upstream names them (<object>.<hex nanoseconds>), passed through
 * its EventCorrelator (repeats bump a count, many messages of one reason are combined, each object has a spam
 * budget), written in the background — an event that cannot be written is dropped, never an error for the sync that
 * reported it. Writes for one event are sent in order, so a repeat never races the create it counts on.
 */
export class EventRecorder {
  private readonly names = new EventNamer();
  private readonly correlator: EventCorrelator;
  private readonly writes = new Map<string, Promise<void>>();

  constructor(
    private readonly client: KubeClient,
    private readonly component: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.correlator = new EventCorrelator({ now: () => this.now().getTime() });
  }

  event(obj: Obj, ref: { apiVersion: string; kind: string }, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const now = this.now();
    const fresh = (): string => this.names.name(obj.metadata.name ?? '', now.getTime());
    const ts = rfc3339(now);
    const namespace = obj.metadata.namespace ?? 'default';
    const involvedObject = {
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      name: obj.metadata.name,
      ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
      uid: obj.metadata.uid,
    };
    const c = this.correlator.correlate({ component: this.component, involvedObject, type, reason, message }, fresh());
    if (c.action === 'skip') return;
    const create = async (name: string): Promise<void> => {
      const body: KubeObject = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace },
        involvedObject: { ...involvedObject, resourceVersion: obj.metadata.resourceVersion },
        reason,
        message: c.message,
        type,
        source: { component: this.component },
        firstTimestamp: ts,
        lastTimestamp: ts,
        count: 1,
        reportingComponent: this.component,
        reportingInstance: '',
      };
      try {
        await this.client.create(EVENTS, namespace, body);
      } catch {
        this.correlator.forget(c.key);
      }
    };
    const write = async (): Promise<void> => {
      if (c.action === 'create') return create(c.name);
      try {
        await this.client.patch(EVENTS, namespace, c.name, { count: c.count, lastTimestamp: ts, message: c.message }, 'merge');
      } catch {
        // The event expired or was removed: record a fresh one in its place.
        const name = fresh();
        this.correlator.recreated(c.key, name);
        await create(name);
      }
    };
    const next = (this.writes.get(c.key) ?? Promise.resolve()).then(write);
    this.writes.set(c.key, next);
    void next.then(() => {
      if (this.writes.get(c.key) === next) this.writes.delete(c.key);
    });
  }
}
