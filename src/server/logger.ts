/** @module The structured logger (pino, JSON lines on stdout). Owns no policy about what is logged. */
import { pino, type Logger } from 'pino';

export type { Logger };
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Lines go to stdout through an asynchronous sonic-boom destination: a synchronous write(2) per access line cost
 * about a third of the proxy's CPU per small request. Writes still leave at once (no minimum length, so the
 * "listening" line is never held back); lines written while one write is in flight are coalesced. pino flushes
 * the buffer synchronously on process exit.
 */
export function createLogger(role: string, level: LogLevel = 'info'): Logger {
  return pino({
    level,
    base: { role },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  }, pino.destination({ dest: 1, sync: false }));
}

/** A logger that drops everything: the default when ferry is embedded as a library. */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}
