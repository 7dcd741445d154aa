/**
 * upstream's nodeipam controller with the range allocator (--allocate-node-cidrs, --cluster-cidr,
 * --node-cidr-mask-size): every Node without spec.podCIDRs gets the next free subnet of the cluster CIDR, once; a
 * Node's range is never changed afterwards, ranges already set are marked used before anything is handed out, and a
 * deleted Node's range goes back to the pool. When the cluster CIDR is full, the Node gets a CIDRNotAvailable event
 * and is retried with back-off.
 */
import type { Informer } from '../../client/index.js';
import { Controller, type ControllerContext, type SyncResult } from '../controller.js';
import { EventRecorder } from '../events.js';
import type { Obj } from '../objects.js';
import { CidrSet } from './cidr-set.js';

export interface NodeIpamConfig {
  /** --cluster-cidr */
  clusterCidr: string;
  /** --node-cidr-mask-size (upstream's IPv4 default: 24) */
  nodeCidrMaskSize: number;
  /** --service-cluster-ip-range: subnets it overlaps are never given to nodes. */
  serviceCidr?: string;
}

export const DEFAULT_NODE_CIDR_MASK_SIZE = 24;

const NODES = { group: '', version: 'v1', resource: 'nodes' };

type NodeObj = Obj & { spec?: { podCIDR?: string; podCIDRs?: string[] } & Record<string, unknown> };

const podCidrsOf = (node: NodeObj): string[] => node.spec?.podCIDRs?.length ? node.spec.podCIDRs : node.spec?.podCIDR ? [node.spec.podCIDR] : [];

export class NodeIpamController extends Controller {
  private readonly nodes: Informer<NodeObj>;
  readonly cidrs: CidrSet;
  /** The ranges this controller counts as used, by node: what it releases when the node goes. */
  private readonly byNode = new Map<string, { uid: string | undefined; cidrs: string[] }>();
  private primed = false;
  /** Upstream's range allocator records as "cidrAllocator", not as the controller. */
  private readonly recorder: EventRecorder;

  constructor(ctx: ControllerContext, config: NodeIpamConfig) {
    // One worker: allocations and releases are decided one at a time.
    super('nodeipam', { ...ctx, workers: 1 });
    this.cidrs = new CidrSet(config.clusterCidr, config.nodeCidrMaskSize);
    this.recorder = new EventRecorder(ctx.client, 'cidrAllocator', this.now);
    if (config.serviceCidr && this.cidrs.occupyOverlap(config.serviceCidr)) this.logger.info({ serviceCIDR: config.serviceCidr }, 'the service CIDR overlaps the cluster CIDR: its subnets are not given to nodes');
    this.nodes = this.watch<NodeObj>(NODES);
    const enqueue = (n: NodeObj): void => this.queue.add(n.metadata.name ?? '');
    this.nodes.addHandlers({ onAdd: enqueue, onUpdate: (_o, n) => enqueue(n), onDelete: enqueue });
  }

  /** Before the first allocation, every range already set on a node counts as used (upstream does this at start). */
  private prime(): void {
    if (this.primed) return;
    this.primed = true;
    for (const node of this.nodes.list()) this.occupy(node);
  }

  private occupy(node: NodeObj): void {
    const name = node.metadata.name ?? '';
    const ranges = podCidrsOf(node);
    if (!ranges.length) return;
    const known = this.byNode.get(name);
    if (known?.uid === node.metadata.uid) return;
    for (const c of known?.cidrs ?? []) this.cidrs.release(c);
    const ours: string[] = [];
    for (const c of ranges) {
      // A range outside the cluster CIDR (set by hand, or another family) is the node's business, not the pool's.
      if (!this.cidrs.contains(c)) {
        this.logger.info({ node: name, podCIDR: c, clusterCIDR: this.cidrs.clusterCidr }, 'node has a pod CIDR outside the cluster CIDR; not tracking it');
        continue;
      }
      this.cidrs.occupy(c);
      ours.push(c);
    }
    this.byNode.set(name, { uid: node.metadata.uid, cidrs: ours });
  }

  protected async sync(name: string): Promise<SyncResult> {
    this.prime();
    const node = this.nodes.get(name) as NodeObj | undefined;
    if (!node) {
      const ranges = this.byNode.get(name)?.cidrs;
      if (ranges) {
        for (const c of ranges) this.cidrs.release(c);
        this.byNode.delete(name);
        if (ranges.length) this.logger.info({ node: name, podCIDRs: ranges }, 'released the pod CIDR of a deleted node');
      }
      return;
    }
    if (podCidrsOf(node).length) {
      this.occupy(node);
      return;
    }
    const known = this.byNode.get(name);
    if (known) {
      // The same node without its range: the cache has not seen our write yet; its watch event comes next.
      if (known.uid === node.metadata.uid) return;
      // A node deleted and created again under the same name before we saw the deletion.
      for (const c of known.cidrs) this.cidrs.release(c);
      this.byNode.delete(name);
    }
    const cidr = this.cidrs.allocateNext();
    if (!cidr) {
      this.recorder.event(node, { apiVersion: 'v1', kind: 'Node' }, 'Normal', 'CIDRNotAvailable', `Node ${name} status is now: CIDRNotAvailable`);
      throw new Error(`failed to allocate a pod CIDR for node ${name}: ${this.cidrs.clusterCidr} has no /${this.cidrs.nodeMaskSize} left`);
    }
    try {
      await this.client.update<NodeObj>(NODES, { ...node, spec: { ...(node.spec ?? {}), podCIDR: cidr, podCIDRs: [cidr] } });
    } catch (err) {
      // A conflict or a failed write: give the range back; the retry sees the node as it is now.
      this.cidrs.release(cidr);
      throw err;
    }
    this.byNode.set(name, { uid: node.metadata.uid, cidrs: [cidr] });
    this.logger.info({ node: name, podCIDR: cidr }, 'allocated a pod CIDR');
  }
}
