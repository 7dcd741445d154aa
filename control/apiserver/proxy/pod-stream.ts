import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiError, badRequest } from '../http/status.js';
import { findResource, type ResourceDef } from '../resources.js';
import type { RequestContext } from '../rest.js';
import { kubeletConnect, type KubeletClientConfig } from './kubelet-client.js';
import { chooseContainer, nodeEndpoint, type NodeLike, type PodLike, type PodLogDeps } from './pod-log.js';

/**
 * pods/exec, pods/attach and pods/portforward: upstream's ExecLocation/AttachLocation/PortForwardLocation plus the
 * upgrade-aware proxy. The request (a WebSocket or SPDY upgrade from kubectl) is checked, turned into the node
 * agent's /exec/{ns}/{pod}/{container}, /attach/... or /portForward/{ns}/{pod} URL, sent to the agent over TLS with
 * the API server's kubelet client certificate, and from then on bytes are copied both ways: the agent's answer,
 * 101 Switching Protocols or an error, goes back to the client as it is.
 */

export const STREAMING_SUBRESOURCES = ['exec', 'attach', 'portforward'];

/** Headers that carry the upgrade negotiation through to the agent. */
const PASSED_HEADERS = ['upgrade', 'connection', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol', 'x-stream-protocol-version', 'user-agent'];

interface PodWithPhase extends PodLike {
  status?: { phase?: string };
}

/** The agent's path and query for a streaming subresource, translating kubectl's parameters as upstream does. */
export function nodeStreamPath(sub: string, namespace: string, pod: PodLike, query: URLSearchParams): string {
  const enc = encodeURIComponent;
  const name = pod.metadata.name ?? '';
  if (sub === 'portforward') {
    const q = new URLSearchParams();
    for (const p of query.getAll('ports')) q.append('port', p);
    const qs = q.toString();
    return `/portForward/${enc(namespace)}/${enc(name)}${qs ? `?${qs}` : ''}`;
  }
  const container = chooseContainer(pod, query.get('container') ?? undefined);
  const flag = (n: string): boolean => ['1', 'true', 't', 'True', 'TRUE'].includes(query.get(n) ?? '');
  const q = new URLSearchParams();
  if (sub === 'exec') {
    const command = query.getAll('command');
    if (command.length === 0) throw badRequest('you must specify a command');
    for (const c of command) q.append('command', c);
  }
  const tty = flag('tty');
  if (flag('stdin')) q.set('input', '1');
  if (flag('stdout')) q.set('output', '1');
  if (flag('stderr') && !tty) q.set('error', '1');
  if (tty) q.set('tty', '1');
  if (!flag('stdin') && !flag('stdout') && !flag('stderr')) throw badRequest('you must specify at least 1 of stdin, stdout, stderr');
  return `/${sub}/${enc(namespace)}/${enc(name)}/${enc(container)}?${q.toString()}`;
}

export async function proxyPodStream(
  deps: PodLogDeps,
  ctx: RequestContext,
  name: string,
  sub: string,
  query: URLSearchParams,
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  kubelet: KubeletClientConfig,
): Promise<void> {
  const podsDef = findResource('', 'v1', 'pods') as ResourceDef;
  const nodesDef = findResource('', 'v1', 'nodes') as ResourceDef;
  const pod = (await deps.get(podsDef, ctx, name)) as PodWithPhase;
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') {
    throw badRequest(`cannot ${sub === 'portforward' ? 'port-forward to' : sub === 'attach' ? 'attach to' : 'exec into'} a container in a completed pod; current phase is ${phase}`);
  }
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) throw badRequest(`pod ${name} does not have a host assigned`);
  const path = nodeStreamPath(sub, pod.metadata.namespace ?? ctx.namespace ?? 'default', pod, query);
  const { namespace: _ns, ...clusterCtx } = ctx;
  const node = (await deps.get(nodesDef, clusterCtx, nodeName)) as NodeLike;
  const { host, port } = nodeEndpoint(node);
  let upstream: Duplex;
  try {
    upstream = await kubeletConnect(kubelet, host, port);
  } catch (err) {
    throw new ApiError(500, 'InternalError', `error dialing backend: ${err instanceof Error ? err.message : String(err)}`);
  }
  const lines = [`${req.method ?? 'GET'} ${path} HTTP/1.1`, `Host: ${host.includes(':') ? `[${host}]` : host}:${port}`];
  for (const h of PASSED_HEADERS) {
    const v = req.headers[h];
    if (v !== undefined) lines.push(`${h}: ${Array.isArray(v) ? v.join(', ') : v}`);
  }
  upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
  if (head.length > 0) upstream.write(head);
  upstream.pipe(client);
  client.pipe(upstream);
  const end = (): void => {
    upstream.destroy();
    client.destroy();
  };
  upstream.on('error', end);
  client.on('error', end);
  upstream.on('close', () => client.end());
  client.on('close', () => upstream.destroy());
}
