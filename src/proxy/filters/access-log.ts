/** @module logging: the one access-log line per request (server/access-log). */
import { cacheStatusOf } from '../../cache/cache-status.ts';
import { accessRecordOf, type ProxyAccessFields } from '../../server/access-line.ts';
import { queueProxyAccessLine } from '../../server/access-line-queue.ts';
import { logAccess } from '../../server/access-log.ts';
import type { ProxyFilter } from '../phases.ts';

const round3 = (ms: number): number => Math.round(ms * 1000) / 1000;

export function createAccessLogFilter(): ProxyFilter {
  return {
    name: 'access-log',
    logging(ctx) {
      const quiet = ctx.error === undefined && (ctx.status ?? 0) < 500;
      if (quiet ? !ctx.log.isLevelEnabled('info') : !ctx.log.isLevelEnabled('warn')) return; // skip building the line
      // a new record per request, not one reused: stores into a long-lived object each pass V8's write barrier
      // (the object is old, the values young), and queued records would have to be copied anyway
      const fields: ProxyAccessFields = {
        requestId: ctx.id,
        method: ctx.request.method,
        path: ctx.request.target,
        status: ctx.status ?? 0,
        bytesIn: ctx.bytesIn,
        bytesOut: ctx.bytesOut,
        durationMs: round3(performance.now() - ctx.startedMono),
        clientAddress: ctx.clientAddress,
        httpVersion: ctx.request.httpVersion,
        upstreamMs: ctx.upstreamTimeMs === undefined ? undefined : round3(ctx.upstreamTimeMs),
        cacheStatus: ctx.cache === undefined ? undefined : cacheStatusOf(ctx.cache),
        tries: ctx.tries,
        error: ctx.error?.code,
      };
      // stdout to a regular file (how users run it): the record queued, written into the file writer's buffer
      // with the batch's other lines (server/access-line-queue.ts)
      if (queueProxyAccessLine(ctx.log, fields)) return;
      logAccess(ctx.log, accessRecordOf(fields));
    },
  };
}
