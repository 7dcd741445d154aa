/** A Node condition as the agent posts it (core/v1 NodeCondition; times in RFC 3339). */
export interface NodeCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastHeartbeatTime: string;
  lastTransitionTime: string;
}

export interface NodeConditionInputs {
  /** The container runtime answered the agent's last relist. */
  runtimeUp: boolean;
  /** Now, RFC 3339. */
  now: string;
  /** The conditions the Node has now (posted earlier, by this agent or the one before it). */
  previous?: ReadonlyArray<{ type: string; status?: string; lastTransitionTime?: string }>;
}

/**
 * The node's conditions, as the kubelet's setters compute them: Ready is False with "container runtime is down" while
 * the runtime does not answer (upstream's runtimeState.runtimeErrors), so that the node lifecycle controller taints
 * the node and the scheduler keeps new pods away. Every heartbeat is now; a transition time only moves when the
 * condition's status changes.
 */
export function nodeConditions(input: NodeConditionInputs): NodeCondition[] {
  const condition = (type: string, status: NodeCondition['status'], reason: string, message: string): NodeCondition => {
    const before = input.previous?.find((c) => c.type === type);
    const lastTransitionTime = before?.status === status && before.lastTransitionTime ? before.lastTransitionTime : input.now;
    return { type, status, reason, message, lastHeartbeatTime: input.now, lastTransitionTime };
  };
  return [
    condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
    condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    input.runtimeUp ? condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status') : condition('Ready', 'False', 'KubeletNotReady', 'container runtime is down'),
  ];
}
