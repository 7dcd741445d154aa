import type { ResourceDef } from '../resources.js';
import { controllerRevisionStrategy } from './apps-controllerrevision.js';
import { daemonSetStrategy } from './apps-daemonset.js';
import { deploymentStrategy } from './apps-deployment.js';
import { replicaSetStrategy } from './apps-replicaset.js';
import { statefulSetStrategy } from './apps-statefulset.js';
import { horizontalPodAutoscalerStrategy } from './autoscaling-horizontalpodautoscaler.js';
import { cronJobStrategy } from './batch-cronjob.js';
import { jobStrategy } from './batch-job.js';
import { certificateSigningRequestStrategy } from './certificates-certificatesigningrequest.js';
import { leaseStrategy } from './coordination-lease.js';
import { coreConfigMapStrategy } from './core-configmap.js';
import { coreEndpointsStrategy } from './core-endpoints.js';
import { coreEventStrategy, coreEventsV1Strategy } from './core-event.js';
import { coreLimitRangeStrategy } from './core-limitrange.js';
import { coreNodeStrategy } from './core-node.js';
import { corePersistentVolumeClaimStrategy } from './core-persistentvolumeclaim.js';
import { coreReplicationControllerStrategy } from './core-replicationcontroller.js';
import { coreResourceQuotaStrategy } from './core-resourcequota.js';
import { coreSecretStrategy } from './core-secret.js';
import { coreServiceAccountStrategy } from './core-serviceaccount.js';
import { coreServiceStrategy } from './core-service.js';
import { endpointSliceStrategy } from './discovery-endpointslice.js';
import { namespaceStrategy } from './namespace.js';
import { ingressStrategy } from './networking-ingress.js';
import { ingressClassStrategy } from './networking-ingressclass.js';
import { networkPolicyStrategy } from './networking-networkpolicy.js';
import { podStrategy } from './pod.js';
import { podDisruptionBudgetStrategy } from './policy-poddisruptionbudget.js';
import { clusterRoleStrategy } from './rbac-clusterrole.js';
import { clusterRoleBindingStrategy } from './rbac-clusterrolebinding.js';
import { roleStrategy } from './rbac-role.js';
import { roleBindingStrategy } from './rbac-rolebinding.js';
import { priorityClassStrategy } from './scheduling-priorityclass.js';
import { storageClassStrategy } from './storage-storageclass.js';
import { genericStrategy, type Strategy } from './strategy.js';

export type { Prepared, PrepareContext, Strategy } from './strategy.js';

/** The strategy of each kind; kinds without their own yet get the generic one. */
export function strategyFor(def: ResourceDef): Strategy {
  switch (`${def.group}/${def.kind}`) {
    case '/Pod':
      return podStrategy(def);
    case '/Service':
      return coreServiceStrategy(def);
    case '/Endpoints':
      return coreEndpointsStrategy(def);
    case '/ConfigMap':
      return coreConfigMapStrategy(def);
    case '/Secret':
      return coreSecretStrategy(def);
    case '/ServiceAccount':
      return coreServiceAccountStrategy(def);
    case '/Node':
      return coreNodeStrategy(def);
    case '/Event':
      return coreEventStrategy(def);
    case 'events.k8s.io/Event':
      return coreEventsV1Strategy(def);
    case '/ReplicationController':
      return coreReplicationControllerStrategy(def);
    case '/ResourceQuota':
      return coreResourceQuotaStrategy(def);
    case '/LimitRange':
      return coreLimitRangeStrategy(def);
    case '/PersistentVolumeClaim':
      return corePersistentVolumeClaimStrategy(def);
    case '/Namespace':
      return namespaceStrategy(def);
    case 'apps/Deployment':
      return deploymentStrategy(def);
    case 'apps/ReplicaSet':
      return replicaSetStrategy(def);
    case 'apps/StatefulSet':
      return statefulSetStrategy(def);
    case 'apps/DaemonSet':
      return daemonSetStrategy(def);
    case 'apps/ControllerRevision':
      return controllerRevisionStrategy(def);
    case 'batch/Job':
      return jobStrategy(def);
    case 'batch/CronJob':
      return cronJobStrategy(def);
    case 'autoscaling/HorizontalPodAutoscaler':
      return horizontalPodAutoscalerStrategy(def);
    case 'policy/PodDisruptionBudget':
      return podDisruptionBudgetStrategy(def);
    case 'coordination.k8s.io/Lease':
      return leaseStrategy(def);
    case 'discovery.k8s.io/EndpointSlice':
      return endpointSliceStrategy(def);
    case 'scheduling.k8s.io/PriorityClass':
      return priorityClassStrategy(def);
    case 'storage.k8s.io/StorageClass':
      return storageClassStrategy(def);
    case 'networking.k8s.io/Ingress':
      return ingressStrategy(def);
    case 'networking.k8s.io/IngressClass':
      return ingressClassStrategy(def);
    case 'networking.k8s.io/NetworkPolicy':
      return networkPolicyStrategy(def);
    case 'rbac.authorization.k8s.io/Role':
      return roleStrategy(def);
    case 'rbac.authorization.k8s.io/ClusterRole':
      return clusterRoleStrategy(def);
    case 'rbac.authorization.k8s.io/RoleBinding':
      return roleBindingStrategy(def);
    case 'rbac.authorization.k8s.io/ClusterRoleBinding':
      return clusterRoleBindingStrategy(def);
    case 'certificates.k8s.io/CertificateSigningRequest':
      return certificateSigningRequestStrategy(def);
    default:
      return genericStrategy(def);
  }
}
