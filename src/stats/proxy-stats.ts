/**
 * @module The statistics of one proxy process: the pure counters, the prom-client metrics, and — under
 * `--workers N` — totals over every worker. What HTTP paths show them is stats-filter.ts.
 */
import { createCounterState, formatSnapshot, mergeCounters, recordFinish, recordStart, type FinishedRequest, type StatsSnapshot } from './counters.ts';
import { joinStatsAggregation, type WorkerPart } from './cluster.ts';
import { createPrometheusMetrics, formatPrometheus, mergeMetricsJson } from './prometheus.ts';
import nodeCluster from 'node:cluster';
import type { Readable } from 'node:stream';
import { processHealth } from './health.ts';
import { createInspector, type InspectedRequest, type InspectorRow } from './inspector.ts';
import { createLiveFeed } from './live.ts';
import { mergeRoutingSnapshots, registerRoutingMetrics, type RoutingProvider } from './routing-metrics.ts';
import type { RoutingSnapshot } from '../proxy/routing/routing.ts';
import { formatTunnelJson, registerTunnelMetrics, sumTunnelTotals, type TunnelProvider, type TunnelTotals } from '../proxy/tunnel/tunnel-metrics.ts';
import { steadyNow } from '../util/clock.ts';

export interface ProxyStatsOptions {
  /** Wall clock, ms; injected for tests. */
  now?: () => number;
  /** The proxy caches: show `cache.*` from the start. */
  cache?: boolean;
  /** CONNECT tunnel and upgrade counters of this process (forward-proxy engineer): `tunnels` / `upgrades` in /stats. */
  tunnels?: TunnelProvider;
  /** The cache store's size (entries and bytes; null where the store cannot tell): `cache.stored` in /stats. */
  cacheStore?: () => { store: string; entries: number | null; bytes: number | null; maxBytes: number | null; health?: { down: boolean; outages: number; failures: number; bypassed: number; writeFailures: number } } | null;
  /** Per-route and per-target figures (proxy/routing): `routes` and `pools` in /stats, ferry_route_* / ferry_target_* in /metrics. */
  routing?: RoutingProvider;
  /** The request inspector: how many requests it keeps and which header fields it redacts; null turns it off. */
  inspector?: { size: number; redact: ReadonlySet<string> } | null;
  /** The configuration generation this process runs (src/reload): `config` in /stats, `configs` per worker. */
  config?: () => Record<string, unknown>;
}

export interface ProxyStats {
  recordStart(): void;
  recordFinish(r: FinishedRequest): void;
  /** Keep a finished request for the inspector (no-op when it is off). */
  inspect(r: InspectedRequest): void;
  readonly inspectorEnabled: boolean;
  /** The inspector's rows, oldest first, heads redacted ([] when off). */
  inspectorRows(): InspectorRow[];
  /** A new event stream of dashboard updates, or null when too many are open. */
  openStream(): Readable | null;
  /** End the open event streams (graceful shutdown). */
  endStreams(): void;
  /** GET /stats: totals over all workers when running under --workers. */
  snapshot(): Promise<StatsSnapshot>;
  /** GET /metrics: Prometheus text, totals over all workers. */
  metrics(): Promise<{ contentType: string; text: string }>;
  close(): void;
}

export function createProxyStats(options: ProxyStatsOptions = {}): ProxyStats {
  const now = options.now ?? steadyNow;
  const state = createCounterState(now());
  const prom = createPrometheusMetrics(state.startedAtMs);
  if (options.tunnels) { const tunnels = options.tunnels; prom.extend((registry) => registerTunnelMetrics(registry, tunnels)); }
  if (options.routing) { const routing = options.routing; prom.extend((registry) => registerRoutingMetrics(registry, routing)); }
  // tunnel figures ride along with each worker's part (plain JSON over the cluster IPC)
  const local = async (processMaxAgeMs = 0): Promise<WorkerPart> => ({ counters: structuredClone(state), metrics: await prom.json(processMaxAgeMs), ...(options.tunnels ? { tunnels: options.tunnels() } : {}), ...(options.config ? { config: options.config() } : {}), ...(options.routing ? { routing: options.routing() } : {}) });
  // every request changes total or inFlight; tunnels change bytes without requests
  const fingerprint = () => `${state.total}:${state.inFlight}${options.tunnels ? JSON.stringify(options.tunnels()) : ''}`;
  const cluster = joinStatsAggregation(local, fingerprint);
  const parts = async (): Promise<WorkerPart[]> => (await cluster.collect()) ?? [await local()];
  const inCluster = nodeCluster.isWorker && typeof process.send === 'function';
  const inspector = options.inspector ? createInspector(options.inspector.size, options.inspector.redact) : null;
  const snapshot = async (): Promise<StatsSnapshot> => {
    // one process: its own counters, without reading prom-client (the event stream asks every second)
    const all = inCluster ? await parts() : null;
    const merged = all === null ? state : all.length > 0 ? mergeCounters(all.map((p) => p.counters)) : state;
    const snap = formatSnapshot(merged, now(), { cache: options.cache ?? false });
    if (all !== null && all.length > 1) snap.workers = all.filter((p) => p.retired !== true).length;
    if (options.tunnels) {
      const t = sumTunnelTotals(all === null ? [options.tunnels()] : all.map((p) => (p as WorkerPart & { tunnels?: TunnelTotals }).tunnels));
      snap.tunnels = formatTunnelJson(t.connect);
      snap.upgrades = formatTunnelJson(t.upgrade);
    }
    if (options.config) {
      snap.config = options.config();
      if (all !== null && all.length > 1) snap.configs = all.flatMap((p) => (p.retired === true ? [] : [(p as WorkerPart & { config?: unknown }).config ?? null]));
    }
    // routing figures: this process's, or every worker's added up (each worker checks and ejects on its own)
    const routing = options.routing === undefined ? null
      : all === null ? options.routing() : mergeRoutingSnapshots(all.map((p) => (p as WorkerPart & { routing?: RoutingSnapshot | null }).routing));
    if (routing) { snap.routes = routing.routes; snap.pools = routing.pools; }
    const st = options.cacheStore?.();
    if (st && snap.cache) snap.cache.stored = { store: st.store, entries: st.entries, bytes: st.bytes, maxBytes: st.maxBytes, ...(st.health ? { health: st.health } : {}) };
    return snap;
  };
  const live = createLiveFeed({ local: () => state, snapshot, inspector, health: processHealth(), now });
  return {
    recordStart() {
      recordStart(state);
      prom.onStart();
    },
    recordFinish(r) {
      recordFinish(state, r);
      prom.onFinish(r, r.cacheResult);
    },
    snapshot,
    inspect(r) { inspector?.record(r); },
    inspectorEnabled: inspector !== null,
    inspectorRows: () => inspector?.rowsSince(0) ?? [],
    openStream: () => live.open(),
    endStreams: () => live.endStreams(),
    async metrics() {
      return formatPrometheus((await parts()).map((p) => p.metrics));
    },
    close() { cluster.stop(); live.close(); },
  };
}

/**
 * The primary's merge of exited workers' last parts (installStatsAggregator): counts are kept, what was live when
 * the worker died (requests in flight, open tunnels) is zero now.
 */
export async function retireWorkerParts(parts: WorkerPart[]): Promise<WorkerPart> {
  const counters = { ...mergeCounters(parts.map((p) => p.counters)), inFlight: 0 };
  const withTunnels = parts as Array<WorkerPart & { tunnels?: TunnelTotals }>;
  const t = sumTunnelTotals(withTunnels.map((p) => p.tunnels));
  const tunnels = { connect: { ...t.connect, open: 0 }, upgrade: { ...t.upgrade, open: 0 } };
  return { counters, metrics: await mergeMetricsJson(parts.map((p) => p.metrics), { zeroSummedGauges: true }), tunnels, retired: true } as WorkerPart;
}
