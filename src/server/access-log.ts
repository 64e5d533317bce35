/** @module The one access-log line per request that every role writes (JSON via pino, `event: "access"`). */
import { writeAccessLine } from './access-line.ts';
import type { Logger } from './logger.ts';

export interface AccessRecord {
  requestId: string;
  method: string;
  /** Request-target as received (query included). */
  path: string;
  status: number;
  bytesIn: number;
  bytesOut: number;
  durationMs: number;
  clientAddress?: string;
  /** `HTTP/1.1`, `HTTP/2.0` … as the client spoke it (proxy role). */
  protocol?: string;
  /** Time from sending upstream to the response head (proxy roles). */
  upstreamMs?: number;
  cacheStatus?: string;
  /** Set when the exchange failed (aborted by either side, upstream error). */
  error?: string;
  [extra: string]: unknown;
}

/**
 * A child of each logger with `event: "access"` bound: pino serialises a child's bindings once, at creation, instead
 * of once per line (and the record is not copied to add the field). Same key order as before: level, time, the
 * logger's bindings, event, then the record.
 */
const ACCESS_LOGGERS = new WeakMap<Logger, Logger>();

function accessLogger(log: Logger): Logger {
  let child = ACCESS_LOGGERS.get(log);
  if (child === undefined || child.level !== log.level) {
    child = log.child({ event: 'access' });
    ACCESS_LOGGERS.set(log, child);
  }
  return child;
}

/** `time`: the line's time field (pino's `,"time":…`) when the line was logged earlier than it is written. */
export function logAccess(log: Logger, record: AccessRecord, time?: string): void {
  const level = record.status >= 500 || record.error !== undefined ? 'warn' : 'info';
  const msg = `${record.method} ${record.path} ${record.status}`;
  // ferry's own loggers: the same line built directly (server/access-line.ts); any other logger: through pino
  if (!writeAccessLine(log, level, record, msg, time)) accessLogger(log)[level](record, msg);
}
