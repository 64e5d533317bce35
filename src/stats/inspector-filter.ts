/**
 * @module The request inspector's filter: last in the filter list, so its responseFilter sees the head exactly as
 * sent downstream (X-Request-Id, Cache-Status and Via included); its logging keeps the finished request. The
 * client's head as received was kept by the stats filter's route (stats-filter.ts REQUEST_HEAD_KEY).
 */
import { performance } from 'node:perf_hooks';
import type { HeaderList } from '../http/headers.ts';
import { sentStatus } from '../proxy/context.ts';
import type { ProxyFilter, RequestHead } from '../proxy/phases.ts';
import { cacheResultOf } from '../cache/cache-status.ts';
import type { ProxyStats } from './proxy-stats.ts';
import { REQUEST_HEAD_KEY } from './stats-filter.ts';

const RESPONSE_HEAD_KEY = 'inspector.response';
const round3 = (n: number): number => Math.round(n * 1000) / 1000;

export function createInspectorFilter(stats: ProxyStats): ProxyFilter {
  return {
    name: 'inspector',
    responseFilter(head, ctx) {
      ctx.locals.set(RESPONSE_HEAD_KEY, head.headers);
      return head;
    },
    logging(ctx) {
      if (ctx.locals.get('stats') === 'local') return; // the stats pages themselves are not inspected
      // a request refused before the stats route ran (framing error) has only the validated head
      const request = (ctx.locals.get(REQUEST_HEAD_KEY) as RequestHead | undefined) ?? ctx.request;
      const status = sentStatus(ctx);
      stats.inspect({
        id: ctx.id,
        startedAt: ctx.startedAt,
        method: request.method,
        target: request.target,
        httpVersion: request.httpVersion,
        status,
        durationMs: round3(performance.now() - ctx.startedMono),
        bytesIn: ctx.bytesIn,
        bytesOut: ctx.bytesOut,
        upstream: ctx.upstream?.origin ?? '',
        cache: ctx.cache === undefined ? '' : cacheResultOf(ctx.cache),
        error: ctx.error?.code ?? '',
        requestHeaders: request.headers,
        responseHeaders: status !== 0 ? (ctx.locals.get(RESPONSE_HEAD_KEY) as HeaderList | undefined) ?? [] : null,
      });
    },
  };
}
