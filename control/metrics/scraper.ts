import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Logger } from '../../lib/log.js';
import { Informer, type KubeClient, type KubeObject } from '../client/index.js';
import { parseResourceMetrics, type ResourceSamples } from './resource-text.js';
import { computeUsage, type NodeUsageReport } from './usage.js';

const NODES = { group: '', version: 'v1', resource: 'nodes' };

export interface NodeObject extends KubeObject {
  status?: { addresses?: Array<{ type?: string; address?: string }>; daemonEndpoints?: { kubeletEndpoint?: { Port?: number } } };
}

/** Reads one node's /metrics/resource text. */
export type NodeMetricsFetcher = (node: NodeObject) => Promise<string>;

/** How the control plane reaches a node's agent: HTTPS with the API server's kubelet client certificate. */
export function httpsNodeFetcher(tls: { ca?: string; cert?: string; key?: string; insecure?: boolean } = {}, timeoutMs = 10_000): NodeMetricsFetcher {
  return (node) =>
    new Promise((resolve, reject) => {
      const addrs = node.status?.addresses ?? [];
      const host = (addrs.find((a) => a.type === 'InternalIP') ?? addrs[0])?.address;
      const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
      if (!host || !port) return reject(new Error(`node ${node.metadata.name} reports no address or kubelet port`));
      const secure = port !== 10255;
      const options = { host, port, path: '/metrics/resource', method: 'GET', timeout: timeoutMs, headers: { Accept: 'text/plain' } };
      const req = secure
        ? httpsRequest({ ...options, ...(tls.ca ? { ca: tls.ca } : {}), ...(tls.cert ? { cert: tls.cert } : {}), ...(tls.key ? { key: tls.key } : {}), rejectUnauthorized: !tls.insecure }, onResponse)
        : httpRequest(options, onResponse);
      function onResponse(res: import('node:http').IncomingMessage): void {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => ((res.statusCode ?? 500) >= 300 ? reject(new Error(`HTTP ${res.statusCode} from ${host}:${port}/metrics/resource`)) : resolve(Buffer.concat(chunks).toString('utf8'))));
        res.on('error', reject);
      }
      req.on('timeout', () => req.destroy(new Error(`timed out reading ${host}:${port}/metrics/resource`)));
      req.on('error', reject);
      req.end();
    });
}

/**
 * metrics-server inside the control plane: every resolution period it scrapes each node's resource metrics and keeps
 * the latest usage per node and per pod, which the API server serves as metrics.k8s.io for `kubectl top` and the HPA.
 */
export class ResourceMetricsScraper {
  private readonly nodes: Informer<NodeObject>;
  private readonly samples = new Map<string, ResourceSamples>();
  private readonly reports = new Map<string, NodeUsageReport>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    client: KubeClient,
    private readonly fetch: NodeMetricsFetcher,
    private readonly logger: Logger,
    /** metrics-server's --metric-resolution (15 s). */
    private readonly resolutionMs = 15_000,
    private readonly now: () => number = Date.now,
  ) {
    this.nodes = new Informer<NodeObject>(client, NODES, { onError: (err) => logger.debug({ err: err.message }, 'node informer: relisting') });
  }

  start(): void {
    this.nodes.start();
    void this.nodes.waitForSync().then(() => this.scrapeAll());
    this.timer = setInterval(() => void this.scrapeAll(), this.resolutionMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.nodes.stop();
  }

  /** The latest usage per node name. */
  get latest(): ReadonlyMap<string, NodeUsageReport> {
    return this.reports;
  }

  async scrapeAll(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const nodes = this.nodes.list();
      const names = new Set(nodes.map((n) => n.metadata.name ?? ''));
      for (const name of [...this.samples.keys()]) if (!names.has(name)) {
        this.samples.delete(name);
        this.reports.delete(name);
      }
      await Promise.all(nodes.map((n) => this.scrape(n)));
    } finally {
      this.running = false;
    }
  }

  private async scrape(node: NodeObject): Promise<void> {
    const name = node.metadata.name ?? '';
    try {
      const text = await this.fetch(node);
      const cur = parseResourceMetrics(text, this.now());
      this.reports.set(name, computeUsage(this.samples.get(name), cur));
      this.samples.set(name, cur);
    } catch (err) {
      this.reports.delete(name);
      this.logger.warn({ node: name, err: err instanceof Error ? err.message : String(err) }, 'failed to scrape node resource metrics');
    }
  }
}
