/**
 * @module The statistics filter (SPEC: Statistics). route: GET/HEAD of --stats-path (JSON; the dashboard for
 * browsers; an event stream for EventSource), its assets and inspector (`PATH/app.js`, `PATH/app.css`,
 * `PATH/requests`), and --metrics-path (Prometheus) are answered here, never forwarded and never counted. logging:
 * every other request is counted once, when it ends. Put it first in the filter list so its route sees every
 * request; inspector-filter.ts, last in the list, keeps the heads for the inspector.
 */
import { performance } from 'node:perf_hooks';
import { getHeader, type HeaderList } from '../http/headers.ts';
import { sentStatus, type RequestContext } from '../proxy/context.ts';
import { CONTINUE, type LocalReply, type PhaseResult, type ProxyFilter } from '../proxy/phases.ts';
import { cacheResultOf } from '../cache/cache-status.ts';
import { upstreamErrorKind } from './counters.ts';
import { dashboardAssets, dashboardHeaders, dashboardHtml } from './dashboard.ts';
import { prefersEventStream, prefersHtml } from './html.ts';
import type { ProxyStats } from './proxy-stats.ts';

export interface StatsPaths {
  /** '' disables. */
  statsPath: string;
  metricsPath: string;
}

const LOCALS_KEY = 'stats';
/** The client's head as received, kept for the inspector (later filters may replace ctx.request). */
export const REQUEST_HEAD_KEY = 'stats.request';

type Page = 'stats' | 'metrics' | 'requests' | 'app.js' | 'app.css';
const SUBPAGES: ReadonlySet<string> = new Set(['requests', 'app.js', 'app.css']);
const NO_STORE: HeaderList = [['cache-control', 'no-store']];

/**
 * For local endpoints of other filters placed before this one (the JWKS): their requests are not proxied requests,
 * so they are left out of the counts like /stats itself.
 */
export function markLocalEndpoint(ctx: RequestContext): void {
  ctx.locals.set(LOCALS_KEY, 'local');
}

/** Which local page an origin-form target asks for; absolute-form targets (forward proxy) are for other hosts. */
export function matchStatsPath(target: string, paths: StatsPaths): Page | null {
  if (!target.startsWith('/')) return null;
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  if (paths.statsPath !== '' && path === paths.statsPath) return 'stats';
  if (paths.metricsPath !== '' && path === paths.metricsPath) return 'metrics';
  // only these few names under the stats path are ferry's; anything else there is proxied as before
  if (paths.statsPath !== '' && path.startsWith(`${paths.statsPath}/`)) {
    const sub = path.slice(paths.statsPath.length + 1);
    if (SUBPAGES.has(sub)) return sub as Page;
  }
  return null;
}

function queryFormat(target: string): string | null {
  const q = target.indexOf('?');
  return q < 0 ? null : new URLSearchParams(target.slice(q + 1)).get('format');
}

const json = (value: unknown): LocalReply => ({ status: 200, headers: [['content-type', 'application/json'], ...NO_STORE], body: `${JSON.stringify(value, null, 2)}\n` });

async function statsReply(stats: ProxyStats, page: Page, ctx: RequestContext, paths: StatsPaths): Promise<LocalReply> {
  const { method, target, headers } = ctx.request;
  if (method !== 'GET' && method !== 'HEAD') {
    return { status: 405, headers: [['allow', 'GET, HEAD'], ['content-type', 'text/plain; charset=utf-8']], body: `${method} is not allowed here; use GET\n` };
  }
  if (page === 'metrics') {
    const { contentType, text } = await stats.metrics();
    return { status: 200, headers: [['content-type', contentType], ...NO_STORE], body: text };
  }
  if (page === 'app.js' || page === 'app.css') {
    const asset = dashboardAssets()[page];
    return { status: 200, headers: [['content-type', asset.type], ...dashboardHeaders('asset')], body: asset.body };
  }
  if (page === 'requests') {
    if (!stats.inspectorEnabled) return { status: 404, headers: NO_STORE, body: 'the request inspector is off (--inspector false)\n' };
    return json({ pid: process.pid, requests: stats.inspectorRows() });
  }
  const format = queryFormat(target);
  const accept = getHeader(headers, 'accept');
  const vary: HeaderList = [['vary', 'accept']];
  if (format === 'events' || (format === null && prefersEventStream(accept))) {
    if (method === 'HEAD') return { status: 200, headers: [['content-type', 'text/event-stream'], ...NO_STORE, ...vary] };
    const stream = stats.openStream();
    if (stream === null) return { status: 503, headers: [['retry-after', '10'], ...NO_STORE], body: 'too many open event streams\n' };
    return { status: 200, headers: [['content-type', 'text/event-stream'], ...NO_STORE, ...vary], body: stream };
  }
  if (format === 'html' || (format !== 'json' && prefersHtml(accept))) {
    return { status: 200, headers: [['content-type', 'text/html; charset=utf-8'], ...dashboardHeaders('page'), ...vary], body: dashboardHtml(paths.statsPath) };
  }
  // For HEAD the runner sends the head only, with the Content-Length a GET would have (RFC 9110 §9.3.2).
  const reply = json(await stats.snapshot());
  return { ...reply, headers: [...reply.headers!, ...vary] };
}

export function createStatsFilter(stats: ProxyStats, paths: StatsPaths): ProxyFilter {
  return {
    name: 'stats',
    // synchronous for a proxied request: the runner awaits only a returned Promise (issue 18: no microtask hop)
    route(ctx): PhaseResult | Promise<PhaseResult> {
      const page = matchStatsPath(ctx.request.target, paths);
      if (page !== null) {
        ctx.locals.set(LOCALS_KEY, 'local');
        return statsReply(stats, page, ctx, paths).then((reply): PhaseResult => ({ kind: 'respond', reply }));
      }
      ctx.locals.set(LOCALS_KEY, 'counted');
      if (stats.inspectorEnabled) ctx.locals.set(REQUEST_HEAD_KEY, ctx.request);
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
      stats.recordFinish({
        // No head went out (the client left first, or the connection was cut): counted as status 0, not as the
        // 200 Node's ServerResponse defaults to.
        status: sentStatus(ctx),
        bytesIn: ctx.bytesIn,
        bytesOut: ctx.bytesOut,
        durationMs: performance.now() - ctx.startedMono,
        upstreamError: ctx.error?.source === 'upstream',
        ...(ctx.error?.source === 'upstream' ? { upstreamErrorKind: upstreamErrorKind(ctx.error.code) } : {}),
        ...(ctx.cache === undefined ? {} : { cacheResult: cacheResultOf(ctx.cache) }),
      });
    },
    endStreams() { stats.endStreams(); },
    close() { stats.close(); },
  } as ProxyFilter & { close(): void; endStreams(): void };
}
