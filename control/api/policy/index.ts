// policy/v1: PodDisruptionBudget.
export {
  PodDisruptionBudget,
  PodDisruptionBudgetSpec,
  PodDisruptionBudgetStatus,
  UNHEALTHY_POD_EVICTION_POLICIES,
  parsePodDisruptionBudget,
  podDisruptionBudgetKind,
  validatePodDisruptionBudget,
  validatePodDisruptionBudgetSpec,
  validatePodDisruptionBudgetUpdate,
} from './pdb.js';
