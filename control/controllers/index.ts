/** The controllers of `skiff control` (kube-controller-manager's), their pure decisions and the manager that runs them. */
export { Controller, MeteredQueue, type ControllerContext, type ControllerMetrics, type SyncResult } from './controller.js';
export { Expectations } from './expectations.js';
export { EventRecorder } from './events.js';
export { SharedInformers } from './informers.js';
export type { Condition, Deployment, Namespace, Obj, OwnerReference, Pod, PodTemplate, ReplicaSet, ReplicationController, Service, ServicePort } from './objects.js';
export { controllerMetrics } from './metrics.js';
export { CONTROLLER_NAMES, selectControllers, startControllerManager, type ControllerManager, type ControllerManagerOptions } from './manager.js';
export * from './replicaset.js';
export { ReplicaSetController } from './replicaset-controller.js';
export * from './deployment.js';
export { DeploymentController } from './deployment-controller.js';
export * from './endpoints.js';
export { EndpointsController, EndpointSliceController } from './endpoints-controller.js';
export * from './namespace.js';
export * from './garbagecollector.js';
export * from './serviceaccount.js';
export * from './podgc.js';
export { HorizontalPodAutoscalerController, type HorizontalOptions } from './podautoscaler/horizontal.js';
