import type { KindPrinter } from '../table.js';
import { ageCol, ageOf, col, int, nameCol, nameOf, optStr } from './common.js';

/** scheduling.k8s.io/v1 PriorityClasses, as upstream's printPriorityClass. */

export const priorityClassPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Value', 'integer', 'value represents the integer value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec.'),
    col('Global-Default', 'boolean', 'globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class. Only one PriorityClass can be marked as `globalDefault`. However, if more than one PriorityClasses exists with their `globalDefault` field set to true, the smallest value of such global default PriorityClasses will be used as the default priority.'),
    ageCol(),
    col('PreemptionPolicy', 'string', 'preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, PreemptLowerPriority. Defaults to PreemptLowerPriority if unset.'),
  ],
  cells: (o, now) => [nameOf(o), int(o.value), o.globalDefault === true, ageOf(o, now), optStr(o.preemptionPolicy) ?? 'PreemptLowerPriority'],
};
