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
    timestamp: isoTimeCached,
    formatters: { level: (label) => ({ level: label }) },
  }, pino.destination({ dest: 1, sync: false }));
}

let lastMs = Number.NaN;
let lastTime = '';

/**
 * pino.stdTimeFunctions.isoTime, formatted once per millisecond: under load many lines share a millisecond, and
 * Date#toISOString was about 2 % of the CPU of a proxied request with the access log on.
 */
function isoTimeCached(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastTime = `,"time":"${new Date(now).toISOString()}"`;
  }
  return lastTime;
}

/** A logger that drops everything: the default when ferry is embedded as a library. */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}
