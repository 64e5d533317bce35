/** @module logging: the one access-log line per request (server/access-log). */
import { cacheStatusOf } from '../../cache/cache-status.ts';
import { accessRecordOf, type ProxyAccessFields } from '../../server/access-line.ts';
import { queueProxyAccessLine } from '../../server/access-line-queue.ts';
import { logAccess } from '../../server/access-log.ts';
import type { ProxyFilter } from '../phases.ts';

const round3 = (ms: number): number => Math.round(ms * 1000) / 1000;

export function createAccessLogFilter(): ProxyFilter {
  // one object for every request's fields (queueProxyAccessLine copies them; logAccess writes at once)
  const fields: ProxyAccessFields = {
    requestId: '', method: '', path: '', status: 0, bytesIn: 0, bytesOut: 0, durationMs: 0, clientAddress: '', httpVersion: '',
    upstreamMs: undefined, cacheStatus: undefined, tries: undefined, error: undefined,
  };
  return {
    name: 'access-log',
    logging(ctx) {
      const quiet = ctx.error === undefined && (ctx.status ?? 0) < 500;
      if (quiet ? !ctx.log.isLevelEnabled('info') : !ctx.log.isLevelEnabled('warn')) return; // skip building the line
      fields.requestId = ctx.id;
      fields.method = ctx.request.method;
      fields.path = ctx.request.target;
      fields.status = ctx.status ?? 0;
      fields.bytesIn = ctx.bytesIn;
      fields.bytesOut = ctx.bytesOut;
      fields.durationMs = round3(performance.now() - ctx.startedMono);
      fields.clientAddress = ctx.clientAddress;
      fields.httpVersion = ctx.request.httpVersion;
      fields.upstreamMs = ctx.upstreamTimeMs === undefined ? undefined : round3(ctx.upstreamTimeMs);
      fields.cacheStatus = ctx.cache === undefined ? undefined : cacheStatusOf(ctx.cache);
      fields.tries = ctx.tries;
      fields.error = ctx.error?.code;
      // stdout to a regular file (how users run it): the fields queued, written into the file writer's buffer
      // with the batch's other lines (server/access-line-queue.ts); no record object
      if (queueProxyAccessLine(ctx.log, fields)) return;
      logAccess(ctx.log, accessRecordOf(fields));
    },
  };
}
