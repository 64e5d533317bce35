/** @module The one access-log line per request that every role writes (JSON via pino, `event: "access"`). */
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
  /** Time from sending upstream to the response head (proxy roles). */
  upstreamMs?: number;
  cacheStatus?: string;
  /** Set when the exchange failed (aborted by either side, upstream error). */
  error?: string;
  [extra: string]: unknown;
}

export function logAccess(log: Logger, record: AccessRecord): void {
  const level = record.status >= 500 || record.error !== undefined ? 'warn' : 'info';
  log[level]({ event: 'access', ...record }, `${record.method} ${record.path} ${record.status}`);
}
