import type { KindPrinter } from '../table.js';
import { col, hasTime, int, NAME_DOC, optInt, rec, since, str } from './common.js';

/**
 * Events, as upstream's printEvent. One printer serves core/v1 Events and events.k8s.io/v1 Events (upstream prints
 * both through the internal type); the events.k8s.io field names (regarding, note, deprecated*) are read too.
 */

export const eventPrinter: KindPrinter = {
  columns: [
    col('Last Seen', 'string', 'The time at which the most recent occurrence of this event was recorded.'),
    col('Type', 'string', 'Type of this event (Normal, Warning), new types could be added in the future'),
    col('Reason', 'string', "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
    col('Object', 'string', 'The object that this event is about.'),
    col('Subobject', 'string', 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: "spec.containers{name}" (where "name" refers to the name of the container that triggered the event) or if no container name is specified "spec.containers[2]" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.', 1),
    col('Source', 'string', 'The component reporting this event. Should be a short machine understandable string.', 1),
    col('Message', 'string', 'A human-readable description of the status of this operation.'),
    col('First Seen', 'string', 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)', 1),
    col('Count', 'string', 'The number of times this event has occurred.', 1),
    col('Name', 'string', NAME_DOC, 1, 'name'),
  ],
  cells: (o, now) => {
    const first = o.firstTimestamp ?? o.deprecatedFirstTimestamp;
    const last = o.lastTimestamp ?? o.deprecatedLastTimestamp;
    let firstSeen = since(first, now);
    if (!hasTime(first)) firstSeen = since(o.eventTime, now);
    let lastSeen = since(last, now);
    if (!hasTime(last)) lastSeen = firstSeen;

    let count = optInt(o.count) ?? optInt(o.deprecatedCount) ?? 0;
    if (o.series !== undefined && o.series !== null) {
      const series = rec(o.series);
      lastSeen = since(series.lastObservedTime, now);
      count = int(series.count);
    } else if (count === 0) {
      // Singleton events don't have a count set in the new API.
      count = 1;
    }

    const involved = rec(o.involvedObject ?? o.regarding);
    const kind = str(involved.kind).toLowerCase();
    const target = str(involved.name).length > 0 ? `${kind}/${str(involved.name)}` : kind;

    const source = rec(o.source ?? o.deprecatedSource);
    const component = firstNonEmpty(str(source.component), str(o.reportingComponent ?? o.reportingController));
    const instance = firstNonEmpty(str(source.host), str(o.reportingInstance));
    const sourceStr = instance.length === 0 ? component : `${component}, ${instance}`;

    const message = str(o.message ?? o.note).trim();
    return [lastSeen, str(o.type), str(o.reason), target, str(involved.fieldPath), sourceStr, message, firstSeen, count, o.metadata.name ?? ''];
  },
};

function firstNonEmpty(...ss: string[]): string {
  return ss.find((s) => s.length > 0) ?? '';
}
