/** @module logging: the one access-log line per request (server/access-log). */
import { cacheStatusOf } from '../../cache/cache-status.ts';
import { logAccess, type AccessRecord } from '../../server/access-log.ts';
import type { ProxyFilter } from '../phases.ts';

const round3 = (ms: number): number => Math.round(ms * 1000) / 1000;

export function createAccessLogFilter(): ProxyFilter {
  return {
    name: 'access-log',
    logging(ctx) {
      const quiet = ctx.error === undefined && (ctx.status ?? 0) < 500;
      if (quiet ? !ctx.log.isLevelEnabled('info') : !ctx.log.isLevelEnabled('warn')) return; // skip building the record
      // one object, optional fields assigned only when present (no spreads: this runs once per request)
      const record: AccessRecord = {
        requestId: ctx.id,
        method: ctx.request.method,
        path: ctx.request.target,
        status: ctx.status ?? 0,
        bytesIn: ctx.bytesIn,
        bytesOut: ctx.bytesOut,
        durationMs: round3(performance.now() - ctx.startedMono),
        clientAddress: ctx.clientAddress,
        protocol: `HTTP/${ctx.request.httpVersion}`,
      };
      if (ctx.upstreamTimeMs !== undefined) record.upstreamMs = round3(ctx.upstreamTimeMs);
      if (ctx.cache !== undefined) record.cacheStatus = cacheStatusOf(ctx.cache);
      if (ctx.tries !== undefined) record.tries = ctx.tries;
      if (ctx.error !== undefined) record.error = ctx.error.code;
      logAccess(ctx.log, record);
    },
  };
}
