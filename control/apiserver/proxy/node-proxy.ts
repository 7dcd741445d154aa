import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, badRequest } from '../http/status.js';
import { findResource, type ResourceDef } from '../resources.js';
import type { RequestContext } from '../rest.js';
import { kubeletRequest, kubeletScheme, type KubeletClientConfig } from './kubelet-client.js';
import { nodeEndpoint, type NodeLike, type PodLogDeps } from './pod-log.js';

/** Request headers worth passing to the node; credentials are the API server's own, never the user's. */
const PASSED = ['accept', 'content-type', 'content-length', 'user-agent'];

/**
 * nodes/{name}/proxy/{path}: the request, authorized as nodes/proxy, forwarded to the node server's {path} with the
 * API server's kubelet client certificate (`kubectl get --raw /api/v1/nodes/n1/proxy/stats/summary`).
 */
export async function proxyNode(deps: PodLogDeps, ctx: RequestContext, nodeName: string, tail: string[], query: URLSearchParams, req: IncomingMessage, res: ServerResponse, kubelet: KubeletClientConfig | undefined): Promise<void> {
  if (!kubelet) throw new ApiError(503, 'ServiceUnavailable', 'this API server has no kubelet client certificate to reach nodes with');
  if (nodeName.includes(':')) throw badRequest(`proxying to a port of node ${nodeName} is not supported`);
  const node = (await deps.get(findResource('', 'v1', 'nodes') as ResourceDef, ctx, nodeName)) as NodeLike;
  const { host, port } = nodeEndpoint(node);
  const qs = query.toString();
  const trailing = (req.url ?? '').split('?')[0]?.endsWith('/') && tail.length > 0 ? '/' : '';
  const path = `/${tail.map(encodeURIComponent).join('/')}${trailing}${qs ? `?${qs}` : ''}`;
  const headers: Record<string, string> = {};
  for (const h of PASSED) {
    const v = req.headers[h];
    if (typeof v === 'string') headers[h] = v;
  }
  const upstream = await new Promise<IncomingMessage>((resolve, reject) => {
    const r = kubeletRequest(kubelet, { host, port, path, method: req.method ?? 'GET', headers, timeout: 60_000 }, resolve);
    r.on('timeout', () => r.destroy(new Error('timeout awaiting response headers')));
    r.on('error', (err) => reject(new ApiError(503, 'ServiceUnavailable', `error trying to reach service: ${kubeletScheme(kubelet)}://${host}:${port}${path}: ${err.message}`)));
    req.pipe(r);
  });
  const out: Record<string, string> = {};
  for (const h of ['content-type', 'content-length', 'content-encoding']) {
    const v = upstream.headers[h];
    if (typeof v === 'string') out[h] = v;
  }
  res.writeHead(upstream.statusCode ?? 502, out);
  res.on('close', () => upstream.destroy());
  upstream.pipe(res);
  await new Promise<void>((resolve) => res.once('close', resolve).once('finish', resolve));
}
