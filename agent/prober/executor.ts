/**
 * The I/O half of probing (upstream pkg/probe/{http,tcp,exec}). Every method settles within its timeout and reports
 * a probe failure as an outcome, never as a rejection: a rejection means "the probe could not be run" and the
 * manager throws that attempt away, as upstream does with prober errors.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { ContainerRuntime } from '../runtime/runtime.js';
import { grpcProbe } from './grpc.js';
import type { HttpHeaderSpec, ProbeOutcome } from './types.js';

export interface ExecutorResult {
  result: ProbeOutcome;
  /** Body (HTTP, truncated), command output (exec) or the error text; for events and logs. */
  output: string;
  /** Upstream's probe.Warning: counted as success but worth a warning (a redirect the prober did not follow). */
  warning?: boolean;
  /** The HTTP status the server answered with, when it answered (lifecycle hooks look at no status code). */
  statusCode?: number;
  /** The command's exit code, when an exec ran to its end (lifecycle hook messages quote it). */
  exitCode?: number;
}

export interface ProbeExecutor {
  httpGet(url: string, headers: HttpHeaderSpec[], timeoutMs: number): Promise<ExecutorResult>;
  tcp(host: string, port: number, timeoutMs: number): Promise<ExecutorResult>;
  exec(containerId: string, command: string[], timeoutMs: number): Promise<ExecutorResult>;
  /** grpc.health.v1 Check; optional so a minimal executor can leave gRPC probes out (they are then errors). */
  grpc?(host: string, port: number, service: string, timeoutMs: number): Promise<ExecutorResult>;
}

/** The Kubernetes minor version Skiff answers to; the probe User-Agent carries it as upstream's kubelet does. */
export const KUBE_VERSION = '1.31';
export const PROBE_USER_AGENT = `kube-probe/${KUBE_VERSION}`;

/** Upstream reads at most 10 KiB of a probe response body. */
const MAX_BODY_BYTES = 10 * 1024;
/** Upstream's HTTP client follows at most 10 redirects (same host only). */
const MAX_REDIRECTS = 10;
/** Slack on top of the exec timeout for the runtime's own timer to win the race and report properly. */
const EXEC_GRACE_MS = 1000;

export interface ProbeExecutorOptions {
  userAgent?: string;
}

export function createProbeExecutor(
  runtime: Pick<ContainerRuntime, 'exec'>,
  opts: ProbeExecutorOptions = {},
): ProbeExecutor {
  const userAgent = opts.userAgent ?? PROBE_USER_AGENT;
  return {
    httpGet: (url, headers, timeoutMs) => httpProbe(url, headers, timeoutMs, userAgent),
    tcp: tcpProbe,
    exec: (containerId, command, timeoutMs) => execProbe(runtime, containerId, command, timeoutMs),
    grpc: (host, port, service, timeoutMs) => grpcProbe(host, port, service, timeoutMs, userAgent),
  };
}

/** Upstream's header defaults: a kube-probe User-Agent and Accept: *\/* unless the probe sets them (empty removes). */
export function probeHeaders(headers: HttpHeaderSpec[], userAgent: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const { name, value } of headers) {
    const key = name.toLowerCase();
    const prev = out[key];
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  if (out['user-agent'] === undefined) out['user-agent'] = userAgent;
  if (out.accept === undefined) out.accept = '*/*';
  else if (out.accept === '') delete out.accept;
  return out;
}

async function httpProbe(
  rawUrl: string,
  headers: HttpHeaderSpec[],
  timeoutMs: number,
  userAgent: string,
): Promise<ExecutorResult> {
  const deadline = Date.now() + timeoutMs;
  const reqHeaders = probeHeaders(headers, userAgent);
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return { result: 'failure', output: `invalid probe URL ${JSON.stringify(rawUrl)}` };
  }
  const firstHost = url.hostname;
  for (let redirects = 0; ; redirects++) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return timeoutFailure(rawUrl);
    let res: HttpResponse;
    try {
      res = await httpGetOnce(url, reqHeaders, remaining);
    } catch (err) {
      // Upstream turns client errors (refused, reset, timeout) into failures.
      return { result: 'failure', output: `Get ${JSON.stringify(url.href)}: ${errorText(err)}` };
    }
    const location = res.status >= 300 && res.status < 400 ? res.location : undefined;
    if (location !== undefined) {
      let next: URL | undefined;
      try {
        next = new URL(location, url);
      } catch {
        next = undefined;
      }
      // Like Go's client with upstream's redirect checker: follow redirects on the same host, stop at others and
      // report the redirect response itself (a warning, which counts as success).
      if (next !== undefined && next.hostname === firstHost && (next.protocol === 'http:' || next.protocol === 'https:')) {
        if (redirects + 1 > MAX_REDIRECTS) {
          return { result: 'failure', output: `Get ${JSON.stringify(next.href)}: stopped after ${MAX_REDIRECTS} redirects` };
        }
        url = next;
        continue;
      }
    }
    if (res.status >= 200 && res.status < 400) {
      if (res.status >= 300) {
        return { result: 'success', warning: true, statusCode: res.status, output: `Probe terminated redirects, Response body: ${res.body}` };
      }
      return { result: 'success', statusCode: res.status, output: res.body };
    }
    // Upstream keeps the body out of the failure message (kubernetes#99425).
    return { result: 'failure', statusCode: res.status, output: `HTTP probe failed with statuscode: ${res.status}` };
  }
}

interface HttpResponse {
  status: number;
  location?: string;
  body: string;
}

function httpGetOnce(url: URL, headers: Record<string, string | string[]>, timeoutMs: number): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(url, {
      method: 'GET',
      headers,
      // No keep-alive: each probe is a fresh connection, as upstream's transport (DisableKeepAlives).
      agent: false,
      // Upstream's HTTPS probes skip certificate verification.
      rejectUnauthorized: false,
    });
    // One deadline for connect, headers and body, like Go's Client.Timeout.
    const timer = setTimeout(() => {
      req.destroy(new Error(`context deadline exceeded (Client.Timeout exceeded after ${timeoutMs}ms)`));
    }, timeoutMs);
    const done = (fn: () => void): void => {
      clearTimeout(timer);
      fn();
    };
    req.on('error', (err) => done(() => reject(err)));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = (): void => {
        const location = res.headers.location;
        done(() =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ...(location ? { location } : {}) }),
        );
        res.destroy();
      };
      res.on('data', (chunk: Buffer) => {
        const room = MAX_BODY_BYTES - size;
        if (room <= 0) return;
        const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
        chunks.push(part);
        size += part.length;
        // A truncated body is not an error upstream; stop reading once there is enough.
        if (size >= MAX_BODY_BYTES) finish();
      });
      res.on('end', finish);
      res.on('error', (err) => done(() => reject(err)));
      // A connection cut mid-body (or by our deadline) must still settle the probe; after finish() this is a no-op.
      res.on('close', () => {
        if (!res.complete) done(() => reject(new Error('connection closed before the response completed')));
      });
    });
    req.end();
  });
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ExecutorResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let settled = false;
    const settle = (r: ExecutorResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(
      () => settle({ result: 'failure', output: `dial tcp ${joinHostPort(host, port)}: i/o timeout` }),
      timeoutMs,
    );
    socket.once('connect', () => settle({ result: 'success', output: '' }));
    socket.once('error', (err) => settle({ result: 'failure', output: `dial tcp ${joinHostPort(host, port)}: ${errorText(err)}` }));
  });
}

async function execProbe(
  runtime: Pick<ContainerRuntime, 'exec'>,
  containerId: string,
  command: string[],
  timeoutMs: number,
): Promise<ExecutorResult> {
  const timedOut: ExecutorResult = {
    result: 'failure',
    output: `command ${JSON.stringify(command)} timed out after ${Math.round(timeoutMs / 1000)}s`,
  };
  let timer: NodeJS.Timeout | undefined;
  // Backstop in case the runtime does not honour its timeout: a probe must always settle.
  const backstop = new Promise<ExecutorResult>((resolve) => {
    timer = setTimeout(() => resolve(timedOut), timeoutMs + EXEC_GRACE_MS);
  });
  const run = runtime.exec(containerId, command, timeoutMs).then(
    (r): ExecutorResult => ({ result: r.exitCode === 0 ? 'success' : 'failure', output: r.output, exitCode: r.exitCode }),
    (err: unknown): ExecutorResult => {
      // A timed-out exec is a failure (upstream's ExecProbeTimeout); any other runtime error means the probe could
      // not run at all, which the manager throws away.
      if (isTimeoutError(err)) return timedOut;
      throw err;
    },
  );
  try {
    return await Promise.race([run, backstop]);
  } finally {
    clearTimeout(timer);
  }
}

function isTimeoutError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return err.name === 'TimeoutError' || /timed? ?out/i.test(err.message);
}

function timeoutFailure(url: string): ExecutorResult {
  return { result: 'failure', output: `Get ${JSON.stringify(url)}: context deadline exceeded (Client.Timeout exceeded)` };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
