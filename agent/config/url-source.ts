import type { Logger } from 'pino';
import type { Pod } from '../../control/api/index.js';
import { loadManifest } from './defaulted.js';
import { errorMessage, OnceReporter, updateSignature } from './report.js';
import { FirstSeen } from './static-pod.js';
import type { PodSource, SourceError, SourceListener } from './types.js';

/** Header name → values in the order given, as --manifest-url-header builds them. */
export type HeaderMap = Record<string, string[]>;

/**
 * Parses --manifest-url-header values as upstream does: each value is a comma-separated list of `Key:Value` pairs,
 * the flag may repeat, and a repeated key adds another value. Throws on a pair without a colon or key, since a
 * mistyped flag should stop the agent at start rather than send the wrong request forever.
 */
export function parseHeaderFlag(values: string | readonly string[]): HeaderMap {
  const out: HeaderMap = {};
  for (const value of typeof values === 'string' ? [values] : values) {
    for (const raw of value.split(',')) {
      const pair = raw.trim();
      if (pair === '') continue;
      const colon = pair.indexOf(':');
      const key = colon < 0 ? '' : pair.slice(0, colon).trim();
      if (key === '') throw new Error(`--manifest-url-header: ${JSON.stringify(pair)} is not Key:Value`);
      (out[key] ??= []).push(pair.slice(colon + 1).trim());
    }
  }
  return out;
}

export interface UrlSourceOptions {
  /** --manifest-url */
  url: string;
  headers?: HeaderMap;
  nodeName: string;
  logger: Logger;
  onUpdate: SourceListener;
  /** Upstream --http-check-frequency, 20 s. */
  httpCheckFrequencyMs?: number;
  /** How long one request (headers and body) may take; defaults to 10 s. */
  timeoutMs?: number;
  now?: () => Date;
  fetch?: typeof fetch;
}

/**
 * Static pods from a manifest URL (upstream http.go), polled every period. The body may be JSON or YAML: a Pod, a
 * PodList, a List, or several YAML documents.
 *
 * An HTTP error, a timeout or a body that does not parse keeps the last good set of pods and reports the error beside
 * them: a web server's bad minute must not stop the pods it serves. An empty body is an answer (no pods), as upstream.
 */
export class UrlSource implements PodSource {
  readonly name = 'url';
  private readonly seen: FirstSeen;
  private readonly errorsLog: OnceReporter;
  private readonly warningsLog: OnceReporter;
  private good: Pod[] = [];
  private goodText: string | undefined;
  private lastSignature: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly opts: UrlSourceOptions) {
    this.seen = new FirstSeen(opts.now);
    this.errorsLog = new OnceReporter(opts.logger, 'warn');
    this.warningsLog = new OnceReporter(opts.logger, 'info');
  }

  /** Starts polling; the first request is sent now but not awaited, so a slow server cannot hold up the agent. */
  async start(): Promise<void> {
    this.stopped = false;
    this.timer = setInterval(() => void this.sync(), this.opts.httpCheckFrequencyMs ?? 20_000);
    this.timer.unref();
    void this.sync();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Polls now, unless a poll is already under way (then waits for that one). */
  sync(): Promise<void> {
    this.running ??= this.poll().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private synced = false;

  hasSynced(): boolean {
    return this.synced;
  }

  private async poll(): Promise<void> {
    if (this.stopped) return;
    const url = this.opts.url;
    const fetched = await this.fetchText();
    if (this.stopped) return;
    if (!fetched.ok) {
      this.push(this.good, [{ origin: url, message: fetched.message }], []);
      return;
    }
    if (fetched.text === this.goodText) {
      this.push(this.good, [], []);
      return;
    }
    const loaded = loadManifest(fetched.text, url, { nodeName: this.opts.nodeName, source: 'http', seen: this.seen });
    if (loaded.errors.length > 0) {
      const kept = this.good.length > 0 ? [{ origin: url, message: `keeping the ${this.good.length} pod(s) last read from this URL` }] : [];
      this.push(this.good, [...loaded.errors, ...kept], loaded.warnings);
      return;
    }
    this.good = loaded.pods;
    this.goodText = fetched.text;
    this.synced = true;
    this.push(this.good, [], loaded.warnings);
  }

  private async fetchText(): Promise<{ ok: true; text: string } | { ok: false; message: string }> {
    const timeoutMs = this.opts.timeoutMs ?? 10_000;
    const headers = new Headers();
    for (const [key, values] of Object.entries(this.opts.headers ?? {})) {
      for (const v of values) headers.append(key, v);
    }
    const doFetch = this.opts.fetch ?? fetch;
    try {
      // The timeout signal also covers reading the body, so a server that stalls mid-response is cut off too.
      const res = await doFetch(this.opts.url, { headers, signal: AbortSignal.timeout(timeoutMs) });
      if (!res.ok) {
        await res.body?.cancel().catch(() => undefined);
        return { ok: false, message: `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}; keeping the last good pods` };
      }
      return { ok: true, text: await res.text() };
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      const why = timedOut ? `no answer within ${timeoutMs} ms` : `request failed: ${errorMessage(err)}`;
      return { ok: false, message: `${why}; keeping the last good pods` };
    }
  }

  private push(pods: Pod[], errors: SourceError[], warnings: string[]): void {
    this.seen.retain(pods.map((p) => p.metadata.uid ?? ''));
    this.errorsLog.reportErrors(errors);
    this.warningsLog.report(warnings);
    const signature = updateSignature(pods, errors);
    if (signature === this.lastSignature) return;
    this.lastSignature = signature;
    this.opts.onUpdate({ source: this.name, pods, origins: pods.map(() => this.opts.url), errors });
  }
}
