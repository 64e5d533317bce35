/**
 * @module route: origin-form requests go through the route table to a pool, which picks the first target (routing/).
 * The Routing object is read once per request, so a reload (a new Routing swapped in) never changes a request in
 * flight. A pool with no target in rotation answers 503 with Retry-After (unless `panic`); no route and no default
 * pool leaves ctx.upstream unset (→ 404, as before routes existed).
 */
import { getHeader } from '../../http/headers.ts';
import { parseRequestTarget } from '../../http/request-target.ts';
import { upstreamErrorKind } from '../../stats/counters.ts';
import type { RequestContext } from '../context.ts';
import { sentStatus } from '../context.ts';
import { CONTINUE, type PhaseResult, type ProxyFilter } from '../phases.ts';
import { requestHost } from '../routing/route-table.ts';
import type { RouteDecision, Routing } from '../routing/routing.ts';
import type { HashOn } from '../routing/routing-config.ts';

/** What the route phase leaves for the upstream phase (routing/upstream-tries.ts) in ctx.locals. */
export interface RoutePlan {
  routing: Routing;
  decision: RouteDecision;
  /** Consistent-hash key. */
  key: string;
  /** The target chosen here (its index in the pool) for the first try; -1 once a fetch used it. */
  first: number;
}

export const ROUTE_PLAN = 'pool-route';
const NONE_TRIED: ReadonlySet<number> = new Set();

export function routePlanOf(ctx: RequestContext): RoutePlan | undefined {
  return ctx.locals.get(ROUTE_PLAN) as RoutePlan | undefined;
}

export function createPoolRouteFilter(current: () => Routing): ProxyFilter {
  return {
    name: 'pool-route',
    route(ctx: RequestContext): PhaseResult {
      if (ctx.upstream) return CONTINUE; // an earlier route (forward proxy) already chose
      const target = parseRequestTarget(ctx.request.target, ctx.request.method);
      if (target.kind !== 'origin') {
        const why = target.kind === 'invalid' ? target.reason : `${target.kind}-form request-target needs --forward`;
        return { kind: 'respond', reply: { status: 400, body: `Bad Request: ${why}\n`, close: true } };
      }
      const routing = current();
      // no routes: only the default pool, whatever the Host (no field lookup, no normalising)
      const host = routing.config.routes.length === 0 ? '' : requestHost(getHeader(ctx.request.headers, 'host'));
      const decision = routing.route(host, target.path);
      if (decision === null) return CONTINUE;
      const { pool } = decision;
      const key = pool.config.policy === 'consistent-hash' ? hashKey(pool.config.hashOn, ctx, decision.path) : '';
      const first = pool.pick(key, NONE_TRIED);
      const plan: RoutePlan = { routing, decision, key, first };
      ctx.locals.set(ROUTE_PLAN, plan);
      routing.acquire(); // released in logging: a Routing being closed waits for this request
      if (first === -1) {
        const retryAfter = pool.retryAfterSeconds();
        ctx.log.warn({ event: 'pool-unavailable', requestId: ctx.id, pool: pool.name, route: decision.route?.name ?? null }, `pool ${pool.name} has no healthy target`);
        return { kind: 'respond', reply: {
          status: 503,
          headers: [['content-type', 'text/plain; charset=utf-8'], ['retry-after', String(retryAfter)], ['cache-control', 'no-store']],
          body: `Service Unavailable: no healthy target in pool ${pool.name}; retry in ${retryAfter} s\n`,
        } };
      }
      if (pool.canRetry) pool.budget.noteRequest(Date.now()); // the retry budget's share counts requests that could retry
      const t = pool.targets[first]!;
      ctx.upstream = { origin: t.origin, path: t.prefix + decision.path };
      return CONTINUE;
    },
    logging(ctx) {
      const plan = routePlanOf(ctx);
      if (plan === undefined) return;
      plan.routing.release();
      const status = sentStatus(ctx);
      const upstreamError = ctx.error !== undefined && ctx.error.source === 'upstream';
      plan.routing.recordRequest(plan.decision.route, {
        status, bytesIn: ctx.bytesIn, bytesOut: ctx.bytesOut, durationMs: performance.now() - ctx.startedMono, upstreamError,
        upstreamErrorKind: upstreamError ? upstreamErrorKind(ctx.error!.code) : undefined, // (no spread: once per request)
      });
    },
  };
}

function hashKey(on: HashOn, ctx: RequestContext, path: string): string {
  if (on.kind === 'path') return path;
  if (on.kind === 'header') return getHeader(ctx.request.headers, on.name) ?? '';
  const cookies = getHeader(ctx.request.headers, 'cookie') ?? '';
  for (const part of cookies.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === on.name) return part.slice(eq + 1).trim();
  }
  return '';
}
