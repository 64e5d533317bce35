/** @module The structured logger (pino, JSON lines on stdout). Owns no policy about what is logged. */
import { pino, type Logger } from 'pino';

export type { Logger };
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Lines go to stdout through an asynchronous sonic-boom destination: a synchronous write(2) per access line cost
 * about a third of the proxy's CPU per small request. They are written in batches of about BATCH_BYTES (under load
 * a write(2) through the thread pool per handful of lines was ~9 % of the CPU of a small proxied request with the
 * access log on) and never held longer than about FLUSH_MS: like nginx's `access_log … buffer= flush=`. pino
 * flushes what is left synchronously on process exit.
 */
export function createLogger(role: string, level: LogLevel = 'info'): Logger {
  const out = createStdoutDestination();
  return pino({
    level,
    base: { role },
    timestamp: isoTimeCached,
    formatters: { level: (label) => ({ level: label }) },
    hooks: { streamWrite: out.noteLine },
  }, out.dest);
}

const BATCH_BYTES = 8192;
const FLUSH_MS = 10;

function createStdoutDestination() {
  const dest = pino.destination({ dest: 1, sync: false, minLength: BATCH_BYTES });
  // Something may sit in the buffer below BATCH_BYTES after every line, and after every non-empty write (lines
  // buffered while it was in flight stay there, and a flush asked for meanwhile was a no-op): a flush is then due
  // FLUSH_MS later. The timer is armed only then, so an idle process neither wakes up nor writes.
  let armed = false;
  const flushLater = () => {
    if (armed) return;
    armed = true;
    setTimeout(() => {
      armed = false;
      dest.flush();
    }, FLUSH_MS).unref();
  };
  dest.on('write', (n: number) => { if (n > 0) flushLater(); });
  return { dest, noteLine: (line: string): string => { flushLater(); return line; } };
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
