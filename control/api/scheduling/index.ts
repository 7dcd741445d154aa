// scheduling.k8s.io/v1: PriorityClass.
export {
  HIGHEST_USER_DEFINABLE_PRIORITY,
  PriorityClass,
  SYSTEM_CRITICAL_PRIORITY,
  SYSTEM_PRIORITY_CLASSES,
  SYSTEM_PRIORITY_CLASS_PREFIX,
  parsePriorityClass,
  priorityClassKind,
  validatePriorityClass,
  validatePriorityClassUpdate,
} from './priorityclass.js';
