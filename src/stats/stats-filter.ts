/**
 * @module The statistics filter (SPEC: Statistics). route: GET/HEAD of --stats-path (JSON, or HTML for browsers) and
 * --metrics-path (Prometheus) are answered here, never forwarded and never counted. logging: every other request
 * is counted once, when it ends. Put it first in the filter list so its route sees every request.
 */
import { performance } from 'node:perf_hooks';
import { getHeader, type HeaderList } from '../http/headers.ts';
import type { RequestContext } from '../proxy/context.ts';
import { CONTINUE, type LocalReply, type PhaseResult, type ProxyFilter } from '../proxy/phases.ts';
import { parseCacheResult } from './counters.ts';
import { formatStatsHtml, prefersHtml } from './html.ts';
import type { ProxyStats } from './proxy-stats.ts';

export interface StatsPaths {
  /** '' disables. */
  statsPath: string;
  metricsPath: string;
}

const LOCALS_KEY = 'stats';
const NO_STORE: HeaderList = [['cache-control', 'no-store']];

/**
 * For local endpoints of other filters placed before this one (the JWKS): their requests are not proxied requests,
 * so they are left out of the counts like /stats itself.
 */
export function markLocalEndpoint(ctx: RequestContext): void {
  ctx.locals.set(LOCALS_KEY, 'local');
}

/** Which local page an origin-form target asks for; absolute-form targets (forward proxy) are for other hosts. */
export function matchStatsPath(target: string, paths: StatsPaths): 'stats' | 'metrics' | null {
  if (!target.startsWith('/')) return null;
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  if (paths.statsPath !== '' && path === paths.statsPath) return 'stats';
  if (paths.metricsPath !== '' && path === paths.metricsPath) return 'metrics';
  return null;
}

function queryFormat(target: string): string | null {
  const q = target.indexOf('?');
  return q < 0 ? null : new URLSearchParams(target.slice(q + 1)).get('format');
}

async function statsReply(stats: ProxyStats, page: 'stats' | 'metrics', ctx: RequestContext): Promise<LocalReply> {
  const { method, target, headers } = ctx.request;
  if (method !== 'GET' && method !== 'HEAD') {
    return { status: 405, headers: [['allow', 'GET, HEAD'], ['content-type', 'text/plain; charset=utf-8']], body: `${method} is not allowed here; use GET\n` };
  }
  let type: string;
  let text: string;
  if (page === 'metrics') {
    ({ contentType: type, text } = await stats.metrics());
  } else {
    const snap = await stats.snapshot();
    const format = queryFormat(target);
    const html = format === 'html' || (format !== 'json' && prefersHtml(getHeader(headers, 'accept')));
    type = html ? 'text/html; charset=utf-8' : 'application/json';
    text = html ? formatStatsHtml(snap) : `${JSON.stringify(snap, null, 2)}\n`;
  }
  const vary: HeaderList = page === 'stats' ? [['vary', 'accept']] : [];
  // For HEAD the runner sends the head only, with the Content-Length a GET would have (RFC 9110 §9.3.2).
  return { status: 200, headers: [['content-type', type], ...NO_STORE, ...vary], body: text };
}

export function createStatsFilter(stats: ProxyStats, paths: StatsPaths): ProxyFilter {
  return {
    name: 'stats',
    async route(ctx): Promise<PhaseResult> {
      const page = matchStatsPath(ctx.request.target, paths);
      if (page !== null) {
        ctx.locals.set(LOCALS_KEY, 'local');
        return { kind: 'respond', reply: await statsReply(stats, page, ctx) };
      }
      ctx.locals.set(LOCALS_KEY, 'counted');
      stats.recordStart();
      return CONTINUE;
    },
    logging(ctx) {
      const mark = ctx.locals.get(LOCALS_KEY);
      if (mark === 'local' || mark === 'done') return;
      // No mark: answered before this filter's route ran (a framing error, an earlier local endpoint). Still a
      // request to the proxy, so it is counted, in flight for no time.
      if (mark === undefined) stats.recordStart();
      ctx.locals.set(LOCALS_KEY, 'done'); // exactly once, whatever the runner does
      const cacheResult = parseCacheResult(ctx.cacheStatus);
      stats.recordFinish({
        // No head went out (the client left first, or the connection was cut): counted as status 0, not as the
        // 200 Node's ServerResponse defaults to.
        status: (ctx.res === null ? ctx.status !== undefined : ctx.res.headersSent) ? ctx.status ?? ctx.res.statusCode : 0, // res is null for upgrades and CONNECT (proxy/raw-entry.ts)
        bytesIn: ctx.bytesIn,
        bytesOut: ctx.bytesOut,
        durationMs: performance.now() - ctx.startedMono,
        upstreamError: ctx.error?.source === 'upstream',
        ...(cacheResult === undefined ? {} : { cacheResult }),
      });
    },
    close() { stats.close(); },
  } as ProxyFilter & { close(): void };
}
