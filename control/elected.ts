import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../lib/log.js';
import type { KubeClient } from './client/index.js';
import { KubeLeaseLock, LeaderElector } from './client/leaderelection/index.js';

export interface LeaderElectionConfig {
  /** Off: the component runs at once and alone, as with upstream's --leader-elect=false. */
  enabled: boolean;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  /** Namespace of the Leases (upstream's --leader-elect-resource-namespace, kube-system). */
  namespace: string;
}

export const DEFAULT_LEADER_ELECTION: LeaderElectionConfig = { enabled: true, leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, namespace: 'kube-system' };

/** A component that can be started and stopped again, any number of times (once per term of leadership). */
export interface Component {
  start(): { stop(): Promise<void> };
}

export interface ElectedComponent {
  /** True while this process runs the component. */
  readonly active: boolean;
  stop(): Promise<void>;
}

/**
 * Runs a component only while this process holds its Lease (kube-system/kube-scheduler, .../kube-controller-manager),
 * so that of several control processes exactly one schedules and one runs the controllers. The identity is upstream's
 * shape: hostname_uuid.
 */
export function runElected(opts: { name: string; client: KubeClient; config: LeaderElectionConfig; logger: Logger; component: Component; eventSource?: string }): ElectedComponent {
  const logger = opts.logger.child({ lease: opts.name });
  let running: { stop(): Promise<void> } | undefined;
  if (!opts.config.enabled) {
    running = opts.component.start();
    return {
      get active() {
        return running !== undefined;
      },
      async stop() {
        const r = running;
        running = undefined;
        await r?.stop();
      },
    };
  }
  const identity = `${hostname()}_${randomUUID()}`;
  const elector = new LeaderElector({
    lock: new KubeLeaseLock(opts.client, opts.config.namespace, opts.name, identity, opts.eventSource ?? opts.name),
    identity,
    logger,
    leaseDurationMs: opts.config.leaseDurationMs,
    renewDeadlineMs: opts.config.renewDeadlineMs,
    retryPeriodMs: opts.config.retryPeriodMs,
    releaseOnCancel: true,
    onStartedLeading: () => {
      logger.info({ identity }, 'leading: starting');
      running = opts.component.start();
    },
    onStoppedLeading: async () => {
      const r = running;
      running = undefined;
      if (r) {
        logger.info({ identity }, 'no longer leading: stopping');
        await r.stop();
      }
    },
  });
  elector.start();
  return {
    get active() {
      return running !== undefined;
    },
    stop: () => elector.stop(),
  };
}
