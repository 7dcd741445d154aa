import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Duplex } from 'node:stream';
import { closeServer, listenOn } from '../../lib/http-server.js';
import type { Logger } from '../../lib/log.js';
import { isWebSocketRequest, WebSocketConnection } from '../../lib/websocket.js';
import type { Agent } from '../agent.js';
import type { StreamingRuntime, StreamSession } from '../runtime/streaming.js';
import { forbiddenMessage, nodeRequestAttributes, type NodeAuth } from './node-auth.js';
import { PORT_FORWARD_PROTOCOL, PORT_FORWARD_TUNNEL_PROTOCOL, servePortForward, spdyOverSocket, spdyOverWebSocket } from './portforward.js';
import type { ReadOnlyServer } from './read-only.js';
import { parseRemoteCommandOptions, REMOTECOMMAND_PROTOCOLS, REMOTECOMMAND_SPDY_PROTOCOLS, serveRemoteCommand, serveRemoteCommandSpdy } from './remotecommand.js';
import { NodeUsageReader, resourceMetrics, summary, type PodUsageInput, type UsageSnapshot } from './stats.js';

export interface SecureServerOptions {
  agent: Agent;
  readOnly: ReadOnlyServer;
  streaming: StreamingRuntime;
  auth: NodeAuth;
  nodeName: string;
  logger: Logger;
  tls: { cert: string; key: string; clientCA?: string };
}

/** A plain-text answer, as the kubelet writes its errors. */
function text(res: ServerResponse, code: number, body: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function rawText(socket: Duplex, code: number, reason: string, body: string): void {
  socket.end(`HTTP/1.1 ${code} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error' };

class HttpError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The node server on the kubelet's port (10250), over TLS: every request is authenticated (client certificate or
 * bearer token) and authorized (nodes/proxy, stats, metrics, log) first; then the read-only endpoints, resource
 * usage (/stats/summary, /metrics/resource), and the streaming endpoints (/exec, /attach, /portForward) that the API
 * server proxies kubectl exec, attach and port-forward to.
 */
export class SecureServer {
  private server: Server | undefined;
  private readonly nodeUsage = new NodeUsageReader();
  private readonly startTime = new Date();
  private readonly sockets = new Set<Duplex>();

  constructor(private readonly opts: SecureServerOptions) {}

  async listen(port: number, address: string): Promise<number> {
    const { tls } = this.opts;
    const server = createServer(
      { cert: tls.cert, key: tls.key, ...(tls.clientCA ? { ca: tls.clientCA } : {}), requestCert: true, rejectUnauthorized: false },
      (req, res) => {
        this.handle(req, res).catch((err: unknown) => {
          const code = err instanceof HttpError ? err.code : 500;
          if (code === 500) this.opts.logger.warn({ err: err instanceof Error ? err.message : String(err), url: req.url }, 'request failed');
          if (!res.headersSent) text(res, code, err instanceof Error ? err.message : String(err));
          else res.destroy();
        });
      },
    );
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      this.upgrade(req, socket, head).catch((err: unknown) => {
        const code = err instanceof HttpError ? err.code : 500;
        if (code === 500) this.opts.logger.warn({ err: err instanceof Error ? err.message : String(err), url: req.url }, 'streaming request failed');
        if (socket.writable) rawText(socket, code, REASONS[code] ?? 'Error', err instanceof Error ? err.message : String(err));
      });
    });
    server.headersTimeout = 30_000;
    server.requestTimeout = 0;
    this.server = server;
    return listenOn(server, port, address);
  }

  close(): Promise<void> {
    return closeServer(this.server, this.sockets);
  }

  /** 401 when nobody vouches for the request, 403 when the user may not do it. */
  private async check(req: IncomingMessage, path: string): Promise<void> {
    // Upstream labels requests by their first path segment; streaming and followed logs are long-running.
    const root = path.split('/')[1] ?? '';
    const longRunning = /^(exec|attach|portForward)$/.test(root) || (root === 'containerLogs' && /[?&]follow=(true|1)/.test(req.url ?? ''));
    this.opts.agent.metrics.httpRequests.inc({ method: req.method ?? 'GET', path: root, server_type: 'readwrite', long_running: String(longRunning) });
    const user = await this.opts.auth.authenticate(req);
    if (!user) throw new HttpError(401, 'Unauthorized');
    const attrs = nodeRequestAttributes(req.method ?? 'GET', path, this.opts.nodeName);
    if (!(await this.opts.auth.authorize(user, attrs))) throw new HttpError(403, forbiddenMessage(user, attrs));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://node');
    await this.check(req, url.pathname);
    const method = req.method ?? 'GET';
    if (url.pathname === '/stats/summary' && method === 'GET') {
      const body = JSON.stringify(summary(await this.snapshot()));
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    if (url.pathname === '/metrics/resource' && method === 'GET') {
      const body = resourceMetrics(await this.snapshot());
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    if (/^\/(exec|attach|portForward)\//.test(url.pathname)) throw new HttpError(400, 'Upgrade request required');
    await this.opts.readOnly.serve(req, res);
  }

  /** What /stats/summary and /metrics/resource report: the node, and each running pod's containers. */
  private async snapshot(): Promise<UsageSnapshot> {
    const { agent, streaming } = this.opts;
    const node = await this.nodeUsage.read();
    let scrapeError = false;
    const pods: PodUsageInput[] = [];
    const all = await agent.runtime.listPodContainers();
    for (const pod of agent.pods()) {
      const uid = pod.metadata.uid ?? '';
      const running = all.filter((c) => c.podUid === uid && c.name !== 'POD' && c.state === 'running');
      const containers: PodUsageInput['containers'] = [];
      for (const c of running) {
        try {
          const usage = await streaming.usage(c.id);
          if (usage) containers.push({ name: c.name, startTime: c.startedAt ?? c.createdAt, usage });
        } catch {
          scrapeError = true;
        }
      }
      if (containers.length === 0) continue;
      const started = pod.status?.startTime ? new Date(pod.status.startTime) : (containers[0]?.startTime ?? new Date());
      pods.push({ name: pod.metadata.name ?? '', namespace: pod.metadata.namespace ?? '', uid, startTime: started, containers });
    }
    return { nodeName: this.opts.nodeName, nodeStartTime: this.startTime, time: new Date(), node, pods, scrapeError };
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://node');
    await this.check(req, url.pathname);
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const kind = parts[0];
    const { agent, streaming, logger } = this.opts;
    if ((kind === 'exec' || kind === 'attach') && (parts.length === 4 || parts.length === 5)) {
      const [, namespace, podName] = parts as [string, string, string];
      const containerName = parts[parts.length - 1] as string;
      const opts = parseRemoteCommandOptions(url.searchParams);
      if ('error' in opts) throw new HttpError(400, opts.error);
      if (kind === 'exec' && opts.command.length === 0) throw new HttpError(400, 'you must specify a command');
      const containerId = await this.runningContainer(namespace, podName, containerName);
      const start = (): Promise<StreamSession> =>
        kind === 'exec'
          ? streaming.exec(containerId, opts.command, { stdin: opts.stdin, stdout: opts.stdout, stderr: opts.stderr, tty: opts.tty })
          : streaming.attach(containerId, { stdin: opts.stdin, stdout: opts.stdout, stderr: opts.stderr, tty: opts.tty });
      if (isWebSocketRequest(req)) {
        const ws = WebSocketConnection.accept(req, socket, head, REMOTECOMMAND_PROTOCOLS);
        if (!ws) return;
        logger.debug({ kind, namespace, pod: podName, container: containerName, protocol: ws.protocol }, 'streaming session');
        await serveRemoteCommand(ws, opts, start);
        return;
      }
      const protocol = this.spdyUpgrade(req, socket, REMOTECOMMAND_SPDY_PROTOCOLS);
      logger.debug({ kind, namespace, pod: podName, container: containerName, protocol: `SPDY/3.1+${protocol}` }, 'streaming session');
      serveRemoteCommandSpdy(spdyOverSocket(socket, head), opts, start);
      return;
    }
    if (kind === 'portForward' && (parts.length === 3 || parts.length === 4)) {
      const [, namespace, podName] = parts as [string, string, string];
      const pod = agent.findPod(namespace, podName);
      if (!pod) throw new HttpError(404, 'pod does not exist');
      const uid = pod.metadata.uid ?? '';
      const sandbox = (await agent.runtime.listPodContainers(uid)).find((c) => c.name === 'POD' && c.state === 'running');
      if (!sandbox) throw new HttpError(404, `pod ${podName} has no running sandbox`);
      const target = { podName, podUid: uid, connect: (port: number) => streaming.portForward(sandbox.id, port) };
      if (isWebSocketRequest(req)) {
        const ws = WebSocketConnection.accept(req, socket, head, [PORT_FORWARD_TUNNEL_PROTOCOL]);
        if (!ws) return;
        servePortForward(spdyOverWebSocket(ws), target, logger);
        return;
      }
      this.spdyUpgrade(req, socket, [PORT_FORWARD_PROTOCOL]);
      servePortForward(spdyOverSocket(socket, head), target, logger);
      return;
    }
    throw new HttpError(404, `the server could not find the requested resource (${url.pathname})`);
  }

  /** Switches the connection to SPDY/3.1 with the first protocol version the client offers that we speak. */
  private spdyUpgrade(req: IncomingMessage, socket: Duplex, supported: string[]): string {
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'spdy/3.1') throw new HttpError(400, 'unable to upgrade: missing upgrade headers in request');
    const offered = (req.headers['x-stream-protocol-version'] ?? '').toString().split(',').map((p) => p.trim()).filter(Boolean);
    const protocol = offered.find((p) => supported.includes(p));
    if (!protocol) throw new HttpError(403, `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${supported.join(' ')}]`);
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`);
    return protocol;
  }

  private async runningContainer(namespace: string, podName: string, containerName: string): Promise<string> {
    const pod = this.opts.agent.findPod(namespace, podName);
    if (!pod) throw new HttpError(404, 'pod does not exist');
    const found = (await this.opts.agent.runtime.listPodContainers(pod.metadata.uid)).filter((c) => c.name === containerName && c.state === 'running');
    const c = found[0];
    if (!c) throw new HttpError(404, `container not found ("${containerName}")`);
    return c.id;
  }
}
