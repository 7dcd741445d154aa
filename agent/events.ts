import type { Pod } from '../control/api/index.js';
import type { Logger } from '../lib/log.js';

export type EventType = 'Normal' | 'Warning';

/** A Kubernetes Event as the agent records it: what happened to which object, and how often. */
export interface RecordedEvent {
  involvedObject: { kind: 'Pod'; namespace: string; name: string; uid: string; fieldPath?: string };
  type: EventType;
  reason: string;
  message: string;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  source: { component: 'kubelet'; host: string };
}

export interface EventRecorder {
  event(pod: Pod, type: EventType, reason: string, message: string, fieldPath?: string): void;
}

/**
 * Keeps the newest events in memory (served on /events and, in cluster mode, posted to the API server) and logs
 * each. Repeats of the same event are folded into a count, as upstream's event correlator does.
 */
export class MemoryEventRecorder implements EventRecorder {
  private readonly events: RecordedEvent[] = [];
  private readonly listeners = new Set<(e: RecordedEvent) => void>();

  constructor(
    private readonly host: string,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
    private readonly capacity = 1000,
  ) {}

  event(pod: Pod, type: EventType, reason: string, message: string, fieldPath?: string): void {
    const ts = this.now().toISOString();
    const obj = { kind: 'Pod' as const, namespace: pod.metadata.namespace, name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '', ...(fieldPath ? { fieldPath } : {}) };
    const same = this.events.find(
      (e) => e.involvedObject.uid === obj.uid && e.reason === reason && e.message === message && e.involvedObject.fieldPath === obj.fieldPath,
    );
    const log = type === 'Warning' ? this.logger.warn.bind(this.logger) : this.logger.info.bind(this.logger);
    log({ pod: `${obj.namespace}/${obj.name}`, reason, ...(fieldPath ? { fieldPath } : {}) }, message);
    let recorded: RecordedEvent;
    if (same) {
      same.count++;
      same.lastTimestamp = ts;
      recorded = same;
    } else {
      recorded = { involvedObject: obj, type, reason, message, count: 1, firstTimestamp: ts, lastTimestamp: ts, source: { component: 'kubelet', host: this.host } };
      this.events.push(recorded);
      if (this.events.length > this.capacity) this.events.shift();
    }
    for (const l of this.listeners) l(recorded);
  }

  list(filter?: { uid?: string; namespace?: string }): RecordedEvent[] {
    return this.events.filter((e) => (!filter?.uid || e.involvedObject.uid === filter.uid) && (!filter?.namespace || e.involvedObject.namespace === filter.namespace));
  }

  onEvent(listener: (e: RecordedEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
