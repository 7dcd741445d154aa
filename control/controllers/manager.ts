import type { Registry } from 'prom-client';
import type { Logger } from '../../lib/log.js';
import type { Informer, KubeClient, RateLimit } from '../client/index.js';
import type { Controller, ControllerConfig, ControllerContext } from './controller.js';
import { DaemonSetController } from './daemonset-controller.js';
import { DisruptionController } from './disruption-controller.js';
import { NodeLifecycleController } from './nodelifecycle-controller.js';
import { ResourceQuotaController } from './resourcequota-controller.js';
import { StatefulSetController } from './statefulset-controller.js';
import { DeploymentController } from './deployment-controller.js';
import { EndpointsController, EndpointSliceController } from './endpoints-controller.js';
import { SharedInformers } from './informers.js';
import { GarbageCollector } from './garbagecollector.js';
import { CronJobController } from './cronjob-controller.js';
import { JobController } from './job-controller.js';
import { controllerMetrics } from './metrics.js';
import { NamespaceController } from './namespace.js';
import { NodeIpamController } from './nodeipam/range-allocator.js';
import { errorMessage, R } from './objects.js';
import { PodGcController } from './podgc.js';
import { RootCaCertPublisher } from './rootcacertpublisher.js';
import { HorizontalPodAutoscalerController } from './podautoscaler/horizontal.js';
import { CsrApprovingController, CsrSigningController } from './certificates/controllers.js';
import { DEFAULT_CALC_CONFIG } from './podautoscaler/replica-calculator.js';
import { ReplicaSetController } from './replicaset-controller.js';
import { ServiceAccountController } from './serviceaccount.js';
import { TtlAfterFinishedController } from './ttlafterfinished.js';

/** Controllers by the names kube-controller-manager's --controllers flag uses. */
/** A factory may decline (undefined) when what the controller needs is not configured, as csrsigning without a CA. */
const FACTORIES: Record<string, (ctx: ControllerContext) => Controller | undefined> = {
  replicaset: (ctx) => new ReplicaSetController(ctx, 'ReplicaSet'),
  replicationcontroller: (ctx) => new ReplicaSetController(ctx, 'ReplicationController'),
  deployment: (ctx) => new DeploymentController(ctx),
  endpoint: (ctx) => new EndpointsController(ctx),
  endpointslice: (ctx) => new EndpointSliceController(ctx),
  namespace: (ctx) => new NamespaceController(ctx),
  garbagecollector: (ctx) => new GarbageCollector(ctx),
  serviceaccount: (ctx) => new ServiceAccountController(ctx),
  podgc: (ctx) => new PodGcController(ctx),
  job: (ctx) => new JobController(ctx),
  cronjob: (ctx) => new CronJobController(ctx),
  'ttl-after-finished': (ctx) => new TtlAfterFinishedController(ctx),
  'root-ca-cert-publisher': (ctx) => (ctx.config?.rootCaPem ? new RootCaCertPublisher(ctx, ctx.config.rootCaPem) : undefined),
  csrapproving: (ctx) => new CsrApprovingController(ctx),
  csrsigning: (ctx) => (ctx.config?.csrSigning ? new CsrSigningController(ctx, ctx.config.csrSigning) : undefined),
  // Off unless --allocate-node-cidrs with a --cluster-cidr, as upstream.
  nodeipam: (ctx) => (ctx.config?.nodeIpam ? new NodeIpamController(ctx, ctx.config.nodeIpam) : undefined),
  horizontalpodautoscaling: (ctx) => {
    const c = ctx.config?.horizontalPodAutoscaler ?? {};
    return new HorizontalPodAutoscalerController(ctx, {
      ...(c.syncPeriodMs !== undefined ? { syncPeriodMs: c.syncPeriodMs } : {}),
      ...(c.downscaleStabilizationMs !== undefined ? { downscaleStabilizationMs: c.downscaleStabilizationMs } : {}),
      ...(c.tolerance !== undefined ? { calc: { ...DEFAULT_CALC_CONFIG, tolerance: c.tolerance } } : {}),
    });
  },
  daemonset: (ctx) => new DaemonSetController(ctx),
  statefulset: (ctx) => new StatefulSetController(ctx),
  nodelifecycle: (ctx) => new NodeLifecycleController(ctx),
  disruption: (ctx) => new DisruptionController(ctx),
  resourcequota: (ctx) => new ResourceQuotaController(ctx),
};

export const CONTROLLER_NAMES = Object.keys(FACTORIES);

/**
 * Which controllers run, as --controllers reads: names, "*" for all, "-name" to leave one out. Unknown names are
 * an error that lists the known ones.
 */
export function selectControllers(spec: readonly string[] | undefined): string[] {
  const list = spec && spec.length ? spec : ['*'];
  const unknown = list.map((s) => s.replace(/^-/, '')).filter((s) => s !== '*' && !FACTORIES[s]);
  if (unknown.length) throw new Error(`unknown controller(s) ${unknown.map((u) => `"${u}"`).join(', ')}; known: ${CONTROLLER_NAMES.join(', ')}`);
  const all = list.includes('*');
  return CONTROLLER_NAMES.filter((n) => !list.includes(`-${n}`) && (all || list.includes(n)));
}

export interface ControllerManagerOptions {
  client: KubeClient;
  /**
   * kube-controller-manager's --kube-api-qps and --kube-api-burst: each controller, and the shared informers, get a
   * client of their own held to this rate (client.limited), as upstream builds one client per controller. Absent,
   * all share `client` as it is.
   */
  rateLimit?: RateLimit;
  logger: Logger;
  /** Where the workqueue and reconcile metrics go; none are kept without one. */
  registry?: Registry;
  controllers?: string[];
  /** Workers per controller (default 2). */
  workers?: number;
  now?: () => Date;
  config?: ControllerConfig;
  /**
   * Every pod, from an informer this process shares with other components (a view of an InformerShare, started and
   * stopped with the controllers), instead of a watch of the controllers' own.
   */
  podInformer?: Informer;
}

export interface ControllerManager {
  /** Resolves once every controller's informers have listed and its workers run. */
  readonly ready: Promise<void>;
  readonly controllers: ReadonlyMap<string, Controller>;
  stop(): Promise<void>;
}

/**
 * Controllers upstream gives more than --kube-api-qps and --kube-api-burst: the namespace controller (which deletes
 * a namespace's content one call at a time) 20 times the rate and 100 times the burst, the garbage collector (two
 * calls per deletion) twice the rate.
 */
const RATE_LIMIT_SCALE: Readonly<Record<string, { qps: number; burst: number }>> = {
  namespace: { qps: 20, burst: 100 },
  garbagecollector: { qps: 2, burst: 1 },
};

/** The rate limit of one controller's client under --kube-api-qps and --kube-api-burst (`base`). */
export function controllerRateLimit(controller: string, base: RateLimit): RateLimit {
  const scale = RATE_LIMIT_SCALE[controller] ?? { qps: 1, burst: 1 };
  return { qps: base.qps * scale.qps, burst: base.burst * scale.burst };
}

/**
 * kube-controller-manager in one call: shared informers (one per resource, whatever number of controllers read it),
 * the chosen controllers, their workers started only once the caches are filled.
 */
export function startControllerManager(opts: ControllerManagerOptions): ControllerManager {
  const names = selectControllers(opts.controllers);
  const logger = opts.logger.child({ component: 'controller-manager' });
  const limitedClients: KubeClient[] = [];
  const clientFor = (name: string): KubeClient => {
    if (!opts.rateLimit) return opts.client;
    const client = opts.client.limited(controllerRateLimit(name, opts.rateLimit), `${opts.client.userAgent}/${name}`);
    limitedClients.push(client);
    return client;
  };
  const informers = new SharedInformers(clientFor('shared-informers'), (ref, err) => logger.warn({ resource: ref.resource, err: errorMessage(err) }, 'informer list/watch failed; retrying'), opts.podInformer ? [[R.pods, opts.podInformer]] : []);
  const ctx: ControllerContext = {
    client: opts.client,
    informers,
    logger,
    ...(opts.registry ? { metrics: controllerMetrics(opts.registry) } : {}),
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.workers ? { workers: opts.workers } : {}),
    ...(opts.config ? { config: opts.config } : {}),
  };
  const controllers = new Map<string, Controller>();
  for (const name of names) {
    const controller = (FACTORIES[name] as (c: ControllerContext) => Controller | undefined)({ ...ctx, client: clientFor(name) });
    if (controller) controllers.set(name, controller);
    else logger.info({ controller: name }, 'skipping controller: not configured');
  }
  informers.start();
  // Each controller starts once its own informers have listed, so one unserved resource holds up only its readers.
  const ready = Promise.all([...controllers.values()].map((c) => c.start())).then(() => {
    logger.info({ controllers: [...controllers.keys()] }, 'controllers started');
  });
  return {
    ready,
    controllers,
    async stop() {
      informers.stop();
      // Requests waiting for their turn under the rate limit fail now rather than hold the stop up.
      for (const client of limitedClients) client.close();
      await Promise.all([...controllers.values()].map((c) => c.stop()));
    },
  };
}
