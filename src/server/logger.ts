/** @module The structured logger (pino, JSON lines on stdout). Owns no policy about what is logged. */
import { pino, type Logger } from 'pino';
import { registerDirectLines } from './access-line.ts';
import { createLineBatcher, type LineBatcher } from './line-batcher.ts';
import { createFileLineWriter, isRegularFile, type LineBuffer } from './file-line-writer.ts';

export type { Logger };
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Lines go to stdout through an asynchronous sonic-boom destination: a synchronous write(2) per access line cost
 * about a third of the proxy's CPU per small request. They are gathered into batches of about BATCH_CHARS first
 * (line-batcher.ts: one write per batch instead of one per line) and never held longer than about FLUSH_MS: like
 * nginx's `access_log … buffer= flush=`. What is pending is flushed synchronously on process exit. A destination
 * that stops taking lines costs at most MAX_BUFFERED_BYTES of memory: the rest is dropped, counted and reported.
 * When stdout is a regular file, lines take the cheaper synchronous batch writer instead (file-line-writer.ts).
 */
export function createLogger(role: string, level: LogLevel = 'info', fd = 1): Logger {
  const reportDropped = (lines: number): void => {
    logger.warn({ event: 'log-dropped', lines }, `${lines} log lines dropped: the log destination did not keep up`);
  };
  const batcher: LineBatcher & { lineBuffer?: LineBuffer } = isRegularFile(fd)
    ? createFileLineWriter(fd, { batchBytes: BATCH_CHARS, flushMs: FLUSH_MS, reportDropped })
    : createLineBatcher(pino.destination({ dest: fd, sync: false, maxLength: MAX_BUFFERED_BYTES }), {
      batchChars: BATCH_CHARS,
      flushMs: FLUSH_MS,
      fd,
      capBytes: MAX_BUFFERED_BYTES,
      reportDropped,
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
let lastSecond = Number.NaN;
let secondPrefix = '';

/** pino's time field (pino.stdTimeFunctions.isoTime) for the current time, through isoTimeField's cache. */
function isoTimeCached(): string {
  return isoTimeField(Date.now());
}

/**
 * `,"time":"<ISO 8601>"` for `now` (ms since the epoch), as pino.stdTimeFunctions.isoTime writes it, formatted once
 * per millisecond and with Date#toISOString called once per second: under load many lines share a second, and
 * toISOString costs about 7 000 instructions a call (V8 formats it through printf; about 2 % of the CPU of a
 * proxied request with the access log on when it ran once per millisecond). Within a second only the milliseconds
 * change: the text up to the decimal point is kept.
 */
export function isoTimeField(now: number): string {
  if (now === lastMs) return lastTime;
  lastMs = now;
  if (!(now >= 0)) return (lastTime = `,"time":"${new Date(now).toISOString()}"`); // before 1970: no reuse
  const ms = now % 1000;
  const second = now - ms;
  if (second !== lastSecond) {
    const iso = new Date(now).toISOString();
    lastSecond = second;
    secondPrefix = `,"time":"${iso.slice(0, iso.length - 4)}`; // up to and with the '.' before the milliseconds
  }
  lastTime = `${secondPrefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z"`;
  return lastTime;
}

/** A logger that drops everything: the default when ferry is embedded as a library. */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}
