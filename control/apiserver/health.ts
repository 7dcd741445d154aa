import type { ServerResponse } from 'node:http';
import type { Logger } from '../../lib/log.js';
import type { Store } from '../store/index.js';

/**
 * /healthz, /livez and /readyz as upstream's healthz package serves them: "ok" when every check passes; with
 * ?verbose one "[+]name ok" line per check and "<endpoint> check passed"; a failing check makes it a 500 listing
 * every check ("[-]name failed: reason withheld", the reason only in the log) and "<endpoint> check failed";
 * ?exclude=name skips a check ("[+]name excluded: ok"); /livez/<name> runs one check ("ok", or 500 "internal
 * server error: <reason>").
 */

export type HealthEndpoint = 'healthz' | 'livez' | 'readyz';

export interface HealthCheck {
  readonly name: string;
  /** Resolves when healthy; rejects with the reason otherwise. */
  check(): Promise<void>;
}

/** Upstream's --etcd-healthcheck-timeout and --etcd-readycheck-timeout (2 s each). */
export const STORE_CHECK_TIMEOUT_MS = 2000;

const ok = (name: string): HealthCheck => ({ name, check: () => Promise.resolve() });

/** One read of the store, as upstream's etcd check gets a key: a store without a quorum fails it. */
export function storeCheck(name: string, store: Store, timeoutMs: number): HealthCheck {
  return {
    name,
    async check() {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the store did not answer within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        await Promise.race([store.range({ key: 'health', countOnly: true }), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** The checks of each endpoint: livez and healthz see the process and its store, readyz also a shutdown. */
export function apiServerHealthChecks(store: Store, shuttingDown: () => boolean, timeoutMs = STORE_CHECK_TIMEOUT_MS): Record<HealthEndpoint, HealthCheck[]> {
  const live = [ok('ping'), ok('log'), storeCheck('etcd', store, timeoutMs)];
  const shutdown: HealthCheck = {
    name: 'shutdown',
    check: () => (shuttingDown() ? Promise.reject(new Error('process is shutting down')) : Promise.resolve()),
  };
  return { healthz: live, livez: live, readyz: [...live, storeCheck('etcd-readiness', store, timeoutMs), shutdown] };
}

/** Splits /livez, /livez/etcd, ... into the endpoint and the one check asked for; undefined for other paths. */
export function parseHealthPath(path: string): { endpoint: HealthEndpoint; check?: string } | undefined {
  const m = /^\/(healthz|livez|readyz)(?:\/(.+?))?\/*$/.exec(path);
  if (!m) return undefined;
  return { endpoint: m[1] as HealthEndpoint, ...(m[2] !== undefined ? { check: m[2] } : {}) };
}

function send(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
  res.end(text);
}

/** Answers a health request; false when `check` names no check of the endpoint (the caller answers 404). */
export async function serveHealth(
  res: ServerResponse,
  at: { endpoint: HealthEndpoint; check?: string },
  query: URLSearchParams,
  checks: Record<HealthEndpoint, HealthCheck[]>,
  log: Logger,
): Promise<boolean> {
  const list = checks[at.endpoint];
  if (at.check !== undefined) {
    const one = list.find((c) => c.name === at.check);
    if (!one) return false;
    try {
      await one.check();
      send(res, 200, 'ok');
    } catch (err) {
      send(res, 500, `internal server error: ${err instanceof Error ? err.message : String(err)}\n`);
    }
    return true;
  }
  const excluded = new Set(query.getAll('exclude').flatMap((e) => e.split(',')).map((e) => e.trim()).filter((e) => e !== ''));
  const results = await Promise.all(
    list.map(async (c) => {
      if (excluded.has(c.name)) return { line: `[+]${c.name} excluded: ok`, failed: false };
      try {
        await c.check();
        return { line: `[+]${c.name} ok`, failed: false };
      } catch (err) {
        log.warn({ check: c.name, endpoint: at.endpoint, err: err instanceof Error ? err.message : String(err) }, 'apiserver: health check failed');
        return { line: `[-]${c.name} failed: reason withheld`, failed: true };
      }
    }),
  );
  const lines = results.map((r) => r.line);
  const unknown = [...excluded].filter((e) => !list.some((c) => c.name === e)).sort();
  if (unknown.length > 0) lines.push(`warn: some health checks cannot be excluded: no matches for ${unknown.map((u) => JSON.stringify(u)).join(',')}`);
  const body = lines.join('\n');
  if (results.some((r) => r.failed)) {
    send(res, 500, `${body}\n${at.endpoint} check failed\n`);
  } else if (query.has('verbose')) {
    send(res, 200, `${body}\n${at.endpoint} check passed\n`);
  } else {
    send(res, 200, 'ok');
  }
  return true;
}
