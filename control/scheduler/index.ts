/** The scheduler: pure decisions (plugins, schedulePod, preemption), the queue, and the daemon that runs them. */
export * from './plugins/index.js';
export { preempt, selectVictimsOnNode, pickCandidate, splitByPDBViolation, moreImportant, NO_VICTIMS_FOUND, PREEMPTION_NOT_HELPFUL, type Candidate, type PreemptionResult } from './preemption.js';
export { SchedulingQueue, type QueuedPod, type QueueOptions } from './queue.js';
export { fitErrorMessage, reasonHistogram, schedulePod, NO_NODES_AVAILABLE, type Diagnosis, type ScheduleConfig, type ScheduleResult } from './schedule.js';
export { DEFAULT_SCHEDULER_NAME, startScheduler, type SchedulerHandle, type SchedulerOptions } from './scheduler.js';
export { makeNodeInfo, makePodInfo, resolvePriority, Snapshot, type NodeInfo, type PodInfo, type SnapshotInput } from './snapshot.js';
export { nodeAllocatable, podNonZeroRequests, podRequests, type Resources } from './resources.js';
export * from './types.js';
