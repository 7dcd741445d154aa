import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * One logger per daemon. JSON lines for machines (journald, files); pretty output when a person is watching a TTY.
 * SKIFF_LOG_LEVEL overrides the level so tests and users can turn on debug output without a flag.
 */
export function createLogger(name: string, level = process.env.SKIFF_LOG_LEVEL ?? 'info'): Logger {
  const pretty = process.stderr.isTTY && process.env.SKIFF_LOG_FORMAT !== 'json';
  if (pretty) {
    return pino({
      name,
      level,
      transport: { target: 'pino-pretty', options: { destination: 2, translateTime: 'SYS:HH:MM:ss.l' } },
    });
  }
  return pino({ name, level }, pino.destination({ fd: 2, sync: false }));
}

/** A logger that drops everything, for unit tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
