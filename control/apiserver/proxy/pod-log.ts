import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, badRequest } from '../http/status.js';
import { findResource, type ResourceDef } from '../resources.js';
import type { RequestContext } from '../rest.js';
import type { KubeObject } from '../storage/object-storage.js';
import { kubeletRequest, kubeletScheme, type KubeletClientConfig } from './kubelet-client.js';

/**
 * GET pods/{name}/log: upstream's pod LogLocation + LocationStreamer. Validates the PodLogOptions, picks the
 * container, finds the pod's node (its InternalIP and status.daemonEndpoints.kubeletEndpoint.Port) and streams the
 * node agent's /containerLogs/{ns}/{pod}/{container} back, following when asked. Agent errors come back with their
 * code and message, as upstream's GenericHttpResponseChecker does.
 *
 * The agent's node server is TLS (port 10250): the API server presents its kubelet client certificate.
 */

export interface PodLogDeps {
  get(def: ResourceDef, ctx: RequestContext, name: string): Promise<KubeObject>;
}

interface ContainerLike {
  name?: string;
}

export interface PodLike extends KubeObject {
  spec?: { nodeName?: string; containers?: ContainerLike[]; initContainers?: ContainerLike[]; ephemeralContainers?: ContainerLike[] };
}

export interface NodeLike extends KubeObject {
  status?: { addresses?: Array<{ type?: string; address?: string }>; daemonEndpoints?: { kubeletEndpoint?: { Port?: number } } };
}

export interface PodLogOptions {
  container?: string;
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  limitBytes?: number;
}

/** Parses and validates the query as upstream's ValidatePodLogOptions (422 Invalid on bad values). */
export function parsePodLogOptions(podName: string, query: URLSearchParams, now: Date = new Date()): PodLogOptions {
  const bool = (name: string): boolean => {
    const v = query.get(name);
    if (v === null || v === '') return false;
    if (['true', '1', 't', 'T', 'TRUE', 'True'].includes(v)) return true;
    if (['false', '0', 'f', 'F', 'FALSE', 'False'].includes(v)) return false;
    throw badRequest(`invalid value for ${name}: strconv.ParseBool: parsing "${v}": invalid syntax`);
  };
  const int = (name: string): number | undefined => {
    const v = query.get(name);
    if (v === null || v === '') return undefined;
    const n = Number(v);
    if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(n)) throw badRequest(`invalid value for ${name}: strconv.ParseInt: parsing "${v}": invalid syntax`);
    return n;
  };
  const errs: Array<{ field: string; message: string }> = [];
  const tailLines = int('tailLines');
  if (tailLines !== undefined && tailLines < 0) errs.push({ field: 'tailLines', message: `Invalid value: ${tailLines}: must be greater than or equal to 0` });
  const limitBytes = int('limitBytes');
  if (limitBytes !== undefined && limitBytes < 1) errs.push({ field: 'limitBytes', message: `Invalid value: ${limitBytes}: must be greater than 0` });
  let sinceSeconds = int('sinceSeconds');
  const sinceTime = query.get('sinceTime');
  if (sinceSeconds !== undefined && sinceTime) errs.push({ field: 'sinceSeconds', message: 'Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified' });
  else if (sinceSeconds !== undefined && sinceSeconds < 1) errs.push({ field: 'sinceSeconds', message: `Invalid value: ${sinceSeconds}: must be greater than 0` });
  if (sinceTime && sinceSeconds === undefined) {
    const t = Date.parse(sinceTime);
    if (Number.isNaN(t)) throw badRequest(`invalid value for sinceTime: parsing time "${sinceTime}" as RFC3339: cannot parse`);
    // The agent takes seconds; a time in the future asks for nothing older than now.
    sinceSeconds = Math.max(1, Math.ceil((now.getTime() - t) / 1000));
  }
  if (errs.length > 0) {
    const texts = errs.map((e) => `${e.field}: ${e.message}`);
    throw new ApiError(422, 'Invalid', `PodLogOptions "${podName}" is invalid: ${texts.length === 1 ? texts[0] : `[${texts.join(', ')}]`}`, {
      name: podName,
      kind: 'PodLogOptions',
      causes: errs.map((e) => ({ reason: e.message.startsWith('Forbidden') ? 'FieldValueForbidden' : 'FieldValueInvalid', message: e.message, field: e.field })),
    });
  }
  const container = query.get('container') ?? undefined;
  return {
    ...(container ? { container } : {}),
    follow: bool('follow'),
    previous: bool('previous'),
    timestamps: bool('timestamps'),
    ...(tailLines !== undefined ? { tailLines } : {}),
    ...(sinceSeconds !== undefined ? { sinceSeconds } : {}),
    ...(limitBytes !== undefined ? { limitBytes } : {}),
  };
}

/** Upstream's validateContainer: the named container must exist; with none named, the pod must have exactly one. */
export function chooseContainer(pod: PodLike, container: string | undefined): string {
  const name = pod.metadata.name ?? '';
  const names = (list: ContainerLike[] | undefined): string[] => (list ?? []).map((c) => c.name ?? '');
  const containers = names(pod.spec?.containers);
  const inits = names(pod.spec?.initContainers);
  const ephemeral = names(pod.spec?.ephemeralContainers);
  if (!container) {
    if (containers.length === 1) return containers[0] as string;
    if (containers.length === 0) throw badRequest(`a container name must be specified for pod ${name}`);
    let msg = `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`;
    if (inits.length > 0) msg += ` or one of the init containers: [${inits.join(' ')}]`;
    if (ephemeral.length > 0) msg += ` or one of the ephemeral containers: [${ephemeral.join(' ')}]`;
    throw badRequest(msg);
  }
  if (![...containers, ...inits, ...ephemeral].includes(container)) throw badRequest(`container ${container} is not valid for pod ${name}`);
  return container;
}

/** Where the node's agent answers: its InternalIP (else any address) and the port its Node status reports. */
export function nodeEndpoint(node: NodeLike): { host: string; port: number } {
  const addrs = node.status?.addresses ?? [];
  const addr = addrs.find((a) => a.type === 'InternalIP' && a.address) ?? addrs.find((a) => a.type === 'ExternalIP' && a.address) ?? addrs.find((a) => a.address);
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  const name = node.metadata.name ?? '';
  if (!addr?.address) throw new ApiError(500, 'InternalError', `Internal error occurred: no preferred addresses found; known addresses: []`);
  if (!port) throw new ApiError(500, 'InternalError', `Internal error occurred: node ${name} does not report a kubelet port`);
  return { host: addr.address, port };
}

/** The agent's URL for the logs: /containerLogs/{ns}/{pod}/{container}?follow=...&tailLines=... */
export function containerLogsPath(namespace: string, pod: string, container: string, opts: PodLogOptions): string {
  const q = new URLSearchParams();
  if (opts.follow) q.set('follow', 'true');
  if (opts.previous) q.set('previous', 'true');
  if (opts.timestamps) q.set('timestamps', 'true');
  if (opts.sinceSeconds !== undefined) q.set('sinceSeconds', String(opts.sinceSeconds));
  if (opts.tailLines !== undefined) q.set('tailLines', String(opts.tailLines));
  if (opts.limitBytes !== undefined) q.set('limitBytes', String(opts.limitBytes));
  const qs = q.toString();
  return `/containerLogs/${[namespace, pod, container].map(encodeURIComponent).join('/')}${qs ? `?${qs}` : ''}`;
}

/** An error answer from the agent, as the Status the API server returns (upstream's NewGenericServerResponse). */
export function agentError(code: number, body: string, podName: string): ApiError {
  let message = body.trim();
  try {
    const parsed = JSON.parse(body) as { kind?: string; message?: string };
    if (parsed && typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // plain text, as the kubelet writes
  }
  const reasons: Record<number, string> = { 400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 405: 'MethodNotAllowed', 409: 'Conflict', 422: 'Invalid', 429: 'TooManyRequests', 503: 'ServiceUnavailable', 504: 'Timeout' };
  if (code === 404 && !message) message = `pods/log "${podName}" not found`;
  if (!message) message = 'the server rejected our request for an unknown reason';
  return new ApiError(code >= 500 && !reasons[code] ? 500 : code, reasons[code] ?? 'InternalError', message, { name: podName, kind: 'pods/log' });
}

export async function servePodLog(deps: PodLogDeps, ctx: RequestContext, name: string, query: URLSearchParams, req: IncomingMessage, res: ServerResponse, kubelet?: KubeletClientConfig): Promise<void> {
  const podsDef = findResource('', 'v1', 'pods') as ResourceDef;
  const nodesDef = findResource('', 'v1', 'nodes') as ResourceDef;
  const opts = parsePodLogOptions(name, query, ctx.now);
  const pod = (await deps.get(podsDef, ctx, name)) as PodLike;
  const container = chooseContainer(pod, opts.container);
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) throw badRequest(`pod ${name} does not have a host assigned`);
  const { namespace: _podNamespace, ...clusterCtx } = ctx;
  // A node that is gone answers 404 NotFound (nodes "x" not found), as upstream's GetConnectionInfo passes it on.
  const node = (await deps.get(nodesDef, clusterCtx, nodeName)) as NodeLike;
  const { host, port } = nodeEndpoint(node);
  const path = containerLogsPath(pod.metadata.namespace ?? ctx.namespace ?? 'default', name, container, opts);

  const upstream = await new Promise<IncomingMessage>((resolve, reject) => {
    const r = kubeletRequest(kubelet, { host, port, path, method: 'GET', headers: { Accept: '*/*' }, timeout: opts.follow ? 0 : 60_000 }, resolve);
    r.on('timeout', () => r.destroy(new Error('timeout awaiting response headers')));
    r.on('error', (err) => reject(new ApiError(500, 'InternalError', `Get "${kubeletScheme(kubelet)}://${host}:${port}${path}": ${err.message}`)));
    req.on('close', () => r.destroy());
    r.end();
  });
  const code = upstream.statusCode ?? 500;
  if (code < 200 || code >= 300) {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of upstream) {
      size += (c as Buffer).length;
      if (size <= 64 * 1024) chunks.push(c as Buffer);
    }
    throw agentError(code, Buffer.concat(chunks).toString('utf8'), name);
  }
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  let left = opts.limitBytes ?? Number.POSITIVE_INFINITY;
  const done = (): void => {
    upstream.destroy();
    if (!res.writableEnded) res.end();
  };
  res.on('close', () => upstream.destroy());
  upstream.on('data', (chunk: Buffer) => {
    if (left <= 0) return;
    const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
    left -= part.length;
    // Back-pressure: a slow client pauses the agent's stream.
    if (!res.write(part)) {
      upstream.pause();
      res.once('drain', () => upstream.resume());
    }
    if (left <= 0) done();
  });
  upstream.on('end', done);
  upstream.on('error', done);
  await new Promise<void>((resolve) => res.once('close', resolve).once('finish', resolve));
}
