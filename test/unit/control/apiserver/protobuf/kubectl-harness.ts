// A throwaway API server on 127.0.0.1 that answers discovery well enough for the real kubectl to send its requests,
// records every request body, and answers writes through a hook; plus a runner for kubectl pointed at it.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiGroup, apiGroupList, apiResourceList, apiVersions } from '../../../../../control/apiserver/discovery/discovery.js';

export const KUBECTL = process.env['KUBECTL'] ?? '/usr/bin/kubectl';
export const HAVE_KUBECTL = existsSync(KUBECTL);
/** kubectl 1.33, whose autoscale writes autoscaling/v2 (1.32's writes v1), where the machine has it. */
export const KUBECTL_133 = '/usr/lib/google-cloud-sdk/bin/kubectl.1.33';
export const HAVE_KUBECTL_133 = existsSync(KUBECTL_133);

export interface Captured {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType: string;
  accept: string;
  body: Buffer;
}

export interface Reply {
  status: number;
  contentType?: string;
  body: Buffer | string | Record<string, unknown>;
}

/** Answers a request that discovery does not: return undefined for the default (a 404 Status). */
export type Responder = (req: Captured) => Reply | undefined;

function send(res: import('node:http').ServerResponse, reply: Reply): void {
  const body = Buffer.isBuffer(reply.body) ? reply.body : Buffer.from(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
  res.writeHead(reply.status, { 'Content-Type': reply.contentType ?? 'application/json', 'Content-Length': body.length });
  res.end(body);
}

export class CaptureServer {
  readonly captured: Captured[] = [];
  respond: Responder = () => undefined;
  private server: Server | undefined;
  private dir = '';
  kubeconfig = '';

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://capture');
        const path = url.pathname.replace(/\/+$/, '') || '/';
        const cap: Captured = {
          method: req.method ?? 'GET',
          path,
          query: url.searchParams,
          contentType: req.headers['content-type'] ?? '',
          accept: req.headers.accept ?? '',
          body: Buffer.concat(chunks),
        };
        try {
          const doc = discovery(path);
          if (cap.method === 'GET' && doc) return send(res, { status: 200, body: doc });
          this.captured.push(cap);
          const reply = this.respond(cap);
          if (reply) return send(res, reply);
          send(res, { status: 404, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'NotFound', code: 404, message: 'the server could not find the requested resource' } });
        } catch (err) {
          send(res, { status: 500, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'InternalError', code: 500, message: String(err) } });
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.server = server;
    const port = (server.address() as AddressInfo).port;
    this.dir = mkdtempSync(join(tmpdir(), 'skiff-protobuf-'));
    this.kubeconfig = join(this.dir, 'kubeconfig');
    writeFileSync(
      this.kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{name: capture, cluster: {server: "http://127.0.0.1:${port}"}}]`,
        'users: [{name: capture, user: {token: capture}}]',
        'contexts: [{name: capture, context: {cluster: capture, user: capture, namespace: default}}]',
        'current-context: capture',
        '',
      ].join('\n'),
    );
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  /** Runs kubectl against this server (and a private cache dir), never throwing: the exit code is in the result. */
  kubectl(args: string[], bin = KUBECTL): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        bin,
        args,
        { env: { ...process.env, KUBECONFIG: this.kubeconfig, KUBECACHEDIR: join(this.dir, 'cache'), HOME: this.dir }, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
        (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
          resolve({ code, stdout: String(stdout), stderr: String(stderr) });
        },
      );
    });
  }

  /** The requests with a body (POST, PUT, PATCH, DELETE with options) since the last call. */
  takeWrites(): Captured[] {
    const writes = this.captured.filter((c) => c.body.length > 0);
    this.captured.length = 0;
    return writes;
  }
}

function discovery(path: string): Record<string, unknown> | undefined {
  if (path === '/version') return { major: '1', minor: '32', gitVersion: 'v1.32.0', platform: 'linux/amd64' };
  if (path === '/api') return apiVersions('127.0.0.1');
  if (path === '/apis') return apiGroupList();
  if (path === '/api/v1') {
    // kubectl drain evicts only where discovery names the Eviction's group and version, as upstream's does.
    const list = apiResourceList('', 'v1') as { resources: Array<Record<string, unknown>> };
    return { ...list, resources: list.resources.map((r) => (r['name'] === 'pods/eviction' ? { ...r, group: 'policy', version: 'v1' } : r)) };
  }
  let m = /^\/apis\/([^/]+)\/([^/]+)$/.exec(path);
  if (m) return apiResourceList(m[1] as string, m[2] as string);
  m = /^\/apis\/([^/]+)$/.exec(path);
  if (m) return apiGroup(m[1] as string);
  return undefined;
}
