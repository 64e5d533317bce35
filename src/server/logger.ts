/** @module The structured logger (pino, JSON lines on stdout). Owns no policy about what is logged. */
import { pino, type Logger } from 'pino';
import { registerDirectLines } from './access-line.ts';
import { createLineBatcher } from './line-batcher.ts';

export type { Logger };
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Lines go to stdout through an asynchronous sonic-boom destination: a synchronous write(2) per access line cost
 * about a third of the proxy's CPU per small request. They are gathered into batches of about BATCH_CHARS first
 * (line-batcher.ts: one write per batch instead of one per line) and never held longer than about FLUSH_MS: like
 * nginx's `access_log … buffer= flush=`. What is pending is flushed synchronously on process exit. A destination
 * that stops taking lines costs at most MAX_BUFFERED_BYTES of memory: the rest is dropped, counted and reported.
 */
export function createLogger(role: string, level: LogLevel = 'info', fd = 1): Logger {
  const dest = pino.destination({ dest: fd, sync: false, maxLength: MAX_BUFFERED_BYTES });
  const batcher = createLineBatcher(dest, {
    batchChars: BATCH_CHARS,
    flushMs: FLUSH_MS,
    fd,
    capBytes: MAX_BUFFERED_BYTES,
    reportDropped: (lines) => logger.warn({ event: 'log-dropped', lines }, `${lines} log lines dropped: the log destination did not keep up`),
  });
  const logger = pino(loggerOptions(role, level), batcher);
  registerDirectLines(logger, batcher, isoTimeCached);
  return logger;
}

/** pino's options for ferry's loggers: no hooks, serializers or redaction (server/access-line.ts relies on it). */
export function loggerOptions(role: string, level: LogLevel): pino.LoggerOptions {
  return {
    level,
    base: { role },
    timestamp: isoTimeCached,
    formatters: { level: (label) => ({ level: label }) },
  };
}

const BATCH_CHARS = 8192;
const FLUSH_MS = 10;
/** What may wait for a stalled destination; beyond it lines are dropped (and counted), not held in memory. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

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
