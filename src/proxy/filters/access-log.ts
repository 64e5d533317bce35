/** @module logging: the one access-log line per request (server/access-log). */
import { logAccess } from '../../server/access-log.ts';
import type { ProxyFilter } from '../phases.ts';

export function createAccessLogFilter(): ProxyFilter {
  return {
    name: 'access-log',
    logging(ctx) {
      const quiet = ctx.error === undefined && (ctx.status ?? 0) < 500;
      if (quiet ? !ctx.log.isLevelEnabled('info') : !ctx.log.isLevelEnabled('warn')) return; // skip building the record
      logAccess(ctx.log, {
        requestId: ctx.id,
        method: ctx.request.method,
        path: ctx.request.target,
        status: ctx.status ?? 0,
        bytesIn: ctx.bytesIn,
        bytesOut: ctx.bytesOut,
        durationMs: Math.round((performance.now() - ctx.startedMono) * 1000) / 1000,
        clientAddress: ctx.clientAddress,
        ...(ctx.upstreamTimeMs !== undefined ? { upstreamMs: Math.round(ctx.upstreamTimeMs * 1000) / 1000 } : {}),
        ...(ctx.cacheStatus !== undefined ? { cacheStatus: ctx.cacheStatus } : {}),
        ...(ctx.error !== undefined ? { error: ctx.error.code } : {}),
      });
    },
  };
}
