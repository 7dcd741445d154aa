import { EventNamer, type KubeClient, type KubeObject } from '../../control/client/index.js';
import type { Logger } from '../../lib/log.js';
import type { RecordedEvent } from '../events.js';

const EVENTS = { group: '', version: 'v1', resource: 'events' };

/** Events remembered for counting repeats; past this many the oldest are forgotten (a repeat then starts a new Event). */
const MAX_TRACKED = 4096;

/** Kubernetes timestamps are RFC 3339 in whole seconds. */
const seconds = (iso: string): string => iso.replace(/\.\d+Z$/, 'Z');

/**
 * The kubelet's event sink in cluster mode: each event the agent records (Pulled, Created, Started, Killing,
 * Unhealthy, BackOff ...) becomes a core/v1 Event in the pod's namespace, named `<pod>.<hex nanoseconds>` as upstream
 * names them; a repeat (the recorder folds it into a count) patches that Event's count and lastTimestamp instead.
 * Writes run in the background, in order per event, and a failed one is logged and dropped: events are best effort
 * and must never hold up a pod's sync.
 */
export class ApiEventSink {
  /** Per folded event (the recorder's object): the API Event's name and the write in flight for it. */
  private readonly tracked = new Map<RecordedEvent, { name: string | undefined; chain: Promise<void> }>();
  private readonly names = new EventNamer();

  constructor(
    private readonly client: KubeClient,
    private readonly nodeName: string,
    private readonly logger: Logger,
  ) {}

  post(e: RecordedEvent): void {
    let entry = this.tracked.get(e);
    if (!entry) {
      if (this.tracked.size >= MAX_TRACKED) this.tracked.delete(this.tracked.keys().next().value as RecordedEvent);
      entry = { name: undefined, chain: Promise.resolve() };
      this.tracked.set(e, entry);
    }
    const count = e.count;
    const lastTimestamp = seconds(e.lastTimestamp);
    const target = entry;
    target.chain = target.chain.then(async () => {
      try {
        if (target.name !== undefined) {
          try {
            await this.client.patch(EVENTS, e.involvedObject.namespace, target.name, { count, lastTimestamp }, 'merge');
            return;
          } catch {
            // Expired (events live for --event-ttl) or removed: write a fresh one below.
          }
        }
        const name = this.eventName(e.involvedObject.name, e.lastTimestamp);
        await this.client.create(EVENTS, e.involvedObject.namespace, this.body(e, name, count, lastTimestamp));
        target.name = name;
      } catch (err) {
        this.logger.warn({ err: err instanceof Error ? err.message : String(err), pod: `${e.involvedObject.namespace}/${e.involvedObject.name}`, reason: e.reason }, 'posting an event failed');
      }
    });
  }

  /** Resolves once every write started so far has finished (for tests and shutdown). */
  async flush(): Promise<void> {
    await Promise.all([...this.tracked.values()].map((t) => t.chain));
  }

  private eventName(object: string, iso: string): string {
    return this.names.name(object, Date.parse(iso));
  }

  private body(e: RecordedEvent, name: string, count: number, lastTimestamp: string): KubeObject {
    const o = e.involvedObject;
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: o.namespace },
      involvedObject: { apiVersion: 'v1', kind: o.kind, namespace: o.namespace, name: o.name, ...(o.uid ? { uid: o.uid } : {}), ...(o.fieldPath ? { fieldPath: o.fieldPath } : {}) },
      reason: e.reason,
      message: e.message,
      type: e.type,
      source: { component: 'kubelet', host: this.nodeName },
      reportingComponent: 'kubelet',
      reportingInstance: this.nodeName,
      firstTimestamp: seconds(e.firstTimestamp),
      lastTimestamp,
      count,
    } as KubeObject;
  }
}
