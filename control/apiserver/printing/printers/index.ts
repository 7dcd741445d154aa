import { registerPrinter, type KindPrinter } from '../table.js';
import { controllerRevisionPrinter, daemonSetPrinter, deploymentPrinter, replicaSetPrinter, statefulSetPrinter } from './apps.js';
import { horizontalPodAutoscalerPrinter } from './autoscaling.js';
import { cronJobPrinter, jobPrinter } from './batch.js';
import { certificateSigningRequestPrinter } from './certificates.js';
import { leasePrinter } from './coordination.js';
import {
  componentStatusPrinter,
  configMapPrinter,
  endpointsPrinter,
  namespacePrinter,
  nodePrinter,
  persistentVolumeClaimPrinter,
  persistentVolumePrinter,
  replicationControllerPrinter,
  resourceQuotaPrinter,
  secretPrinter,
  serviceAccountPrinter,
  servicePrinter,
} from './core.js';
import { createdAtPrinter } from './default.js';
import { endpointSlicePrinter } from './discovery.js';
import { eventPrinter } from './events.js';
import { ingressClassPrinter, ingressPrinter, networkPolicyPrinter } from './networking.js';
import { podPrinter, podTemplatePrinter } from './pods.js';
import { podDisruptionBudgetPrinter } from './policy.js';
import { clusterRoleBindingPrinter, clusterRolePrinter, roleBindingPrinter, rolePrinter } from './rbac.js';
import { storageClassPrinter } from './storage.js';
import { priorityClassPrinter } from './scheduling.js';

/**
 * Every printer Skiff has, keyed by API group and kind as table.ts looks them up. Kinds missing here print the
 * default NAME/AGE table.
 */
export const PRINTERS: ReadonlyArray<readonly [group: string, kind: string, printer: KindPrinter]> = [
  ['', 'Pod', podPrinter],
  ['', 'PodTemplate', podTemplatePrinter],
  ['', 'Node', nodePrinter],
  ['', 'Namespace', namespacePrinter],
  ['', 'Service', servicePrinter],
  ['', 'Endpoints', endpointsPrinter],
  ['', 'ComponentStatus', componentStatusPrinter],
  ['', 'ConfigMap', configMapPrinter],
  ['', 'Secret', secretPrinter],
  ['', 'ServiceAccount', serviceAccountPrinter],
  ['', 'Event', eventPrinter],
  ['', 'ReplicationController', replicationControllerPrinter],
  ['', 'ResourceQuota', resourceQuotaPrinter],
  // Upstream has no printer for limit ranges: the API server's default table (NAME, CREATED AT).
  ['', 'LimitRange', createdAtPrinter],
  ['', 'PersistentVolume', persistentVolumePrinter],
  ['', 'PersistentVolumeClaim', persistentVolumeClaimPrinter],
  ['apps', 'Deployment', deploymentPrinter],
  ['apps', 'ReplicaSet', replicaSetPrinter],
  ['apps', 'DaemonSet', daemonSetPrinter],
  ['apps', 'StatefulSet', statefulSetPrinter],
  ['apps', 'ControllerRevision', controllerRevisionPrinter],
  ['batch', 'Job', jobPrinter],
  ['batch', 'CronJob', cronJobPrinter],
  ['autoscaling', 'HorizontalPodAutoscaler', horizontalPodAutoscalerPrinter],
  ['policy', 'PodDisruptionBudget', podDisruptionBudgetPrinter],
  ['coordination.k8s.io', 'Lease', leasePrinter],
  ['discovery.k8s.io', 'EndpointSlice', endpointSlicePrinter],
  ['events.k8s.io', 'Event', eventPrinter],
  ['scheduling.k8s.io', 'PriorityClass', priorityClassPrinter],
  ['storage.k8s.io', 'StorageClass', storageClassPrinter],
  ['networking.k8s.io', 'Ingress', ingressPrinter],
  ['networking.k8s.io', 'IngressClass', ingressClassPrinter],
  ['networking.k8s.io', 'NetworkPolicy', networkPolicyPrinter],
  ['certificates.k8s.io', 'CertificateSigningRequest', certificateSigningRequestPrinter],
  ['rbac.authorization.k8s.io', 'Role', rolePrinter],
  ['rbac.authorization.k8s.io', 'ClusterRole', clusterRolePrinter],
  ['rbac.authorization.k8s.io', 'RoleBinding', roleBindingPrinter],
  ['rbac.authorization.k8s.io', 'ClusterRoleBinding', clusterRoleBindingPrinter],
];

/** Registers every kind's printer with table.ts; idempotent. */
export function registerAllPrinters(): void {
  for (const [group, kind, printer] of PRINTERS) registerPrinter(group, kind, printer);
}
