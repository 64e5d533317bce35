/**
 * @module Per-route and per-target figures for /metrics (Prometheus), read from the Routing snapshot at scrape time,
 * as the tunnel figures are: request paths only bump plain counters (proxy/routing/pool.ts, routing.ts).
 */
import type { Registry } from 'prom-client';
import { promClient } from './prom-client.ts';
import type { RoutingSnapshot } from '../proxy/routing/routing.ts';

export type RoutingProvider = () => RoutingSnapshot | null;

export function registerRoutingMetrics(registry: Registry, provider: RoutingProvider): void {
  const { Counter, Gauge } = promClient();
  const registers = [registry];
  const targets = function* (): Generator<[Record<string, string>, RoutingSnapshot['pools'][string]['targets'][number]]> {
    const s = provider();
    if (s === null) return;
    for (const [pool, p] of Object.entries(s.pools)) for (const t of p.targets) yield [{ pool, target: t.url }, t];
  };
  new Counter({
    name: 'ferry_route_requests_total', help: 'Requests finished per route (default: no route matched, the --upstream pool)', labelNames: ['route', 'pool', 'status'], registers,
    collect() {
      this.reset();
      const s = provider();
      if (s === null) return;
      for (const [route, r] of Object.entries(s.routes)) for (const [status, n] of Object.entries(r.byStatus)) this.inc({ route, pool: r.pool, status }, n);
    },
  });
  new Counter({
    name: 'ferry_target_requests_total', help: 'Tries sent to each pool target', labelNames: ['pool', 'target'], registers,
    collect() { this.reset(); for (const [l, t] of targets()) this.inc(l, t.requests); },
  });
  new Counter({
    name: 'ferry_target_errors_total', help: 'Failed tries per target by kind (connect, closed, timeout, 5xx…)', labelNames: ['pool', 'target', 'kind'], registers,
    collect() { this.reset(); for (const [l, t] of targets()) for (const [kind, n] of Object.entries(t.errors)) this.inc({ ...l, kind }, n); },
  });
  new Counter({
    name: 'ferry_target_retries_total', help: 'Retries sent to each target (after a try on another target failed)', labelNames: ['pool', 'target'], registers,
    collect() { this.reset(); for (const [l, t] of targets()) this.inc(l, t.retries); },
  });
  new Counter({
    name: 'ferry_target_ejections_total', help: 'Passive ejections of each target', labelNames: ['pool', 'target'], registers,
    collect() { this.reset(); for (const [l, t] of targets()) this.inc(l, t.ejections); },
  });
  new Gauge({
    name: 'ferry_target_up', help: '1 when the target is in rotation, 0 when down (active checks) or ejected (passive)', labelNames: ['pool', 'target', 'state'], registers, aggregator: 'min',
    collect() { this.reset(); for (const [l, t] of targets()) this.set({ ...l, state: t.state }, t.state === 'up' ? 1 : 0); },
  });
  new Gauge({
    name: 'ferry_target_latency_ms', help: 'Time to the response head per target, percentiles since start', labelNames: ['pool', 'target', 'quantile'], registers, aggregator: 'max',
    collect() {
      this.reset();
      for (const [l, t] of targets()) for (const [q, v] of [['0.5', t.latencyMs.p50], ['0.9', t.latencyMs.p90], ['0.99', t.latencyMs.p99]] as const) this.set({ ...l, quantile: q }, v);
    },
  });
}

type RouteFigures = RoutingSnapshot['routes'][string];
type PoolFigures = RoutingSnapshot['pools'][string];

const addCounts = (a: Record<string, number>, b: Record<string, number>): Record<string, number> => {
  const out = { ...a };
  for (const [k, n] of Object.entries(b)) out[k] = (out[k] ?? 0) + n;
  return out;
};
const maxLatency = (a: RouteFigures['latencyMs'], b: RouteFigures['latencyMs']): RouteFigures['latencyMs'] =>
  ({ p50: Math.max(a.p50, b.p50), p90: Math.max(a.p90, b.p90), p99: Math.max(a.p99, b.p99) });
const STATE_RANK = { up: 0, ejected: 1, down: 2 } as const;

/**
 * /stats under --workers: the workers' routing figures added up (each worker routes, checks and ejects on its own).
 * Counts are summed; a percentile is the highest of the workers' (an upper bound: percentiles do not add); a target's
 * state is the worst any worker sees, and a pool's `available` the fewest.
 */
export function mergeRoutingSnapshots(parts: ReadonlyArray<RoutingSnapshot | null | undefined>): RoutingSnapshot | null {
  let out: RoutingSnapshot | null = null;
  for (const s of parts) {
    if (!s) continue;
    if (out === null) { out = structuredClone(s); continue; }
    for (const [name, r] of Object.entries(s.routes)) {
      const o: RouteFigures | undefined = out.routes[name];
      out.routes[name] = o === undefined ? structuredClone(r) : {
        pool: r.pool, requests: o.requests + r.requests, byStatus: addCounts(o.byStatus, r.byStatus),
        errors: addCounts(o.errors, r.errors), latencyMs: maxLatency(o.latencyMs, r.latencyMs),
      };
    }
    for (const [name, p] of Object.entries(s.pools)) {
      const o: PoolFigures | undefined = out.pools[name];
      if (o === undefined) { out.pools[name] = structuredClone(p); continue; }
      o.available = Math.min(o.available, p.available);
      for (const t of p.targets) {
        const x = o.targets.find((y) => y.url === t.url);
        if (x === undefined) { o.targets.push(structuredClone(t)); continue; }
        if (STATE_RANK[t.state] > STATE_RANK[x.state]) x.state = t.state;
        x.inFlight += t.inFlight; x.requests += t.requests; x.ejections += t.ejections; x.retries += t.retries;
        x.errors = addCounts(x.errors, t.errors);
        x.latencyMs = maxLatency(x.latencyMs, t.latencyMs);
      }
    }
  }
  return out;
}
