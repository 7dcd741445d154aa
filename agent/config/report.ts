import type { Logger } from 'pino';
import { formatSourceError } from './manifest.js';
import type { SourceError } from './types.js';

/**
 * Logs each distinct problem once while it lasts, instead of once per poll: a broken manifest re-read every 20 s
 * would otherwise flood the journal. A problem that goes away and comes back is logged again.
 */
export class OnceReporter {
  private logged = new Set<string>();

  constructor(
    private readonly logger: Logger,
    private readonly level: 'warn' | 'info' = 'warn',
  ) {}

  report(lines: Iterable<string>): void {
    const current = new Set(lines);
    for (const line of current) {
      if (!this.logged.has(line)) this.logger[this.level](line);
    }
    for (const line of this.logged) {
      if (!current.has(line)) this.logger.info(`resolved: ${line}`);
    }
    this.logged = current;
  }

  reportErrors(errors: readonly SourceError[]): void {
    this.report(errors.map(formatSourceError));
  }
}

/** A cheap identity for an update, so sources push only when something changed. */
export function updateSignature(pods: readonly unknown[], errors: readonly SourceError[]): string {
  return JSON.stringify([pods, errors]);
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return `${code && !err.message.includes(code) ? `${code}: ` : ''}${err.message}${cause}`;
  }
  return String(err);
}
