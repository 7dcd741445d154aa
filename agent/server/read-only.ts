import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { PassThrough, type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { closeServer, listenOn } from '../../lib/http-server.js';
import type { Logger } from '../../lib/log.js';
import type { Agent } from '../agent.js';
import { formatSourceError } from '../config/index.js';
import { newestFirst } from '../kuberuntime/actions.js';
import { logTarget } from './log-target.js';

/** Upstream's limit for a request body to the API server; no manifest is larger. */
const MAX_BODY_BYTES = 3 * 1024 * 1024;

function status(res: ServerResponse, code: number, reason: string, message: string, causes?: Array<{ message: string; field?: string }>): void {
  send(res, code, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
    ...(causes ? { details: { causes: causes.map((c) => ({ reason: 'FieldValueInvalid', ...c })) } } : {}),
  });
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

class BodyTooLarge extends Error {}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function intParam(url: URL, name: string): number | undefined | 'invalid' {
  const v = url.searchParams.get(name);
  if (v === null) return undefined;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : 'invalid';
}

/** Passes the first `limit` bytes on, then ends (upstream's limitBytes: the log is cut, following or not). */
function truncateAfter(limit: number): Transform {
  let left = limit;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (left <= 0) return cb();
      const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
      left -= part.length;
      this.push(part);
      if (left <= 0) this.push(null);
      cb();
    },
  });
}

const boolParam = (url: URL, name: string): boolean => ['true', '1'].includes(url.searchParams.get(name) ?? '');

/**
 * The agent's HTTP API on the read-only port (10255): /healthz, /pods, /metrics, /containerLogs, and pod
 * submission (POST/PUT /pods, DELETE /pods/{namespace}/{name}), the notes' "HTTP server" pod source.
 */
export class ReadOnlyServer {
  private server: Server | undefined;

  constructor(
    private readonly agent: Agent,
    private readonly logger: Logger,
  ) {}

  async listen(port: number, address: string): Promise<number> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.logger.warn({ err: err instanceof Error ? err.message : String(err), url: req.url }, 'request failed');
        if (!res.headersSent) status(res, 500, 'InternalError', err instanceof Error ? err.message : String(err));
        else res.destroy();
      });
    });
    // Slow or half-open clients must not hold sockets forever.
    server.headersTimeout = 30_000;
    server.requestTimeout = 60_000;
    this.server = server;
    return listenOn(server, port, address);
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }

  /** Answers one request; the secure server calls this after authenticating and authorizing it. */
  serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return this.handle(req, res);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://agent');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const method = req.method ?? 'GET';

    if (url.pathname === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
      return;
    }
    if (url.pathname === '/metrics' && method === 'GET') {
      const body = await this.agent.metrics.registry.metrics();
      res.writeHead(200, { 'Content-Type': this.agent.metrics.registry.contentType });
      res.end(body);
      return;
    }
    if (parts[0] === 'pods' && parts.length === 1) {
      if (method === 'GET') {
        send(res, 200, { kind: 'PodList', apiVersion: 'v1', metadata: {}, items: this.agent.pods() });
        return;
      }
      if (method === 'POST' || method === 'PUT') {
        let body: string;
        try {
          body = await readBody(req);
        } catch (err) {
          if (err instanceof BodyTooLarge) {
            // The rest of the body is never read, so this connection cannot carry another request.
            res.setHeader('Connection', 'close');
            return status(res, 413, 'RequestEntityTooLarge', `request body exceeds ${MAX_BODY_BYTES} bytes`);
          }
          throw err;
        }
        const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
        if (contentType && !/json|yaml|^text\/plain$|^application\/octet-stream$/.test(contentType)) {
          return status(res, 415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`);
        }
        const result = this.agent.http.submit(body, req.headers['content-type'] ?? '', `POST ${req.url ?? '/pods'}`);
        if (!result.ok) {
          const message = result.errors.map(formatSourceError).join('; ');
          return status(res, 422, 'Invalid', message, result.errors.map((e) => ({ message: formatSourceError(e) })));
        }
        send(res, 201, { kind: 'PodList', apiVersion: 'v1', metadata: {}, items: result.pods });
        return;
      }
      res.setHeader('Allow', 'GET, POST, PUT');
      return status(res, 405, 'MethodNotAllowed', `method ${method} not allowed on /pods`);
    }
    if (parts[0] === 'pods' && parts.length === 3) {
      const [, namespace, name] = parts as [string, string, string];
      if (method === 'GET') {
        const pod = this.agent.findPod(namespace, name);
        if (!pod) return status(res, 404, 'NotFound', `pods "${name}" not found`);
        return send(res, 200, pod);
      }
      if (method === 'DELETE') {
        if (!this.agent.http.remove(namespace, name)) {
          return status(res, 404, 'NotFound', `pods "${name}" not found among pods submitted to this agent`);
        }
        return send(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, kind: 'pods' } });
      }
      res.setHeader('Allow', 'GET, DELETE');
      return status(res, 405, 'MethodNotAllowed', `method ${method} not allowed`);
    }
    if (parts[0] === 'containerLogs' && parts.length === 4 && method === 'GET') {
      const [, namespace, podName, containerName] = parts as [string, string, string, string];
      return this.containerLogs(url, res, namespace, podName, containerName);
    }
    return status(res, 404, 'NotFound', `the server could not find the requested resource (${url.pathname})`);
  }

  private async containerLogs(url: URL, res: ServerResponse, namespace: string, podName: string, containerName: string): Promise<void> {
    const pod = this.agent.findPod(namespace, podName);
    if (!pod) return status(res, 404, 'NotFound', `pods "${podName}" not found`);
    const known = [...pod.spec.containers, ...pod.spec.initContainers, ...(pod.spec.ephemeralContainers ?? [])].some((c) => c.name === containerName);
    if (!known) return status(res, 400, 'BadRequest', `container ${containerName} is not valid for pod ${podName}`);
    const tailLines = intParam(url, 'tailLines');
    const sinceSeconds = intParam(url, 'sinceSeconds');
    const limitBytes = intParam(url, 'limitBytes');
    if (tailLines === 'invalid' || sinceSeconds === 'invalid' || limitBytes === 'invalid') return status(res, 400, 'BadRequest', 'tailLines, sinceSeconds and limitBytes must be non-negative integers');
    const instances = (await this.agent.runtime.listPodContainers(pod.metadata.uid)).filter((c) => c.name === containerName).sort(newestFirst);
    const previous = boolParam(url, 'previous');
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? []), ...(pod.status?.ephemeralContainerStatuses ?? [])];
    const target = logTarget(statuses.find((s) => s.name === containerName), instances, previous, podName, containerName);
    if ('error' in target) return status(res, 400, 'BadRequest', target.error);
    let stream: Readable;
    try {
      stream = await this.agent.runtime.logs(target.id, {
        follow: boolParam(url, 'follow'),
        timestamps: boolParam(url, 'timestamps'),
        ...(tailLines !== undefined ? { tailLines } : {}),
        ...(sinceSeconds !== undefined ? { sinceSeconds } : {}),
      });
    } catch (err) {
      // The instance the status names is gone (removed by hand, or collected): as upstream, a 400 saying so.
      if ((err as { statusCode?: number }).statusCode === 404) return status(res, 400, 'BadRequest', `container ${JSON.stringify(containerName)} in pod ${JSON.stringify(podName)} is not available`);
      throw err;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.on('close', () => stream.destroy());
    try {
      await pipeline(stream, limitBytes !== undefined ? truncateAfter(limitBytes) : new PassThrough(), res);
    } catch {
      // The client went away while following: nothing to report.
    }
  }
}
