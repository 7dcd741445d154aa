/**
 * The agent's API clients, as upstream's kubelet builds them from one kubeconfig: one for its requests, held to
 * kubeAPIQPS/kubeAPIBurst; one for events with a bucket of its own (eventRecordQPS/eventBurst, 50 and 100 by default
 * as upstream's); one for the heartbeat (node status and lease renewals) held to no limit, so that a backlog of pod
 * work never makes the node look dead. All three share the same connections. A 0 in any limit is client-go's default
 * (5/s, bursts of 10), as upstream's kubelet hands its values to rest.Config as they are.
 */
import { KubeClient, type Connection, type RateLimit } from '../../control/client/index.js';

/** Upstream kubelet's default eventRecordQPS and eventBurst. */
export const KUBELET_EVENT_LIMIT: RateLimit = { qps: 50, burst: 100 };

export interface AgentClients {
  api: KubeClient;
  events: KubeClient;
  heartbeat: KubeClient;
  close(): void;
}

export interface AgentClientLimits {
  kubeAPIQPS: number;
  kubeAPIBurst: number;
  eventRecordQPS?: number;
  eventBurst?: number;
}

export function agentClients(conn: Connection, nodeName: string, limit: AgentClientLimits): AgentClients {
  const heartbeat = new KubeClient(conn, `skiff-agent/${nodeName}`);
  const api = heartbeat.limited({ qps: limit.kubeAPIQPS, burst: limit.kubeAPIBurst });
  const events = heartbeat.limited({ qps: limit.eventRecordQPS ?? KUBELET_EVENT_LIMIT.qps, burst: limit.eventBurst ?? KUBELET_EVENT_LIMIT.burst });
  return {
    api,
    events,
    heartbeat,
    close: () => {
      api.close();
      events.close();
      heartbeat.close();
    },
  };
}
