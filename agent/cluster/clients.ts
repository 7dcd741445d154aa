/**
 * The agent's API clients, as upstream's kubelet builds them from one kubeconfig: one for its requests, held to
 * kubeAPIQPS/kubeAPIBurst; one for events with a bucket of its own (eventRecordQPS 50, eventBurst 100, upstream's
 * defaults); one for the heartbeat (node status and lease renewals) held to no limit, so that a backlog of pod work
 * never makes the node look dead. All three share the same connections.
 */
import { KubeClient, type Connection, type RateLimit } from '../../control/client/index.js';

export const KUBELET_EVENT_LIMIT: RateLimit = { qps: 50, burst: 100 };

export interface AgentClients {
  api: KubeClient;
  events: KubeClient;
  heartbeat: KubeClient;
  close(): void;
}

export function agentClients(conn: Connection, nodeName: string, limit: { kubeAPIQPS: number; kubeAPIBurst: number }): AgentClients {
  const heartbeat = new KubeClient(conn, `skiff-agent/${nodeName}`);
  const api = heartbeat.limited({ qps: limit.kubeAPIQPS, burst: limit.kubeAPIBurst });
  const events = heartbeat.limited(KUBELET_EVENT_LIMIT);
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
