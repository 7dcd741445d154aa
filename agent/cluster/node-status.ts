import { hostname, release, type as osType } from 'node:os';
import { ApiStatusError, type KubeClient, type KubeObject } from '../../control/client/index.js';
import type { Logger } from '../../lib/log.js';
import { nodeCapacity } from '../node-capacity.js';
import { nodeConditions, type NodeCondition } from './node-conditions.js';
import { rfc3339 } from '../../control/api/time.js';

const NODES = { group: '', version: 'v1', resource: 'nodes' };
const LEASES = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases' };

export interface NodeRegistrationOptions {
  client: KubeClient;
  nodeName: string;
  nodeIP: string;
  maxPods: number;
  labels: Record<string, string>;
  taints: Array<{ key: string; value?: string; effect: string }>;
  runtimeVersion: () => Promise<string>;
  /** Whether the container runtime answers now (the node is NotReady while it does not); always up when absent. */
  runtimeUp?: () => boolean;
  version: string;
  logger: Logger;
  /**
   * The port the API server reaches this agent's node server on (status.daemonEndpoints.kubeletEndpoint.Port): the
   * TLS port (--port, 10250); 0 when it is disabled.
   */
  kubeletPort?: number;
  /** How often the Lease is renewed (upstream: every 10 s, 40 s duration). */
  leaseRenewMs?: number;
  /** How often the Node's status (conditions, heartbeat) is posted. */
  statusUpdateMs?: number;
  now?: () => Date;
}

const microTime = (d: Date): string => d.toISOString().replace(/Z$/, '000Z');

/**
 * Registers this agent's Node, keeps its Lease in kube-node-lease renewed and its status (Ready and the pressure
 * conditions, addresses, nodeInfo) posted, as the kubelet's node status manager and lease controller do.
 */
export class NodeRegistration {
  private leaseTimer: NodeJS.Timeout | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** The conditions the Node has (last posted, or found at registration), for their transition times. */
  private conditions: NodeCondition[] | undefined;
  /** The runtime's version as last reported, kept while the runtime does not answer. */
  private runtimeVersion = 'docker://unknown';

  constructor(private readonly opts: NodeRegistrationOptions) {}

  private now(): Date {
    return this.opts.now?.() ?? new Date();
  }

  private async status(): Promise<{ conditions: NodeCondition[] } & Record<string, unknown>> {
    const now = rfc3339(this.now());
    this.runtimeVersion = await this.opts.runtimeVersion().catch(() => this.runtimeVersion);
    const conditions = nodeConditions({ runtimeUp: this.opts.runtimeUp?.() ?? true, now, ...(this.conditions ? { previous: this.conditions } : {}) });
    const capacity = nodeCapacity(this.opts.maxPods);
    return {
      capacity,
      allocatable: capacity,
      conditions,
      addresses: [
        { type: 'InternalIP', address: this.opts.nodeIP },
        { type: 'Hostname', address: this.opts.nodeName },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: this.opts.kubeletPort ?? 10250 } },
      nodeInfo: {
        machineID: '',
        systemUUID: '',
        bootID: '',
        kernelVersion: release(),
        osImage: `${osType()} (${hostname()})`,
        containerRuntimeVersion: this.runtimeVersion,
        kubeletVersion: this.opts.version,
        kubeProxyVersion: '',
        operatingSystem: 'linux',
        architecture: process.arch === 'x64' ? 'amd64' : process.arch,
      },
    };
  }

  /** Creates the Node if missing (labels and taints given at registration), then keeps it and its Lease fresh. */
  async start(): Promise<void> {
    await this.register();
    await this.renewLease();
    this.leaseTimer = setInterval(() => void this.renewLease(), this.opts.leaseRenewMs ?? 10_000);
    this.statusTimer = setInterval(() => void this.postStatus(), this.opts.statusUpdateMs ?? 10_000);
    this.leaseTimer.unref();
    this.statusTimer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.leaseTimer);
    clearInterval(this.statusTimer);
  }

  private async register(): Promise<void> {
    const { client, nodeName } = this.opts;
    const labels = { 'kubernetes.io/hostname': nodeName, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': process.arch === 'x64' ? 'amd64' : process.arch, ...this.opts.labels };
    try {
      await client.create(NODES, undefined, {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: nodeName, labels },
        spec: this.opts.taints.length ? { taints: this.opts.taints } : {},
      } as KubeObject);
      this.opts.logger.info({ node: nodeName }, 'registered node');
    } catch (err) {
      if (!(err instanceof ApiStatusError && err.code === 409)) throw err;
      this.opts.logger.info({ node: nodeName }, 'node already registered');
      // A restarted agent: the conditions' transition times carry on from what the Node says.
      const node = await client.get<KubeObject & { status?: { conditions?: NodeCondition[] } }>(NODES, undefined, nodeName).catch(() => undefined);
      this.conditions = node?.status?.conditions;
    }
    await this.postStatus();
  }

  async postStatus(): Promise<void> {
    if (this.stopped) return;
    try {
      const status = await this.status();
      await this.opts.client.patch(NODES, undefined, this.opts.nodeName, { status }, 'merge', 'status');
      this.conditions = status.conditions;
    } catch (err) {
      this.opts.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'cannot post node status');
    }
  }

  private async renewLease(): Promise<void> {
    if (this.stopped) return;
    const { client, nodeName } = this.opts;
    const spec = { holderIdentity: nodeName, leaseDurationSeconds: 40, renewTime: microTime(this.now()) };
    try {
      try {
        await client.patch(LEASES, 'kube-node-lease', nodeName, { spec }, 'merge');
      } catch (err) {
        if (!(err instanceof ApiStatusError && err.code === 404)) throw err;
        await client.create(LEASES, 'kube-node-lease', { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: nodeName, namespace: 'kube-node-lease' }, spec } as KubeObject);
      }
    } catch (err) {
      this.opts.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'cannot renew node lease');
    }
  }
}
