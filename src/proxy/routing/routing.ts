/**
 * @module Routing: the routes and pools built from one configuration, as ONE immutable object. A reload builds a new
 * one and swaps it in (requests in flight keep the one they started with); `close()` stops its health checks, waits
 * for the requests that started on it, then closes its own upstream connection pool (so connections to targets a
 * reload removed are drained and closed). Also the per-route figures and the snapshot /stats and /metrics show.
 */
import type { Logger } from '../../server/logger.ts';
import type { UpstreamClient } from '../upstream-client.ts';
import { createCounterState, latencyPercentile, recordFinish, type CounterState, type FinishedRequest } from '../../stats/counters.ts';
import { startHealthChecks } from './health-checker.ts';
import type { TargetHealth } from './health-state.ts';
import { Pool, type TargetSnapshot } from './pool.ts';
import { matchRoute, type RouteSpec } from './route-table.ts';
import { DEFAULT_POOL, type RoutingConfig } from './routing-config.ts';

export interface RouteDecision {
  /** null: no route matched, the default pool (--upstream) took it. */
  route: RouteSpec | null;
  pool: Pool;
  /** Origin-form target to send (prefix stripped when the route says so). */
  path: string;
}

export interface RoutingSnapshot {
  routes: Record<string, { pool: string; requests: number; byStatus: Record<string, number>; errors: Record<string, number>; latencyMs: { p50: number; p90: number; p99: number } }>;
  pools: Record<string, { policy: string; available: number; targets: TargetSnapshot[] }>;
}

export interface Routing {
  readonly config: RoutingConfig;
  /** Where a request for `host` and origin-form `target` goes; null = nowhere (404). */
  route(host: string, target: string): RouteDecision | null;
  /** Count a finished request on its route (null: the default pool's catch-all, shown as `default`). */
  recordRequest(route: RouteSpec | null, r: FinishedRequest): void;
  /** Pools with no target in rotation (for /readyz). */
  unhealthyPools(): string[];
  snapshot(): RoutingSnapshot;
  /** The upstream client of this Routing's pools (null: the proxy's shared one). */
  readonly client: UpstreamClient | null;
  /** A request started on this Routing (the route phase) / finished (its logging phase): close() waits for them. */
  acquire(): void;
  release(): void;
  /**
   * What this Routing knows of the target with `url` (its health: checks, ejection, failures), for the next one: from
   * pool `pool` when it has that target, else from the first pool that has it.
   */
  healthOf(pool: string, url: string): TargetHealth | undefined;
  /** Stop the health checks, wait for the requests that started here (at most `drainMs`), close the client. Idempotent. */
  close(drainMs?: number): Promise<void>;
}

/** How long close() waits for requests in flight before closing the client anyway (their sockets are then cut). */
export const DEFAULT_DRAIN_MS = 60_000;

/**
 * `previous`: the Routing this one replaces (a reload); the targets both have keep their health, by URL, instead of
 * being assumed up again (docs/routing.md).
 */
export function createRouting(config: RoutingConfig, deps: { log: Logger; now?: () => number; client?: UpstreamClient; previous?: Routing }): Routing {
  let active = 0;
  let drained: (() => void) | null = null;
  let closing: Promise<void> | null = null;
  const now = deps.now ?? Date.now;
  const pools = new Map(config.pools.map((p) => [p.name, new Pool(p, now)]));
  const fallback = pools.get(DEFAULT_POOL) ?? null;
  const previous = deps.previous;
  if (previous) for (const p of pools.values()) p.adoptHealth((url) => previous.healthOf(p.name, url));
  const stops = [...pools.values()].map((p) => startHealthChecks(p, deps.log));
  const routeCounters = new Map<string, CounterState>();
  const countersFor = (name: string): CounterState => {
    let c = routeCounters.get(name);
    if (c === undefined) { c = createCounterState(now()); routeCounters.set(name, c); }
    return c;
  };
  return {
    config,
    client: deps.client ?? null,
    acquire() { active++; },
    release() {
      active--;
      if (active === 0) drained?.();
    },
    route(host, target) {
      const m = matchRoute(config.routes, host, target);
      if (m !== null) return { route: m.route, pool: pools.get(m.route.pool)!, path: m.path };
      return fallback === null ? null : { route: null, pool: fallback, path: target };
    },
    recordRequest(route, r) {
      const c = countersFor(route?.name ?? DEFAULT_POOL);
      recordFinish(c, r);
    },
    healthOf(pool, url) {
      const own = pools.get(pool)?.healthOf(url);
      if (own !== undefined) return own;
      for (const p of pools.values()) { const h = p.healthOf(url); if (h !== undefined) return h; }
      return undefined;
    },
    unhealthyPools() {
      return [...pools.values()].filter((p) => !p.hasAvailable()).map((p) => p.name);
    },
    snapshot() {
      const routes: RoutingSnapshot['routes'] = {};
      const named = [...config.routes.map((r) => [r.name, r.pool] as const), ...(fallback ? [[DEFAULT_POOL, DEFAULT_POOL] as const] : [])];
      for (const [name, pool] of named) {
        const c = countersFor(name);
        routes[name] = {
          pool, requests: c.total, byStatus: { ...c.byStatus }, errors: { ...c.upstreamErrorKinds },
          latencyMs: { p50: latencyPercentile(c, 50), p90: latencyPercentile(c, 90), p99: latencyPercentile(c, 99) },
        };
      }
      const out: RoutingSnapshot['pools'] = {};
      for (const p of pools.values()) out[p.name] = p.snapshot();
      return { routes, pools: out };
    },
    close(drainMs = DEFAULT_DRAIN_MS) {
      closing ??= (async () => {
        for (const stop of stops) stop();
        if (active > 0) {
          let timer: NodeJS.Timeout | undefined;
          await new Promise<void>((resolve) => { drained = resolve; timer = setTimeout(resolve, drainMs); timer.unref(); });
          clearTimeout(timer);
        }
        if (deps.client) {
          // graceful: undici lets requests already dispatched finish; past the drain time, cut what is left
          if (active > 0) deps.client.destroy(); else await deps.client.close();
        }
      })();
      return closing;
    },
  };
}
